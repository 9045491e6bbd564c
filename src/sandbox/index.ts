// startSandbox: the multi-DC MTProto server on loopback. DCs 1..5 each listen on their own port (basePort + n,
// or an ephemeral port when basePort is 0) on the IPv4 host and, when it works, on ::1; every DC has its own
// auth-key store and rotating salts; all share one World (users, codes, authorizations). Transports are
// auto-detected per connection (listenFrames); the encrypted session is run by serveMtprotoLink with the API
// handler of api.ts. A control channel (control.ts) drives the scenario knobs from outside the process.
import type { FaultRule } from './faults';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { RsaPublicKey } from '../crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../crypto/dh';
import { API_LAYER } from '../tl/bundled';
import { InputBudget, listenFrames, DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_MAX_OUTPUT_BYTES, type FrameListener, type ServerFrameLink } from '../transport/tcp';
import { ServerHandshake } from '../mtproto/handshake-server';
import { ServerSalts } from '../mtproto/server-salts';
import { DEFAULT_SESSION_IDLE_MS, serveMtprotoLink } from '../mtproto/session-server';
import type { WireEvent } from '../mtproto/wire-event';
import { SandboxApi } from './api';
import { CONFIG_TTL_S, ConfigExpiry, type DcEndpoint } from './config';
import { DEFAULT_RESTART_DOWN_MS, startControlServer, type ControlEndpoint, type ControlServer } from './control';
import type { ActiveFaults } from './faults';
import type { FloodLimitConfig } from './flood-limits';
import { LayerCodecs, type ExtraSchema } from './layers';
import { SANDBOX_DC_IDS, isSandboxDc } from './phones';
import { defaultDataDir, loadOrCreateRsaKey } from './rsa-key';
import { World, type InboxEntry, type SandboxUser } from './world';
import { CDN_DC_ID, DEFAULT_UPLOAD_TTL_MS, FileStore, fileMethods, filePartGzipPolicy, type SandboxFileInfo } from './files';
import { CDN_RSA_KEY_FILE, cdnHandler, cdnLinkServer } from './cdn';
import { ConnectionFaults, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from './net-faults';

export { World } from './world';
export { SandboxApi, METHODS, METHODS_BEFORE_AUTH } from './api';
export { SandboxRpcError, METHOD_NOT_SUPPORTED, methodNotSupported } from './errors';
export { LayerCodecs } from './layers';
export { TEST_PASSWORD, testPhoneCode, testPhoneDc } from './phones';
export { CDN_DC_ID, FileStore, type SandboxFileInfo } from './files';
export { DEFAULT_FLOOD_LIMITS, type FloodLimitConfig } from './flood-limits';
export { CONTROL_ACTIONS, runControlAction, type ControlEndpoint } from './control';
export { callControl, controlEndpointOf, ControlError } from './control-client';

/** CLI default: DC n listens on 20440 + n (20441..20445), below 32768 so GramJS's StringSession can store it. */
export const DEFAULT_BASE_PORT = 20440;
/** Defaults of the options below. */
export const DEFAULT_SALT_PERIOD_S = 3600;
export const DEFAULT_IDLE_TIMEOUT_S = 300;
/** Incomplete frames all the sandbox's connections may hold together (every DC and listener share it). */
export const DEFAULT_SANDBOX_INPUT_BUDGET_BYTES = 64 * 1024 * 1024;
export { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from './net-faults';

export interface SandboxOptions {
  /** IPv4 (or any) listen address, default 127.0.0.1. */
  host?: string;
  /** Also listen on ::1 (default true; skipped silently when IPv6 is unavailable). */
  ipv6?: boolean;
  /** DC n listens on basePort + n; 0 = an ephemeral port per DC. Default DEFAULT_BASE_PORT. */
  basePort?: number;
  /** Where rsa-private.pem lives, default ~/.dclab/sandbox. */
  dataDir?: string;
  /** Write SandboxInfo JSON here (mode 0600: it holds the control token); rewritten when a DC moves. */
  infoFile?: string;
  /** More API layers, served to clients that ask for them with invokeWithLayer. */
  extraSchemas?: ExtraSchema[];
  /** DC of numbers that are not 99966XYYYY test numbers (default 2). */
  nearestDc?: number;
  latencyMs?: Record<number, number>;
  log?: (line: string) => void;
  /** Wire events of every DC's connections (never carry keys or payloads). */
  onWire?: (e: WireEvent) => void;
  /** Run the CDN DC 203 (default true). */
  cdn?: boolean;
  /** Length of a server salt's period per DC, seconds (default hourly). */
  saltPeriodSeconds?: number;
  /** A connection with no packet from the client for this long is closed, seconds (default 300; 0 = never); a ping_delay_disconnect in force sets its own deadline. */
  idleTimeoutSeconds?: number;
  /** Live connections one remote address may hold to one DC; the next gets transport error −429 (default 128; 0 = no limit). */
  maxConnectionsPerAddress?: number;
  /** Lifetime of a help.getConfig answer, seconds (default 3600). */
  configExpiresSeconds?: number;
  /** Login flood limits (flood-limits.ts); false turns them off. */
  floodLimits?: Partial<FloodLimitConfig> | false;
  /** Run the control channel on 127.0.0.1 (default true). */
  control?: boolean;
  // ---- memory over time ----
  /** A frame that has begun must be whole within this time, seconds (default 60; 0 = no limit): slow drips are closed. */
  frameTimeoutSeconds?: number;
  /** Bytes of incomplete frames all connections together may hold; over it the oldest incomplete frame's connection is closed (default 64 MiB). */
  inputBudgetBytes?: number;
  /** Output a client leaves unread before its connection is closed, bytes (default 32 MiB). */
  maxOutputBytes?: number;
  /** A server session with no message for this long and no connection is dropped, seconds (default 1800). */
  sessionIdleSeconds?: number;
  /** An upload with no new part for this long is deleted, seconds (default 600). */
  uploadTtlSeconds?: number;
  /** Lifetime of login codes, exported authorizations and SRP challenges, seconds (default 300 each). */
  loginCodeTtlSeconds?: number;
  exportTtlSeconds?: number;
  srpTtlSeconds?: number;
}

export interface SandboxInfo {
  dcs: { id: number; host: string; port: number; ipv6?: { host: string; port: number } }[];
  rsa: { pem: string; fingerprint: string };
  /** The CDN DC: not one of `dcs`. */
  cdn?: { id: number; host: string; port: number; rsa: { pem: string; fingerprint: string } };
  /** The seeded files. */
  files?: SandboxFileInfo[];
  /** The control channel (with its token). */
  control?: ControlEndpoint;
  /** Random per start: one run of the sandbox, also across rewrites of the info file (a moved DC). */
  worldId?: string;
}

/** What move-dc did. */
export interface DcMove {
  dcId: number;
  from: { port: number; ipv6?: number };
  to: { port: number; ipv6?: number };
  /** help.getConfig's new `expires` (unix s). */
  configExpires: number;
}

export interface SandboxStatus {
  dcs: { id: number; host: string; port: number; ipv6?: { host: string; port: number }; connections: number; latencyMs: number }[];
  cdn?: { id: number; host: string; port: number; connections: number };
  layers: number[];
  saltPeriodSeconds: number;
  idleTimeoutSeconds: number;
  maxConnectionsPerAddress: number;
  config: { ttlSeconds: number; expires: number };
  floodLimits: FloodLimitConfig & { enabled: boolean };
  faults: ActiveFaults & ReturnType<ConnectionFaults['list']>;
}

export interface Sandbox {
  info: SandboxInfo;
  rsaKey: RsaPublicKey;
  /** Every login code the sandbox "delivered", oldest first. */
  inbox(): { phone: string; code: string; time: number; dcId: number }[];
  /** Called with each code as it is delivered; returns an unsubscribe function. */
  onInbox(listener: (e: InboxEntry) => void): () => void;
  moveUser(phone: string, dcId: number): void;
  setPassword(phone: string, password: string | null): void;
  registerUser(phone: string, firstName: string, lastName?: string): void;
  setLatency(dcId: number, ms: number): void;
  /** Make matching calls answer an rpc_error (FLOOD_WAIT_X, *_MIGRATE_X, AUTH_BYTES_INVALID, ...); see faults.ts. */
  injectFault(rule: FaultRule): void;
  /** For `seconds`, every call of `method` (`*` = any) on DC `dcId` (or any) answers 420 FLOOD_WAIT_<seconds left>. */
  flood(method: string, seconds: number, dcId?: number): void;
  /** Removes injected rpc errors and flood timers. */
  clearFaults(): void;
  /**
   * DC `dcId` (1..5, or the CDN DC 203 when it runs) forgets its auth keys (and their authorizations): old keys then
   * get transport error −404. Returns the count.
   */
  dropAuthKeys(dcId: number): number;
  /** Revokes a user's authorizations (every DC, or one): those keys then answer 401 AUTH_KEY_UNREGISTERED. Returns the count. */
  revokeAuthorizations(phone: string, dcId?: number): number;
  /** The served API layers, ascending. */
  layers: number[];
  world: World;
  stop(): Promise<void>;
  // ---- files and the CDN (see docs/contracts.md) ----
  /** The seeded files with their current dc_id, sha256 and location JSON. */
  files(): SandboxFileInfo[];
  fileStore: FileStore;
  /** The CDN DC's public key (also in help.getCdnConfig); undefined when the CDN is off. */
  cdnKey?: RsaPublicKey;
  /** getFile on the file's old DC answers FILE_MIGRATE_<dcId> from now on. */
  moveFile(key: string, dcId: number): void;
  setCdnReuploadNeeded(key: string, needed: boolean): void;
  /** Every file token → FILE_TOKEN_INVALID; new redirects give new tokens. */
  expireFileTokens(): void;
  /**
   * The next `count` non-empty upload.cdnFile answers (any file) have one plaintext byte flipped before the CTR
   * encryption: they decrypt, but fail their SHA-256 FileHash. `0` turns it off; `Infinity` = until turned off.
   */
  corruptCdnParts(count: number): void;
  /** The connection that makes the DC's sent-byte counter reach `bytes` is closed; `times` drops (default 1). */
  dropConnectionsAfterBytes(dcId: number, bytes: number, times?: number): void;
  /** Closes the live connections of one DC, or of all; returns how many. Server-side sessions stay. */
  dropConnections(dcId?: number): number;
  /** Removes pending connection rules (byte drops, transport errors). */
  clearConnectionFaults(): void;
  /** Closes every listener and connection and listens again on the same ports (world and keys kept). */
  restartListeners(): Promise<void>;
  // ---- faults on demand (the control channel's actions) ----
  /** The control channel's endpoint and token; undefined when it is off. */
  control?: ControlEndpoint;
  /** DC `dcId`'s listeners close with their connections and listen again on the same ports after `downMs` (default 500). */
  restartDc(dcId: number, downMs?: number): Promise<void>;
  /** DC `dcId` listens on new ephemeral ports; help.getConfig and the info file announce them, the config expires soon. */
  moveDc(dcId: number): Promise<DcMove>;
  /** The next `count` (default 1) new connections of DC `dcId` (or any main DC) get transport error −|code|; returns it. */
  injectTransportError(code: number, opts?: { dcId?: number; count?: number }): number;
  /** New server salts now on DC `dcId` (or every DC). */
  rotateSalts(dcId?: number): void;
  status(): SandboxStatus;
}

function advertisedHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${v}`);
  return v;
}

/** Writes the info file whole (a reader never sees half of it), mode 0600: it holds the control token. */
function writeInfoFile(file: string, info: SandboxInfo): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** One listening address of a DC. */
interface DcListener {
  dcId: number;
  host: string;
  port: number;
  ipv6: boolean;
  onLink: (link: ServerFrameLink) => void;
  listener?: FrameListener;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '127.0.0.1';
  const basePort = opts.basePort ?? DEFAULT_BASE_PORT;
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + 5 > 65535) throw new RangeError(`invalid base port ${basePort}`);
  const saltPeriodSeconds = opts.saltPeriodSeconds ?? DEFAULT_SALT_PERIOD_S;
  if (!Number.isInteger(saltPeriodSeconds) || saltPeriodSeconds < 1)
    throw new RangeError(`salt period must be a positive number of seconds, got ${saltPeriodSeconds}`);
  const idleTimeoutSeconds = nonNegativeInt('idle timeout (seconds)', opts.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_S);
  const maxPerAddress = nonNegativeInt('max connections per address', opts.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
  const dataDir = opts.dataDir ?? defaultDataDir();

  const { pair, created, path: keyPath } = loadOrCreateRsaKey(dataDir);
  const fingerprint = pair.publicKey.fingerprint.toString();
  log(`RSA key ${created ? 'generated and saved to' : 'loaded from'} ${keyPath}`);
  log(`RSA fingerprint ${fingerprint}`);
  log(`RSA public key:\n${pair.publicPem.trim()}`);

  const codecs = new LayerCodecs(opts.extraSchemas ?? []);
  const secondsOpt = (name: string, v: number | undefined): number | undefined => (v === undefined ? undefined : nonNegativeInt(name, v) * 1000);
  const frameTimeoutMs = secondsOpt('frame timeout (seconds)', opts.frameTimeoutSeconds) ?? DEFAULT_FRAME_TIMEOUT_MS;
  const sessionIdleMs = secondsOpt('session idle time (seconds)', opts.sessionIdleSeconds) ?? DEFAULT_SESSION_IDLE_MS;
  const uploadTtlMs = secondsOpt('upload TTL (seconds)', opts.uploadTtlSeconds) ?? DEFAULT_UPLOAD_TTL_MS;
  const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  if (!Number.isInteger(maxOutputBytes) || maxOutputBytes < 1) throw new RangeError(`max output bytes must be a positive integer, got ${maxOutputBytes}`);
  // one budget for every listener: a flood spread over DCs and address families counts once
  const inputBudget = new InputBudget(opts.inputBudgetBytes ?? DEFAULT_SANDBOX_INPUT_BUDGET_BYTES);
  const worldTtls = {
    ...(opts.loginCodeTtlSeconds !== undefined ? { codeTtlMs: secondsOpt('login code TTL (seconds)', opts.loginCodeTtlSeconds)! } : {}),
    ...(opts.exportTtlSeconds !== undefined ? { exportTtlMs: secondsOpt('export TTL (seconds)', opts.exportTtlSeconds)! } : {}),
    ...(opts.srpTtlSeconds !== undefined ? { srpTtlMs: secondsOpt('SRP TTL (seconds)', opts.srpTtlSeconds)! } : {}),
  };
  const world = new World({ nearestDc: opts.nearestDc ?? 2, log, ...worldTtls, ...(opts.floodLimits !== undefined ? { floodLimits: opts.floodLimits } : {}) });
  const configExpiry = new ConfigExpiry(opts.configExpiresSeconds ?? CONFIG_TTL_S, world.now);
  const latency = new Map<number, number>();
  for (const [dc, ms] of Object.entries(opts.latencyMs ?? {})) latency.set(Number(dc), Math.max(0, Number(ms) || 0));

  const endpoints: DcEndpoint[] = [];
  const cdnOn = opts.cdn !== false;
  const cdnKey = cdnOn ? loadOrCreateRsaKey(dataDir, CDN_RSA_KEY_FILE) : undefined;
  if (cdnKey) log(`CDN DC${CDN_DC_ID}: RSA key ${cdnKey.created ? 'generated and saved to' : 'loaded from'} ${cdnKey.path}`);
  let cdnEndpoint: { host: string; port: number } | undefined;
  const fileStore = new FileStore({ log, now: world.now, uploadTtlMs });
  const connFaults = new ConnectionFaults({ log, maxPerAddress });
  const methods = fileMethods(fileStore, { cdnEndpoint: () => cdnEndpoint, cdnPublicPem: () => cdnKey?.pair.publicPem });
  const api = new SandboxApi(world, { topology: () => endpoints, configExpires: () => configExpiry.current(), log, methods });

  const salts = new Map<number, ServerSalts>();
  const saltsOf = (dcId: number): ServerSalts => {
    let s = salts.get(dcId);
    if (!s) salts.set(dcId, (s = new ServerSalts({ periodSeconds: saltPeriodSeconds })));
    return s;
  };

  const dcListeners: DcListener[] = [];
  const open = async (l: DcListener): Promise<void> => {
    l.listener = await listenFrames(
      {
        host: l.host,
        port: l.port,
        latencyMs: () => latency.get(l.dcId) ?? 0,
        frameTimeoutMs,
        maxOutputBytes,
        inputBudget,
      },
      l.onLink,
    );
    l.port = l.listener.port;
  };
  const shut = async (l: DcListener): Promise<void> => {
    const listener = l.listener;
    l.listener = undefined;
    await listener?.close().catch(() => undefined);
  };
  const listen = async (dcId: number, listenHost: string, port: number, onLink: (link: ServerFrameLink) => void): Promise<DcListener> => {
    const l: DcListener = { dcId, host: listenHost, port, ipv6: listenHost.includes(':'), onLink };
    await open(l);
    dcListeners.push(l);
    return l;
  };
  let connSeq = 0;

  const serve = (dcId: number, link: ServerFrameLink): void => {
    if (!connFaults.admit(dcId, link, { mainDc: true })) return;
    const connId = `dc${dcId}-${++connSeq}`;
    log(`DC${dcId}: ${connId} from ${link.remote} (${link.obfuscated ? 'obfuscated ' : ''}${link.transport})`);
    link.once('close', (reason: string) => log(`DC${dcId}: ${connId} closed (${reason})`));
    try {
      const gzip = filePartGzipPolicy(api.handle);
      const served: unknown = serveMtprotoLink(link, {
        dcId,
        keyStore: world.keyStore(dcId),
        salts: saltsOf(dcId),
        // the session's idle timer (not the socket's): it counts client packets and yields to ping_delay_disconnect
        idleTimeoutMs: idleTimeoutSeconds * 1000,
        sessionIdleMs,
        createHandshake: () => new ServerHandshake({ dcId, rsa: [pair], dhPrime: TELEGRAM_DH_PRIME, g: 3 }),
        codecForLayer: (layer: number) => codecs.codecFor(layer),
        defaultLayer: API_LAYER,
        handler: gzip.handler,
        get gzipThreshold() {
          return gzip.threshold();
        },
        ...(opts.onWire ? { onWire: opts.onWire } : {}),
        log: (line: string) => log(`DC${dcId}: ${connId}: ${line}`),
        connId,
      });
      if (served && typeof (served as Promise<unknown>).catch === 'function') {
        (served as Promise<unknown>).catch((e) => {
          log(`DC${dcId}: ${connId} failed: ${errorText(e)}`);
          link.close('internal error');
        });
      }
    } catch (e) {
      log(`DC${dcId}: ${connId} failed: ${errorText(e)}`);
      link.close('internal error');
    }
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(dcListeners.map(shut));
  };

  try {
    const v4Host = advertisedHost(host);
    for (const dcId of SANDBOX_DC_IDS) {
      const l = await listen(dcId, host, basePort ? basePort + dcId : 0, (link) => serve(dcId, link));
      endpoints.push({ id: dcId, host: v4Host, port: l.port });
    }
    if (opts.ipv6 !== false && host !== '::1') {
      const v6: DcListener[] = [];
      try {
        for (const dcId of SANDBOX_DC_IDS) v6.push(await listen(dcId, '::1', basePort ? basePort + dcId : 0, (link) => serve(dcId, link)));
        v6.forEach((l, i) => {
          endpoints[i]!.ipv6 = { host: '::1', port: l.port };
        });
      } catch (e) {
        await Promise.all(v6.map(shut));
        dcListeners.splice(SANDBOX_DC_IDS.length);
        log(`IPv6: not listening on ::1 (${errorText(e)})`);
      }
    }
    if (cdnKey) {
      const onLink = cdnLinkServer({
        pair: cdnKey.pair,
        keyStore: world.keyStore(CDN_DC_ID),
        salts: saltsOf(CDN_DC_ID),
        idleTimeoutMs: idleTimeoutSeconds * 1000,
        codecs,
        handler: cdnHandler(fileStore, log),
        log,
        ...(opts.onWire ? { onWire: opts.onWire } : {}),
        admit: (link) => connFaults.admit(CDN_DC_ID, link, { mainDc: false }),
      });
      const cdnPort = basePort && basePort + CDN_DC_ID <= 65535 ? basePort + CDN_DC_ID : 0;
      const l = await listen(CDN_DC_ID, host, cdnPort, onLink);
      cdnEndpoint = { host: v4Host, port: l.port };
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  const info: SandboxInfo = {
    worldId: randomBytes(8).toString('hex'),
    dcs: endpoints.map((d) => ({ id: d.id, host: d.host, port: d.port, ...(d.ipv6 ? { ipv6: { ...d.ipv6 } } : {}) })),
    rsa: { pem: pair.publicPem, fingerprint },
    ...(cdnKey && cdnEndpoint
      ? {
          cdn: {
            id: CDN_DC_ID,
            host: cdnEndpoint.host,
            port: cdnEndpoint.port,
            rsa: { pem: cdnKey.pair.publicPem, fingerprint: cdnKey.pair.publicKey.fingerprint.toString() },
          },
        }
      : {}),
    files: fileStore.files(),
  };
  if (info.cdn) log(`CDN DC${CDN_DC_ID}: listening on ${info.cdn.host}:${info.cdn.port}, RSA fingerprint ${info.cdn.rsa.fingerprint}`);
  for (const d of info.dcs) log(`DC${d.id}: listening on ${d.host}:${d.port}${d.ipv6 ? ` and [${d.ipv6.host}]:${d.ipv6.port}` : ''}`);
  log(`API layers served: ${codecs.layers().join(', ')} (default ${API_LAYER}); nearest DC ${world.nearestDc}`);
  log(
    `salt period ${saltPeriodSeconds} s; idle timeout ${idleTimeoutSeconds ? `${idleTimeoutSeconds} s` : 'off'}; at most ${maxPerAddress || 'unlimited'} connections per address and DC; config expires after ${configExpiry.ttlSeconds} s`,
  );
  log(
    `limits: frames complete within ${frameTimeoutMs ? `${frameTimeoutMs / 1000} s` : 'any time'}; incomplete frames ≤ ${inputBudget.limit} bytes in all; unread output ≤ ${maxOutputBytes} bytes per connection; idle sessions dropped after ${sessionIdleMs / 1000} s, unfinished uploads after ${uploadTtlMs / 1000} s`,
  );

  /** DC ids a knob accepts: 1..5, and the CDN DC where `cdn` says so and it runs. */
  const requireDc = (dcId: number, cdn: boolean): void => {
    if (isSandboxDc(dcId) || (cdn && cdnEndpoint && dcId === CDN_DC_ID)) return;
    throw new RangeError(`unknown DC ${dcId}: the sandbox's DCs are 1..5${cdn && cdnEndpoint ? ` and the CDN DC ${CDN_DC_ID}` : ''}`);
  };
  const writeInfo = (): void => {
    if (!opts.infoFile) return;
    writeInfoFile(opts.infoFile, info);
  };

  let stopped = false;
  let control: ControlServer | undefined;
  const sandbox: Sandbox = {
    info,
    rsaKey: pair.publicKey,
    layers: codecs.layers(),
    world,
    inbox: () => world.inbox(),
    onInbox: (l) => world.onInbox(l),
    moveUser: (phone, dcId) => void world.moveUser(phone, dcId),
    setPassword: (phone, password) => void world.setPassword(phone, password),
    registerUser: (phone, firstName, lastName) => {
      const u: SandboxUser = world.registerUser(phone, firstName, lastName ?? '');
      log(`registered user ${u.id} (+${u.phone}) on DC${u.homeDc}`);
    },
    setLatency: (dcId, ms) => {
      if (!isSandboxDc(dcId)) throw new RangeError(`DC must be 1..5, got ${dcId}`);
      latency.set(dcId, Math.max(0, ms));
      log(`DC${dcId}: latency ${Math.max(0, ms)} ms`);
    },
    injectFault: (rule) => {
      if (rule.dcId !== undefined) requireDc(rule.dcId, false);
      api.faults.add(rule);
      log(`fault: ${rule.method}${rule.dcId ? ` on DC${rule.dcId}` : ''} → ${rule.error} (${rule.times ?? 1}×)`);
    },
    flood: (method, seconds, dcId) => {
      if (dcId !== undefined) requireDc(dcId, false);
      api.faults.addFlood(method, seconds, dcId);
      log(`fault: ${method}${dcId === undefined ? '' : ` on DC${dcId}`} answers FLOOD_WAIT_X for ${seconds} s`);
    },
    clearFaults: () => api.faults.clear(),
    files: () => fileStore.files(),
    fileStore,
    ...(cdnKey ? { cdnKey: cdnKey.pair.publicKey } : {}),
    moveFile: (key, dcId) => fileStore.moveFile(key, dcId),
    setCdnReuploadNeeded: (key, needed) => fileStore.setCdnReuploadNeeded(key, needed),
    expireFileTokens: () => fileStore.expireFileTokens(),
    corruptCdnParts: (count) => fileStore.corruptCdnParts(count),
    dropConnectionsAfterBytes: (dcId, bytes, times = 1) => {
      connFaults.dropAfterBytes(dcId, bytes, times);
      log(`fault: DC${dcId} drops a connection after ${bytes} bytes sent (${times}×)`);
    },
    dropConnections: (dcId) => {
      if (dcId !== undefined) requireDc(dcId, true);
      const n = connFaults.dropAll(dcId);
      log(`fault: dropped ${n} connection(s)${dcId === undefined ? '' : ` of DC${dcId}`}`);
      return n;
    },
    clearConnectionFaults: () => connFaults.clear(),
    restartListeners: async () => {
      if (stopped) throw new Error('the sandbox is stopped');
      await stopAll();
      for (const l of dcListeners) await open(l);
      log('listeners restarted on the same ports');
    },
    restartDc: async (dcId, downMs = DEFAULT_RESTART_DOWN_MS) => {
      if (stopped) throw new Error('the sandbox is stopped');
      requireDc(dcId, true);
      nonNegativeInt('down time (ms)', downMs);
      const mine = dcListeners.filter((l) => l.dcId === dcId);
      await Promise.all(mine.map(shut));
      log(`DC${dcId}: down (listeners closed) for ${downMs} ms`);
      await new Promise((r) => setTimeout(r, downMs));
      if (stopped) return;
      for (const l of mine) await open(l);
      log(`DC${dcId}: listening again on ${mine.map((l) => (l.ipv6 ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`)).join(' and ')}`);
    },
    moveDc: async (dcId) => {
      if (stopped) throw new Error('the sandbox is stopped');
      if (!isSandboxDc(dcId)) throw new RangeError(`unknown DC ${dcId}: move-dc moves one of the DCs 1..5`);
      const endpoint = endpoints.find((e) => e.id === dcId)!;
      const from = { port: endpoint.port, ...(endpoint.ipv6 ? { ipv6: endpoint.ipv6.port } : {}) };
      for (const l of dcListeners.filter((x) => x.dcId === dcId)) {
        const old: DcListener = { ...l };
        l.port = 0;
        await open(l); // the new port listens before the old one closes: the DC is never unreachable by config
        await shut(old);
        if (l.ipv6 && endpoint.ipv6) endpoint.ipv6.port = l.port;
        else endpoint.port = l.port;
      }
      const entry = info.dcs.find((d) => d.id === dcId)!;
      entry.port = endpoint.port;
      if (entry.ipv6 && endpoint.ipv6) entry.ipv6.port = endpoint.ipv6.port;
      const configExpires = configExpiry.soon();
      writeInfo();
      const to = { port: endpoint.port, ...(endpoint.ipv6 ? { ipv6: endpoint.ipv6.port } : {}) };
      log(
        `DC${dcId}: moved from port ${from.port} to ${to.port}${to.ipv6 ? ` (IPv6 ${from.ipv6} → ${to.ipv6})` : ''}; help.getConfig expires at ${configExpires}`,
      );
      return { dcId, from, to, configExpires };
    },
    injectTransportError: (code, o = {}) => {
      if (o.dcId !== undefined) requireDc(o.dcId, false);
      const count = o.count ?? 1;
      connFaults.addTransportErrors(code, count, o.dcId);
      const wire = -Math.abs(code);
      log(`fault: the next ${count} new connection(s) of ${o.dcId === undefined ? 'any main DC' : `DC${o.dcId}`} get transport error ${wire}`);
      return wire;
    },
    rotateSalts: (dcId) => {
      if (dcId !== undefined) requireDc(dcId, true);
      const ids = dcId === undefined ? [...SANDBOX_DC_IDS, ...(cdnEndpoint ? [CDN_DC_ID] : [])] : [dcId];
      for (const id of ids) saltsOf(id).rotate();
      log(`server salts rotated on ${dcId === undefined ? 'every DC' : `DC${dcId}`}`);
    },
    status: () => ({
      dcs: endpoints.map((d) => ({
        id: d.id,
        host: d.host,
        port: d.port,
        ...(d.ipv6 ? { ipv6: { ...d.ipv6 } } : {}),
        connections: connFaults.count(d.id),
        latencyMs: latency.get(d.id) ?? 0,
      })),
      ...(cdnEndpoint ? { cdn: { id: CDN_DC_ID, ...cdnEndpoint, connections: connFaults.count(CDN_DC_ID) } } : {}),
      layers: codecs.layers(),
      saltPeriodSeconds,
      idleTimeoutSeconds,
      maxConnectionsPerAddress: maxPerAddress,
      config: { ttlSeconds: configExpiry.ttlSeconds, expires: configExpiry.current() },
      floodLimits: world.limits.describe(),
      faults: { ...api.faults.list(), ...connFaults.list() },
    }),
    dropAuthKeys: (dcId) => world.dropAuthKeys(dcId),
    revokeAuthorizations: (phone, dcId) => world.revokeAuthorizations(phone, dcId),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await control?.close();
      await stopAll();
      world.close();
      fileStore.close();
      log('sandbox stopped');
    },
  };

  if (opts.control !== false) {
    try {
      control = await startControlServer(sandbox, { log });
    } catch (e) {
      await stopAll();
      throw e;
    }
    const endpoint: ControlEndpoint = { host: control.host, port: control.port, token: control.token };
    sandbox.control = endpoint;
    info.control = endpoint;
    log(`control channel on ${control.host}:${control.port} (its token is in the info file)`);
  }
  if (opts.infoFile) {
    writeInfo();
    log(`info file written: ${opts.infoFile}`);
  }
  return sandbox;
}
export type { FaultRule } from './faults';
