// DcPool: one live MtprotoSession per DC. Reuses a live session; one connect+handshake in flight per DC (concurrent
// get()s share it); a stored key is reused with no handshake; a new key is saved through the DcKeyStore. A −404
// transport error (the DC does not know the key) drops the key and the next get() makes a new one.
import { createAuthKey } from '../mtproto/handshake-client';
import { DEFAULT_INIT_CONNECTION } from '../mtproto/client';
import { TransportError } from '../mtproto/errors';
import { MsgIdClock } from '../mtproto/msg-id';
import { MtprotoSession } from '../mtproto/session';
import { randomLong } from '../mtproto/service-messages';
import { newConnId, type WireEvent } from '../mtproto/wire-event';
import type { TlObject } from '../tl/types';
import { connectTcp } from '../transport/tcp';
import { DcError, errorText } from './errors';
import { dcAddress, handshakeDcId, type Profile } from './profile';
import type { Topology } from './topology';

export interface DcKeyRecord {
  authKey: Uint8Array;
  serverSalt?: bigint;
  timeOffset?: number;
}

export interface DcKeyStore {
  loadKey(dcId: number): Promise<DcKeyRecord | undefined>;
  saveKey(dcId: number, rec: DcKeyRecord): Promise<void>;
  dropKey(dcId: number): Promise<void>;
}

export function memoryKeyStore(): DcKeyStore & { readonly size: number } {
  const keys = new Map<number, DcKeyRecord>();
  return {
    get size() {
      return keys.size;
    },
    loadKey: async (dcId) => {
      const r = keys.get(dcId);
      return r ? { ...r } : undefined;
    },
    saveKey: async (dcId, rec) => void keys.set(dcId, { ...rec }),
    dropKey: async (dcId) => void keys.delete(dcId),
  };
}

export type DcPoolEventType = 'connecting' | 'connected' | 'key-creating' | 'key-created' | 'key-reused' | 'key-dropped' | 'closed' | 'latency';

export interface DcPoolEvent {
  type: DcPoolEventType;
  dcId: number;
  connId?: string;
  parentId?: number;
  roundTrips?: number;
  ms?: number;
  reason?: string;
  /** host:port connected to ('connecting' / 'connected'). */
  address?: string;
}

export interface DcPoolOptions {
  profile: Profile;
  keys?: DcKeyStore;
  onEvent?: (e: DcPoolEvent) => void;
  onWire?: (e: WireEvent) => void;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  callTimeoutMs?: number;
}

interface Live {
  session: MtprotoSession;
  authKey: Uint8Array;
}

export class DcPool {
  readonly profile: Profile;
  private readonly keys: DcKeyStore;
  private readonly opts: DcPoolOptions;
  private readonly live = new Map<number, Live>();
  private readonly opening = new Map<number, Promise<MtprotoSession>>();
  private readonly keyKnown = new Map<number, boolean>();
  private readonly latencies = new Map<number, number>();
  private topo: Topology | undefined;
  private closedAll = false;
  /** Key drops under way (a −404 seen on a live session): open() and invoke() wait for them. */
  private readonly dropping = new Map<number, Promise<void>>();
  private readonly dropParents = new Map<number, number>();

  constructor(opts: DcPoolOptions) {
    this.opts = opts;
    this.profile = opts.profile;
    this.keys = opts.keys ?? memoryKeyStore();
  }

  get topology(): Topology | undefined {
    return this.topo;
  }

  setTopology(t: Topology): void {
    this.topo = t;
  }

  /** Whether a key for the DC is stored (undefined until the pool looked or was told). */
  hasKey(dcId: number): boolean | undefined {
    return this.keyKnown.get(dcId);
  }

  isConnected(dcId: number): boolean {
    const l = this.live.get(dcId);
    return !!l && !l.session.closed;
  }

  latency(dcId: number): number | undefined {
    return this.latencies.get(dcId);
  }

  /** DCs with a live session. */
  connectedDcs(): number[] {
    return [...this.live.keys()].filter((d) => this.isConnected(d)).sort((a, b) => a - b);
  }

  /** Tells the pool which DCs have a stored key (e.g. from the store's key list), without loading the keys. */
  noteStoredKeys(dcIds: number[]): void {
    for (const d of dcIds) if (!this.keyKnown.has(d)) this.keyKnown.set(d, true);
  }

  /** Looks up (and remembers) whether a key is stored for the DC, without connecting. */
  async peekKey(dcId: number): Promise<boolean> {
    const has = (await this.keys.loadKey(dcId)) !== undefined;
    this.keyKnown.set(dcId, has);
    return has;
  }

