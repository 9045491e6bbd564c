// Server side of MTProto on one connection (used by the sandbox): unencrypted handshake messages are handed to a
// handshake object; encrypted messages are decrypted and checked as Telegram checks them, salts and sessions
// managed, containers unpacked, service messages answered and API calls unwrapped (invokeWithLayer picks the
// connection's codec, initConnection is remembered, invokeWithoutUpdates / invokeAfterMsg(s) honoured) before
// `handler(call)` runs. Answers are rpc_result (gzip_packed when big and it helps) or rpc_error.
//
// Checks (mtproto/description, service_messages_about_messages), answered with bad_msg_notification and the
// message not executed: msg_id parity (18), time window of the outer message (16/17), a container id seen before
// (19), an id older than the session's duplicate window (20), seqno order against the messages received (32/33),
// seqno parity where the constructor says it (34 containers, 35 API calls), container rules (64: nesting, child
// ids, 1020 messages, 1 MiB, framing), the salt (bad_server_salt 48 with the current salt).
//
// Sessions outlive connections (a per-DC registry keyed by auth_key_id:session_id). Every content-related message
// the server sends is kept until the client acknowledges it (bounded): re-sent when the session shows up on a new
// connection, on msg_resend_req / msg_resend_ans_req, and when the client repeats a query that was answered.
//
// Sessions a client left (no message for sessionIdleMs, no live connection) are dropped with what they kept, by a
// sweep on an unref'd timer and whenever a new session is attached. A connection whose frames or calls pile up
// tells its link it is busy (reading pauses) until they are worked off.
//
// Hostile input never crashes the process: every path is guarded; a packet that fails a decryption check closes
// the link (no answer, no oracle) and the reason is logged. An unknown auth_key_id gets transport error −404.
import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import { TlReader, TlWriter } from '../tl/binary';
import { isTlObject, type TlCodec } from '../tl/codec';
import type { TlEntry, TlObject } from '../tl/types';
import { encodeTransportError, transportErrorCode } from '../transport/codec';
import type { FrameLink } from '../transport/tcp';
import { RpcError } from './errors';
import { decryptMessage, encryptMessage, MessageCheckError, peekAuthKeyId, quickAckToken, type EncryptedMessageFields } from './message-crypto';
import { OFFLOAD_MIN_BYTES, sharedDecryptPool } from './decrypt-pool';
import { MsgIdClock, SeqNo } from './msg-id';
import { ServerSalts } from './server-salts';
import { mtprotoCodec } from './handshake-client';
import { decodePlainMessage, encodePlainMessage } from './plain';
import {
  BAD_MSG_TEXT,
  CONTAINER_COUNT_EXEMPT,
  CONTAINER_MAX_BYTES,
  CONTAINER_MAX_MESSAGES,
  MT,
  decodeContainer,
  encodeBareConstructor,
  encodeContainer,
  encodeFutureSalts,
  encodeLongVectorMessage,
  encodeRpcAnswerDropped,
  encodeRpcError,
  encodeRpcResult,
  errText,
  groupForContainers,
  gunzipPacked,
  outgoingWireEvent,
  peekId,
  randomLong,
  readLongVector,
  serviceName,
  type ContainerItem,
} from './service-messages';
import { emitWire, newConnId, type WireEvent, type WireKind } from './wire-event';

/** File bytes are compressed media in practice: deflating a 1 MiB part costs ~20–40 ms for nothing (nor does Telegram). */
const NEVER_GZIPPED = new Set(['upload.file', 'upload.cdnFile', 'upload.webFile']);

/** Incoming msg_ids remembered per session (duplicates, "too old", seqno order, msgs_state_req). */
const INBOUND_WINDOW = 2000;
/** Content-related messages kept per session until acknowledged: count and bytes (oldest dropped first). */
const KEPT_MAX_MESSAGES = 1024;
const KEPT_MAX_BYTES = 16 << 20;
/** All sessions of one DC together keep at most this many bytes (least recently used sessions lose theirs first). */
const REGISTRY_KEPT_MAX_BYTES = 256 << 20;
/** Sessions one connection tracks at once (a client uses one or two; more is hostile). */
const SESSIONS_PER_CONNECTION = 64;
/** Default of ServeMtprotoOptions.sessionIdleMs. */
export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;
/**
 * Flow control per connection: reading pauses (link.busy) when this many frames wait to be handled, this many
 * bytes of them, or this many API calls run; it resumes at half of each.
 */
const BUSY_FRAMES = 64;
const BUSY_BYTES = 8 << 20;
const BUSY_CALLS = 256;

/** A big packet handed to the decrypt pool on arrival (see ServerSession.decryptEarly). */
interface EarlyDecrypt {
  keyId: bigint;
  authKey: Uint8Array;
  size: number;
  fields: Promise<EncryptedMessageFields>;
}
export interface ServerCall {
  /** The innermost method call, decoded with the connection's layer codec. */
  method: TlObject;
  layer: number;
  dcId: number;
  authKeyId: bigint;
  sessionId: bigint;
  msgId: bigint;
  connection: { remote: string; transport: string };
  /** The initConnection this connection sent (without its query), when it sent one. */
  initConnection?: TlObject;
  /** Generic wrappers the call came in, outermost first (e.g. ['invokeWithLayer', 'initConnection']). */
  wrappers: string[];
  /** Inside invokeWithoutUpdates. */
  withoutUpdates: boolean;
}

export interface ServerKeyStore {
  get(authKeyId: bigint): Uint8Array | undefined;
  set(authKeyId: bigint, key: Uint8Array): void;
  /** Forgets a key (destroy_auth_key); without it destroy_auth_key answers destroy_auth_key_fail. */
  delete?(authKeyId: bigint): void;
}

export interface ServerHandshakeLike {
  handle(msg: TlObject): Promise<{ reply: TlObject; done?: { authKey: Uint8Array; authKeyId: bigint; serverSalt: bigint } }>;
}

export interface ServeMtprotoOptions {
  dcId: number;
  keyStore: ServerKeyStore;
  /** The DC's rotating salts; default: one ServerSalts per keyStore object (hourly periods). */
  salts?: ServerSalts;
  createHandshake: () => ServerHandshakeLike;
  codecForLayer: (layer: number) => TlCodec;
  defaultLayer: number;
  handler: (call: ServerCall) => Promise<unknown>;
  onWire?: (e: WireEvent) => void;
  log?: (line: string) => void;
  connId?: string;
  /** Results larger than this many bytes are gzip_packed when that makes them smaller (default 1024). */
  gzipThreshold?: number;
  /** An API call not answered within this many ms is acknowledged with msgs_ack (default 300). */
  ackDelayMs?: number;
  /** Local clock in ms (tests). */
  now?: () => number;
  /**
   * No packet from the client for this many ms closes the connection, unless a ping_delay_disconnect is in force
   * (it sets its own deadline). Default 0: never.
   */
  idleTimeoutMs?: number;
  /** Called after destroy_auth_key removed a key from the key store (errors thrown here are ignored). */
  onAuthKeyDestroyed?: (authKeyId: bigint) => void;
  /**
   * Also answer bad_msg_notification 34 to a msgs_ack with an odd seqno, as the spec's wording asks. Default false:
   * mtcute sends every msgs_ack as content-related and Telegram accepts that.
   */
  strictAckSeqno?: boolean;
  /**
   * A session with no client message for this long and no live connection is dropped with its kept answers
   * (default 30 min). The DC's registry uses the value of the connection that last set it.
   */
  sessionIdleMs?: number;
}

const saltManagers = new WeakMap<object, ServerSalts>();
function defaultSalts(keyStore: object): ServerSalts {
  let m = saltManagers.get(keyStore);
  if (!m) {
    m = new ServerSalts();
    saltManagers.set(keyStore, m);
  }
  return m;
}

/**
 * Sessions belong to the auth key, not to a TCP connection (mtproto/description: a session is attached to the
 * client, a connection is not): per key store (i.e. per DC) a bounded registry of (auth_key_id, session_id) →
 * session state, so a client that reconnects keeps its seqno, duplicate-id window, kept answers and
 * new_session_created announcement, and can destroy_session a session it used on an earlier connection.
 * The map's order is least recently used first.
 */
