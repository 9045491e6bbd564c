// The control channel of a running sandbox: faults on demand from outside the process. JSON over HTTP on
// 127.0.0.1 (POST /ctl, body {"action", "args"}, header `Authorization: Bearer <token>`), answered with
// {"ok": true, "message", "data"?} or {"ok": false, "error"}. Every action is a method of the in-process Sandbox;
// this table maps names and arguments onto them, for the server, for `dclab sandbox ctl` (argument parsing and
// help) and for anyone else who drives the same faults.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from './index';

export interface ControlEndpoint {
  host: string;
  port: number;
  /** Bearer token of the channel: in the info file (0600) only, never logged. */
  token: string;
}

export type ControlArgs = Record<string, number | string>;

export interface ControlParam {
  /** The JSON name of the argument. */
  name: string;
  kind: 'int' | 'text';
  /** Given as this flag (`--dc`); positional when absent. */
  flag?: string;
  optional?: boolean;
  /** What it is, for help and errors: "a DC id". */
  what: string;
  min?: number;
  max?: number;
  /** Text values must match this. */
  pattern?: RegExp;
  /** The word in synopses (default: N for a DC, the name in capitals otherwise). */
  label?: string;
}

export interface ControlResult {
  /** One line for humans. */
  message: string;
  data?: unknown;
}

export interface ControlAction {
  name: string;
  params: ControlParam[];
  summary: string;
  run(sandbox: Sandbox, args: ControlArgs): Promise<ControlResult> | ControlResult;
}

const DC: ControlParam = { name: 'dc', kind: 'int', what: 'a DC id', min: 1, max: 65535, label: 'N' };
const DC_FLAG: ControlParam = { ...DC, flag: '--dc', optional: true };
const COUNT: ControlParam = { name: 'count', kind: 'int', flag: '--count', optional: true, what: 'how many (default 1)', min: 1, max: 1_000_000, label: 'K' };
const METHOD: ControlParam = { name: 'method', kind: 'text', what: 'an API method name (e.g. auth.sendCode) or *', pattern: /^(\*|[a-zA-Z][\w.]*)$/ };

const int = (args: ControlArgs, name: string): number | undefined => (typeof args[name] === 'number' ? (args[name] as number) : undefined);
const text = (args: ControlArgs, name: string): string => String(args[name]);
const ofDc = (dc: number | undefined): string => (dc === undefined ? 'every DC' : `DC${dc}`);

