// startSandbox: the multi-DC MTProto server on loopback. DCs 1..5 each listen on their own port (basePort + n,
// or an ephemeral port when basePort is 0) on the IPv4 host and, when it works, on ::1; every DC has its own
// auth-key store; all share one World (users, codes, authorizations). Transports are auto-detected per
// connection (listenFrames); the encrypted session is run by serveMtprotoLink with the API handler of api.ts.
import type { FaultRule } from './faults';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RsaPublicKey } from '../crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../crypto/dh';
import { API_LAYER } from '../tl/bundled';
import { listenFrames, type FrameListener, type ServerFrameLink } from '../transport/tcp';
import { ServerHandshake } from '../mtproto/handshake-server';
import { serveMtprotoLink } from '../mtproto/session-server';
import type { WireEvent } from '../mtproto/wire-event';
import { SandboxApi } from './api';
import type { DcEndpoint } from './config';
import { LayerCodecs, type ExtraSchema } from './layers';
import { SANDBOX_DC_IDS, isSandboxDc } from './phones';
import { defaultDataDir, loadOrCreateRsaKey } from './rsa-key';
import { World, type InboxEntry, type SandboxUser } from './world';
import { CDN_DC_ID, FileStore, fileMethods, filePartGzipPolicy, type SandboxFileInfo } from './files';
import { CDN_RSA_KEY_FILE, cdnHandler, cdnLinkServer } from './cdn';
import { ConnectionFaults } from './net-faults';

export { World } from './world';
export { SandboxApi, METHODS, METHODS_BEFORE_AUTH } from './api';
export { SandboxRpcError, METHOD_NOT_SUPPORTED, methodNotSupported } from './errors';
export { LayerCodecs } from './layers';
export { TEST_PASSWORD, testPhoneCode, testPhoneDc } from './phones';
export { CDN_DC_ID, FileStore, type SandboxFileInfo } from './files';

/** CLI default: DC n listens on 20440 + n (20441..20445), below 32768 so GramJS's StringSession can store it. */
export const DEFAULT_BASE_PORT = 20440;

export interface SandboxOptions {
  /** IPv4 (or any) listen address, default 127.0.0.1. */
  host?: string;
  /** Also listen on ::1 (default true; skipped silently when IPv6 is unavailable). */
  ipv6?: boolean;
  /** DC n listens on basePort + n; 0 = an ephemeral port per DC. Default DEFAULT_BASE_PORT. */
  basePort?: number;
  /** Where rsa-private.pem lives, default ~/.dclab/sandbox. */
  dataDir?: string;
  /** Write SandboxInfo JSON here. */
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
}

export interface SandboxInfo {
  dcs: { id: number; host: string; port: number; ipv6?: { host: string; port: number } }[];
  rsa: { pem: string; fingerprint: string };
  /** The CDN DC (issue 4): not one of `dcs`. */
  cdn?: { id: number; host: string; port: number; rsa: { pem: string; fingerprint: string } };
  /** The seeded files (issue 4). */
  files?: SandboxFileInfo[];
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
  // ---- issue 4: files and CDN (see docs/contracts.md) ----
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
  /** Closes the live connections of one DC, or of all; returns how many. */
  dropConnections(dcId?: number): number;
  clearConnectionFaults(): void;
  /** Closes every listener and connection and listens again on the same ports (world and keys kept). */
  restartListeners(): Promise<void>;
}

function advertisedHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '127.0.0.1';
  const basePort = opts.basePort ?? DEFAULT_BASE_PORT;
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + 5 > 65535) throw new RangeError(`invalid base port ${basePort}`);
  const dataDir = opts.dataDir ?? defaultDataDir();

  const { pair, created, path: keyPath } = loadOrCreateRsaKey(dataDir);
  const fingerprint = pair.publicKey.fingerprint.toString();
  log(`RSA key ${created ? 'generated and saved to' : 'loaded from'} ${keyPath}`);
  log(`RSA fingerprint ${fingerprint}`);
  log(`RSA public key:\n${pair.publicPem.trim()}`);

  const codecs = new LayerCodecs(opts.extraSchemas ?? []);
  const world = new World({ nearestDc: opts.nearestDc ?? 2, log });
  const latency = new Map<number, number>();
  for (const [dc, ms] of Object.entries(opts.latencyMs ?? {})) latency.set(Number(dc), Math.max(0, Number(ms) || 0));

  const endpoints: DcEndpoint[] = [];
  const cdnOn = opts.cdn !== false;
  const cdnKey = cdnOn ? loadOrCreateRsaKey(dataDir, CDN_RSA_KEY_FILE) : undefined;
  if (cdnKey) log(`CDN DC${CDN_DC_ID}: RSA key ${cdnKey.created ? 'generated and saved to' : 'loaded from'} ${cdnKey.path}`);
  let cdnEndpoint: { host: string; port: number } | undefined;
  const fileStore = new FileStore({ log });
  const connFaults = new ConnectionFaults(log);
  const methods = fileMethods(fileStore, { cdnEndpoint: () => cdnEndpoint, cdnPublicPem: () => cdnKey?.pair.publicPem });
  const api = new SandboxApi(world, { topology: () => endpoints, log, methods });
  const listeners: FrameListener[] = [];
  /** Every listener's address and link server, for restartListeners(). */
  const specs: { host: string; port: number; latencyDc: number; onLink: (link: ServerFrameLink) => void }[] = [];
  const listen = async (listenHost: string, port: number, dcId: number, onLink: (link: ServerFrameLink) => void): Promise<FrameListener> => {
    const l = await listenFrames({ host: listenHost, port, latencyMs: () => latency.get(dcId) ?? 0 }, onLink);
    specs.push({ host: listenHost, port: l.port, latencyDc: dcId, onLink });
    return l;
  };
  let connSeq = 0;

  const serve = (dcId: number, link: ServerFrameLink): void => {
    connFaults.wrap(dcId, link);
    const connId = `dc${dcId}-${++connSeq}`;
    log(`DC${dcId}: ${connId} from ${link.remote} (${link.obfuscated ? 'obfuscated ' : ''}${link.transport})`);
    link.once('close', (reason: string) => log(`DC${dcId}: ${connId} closed (${reason})`));
    try {
      const gzip = filePartGzipPolicy(api.handle);
      const served: unknown = serveMtprotoLink(link, {
        dcId,
        keyStore: world.keyStore(dcId),
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
    await Promise.all(listeners.splice(0).map((l) => l.close().catch(() => undefined)));
  };

  try {
    const v4Host = advertisedHost(host);
    for (const dcId of SANDBOX_DC_IDS) {
      const l = await listen(host, basePort ? basePort + dcId : 0, dcId, (link) => serve(dcId, link));
      listeners.push(l);
      endpoints.push({ id: dcId, host: v4Host, port: l.port });
    }
    if (opts.ipv6 !== false && host !== '::1') {
      const v6: FrameListener[] = [];
      try {
        for (const dcId of SANDBOX_DC_IDS) {
          v6.push(await listen('::1', basePort ? basePort + dcId : 0, dcId, (link) => serve(dcId, link)));
        }
        listeners.push(...v6);
        v6.forEach((l, i) => (endpoints[i]!.ipv6 = { host: '::1', port: l.port }));
      } catch (e) {
        await Promise.all(v6.map((l) => l.close().catch(() => undefined)));
        specs.splice(SANDBOX_DC_IDS.length);
        log(`IPv6: not listening on ::1 (${errorText(e)})`);
      }
    }
    if (cdnKey) {
      const onLink = cdnLinkServer({
        pair: cdnKey.pair,
        keyStore: world.keyStore(CDN_DC_ID),
        codecs,
        handler: cdnHandler(fileStore, log),
        log,
        ...(opts.onWire ? { onWire: opts.onWire } : {}),
        wrap: (link) => connFaults.wrap(CDN_DC_ID, link),
      });
      const cdnPort = basePort && basePort + CDN_DC_ID <= 65535 ? basePort + CDN_DC_ID : 0;
      const l = await listen(host, cdnPort, CDN_DC_ID, onLink);
      listeners.push(l);
      cdnEndpoint = { host: v4Host, port: l.port };
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  const info: SandboxInfo = {
    dcs: endpoints.map((d) => ({ id: d.id, host: d.host, port: d.port, ...(d.ipv6 ? { ipv6: { ...d.ipv6 } } : {}) })),
    rsa: { pem: pair.publicPem, fingerprint },
    ...(cdnKey && cdnEndpoint
      ? { cdn: { id: CDN_DC_ID, host: cdnEndpoint.host, port: cdnEndpoint.port, rsa: { pem: cdnKey.pair.publicPem, fingerprint: cdnKey.pair.publicKey.fingerprint.toString() } } }
      : {}),
    files: fileStore.files(),
  };
  if (info.cdn) log(`CDN DC${CDN_DC_ID}: listening on ${info.cdn.host}:${info.cdn.port}, RSA fingerprint ${info.cdn.rsa.fingerprint}`);
  for (const d of info.dcs) log(`DC${d.id}: listening on ${d.host}:${d.port}${d.ipv6 ? ` and [${d.ipv6.host}]:${d.ipv6.port}` : ''}`);
  log(`API layers served: ${codecs.layers().join(', ')} (default ${API_LAYER}); nearest DC ${world.nearestDc}`);
  if (opts.infoFile) {
    mkdirSync(dirname(opts.infoFile), { recursive: true });
    writeFileSync(opts.infoFile, JSON.stringify(info, null, 2) + '\n');
    log(`info file written: ${opts.infoFile}`);
  }

  let stopped = false;
  return {
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
      api.faults.add(rule);
      log(`fault: ${rule.method}${rule.dcId ? ` on DC${rule.dcId}` : ''} → ${rule.error} (${rule.times ?? 1}×)`);
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
      const n = connFaults.dropAll(dcId);
      log(`fault: dropped ${n} connection(s)${dcId === undefined ? '' : ` of DC${dcId}`}`);
      return n;
    },
    clearConnectionFaults: () => connFaults.clear(),
    restartListeners: async () => {
      if (stopped) throw new Error('the sandbox is stopped');
      await stopAll();
      for (const sp of specs) {
        listeners.push(await listenFrames({ host: sp.host, port: sp.port, latencyMs: () => latency.get(sp.latencyDc) ?? 0 }, sp.onLink));
      }
      log('listeners restarted on the same ports');
    },
    dropAuthKeys: (dcId) => world.dropAuthKeys(dcId),
    revokeAuthorizations: (phone, dcId) => world.revokeAuthorizations(phone, dcId),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopAll();
      log('sandbox stopped');
    },
  };
}
export type { FaultRule } from './faults';