const SESSION_REGISTRY_LIMIT = 10_000;
interface SessionRegistry {
  sessions: Map<string, ClientSession>;
  /** The layer each auth key last asked for with invokeWithLayer (least recently set first). */
  keyLayers: Map<bigint, number>;
  keptBytes: number;
  idleMs: number;
  now: () => number;
  lastSweep: number;
}
const sessionRegistries = new WeakMap<object, SessionRegistry>();
function sessionRegistryFor(keyStore: object, opts: ServeMtprotoOptions): SessionRegistry {
  let m = sessionRegistries.get(keyStore);
  const idleMs = opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  if (!m) {
    const now = opts.now ?? Date.now;
    m = { sessions: new Map(), keyLayers: new Map(), keptBytes: 0, idleMs, now, lastSweep: now() };
    sessionRegistries.set(keyStore, m);
    startSweeper(m);
  }
  m.idleMs = idleMs;
  return m;
}

/** How often idle sessions are looked for: often enough that one lingers at most ~1/4 longer than its idle time. */
function sweepEvery(r: SessionRegistry): number {
  return Math.max(1000, Math.min(60_000, Math.floor(r.idleMs / 4)));
}

/** An unref'd timer that holds the registry weakly: a key store nobody uses any more takes it along. */
function startSweeper(r: SessionRegistry): void {
  const ref = new WeakRef(r);
  const timer: NodeJS.Timeout = setInterval(() => {
    const reg = ref.deref();
    if (!reg) clearInterval(timer);
    else sweepRegistry(reg);
  }, sweepEvery(r));
  timer.unref?.();
}

/** Drops the sessions idle for longer than the registry's idle time (never one a live connection carries). */
function sweepRegistry(r: SessionRegistry): number {
  const now = r.now();
  r.lastSweep = now;
  let dropped = 0;
  for (const s of [...r.sessions.values()]) {
    if (s.owner && !s.owner.closed) continue;
    if (now - s.lastSeen <= r.idleMs) continue;
    forgetSession(s);
    dropped++;
  }
  return dropped;
}

/** Sweeps the session registry of a key store (a DC) now; returns how many idle sessions were dropped. */
export function sweepIdleSessions(keyStore: object): number {
  const r = sessionRegistries.get(keyStore);
  return r ? sweepRegistry(r) : 0;
}

/** Sessions a key store's registry holds (tests, diagnostics). */
export function sessionCount(keyStore: object): number {
  return sessionRegistries.get(keyStore)?.sessions.size ?? 0;
}

function dropKeptMessage(s: ClientSession, id: bigint): void {
  const it = s.kept.get(id);
  if (!it) return;
  s.kept.delete(id);
  s.keptBytes -= it.body.length;
  s.registry.keptBytes -= it.body.length;
  if (it.answerTo !== undefined && s.answers.get(it.answerTo) === id) s.answers.delete(it.answerTo);
}

/** Drops a session for good: its kept messages, its queue, its registry entry. */
function forgetSession(s: ClientSession): void {
  s.destroyed = true;
  for (const id of [...s.kept.keys()]) dropKeptMessage(s, id);
  s.queue = [];
  s.acks = [];
  s.answers.clear();
  if (s.registry.sessions.get(s.registryKey) === s) s.registry.sessions.delete(s.registryKey);
}

function hex(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

type CallState = 'running' | 'answered' | 'dropped';
const CALL_STATE_CODE: Record<CallState, number> = { running: 1, answered: 2, dropped: 3 };
const CALL_STATE_OF: (CallState | undefined)[] = [undefined, 'running', 'answered', 'dropped'];

/**
 * The msg_ids (with seqnos) a session received, sorted by msg_id, at most `capacity` (the lowest ids go first):
 * duplicate detection, "older than everything kept" (20), the seqno order checks (32/33), msgs_state_req, and the
 * state of the API call each id carried. A seqno of −1 marks an id that takes no part in the seqno checks
 * (containers). Typed arrays of the full capacity from the start: a session's footprint (~13 bytes an id) does not
 * grow as it lives, and 10,000 sessions of a DC stay near 260 MB, not gigabytes of bigint objects and map entries.
 */
class InboundWindow {
  private readonly ids: BigInt64Array;
  private readonly seqs: Int32Array;
  private readonly states: Uint8Array;
  private n = 0;
  constructor(private readonly capacity: number) {
    this.ids = new BigInt64Array(capacity);
    this.seqs = new Int32Array(capacity);
    this.states = new Uint8Array(capacity);
  }

  /** Index of the first kept id above `id`. */
  private upper(id: bigint): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(id: bigint): number {
    const i = this.upper(id) - 1;
    return i >= 0 && this.ids[i] === id ? i : -1;
  }

  has(id: bigint): boolean {
    return this.indexOf(id) >= 0;
  }

  /** The seqno a received message carried (−1 for containers), undefined when not received. */
  seqno(id: bigint): number | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : this.seqs[i];
  }

  /** The state of the API call that came with `id` (undefined: none, or the id left the window). */
  callState(id: bigint): CallState | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : CALL_STATE_OF[this.states[i]!];
  }

  /** Records a call's state; ignored for an id no longer in the window. */
  setCallState(id: bigint, state: CallState): void {
    const i = this.indexOf(id);
    if (i >= 0) this.states[i] = CALL_STATE_CODE[state];
  }

  /** The window is full and `id` is below every id kept: whether it was received cannot be told. */
  tooOld(id: bigint): boolean {
    return this.n >= this.capacity && id < this.ids[0]!;
  }

  /**
   * 32: a received message with a lower msg_id has a higher seqno, or the same odd one; 33: one with a higher
   * msg_id has a lower seqno, or the same odd one. 0 when the order is consistent.
   */
  seqnoProblem(id: bigint, seqno: number): 0 | 32 | 33 {
    const pos = this.upper(id);
    const odd = (seqno & 1) === 1;
    for (let i = 0; i < pos; i++) {
      const q = this.seqs[i]!;
      if (q >= 0 && (q > seqno || (q === seqno && odd))) return 32;
    }
    for (let i = pos; i < this.n; i++) {
      const q = this.seqs[i]!;
      if (q >= 0 && (q < seqno || (q === seqno && odd))) return 33;
    }
    return 0;
  }

  add(id: bigint, seqno: number): void {
    if (this.has(id)) return;
    let pos = this.upper(id);
    if (this.n === this.capacity) {
      // full: the lowest id goes (the new one itself when it would be the lowest)
      if (pos === 0) return;
      this.ids.copyWithin(0, 1, pos);
      this.seqs.copyWithin(0, 1, pos);
      this.states.copyWithin(0, 1, pos);
      pos -= 1;
    } else {
      this.ids.copyWithin(pos + 1, pos, this.n);
      this.seqs.copyWithin(pos + 1, pos, this.n);
      this.states.copyWithin(pos + 1, pos, this.n);
      this.n += 1;
    }
    this.ids[pos] = id;
    this.seqs[pos] = seqno;
    this.states[pos] = 0;
  }

  /** msgs_state_info for an id not received: 1 below the ids kept, 3 above them, 2 in between. */
  unknownState(id: bigint): 1 | 2 | 3 {
    if (this.n === 0 || id < this.ids[0]!) return 1;
    if (id > this.ids[this.n - 1]!) return 3;
    return 2;
  }
}

interface ClientSession {
  id: bigint;
  authKeyId: bigint;
  registryKey: string;
  registry: SessionRegistry;
  seq: SeqNo;
  /** Server msg_ids of this session (one clock, whichever connection carries the session). */
  clock: MsgIdClock;
  inbound: InboundWindow;
  /** first_msg_id announced by new_session_created (undefined: not announced yet). */
  firstMsgId: bigint | undefined;
  /** new_session_created's unique_id: one per session, repeated when an earlier first_msg_id is announced. */
  uniqueId: bigint;
  queue: OutItem[];
  acks: bigint[];
  /** Sent (or stamped) content-related messages not acknowledged yet, by msg_id, oldest first. */
  kept: Map<bigint, OutItem>;
  keptBytes: number;
  /** Client query msg_id → msg_id of its kept rpc_result. */
  answers: Map<bigint, bigint>;
  destroyed: boolean;
  /** Destroyed once what is queued now has been sent (destroy_auth_key). */
  retireAfterFlush: boolean;
  /** The connection that last received a message of this session: answers and updates go there. */
  owner: ServerSession | undefined;
  /** When the client last sent a message of this session (the options' clock). */
  lastSeen: number;
}

interface OutItem {
  body: Uint8Array;
  contentRelated: boolean;
  ctor: string;
  kind: WireKind;
  idKind: 'response' | 'notification';
  reqMsgId?: bigint;
  /** msgs_ack: the msg_ids it acknowledges (shown in the wire event). */
  acks?: bigint[];
  /** rpc_result: the client query it answers. */
  answerTo?: bigint;
  note?: string;
  /** Stamped when sent (or kept unsent): the message keeps both for good. */
  msgId?: bigint;
  seqno?: number;
  /** A copy of a kept message going out again (always inside a fresh container). */
  resend?: boolean;
}

