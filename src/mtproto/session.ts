// Client side of an encrypted MTProto 2.0 session (mtproto/description, service_messages,
// service_messages_about_messages, security_guidelines).
//
// The session outlives its connections. Its state (session_id, msg_id clock, seqno, salts, the window of server
// ids: session-state.ts) and its queries (pending by msg_id) stay when a connection is lost; the owner attaches a
// new connection with attach() and every unanswered query is sent again: inside a new msg_container with its
// original msg_id while that id is young (the server then answers from what it kept, or runs it if it never got
// it), with a new msg_id when it is too old. With `survivesDisconnect` off (extra download connections, CDN
// sessions, tests), a lost connection fails every pending call as before.
//
// Outgoing: invoke() queues a call; a flush on the next tick gives every queued message (calls + pending acks) a
// msg_id and seqno and sends them alone or in small msg_containers (≤ 32 KiB, at most one file request each). The
// first calls (until one is answered) are wrapped in invokeWithLayer(layer, initConnection(..., query)). Big bodies
// travel gzip_packed when that saves bytes. Keepalive: ping_delay_disconnect on a timer; a connection that stays
// silent after we sent something is closed (read deadline) so the owner reconnects.
//
// Incoming: every packet is decrypted and checked (msg_key, lengths, padding, session_id, msg_id parity). A failed
// check drops the packet, emits a 'check-failed' wire event and closes the connection. Duplicate, too old or
// out-of-window server msg_ids are ignored (a wire event says so) without closing: the guidelines ask to ignore
// them, and a server re-sending an answer we already have is normal after a reconnect (we acknowledge it again).
//
// Service-message constructors come from service-messages.ts, the module the server side uses too.
import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import { TlReader, TlWriter } from '../tl/binary';
import { isTlObject, TlCodec } from '../tl/codec';
import { API_LAYER, fullSchema } from '../tl/bundled';
import type { TlObject } from '../tl/types';
import { transportErrorCode } from '../transport/codec';
import type { FrameLink } from '../transport/tcp';
import { BadMessageError, CallTimeoutError, MessageCheckError, RpcError, SessionClosedError, TransportError } from './errors';
import { decryptMessage, encryptMessage, keyIdOf, quickAckToken, type EncryptedMessageFields } from './message-crypto';
import { OFFLOAD_MIN_BYTES, sharedDecryptPool } from './decrypt-pool';
import { MsgIdClock } from './msg-id';
import { SessionState } from './session-state';
import {
  BAD_MSG_TEXT,
  MT,
  decodeContainer,
  decodeFutureSalts,
  encodeContainer,
  encodeLongVectorMessage,
  errText,
  groupForContainers,
  gunzipPacked,
  isClockNotification,
  outgoingWireEvent,
  peekId,
  randomLong,
  readLongVector,
  serviceName,
  type ContainerItem,
  type ContainerLimits,
  type FutureSalt,
} from './service-messages';
import { emitWire, newConnId, type WireEvent, type WireKind, type WireListener } from './wire-event';

export interface InitConnectionParams {
  api_id: number;
  device_model: string;
  system_version: string;
  app_version: string;
  system_lang_code: string;
  lang_pack: string;
  lang_code: string;
  proxy?: TlObject;
  params?: TlObject;
}

export interface MtprotoSessionOptions {
  dcId: number;
  authKey: Uint8Array;
  serverSalt: bigint;
  /** Seconds to add to the local clock to get server time (ignored when `clock` is given). */
  timeOffset?: number;
  /** The offset came from the server (handshake): apply the ±300/30 s window from the start. Default false. */
  timeSynced?: boolean;
  /** A clock to share (e.g. the handshake's); default a new one from timeOffset. */
  clock?: MsgIdClock;
  layer?: number;
  codec?: TlCodec;
  initConnection: InitConnectionParams;
  onWire?: WireListener;
  connId?: string;
  /** How long content-related server messages wait for an outgoing message to carry their ack (default 150 ms). */
  ackDelayMs?: number;
  /** Default invoke() timeout (default 60 s; 0 = none). */
  timeoutMs?: number;
  /** How often one call may be re-sent after salt/time/seqno notifications (default 5). */
  maxResends?: number;
  /** Local clock in ms (tests skew it). */
  now?: () => number;
  /** Continue an existing session (default: a new random session_id). */
  sessionId?: bigint;
  /**
   * Keep pending calls when the connection is lost: 'disconnected' is emitted and the owner attaches a new
   * connection (attach()), on which they are sent again. Default false: a lost connection fails every call.
   */
  survivesDisconnect?: boolean;
  /** Keepalive: a ping_delay_disconnect this often while connected (default 60 s with survivesDisconnect, else off; 0 = off). */
  pingIntervalMs?: number;
  /** A connection silent this long after we sent something (or after a keepalive ping) is closed (default 20 s). */
  readTimeoutMs?: number;
  /** Ask for future salts and switch salts on time (default: with survivesDisconnect). */
  futureSalts?: boolean;
  /** Ask for quick acks on transports that have them (default true). */
  quickAcks?: boolean;
}

export interface InvokeOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type PendingKind = 'call' | 'ping' | 'future_salts' | 'drop' | 'destroy_key';

/** An incoming packet waiting for its turn (and, when big, for a worker to decrypt it). */
interface InboundPacket {
  payload: Uint8Array; // detached once posted to a worker: use `size`
  size: number;
  decrypting?: boolean;
  fields?: EncryptedMessageFields;
  error?: unknown;
}

interface Pending {
  kind: PendingKind;
  /** The method the caller asked for (inner name, used in errors and wire events). */
  method: string;
  returnType: string;
  body: Uint8Array;
  wrapped: boolean;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  msgId?: bigint;
  seqno?: number;
  sentAt: number;
  resends: number;
  acked: boolean;
  timer?: NodeJS.Timeout;
  cleanup?: () => void;
  /** A keepalive ping: never re-sent, its silence closes the connection. */
  keepalive?: boolean;
}

interface OutMsg {
  body: Uint8Array;
  contentRelated: boolean;
  ctor: string;
  kind: WireKind;
  pending?: Pending;
  acks?: bigint[];
  reqMsgId?: bigint;
  note?: string;
  /** Re-sent with its original msg_id and seqno: only inside a container (service_messages_about_messages). */
  fixed?: { msgId: bigint; seqno: number };
}

