// DcConnection: everything about reaching one DC. It owns the DC's MtprotoSession (which outlives connections),
// tries the DC's endpoints in order, makes the auth key when none is stored, reconnects with backoff and jitter
// when the connection is lost (the session re-sends what was unanswered), and decides what a transport error
// means:
// - −404 once is noise until proven otherwise (DCs send it while restarting): a fresh connection probes the key;
//   only a second −404 in a row, with no message decrypted in between, means the key is gone — then the key is
//   dropped with that reason and the pending calls fail with the −404 (the pool makes a new key and repeats them).
// - −429 (transport flood) backs off before the next connection; −444 (invalid DC) ends the session.
// When every endpoint fails, the owner is asked for a fresh topology (help.getConfig through another DC) once.
import { createAuthKey, type AuthKeyResult } from '../mtproto/handshake-client';
import { HandshakeError } from '../mtproto/handshake-errors';
import { DEFAULT_INIT_CONNECTION } from '../mtproto/client';
import { SessionClosedError, TransportError } from '../mtproto/errors';
import { MsgIdClock } from '../mtproto/msg-id';
import { MtprotoSession } from '../mtproto/session';
import { randomLong } from '../mtproto/service-messages';
import { newConnId, type WireEvent } from '../mtproto/wire-event';
import { connectTcp, formatHostPort, type TcpLink } from '../transport/tcp';
import { DcError, errorText } from './errors';
import { dcEndpoints, handshakeDcId, type DcEndpointChoice, type Profile } from './profile';
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

export type DcPoolEventType =
  | 'connecting'
  | 'connected'
  | 'endpoint-failed'
  | 'key-creating'
  | 'key-created'
  | 'key-reused'
  | 'key-dropped'
  | 'closed'
  | 'reconnecting'
  | 'transport-error'
  | 'new-session'
  | 'latency';

export interface DcPoolEvent {
  type: DcPoolEventType;
  dcId: number;
  connId?: string;
  parentId?: number;
  roundTrips?: number;
  ms?: number;
  reason?: string;
  /** host:port connected to ('connecting' / 'connected' / 'endpoint-failed'). */
  address?: string;
  /** The transport error code ('transport-error'). */
  code?: number;
  /** Reconnect attempt number ('reconnecting'), from 1. */
  attempt?: number;
}

/** How a DC's connections behave; the pool passes its options through. */
export interface DcConnectionTuning {
  onWire?: (e: WireEvent) => void;
  /** Every endpoint of a DC failed: read the config again elsewhere; true when the topology changed. */
  refreshTopology?: (dcId: number, reason: string) => Promise<boolean>;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  callTimeoutMs?: number;
  /** Keepalive interval and read deadline of the sessions (defaults 60 s / 20 s; see MtprotoSessionOptions). */
  pingIntervalMs?: number;
  readTimeoutMs?: number;
  /** Reconnect attempts while calls wait, and connections lost before any answer, before calls fail (default 8). */
  maxReconnectAttempts?: number;
}

export interface DcConnectionDeps extends DcConnectionTuning {
  profile: Profile;
  keys: DcKeyStore;
  topology: () => Topology | undefined;
  emit: (e: DcPoolEvent) => void;
}

/** What a DC's connection is doing, for status views. */
export interface DcConnectionInfo {
  state: 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';
  /** host:port of the connection in use (or last used), with "obfuscated" when it is. */
  endpoint?: string;
  reconnects: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.());

/** The n-th reconnect's delay: 0 first (a dropped connection is usually fine at once), then doubling with jitter. */
export function reconnectDelayMs(attempt: number, code?: number): number {
  const base = code === -429 ? 1000 : 250;
  if (attempt === 0 && code !== -429) return Math.floor(Math.random() * 50);
  const ms = Math.min(10_000, base * 2 ** Math.max(0, attempt - (code === -429 ? 0 : 1)));
  return Math.floor(ms * (0.5 + Math.random()));
}