/** Whether a message's constructor says it is content-related: 34/35 are only answered where it does. */
function seqnoClass(id: number, strictAck: boolean): 'never' | 'always' | 'ambiguous' {
  if (id === MT.msg_container) return 'never';
  if (id === MT.msgs_ack) return strictAck ? 'never' : 'ambiguous';
  if (serviceName(id) !== undefined) return 'ambiguous';
  return 'always';
}

/** Server side of one connection (returned by serveMtprotoLink). Events: 'close' (reason). */
export class ServerSession extends EventEmitter {
  readonly dcId: number;
  readonly connId: string;
  private readonly link: FrameLink;
  private readonly opts: ServeMtprotoOptions;
  private readonly salts: ServerSalts;
  private readonly clock: MsgIdClock;
  private readonly codecs = new Map<number, TlCodec>();
  private layerValue: number;
  /** This connection's own invokeWithLayer came (else the key's remembered layer applies). */
  private layerFromClient = false;
  private initConn: TlObject | undefined;
  private handshake: ServerHandshakeLike | undefined;
  private key: { authKey: Uint8Array; authKeyId: bigint } | undefined;
  /** The key was destroyed by destroy_auth_key on this connection: nothing more is sent or accepted with it. */
  private keyGone = false;
  private readonly sessions = new Map<bigint, ClientSession>();
  private lastSession: ClientSession | undefined;
  private chain: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private disconnectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly callDone = new Map<bigint, Promise<void>>();
  private closedReason: string | undefined;
  /** Frames received and not handled yet, their bytes, and API calls running: the flow-control counts. */
  private waitingFrames = 0;
  private waitingBytes = 0;
  private runningCalls = 0;
  private holding = false;

  constructor(link: FrameLink, opts: ServeMtprotoOptions) {
    super();
    this.link = link;
    this.opts = opts;
    this.dcId = opts.dcId;
    this.connId = opts.connId ?? newConnId(opts.dcId, 's');
    this.salts = opts.salts ?? defaultSalts(opts.keyStore);
    this.clock = new MsgIdClock({ synced: true, ...(opts.now ? { now: opts.now } : {}) });
    this.layerValue = opts.defaultLayer;
    link.on('frame', (payload: Uint8Array, info?: { quickAck?: boolean }) => {
      this.armIdle();
      const quickAck = info?.quickAck === true;
      const size = payload.length; // an early-decrypted payload is detached once posted
      this.waitingFrames++;
      this.waitingBytes += size;
      this.flow();
      // a quick ack needs the ciphertext after decryption: such frames are decrypted inline
      const early = quickAck ? undefined : this.decryptEarly(payload);
      this.chain = this.chain
        .then(() => (early ? this.onEncrypted(early.keyId, payload, early, false) : this.onFrame(payload, quickAck)))
        .catch((e: unknown) => this.fail(`internal error: ${errText(e)}`))
        .finally(() => {
          this.waitingFrames--;
          this.waitingBytes -= size;
          this.flow();
        });
    });
    link.on('close', (reason: string) => this.finish(`connection closed: ${reason}`));
    this.armIdle();
  }

  get layer(): number {
    return this.layerValue;
  }
  get authKeyId(): bigint | undefined {
    return this.key?.authKeyId;
  }
  /** The session_id of the last message received (the one push() targets). */
  get sessionId(): bigint | undefined {
    return this.lastSession?.id;
  }
  get initConnection(): TlObject | undefined {
    return this.initConn;
  }
  get closed(): boolean {
    return this.closedReason !== undefined;
  }
  /** Reading from the client is paused: too many frames wait or too many calls run (see BUSY_*). */
  get holdingInput(): boolean {
    return this.holding;
  }

  /** Sends a server-initiated message (an update) to the connection's current session; false when there is none. */
  push(update: TlObject): boolean {
    const s = this.lastSession;
    if (!s || !this.key || this.keyGone || s.destroyed || this.closedReason !== undefined) return false;
    let body: Uint8Array;
    try {
      body = this.codec().encode(update);
    } catch (e) {
      this.log(`push of ${update._} failed to encode: ${errText(e)}`);
      return false;
    }
    this.enqueue(s, { body, contentRelated: true, ctor: update._, kind: 'encrypted', idKind: 'notification', note: 'update' });
    return true;
  }

  close(reason = 'closed by the server'): void {
    if (!this.link.closed) this.link.close(reason);
    this.finish(reason);
  }

  // ---------------- plumbing ----------------

  private log(line: string): void {
    try {
      this.opts.log?.(line);
    } catch {
      // logging must not break the connection
    }
  }

  private wire(e: Omit<WireEvent, 'time' | 'dcId' | 'connId'>): void {
    emitWire(this.opts.onWire, { time: Date.now(), dcId: this.dcId, connId: this.connId, ...e });
  }

  /** Tells the link to stop reading while work piles up, and to read again at half of every mark. */
  private flow(): void {
    if (this.closedReason !== undefined) return;
    if (!this.holding) {
      if (this.waitingFrames <= BUSY_FRAMES && this.waitingBytes <= BUSY_BYTES && this.runningCalls <= BUSY_CALLS) return;
      this.holding = true;
      this.link.busy?.();
    } else {
      if (this.waitingFrames > BUSY_FRAMES / 2 || this.waitingBytes > BUSY_BYTES / 2 || this.runningCalls > BUSY_CALLS / 2) return;
      this.holding = false;
      this.link.ready?.();
    }
  }

  private fail(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.log(`closing: ${reason}`);
    this.close(reason);
  }

  private finish(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.disconnectTimer = undefined;
    this.idleTimer = undefined;
    // what was waiting for this connection: content-related messages are kept for the session's next connection
    for (const s of this.sessions.values()) {
      if (s.owner !== this) continue;
      for (const it of s.queue.splice(0)) if (it.contentRelated && !it.resend && !s.destroyed) this.stamp(s, it);
      s.acks = [];
      s.owner = undefined;
    }
    try {
      this.emit('close', reason);
    } catch {
      // ignore listener errors
    }
  }