/** Methods whose requests or answers carry file parts: one per container at most. */
const FILE_METHODS = new Set(['upload.getFile', 'upload.getCdnFile', 'upload.saveFilePart', 'upload.saveBigFilePart', 'upload.getWebFile']);
/** Our containers stay small, as TDLib's and mtcute's do (the server would take 1020 messages / 1 MiB). */
export const CLIENT_CONTAINER_LIMITS: ContainerLimits = {
  maxMessages: 1000,
  maxBytes: 32 * 1024,
  exclusive: (m) => FILE_METHODS.has((m as OutMsg).pending?.method ?? ''),
};
/** A re-sent message keeps its msg_id while the server still keeps ids that old (300 s, with a margin). */
const REUSE_MSG_ID_SECONDS = 240;
/** Packets up to this size ask for a quick ack (bigger ones are file parts: their answer comes soon enough). */
const QUICK_ACK_MAX_BYTES = 16 * 1024;
/** Call bodies from this size on are sent gzip_packed when that is smaller. */
const GZIP_MIN_BYTES = 1024;
const NEVER_GZIPPED = new Set(['upload.saveFilePart', 'upload.saveBigFilePart']);

function newPending(
  kind: PendingKind,
  method: string,
  returnType: string,
  body: Uint8Array,
  resolve: (v: unknown) => void,
  reject: (e: Error) => void,
  wrapped = false,
): Pending {
  return { kind, method, returnType, body, wrapped, resolve, reject, sentAt: Date.now(), resends: 0, acked: false };
}

/**
 * A live encrypted session. Events: 'wire', 'close' (reason: the session is over), 'disconnected' (reason: the
 * connection is lost, the session waits for attach()), 'update' (TlObject), 'transport-error' (code),
 * 'new-session' ({ firstMsgId, reason }: the server started a new session, updates may have been missed).
 */