  private emit(e: DcPoolEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // observers must not break the pool
    }
  }

  /** A ready session for the DC: the live one, the one being opened, or a new one. */
  get(dcId: number, opts: { parentId?: number } = {}): Promise<MtprotoSession> {
    if (this.closedAll) return Promise.reject(new DcError('CLOSED', dcId, `the DC pool is closed (DC ${dcId})`));
    const l = this.live.get(dcId);
    if (l && !l.session.closed) return Promise.resolve(l.session);
    const inflight = this.opening.get(dcId);
    if (inflight) return inflight;
    const p = this.open(dcId, opts.parentId).finally(() => {
      if (this.opening.get(dcId) === p) this.opening.delete(dcId);
    });
    this.opening.set(dcId, p);
    return p;
  }

  private async open(dcId: number, parentId: number | undefined): Promise<MtprotoSession> {
    const addr = dcAddress(this.profile, dcId, this.topo);
    const address = addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
    const connId = newConnId(dcId);
    const pid = parentId !== undefined ? { parentId } : {};
    await this.dropping.get(dcId);
    const stored = await this.keys.loadKey(dcId);
    this.keyKnown.set(dcId, stored !== undefined);
    this.emit({ type: 'connecting', dcId, connId, address, ...pid });
    let link;
    try {
      link = await connectTcp({
        host: addr.host,
        port: addr.port,
        transport: this.profile.transport,
        ...(this.opts.connectTimeoutMs ? { timeoutMs: this.opts.connectTimeoutMs } : {}),
      });
    } catch (e) {
      throw new DcError('CONNECT_FAILED', dcId, `DC ${dcId}: ${errorText(e)}`);
    }
    if (this.closedAll) {
      link.close('pool closed');
      throw new DcError('CLOSED', dcId, `the DC pool was closed while connecting to DC ${dcId}`);
    }
    this.emit({ type: 'connected', dcId, connId, address, ...pid });
    try {
      const clock = new MsgIdClock({ timeOffset: stored?.timeOffset ?? 0 });
      let authKey: Uint8Array;
      let salt: bigint;
      if (stored) {
        authKey = stored.authKey;
        salt = stored.serverSalt ?? randomLong();
        this.emit({ type: 'key-reused', dcId, connId, ...pid });
      } else {
        this.emit({ type: 'key-creating', dcId, connId, ...pid });
        let res;
        try {
          res = await createAuthKey(link, {
            dcId: handshakeDcId(this.profile, dcId),
            rsaKeys: this.profile.rsaKeys,
            clock,
            connId,
            ...(this.opts.onWire ? { onWire: this.opts.onWire } : {}),
            ...(this.opts.handshakeTimeoutMs ? { timeoutMs: this.opts.handshakeTimeoutMs } : {}),
          });
        } catch (e) {
          throw new DcError('KEY_FAILED', dcId, `auth key creation on DC ${dcId} failed: ${errorText(e)}`);
        }
        authKey = res.authKey;
        salt = res.serverSalt;
        clock.timeOffset = res.timeOffset;
        clock.synced = true;
        await this.keys.saveKey(dcId, { authKey, serverSalt: salt, timeOffset: res.timeOffset });
        this.keyKnown.set(dcId, true);
        this.emit({ type: 'key-created', dcId, connId, roundTrips: res.roundTrips, ...pid });
      }
      if (this.closedAll) throw new DcError('CLOSED', dcId, `the DC pool was closed while opening DC ${dcId}`);
      const session = new MtprotoSession(link, {
        dcId,
        authKey,
        serverSalt: salt,
        clock,
        connId,
        initConnection: { ...DEFAULT_INIT_CONNECTION, ...this.profile.initConnection, api_id: this.profile.apiId },
        ...(this.opts.onWire ? { onWire: this.opts.onWire } : {}),
        ...(this.opts.callTimeoutMs !== undefined ? { timeoutMs: this.opts.callTimeoutMs } : {}),
      });
      this.live.set(dcId, { session, authKey });
      // −404: the DC does not know this key. Drop it before the close is reported, so the close reads as
      // "key dropped" (→ a new key) rather than as a lost connection that would reconnect with the stale key.
      // The session fails its pending calls with the TransportError and closes itself; the close is then reported
      // as "key dropped", which the session actor leaves to the following key-dropped event.
      let keyUnknown = false;
      session.once('transport-error', (code: number) => {
        if (code !== -404 || this.live.get(dcId)?.session !== session) return;
        keyUnknown = true;
        this.live.delete(dcId);
        void this.dropKeyOnce(dcId, 'transport error -404 (auth key unknown to the DC)', undefined, true);
      });
      session.once('close', (reason: string) => {
        if (this.live.get(dcId)?.session === session) this.live.delete(dcId);
        this.emit({ type: 'closed', dcId, connId, reason: keyUnknown ? `key dropped: ${reason}` : reason });
      });
      return session;
    } catch (e) {
      link.close(`setup failed: ${errorText(e)}`);
      throw e;
    }
  }

  /**
   * invoke() on the DC's session. A −404 (key unknown to the DC) drops the stored key, makes a new one and repeats
   * the call once. Other errors (RpcError, TransportError, SessionClosedError, …) propagate.
   */
  async invoke<T = unknown>(dcId: number, method: TlObject, opts: { parentId?: number; timeoutMs?: number } = {}): Promise<T> {
    const pid = opts.parentId !== undefined ? { parentId: opts.parentId } : {};
    const inv = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
    const session = await this.get(dcId, pid);
    try {
      return await session.invoke<T>(method, inv);
    } catch (e) {
      if (!(e instanceof TransportError) || e.code !== -404) throw e;
      await this.dropKeyOnce(dcId, `transport error -404 during ${method._}`, opts.parentId);
      const again = await this.get(dcId, pid);
      return await again.invoke<T>(method, inv);
    }
  }

  /** The DC's next call re-sends initConnection (the server answered CONNECTION_NOT_INITED). */
  requireInit(dcId: number): void {
    const l = this.live.get(dcId);
    if (l && !l.session.closed) l.session.requireInit();
  }

  /** ping → pong round trip in ms (recorded as the DC's latency). */
  async ping(dcId: number, opts: { parentId?: number } = {}): Promise<number> {
    const s = await this.get(dcId, opts);
    const ms = await s.ping();
    this.latencies.set(dcId, ms);
    this.emit({ type: 'latency', dcId, connId: s.connId, ms, ...(opts.parentId !== undefined ? { parentId: opts.parentId } : {}) });
    return ms;
  }

  /** Connects (and creates keys where missing) for several DCs in parallel. */
  async prewarm(dcIds: number[], opts: { parentId?: number } = {}): Promise<Map<number, 'created' | 'reused' | Error>> {
    const out = new Map<number, 'created' | 'reused' | Error>();
    await Promise.all(
      [...new Set(dcIds)].map(async (dcId) => {
        const had = this.isConnected(dcId) || (await this.peekKey(dcId));
        try {
          await this.get(dcId, opts);
          out.set(dcId, had ? 'reused' : 'created');
        } catch (e) {
          out.set(dcId, e instanceof Error ? e : new Error(String(e)));
        }
      }),
    );
    return out;
  }

  /**
   * dropKey, shared by everyone who saw the same −404 (the session's event and the failed calls). The session's
   * event comes first but knows no call; it is deferred past the microtasks in which the failed calls report
   * theirs, so the key-dropped event links to the call that hit the −404.
   */
  private dropKeyOnce(dcId: number, reason: string, parentId?: number, deferred = false): Promise<void> {
    if (parentId !== undefined && !this.dropParents.has(dcId)) this.dropParents.set(dcId, parentId);
    const pending = this.dropping.get(dcId);
    if (pending) return pending;
    const start = deferred ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve();
    const p: Promise<void> = start
      .then(() => this.dropKey(dcId, reason, this.dropParents.get(dcId)))
      .finally(() => {
        if (this.dropping.get(dcId) === p) this.dropping.delete(dcId);
        this.dropParents.delete(dcId);
      });
    this.dropping.set(dcId, p);
    return p;
  }

  /** Forgets the DC's key (store + live session); the next get() creates a new one. */
  async dropKey(dcId: number, reason = 'dropped', parentId?: number): Promise<void> {
    const l = this.live.get(dcId);
    this.live.delete(dcId);
    l?.session.close(`key dropped: ${reason}`);
    await this.keys.dropKey(dcId);
    this.keyKnown.set(dcId, false);
    this.emit({ type: 'key-dropped', dcId, reason, ...(parentId !== undefined ? { parentId } : {}) });
  }

  /** Saves the live sessions' current salt and time offset with their keys (called by close()). */
  async persistSessions(): Promise<void> {
    await Promise.all(
      [...this.live.entries()].map(([dcId, l]) =>
        this.keys.saveKey(dcId, { authKey: l.authKey, serverSalt: l.session.serverSalt, timeOffset: l.session.timeOffset }).catch(() => undefined),
      ),
    );
  }

  /** Closes one DC's session, or all of them (and the pool) when dcId is absent. */
  close(dcId?: number): void {
    if (dcId !== undefined) {
      const l = this.live.get(dcId);
      this.live.delete(dcId);
      l?.session.close('closed by the pool');
      return;
    }
    this.closedAll = true;
    for (const [, l] of this.live) l.session.close('pool closed');
    this.live.clear();
  }
}
