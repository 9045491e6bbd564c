// GramJS (npm `telegram`, layer 198) pointed at the sandbox through its public options only:
//  - the sandbox's RSA key goes into `telegram/crypto/RSA`'s `_serverKeys` map (the map GramJS's Authenticator
//    looks fingerprints up in: key = signed decimal fingerprint, value = { n: big-integer, e: number });
//  - a `Connection` subclass (the `connection` client option) replaces the port of every connection with the
//    sandbox port of its dcId: GramJS always dials port 80 (443 with WSS) whatever help.getConfig said;
//  - a MemorySession whose first DC is set with session.setDC (StringSession cannot save ports > 32767);
//  - a TelegramClient subclass whose disconnect() also closes the senders borrowed for other DCs;
//  - a `Logger` subclass (the `baseLogger` option) that keeps log lines in memory instead of printing them.
// The key registration, the connection and logger subclasses and the client subclass take the sandbox itself (not
// the interop wrapper) and import nothing of the test runner: bench/login-migrate.bench.ts drives GramJS with them.
import { TelegramClient, Api, Logger } from 'telegram';
import { MemorySession } from 'telegram/sessions';
import { type Connection, ConnectionTCPFull, ConnectionTCPAbridged, ConnectionTCPObfuscated } from 'telegram/network';
import { _serverKeys } from 'telegram/crypto/RSA';
import { returnBigInt } from 'telegram/Helpers';
import { LogLevel } from 'telegram/extensions/Logger';
import type { Sandbox } from '../../../src/sandbox';
import { SANDBOX_API_ID, SANDBOX_API_HASH, type InteropSandbox } from './sandbox';

export { Api };

export type GramjsTransport = 'full' | 'abridged' | 'obfuscated';
const TRANSPORTS: Record<GramjsTransport, typeof Connection> = {
  full: ConnectionTCPFull,
  abridged: ConnectionTCPAbridged,
  obfuscated: ConnectionTCPObfuscated,
};

/** Registers the sandbox's public key with GramJS (process-wide, idempotent). Returns the map key used. */
export function registerGramjsKey(sb: Sandbox): string {
  const { rsaKey, info } = sb;
  const signed = BigInt.asIntN(64, rsaKey.fingerprint).toString();
  if (signed !== info.rsa.fingerprint) {
    throw new Error(`sandbox info.rsa.fingerprint ${info.rsa.fingerprint} != signed rsaKey.fingerprint ${signed}`);
  }
  _serverKeys.set(signed, { n: returnBigInt(rsaKey.n), e: Number(rsaKey.e) });
  return signed;
}

export interface DialRecord {
  dcId: number;
  ip: string;
  /** the port GramJS wanted (80/443) */
  requestedPort: number;
  /** the sandbox port actually dialled */
  port: number;
}

/**
 * A subclass of a GramJS connection class that dials the sandbox port of the connection's dcId (the IPv6 listener's
 * port when GramJS picked an IPv6 address from help.getConfig).
 */
export function sandboxConnection(base: typeof Connection, sb: Sandbox, dials: DialRecord[] = []): typeof Connection {
  class SandboxConnection extends base {
    constructor(params: ConstructorParameters<typeof Connection>[0]) {
      const dcId = Math.abs(params.dcId);
      const dc = sb.info.dcs.find((d) => d.id === dcId);
      const port = params.ip.includes(':') ? dc?.ipv6?.port : dc?.port;
      if (port === undefined) throw new Error(`no sandbox port for DC ${params.dcId} at ${params.ip}`);
      dials.push({ dcId: params.dcId, ip: params.ip, requestedPort: params.port, port });
      super({ ...params, port });
    }
  }
  return SandboxConnection;
}

/** Keeps GramJS's log lines (at `level` and above) in `lines` instead of printing them. */
export class MemoryLogger extends Logger {
  constructor(
    readonly lines: string[],
    level: LogLevel = LogLevel.DEBUG,
  ) {
    super(level);
  }
  override log(level: LogLevel, message: string): void {
    this.lines.push(`[${level}] ${message}`);
  }
}