export class MtprotoSession extends EventEmitter {
  readonly dcId: number;
  readonly authKeyId: bigint;
  readonly layer: number;
  readonly codec: TlCodec;
  readonly clock: MsgIdClock;
  private readonly authKey: Uint8Array;
  private link: FrameLink | undefined;
  private detachLink: (() => void) | undefined;
  private connIdValue: string;
  private readonly initParams: InitConnectionParams;
  private readonly onWire: WireListener | undefined;
  private readonly ackDelayMs: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxResends: number;
  private readonly survives: boolean;
  private readonly pingIntervalMs: number;
  private readonly readTimeoutMs: number;
  private readonly autoFutureSalts: boolean;
  private readonly state: SessionState;
  private initDone = false;
  private closedReason: string | undefined;
  private readonly pending = new Map<bigint, Pending>();
  private readonly queue: OutMsg[] = [];
  private ackQueue: bigint[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  /** Sent containers / ack messages by msg_id, to resend their content after a notification. */
  private readonly sentContainers = new Map<bigint, bigint[]>();
  private readonly sentAcks = new Map<bigint, bigint[]>();
  private inbound: InboundPacket[] = [];
  private pingTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  /** Local time of the first send since the last packet received (undefined: nothing awaited). */
  private awaitingSince: number | undefined;
  private saltsInFlight = false;
  private nextSaltCheck = 0;
  private readonly quickAcks: boolean;
  /** Quick-ack tokens we wait for → the msg_ids of the content messages of that packet. */
  private readonly quickAckWaiting = new Map<number, bigint[]>();

  constructor(link: FrameLink, opts: MtprotoSessionOptions) {
    super();
    this.dcId = opts.dcId;
    this.authKey = opts.authKey;
    this.authKeyId = keyIdOf(opts.authKey);
    this.layer = opts.layer ?? API_LAYER;
    this.codec = opts.codec ?? defaultCodec();
    this.initParams = opts.initConnection;
    this.onWire = opts.onWire;
    this.connIdValue = opts.connId ?? newConnId(opts.dcId);
    this.ackDelayMs = opts.ackDelayMs ?? 150;
    this.defaultTimeoutMs = opts.timeoutMs ?? 60_000;
    this.maxResends = opts.maxResends ?? 5;
    this.survives = opts.survivesDisconnect ?? false;
    this.pingIntervalMs = opts.pingIntervalMs ?? (this.survives ? 60_000 : 0);
    this.readTimeoutMs = opts.readTimeoutMs ?? 20_000;
    this.autoFutureSalts = opts.futureSalts ?? this.survives;
    this.quickAcks = opts.quickAcks ?? true;
    const clockOpts: { timeOffset?: number; synced?: boolean; now?: () => number } = { synced: opts.timeSynced ?? false };
    if (opts.timeOffset !== undefined) clockOpts.timeOffset = opts.timeOffset;
    if (opts.now) clockOpts.now = opts.now;
    this.clock = opts.clock ?? new MsgIdClock(clockOpts);
    this.state = new SessionState({ serverSalt: opts.serverSalt, clock: this.clock, ...(opts.sessionId !== undefined ? { sessionId: opts.sessionId } : {}) });
    this.attachLink(link);
  }

  get sessionId(): bigint {
    return this.state.sessionId;
  }
  get serverSalt(): bigint {
    return this.state.serverSalt;
  }
  get timeOffset(): number {
    return this.clock.timeOffset;
  }
  /** The id of the current (or last) connection, for traces. */
  get connId(): string {
    return this.connIdValue;
  }
  get closed(): boolean {
    return this.closedReason !== undefined;
  }
  /** True while a connection is attached and open. */
  get connected(): boolean {
    return this.link !== undefined && !this.link.closed && this.closedReason === undefined;
  }
  /** Number of calls waiting for an answer (sent or queued). */
  get pendingCount(): number {
    let n = 0;
    for (const p of this.pending.values()) if (!p.keepalive) n++;
    return n + this.queue.filter((q) => q.pending && !q.pending.keepalive).length;
  }
  /** Salts from the last future_salts answer. */
  get knownFutureSalts(): readonly FutureSalt[] {
    return this.state.futureSalts;
  }

  // ---------------- public API ----------------

  invoke<T = unknown>(method: TlObject, opts: InvokeOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedReason !== undefined) {
        reject(new SessionClosedError(this.closedReason, method._, this.dcId));
        return;
      }
      let body: Uint8Array;
      let returnType: string;
      let wrapped = false;
      let gzNote: string | undefined;
      const inner = this.codec.innerQuery(method)._;
      try {
        returnType = this.codec.returnTypeOf(method);
        let toSend = method;
        if (!this.initDone) {
          wrapped = true;
          toSend = {
            _: 'invokeWithLayer',
            layer: this.layer,
            query: { _: 'initConnection', ...this.initParams, query: method },
          };
        }
        body = this.codec.encode(toSend);
        if (body.length >= GZIP_MIN_BYTES && !NEVER_GZIPPED.has(inner)) {
          const packed = gzipSync(body);
          if (packed.length + 16 < body.length) {
            gzNote = `gzip_packed ${body.length} → ${packed.length} bytes`;
            const w = new TlWriter(packed.length + 8);
            w.uint(MT.gzip_packed);
            w.bytes(packed);
            body = w.finish();
          }
        }
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      const p = newPending('call', inner, returnType, body, resolve as (v: unknown) => void, reject, wrapped);
      this.arm(p, opts);
      const notes = [wrapped ? `wrapped in invokeWithLayer(${this.layer}) + initConnection` : '', gzNote ?? ''].filter(Boolean).join('; ');
      this.enqueue({ body, contentRelated: true, ctor: p.method, kind: 'encrypted', pending: p, ...(notes ? { note: notes } : {}) });
    });
  }

  /** Sends ping and resolves with the round trip in ms when the pong arrives. */
  ping(opts: InvokeOptions = {}): Promise<number> {
    const w = new TlWriter(12);
    w.uint(MT.ping);
    w.long(randomLong());
    return this.serviceRequest('ping', 'ping', 'Pong', w.finish(), opts);
  }

  /** get_future_salts: resolves with the salts (also used for the salt switch when they come due). */
  getFutureSalts(num = 1, opts: InvokeOptions = {}): Promise<{ now: number; salts: FutureSalt[] }> {
    const w = new TlWriter(8);
    w.uint(MT.get_future_salts);
    w.int(num);
    return this.serviceRequest('future_salts', 'get_future_salts', 'FutureSalts', w.finish(), opts);
  }

  /** destroy_auth_key: asks the DC to forget this key; resolves with the answer's name. The session closes after. */
  async destroyAuthKey(opts: InvokeOptions = {}): Promise<'destroy_auth_key_ok' | 'destroy_auth_key_none' | 'destroy_auth_key_fail'> {
    const w = new TlWriter(4);
    w.uint(MT.destroy_auth_key);
    const res = await this.serviceRequest<'destroy_auth_key_ok' | 'destroy_auth_key_none' | 'destroy_auth_key_fail'>(
      'destroy_key',
      'destroy_auth_key',
      'DestroyAuthKeyRes',
      w.finish(),
      opts,
    );
    this.close(`auth key destroyed (${res})`);
    return res;
  }

  /** The next call is wrapped in invokeWithLayer + initConnection again (after CONNECTION_NOT_INITED). */
  requireInit(): void {
    this.initDone = false;
  }

  /**
   * A new connection for this session (after 'disconnected'): unanswered queries are sent again on it. `connId`
   * names the connection in wire events.
   */
  attach(link: FrameLink, connId?: string): void {
    if (this.closedReason !== undefined) {
      link.close('the session is closed');
      return;
    }
    if (this.link && !this.link.closed) this.link.close('replaced by a new connection');
    this.detach();
    if (connId) this.connIdValue = connId;
    this.attachLink(link);
    this.requeueUnanswered('re-sent after reconnect');
    this.scheduleFlush();
  }

  /** Rejects every pending call with the error `make` builds (the owner gave up on this session). */
  failPending(make: (method: string) => Error): void {
    this.failAll((p) => make(p.method));
  }

  /** Closes the connection and ends the session; pending calls reject with SessionClosedError. */
  close(reason = 'closed by the client'): void {
    this.shutdown(reason, true);
  }

  // ---------------- connection ----------------

  private attachLink(link: FrameLink): void {
    this.link = link;
    this.inbound = [];
    this.awaitingSince = undefined;
    const onFrame = (payload: Uint8Array): void => this.onFrame(link, payload);
    const onClose = (reason: string): void => this.onLinkClosed(link, reason);
    const onQuickAck = (token: number): void => this.onQuickAck(link, token);
    link.on('frame', onFrame);
    link.on('close', onClose);
    link.on('quick-ack', onQuickAck);
    this.detachLink = () => {
      link.off('frame', onFrame);
      link.off('close', onClose);
      link.off('quick-ack', onQuickAck);
    };
    this.quickAckWaiting.clear();
    if (link.closed) {
      this.onLinkClosed(link, 'connection closed before the session started');
      return;
    }
    this.startTimers();
  }

  private detach(): void {
    this.detachLink?.();
    this.detachLink = undefined;
    this.link = undefined;
    this.stopTimers();
  }

  private onLinkClosed(link: FrameLink, reason: string): void {
    if (link !== this.link || this.closedReason !== undefined) return;
    if (!this.survives) {
      this.shutdown(`connection closed: ${reason}`, false);
      return;
    }
    this.detach();
    this.inbound = [];
    // keepalive pings belong to the dead connection
    for (const p of [...this.pending.values()]) if (p.keepalive) this.settle(p);
    for (const q of [...this.queue]) if (q.pending?.keepalive) this.settle(q.pending);
    this.safeEmit('disconnected', reason);
  }

  private startTimers(): void {
    this.stopTimers();
    if (!this.survives) return;
    if (this.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.keepalive(), this.pingIntervalMs);
      this.pingTimer.unref?.();
    }
    const every = Math.max(50, Math.floor(this.readTimeoutMs / 4));
    this.readTimer = setInterval(() => this.checkReadDeadline(), every);
    this.readTimer.unref?.();
  }

  private stopTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.readTimer) clearInterval(this.readTimer);
    this.pingTimer = undefined;
    this.readTimer = undefined;
  }

  /** ping_delay_disconnect: the server closes the connection if we vanish; its pong proves the link alive. */
  private keepalive(): void {
    if (!this.connected) return;
    for (const p of this.pending.values()) if (p.keepalive) return; // one in flight is enough
    const delaySeconds = Math.ceil((this.pingIntervalMs + this.readTimeoutMs) / 1000) + 5;
    const w = new TlWriter(16);
    w.uint(MT.ping_delay_disconnect);
    w.long(randomLong());
    w.int(delaySeconds);
    const p = newPending(
      'ping',
      'ping_delay_disconnect',
      'Pong',
      w.finish(),
      () => undefined,
      () => undefined,
    );
    p.keepalive = true;
    this.arm(p, { timeoutMs: 0 });
    this.enqueue({
      body: p.body,
      contentRelated: true,
      ctor: 'ping_delay_disconnect',
      kind: 'service',
      pending: p,
      note: `keepalive, disconnect after ${delaySeconds} s`,
    });
  }

  private checkReadDeadline(): void {
    if (!this.connected || this.awaitingSince === undefined) return;
    const silent = Date.now() - this.awaitingSince;
    if (silent < this.readTimeoutMs) return;
    this.wire({
      dir: 'local',
      kind: 'service',
      ctor: 'read_timeout',
      size: 0,
      note: `nothing received for ${silent} ms after sending: connection presumed dead`,
    });
    this.link?.close(`read timeout: nothing received for ${Math.round(silent / 1000)} s`);
  }

  // ---------------- sending ----------------

  /** A service request (ping, get_future_salts, …) that settles when its answer arrives, like a call. */
  private serviceRequest<T>(kind: Exclude<PendingKind, 'call'>, ctor: string, returnType: string, body: Uint8Array, opts: InvokeOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedReason !== undefined) return reject(new SessionClosedError(this.closedReason, ctor, this.dcId));
      const p = newPending(kind, ctor, returnType, body, resolve as (v: unknown) => void, reject);
      this.arm(p, opts);
      this.enqueue({ body, contentRelated: true, ctor, kind: 'service', pending: p });
    });
  }

  private arm(p: Pending, opts: InvokeOptions): void {
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    if (timeoutMs > 0) {
      p.timer = setTimeout(() => this.giveUp(p, new CallTimeoutError(p.method, this.dcId, 'timeout', timeoutMs)), timeoutMs);
      p.timer.unref?.();
    }
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) {
        queueMicrotask(() => this.giveUp(p, new CallTimeoutError(p.method, this.dcId, 'aborted')));
        return;
      }
      const onAbort = (): void => this.giveUp(p, new CallTimeoutError(p.method, this.dcId, 'aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      p.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
  }

  private settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    p.cleanup?.();
    p.cleanup = undefined;
    if (p.msgId !== undefined && this.pending.get(p.msgId) === p) this.pending.delete(p.msgId);
    const qi = this.queue.findIndex((q) => q.pending === p);
    if (qi >= 0) this.queue.splice(qi, 1);
  }

  private abandon(p: Pending, err: Error): void {
    this.settle(p);
    p.reject(err);
  }

  /** The caller stopped waiting (abort or deadline): a call the server already has is told to drop its answer. */
  private giveUp(p: Pending, err: CallTimeoutError): void {
    const sentId = p.kind === 'call' && this.pending.get(p.msgId ?? -1n) === p ? p.msgId : undefined;
    this.abandon(p, err);
    if (sentId !== undefined && this.closedReason === undefined) this.dropAnswer(sentId, p.method, err.reason);
  }

  /** rpc_drop_answer for a sent query; the answer (rpc_answer_*) is only traced. */
  private dropAnswer(reqMsgId: bigint, method: string, why: string): void {
    const w = new TlWriter(12);
    w.uint(MT.rpc_drop_answer);
    w.long(reqMsgId);
    const p = newPending(
      'drop',
      'rpc_drop_answer',
      'RpcDropAnswer',
      w.finish(),
      () => undefined,
      () => undefined,
    );
    this.arm(p, { timeoutMs: 30_000 });
    this.enqueue({
      body: p.body,
      contentRelated: true,
      ctor: 'rpc_drop_answer',
      kind: 'service',
      pending: p,
      reqMsgId,
      note: `${method} ${why}: the server may drop its answer`,
    });
  }

  private enqueue(m: OutMsg): void {
    this.queue.push(m);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closedReason !== undefined || !this.connected) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private queueAck(id: bigint): void {
    this.ackQueue.push(id);
    if (this.ackQueue.length >= 16) this.scheduleFlush();
    else if (!this.ackTimer && this.closedReason === undefined) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = undefined;
        this.flush();
      }, this.ackDelayMs);
      this.ackTimer.unref?.();
    }
  }

  private flush(): void {
    if (this.closedReason !== undefined || !this.connected) return;
    try {
      this.maybeFetchFutureSalts();
      this.flushUnsafe();
    } catch (e) {
      this.failConnection(`internal error while sending: ${errText(e)}`);
    }
  }

  private flushUnsafe(): void {
    const msgs: OutMsg[] = [];
    if (this.ackQueue.length) {
      if (this.ackTimer) clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
      while (this.ackQueue.length) {
        const ids = this.ackQueue.splice(0, 8192);
        msgs.push({
          body: encodeLongVectorMessage(MT.msgs_ack, ids),
          contentRelated: false,
          ctor: 'msgs_ack',
          kind: 'service',
          acks: ids,
          note: `${ids.length} ids`,
        });
      }
    }
    msgs.push(...this.queue.splice(0));
    for (const g of groupForContainers(msgs, CLIENT_CONTAINER_LIMITS)) this.sendGroup(g);
  }

  private sendGroup(group: OutMsg[]): void {
    const items: (ContainerItem & { m: OutMsg })[] = group.map((m) => ({
      m,
      msgId: m.fixed ? m.fixed.msgId : this.clock.next(),
      seqno: m.fixed ? m.fixed.seqno : this.state.seq.next(m.contentRelated),
      body: m.body,
    }));
    let containerId: bigint | undefined;
    let packet: Uint8Array;
    if (items.length === 1 && !items[0]!.m.fixed) {
      const it = items[0]!;
      packet = this.encrypt(it.msgId, it.seqno, it.body);
    } else {
      containerId = this.clock.next();
      const cseq = this.state.seq.next(false);
      const cbody = encodeContainer(items);
      packet = this.encrypt(containerId, cseq, cbody);
      this.remember(
        this.sentContainers,
        containerId,
        items.map((i) => i.msgId),
      );
      this.wire({
        dir: 'out',
        kind: 'service',
        msgId: containerId.toString(),
        seqno: cseq,
        ctor: 'msg_container',
        size: cbody.length,
        note: `${items.length} messages`,
      });
    }
    let content = false;
    for (const it of items) {
      const m = it.m;
      if (m.pending) {
        m.pending.msgId = it.msgId;
        m.pending.seqno = it.seqno;
        m.pending.sentAt = Date.now();
        this.pending.set(it.msgId, m.pending);
      }
      content ||= m.contentRelated;
      if (m.acks) this.remember(this.sentAcks, it.msgId, m.acks);
      this.wire(outgoingWireEvent(m, it.msgId, it.seqno, it.body.length, containerId));
    }
    if (content && this.awaitingSince === undefined) this.awaitingSince = Date.now();
    const link = this.link!;
    if (content && this.quickAcks && packet.length <= QUICK_ACK_MAX_BYTES && hasQuickAcks(link)) {
      const ids = items.filter((it) => it.m.contentRelated && it.m.pending).map((it) => it.msgId);
      this.quickAckWaiting.set(quickAckToken(this.authKey, packet, 0), ids);
      if (this.quickAckWaiting.size > 256) this.quickAckWaiting.delete(this.quickAckWaiting.keys().next().value as number);
      link.send(packet, { quickAck: true });
      return;
    }
    link.send(packet);
  }

  /** The server's transport confirmed a packet: its queries are received (shown in the trace). */
  private onQuickAck(link: FrameLink, token: number): void {
    if (link !== this.link) return;
    const ids = this.quickAckWaiting.get(token >>> 0);
    if (!ids) {
      this.wire({ dir: 'in', kind: 'service', ctor: 'quick_ack', size: 4, note: 'quick ack for no packet we sent: ignored' });
      return;
    }
    this.quickAckWaiting.delete(token >>> 0);
    for (const id of ids) {
      const p = this.pending.get(id);
      if (p && !p.acked) p.acked = true;
      this.wire({
        dir: 'in',
        kind: 'service',
        msgId: id.toString(),
        ctor: 'quick_ack',
        size: 4,
        acked: true,
        note: `quick ack: ${p?.method ?? 'message'} received by the server`,
      });
    }
  }

  private remember(map: Map<bigint, bigint[]>, id: bigint, ids: bigint[]): void {
    map.set(id, ids);
    if (map.size > 256) map.delete(map.keys().next().value as bigint);
  }

  private encrypt(msgId: bigint, seqno: number, body: Uint8Array): Uint8Array {
    return encryptMessage(this.authKey, { salt: this.state.serverSalt, sessionId: this.state.sessionId, msgId, seqno, body }, 0);
  }

  /** Asks for future salts when the known ones run out, so a rotation never costs a bad_server_salt. */
  private maybeFetchFutureSalts(): void {
    if (!this.autoFutureSalts || this.saltsInFlight) return;
    const now = Date.now();
    if (now < this.nextSaltCheck) return;
    this.nextSaltCheck = now + 1000;
    const serverNow = this.clock.serverNowMs() / 1000;
    const upcoming = this.state.futureSalts.filter((f) => f.valid_since > serverNow).length;
    if (upcoming >= 2) return;
    this.saltsInFlight = true;
    this.getFutureSalts(16, { timeoutMs: 30_000 })
      .catch(() => undefined)
      .finally(() => {
        this.saltsInFlight = false;
      });
  }

  private wire(e: Omit<WireEvent, 'time' | 'dcId' | 'connId'>): void {
    const ev: WireEvent = { time: Date.now(), dcId: this.dcId, connId: this.connIdValue, ...e };
    emitWire(this.onWire, ev);
    if (this.listenerCount('wire')) {
      try {
        this.emit('wire', ev);
      } catch {
        // observers must not break the session
      }
    }
  }

  private safeEmit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch {
      // a throwing listener must not break the session
    }
  }

  // ---------------- receiving ----------------

  private onFrame(link: FrameLink, payload: Uint8Array): void {
    if (this.closedReason !== undefined || link !== this.link) return;
    const pool = payload.length >= OFFLOAD_MIN_BYTES ? sharedDecryptPool() : null;
    if (!pool && this.inbound.length === 0) return this.guarded(() => this.handlePacket(payload));
    // Big messages decrypt on a worker; everything is still handled in arrival order (msg_id checks, acks and
    // rpc results must see the stream as the server sent it), so a small message waits behind a big one.
    const entry: InboundPacket = { payload, size: payload.length };
    const queue = this.inbound;
    if (pool) {
      entry.decrypting = true;
      pool
        .decrypt(this.authKey, payload, 8)
        .then(
          (fields) => {
            entry.fields = fields;
          },
          (e: unknown) => {
            entry.error = e;
          },
        )
        .finally(() => {
          entry.decrypting = false;
          if (queue === this.inbound) this.drainInbound();
        });
    }
    queue.push(entry);
    this.drainInbound();
  }

  private drainInbound(): void {
    const queue = this.inbound;
    while (this.closedReason === undefined && queue === this.inbound && queue.length > 0 && !queue[0]!.decrypting) {
      const entry = queue.shift()!;
      this.guarded(() => {
        if (entry.fields) return this.handleDecrypted(entry.fields, entry.size);
        if (entry.error instanceof MessageCheckError) return this.checkFailed(entry.error.check, entry.size);
        if (entry.error !== undefined) throw entry.error; // the packet went to a worker that failed: it is gone
        this.handlePacket(entry.payload);
      });
    }
  }

  private guarded(handle: () => void): void {
    try {
      handle();
    } catch (e) {
      this.failConnection(`internal error while handling a message: ${errText(e)}`);
    }
  }

  /** Drops the connection after a failed check or an internal error; a surviving session reconnects. */
  private failConnection(reason: string): void {
    if (this.survives && this.link && !this.link.closed) this.link.close(reason);
    else this.shutdown(reason, true);
  }

  private handlePacket(payload: Uint8Array): void {
    const tcode = transportErrorCode(payload);
    if (tcode !== null) return this.onTransportError(tcode);
    let m;
    try {
      m = decryptMessage(this.authKey, payload, 8);
    } catch (e) {
      if (e instanceof MessageCheckError) return this.checkFailed(e.check, payload.length);
      throw e;
    }
    this.handleDecrypted(m, payload.length);
  }

  private handleDecrypted(m: EncryptedMessageFields, size: number): void {
    if (m.sessionId !== this.state.sessionId) {
      if (!this.state.wasEarlierSession(m.sessionId)) return this.checkFailed('session_id', size);
      // an answer to a session we left (bad_msg 32/33 renewed it) may still be on its way: not an attack
      this.wire({
        dir: 'in',
        kind: 'check-failed',
        ctor: 'encrypted_message',
        size,
        msgId: m.msgId.toString(),
        note: 'session_id of another session: message ignored',
      });
      return;
    }
    this.awaitingSince = undefined;
    if (!this.acceptMsgId(m.msgId, m.seqno, isClockNotification(m.body), size)) return;
    this.handleMessage(m.msgId, m.seqno, m.body, undefined);
  }

  /**
   * The incoming msg_id checks of the security guidelines. Even ids close the connection (a check failure); a
   * duplicate, an id older than the window or out of the time window is ignored (acknowledged again when it is
   * content-related, so a server re-sending an answer we have stops).
   */
  private acceptMsgId(id: bigint, seqno: number, clockNotification: boolean, size: number): boolean {
    if ((id & 1n) !== 1n) {
      this.checkFailed('msg_id_parity', size, id);
      return false;
    }
    let why: string | undefined;
    if (this.state.recent.has(id)) why = 'duplicate msg_id';
    else if (this.state.recent.tooOld(id)) why = 'msg_id older than every id kept';
    else if (this.clock.synced && !clockNotification) {
      const skew = this.clock.skewOf(id);
      if (skew < -300) why = `msg_id ${Math.round(-skew)} s in the past`;
      else if (skew > 30) why = `msg_id ${Math.round(skew)} s in the future`;
    }
    if (why) {
      this.wire({ dir: 'in', kind: 'check-failed', ctor: 'encrypted_message', size, msgId: id.toString(), seqno, note: `${why}: message ignored` });
      if (seqno & 1 && why === 'duplicate msg_id') this.queueAck(id);
      return false;
    }
    this.state.recent.add(id);
    if (!this.clock.synced && !clockNotification) this.syncOnFirstMessage(id);
    return true;
  }

  /**
   * A clock not synced by this session (a stored key: the offset is from an earlier run) is set by the first
   * server message that passed every other check — it cannot be a replay: the session_id is new — and from then on
   * the ±300/30 s window applies to every message.
   */
  private syncOnFirstMessage(id: bigint): void {
    const skew = this.clock.skewOf(id);
    if (Math.abs(skew) > 30) {
      this.clock.syncFromServerMsgId(id);
      this.wire({
        dir: 'local',
        kind: 'service',
        ctor: 'time_sync',
        size: 0,
        note: `time offset now ${this.clock.timeOffset} s (the stored offset was ${Math.round(skew)} s off)`,
      });
    }
    this.clock.synced = true;
  }

  private checkFailed(check: string, size: number, msgId?: bigint): void {
    const e: Omit<WireEvent, 'time' | 'dcId' | 'connId'> = {
      dir: 'in',
      kind: 'check-failed',
      ctor: 'encrypted_message',
      size,
      note: `check failed: ${check}; message dropped, connection closed`,
    };
    if (msgId !== undefined) e.msgId = msgId.toString();
    this.wire(e);
    this.failConnection(`incoming message failed the ${check} check`);
  }

  private onTransportError(code: number): void {
    this.wire({ dir: 'in', kind: 'transport-error', ctor: 'transport_error', size: 4, note: `transport error ${code}` });
    this.safeEmit('transport-error', code);
    if (!this.survives) {
      this.failAll((p) => new TransportError(code, this.dcId, p.method));
      this.shutdown(`transport error ${code}`, true);
      return;
    }
    // The owner decides what the code means (−404: probe with a fresh connection; −429: back off); the calls wait.
    this.link?.close(`transport error ${code}`);
  }

  private handleMessage(msgId: bigint, seqno: number, body: Uint8Array, containerId: bigint | undefined): void {
    const id = peekId(body);
    const base: Omit<WireEvent, 'time' | 'dcId' | 'connId' | 'ctor' | 'kind'> = { dir: 'in', msgId: msgId.toString(), seqno, size: body.length };
    if (containerId !== undefined) base.containerId = containerId.toString();

    if (id === MT.msg_container) {
      if (containerId !== undefined) return this.checkFailed('container_nested', body.length, msgId);
      let items: ContainerItem[];
      try {
        items = decodeContainer(body);
      } catch {
        return this.checkFailed('container_format', body.length, msgId);
      }
      this.wire({ ...base, kind: 'service', ctor: 'msg_container', note: `${items.length} messages` });
      for (const it of items) {
        if (this.closedReason !== undefined || !this.connected) return;
        if (!this.acceptMsgId(it.msgId, it.seqno, isClockNotification(it.body), it.body.length)) continue;
        this.handleMessage(it.msgId, it.seqno, it.body, msgId);
      }
      return;
    }
    if (id === MT.gzip_packed) {
      let inner: Uint8Array;
      try {
        inner = gunzipPacked(body);
      } catch {
        return this.checkFailed('gzip_packed', body.length, msgId);
      }
      return this.handleMessage(msgId, seqno, inner, containerId);
    }
    if (seqno & 1) this.queueAck(msgId);

    switch (id) {
      case MT.rpc_result:
        return this.onRpcResult(body, base);
      case MT.msgs_ack: {
        const ids = readLongVector(new TlReader(body, 4));
        this.wire({ ...base, kind: 'service', ctor: 'msgs_ack', ackMsgIds: ids.map(String), note: `${ids.length} ids` });
        for (const a of ids) {
          const p = this.pending.get(a);
          if (p && !p.acked) {
            p.acked = true;
            this.wire({
              dir: 'local',
              kind: 'service',
              msgId: a.toString(),
              ctor: p.method,
              size: p.body.length,
              acked: true,
              note: 'acknowledged by the server',
            });
          }
        }
        return;
      }
      case MT.bad_server_salt: {
        const r = new TlReader(body, 4);
        const badId = r.long();
        r.int();
        const code = r.int();
        const newSalt = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'bad_server_salt', reqMsgId: badId.toString(), note: `error ${code}: new salt adopted, message re-sent` });
        if (!this.sentRecently(badId)) return;
        this.state.setSalt(newSalt);
        return this.resend(badId, 48, 'bad server salt');
      }
      case MT.bad_msg_notification: {
        const r = new TlReader(body, 4);
        const badId = r.long();
        r.int();
        const code = r.int();
        this.wire({ ...base, kind: 'service', ctor: 'bad_msg_notification', reqMsgId: badId.toString(), note: `error ${code}` });
        return this.onBadMsg(badId, code, msgId);
      }
      case MT.new_session_created: {
        const r = new TlReader(body, 4);
        const firstMsgId = r.long();
        r.long();
        this.state.setSalt(r.long());
        // queries sent before first_msg_id never reached this session: send them again with new ids
        const lost = [...this.pending.values()].filter((p) => p.msgId !== undefined && p.msgId < firstMsgId && !p.keepalive);
        for (const p of lost) this.requeue(p, 'sent before the server session existed');
        this.wire({
          ...base,
          kind: 'service',
          ctor: 'new_session_created',
          note: `first_msg_id ${firstMsgId}${lost.length ? `; ${lost.length} earlier quer${lost.length === 1 ? 'y' : 'ies'} re-sent` : ''}; updates may have been missed`,
        });
        this.safeEmit('new-session', { firstMsgId, resent: lost.length });
        if (lost.length) this.scheduleFlush();
        return;
      }
      case MT.pong: {
        const r = new TlReader(body, 4);
        const pingMsgId = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'pong', reqMsgId: pingMsgId.toString() });
        const p = this.pending.get(pingMsgId);
        if (p && p.kind === 'ping') {
          this.settle(p);
          p.resolve(Date.now() - p.sentAt);
        }
        return;
      }
      case MT.future_salts: {
        const fs = decodeFutureSalts(body);
        this.wire({ ...base, kind: 'service', ctor: 'future_salts', reqMsgId: fs.reqMsgId.toString(), note: `${fs.salts.length} salts` });
        return this.onFutureSalts(fs, this.pending.get(fs.reqMsgId));
      }
      case MT.msgs_state_req: {
        const ids = readLongVector(new TlReader(body, 4));
        this.wire({ ...base, kind: 'service', ctor: 'msgs_state_req', note: `${ids.length} ids` });
        this.sendStateInfo(
          msgId,
          Uint8Array.from(ids, (x) => (this.state.recent.has(x) ? 4 : 1)),
        );
        return;
      }
      case MT.msg_resend_req: {
        const ids = readLongVector(new TlReader(body, 4));
        const known = ids.map((x) => this.pending.get(x));
        this.wire({ ...base, kind: 'service', ctor: 'msg_resend_req', note: `${ids.length} ids, ${known.filter(Boolean).length} still pending` });
        for (const p of known) if (p && p.msgId !== undefined && p.seqno !== undefined) this.resendSame(p, 'asked by the server (msg_resend_req)');
        // ids we no longer have: answer their state, as the spec asks
        if (known.some((p) => !p))
          this.sendStateInfo(
            msgId,
            Uint8Array.from(known, (p) => (p ? 4 : 1)),
          );
        this.scheduleFlush();
        return;
      }
      case MT.msg_detailed_info:
      case MT.msg_new_detailed_info: {
        const r = new TlReader(body, 4);
        if (id === MT.msg_detailed_info) r.long();
        const answerId = r.long();
        this.wire({ ...base, kind: 'service', ctor: serviceName(id)!, note: `answer ${answerId}` });
        if (this.state.recent.has(answerId)) this.queueAck(answerId);
        else this.enqueue({ body: encodeLongVectorMessage(MT.msg_resend_req, [answerId]), contentRelated: false, ctor: 'msg_resend_req', kind: 'service' });
        return;
      }
      case MT.destroy_auth_key_ok:
      case MT.destroy_auth_key_none:
      case MT.destroy_auth_key_fail: {
        const name = serviceName(id)!;
        this.wire({ ...base, kind: 'service', ctor: name });
        for (const p of this.pending.values()) {
          if (p.kind !== 'destroy_key') continue;
          this.settle(p);
          p.resolve(name);
          break;
        }
        return;
      }
      default: {
        const sname = serviceName(id);
        if (sname) {
          this.wire({ ...base, kind: 'service', ctor: sname });
          return;
        }
        let obj: TlObject;
        try {
          obj = this.codec.decode(body);
        } catch (e) {
          this.wire({ ...base, kind: 'encrypted', ctor: `0x${id.toString(16).padStart(8, '0')}`, note: `undecodable server message ignored: ${errText(e)}` });
          return;
        }
        this.wire({ ...base, kind: 'encrypted', ctor: obj._, note: 'update' });
        this.safeEmit('update', obj);
      }
    }
  }

  private sendStateInfo(reqMsgId: bigint, info: Uint8Array): void {
    const w = new TlWriter(16 + info.length);
    w.uint(MT.msgs_state_info);
    w.long(reqMsgId);
    w.bytes(info);
    this.enqueue({ body: w.finish(), contentRelated: false, ctor: 'msgs_state_info', kind: 'service', reqMsgId });
  }

  private onFutureSalts(fs: { reqMsgId: bigint; now: number; salts: FutureSalt[] }, p: Pending | undefined): void {
    this.state.setFutureSalts(fs.salts);
    if (p && p.kind === 'future_salts') {
      this.settle(p);
      p.resolve({ now: fs.now, salts: fs.salts });
    }
  }

  private onRpcResult(body: Uint8Array, base: Omit<WireEvent, 'time' | 'dcId' | 'connId' | 'ctor' | 'kind'>): void {
    const r = new TlReader(body, 4);
    const reqMsgId = r.long();
    let result = r.raw(r.remaining);
    let gz = false;
    if (peekId(result) === MT.gzip_packed) {
      result = gunzipPacked(result);
      gz = true;
    }
    const ev = { ...base, kind: 'encrypted' as const, reqMsgId: reqMsgId.toString() };
    const gzNote = gz ? `gzip_packed, ${result.length} bytes inflated` : undefined;
    const p = this.pending.get(reqMsgId);
    const rid = peekId(result);
    if (rid === MT.rpc_error) {
      const er = new TlReader(result, 4);
      const code = er.int();
      const message = er.string();
      this.wire({ ...ev, ctor: 'rpc_result:rpc_error', note: `${code} ${message}${p ? '' : ' (no pending request)'}` });
      if (!p) return;
      this.settle(p);
      if (p.wrapped && !message.startsWith('CONNECTION_')) this.initDone = true;
      p.reject(new RpcError(code, message, p.method, this.dcId));
      return;
    }
    if (!p) {
      this.wire({ ...ev, ctor: `rpc_result:${serviceName(rid) ?? '?'}`, note: 'no pending request for this answer' });
      return;
    }
    this.settle(p);
    if (p.kind === 'ping' && rid === MT.pong) {
      this.wire({ ...ev, ctor: 'rpc_result:pong' });
      p.resolve(Date.now() - p.sentAt);
      return;
    }
    if (p.kind === 'future_salts' && rid === MT.future_salts) {
      this.wire({ ...ev, ctor: 'rpc_result:future_salts' });
      this.onFutureSalts(decodeFutureSalts(result), p);
      return;
    }
    if (p.kind === 'drop' || p.kind === 'destroy_key') {
      const name = serviceName(rid) ?? `0x${rid.toString(16)}`;
      this.wire({ ...ev, ctor: `rpc_result:${name}` });
      p.resolve(name);
      return;
    }
    let value: unknown;
    try {
      value = this.codec.decodeValue(p.returnType, result);
    } catch (e) {
      this.wire({ ...ev, ctor: `rpc_result:${p.returnType}`, note: `result does not decode as ${p.returnType}` });
      p.reject(new Error(`result of ${p.method} on DC ${this.dcId} does not decode as ${p.returnType}: ${errText(e)}`));
      return;
    }
    if (p.wrapped) this.initDone = true;
    const e: Omit<WireEvent, 'time' | 'dcId' | 'connId'> = { ...ev, ctor: `rpc_result:${isTlObject(value) ? value._ : p.returnType}` };
    if (gzNote) e.note = gzNote;
    this.wire(e);
    p.resolve(value);
  }

  private sentRecently(id: bigint): boolean {
    return this.pending.has(id) || this.sentContainers.has(id) || this.sentAcks.has(id);
  }

  private onBadMsg(badId: bigint, code: number, notificationMsgId: bigint): void {
    if (!this.sentRecently(badId)) return; // not ours (or forgotten): do not let it move our clock
    switch (code) {
      case 16:
      case 17:
        this.clock.syncFromServerMsgId(notificationMsgId);
        this.wire({
          dir: 'local',
          kind: 'service',
          ctor: 'time_sync',
          size: 0,
          note: `time offset now ${this.clock.timeOffset} s (msg_id too ${code === 16 ? 'low' : 'high'})`,
        });
        return this.resend(badId, code, code === 16 ? 'msg_id too low' : 'msg_id too high');
      case 20:
        return this.resend(badId, code, 'message too old');
      case 32:
      case 33:
        // our seqno and the server's view disagree: start a new session rather than guess a shift
        return this.renewSession(`bad_msg_notification ${code} (${BAD_MSG_TEXT[code]})`);
      case 48:
        return this.resend(badId, code, 'incorrect server salt');
      default: {
        const detail = BAD_MSG_TEXT[code] ?? 'unknown error code';
        for (const p of this.affected(badId)) this.abandon(p, new BadMessageError(code, p.method, this.dcId, detail));
      }
    }
  }

  private affected(badId: bigint): Pending[] {
    const ids = this.sentContainers.get(badId) ?? [badId];
    const out: Pending[] = [];
    for (const i of ids) {
      const p = this.pending.get(i);
      if (p) out.push(p);
    }
    return out;
  }

  /** Puts a sent query back in the queue to go out with a new msg_id. */
  private requeue(p: Pending, why: string): void {
    if (p.msgId !== undefined && this.pending.get(p.msgId) === p) this.pending.delete(p.msgId);
    p.msgId = undefined;
    p.seqno = undefined;
    this.queue.push({
      body: p.body,
      contentRelated: true,
      ctor: p.method,
      kind: p.kind === 'call' ? 'encrypted' : 'service',
      pending: p,
      note: `re-sent (${why})`,
    });
  }

  /** Sends a query again with its original msg_id and seqno, inside a container (the server answers it once). */
  private resendSame(p: Pending, why: string): void {
    if (this.queue.some((q) => q.pending === p)) return;
    this.pending.delete(p.msgId!);
    this.queue.push({
      body: p.body,
      contentRelated: true,
      ctor: p.method,
      kind: p.kind === 'call' ? 'encrypted' : 'service',
      pending: p,
      fixed: { msgId: p.msgId!, seqno: p.seqno! },
      note: `re-sent with the same msg_id (${why})`,
    });
  }

  /** After a reconnect: every sent, unanswered query goes out again (same id while young, else a new one). */
  private requeueUnanswered(why: string): void {
    const sent = [...this.pending.values()].sort((a, b) => (a.msgId! < b.msgId! ? -1 : 1));
    for (const p of sent) {
      if (p.keepalive) {
        this.settle(p);
        continue;
      }
      if (p.msgId !== undefined && p.seqno !== undefined && this.clock.skewOf(p.msgId) > -REUSE_MSG_ID_SECONDS) this.resendSame(p, why);
      else this.requeue(p, `${why}, new msg_id`);
    }
    // the lost acks go out again with the next message
    for (const ids of this.sentAcks.values()) this.ackQueue.push(...ids);
    this.sentAcks.clear();
    this.sentContainers.clear();
  }

  /** Re-sends the message(s) behind `badId` with new msg_ids (bounded per call). */
  private resend(badId: bigint, code: number, detail: string): void {
    const children = this.sentContainers.get(badId) ?? [badId];
    for (const i of children) {
      const acks = this.sentAcks.get(i);
      if (acks) {
        this.sentAcks.delete(i);
        this.ackQueue.push(...acks);
      }
    }
    const affected = this.affected(badId);
    this.sentContainers.delete(badId);
    for (const p of affected) {
      p.resends += 1;
      if (p.resends > this.maxResends) {
        this.abandon(p, new BadMessageError(code, p.method, this.dcId, `${detail}; gave up after ${this.maxResends} re-sends`));
        continue;
      }
      this.requeue(p, detail);
    }
    this.scheduleFlush();
  }

  /** A new session (new session_id, seqno from 0): every unanswered query goes out again with a new msg_id. */
  private renewSession(why: string): void {
    this.state.renew();
    this.sentContainers.clear();
    this.sentAcks.clear();
    this.ackQueue = [];
    const sent = [...this.pending.values()];
    let n = 0;
    for (const p of sent) {
      p.resends += 1;
      if (p.resends > this.maxResends) {
        this.abandon(p, new BadMessageError(0, p.method, this.dcId, `${why}; gave up after ${this.maxResends} re-sends`));
        continue;
      }
      this.requeue(p, 'new session');
      n++;
    }
    this.wire({ dir: 'local', kind: 'service', ctor: 'session_reset', size: 0, note: `${why}: new session, ${n} quer${n === 1 ? 'y' : 'ies'} re-sent` });
    this.safeEmit('new-session', { reason: why, resent: n });
    this.scheduleFlush();
  }

  private failAll(make: (p: Pending) => Error): void {
    const all = new Set<Pending>(this.pending.values());
    for (const q of this.queue) if (q.pending) all.add(q.pending);
    for (const p of all) this.abandon(p, make(p));
  }

  private shutdown(reason: string, closeLink: boolean): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const link = this.link;
    this.detach();
    this.failAll((p) => new SessionClosedError(reason, p.method, this.dcId));
    this.queue.length = 0;
    if (closeLink && link && !link.closed) link.close(reason);
    this.safeEmit('close', reason);
  }
}

/** Transports with a quick-ack form: every one but full (links that name no transport are test fakes). */
function hasQuickAcks(link: FrameLink): boolean {
  const t = (link as { transport?: unknown }).transport;
  return typeof t === 'string' && t !== 'full';
}

let sharedCodec: TlCodec | undefined;
/** The default client codec: the full (mtproto + API) schema, created once. */
export function defaultCodec(): TlCodec {
  return (sharedCodec ??= new TlCodec(fullSchema()));
}