  /** Idle timeout: (re)started by every frame; a ping_delay_disconnect in force takes its place. */
  private armIdle(): void {
    const ms = this.opts.idleTimeoutMs ?? 0;
    if (!(ms > 0) || this.closedReason !== undefined) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      if (this.disconnectTimer) {
        this.idleTimer?.refresh();
        return;
      }
      // 'timeout', as the transport names its own idle close
      this.log(`no packet from the client for ${ms} ms`);
      this.close('timeout');
    }, ms);
    this.idleTimer.unref?.();
  }

  /**
   * The layer is the auth key's, as on Telegram: a client that reconnects (GramJS does) need not wrap its first call
   * in invokeWithLayer again, and its answers keep the layer it asked for.
   */
  private rememberLayer(keyId: bigint, layer: number): void {
    const layers = sessionRegistryFor(this.opts.keyStore, this.opts).keyLayers;
    layers.delete(keyId);
    layers.set(keyId, layer);
    if (layers.size > SESSION_REGISTRY_LIMIT) layers.delete(layers.keys().next().value as bigint);
  }

  private adoptKeyLayer(keyId: bigint): void {
    const layer = sessionRegistryFor(this.opts.keyStore, this.opts).keyLayers.get(keyId);
    if (layer === undefined || layer === this.layerValue) return;
    try {
      this.codecFor(layer);
      this.layerValue = layer;
    } catch (e) {
      this.log(`no codec for the key's layer ${layer}: ${errText(e)}`);
    }
  }

  private codec(): TlCodec {
    return this.codecFor(this.layerValue);
  }

  private codecFor(layer: number): TlCodec {
    let c = this.codecs.get(layer);
    if (!c) {
      c = this.opts.codecForLayer(layer);
      this.codecs.set(layer, c);
    }
    return c;
  }

  private currentSalt(authKeyId: bigint): bigint {
    return this.salts.current(authKeyId);
  }

  // ---------------- incoming ----------------

  private async onFrame(payload: Uint8Array, quickAck: boolean): Promise<void> {
    if (this.closedReason !== undefined) return;
    if (transportErrorCode(payload) !== null) return this.fail('client sent a 4-byte transport error packet');
    const keyId = peekAuthKeyId(payload);
    if (keyId === undefined) return this.fail(`packet of ${payload.length} bytes is too short`);
    if (keyId === 0n) return this.onPlain(payload);
    return this.onEncrypted(keyId, payload, undefined, quickAck);
  }

  private async onPlain(payload: Uint8Array): Promise<void> {
    const codec = mtprotoCodec();
    let msg: TlObject;
    let msgId: bigint;
    try {
      const plain = decodePlainMessage(payload);
      msgId = plain.msgId;
      msg = codec.decode(plain.body);
    } catch (e) {
      this.transportError(-404, `undecodable unencrypted message: ${errText(e)}`);
      return;
    }
    this.wire({ dir: 'in', kind: 'plain', msgId: msgId.toString(), ctor: msg._, size: payload.length });
    let res: Awaited<ReturnType<ServerHandshakeLike['handle']>>;
    try {
      this.handshake ??= this.opts.createHandshake();
      res = await this.handshake.handle(msg);
    } catch (e) {
      const code = typeof (e as { transportCode?: unknown }).transportCode === 'number' ? (e as { transportCode: number }).transportCode : -404;
      this.transportError(code, `handshake rejected: ${errText(e)}`);
      return;
    }
    if (this.closedReason !== undefined) return;
    const replyBody = codec.encode(res.reply);
    const replyId = this.clock.nextServer('response');
    this.link.send(encodePlainMessage(replyId, replyBody));
    this.wire({ dir: 'out', kind: 'plain', msgId: replyId.toString(), ctor: res.reply._, size: replyBody.length + 20, reqMsgId: msgId.toString() });
    if (res.done) {
      this.opts.keyStore.set(res.done.authKeyId, res.done.authKey);
      this.salts.setInitial(res.done.authKeyId, res.done.serverSalt);
      this.handshake = undefined; // a new req_pq_multi starts over
      this.wire({ dir: 'local', kind: 'key', ctor: 'auth_key', size: 256, note: `auth key ${res.done.authKeyId} created on DC ${this.dcId}` });
      this.log(`auth key ${res.done.authKeyId} created`);
    }
  }

  private transportError(code: number, reason: string): void {
    this.log(`${reason}; answering transport error ${code}`);
    this.wire({ dir: 'out', kind: 'transport-error', ctor: 'transport_error', size: 4, note: `${code}: ${reason}` });
    this.link.send(encodeTransportError(code));
    this.close(reason);
  }

  /**
   * A big encrypted packet (an uploaded file part) starts decrypting on a worker as soon as it arrives, while
   * earlier packets are still being handled; its turn in the chain then awaits the result.
   */
  private decryptEarly(payload: Uint8Array): EarlyDecrypt | undefined {
    if (payload.length < OFFLOAD_MIN_BYTES || this.closedReason !== undefined) return undefined;
    const keyId = peekAuthKeyId(payload);
    if (!keyId) return undefined;
    const authKey = this.opts.keyStore.get(keyId);
    const pool = authKey ? sharedDecryptPool() : null;
    if (!authKey || !pool) return undefined;
    const size = payload.length; // the packet is detached once posted
    const fields = pool.decrypt(authKey, payload, 0);
    fields.catch(() => undefined); // observed in order by onEncrypted
    return { keyId, authKey, size, fields };
  }

  private async onEncrypted(keyId: bigint, payload: Uint8Array, early: EarlyDecrypt | undefined, quickAck: boolean): Promise<void> {
    if (this.closedReason !== undefined) return;
    const authKey = this.opts.keyStore.get(keyId);
    if (!authKey || (early && early.authKey !== authKey)) return this.transportError(-404, `unknown auth_key_id ${keyId}`);
    const size = early ? early.size : payload.length;
    let m;
    try {
      m = early ? await early.fields : decryptMessage(authKey, payload, 0);
    } catch (e) {
      if (this.closedReason !== undefined) return;
      if (e instanceof MessageCheckError) {
        this.wire({ dir: 'in', kind: 'check-failed', ctor: 'encrypted_message', size, note: `check failed: ${e.check}; connection dropped` });
        return this.fail(`incoming message failed the ${e.check} check`);
      }
      throw e;
    }
    if (this.closedReason !== undefined) return;
    if (quickAck) this.sendQuickAck(authKey, payload, m.msgId);
    if (this.key && this.key.authKeyId !== keyId) this.keyGone = false;
    this.key = { authKey, authKeyId: keyId };
    if (!this.layerFromClient) this.adoptKeyLayer(keyId);
    const s = this.attach(keyId, m.sessionId);
    const base = { msgId: m.msgId.toString(), seqno: m.seqno, size: m.body.length };

    // msg_id checks that Telegram answers with bad_msg_notification (the message is ignored)
    const badCode = this.msgIdProblem(m.msgId, true);
    if (badCode) return this.reject(s, m.msgId, m.seqno, badCode, m.body, undefined);
    if (!this.salts.accepts(keyId, m.salt)) {
      this.wire({ dir: 'in', kind: 'encrypted', ...base, ctor: this.nameOf(m.body), note: 'rejected: wrong server salt' });
      const w = new TlWriter(28);
      w.uint(MT.bad_server_salt);
      w.long(m.msgId);
      w.int(m.seqno);
      w.int(48);
      w.long(this.currentSalt(keyId));
      this.enqueue(s, {
        body: w.finish(),
        contentRelated: false,
        ctor: 'bad_server_salt',
        kind: 'service',
        idKind: 'response',
        reqMsgId: m.msgId,
        note: 'error 48',
      });
      return;
    }
    const isContainer = peekId(m.body) === MT.msg_container;
    if (s.inbound.has(m.msgId)) {
      // a container must carry a new id; any other message is a re-send of one already received
      if (isContainer) return this.reject(s, m.msgId, m.seqno, 19, m.body, undefined);
      return this.onDuplicate(s, m.msgId, m.seqno, m.body, undefined);
    }
    if (s.inbound.tooOld(m.msgId)) return this.reject(s, m.msgId, m.seqno, 20, m.body, undefined);
    if (isContainer) return this.onContainer(s, m.msgId, m.seqno, m.body);
    const body = this.admit(s, m.msgId, m.seqno, m.body, undefined);
    if (!body) return;
    this.announce(s, m.msgId);
    this.dispatch(s, m.msgId, m.seqno, body, undefined);
  }

  /** Quick ack (mtproto-transports): the token goes out at once, before the message's own checks. */
  private sendQuickAck(authKey: Uint8Array, payload: Uint8Array, msgId: bigint): void {
    try {
      const token = quickAckToken(authKey, payload, 0);
      this.link.sendQuickAck?.(token);
      this.wire({ dir: 'out', kind: 'service', ctor: 'quick_ack', size: 4, reqMsgId: msgId.toString(), note: `token ${hex(token)}` });
    } catch (e) {
      this.log(`quick ack not sent: ${errText(e)}`);
    }
  }

  /** The session of this message: this connection's, the registry's (resumed: kept messages go out again), or new. */
  private attach(keyId: bigint, sessionId: bigint): ClientSession {
    let s = this.sessions.get(sessionId);
    if (s && (s.destroyed || s.authKeyId !== keyId)) {
      this.sessions.delete(sessionId);
      s = undefined;
    }
    if (!s) {
      const registry = sessionRegistryFor(this.opts.keyStore, this.opts);
      if (registry.now() - registry.lastSweep >= sweepEvery(registry)) sweepRegistry(registry);
      const registryKey = `${keyId}:${sessionId}`;
      const found = registry.sessions.get(registryKey);
      const resumed = !!found && !found.destroyed;
      if (found && resumed) {
        s = found;
        registry.sessions.delete(registryKey); // most recently used goes last
        registry.sessions.set(registryKey, s);
      } else {
        s = {
          id: sessionId,
          authKeyId: keyId,
          registryKey,
          registry,
          seq: new SeqNo(),
          clock: new MsgIdClock({ synced: true, ...(this.opts.now ? { now: this.opts.now } : {}) }),
          inbound: new InboundWindow(INBOUND_WINDOW),
          firstMsgId: undefined,
          uniqueId: randomLong(),
          queue: [],
          acks: [],
          kept: new Map(),
          keptBytes: 0,
          answers: new Map(),
          destroyed: false,
          retireAfterFlush: false,
          owner: undefined,
          lastSeen: registry.now(),
        };
        registry.sessions.set(registryKey, s);
        if (registry.sessions.size > SESSION_REGISTRY_LIMIT) {
          const oldest = registry.sessions.values().next().value as ClientSession;
          this.forget(oldest);
        }
      }
      this.sessions.set(sessionId, s);
      if (this.sessions.size > SESSIONS_PER_CONNECTION) this.sessions.delete(this.sessions.keys().next().value as bigint);
      const moved = s.owner !== this;
      s.owner = this;
      if (resumed && moved && s.kept.size) this.resendKept(s, 'session resumed on a new connection');
    }
    s.owner = this;
    s.lastSeen = s.registry.now();
    this.lastSession = s;
    return s;
  }

  private forget(s: ClientSession): void {
    forgetSession(s);
  }

  /** Every kept message goes out again (same msg_id and seqno) inside a fresh container. */
  private resendKept(s: ClientSession, why: string, only?: bigint[]): number {
    const items = only ? only.map((id) => s.kept.get(id)).filter((it): it is OutItem => !!it) : [...s.kept.values()];
    for (const it of items) this.enqueue(s, { ...it, resend: true, note: `re-sent: ${why}` });
    if (items.length) this.log(`${items.length} kept message(s) re-sent: ${why}`);
    return items.length;
  }

  /** 16/17 (time window), 18 (low bits); `outer` messages get the time check, container children only the bits. */
  private msgIdProblem(id: bigint, outer: boolean): number {
    if ((id & 3n) !== 0n) return 18;
    if (outer) {
      const skew = this.clock.skewOf(id);
      if (skew < -300) return 16;
      if (skew > 30) return 17;
    }
    return 0;
  }

  private reject(s: ClientSession, msgId: bigint, seqno: number, code: number, body: Uint8Array, containerId: bigint | undefined): void {
    const e: Omit<WireEvent, 'time' | 'dcId' | 'connId'> = {
      dir: 'in',
      kind: 'encrypted',
      msgId: msgId.toString(),
      seqno,
      size: body.length,
      ctor: this.nameOf(body),
      note: `rejected: bad_msg_notification ${code} (${BAD_MSG_TEXT[code] ?? 'error'})`,
    };
    if (containerId !== undefined) e.containerId = containerId.toString();
    this.wire(e);
    this.badMsg(s, msgId, seqno, code);
  }

  private badMsg(s: ClientSession, msgId: bigint, seqno: number, code: number): void {
    const w = new TlWriter(20);
    w.uint(MT.bad_msg_notification);
    w.long(msgId);
    w.int(seqno);
    w.int(code);
    this.enqueue(s, {
      body: w.finish(),
      contentRelated: false,
      ctor: 'bad_msg_notification',
      kind: 'service',
      idKind: 'response',
      reqMsgId: msgId,
      note: `error ${code}`,
    });
  }

  private nameOf(body: Uint8Array): string {
    const id = peekId(body);
    const sn = serviceName(id);
    if (sn) return sn;
    try {
      const e = this.codec().schema.byId(id);
      return e ? e.name : hex(id);
    } catch {
      return hex(id);
    }
  }

  /**
   * new_session_created before the first answer of a session (first_msg_id: the lowest id of that first message),
   * and again, with the same unique_id, for a message with an even lower msg_id (service_messages).
   */
  private announce(s: ClientSession, firstMsgId: bigint): void {
    if (s.firstMsgId !== undefined && firstMsgId >= s.firstMsgId) return;
    s.firstMsgId = firstMsgId;
    const w = new TlWriter(28);
    w.uint(MT.new_session_created);
    w.long(firstMsgId);
    w.long(s.uniqueId);
    w.long(this.currentSalt(s.authKeyId));
    this.enqueue(s, {
      body: w.finish(),
      contentRelated: true,
      ctor: 'new_session_created',
      kind: 'service',
      idKind: 'notification',
      note: `first_msg_id ${firstMsgId}`,
    });
  }

  /**
   * A message whose msg_id this session already received is not executed again. Its answer, when kept, goes out
   * again; a call still running answers when done; anything else is ignored.
   */
  private onDuplicate(s: ClientSession, msgId: bigint, seqno: number, body: Uint8Array, containerId: bigint | undefined): void {
    const answerId = s.answers.get(msgId);
    // a resumed session queues its kept messages first: a query re-sent in the same packet needs no second copy
    const queued = answerId !== undefined && s.queue.some((q) => q.msgId === answerId);
    const kept = !queued && answerId !== undefined && s.kept.has(answerId);
    const state = s.inbound.callState(msgId);
    const what = queued
      ? 'its kept answer is already on its way'
      : kept
        ? 'its kept answer re-sent'
        : state === 'running'
          ? 'still running: answered when done'
          : 'ignored';
    const e: Omit<WireEvent, 'time' | 'dcId' | 'connId'> = {
      dir: 'in',
      kind: 'encrypted',
      msgId: msgId.toString(),
      seqno,
      size: body.length,
      ctor: this.nameOf(body),
      note: `duplicate msg_id: ${what}`,
    };
    if (containerId !== undefined) e.containerId = containerId.toString();
    this.wire(e);
    if (kept) this.resendKept(s, `query ${msgId} received again`, [answerId!]);
  }

  /**
   * Seqno checks of one message (outer or in a container), after gzip_packed is unwrapped; records it as received.
   * Returns the body to dispatch, or undefined when it was rejected.
   */
  private admit(s: ClientSession, msgId: bigint, seqno: number, raw: Uint8Array, containerId: bigint | undefined): Uint8Array | undefined {
    let body = raw;
    if (peekId(raw) === MT.gzip_packed) {
      try {
        body = gunzipPacked(raw);
      } catch (e) {
        this.fail(`gzip_packed does not inflate: ${errText(e)}`);
        return undefined;
      }
      // containers are never packed: a packed one would nest inside whatever carries it
      if (peekId(body) === MT.msg_container) {
        this.reject(s, msgId, seqno, 64, raw, containerId);
        return undefined;
      }
    }
    const cls = seqnoClass(peekId(body), this.opts.strictAckSeqno === true);
    const odd = (seqno & 1) === 1;
    let code = cls === 'never' && odd ? 34 : cls === 'always' && !odd ? 35 : 0;
    code ||= s.inbound.seqnoProblem(msgId, seqno);
    if (code) {
      this.reject(s, msgId, seqno, code, body, containerId);
      return undefined;
    }
    s.inbound.add(msgId, seqno);
    return body;
  }

  /** Container rules (64) for the whole container, then each message as if it came alone (the ids' time window aside). */
  private onContainer(s: ClientSession, msgId: bigint, seqno: number, body: Uint8Array): void {
    if (seqno & 1) return this.reject(s, msgId, seqno, 34, body, undefined);
    let items: ContainerItem[];
    try {
      items = decodeContainer(body);
    } catch (e) {
      this.log(`msg_container ${msgId} does not decode: ${errText(e)}`);
      return this.reject(s, msgId, seqno, 64, body, undefined);
    }
    const problem = containerProblem(msgId, items);
    if (problem) {
      this.log(`msg_container ${msgId} refused: ${problem}`);
      return this.reject(s, msgId, seqno, 64, body, undefined);
    }
    s.inbound.add(msgId, -1);
    let first = msgId;
    for (const it of items) if (it.msgId < first) first = it.msgId;
    if (s.firstMsgId === undefined) this.announce(s, first);
    this.wire({ dir: 'in', kind: 'service', msgId: msgId.toString(), seqno, size: body.length, ctor: 'msg_container', note: `${items.length} messages` });
    for (const it of items) {
      if (this.closedReason !== undefined || this.keyGone || s.destroyed) return;
      if (this.msgIdProblem(it.msgId, false)) {
        this.reject(s, it.msgId, it.seqno, 18, it.body, msgId);
        continue;
      }
      // the legal way to re-send a message: wrapped in a new container with its old id
      if (s.inbound.has(it.msgId)) {
        this.onDuplicate(s, it.msgId, it.seqno, it.body, msgId);
        continue;
      }
      if (s.inbound.tooOld(it.msgId)) {
        this.reject(s, it.msgId, it.seqno, 20, it.body, msgId);
        continue;
      }
      const b = this.admit(s, it.msgId, it.seqno, it.body, msgId);
      if (!b) continue;
      this.announce(s, it.msgId);
      this.dispatch(s, it.msgId, it.seqno, b, msgId);
    }
  }

  private dispatch(s: ClientSession, msgId: bigint, seqno: number, body: Uint8Array, containerId: bigint | undefined): void {
    try {
      this.dispatchUnsafe(s, msgId, seqno, body, containerId);
    } catch (e) {
      // a service message that does not parse (an API call's decoding errors are answered as rpc_error)
      this.fail(`malformed ${this.nameOf(body)} (msg_id ${msgId}): ${errText(e)}`);
    }
  }

  private dispatchUnsafe(s: ClientSession, msgId: bigint, seqno: number, body: Uint8Array, containerId: bigint | undefined): void {
    const id = peekId(body);
    const base: Omit<WireEvent, 'time' | 'dcId' | 'connId' | 'ctor' | 'kind'> = { dir: 'in', msgId: msgId.toString(), seqno, size: body.length };
    if (containerId !== undefined) base.containerId = containerId.toString();
    const r = new TlReader(body, 4);
    switch (id) {
      case MT.msgs_ack: {
        const ids = readLongVector(r);
        this.wire({ ...base, kind: 'service', ctor: 'msgs_ack', ackMsgIds: ids.map(String), note: `${ids.length} ids` });
        this.acknowledged(s, ids, 'acknowledged by the client');
        return;
      }
      case MT.ping:
      case MT.ping_delay_disconnect: {
        const pingId = r.long();
        this.wire({ ...base, kind: 'service', ctor: serviceName(id)! });
        if (id === MT.ping_delay_disconnect) {
          const delay = r.int();
          if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
          this.disconnectTimer = setTimeout(() => this.fail(`no ping_delay_disconnect within ${delay} s`), Math.max(1, delay) * 1000);
          this.disconnectTimer.unref?.();
        }
        const w = new TlWriter(20);
        w.uint(MT.pong);
        w.long(msgId);
        w.long(pingId);
        this.enqueue(s, { body: w.finish(), contentRelated: false, ctor: 'pong', kind: 'service', idKind: 'response', reqMsgId: msgId });
        return;
      }
      case MT.get_future_salts: {
        const num = Math.min(64, Math.max(1, r.int()));
        this.wire({ ...base, kind: 'service', ctor: 'get_future_salts' });
        const now = Math.floor(this.clock.serverNowMs() / 1000);
        const salts = this.salts.future(s.authKeyId, num);
        this.enqueue(s, {
          body: encodeFutureSalts(msgId, now, salts),
          contentRelated: false,
          ctor: 'future_salts',
          kind: 'service',
          idKind: 'response',
          reqMsgId: msgId,
        });
        return;
      }
      case MT.msgs_state_req: {
        const ids = readLongVector(r);
        this.wire({ ...base, kind: 'service', ctor: 'msgs_state_req', note: `${ids.length} ids` });
        this.stateInfo(s, msgId, ids);
        return;
      }
      case MT.msg_resend_req: {
        const ids = readLongVector(r);
        const kept = ids.filter((x) => s.kept.has(x));
        this.wire({ ...base, kind: 'service', ctor: 'msg_resend_req', note: `${ids.length} ids, ${kept.length} kept` });
        this.resendKept(s, 'asked by the client (msg_resend_req)', kept);
        // spec: when one of them is not there, msgs_state_info for all of them as if msgs_state_req had been sent
        if (kept.length < ids.length) this.stateInfo(s, msgId, ids);
        return;
      }
      case MT.msg_resend_ans_req: {
        const ids = readLongVector(r);
        const answers = ids.map((x) => s.answers.get(x)).filter((a): a is bigint => a !== undefined && s.kept.has(a));
        this.wire({ ...base, kind: 'service', ctor: 'msg_resend_ans_req', note: `${ids.length} ids, ${answers.length} answers kept` });
        this.resendKept(s, 'asked by the client (msg_resend_ans_req)', answers);
        this.stateInfo(s, msgId, ids);
        return;
      }
      case MT.msgs_all_info: {
        const ids = readLongVector(r);
        const info = r.bytes('msgs_all_info.info');
        const received = ids.filter((_, i) => ((info[i] ?? 0) & 7) === 4);
        this.wire({ ...base, kind: 'service', ctor: 'msgs_all_info', note: `${ids.length} ids, ${received.length} received` });
        this.acknowledged(s, received, 'reported received (msgs_all_info)');
        return;
      }
      case MT.destroy_session: {
        const target = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'destroy_session' });
        // any session of this auth key, also one used on an earlier connection, may be destroyed
        const t = s.registry.sessions.get(`${s.authKeyId}:${target}`);
        const ok = !!t && target !== s.id;
        if (ok) {
          this.forget(t);
          this.sessions.delete(target);
        }
        const w = new TlWriter(12);
        w.uint(ok ? MT.destroy_session_ok : MT.destroy_session_none);
        w.long(target);
        this.enqueue(s, {
          body: w.finish(),
          contentRelated: false,
          ctor: ok ? 'destroy_session_ok' : 'destroy_session_none',
          kind: 'service',
          idKind: 'response',
          reqMsgId: msgId,
        });
        return;
      }
      case MT.destroy_auth_key:
        this.wire({ ...base, kind: 'service', ctor: 'destroy_auth_key' });
        return this.destroyAuthKey(s, msgId);
      case MT.rpc_drop_answer: {
        const req = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'rpc_drop_answer', note: `for ${req}` });
        return this.dropAnswer(s, msgId, req);
      }
      default: {
        const sn = serviceName(id);
        if (sn) {
          // http_wait, msgs_state_info, msg_detailed_info, … : noted, nothing to do on this server
          this.wire({ ...base, kind: 'service', ctor: sn, note: 'ignored' });
          return;
        }
        if (seqno & 1) {
          // An API call is acknowledged by its answer; only a slow one gets an explicit msgs_ack first (as Telegram does).
          const t = setTimeout(() => {
            if (this.closedReason !== undefined || s.inbound.callState(msgId) !== 'running') return;
            s.acks.push(msgId);
            this.scheduleFlush();
          }, this.opts.ackDelayMs ?? 300);
          t.unref?.();
        }
        this.onCall(s, msgId, body, base);
      }
    }
  }

  /** Kept messages the client has (msgs_ack, msgs_all_info) are forgotten. */
  private acknowledged(s: ClientSession, ids: bigint[], note: string): void {
    for (const a of ids) {
      const had = s.kept.has(a);
      if (had) this.dropKept(s, a);
      this.wire({ dir: 'local', kind: 'service', msgId: a.toString(), ctor: 'ack', size: 0, acked: true, note: had ? note : `${note} (not kept)` });
    }
  }

  /** msgs_state_info (service_messages_about_messages) for client msg_ids. */
  private stateInfo(s: ClientSession, reqMsgId: bigint, ids: bigint[]): void {
    const info = Uint8Array.from(ids, (x) => this.stateOf(s, x));
    const w = new TlWriter(20 + info.length);
    w.uint(MT.msgs_state_info);
    w.long(reqMsgId);
    w.bytes(info);
    this.enqueue(s, { body: w.finish(), contentRelated: false, ctor: 'msgs_state_info', kind: 'service', idKind: 'response', reqMsgId });
  }

  /** 4 received (+16 no ack needed, +32 a query being or already processed, +64 its answer generated); 1/2/3 not. */
  private stateOf(s: ClientSession, id: bigint): number {
    const seqno = s.inbound.seqno(id);
    const call = s.inbound.callState(id);
    if (seqno === undefined && call === undefined) return s.inbound.unknownState(id);
    let b = 4;
    if (seqno !== undefined && (seqno & 1) === 0) b |= 16;
    if (call) b |= 32;
    if (call === 'answered' || call === 'dropped') b |= 64;
    return b;
  }

  /**
   * destroy_auth_key (sent encrypted with the key it destroys): destroy_auth_key_ok once the key store forgot it,
   * _none when it was already gone, _fail when the store cannot forget keys. Answered bare, as tdlib expects.
   */
  private destroyAuthKey(s: ClientSession, msgId: bigint): void {
    const keyId = s.authKeyId;
    const store = this.opts.keyStore;
    let result: 'destroy_auth_key_ok' | 'destroy_auth_key_none' | 'destroy_auth_key_fail';
    if (store.get(keyId) === undefined) result = 'destroy_auth_key_none';
    else if (typeof store.delete !== 'function') result = 'destroy_auth_key_fail';
    else {
      try {
        store.delete(keyId);
        result = store.get(keyId) === undefined ? 'destroy_auth_key_ok' : 'destroy_auth_key_fail';
      } catch (e) {
        this.log(`the key store did not delete key ${keyId}: ${errText(e)}`);
        result = 'destroy_auth_key_fail';
      }
    }
    this.enqueue(s, { body: encodeBareConstructor(MT[result]), contentRelated: false, ctor: result, kind: 'service', idKind: 'response', reqMsgId: msgId });
    if (result !== 'destroy_auth_key_ok') return;
    this.log(`auth key ${keyId} destroyed by the client`);
    this.wire({ dir: 'local', kind: 'key', ctor: 'auth_key', size: 256, note: `auth key ${keyId} destroyed on DC ${this.dcId}` });
    this.keyGone = true;
    for (const other of [...s.registry.sessions.values()]) if (other.authKeyId === keyId && other !== s) this.forget(other);
    // the answer still goes out with the key; then the session is gone
    for (const id of [...s.kept.keys()]) this.dropKept(s, id);
    if (s.registry.sessions.get(s.registryKey) === s) s.registry.sessions.delete(s.registryKey);
    s.retireAfterFlush = true;
    try {
      this.opts.onAuthKeyDestroyed?.(keyId);
    } catch (e) {
      this.log(`onAuthKeyDestroyed failed: ${errText(e)}`);
    }
  }

  /**
   * rpc_drop_answer (service_messages, "Cancellation of an RPC Query"): rpc_answer_dropped_running for a call still
   * running (its own answer becomes the same rpc_answer_dropped_running), rpc_answer_dropped with the answer's
   * msg_id, seq_no and size when it was generated and is kept (it is then never re-sent), rpc_answer_unknown else.
   */
  private dropAnswer(s: ClientSession, msgId: bigint, req: bigint): void {
    const state = s.inbound.callState(req);
    let result: Uint8Array;
    let note: string;
    if (state === 'running') {
      this.setCall(s, req, 'dropped');
      result = encodeBareConstructor(MT.rpc_answer_dropped_running);
      note = 'rpc_answer_dropped_running';
    } else {
      let item: OutItem | undefined;
      const keptId = s.answers.get(req);
      if (state === 'answered' && keptId !== undefined) item = s.kept.get(keptId);
      if (state === 'answered' && !item) {
        // generated but not sent yet: it gets its msg_id and seqno now, and goes nowhere
        const i = s.queue.findIndex((q) => q.answerTo === req && !q.resend);
        if (i >= 0) {
          item = s.queue.splice(i, 1)[0]!;
          this.stamp(s, item);
        }
      }
      if (item && item.msgId !== undefined && item.seqno !== undefined) {
        const dropped = item.msgId;
        this.dropKept(s, dropped);
        s.queue = s.queue.filter((q) => q.msgId !== dropped);
        this.setCall(s, req, 'dropped');
        result = encodeRpcAnswerDropped(dropped, item.seqno, item.body.length);
        note = `rpc_answer_dropped (answer ${dropped})`;
      } else {
        result = encodeBareConstructor(MT.rpc_answer_unknown);
        note = 'rpc_answer_unknown';
      }
    }
    this.enqueue(s, {
      body: encodeRpcResult(msgId, result),
      contentRelated: true,
      ctor: `rpc_result:${note.split(' ')[0]}`,
      kind: 'service',
      idKind: 'response',
      reqMsgId: msgId,
      answerTo: msgId,
      note: `for ${req}: ${note}`,
    });
  }

  private setCall(s: ClientSession, msgId: bigint, state: CallState): void {
    s.inbound.setCallState(msgId, state);
  }

  // ---------------- API calls ----------------

  private onCall(s: ClientSession, msgId: bigint, body: Uint8Array, base: Omit<WireEvent, 'time' | 'dcId' | 'connId' | 'ctor' | 'kind'>): void {
    const authKeyId = s.authKeyId;
    const r = new TlReader(body);
    const wrappers: string[] = [];
    const after: bigint[] = [];
    let withoutUpdates = false;
    let codec: TlCodec;
    let method: TlObject;
    try {
      codec = this.codec();
      for (;;) {
        const id = r.peekUint();
        const entry = codec.schema.byId(id);
        const q = entry?.kind === 'method' ? entry.params.find((p) => p.type.startsWith('!')) : undefined;
        if (!entry || !q) break;
        r.uint();
        const fields = readWrapperParams(codec, r, entry);
        wrappers.push(entry.name);
        if (entry.name === 'invokeWithLayer' && typeof fields.layer === 'number') {
          try {
            codec = this.codecFor(fields.layer);
          } catch (e) {
            this.log(`no codec for layer ${fields.layer}: ${errText(e)}`);
            this.wire({ ...base, kind: 'encrypted', ctor: 'invokeWithLayer', note: `layer ${fields.layer} not served` });
            return this.answerError(s, msgId, 400, 'CONNECTION_LAYER_INVALID', 'invokeWithLayer');
          }
          this.layerValue = fields.layer;
          this.layerFromClient = true;
          this.rememberLayer(authKeyId, fields.layer);
        } else if (entry.name === 'initConnection') {
          this.initConn = { _: 'initConnection', ...fields };
        } else if (entry.name === 'invokeWithoutUpdates') {
          withoutUpdates = true;
        } else if (entry.name === 'invokeAfterMsg' && typeof fields.msg_id === 'bigint') {
          after.push(fields.msg_id);
        } else if (entry.name === 'invokeAfterMsgs' && Array.isArray(fields.msg_ids)) {
          after.push(...(fields.msg_ids as bigint[]));
        }
      }
      const id = r.remaining >= 4 ? r.peekUint() : 0;
      const entry = codec.schema.byId(id);
      if (entry?.kind !== 'method') {
        this.log(`unknown method id ${hex(id)} (layer ${this.layerValue})`);
        this.wire({ ...base, kind: 'encrypted', ctor: hex(id), note: 'unknown method' });
        return this.answerError(s, msgId, 400, `INPUT_METHOD_INVALID_${id >>> 0}`, hex(id));
      }
      try {
        method = codec.decode(r);
      } catch (e) {
        this.log(`${entry.name} does not decode: ${errText(e)}`);
        this.wire({ ...base, kind: 'encrypted', ctor: entry.name, note: 'does not decode' });
        return this.answerError(s, msgId, 400, 'INPUT_FETCH_ERROR', entry.name);
      }
    } catch (e) {
      this.log(`call wrapper does not decode: ${errText(e)}`);
      this.wire({ ...base, kind: 'encrypted', ctor: this.nameOf(body), note: 'does not decode' });
      return this.answerError(s, msgId, 400, 'INPUT_FETCH_ERROR', 'call');
    }
    const note = wrappers.length ? `via ${wrappers.join(' > ')}${wrappers.includes('invokeWithLayer') ? ` (layer ${this.layerValue})` : ''}` : undefined;
    this.wire({ ...base, kind: 'encrypted', ctor: method._, ...(note ? { note } : {}) });
    const call: ServerCall = {
      method,
      layer: this.layerValue,
      dcId: this.dcId,
      authKeyId,
      sessionId: s.id,
      msgId,
      connection: { remote: this.link.remote, transport: (this.link as { transport?: string }).transport ?? 'unknown' },
      wrappers,
      withoutUpdates,
    };
    if (this.initConn) call.initConnection = this.initConn;
    this.setCall(s, msgId, 'running');
    const waitFor = after.map((a) => this.callDone.get(a)).filter((p): p is Promise<void> => !!p);
    this.runningCalls++;
    this.flow();
    const done = (async () => {
      if (waitFor.length) await Promise.all(waitFor);
      await this.runCall(s, call, codec);
    })()
      .catch((e: unknown) => this.fail(`internal error answering ${method._}: ${errText(e)}`))
      .finally(() => {
        this.runningCalls--;
        // only calls still running are waited for (invokeAfterMsg): a finished one leaves the map
        if (this.callDone.get(msgId) === done) this.callDone.delete(msgId);
        this.flow();
      });
    this.callDone.set(msgId, done);
    if (this.callDone.size > 512) this.callDone.delete(this.callDone.keys().next().value as bigint);
  }

  private async runCall(s: ClientSession, call: ServerCall, codec: TlCodec): Promise<void> {
    const name = call.method._;
    let value: unknown;
    try {
      value = await this.opts.handler(call);
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown; errorMessage?: unknown };
      if (e instanceof RpcError) return this.answerError(s, call.msgId, e.code, e.errorMessage, name);
      if (err && typeof err.code === 'number' && (typeof err.errorMessage === 'string' || typeof err.message === 'string')) {
        const msg = typeof err.errorMessage === 'string' ? err.errorMessage : (err.message as string);
        return this.answerError(s, call.msgId, err.code, msg, name);
      }
      this.log(`handler for ${name} failed: ${e instanceof Error ? `${e.name}: ${e.message}` : 'non-error thrown'}`);
      return this.answerError(s, call.msgId, 500, 'INTERNAL', name);
    }
    if (this.answeredDropped(s, call.msgId, name)) return;
    let bytes: Uint8Array;
    let rtype: string;
    try {
      rtype = codec.returnTypeOf(call.method);
      bytes = codec.encodeValue(rtype, value);
    } catch (e) {
      this.log(`result of ${name} does not encode: ${errText(e)}`);
      return this.answerError(s, call.msgId, 500, 'INTERNAL', name);
    }
    let note = `${bytes.length} bytes`;
    const threshold = this.opts.gzipThreshold ?? 1024;
    const ctorName = isTlObject(value) ? value._ : '';
    if (bytes.length > threshold && !NEVER_GZIPPED.has(ctorName)) {
      const packed = gzipSync(bytes);
      if (packed.length + 8 < bytes.length) {
        const w = new TlWriter(packed.length + 8);
        w.uint(MT.gzip_packed);
        w.bytes(packed);
        note = `gzip_packed ${bytes.length} → ${packed.length} bytes`;
        bytes = w.finish();
      }
    }
    this.setCall(s, call.msgId, 'answered');
    const ctor = ctorName || rtype;
    this.enqueue(s, {
      body: encodeRpcResult(call.msgId, bytes),
      contentRelated: true,
      ctor: `rpc_result:${ctor}`,
      kind: 'encrypted',
      idKind: 'response',
      reqMsgId: call.msgId,
      answerTo: call.msgId,
      note,
    });
  }

  /** A call whose answer the client dropped while it ran: its answer is rpc_answer_dropped_running (spec). */
  private answeredDropped(s: ClientSession, msgId: bigint, method: string): boolean {
    if (s.inbound.callState(msgId) !== 'dropped') return false;
    const body = encodeRpcResult(msgId, encodeBareConstructor(MT.rpc_answer_dropped_running));
    this.enqueue(s, {
      body,
      contentRelated: true,
      ctor: 'rpc_result:rpc_answer_dropped_running',
      kind: 'service',
      idKind: 'response',
      reqMsgId: msgId,
      answerTo: msgId,
      note: `${method}: answer dropped by the client`,
    });
    return true;
  }

  private answerError(s: ClientSession, msgId: bigint, code: number, message: string, method: string): void {
    if (this.answeredDropped(s, msgId, method)) return;
    this.setCall(s, msgId, 'answered');
    this.enqueue(s, {
      body: encodeRpcResult(msgId, encodeRpcError(code, message)),
      contentRelated: true,
      ctor: 'rpc_result:rpc_error',
      kind: 'encrypted',
      idKind: 'response',
      reqMsgId: msgId,
      answerTo: msgId,
      note: `${code} ${message} (${method})`,
    });
  }

  // ---------------- outgoing ----------------

  /**
   * Queues a message on the connection that carries the session now. Without one, a content-related message is
   * kept (stamped) for the session's next connection; anything else is dropped.
   */
  private enqueue(s: ClientSession, item: OutItem): void {
    if (s.destroyed) return;
    const conn = s.owner && s.owner.closedReason === undefined ? s.owner : undefined;
    if (!conn) {
      if (item.contentRelated && !item.resend) this.stamp(s, item);
      return;
    }
    s.queue.push(item);
    conn.scheduleFlush();
  }

  /** Gives a message its msg_id and seqno (once); a content-related one is kept from then on until acknowledged. */
  private stamp(s: ClientSession, it: OutItem): void {
    if (it.msgId !== undefined) return;
    it.msgId = s.clock.nextServer(it.idKind);
    it.seqno = s.seq.next(it.contentRelated);
    if (it.contentRelated && !s.destroyed) this.keep(s, it);
  }

  private keep(s: ClientSession, it: OutItem): void {
    const id = it.msgId!;
    s.kept.set(id, it);
    s.keptBytes += it.body.length;
    s.registry.keptBytes += it.body.length;
    if (it.answerTo !== undefined) s.answers.set(it.answerTo, id);
    while (s.kept.size > KEPT_MAX_MESSAGES || s.keptBytes > KEPT_MAX_BYTES) this.dropKept(s, s.kept.keys().next().value as bigint);
    if (s.registry.keptBytes > REGISTRY_KEPT_MAX_BYTES) {
      for (const other of s.registry.sessions.values()) {
        while (other.kept.size && s.registry.keptBytes > REGISTRY_KEPT_MAX_BYTES) this.dropKept(other, other.kept.keys().next().value as bigint);
        if (s.registry.keptBytes <= REGISTRY_KEPT_MAX_BYTES) break;
      }
    }
  }

  private dropKept(s: ClientSession, id: bigint): void {
    dropKeptMessage(s, id);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closedReason !== undefined) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      try {
        this.flush();
      } catch (e) {
        this.fail(`internal error while sending: ${errText(e)}`);
      }
    });
  }

  private flush(): void {
    if (this.closedReason !== undefined || !this.key) return;
    for (const s of this.sessions.values()) {
      if (s.owner !== this || s.destroyed) continue;
      const items: OutItem[] = [];
      if (s.acks.length) {
        const ids = s.acks.splice(0, 8192);
        items.push({
          body: encodeLongVectorMessage(MT.msgs_ack, ids),
          contentRelated: false,
          ctor: 'msgs_ack',
          kind: 'service',
          idKind: 'response',
          acks: ids,
          note: `${ids.length} ids`,
        });
        if (s.acks.length) this.scheduleFlush();
      }
      items.push(...s.queue.splice(0));
      for (const g of groupForContainers(items)) this.sendGroup(s, g);
      if (s.retireAfterFlush) this.forget(s);
    }
  }

  private sendGroup(s: ClientSession, group: OutItem[]): void {
    const key = this.key!;
    const salt = this.currentSalt(key.authKeyId);
    const enc = (msgId: bigint, seqno: number, body: Uint8Array): Uint8Array => encryptMessage(key.authKey, { salt, sessionId: s.id, msgId, seqno, body }, 8);
    for (const it of group) this.stamp(s, it);
    const items = group.map((it) => ({ it, msgId: it.msgId!, seqno: it.seqno!, body: it.body }));
    let containerId: bigint | undefined;
    let packet: Uint8Array;
    // a message going out again keeps its old msg_id: it travels in a new container, whose id is fresh
    if (items.length === 1 && !items[0]!.it.resend) {
      packet = enc(items[0]!.msgId, items[0]!.seqno, items[0]!.body);
    } else {
      containerId = s.clock.nextServer('response');
      const cseq = s.seq.next(false);
      const body = encodeContainer(items);
      packet = enc(containerId, cseq, body);
      this.wire({
        dir: 'out',
        kind: 'service',
        msgId: containerId.toString(),
        seqno: cseq,
        ctor: 'msg_container',
        size: body.length,
        note: `${items.length} messages`,
      });
    }
    for (const { it, msgId, seqno, body } of items) this.wire(outgoingWireEvent(it, msgId, seqno, body.length, containerId));
    this.link.send(packet);
  }
}