export class DcConnection {
  readonly dcId: number;
  private readonly deps: DcConnectionDeps;
  private session: MtprotoSession | undefined;
  private opening: Promise<MtprotoSession> | undefined;
  private reconnecting: Promise<MtprotoSession> | undefined;
  private authKey: Uint8Array | undefined;
  private endpointText: string | undefined;
  private reconnects = 0;
  private lastTransportError: number | undefined;
  /** −404s since a message last decrypted on this DC. */
  private unknownKeyStrikes = 0;
  /** Connections lost since a query was last answered: a fault that never goes away must end in an error. */
  private lossesWithoutAnswer = 0;
  private closedForGood = false;
  /** The trace id of the last call that asked for this DC: what a key drop found later is linked to. */
  private lastCause: number | undefined;

  constructor(dcId: number, deps: DcConnectionDeps) {
    this.dcId = dcId;
    this.deps = deps;
  }

  get info(): DcConnectionInfo {
    const state: DcConnectionInfo['state'] = this.closedForGood
      ? 'closed'
      : this.reconnecting
        ? 'reconnecting'
        : this.opening
          ? 'connecting'
          : this.session?.connected
            ? 'ready'
            : 'idle';
    return { state, reconnects: this.reconnects, ...(this.endpointText ? { endpoint: this.endpointText } : {}) };
  }

  get connected(): boolean {
    return !!this.session?.connected;
  }

  /** The live session, if any (connected or waiting for a reconnect). */
  get current(): MtprotoSession | undefined {
    return this.session && !this.session.closed ? this.session : undefined;
  }

  /**
   * A session with a connection: the live one, the one being opened or reconnected, or a new one (stored key
   * reused, else a key exchange).
   */
  get(parentId?: number): Promise<MtprotoSession> {
    if (this.closedForGood) return Promise.reject(new DcError('CLOSED', this.dcId, `the DC pool is closed (DC ${this.dcId})`));
    if (parentId !== undefined) this.lastCause = parentId;
    const s = this.current;
    if (s) {
      if (s.connected) return Promise.resolve(s);
      return this.reconnecting ?? this.startReconnect(s, parentId);
    }
    if (this.opening) return this.opening;
    const p = this.open(parentId).finally(() => {
      if (this.opening === p) this.opening = undefined;
    });
    this.opening = p;
    return p;
  }

  /** Ends the session (pending calls fail) without dropping the key. */
  close(reason: string, forGood = false): void {
    if (forGood) this.closedForGood = true;
    const s = this.session;
    this.session = undefined;
    s?.close(reason);
  }

  /** Forgets the session and the key it used (the caller drops the stored key). */
  forgetKey(reason: string): void {
    this.authKey = undefined;
    this.close(`key dropped: ${reason}`);
  }

  private emit(e: Omit<DcPoolEvent, 'dcId'>): void {
    this.deps.emit({ dcId: this.dcId, ...e });
  }

  private pid(parentId: number | undefined): { parentId?: number } {
    return parentId !== undefined ? { parentId } : {};
  }

  /** Connects to the first endpoint that answers; every endpoint failing asks for a fresh topology once. */
  private async connectAny(connId: string, parentId: number | undefined): Promise<{ link: TcpLink; endpoint: DcEndpointChoice }> {
    const tried: string[] = [];
    let refreshed = false;
    for (;;) {
      const list = dcEndpoints(this.deps.profile, this.dcId, this.deps.topology());
      for (const ep of list) {
        const address = formatHostPort(ep.host, ep.port);
        if (tried.includes(address)) continue;
        tried.push(address);
        this.emit({ type: 'connecting', connId, address, ...this.pid(parentId) });
        try {
          const link = await this.dial(ep);
          if (this.closedForGood) {
            link.close('pool closed');
            throw new DcError('CLOSED', this.dcId, `the DC pool was closed while connecting to DC ${this.dcId}`);
          }
          this.endpointText = `${address}${ep.obfuscated ? ' (obfuscated)' : ''}`;
          this.emit({ type: 'connected', connId, address, ...this.pid(parentId) });
          return { link, endpoint: ep };
        } catch (e) {
          if (e instanceof DcError) throw e;
          this.emit({ type: 'endpoint-failed', connId, address, reason: errorText(e), ...this.pid(parentId) });
        }
      }
      if (refreshed || !this.deps.refreshTopology) break;
      refreshed = true;
      const changed = await this.deps.refreshTopology(this.dcId, `every endpoint of DC ${this.dcId} failed (${tried.join(', ')})`).catch(() => false);
      if (!changed) break;
    }
    throw new DcError('CONNECT_FAILED', this.dcId, `DC ${this.dcId}: no endpoint answered (tried ${tried.join(', ')})`);
  }