export const CONTROL_ACTIONS: readonly ControlAction[] = [
  {
    name: 'drop-connections',
    params: [DC_FLAG],
    summary: 'close every client connection (of DC N, or all); server-side sessions and keys stay',
    run: (sb, a) => {
      const dc = int(a, 'dc');
      const n = sb.dropConnections(dc);
      return { message: `dropped ${n} connection(s) of ${ofDc(dc)}`, data: { dropped: n } };
    },
  },
  {
    name: 'restart-dc',
    params: [
      DC,
      { name: 'downMs', kind: 'int', flag: '--down-ms', optional: true, what: 'milliseconds down (default 500)', min: 0, max: 600_000, label: 'MS' },
    ],
    summary:
      "DC N's listeners (IPv4 and IPv6) close with their connections and listen again on the same ports after --down-ms MS (default 500); keys, sessions and authorizations survive",
    run: async (sb, a) => {
      const dc = int(a, 'dc')!;
      const downMs = int(a, 'downMs');
      await sb.restartDc(dc, downMs);
      return { message: `DC${dc} restarted (down ${downMs ?? DEFAULT_RESTART_DOWN_MS} ms), listening again on the same port(s)` };
    },
  },
  {
    name: 'move-dc',
    params: [DC],
    summary:
      'DC N listens on a new (ephemeral) port; the old listener and its connections close; help.getConfig and the info file announce the new port, the config expires soon',
    run: async (sb, a) => {
      const dc = int(a, 'dc')!;
      const moved = await sb.moveDc(dc);
      return {
        message: `DC${dc} moved from port ${moved.from.port} to port ${moved.to.port}${moved.to.ipv6 ? ` (IPv6 ${moved.to.ipv6})` : ''}; help.getConfig expires at ${moved.configExpires}`,
        data: moved,
      };
    },
  },
  {
    name: 'transport-error',
    params: [{ name: 'code', kind: 'int', what: 'a transport error code (404 or -404, 429, 444, ...)', min: -999, max: 999 }, DC_FLAG, COUNT],
    summary: 'the next K (--count, default 1) new connections of DC N (or of any main DC) answer their first packet with transport error -CODE and close',
    run: (sb, a) => {
      const dc = int(a, 'dc');
      const count = int(a, 'count') ?? 1;
      const code = sb.injectTransportError(int(a, 'code')!, { count, ...(dc === undefined ? {} : { dcId: dc }) });
      return { message: `the next ${count} new connection(s) of ${dc === undefined ? 'any main DC' : `DC${dc}`} get transport error ${code}` };
    },
  },
  {
    name: 'rotate-salts',
    params: [DC_FLAG],
    summary: 'a new server salt for every key of DC N (or of all DCs) now; the previous one stays accepted for the grace time',
    run: (sb, a) => {
      const dc = int(a, 'dc');
      sb.rotateSalts(dc);
      return { message: `server salts rotated on ${ofDc(dc)}` };
    },
  },
  {
    name: 'latency',
    params: [
      { ...DC, label: 'DC' },
      { name: 'ms', kind: 'int', what: 'milliseconds per answer', min: 0, max: 600_000 },
    ],
    summary: 'every frame DC sends is delayed by MS milliseconds (0 = none)',
    run: (sb, a) => {
      const dc = int(a, 'dc')!;
      const ms = int(a, 'ms')!;
      sb.setLatency(dc, ms);
      return { message: `DC${dc}: latency ${ms} ms` };
    },
  },
  {
    name: 'rpc-error',
    params: [METHOD, { name: 'error', kind: 'text', what: 'an rpc_error token (e.g. FLOOD_WAIT_3, PHONE_MIGRATE_4)', pattern: /^[A-Z0-9_]+$/ }, COUNT, DC_FLAG],
    summary: 'the next K calls (--count, default 1) of METHOD (* = any) on DC N (or any DC) answer rpc_error ERROR',
    run: (sb, a) => {
      const dc = int(a, 'dc');
      const count = int(a, 'count') ?? 1;
      const method = text(a, 'method');
      const error = text(a, 'error');
      sb.injectFault({ method, error, times: count, ...(dc === undefined ? {} : { dcId: dc }) });
      return { message: `the next ${count} call(s) of ${method} on ${ofDc(dc)} answer ${error}` };
    },
  },
  {
    name: 'move-user',
    params: [
      { name: 'phone', kind: 'text', what: 'a phone number of a sandbox user', pattern: /^\+?[0-9][0-9 ()-]{3,20}$/ },
      { ...DC, what: 'the new home DC', label: 'DC' },
    ],
    summary: "the user's data moves to DC: its login keys on other DCs answer USER_MIGRATE_<DC>",
    run: (sb, a) => {
      const dc = int(a, 'dc')!;
      sb.moveUser(text(a, 'phone'), dc);
      return { message: `user +${text(a, 'phone').replace(/[^0-9]/g, '')} moved to DC${dc}` };
    },
  },
  {
    name: 'flood',
    params: [METHOD, { name: 'seconds', kind: 'int', what: 'seconds', min: 1, max: 86_400 }, DC_FLAG],
    summary: 'for SECONDS, every call of METHOD (* = any) on DC N (or any DC) answers 420 FLOOD_WAIT_<seconds left>',
    run: (sb, a) => {
      const dc = int(a, 'dc');
      const seconds = int(a, 'seconds')!;
      sb.flood(text(a, 'method'), seconds, dc);
      return { message: `${text(a, 'method')} on ${ofDc(dc)} answers FLOOD_WAIT_X for the next ${seconds} s` };
    },
  },
  {
    name: 'clear-faults',
    params: [],
    summary: 'removes every pending rpc-error, flood, transport-error and byte-drop rule (latency stays)',
    run: (sb) => {
      sb.clearFaults();
      sb.clearConnectionFaults();
      return { message: 'faults cleared' };
    },
  },
  {
    name: 'status',
    params: [],
    summary: 'JSON: DCs with ports and live connection counts, salt period, idle timeout, limits, active faults',
    run: (sb) => {
      const data = sb.status();
      return { message: JSON.stringify(data), data };
    },
  },
];

export const DEFAULT_RESTART_DOWN_MS = 500;

export function controlAction(name: string): ControlAction | undefined {
  return CONTROL_ACTIONS.find((a) => a.name === name);
}

