// Client side of an encrypted MTProto 2.0 session (mtproto/description, service_messages,
// service_messages_about_messages, security_guidelines) over a FrameLink.
//
// Outgoing: invoke() queues a call; a flush on the next tick gives every queued message (calls + pending acks) a
// msg_id and seqno and sends them alone or together in a msg_container. The first calls (until one is answered) are
// wrapped in invokeWithLayer(layer, initConnection(..., query)). Pending calls are kept by msg_id; a container's id
// maps to its children so a notification about the container resends them all.
//
// Incoming: every packet is decrypted and checked (msg_key, lengths, padding, session_id, msg_id parity, duplicates,
// time window once the clock is synced — bad_msg_notification / bad_server_salt are exempt from the time window so a
// wrong clock can be corrected). A failed check drops the packet, emits a 'check-failed' wire event and closes the
// connection; the same happens for any internal error (nothing ever throws out of the 'frame' handler).
//
// Service-message constructors come from service-messages.ts, the module the server side uses too.
import { EventEmitter } from 'node:events';
import { TlReader, TlWriter } from '../tl/binary';
import { isTlObject, TlCodec } from '../tl/codec';
import { API_LAYER, fullSchema } from '../tl/bundled';
import type { TlObject } from '../tl/types';
import { transportErrorCode } from '../transport/codec';
import type { FrameLink } from '../transport/tcp';
import { BadMessageError, CallTimeoutError, MessageCheckError, RpcError, SessionClosedError, TransportError } from './errors';
import { decryptMessage, encryptMessage, keyIdOf, type EncryptedMessageFields } from './message-crypto';
import { OFFLOAD_MIN_BYTES, sharedDecryptPool } from './decrypt-pool';
import { MsgIdClock, SeqNo } from './msg-id';
import {
  BAD_MSG_TEXT,
  MT,
  RecentIds,
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
  type FutureSalt,
} from './service-messages';
import { emitWire, newConnId, type WireEvent, type WireKind, type WireListener } from './wire-event';

// ---------------------------------------------------------------------------------------------------------------

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
}

export interface InvokeOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type PendingKind = 'call' | 'ping' | 'future_salts';

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
  sentAt: number;
  resends: number;
  acked: boolean;
  timer?: NodeJS.Timeout;
  cleanup?: () => void;
}

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

interface OutMsg {
  body: Uint8Array;
  contentRelated: boolean;
  ctor: string;
  kind: WireKind;
  pending?: Pending;
  acks?: bigint[];
  reqMsgId?: bigint;
  note?: string;
}

/** A live encrypted session on one connection. Events: 'wire', 'close' (reason), 'update' (TlObject), 'transport-error' (code). */
export class MtprotoSession extends EventEmitter {
  readonly dcId: number;
  readonly authKeyId: bigint;
  readonly connId: string;
  readonly layer: number;
  readonly codec: TlCodec;
  readonly clock: MsgIdClock;
  private readonly authKey: Uint8Array;
  private readonly link: FrameLink;
  private readonly initParams: InitConnectionParams;
  private readonly onWire: WireListener | undefined;
  private readonly ackDelayMs: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxResends: number;
  private salt: bigint;
  private sessionIdValue: bigint;
  private seq = new SeqNo();
  private seqFixes = 0;
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
  private readonly recent = new RecentIds(1000);
  private readonly inbound: InboundPacket[] = [];
  private futureSalts: FutureSalt[] = [];

  constructor(link: FrameLink, opts: MtprotoSessionOptions) {
    super();
    this.link = link;
    this.dcId = opts.dcId;
    this.authKey = opts.authKey;
    this.authKeyId = keyIdOf(opts.authKey);
    this.salt = opts.serverSalt;
    this.layer = opts.layer ?? API_LAYER;
    this.codec = opts.codec ?? defaultCodec();
    this.initParams = opts.initConnection;
    this.onWire = opts.onWire;
    this.connId = opts.connId ?? newConnId(opts.dcId);
    this.ackDelayMs = opts.ackDelayMs ?? 150;
    this.defaultTimeoutMs = opts.timeoutMs ?? 60_000;
    this.maxResends = opts.maxResends ?? 5;
    const clockOpts: { timeOffset?: number; synced?: boolean; now?: () => number } = { synced: opts.timeSynced ?? false };
    if (opts.timeOffset !== undefined) clockOpts.timeOffset = opts.timeOffset;
    if (opts.now) clockOpts.now = opts.now;
    this.clock = opts.clock ?? new MsgIdClock(clockOpts);
    this.sessionIdValue = opts.sessionId ?? randomLong();
    link.on('frame', (payload: Uint8Array) => this.onFrame(payload));
    link.on('close', (reason: string) => this.shutdown(`connection closed: ${reason}`, false));
    if (link.closed) this.shutdown('connection closed before the session started', false);
  }