/** What makes a whole container invalid (bad_msg_notification 64), or undefined. */
function containerProblem(containerId: bigint, items: ContainerItem[]): string | undefined {
  let counted = 0;
  let bytes = 0;
  const ids = new Set<bigint>();
  for (const it of items) {
    const id = peekId(it.body);
    if (id === MT.msg_container) return 'a msg_container inside a msg_container';
    if (it.msgId >= containerId) return `message ${it.msgId} has an id not below the container's`;
    if (ids.has(it.msgId)) return `msg_id ${it.msgId} twice`;
    ids.add(it.msgId);
    if (!CONTAINER_COUNT_EXEMPT.has(id)) counted += 1;
    bytes += 16 + it.body.length;
  }
  if (counted > CONTAINER_MAX_MESSAGES) return `${counted} messages (at most ${CONTAINER_MAX_MESSAGES})`;
  if (bytes > CONTAINER_MAX_BYTES) return `${bytes} bytes (at most ${CONTAINER_MAX_BYTES})`;
  return undefined;
}

/** Reads the params of a generic wrapper (invokeWithLayer, initConnection, …) up to its `!X` query. */
function readWrapperParams(codec: TlCodec, r: TlReader, entry: TlEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flags: Record<string, number> = {};
  for (const p of entry.params) {
    if (p.type.startsWith('!')) break;
    if (p.flag) {
      if (((flags[p.flag.field] ?? 0) & (1 << p.flag.bit)) === 0) continue;
      if (p.type === 'true') {
        out[p.name] = true;
        continue;
      }
    }
    if (p.type === '#') {
      flags[p.name] = r.uint();
      continue;
    }
    out[p.name] = codec.readValue(r, p.type);
  }
  return out;
}

/** Serves MTProto on a server-side link until it closes; see ServerSession. */
export function serveMtprotoLink(link: FrameLink, opts: ServeMtprotoOptions): ServerSession {
  return new ServerSession(link, opts);
}