  private dial(ep: DcEndpointChoice): Promise<TcpLink> {
    const profile = this.deps.profile;
    // obfuscated2 carries abridged/intermediate/padded only: the full transport falls back to intermediate
    const transport = ep.obfuscated && profile.transport === 'full' ? 'intermediate' : profile.transport;
    return connectTcp({
      host: ep.host,
      port: ep.port,
      transport,
      ...(ep.obfuscated ? { obfuscated: ep.secret ? { secret: ep.secret } : true, dcId: handshakeDcId(profile, this.dcId) } : {}),
      ...(this.deps.connectTimeoutMs ? { timeoutMs: this.deps.connectTimeoutMs } : {}),
    });
  }

  /**
   * A connection with a new auth key. −429 during the key exchange (a new connection is where a DC refuses a
   * flood) and a connection lost in the middle of it are retried on a fresh connection after the same backoff as a
   * reconnect; other failures (checks, the RSA key, timeouts) fail at once.
   */
  private async connectWithNewKey(clock: MsgIdClock, parentId: number | undefined): Promise<{ link: TcpLink; connId: string; res: AuthKeyResult }> {
    const max = this.deps.maxReconnectAttempts ?? 8;
    for (let attempt = 0; ; attempt++) {
      const connId = newConnId(this.dcId);
      const { link } = await this.connectAny(connId, parentId);
      this.emit({ type: 'key-creating', connId, ...this.pid(parentId) });
      try {
        const res = await createAuthKey(link, {
          dcId: handshakeDcId(this.deps.profile, this.dcId),
          rsaKeys: this.deps.profile.rsaKeys,
          clock,
          connId,
          ...(this.deps.onWire ? { onWire: this.deps.onWire } : {}),
          ...(this.deps.handshakeTimeoutMs ? { timeoutMs: this.deps.handshakeTimeoutMs } : {}),
        });
        return { link, connId, res };
      } catch (e) {
        link.close(`auth key creation failed: ${errorText(e)}`);
        const code = e instanceof HandshakeError ? e.transportCode : undefined;
        if (code !== undefined) this.emit({ type: 'transport-error', connId, code, reason: transportMeaning(code) });
        const transient = e instanceof HandshakeError && (code === -429 || (code === undefined && e.reason === 'connection closed'));
        if (!transient || attempt + 1 >= max || this.closedForGood) {
          throw new DcError(
            'KEY_FAILED',
            this.dcId,
            `auth key creation on DC ${this.dcId} failed${attempt ? ` (${attempt + 1} attempts)` : ''}: ${errorText(e)}`,
          );
        }
        const delay = reconnectDelayMs(attempt, code === -429 ? code : undefined);
        this.emit({ type: 'reconnecting', attempt: attempt + 1, ms: delay, ...(code !== undefined ? { code } : {}), ...this.pid(parentId) });
        await sleep(delay);
        if (this.closedForGood) throw new DcError('CLOSED', this.dcId, `the DC pool was closed while connecting to DC ${this.dcId}`);
      }
    }
  }

