// The client of a sandbox's control channel (control.ts): what `dclab sandbox ctl` and the tests use. Errors say
// what was wrong — the sandbox does not answer, the token was refused, the sandbox rejected the arguments — and
// never carry the token.
import { request } from 'node:http';
import type { ControlArgs, ControlEndpoint } from './control';

export type ControlErrorKind = 'unreachable' | 'token' | 'rejected' | 'protocol';

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    message: string,
    readonly kind: ControlErrorKind,
  ) {
    super(message);
  }
}

export interface ControlReply {
  message: string;
  data?: unknown;
}

/** The `control` entry of an info file, checked; `where` names the file in errors. */
export function controlEndpointOf(info: unknown, where: string): ControlEndpoint {
  const c = (info as { control?: Partial<ControlEndpoint> } | null)?.control;
  if (!c || typeof c !== 'object')
    throw new ControlError(`${where} has no "control" entry: the sandbox that wrote it has no control channel (started by an older dclab?)`, 'protocol');
  if (typeof c.host !== 'string' || !Number.isInteger(c.port) || typeof c.token !== 'string' || c.token === '') {
    throw new ControlError(`${where}: "control" must be {host, port, token}`, 'protocol');
  }
  return { host: c.host, port: c.port as number, token: c.token };
}

/** POSTs one action; resolves with the sandbox's confirmation, rejects with a ControlError. */
export function callControl(endpoint: ControlEndpoint, action: string, args: ControlArgs = {}, opts: { timeoutMs?: number } = {}): Promise<ControlReply> {
  const body = JSON.stringify({ action, args });
  const where = `the sandbox control channel at ${endpoint.host}:${endpoint.port}`;
  return new Promise<ControlReply>((resolve, reject) => {
    const req = request(
      {
        host: endpoint.host,
        port: endpoint.port,
        method: 'POST',
        path: '/ctl',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${endpoint.token}` },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new ControlError(`${where}: ${e.message}`, 'unreachable')));
        res.on('end', () => {
          let parsed: { ok?: unknown; message?: unknown; data?: unknown; error?: unknown };
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
          } catch {
            reject(new ControlError(`${where} answered HTTP ${res.statusCode} without JSON: is that port a dclab sandbox?`, 'protocol'));
            return;
          }
          if (res.statusCode === 401) {
            reject(new ControlError(`${where} refused the token (bad token): the info file is not from the sandbox running there`, 'token'));
          } else if (res.statusCode === 200 && parsed.ok === true && typeof parsed.message === 'string') {
            resolve({ message: parsed.message, ...(parsed.data === undefined ? {} : { data: parsed.data }) });
          } else {
            const why = typeof parsed.error === 'string' ? parsed.error : `HTTP ${res.statusCode}`;
            reject(new ControlError(why, res.statusCode === 400 ? 'rejected' : 'protocol'));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'ECONNREFUSED' ? ' — is the sandbox still running?' : '';
      reject(new ControlError(`${where} does not answer (${e.code ?? e.message})${hint}`, 'unreachable'));
    });
    req.end(body);
  });
}