/** "restart-dc N [--down-ms MS]": the synopsis of an action. */
export function actionSynopsis(action: ControlAction): string {
  const parts = action.params.map((p) => {
    const word = p.flag ? `${p.flag} ${placeholder(p)}` : placeholder(p);
    return p.optional ? `[${word}]` : word;
  });
  return [action.name, ...parts].join(' ');
}

function placeholder(p: ControlParam): string {
  return p.label ?? p.name.toUpperCase();
}

export class ControlArgumentError extends Error {
  override readonly name = 'ControlArgumentError';
}

/** Checks one argument value against its parameter; the error names the action, the argument and what it needs. */
export function checkParam(action: ControlAction, p: ControlParam, v: unknown): number | string {
  const label = `${action.name}: ${p.flag ?? placeholder(p)}`;
  if (p.kind === 'int') {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ControlArgumentError(`${label} needs ${p.what} (an integer), got ${JSON.stringify(v)}`);
    if ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) {
      throw new ControlArgumentError(`${label} needs ${p.what}: ${p.min ?? '…'}..${p.max ?? '…'}, got ${v}`);
    }
    return v;
  }
  if (typeof v !== 'string' || v === '' || (p.pattern && !p.pattern.test(v)))
    throw new ControlArgumentError(`${label} needs ${p.what}, got ${JSON.stringify(v)}`);
  return v;
}

/** The arguments of a request, checked: known names only, required ones present, values of the right kind. */
export function checkArgs(action: ControlAction, raw: unknown): ControlArgs {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ControlArgumentError(`${action.name}: "args" must be an object`);
  const given = raw as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (!action.params.some((p) => p.name === k)) throw new ControlArgumentError(`${action.name}: unknown argument "${k}" (usage: ${actionSynopsis(action)})`);
  }
  const out: ControlArgs = {};
  for (const p of action.params) {
    const v = given[p.name];
    if (v === undefined) {
      if (!p.optional) throw new ControlArgumentError(`${action.name}: missing ${p.flag ?? placeholder(p)} (${p.what}; usage: ${actionSynopsis(action)})`);
      continue;
    }
    out[p.name] = checkParam(action, p, v);
  }
  return out;
}

/** Runs an action on a sandbox: what the HTTP server does for each request, callable in-process too. */
export async function runControlAction(sandbox: Sandbox, name: string, rawArgs: unknown): Promise<ControlResult> {
  const action = controlAction(name);
  if (!action) throw new ControlArgumentError(`unknown action "${name}" (actions: ${CONTROL_ACTIONS.map((a) => a.name).join(', ')})`);
  const args = checkArgs(action, rawArgs);
  try {
    return await action.run(sandbox, args);
  } catch (e) {
    // the sandbox's knobs reject bad values (an unknown DC, a user that does not exist) with these
    if (e instanceof RangeError || e instanceof TypeError) throw new ControlArgumentError(`${action.name}: ${e.message}`);
    throw e;
  }
}

export interface ControlServer extends ControlEndpoint {
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ControlArgumentError(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Listens on `host` (default 127.0.0.1), an ephemeral port, with a new random token. */
export function startControlServer(sandbox: Sandbox, opts: { host?: string; log?: (line: string) => void } = {}): Promise<ControlServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const token = randomBytes(24).toString('hex');
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url !== '/ctl') return reply(res, 404, { ok: false, error: `no such path ${req.url ?? ''} (POST /ctl)` });
      if (req.method !== 'POST') return reply(res, 405, { ok: false, error: 'use POST /ctl' });
      const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      if (!auth || !sameToken(auth[1]!, token)) {
        log('control: request refused (bad or missing token)');
        return reply(res, 401, { ok: false, error: 'bad or missing control token' });
      }
      let action = '';
      try {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch (e) {
          throw e instanceof ControlArgumentError ? e : new ControlArgumentError('the request body is not JSON');
        }
        const b = (body ?? {}) as { action?: unknown; args?: unknown };
        if (typeof b.action !== 'string' || b.action === '') throw new ControlArgumentError('"action" must be an action name');
        action = b.action;
        const result = await runControlAction(sandbox, action, b.args);
        log(`control: ${action}: ${action === 'status' ? 'status read' : result.message}`);
        reply(res, 200, { ok: true, message: result.message, ...(result.data === undefined ? {} : { data: result.data }) });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const status = e instanceof ControlArgumentError ? 400 : 500;
        log(status === 400 ? `control: refused: ${message}` : `control: ${action} failed: ${message}`);
        reply(res, status, { ok: false, error: message });
      }
    })();
  });
  return new Promise<ControlServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        host,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