  private async open(parentId: number | undefined): Promise<MtprotoSession> {
    const stored = await this.deps.keys.loadKey(this.dcId);
    const clock = new MsgIdClock({ timeOffset: stored?.timeOffset ?? 0 });
    let link: TcpLink;
    let connId: string;
    let authKey: Uint8Array;
    let salt: bigint;
    let roundTrips: number | undefined;
    if (stored) {
      connId = newConnId(this.dcId);
      ({ link } = await this.connectAny(connId, parentId));
      authKey = stored.authKey;
      salt = stored.serverSalt ?? randomLong();
      this.emit({ type: 'key-reused', connId, ...this.pid(parentId) });
    } else {
      const made = await this.connectWithNewKey(clock, parentId);
      ({ link, connId } = made);
      authKey = made.res.authKey;
      salt = made.res.serverSalt;
      clock.timeOffset = made.res.timeOffset;
      clock.synced = true;
      roundTrips = made.res.roundTrips;
    }
    try {
      if (!stored) {
        await this.deps.keys.saveKey(this.dcId, { authKey, serverSalt: salt, timeOffset: clock.timeOffset });
        this.emit({ type: 'key-created', connId, ...(roundTrips !== undefined ? { roundTrips } : {}), ...this.pid(parentId) });
      }
      if (this.closedForGood) throw new DcError('CLOSED', this.dcId, `the DC pool was closed while opening DC ${this.dcId}`);
      const profile = this.deps.profile;
      const session = new MtprotoSession(link, {
        dcId: this.dcId,
        authKey,
        serverSalt: salt,
        clock,
        connId,
        initConnection: { ...DEFAULT_INIT_CONNECTION, ...profile.initConnection, api_id: profile.apiId },
        survivesDisconnect: true,
        ...(this.deps.onWire ? { onWire: this.deps.onWire } : {}),
        ...(this.deps.callTimeoutMs !== undefined ? { timeoutMs: this.deps.callTimeoutMs } : {}),
        ...(this.deps.pingIntervalMs !== undefined ? { pingIntervalMs: this.deps.pingIntervalMs } : {}),
        ...(this.deps.readTimeoutMs !== undefined ? { readTimeoutMs: this.deps.readTimeoutMs } : {}),
      });
      this.authKey = authKey;
      this.watch(session);
      this.session = session;
      if (!session.connected) return await this.startReconnect(session, parentId);
      return session;
    } catch (e) {
      link.close(`setup failed: ${errorText(e)}`);
      throw e;
    }
  }

  private watch(session: MtprotoSession): void {
    session.on('transport-error', (code: number) => {
      this.lastTransportError = code;
      this.emit({ type: 'transport-error', connId: session.connId, code, reason: transportMeaning(code) });
    });
    session.on('wire', (e: WireEvent) => {
      // a message that decrypted under this key proves the DC knows it
      if (e.dir === 'in' && e.kind !== 'transport-error' && e.kind !== 'check-failed') this.unknownKeyStrikes = 0;
      if (e.dir === 'in' && e.ctor.startsWith('rpc_result')) this.lossesWithoutAnswer = 0;
    });
    session.on('new-session', (info: { reason?: string; resent?: number }) => {
      this.emit({ type: 'new-session', connId: session.connId, reason: info.reason ?? 'the server started a new session: updates may have been missed' });
    });
    session.on('disconnected', (reason: string) => this.onDisconnected(session, reason));
    session.on('close', (reason: string) => {
      if (this.session === session) this.session = undefined;
      this.emit({ type: 'closed', connId: session.connId, reason });
    });
  }