  get sessionId(): bigint {
    return this.sessionIdValue;
  }
  get serverSalt(): bigint {
    return this.salt;
  }
  get timeOffset(): number {
    return this.clock.timeOffset;
  }
  get closed(): boolean {
    return this.closedReason !== undefined;
  }
  /** Number of calls waiting for an answer (sent or queued). */
  get pendingCount(): number {
    return this.pending.size + this.queue.filter((q) => q.pending).length;
  }
  /** Salts from the last future_salts answer. */
  get knownFutureSalts(): readonly FutureSalt[] {
    return this.futureSalts;
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
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      const p = newPending('call', this.codec.innerQuery(method)._, returnType, body, resolve as (v: unknown) => void, reject, wrapped);
      this.arm(p, opts);
      this.enqueue({ body, contentRelated: true, ctor: p.method, kind: 'encrypted', pending: p, ...(wrapped ? { note: `wrapped in invokeWithLayer(${this.layer}) + initConnection` } : {}) });
    });
  }

  /** Sends ping and resolves with the round trip in ms when the pong arrives. */
  ping(opts: InvokeOptions = {}): Promise<number> {
    const w = new TlWriter(12);
    w.uint(MT.ping);
    w.long(randomLong());
    return this.serviceRequest('ping', 'ping', 'Pong', w.finish(), opts);
  }

  /** get_future_salts: resolves with the salts (also remembered in knownFutureSalts). */
  getFutureSalts(num = 1, opts: InvokeOptions = {}): Promise<{ now: number; salts: FutureSalt[] }> {
    const w = new TlWriter(8);
    w.uint(MT.get_future_salts);
    w.int(num);
    return this.serviceRequest('future_salts', 'get_future_salts', 'FutureSalts', w.finish(), opts);
  }

  /** The next call is wrapped in invokeWithLayer + initConnection again (after CONNECTION_NOT_INITED). */
  requireInit(): void {
    this.initDone = false;
  }

  /** Closes the connection; pending calls reject with SessionClosedError. */
  close(reason = 'closed by the client'): void {
    this.shutdown(reason, true);
  }

  // ---------------- sending ----------------

  /** A service request (ping, get_future_salts) that settles when its answer arrives, like a call. */
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
      p.timer = setTimeout(() => this.abandon(p, new CallTimeoutError(p.method, this.dcId, 'timeout', timeoutMs)), timeoutMs);
      p.timer.unref?.();
    }
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) {
        queueMicrotask(() => this.abandon(p, new CallTimeoutError(p.method, this.dcId, 'aborted')));
        return;
      }
      const onAbort = (): void => this.abandon(p, new CallTimeoutError(p.method, this.dcId, 'aborted'));
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

  private enqueue(m: OutMsg): void {
    this.queue.push(m);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closedReason !== undefined) return;
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
    if (this.closedReason !== undefined) return;
    try {
      this.flushUnsafe();
    } catch (e) {
      this.shutdown(`internal error while sending: ${errText(e)}`, true);
    }
  }

  private flushUnsafe(): void {
    const msgs: OutMsg[] = [];
    if (this.ackQueue.length) {
      if (this.ackTimer) clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
      while (this.ackQueue.length) {
        const ids = this.ackQueue.splice(0, 8192);
        msgs.push({ body: encodeLongVectorMessage(MT.msgs_ack, ids), contentRelated: false, ctor: 'msgs_ack', kind: 'service', acks: ids, note: `${ids.length} ids` });
      }
    }
    msgs.push(...this.queue.splice(0));
    for (const g of groupForContainers(msgs)) this.sendGroup(g);
  }

  private sendGroup(group: OutMsg[]): void {
    const items: (ContainerItem & { m: OutMsg })[] = group.map((m) => ({ m, msgId: this.clock.next(), seqno: this.seq.next(m.contentRelated), body: m.body }));
    let containerId: bigint | undefined;
    let packet: Uint8Array;
    if (items.length === 1) {
      const it = items[0]!;
      packet = this.encrypt(it.msgId, it.seqno, it.body);
    } else {
      containerId = this.clock.next();
      const cseq = this.seq.next(false);
      const cbody = encodeContainer(items);
      packet = this.encrypt(containerId, cseq, cbody);
      this.remember(this.sentContainers, containerId, items.map((i) => i.msgId));
      this.wire({ dir: 'out', kind: 'service', msgId: containerId.toString(), seqno: cseq, ctor: 'msg_container', size: cbody.length, note: `${items.length} messages` });
    }
    for (const it of items) {
      const m = it.m;
      if (m.pending) {
        m.pending.msgId = it.msgId;
        m.pending.sentAt = Date.now();
        this.pending.set(it.msgId, m.pending);
      }
      if (m.acks) this.remember(this.sentAcks, it.msgId, m.acks);
      this.wire(outgoingWireEvent(m, it.msgId, it.seqno, it.body.length, containerId));
    }
    this.link.send(packet);
  }

  private remember(map: Map<bigint, bigint[]>, id: bigint, ids: bigint[]): void {
    map.set(id, ids);
    if (map.size > 256) map.delete(map.keys().next().value as bigint);
  }

  private encrypt(msgId: bigint, seqno: number, body: Uint8Array): Uint8Array {
    return encryptMessage(this.authKey, { salt: this.salt, sessionId: this.sessionIdValue, msgId, seqno, body }, 0);
  }

  private wire(e: Omit<WireEvent, 'time' | 'dcId' | 'connId'>): void {
    const ev: WireEvent = { time: Date.now(), dcId: this.dcId, connId: this.connId, ...e };
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

  private onFrame(payload: Uint8Array): void {
    if (this.closedReason !== undefined) return;
    const pool = payload.length >= OFFLOAD_MIN_BYTES ? sharedDecryptPool() : null;
    if (!pool && this.inbound.length === 0) return this.guarded(() => this.handlePacket(payload));
    // Big messages decrypt on a worker; everything is still handled in arrival order (msg_id checks, acks and
    // rpc results must see the stream as the server sent it), so a small message waits behind a big one.
    const entry: InboundPacket = { payload, size: payload.length };
    if (pool) {
      entry.decrypting = true;
      pool.decrypt(this.authKey, payload, 8).then(
        (fields) => { entry.fields = fields; },
        (e: unknown) => { entry.error = e; },
      ).finally(() => {
        entry.decrypting = false;
        this.drainInbound();
      });
    }
    this.inbound.push(entry);
    this.drainInbound();
  }

  private drainInbound(): void {
    while (this.closedReason === undefined && this.inbound.length > 0 && !this.inbound[0]!.decrypting) {
      const entry = this.inbound.shift()!;
      this.guarded(() => {
        if (entry.fields) return this.handleDecrypted(entry.fields, entry.size);
        if (entry.error instanceof MessageCheckError) return this.checkFailed(entry.error.check, entry.size);
        if (entry.error !== undefined) throw entry.error; // the packet went to a worker that failed: it is gone
        this.handlePacket(entry.payload);
      });
    }
    if (this.closedReason !== undefined) this.inbound.length = 0;
  }

  private guarded(handle: () => void): void {
    try {
      handle();
    } catch (e) {
      this.shutdown(`internal error while handling a message: ${errText(e)}`, true);
    }
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
    if (m.sessionId !== this.sessionIdValue) return this.checkFailed('session_id', size);
    const bad = this.checkMsgId(m.msgId, isClockNotification(m.body));
    if (bad) return this.checkFailed(bad, size, m.msgId);
    this.handleMessage(m.msgId, m.seqno, m.body, undefined);
  }

  /** The incoming msg_id checks of the security guidelines; returns the failed check's name. */
  private checkMsgId(id: bigint, clockNotification: boolean): string | undefined {
    if ((id & 1n) !== 1n) return 'msg_id_parity';
    if (this.recent.has(id)) return 'msg_id_duplicate';
    if (this.recent.tooOld(id)) return 'msg_id_too_old';
    if (this.clock.synced && !clockNotification) {
      const skew = this.clock.skewOf(id);
      if (skew < -300) return 'msg_id_time_past';
      if (skew > 30) return 'msg_id_time_future';
    }
    this.recent.add(id);
    return undefined;
  }

  private checkFailed(check: string, size: number, msgId?: bigint): void {
    const e: Omit<WireEvent, 'time' | 'dcId' | 'connId'> = { dir: 'in', kind: 'check-failed', ctor: 'encrypted_message', size, note: `check failed: ${check}; message dropped, connection closed` };
    if (msgId !== undefined) e.msgId = msgId.toString();
    this.wire(e);
    this.shutdown(`incoming message failed the ${check} check`, true);
  }

  private onTransportError(code: number): void {
    this.wire({ dir: 'in', kind: 'transport-error', ctor: 'transport_error', size: 4, note: `transport error ${code}` });
    this.safeEmit('transport-error', code);
    this.failAll((p) => new TransportError(code, this.dcId, p.method));
    this.shutdown(`transport error ${code}`, true);
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
        if (this.closedReason !== undefined) return;
        const bad = this.checkMsgId(it.msgId, isClockNotification(it.body));
        if (bad) return this.checkFailed(bad, it.body.length, it.msgId);
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
        this.wire({ ...base, kind: 'service', ctor: 'msgs_ack', note: `${ids.length} ids` });
        for (const a of ids) {
          const p = this.pending.get(a);
          if (p && !p.acked) {
            p.acked = true;
            this.wire({ dir: 'local', kind: 'service', msgId: a.toString(), ctor: p.method, size: p.body.length, acked: true, note: 'acknowledged by the server' });
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
        this.salt = newSalt;
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
        this.salt = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'new_session_created', note: `first_msg_id ${firstMsgId}` });
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
        this.futureSalts = fs.salts;
        const p = this.pending.get(fs.reqMsgId);
        if (p && p.kind === 'future_salts') {
          this.settle(p);
          p.resolve({ now: fs.now, salts: fs.salts });
        }
        return;
      }
      case MT.msgs_state_req: {
        const ids = readLongVector(new TlReader(body, 4));
        this.wire({ ...base, kind: 'service', ctor: 'msgs_state_req', note: `${ids.length} ids` });
        const info = Uint8Array.from(ids, (x) => (this.recent.has(x) ? 4 : 1));
        const w = new TlWriter(16 + info.length);
        w.uint(MT.msgs_state_info);
        w.long(msgId);
        w.bytes(info);
        this.enqueue({ body: w.finish(), contentRelated: false, ctor: 'msgs_state_info', kind: 'service', reqMsgId: msgId });
        return;
      }
      case MT.msg_detailed_info:
      case MT.msg_new_detailed_info: {
        const r = new TlReader(body, 4);
        if (id === MT.msg_detailed_info) r.long();
        const answerId = r.long();
        this.wire({ ...base, kind: 'service', ctor: serviceName(id)!, note: `answer ${answerId}` });
        if (this.recent.has(answerId)) this.queueAck(answerId);
        else this.enqueue({ body: encodeLongVectorMessage(MT.msg_resend_req, [answerId]), contentRelated: false, ctor: 'msg_resend_req', kind: 'service' });
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
      const fs = decodeFutureSalts(result);
      this.futureSalts = fs.salts;
      this.wire({ ...ev, ctor: 'rpc_result:future_salts' });
      p.resolve({ now: fs.now, salts: fs.salts });
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
        this.wire({ dir: 'local', kind: 'service', ctor: 'time_sync', size: 0, note: `time offset now ${this.clock.timeOffset} s (msg_id too ${code === 16 ? 'low' : 'high'})` });
        return this.resend(badId, code, code === 16 ? 'msg_id too low' : 'msg_id too high');
      case 20:
        return this.resend(badId, code, 'message too old');
      case 32:
      case 33:
        this.seqFixes += 1;
        if (this.seqFixes > 3) this.resetSession(`seqno still wrong after ${this.seqFixes - 1} corrections`);
        else this.seq.shift(code === 32 ? 64 : -16);
        return this.resend(badId, code, code === 32 ? 'msg_seqno too low' : 'msg_seqno too high');
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
    this.sentContainers.delete(badId);
    for (const p of this.affected(badId)) {
      this.pending.delete(p.msgId!);
      p.resends += 1;
      if (p.resends > this.maxResends) {
        this.abandon(p, new BadMessageError(code, p.method, this.dcId, `${detail}; gave up after ${this.maxResends} re-sends`));
        continue;
      }
      this.queue.push({ body: p.body, contentRelated: true, ctor: p.method, kind: p.kind === 'call' ? 'encrypted' : 'service', pending: p, note: `re-sent (${detail})` });
    }
    this.scheduleFlush();
  }

  private resetSession(why: string): void {
    this.sessionIdValue = randomLong();
    this.seq = new SeqNo();
    this.seqFixes = 0;
    this.wire({ dir: 'local', kind: 'service', ctor: 'session_reset', size: 0, note: why });
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
    this.failAll((p) => new SessionClosedError(reason, p.method, this.dcId));
    this.queue.length = 0;
    if (closeLink && !this.link.closed) this.link.close(reason);
    this.safeEmit('close', reason);
  }
}


let sharedCodec: TlCodec | undefined;
/** The default client codec: the full (mtproto + API) schema, created once. */
export function defaultCodec(): TlCodec {
  return (sharedCodec ??= new TlCodec(fullSchema()));
}
