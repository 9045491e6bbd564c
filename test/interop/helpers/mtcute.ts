// mtcute (@mtcute/node 0.30.3, layer 227) pointed at the sandbox through its public options only:
//  - the sandbox's key is added with `addPublicKey(crypto, pem)` from '@mtcute/node/utils.js' (process-wide index;
//    it wants a PKCS#1 "RSA PUBLIC KEY" PEM, so an SPKI PEM is converted with node:crypto first);
//  - `defaultDcs: { main, media }` = the sandbox's DC 2 (127.0.0.1 + its real port), `testMode: false`; every other
//    address comes from the sandbox's help.getConfig, ports included;
//  - `transport`: a TelegramTransport wrapping TcpTransport that records each dial (dc id, address, port) and can swap the packet
//    codec (intermediate by default; padded intermediate; obfuscated2 around padded intermediate);
//  - MemoryStorage, `disableUpdates: true` (calls wrapped in invokeWithoutUpdates, no updates loop), and the log
//    manager's handler replaced so log lines are kept in memory, not printed.
// mtcute is loaded as ESM with import(): the CJS bundle prints deprecation warnings, and the key index must be the
// one of the module instance the client uses.
import { createPublicKey } from 'node:crypto';
import { SANDBOX_API_ID, SANDBOX_API_HASH, type InteropSandbox } from './sandbox';

async function loadMtcute() {
  const node = await import('@mtcute/node');
  const utils = await import('@mtcute/node/utils.js');
  return { node, utils };
}
let loaded: ReturnType<typeof loadMtcute> | undefined;
export function mtcute(): ReturnType<typeof loadMtcute> {
  return (loaded ??= loadMtcute());
}
type Mt = Awaited<ReturnType<typeof loadMtcute>>;
export type MtcuteClient = InstanceType<Mt['node']['TelegramClient']>;
type BasicDcOption = Parameters<InstanceType<Mt['node']['TcpTransport']>['connect']>[0];

export type MtcuteTransport = 'intermediate' | 'padded' | 'obfuscated';

/** The PEM as PKCS#1 (what mtcute's parsePublicKey reads: SEQUENCE { n, e }). */
export function pkcs1Pem(pem: string): string {
  return createPublicKey(pem).export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** mtcute's fingerprint format: 16 hex digits of the unsigned 64-bit value. */
export function mtcuteFingerprintHex(signedDecimal: string): string {
  return BigInt.asUintN(64, BigInt(signedDecimal)).toString(16).padStart(16, '0');
}

/**
 * Registers the sandbox key with mtcute and returns the fingerprint mtcute computed from the PEM on its own
 * (16 hex digits), so a test can compare it with the sandbox's.
 */
export async function registerMtcuteKey(s: InteropSandbox): Promise<string> {
  const { utils } = await mtcute();
  const crypto = new utils.NodeCryptoProvider();
  await crypto.initialize();
  const pem = pkcs1Pem(s.sb.info.rsa.pem);
  const parsed = utils.parsePublicKey(crypto, pem);
  utils.addPublicKey(crypto, pem);
  return parsed.fingerprint;
}

export interface MtDial {
  dcId: number;
  ip: string;
  port: number;
  mediaOnly: boolean;
}

export interface MtcuteHandle {
  tg: MtcuteClient;
  dials: MtDial[];
  logs: string[];
  sentCodeTypes: string[];
  destroy(): Promise<void>;
}

function formatLog(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%[a-z]/g, () => {
    const a = args[i++];
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    if (typeof a === 'object' && a !== null) {
      try {
        return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(
          0,
          400,
        );
      } catch {
        return String(a);
      }
    }
    return String(a);
  });
}

export async function makeMtcuteClient(
  s: InteropSandbox,
  opts: { transport?: MtcuteTransport; startDc?: number; disableUpdates?: boolean; ipv6?: boolean } = {},
): Promise<MtcuteHandle> {
  const { node, utils } = await mtcute();
  await registerMtcuteKey(s);
  const startDc = opts.startDc ?? 2;
  const dc = s.sb.info.dcs.find((d) => d.id === startDc);
  if (!dc) throw new Error(`sandbox has no DC ${startDc}`);
  const dials: MtDial[] = [];
  const logs: string[] = [];
  const kind = opts.transport ?? 'intermediate';

  const tcp = new node.TcpTransport();
  const transport = {
    connect(d: BasicDcOption) {
      dials.push({ dcId: d.id, ip: d.ipAddress, port: d.port, mediaOnly: !!d.mediaOnly });
      return tcp.connect(d);
    },
    packetCodec() {
      if (kind === 'padded') return new node.PaddedIntermediatePacketCodec();
      if (kind === 'obfuscated') return new node.ObfuscatedPacketCodec(new node.PaddedIntermediatePacketCodec());
      return new node.IntermediatePacketCodec();
    },
  };

  // Stock crypto provider on purpose: its gzip() is zlib.deflateSync, so gzip_packed requests arrive in RFC 1950
  // (zlib) framing, as Telegram accepts them.
  const crypto = new utils.NodeCryptoProvider();
  const main = { id: startDc, ipAddress: dc.host, port: dc.port };
  const tg = new node.TelegramClient({
    apiId: SANDBOX_API_ID,
    apiHash: SANDBOX_API_HASH,
    storage: new node.MemoryStorage(),
    crypto,
    defaultDcs: { main, media: main },
    testMode: false,
    useIpv6: !!opts.ipv6,
    disableUpdates: opts.disableUpdates ?? true,
    transport: transport as unknown as InstanceType<Mt['node']['TcpTransport']>,
    logLevel: utils.LogManager.DEBUG,
    initConnectionOptions: { deviceModel: 'dclab-interop', appVersion: '1.0', systemVersion: process.version },
  });
  tg.log.mgr.handler = (_color, level, tag, fmt, args) => {
    logs.push(`[${level}] ${tag}: ${formatLog(fmt, args)}`);
  };
  let destroyed = false;
  return {
    tg,
    dials,
    logs,
    sentCodeTypes: [],
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await tg.destroy();
    },
  };
}

/** tg.start with no prompts: a rejected code or password throws instead of asking again. */
export async function mtcuteStart(h: MtcuteHandle, phone: string, code: string, password?: string) {
  return h.tg.start({
    phone,
    code: async () => code,
    password: async () => {
      if (password === undefined) throw new Error('sandbox asked for a 2FA password the test did not expect');
      return password;
    },
    codeSentCallback: async (sent) => {
      h.sentCodeTypes.push(sent.type);
    },
    invalidCodeCallback: async (kind) => {
      throw new Error(`the sandbox rejected the ${kind}`);
    },
  });
}

/** users.getUsers([inputUserSelf]) the raw way; returns the single raw user. */
export async function mtcuteGetSelfRaw(h: MtcuteHandle) {
  const res = await h.tg.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
  if (res.length !== 1) throw new Error(`users.getUsers(self) answered ${res.length} users`);
  const u = res[0]!;
  if (u._ !== 'user') throw new Error(`users.getUsers(self) answered ${u._}`);
  return u;
}

/** The primary DC mtcute ended on, from its own exported session string. */
export async function mtcutePrimaryDc(h: MtcuteHandle) {
  const { utils } = await mtcute();
  return utils.readStringSession(await h.tg.exportSession()).primaryDcs.main;
}