  private onDisconnected(session: MtprotoSession, reason: string): void {
    if (this.session !== session) return;
    const code = this.lastTransportError;
    this.lastTransportError = undefined;
    this.emit({ type: 'closed', connId: session.connId, reason });
    if (this.closedForGood) return session.close('pool closed');
    if (code === -444) {
      session.failPending((m) => new TransportError(code, this.dcId, m));
      return session.close('transport error -444 (invalid DC id)');
    }
    if (code === -404) {
      this.unknownKeyStrikes += 1;
      if (this.unknownKeyStrikes >= 2) return void this.keyGone(session);
      // probe: a fresh connection, on which the unanswered calls (or a ping) ask again
      void this.startReconnect(session, undefined, code).then(
        (s) => (s.pendingCount === 0 ? s.ping({ timeoutMs: 10_000 }).catch(() => undefined) : undefined),
        () => undefined,
      );
      return;
    }
    this.lossesWithoutAnswer += 1;
    const max = this.deps.maxReconnectAttempts ?? 8;
    if (this.lossesWithoutAnswer >= max && session.pendingCount > 0) {
      // the connection keeps dying before anything is answered: the waiting calls fail instead of looping
      const why = `DC ${this.dcId}: the connection was lost ${this.lossesWithoutAnswer} times in a row before any answer (${reason})`;
      this.lossesWithoutAnswer = 0;
      session.failPending((m) => new SessionClosedError(why, m, this.dcId));
      return;
    }
    // nothing waits: reconnect on the next call (no connection is kept open for nothing)
    if (session.pendingCount > 0) void this.startReconnect(session, undefined, code).catch(() => undefined);
  }

  /** A second −404 in a row: the DC really does not know the key. */
  private async keyGone(session: MtprotoSession): Promise<void> {
    const reason = `auth key unknown to DC ${this.dcId}: transport error -404 on ${this.unknownKeyStrikes} fresh connections in a row`;
    this.unknownKeyStrikes = 0;
    session.failPending((m) => new TransportError(-404, this.dcId, m));
    this.forgetKey(reason);
    await this.deps.keys.dropKey(this.dcId).catch(() => undefined);
    this.emit({ type: 'key-dropped', reason, ...this.pid(this.lastCause) });
  }

  private startReconnect(session: MtprotoSession, parentId?: number, code?: number): Promise<MtprotoSession> {
    if (this.reconnecting) return this.reconnecting;
    const p = this.reconnectLoop(session, parentId, code).finally(() => {
      if (this.reconnecting === p) this.reconnecting = undefined;
    });
    this.reconnecting = p;
    return p;
  }

  private async reconnectLoop(session: MtprotoSession, parentId: number | undefined, code: number | undefined): Promise<MtprotoSession> {
    const max = this.deps.maxReconnectAttempts ?? 8;
    let last: unknown;
    for (let attempt = 0; attempt < max; attempt++) {
      if (this.closedForGood || session.closed || this.session !== session)
        throw new SessionClosedError(session.closed ? 'the session ended' : 'the pool is closed', undefined, this.dcId);
      const delay = reconnectDelayMs(attempt, attempt === 0 ? code : code === -429 ? code : undefined);
      this.emit({ type: 'reconnecting', attempt: attempt + 1, ms: delay, ...(code !== undefined ? { code } : {}), ...this.pid(parentId) });
      await sleep(delay);
      if (this.closedForGood || session.closed || this.session !== session) break;
      const connId = newConnId(this.dcId);
      try {
        const { link } = await this.connectAny(connId, parentId);
        this.reconnects += 1;
        session.attach(link, connId);
        if (session.connected) return session;
      } catch (e) {
        if (e instanceof DcError && e.code === 'CLOSED') throw e;
        last = e;
      }
    }
    const why = `DC ${this.dcId} unreachable after ${max} reconnect attempts${last ? `: ${errorText(last)}` : ''}`;
    session.failPending((m) => new SessionClosedError(why, m, this.dcId));
    throw new DcError('CONNECT_FAILED', this.dcId, why);
  }

  /** The key this connection uses (for persisting salt and time offset). */
  get key(): Uint8Array | undefined {
    return this.authKey;
  }
}

const TRANSPORT_MEANINGS: Record<number, string> = {
  [-404]: 'auth key unknown to the DC (or the DC is restarting): probing with a fresh connection',
  [-429]: 'transport flood: backing off before reconnecting',
  [-444]: 'invalid DC id',
};

function transportMeaning(code: number): string {
  return TRANSPORT_MEANINGS[code] ?? `transport error ${code}: reconnecting`;
}