/**
 * GramJS 2.26's disconnect() walks its exported-sender and release-timer Maps with Object.values(), which sees
 * nothing in a Map: senders borrowed with client.invoke(request, dcId) stay connected after destroy() and their
 * 30 s release timer keeps the process alive. This subclass closes them too (client-side cleanup only).
 */
export class SandboxTelegramClient extends TelegramClient {
  override async disconnect(): Promise<void> {
    const self = this as unknown as {
      _exportedSenderPromises: Map<number, Promise<{ disconnect(): Promise<void> } | undefined>>;
      _exportedSenderReleaseTimeouts: Map<number, NodeJS.Timeout>;
    };
    for (const t of self._exportedSenderReleaseTimeouts.values()) clearTimeout(t);
    self._exportedSenderReleaseTimeouts.clear();
    const borrowed = await Promise.allSettled([...self._exportedSenderPromises.values()]);
    await super.disconnect();
    for (const r of borrowed) if (r.status === 'fulfilled' && r.value) await r.value.disconnect();
  }
}

export interface GramjsHandle {
  client: TelegramClient;
  session: MemorySession;
  dials: DialRecord[];
  logs: string[];
  /** errors GramJS handed to the start() onError callback */
  authErrors: Error[];
  destroy(): Promise<void>;
}

export function makeGramjsClient(s: InteropSandbox, opts: { transport?: GramjsTransport; startDc?: number; ipv6?: boolean } = {}): GramjsHandle {
  registerGramjsKey(s.sb);
  const startDc = opts.startDc ?? 2;
  const dials: DialRecord[] = [];
  const logs: string[] = [];
  const session = new MemorySession();
  const dc = s.sb.info.dcs.find((d) => d.id === startDc);
  if (!dc) throw new Error(`sandbox has no DC ${startDc}`);
  if (opts.ipv6) {
    if (!dc.ipv6) throw new Error(`sandbox DC ${startDc} has no IPv6 listener`);
    session.setDC(startDc, dc.ipv6.host, dc.ipv6.port); // GramJS then sets useIPV6 from the ':' in the address
  } else {
    session.setDC(startDc, dc.host, dc.port);
  }
  const client = new SandboxTelegramClient(session, SANDBOX_API_ID, SANDBOX_API_HASH, {
    connection: sandboxConnection(TRANSPORTS[opts.transport ?? 'full'], s.sb, dials),
    baseLogger: new MemoryLogger(logs),
    useWSS: false,
    useIPV6: !!opts.ipv6,
    autoReconnect: false,
    connectionRetries: 2,
    retryDelay: 100,
    requestRetries: 3,
    timeout: 10,
    deviceModel: 'dclab-interop',
    systemVersion: process.version,
    appVersion: '1.0',
  });
  let destroyed = false;
  return {
    client,
    session,
    dials,
    logs,
    authErrors: [],
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await client.destroy();
    },
  };
}

/**
 * client.start with callbacks only: the first error stops the flow (recorded in authErrors) instead of looping.
 * Returns how many times GramJS asked for the code and for the 2FA password.
 */
export async function gramjsStart(h: GramjsHandle, phone: string, code: string, password?: string): Promise<{ codeAsked: number; passwordAsked: number }> {
  const asked = { codeAsked: 0, passwordAsked: 0 };
  await h.client.start({
    phoneNumber: async () => phone,
    phoneCode: async () => {
      asked.codeAsked++;
      return code;
    },
    password: async () => {
      asked.passwordAsked++;
      if (password === undefined) throw new Error('sandbox asked for a 2FA password the test did not expect');
      return password;
    },
    onError: async (err: Error) => {
      h.authErrors.push(err);
      return true; // stop: GramJS then throws AUTH_USER_CANCEL
    },
  });
  return asked;
}

/** users.getUsers([inputUserSelf]) the raw way. */
export async function gramjsGetSelf(h: GramjsHandle): Promise<Api.User> {
  const res = await h.client.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }));
  if (res.length !== 1) throw new Error(`users.getUsers(self) answered ${res.length} users`);
  const u = res[0]!;
  if (!(u instanceof Api.User)) throw new Error(`users.getUsers(self) answered ${u.className}`);
  return u;
}

export function rpcErrorText(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'errorMessage' in e ? String((e as { errorMessage: unknown }).errorMessage) : undefined;
}
