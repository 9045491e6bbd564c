// DcPool: the registry of DcConnections, one per DC (dc-connection.ts owns connecting, reconnecting, the key and
// what transport errors mean). It keeps the topology the connections read their endpoints from, knows which DCs
// have a stored key, and repeats a call once on a new key when a DC really lost the old one (−404 twice).
import { TransportError } from '../mtproto/errors';
import type { MtprotoSession } from '../mtproto/session';
import type { TlObject } from '../tl/types';
import { DcConnection, type DcConnectionTuning, type DcKeyRecord, type DcKeyStore, type DcConnectionInfo, type DcPoolEvent } from './dc-connection';
import { DcError } from './errors';
import type { Profile } from './profile';
import type { Topology } from './topology';

export type { DcKeyRecord, DcKeyStore, DcPoolEvent, DcPoolEventType, DcConnectionInfo } from './dc-connection';

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

export interface DcPoolOptions extends DcConnectionTuning {
  profile: Profile;
  keys?: DcKeyStore;
  onEvent?: (e: DcPoolEvent) => void;
}

export class DcPool {
  readonly profile: Profile;
  private readonly keys: DcKeyStore;
  private readonly opts: DcPoolOptions;
  private readonly conns = new Map<number, DcConnection>();
  private readonly keyKnown = new Map<number, boolean>();
  private readonly latencies = new Map<number, number>();
  private topo: Topology | undefined;
  private closedAll = false;

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
    return this.conns.get(dcId)?.connected ?? false;
  }

  /** What DC `dcId`'s connection is doing and which endpoint it uses. */
  connectionInfo(dcId: number): DcConnectionInfo | undefined {
    return this.conns.get(dcId)?.info;
  }

  latency(dcId: number): number | undefined {
    return this.latencies.get(dcId);
  }

  /** DCs with a live connection. */
  connectedDcs(): number[] {
    return [...this.conns.keys()].filter((d) => this.isConnected(d)).sort((a, b) => a - b);
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
    if (e.type === 'key-created' || e.type === 'key-reused') this.keyKnown.set(e.dcId, true);
    if (e.type === 'key-dropped') this.keyKnown.set(e.dcId, false);
    try {
      this.opts.onEvent?.(e);
    } catch {
      // observers must not break the pool
    }
  }

  private connection(dcId: number): DcConnection {
    let c = this.conns.get(dcId);
    if (!c) {
      const { profile: _profile, keys: _keys, onEvent: _onEvent, ...tuning } = this.opts;
      c = new DcConnection(dcId, { ...tuning, profile: this.profile, keys: this.keys, topology: () => this.topo, emit: (e) => this.emit(e) });
      this.conns.set(dcId, c);
    }
    return c;
  }

  /** A connected session for the DC: the live one, the one being (re)connected, or a new one. */
  get(dcId: number, opts: { parentId?: number } = {}): Promise<MtprotoSession> {
    if (this.closedAll) return Promise.reject(new DcError('CLOSED', dcId, `the DC pool is closed (DC ${dcId})`));
    return this.connection(dcId).get(opts.parentId);
  }

  /**
   * invoke() on the DC's session. When the DC really lost the key (the connection reported −404 twice), the
   * call fails with that −404: a new key is made and the call repeated once. Other errors propagate.
   */
  async invoke<T = unknown>(dcId: number, method: TlObject, opts: { parentId?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const pid = opts.parentId !== undefined ? { parentId: opts.parentId } : {};
    const inv = { ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    const session = await this.get(dcId, pid);
    try {
      return await session.invoke<T>(method, inv);
    } catch (e) {
      if (!(e instanceof TransportError) || e.code !== -404) throw e;
      const again = await this.get(dcId, pid);
      return await again.invoke<T>(method, inv);
    }
  }

  /** The DC's next call re-sends initConnection (the server answered CONNECTION_NOT_INITED). */
  requireInit(dcId: number): void {
    this.conns.get(dcId)?.current?.requireInit();
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

  /** Forgets the DC's key (store + live session); the next get() creates a new one. */
  async dropKey(dcId: number, reason = 'dropped', parentId?: number): Promise<void> {
    this.conns.get(dcId)?.forgetKey(reason);
    await this.keys.dropKey(dcId);
    this.emit({ type: 'key-dropped', dcId, reason, ...(parentId !== undefined ? { parentId } : {}) });
  }

  /** destroy_auth_key on the DC (the DC forgets the key), then the key is dropped here too. */
  async destroyKey(dcId: number, parentId?: number): Promise<string> {
    const s = await this.get(dcId, parentId !== undefined ? { parentId } : {});
    let answer: string;
    try {
      answer = await s.destroyAuthKey({ timeoutMs: 10_000 });
    } catch (e) {
      answer = `no answer (${e instanceof Error ? e.message : String(e)})`;
    }
    await this.dropKey(dcId, `destroy_auth_key: ${answer}`, parentId);
    return answer;
  }

  /** Saves the live sessions' current salt and time offset with their keys (called by close()). */
  async persistSessions(): Promise<void> {
    await Promise.all(
      [...this.conns.entries()].map(([dcId, c]) => {
        const s = c.current;
        const key = c.key;
        if (!s || !key) return Promise.resolve();
        return this.keys.saveKey(dcId, { authKey: key, serverSalt: s.serverSalt, timeOffset: s.timeOffset }).catch(() => undefined);
      }),
    );
  }

  /** Closes one DC's session, or all of them (and the pool) when dcId is absent. */
  close(dcId?: number): void {
    if (dcId !== undefined) {
      this.conns.get(dcId)?.close('closed by the pool');
      return;
    }
    this.closedAll = true;
    for (const [, c] of this.conns) c.close('pool closed', true);
  }
}
