// Deep redaction of secrets in trace payloads. Output is JSON-ready (long → decimal string, bytes → base64 via
// src/tl/json) and never contains a redacted value, not even inside a nested or camelCase field.
import { tlToJson } from '../tl/json.js';
import { SECRET_FIELDS } from '../tl/secret-fields.js';
import type { TlSchema } from '../tl/schema.js';
import type { JsonValue } from './event.js';

/** The secret field names (one list, src/tl/secret-fields.ts). */
export const REDACTED_FIELDS: ReadonlySet<string> = SECRET_FIELDS;

/**
 * Fields redacted only inside a given constructor or method (`_`), because the field name alone is too generic:
 * exported authorization bytes, SRP proof values, QR login tokens and e-mail login codes.
 */
export const REDACTED_BY_CONSTRUCTOR: Readonly<Record<string, readonly string[]>> = {
  'auth.exportedAuthorization': ['bytes'],
  'auth.importAuthorization': ['bytes'],
  inputCheckPasswordSRP: ['A', 'M1'],
  'auth.loginToken': ['token'],
  'auth.importLoginToken': ['token'],
  'auth.loginTokenMigrateTo': ['token'],
  'auth.acceptLoginToken': ['token'],
  emailVerificationCode: ['code'],
};

export interface RedactContext {
  /** The method or constructor the payload belongs to when it has no `_` of its own (a call's params). */
  method?: string;
  /** Lets tlToJson render int128/int256 as hex. */
  schema?: TlSchema;
}

const MARKER_RE = /^\[redacted( \d+ bytes)?\]$/;

function marker(v: unknown): string {
  if (v instanceof Uint8Array) return `[redacted ${v.length} bytes]`;
  if (typeof v === 'string' && MARKER_RE.test(v)) return v; // already redacted (re-import)
  return '[redacted]'; // strings (even base64: its length says nothing useful), numbers, objects
}

function walk(v: unknown, ctor: string | undefined): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (v instanceof Error) return walk(Object.assign({ name: v.name, message: v.message }, v), ctor);
  if (v instanceof Map) return walk(Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x])), ctor);
  if (v instanceof Set) return walk([...v], ctor);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return walk((v as { toJSON(): unknown }).toJSON(), ctor);
  // plain objects and class instances alike: own enumerable fields, redacted
  const obj = v as Record<string, unknown>;
  const name = typeof obj._ === 'string' ? obj._ : ctor;
  const byCtor = name ? REDACTED_BY_CONSTRUCTOR[name] : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(obj)) {
    if (x === undefined) continue;
    if (k !== '_' && (REDACTED_FIELDS.has(k) || byCtor?.includes(k))) out[k] = marker(x);
    else out[k] = walk(x, undefined);
  }
  return out;
}

/** Redacts secrets (see REDACTED_FIELDS, REDACTED_BY_CONSTRUCTOR) and returns JSON-ready data. Never mutates. */
export function redact(value: unknown, ctx: RedactContext = {}): JsonValue {
  const cleaned = walk(value, ctx.method);
  const json = tlToJson(cleaned, ctx.schema);
  return normalize(json);
}

/** Whatever tlToJson leaves that JSON cannot hold (functions, symbols, NaN, class instances) becomes a string. */
function normalize(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object') {
    if (v instanceof Date) return v.toISOString();
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined && typeof x !== 'function') out[k] = normalize(x);
    return out;
  }
  return String(v);
}

const SECRET_TEXT_RE = new RegExp(`"(${[...REDACTED_FIELDS].join('|')})"(\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"?|[^,}\\]\\s]+)`, 'g');

/**
 * A query as the user typed it (JSON text): secret fields' values become "[redacted]". Text that parses is redacted
 * like a payload (constructor-bound fields too) and left as typed when nothing secret is in it; text that does not
 * parse (typing in progress) has the values of secret field names replaced in place.
 */
export function redactJsonText(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text.replace(SECRET_TEXT_RE, (_m, k: string, sep: string) => `"${k}"${sep}"[redacted]"`);
  }
  const cleaned = redact(parsed);
  return JSON.stringify(cleaned) === JSON.stringify(parsed) ? text : JSON.stringify(cleaned, null, 2);
}

/**
 * The panel's state as it may be kept (VS Code persists a webview's state to disk): the query being edited and the
 * query history with secrets (login codes, passwords, api_hash, …) redacted. Never mutates.
 */
export function redactPanelState<T extends { query?: { json?: string } | undefined; history?: { query: unknown }[] | undefined }>(state: T): T {
  const out: T = { ...state };
  if (state.query?.json !== undefined) out.query = { ...state.query, json: redactJsonText(state.query.json) };
  if (state.history) out.history = state.history.map((h) => ({ ...h, query: redact(h.query) }));
  return out;
}
