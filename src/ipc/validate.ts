// Runtime validation of what the webview posts. The host runs validateWebviewMessage on EVERY message it receives
// (a webview is untrusted input: an imported trace or a hostile page could post anything). Errors name the field.

import { IPC_FAULT_SPECS, IPC_TABS, type IpcFaultField, type JsonValue } from './models';
import type { CommandName, RequestName, WebviewMessage } from './protocol';

export type ValidationResult<T> = { ok: true; msg: T } | { ok: false; error: string };

type Check = (v: unknown, path: string) => string | undefined;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str =
  (max = 10_000): Check =>
  (v, p) =>
    typeof v !== 'string' ? `${p}: expected a string` : v.length > max ? `${p}: longer than ${max} characters` : undefined;
const int =
  (min: number, max: number): Check =>
  (v, p) =>
    typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max ? `${p}: expected an integer ${min}..${max}` : undefined;
const oneOf =
  (values: readonly string[]): Check =>
  (v, p) =>
    typeof v !== 'string' || !values.includes(v) ? `${p}: expected one of ${values.join(', ')}` : undefined;
const _bool: Check = (v, p) => (typeof v !== 'boolean' ? `${p}: expected a boolean` : undefined);
const arrayOf =
  (item: Check, max = 10_000): Check =>
  (v, p) => {
    if (!Array.isArray(v)) return `${p}: expected an array`;
    if (v.length > max) return `${p}: more than ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return undefined;
  };
/** `shape` lists the allowed fields; `?` suffix = optional. Unknown fields are refused. */
const object =
  (shape: Record<string, Check>): Check =>
  (v, p) => {
    if (!isObj(v)) return `${p}: expected an object`;
    const fields = new Map(Object.entries(shape).map(([k, c]) => [k.replace(/\?$/, ''), { c, optional: k.endsWith('?') }]));
    for (const k of Object.keys(v)) if (!fields.has(k)) return `${p}.${k}: unknown field`;
    for (const [k, { c, optional }] of fields) {
      if (v[k] === undefined) {
        if (optional) continue;
        return `${p}.${k}: missing`;
      }
      const e = c(v[k], `${p}.${k}`);
      if (e) return e;
    }
    return undefined;
  };

const MAX_JSON_DEPTH = 64;
const MAX_JSON_NODES = 200_000;
/** Plain JSON (no functions, finite numbers), bounded depth and size. */
function jsonError(v: unknown, p: string): string | undefined {
  let nodes = 0;
  const walk = (x: unknown, path: string, depth: number): string | undefined => {
    if (++nodes > MAX_JSON_NODES) return `${path}: JSON too large`;
    if (depth > MAX_JSON_DEPTH) return `${path}: JSON nested deeper than ${MAX_JSON_DEPTH}`;
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return undefined;
    if (typeof x === 'number') return Number.isFinite(x) ? undefined : `${path}: expected a finite number`;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const e = walk(x[i], `${path}[${i}]`, depth + 1);
        if (e) return e;
      }
      return undefined;
    }
    if (isObj(x)) {
      for (const [k, val] of Object.entries(x)) {
        const e = walk(val, `${path}.${k}`, depth + 1);
        if (e) return e;
      }
      return undefined;
    }
    return `${path}: expected JSON, got ${typeof x}`;
  };
  return walk(v, p, 0);
}
/** A TL object as JSON: an object whose `_` names a constructor or method. */
const tlJson: Check = (v, p) => {
  if (!isObj(v)) return `${p}: expected a TL object { "_": "name", … }`;
  if (typeof v._ !== 'string' || !/^[A-Za-z_][\w.]*$/.test(v._)) return `${p}._: expected a constructor or method name`;
  return jsonError(v, p);
};

const dcId = int(1, 65535);
/** src/files' MAX_FILE_SIZE (4000 MiB); repeated here so the webview bundle does not pull in src/files. */
export const MAX_DOWNLOAD_SIZE = 4000 * 1024 * 1024;
const empty = object({});

const matching =
  (re: RegExp, what: string, max = 200): Check =>
  (v, p) =>
    typeof v !== 'string'
      ? `${p}: expected a string (${what})`
      : v.length > max
        ? `${p}: longer than ${max} characters`
        : !re.test(v)
          ? `${p}: expected ${what}`
          : undefined;

function fieldCheck(f: IpcFaultField): Check {
  if (f.kind === 'text') return matching(f.pattern ?? /^[\s\S]*$/, f.what);
  // the sandbox's own DC list is checked on the host, which knows it ("DC must be 1..5")
  return f.kind === 'dc' ? dcId : int(f.min ?? Number.MIN_SAFE_INTEGER, f.max ?? Number.MAX_SAFE_INTEGER);
}

/** sandbox/fault: `action` picks the shape; each action's fields as IPC_FAULT_SPECS lists them. */
const FAULT_REQUEST: Check = (v, p) => {
  if (!isObj(v)) return `${p}: expected an object`;
  const action = v.action;
  const spec = typeof action === 'string' && Object.hasOwn(IPC_FAULT_SPECS, action) ? IPC_FAULT_SPECS[action as keyof typeof IPC_FAULT_SPECS] : undefined;
  if (!spec) return oneOf(Object.keys(IPC_FAULT_SPECS))(action, `${p}.action`);
  const shape: Record<string, Check> = { action: () => undefined };
  for (const f of spec.fields as IpcFaultField[]) shape[f.optional ? `${f.name}?` : f.name] = fieldCheck(f);
  return object(shape)(v, p);
};

const PANEL_STATE: Check = (v, p) => {
  if (!isObj(v)) return `${p}: expected an object`;
  // The panel state is the webview's own; check its frame and that it is bounded JSON.
  if (v.version !== 1) return `${p}.version: expected 1`;
  const tab = oneOf(IPC_TABS)(v.tab, `${p}.tab`);
  if (tab) return tab;
  return jsonError(v, p) ?? (JSON.stringify(v).length > 2_000_000 ? `${p}: larger than 2 MB` : undefined);
};

const COMMANDS: Record<CommandName, Check> = {
  ready: object({ version: int(0, 1_000_000) }),
  'download/cancel': object({ downloadId: str(200) }),
  'download/open': object({ downloadId: str(200) }),
  'trace/clear': empty,
  'state/changed': object({ state: PANEL_STATE }),
  log: object({ level: oneOf(['info', 'warn', 'error']), message: str(10_000) }),
};

const REQUESTS: Record<RequestName, Check> = {
  'topology/get': empty,
  'trace/get': object({ 'sinceId?': int(0, Number.MAX_SAFE_INTEGER), 'limit?': int(1, 1_000_000) }),
  'trace/export': empty,
  'trace/import': empty,
  'schema/methods': empty,
  'schema/constructorsOfType': object({ types: arrayOf(str(300), 500) }),
  'query/run': object({ query: tlJson, 'dcId?': dcId }),
  // no file is larger than Telegram's largest (4000 MiB): a bigger size is a bogus request, refused here
  'download/start': object({ location: tlJson, dcId, 'size?': int(0, MAX_DOWNLOAD_SIZE), 'name?': str(1000) }),
  'sandbox/fault': FAULT_REQUEST,
};

/** A fault request from elsewhere than the webview (a command's argument): the error naming the field, if any. */
export function faultRequestError(v: unknown): string | undefined {
  return FAULT_REQUEST(v, 'fault');
}

/** Validates one message received from the webview. The error names the bad field (`params.dcId: expected …`). */
export function validateWebviewMessage(msg: unknown): ValidationResult<WebviewMessage> {
  if (!isObj(msg)) return { ok: false, error: 'message: expected an object' };
  const { type, method } = msg;
  if (type !== 'command' && type !== 'request') return { ok: false, error: 'type: expected "command" or "request"' };
  if (typeof method !== 'string') return { ok: false, error: 'method: expected a string' };
  const table: Record<string, Check> = type === 'command' ? COMMANDS : REQUESTS;
  const check = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!check) return { ok: false, error: `method: unknown ${type} "${method.slice(0, 100)}"` };
  for (const k of Object.keys(msg)) {
    if (k !== 'type' && k !== 'method' && k !== 'params' && !(type === 'request' && k === 'id')) return { ok: false, error: `${k}: unknown field` };
  }
  if (type === 'request') {
    const e = int(0, Number.MAX_SAFE_INTEGER)(msg.id, 'id');
    if (e) return { ok: false, error: e };
  }
  const e = check(msg.params, 'params');
  if (e) return { ok: false, error: `${method}: ${e}` };
  return { ok: true, msg: msg as unknown as WebviewMessage };
}

/** Light check of what the host posts (envelope only; the host is trusted). Used by the webview and tests. */
export function isHostMessage(msg: unknown): boolean {
  if (!isObj(msg) || typeof msg.method !== 'string') return false;
  if (msg.type === 'notification') return isObj(msg.params);
  if (msg.type === 'response') return typeof msg.id === 'number' && typeof msg.ok === 'boolean';
  return false;
}

export type { JsonValue };
