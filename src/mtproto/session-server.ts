// Server side of MTProto on one connection (used by the sandbox): unencrypted handshake messages are handed to a
// handshake object; encrypted messages are decrypted and checked, salts and sessions managed, containers unpacked,
// service messages answered (msgs_ack, ping, ping_delay_disconnect, get_future_salts, msgs_state_req,
// destroy_session, rpc_drop_answer) and API calls unwrapped (invokeWithLayer picks the connection's codec,
// initConnection is remembered, invokeWithoutUpdates / invokeAfterMsg(s) honoured) before `handler(call)` runs.
// Answers are rpc_result (gzip_packed when big and it helps) or rpc_error.
//
// Hostile input never crashes the process: every path is guarded; a packet that fails a check closes the link (no
// answer, no oracle) and the reason is logged. An unknown auth_key_id gets transport error −404 then a close.
import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import { TlReader, TlWriter } from '../tl/binary';
import { isTlObject, TlCodec } from '../tl/codec';
import type { TlEntry, TlObject } from '../tl/types';
import { encodeTransportError, transportErrorCode } from '../transport/codec';
import type { FrameLink } from '../transport/tcp';
import { RpcError } from './errors';
import { decryptMessage, encryptMessage, MessageCheckError, peekAuthKeyId, type EncryptedMessageFields } from './message-crypto';
import { OFFLOAD_MIN_BYTES, sharedDecryptPool } from './decrypt-pool';
import { MsgIdClock, SeqNo } from './msg-id';
import { ServerSalts } from './server-salts';
import { mtprotoCodec } from './handshake-client';
import { decodePlainMessage, encodePlainMessage } from './plain';
import {
  MT,
  RecentIds,
  decodeContainer,
  encodeContainer,
  encodeFutureSalts,
  encodeLongVectorMessage,
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
  type FutureSalt,
} from './service-messages';
import { emitWire, newConnId, type WireEvent, type WireKind } from './wire-event';


/** File bytes are compressed media in practice: deflating a 1 MiB part costs ~20–40 ms for nothing (nor does Telegram). */
const NEVER_GZIPPED = new Set(['upload.file', 'upload.cdnFile', 'upload.webFile']);

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
 * session state, so a client that reconnects keeps its seqno, duplicate-id window and new_session_created
 * announcement, and can destroy_session a session it used on an earlier connection.
 */
const SESSION_REGISTRY_LIMIT = 10_000;
const sessionRegistries = new WeakMap<object, Map<string, ClientSession>>();
function sessionRegistryFor(keyStore: object): Map<string, ClientSession> {
  let m = sessionRegistries.get(keyStore);
  if (!m) {
    m = new Map();
    sessionRegistries.set(keyStore, m);
  }
  return m;
}

function hex(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

interface ClientSession {
  id: bigint;
  seq: SeqNo;
  recent: RecentIds;
  announced: boolean;
  queue: OutItem[];
  acks: bigint[];
  /** msg_ids of calls whose answer is being prepared / was sent (msgs_state_req). */
  answered: Set<bigint>;
  destroyed: boolean;
}

interface OutItem {
  body: Uint8Array;
  contentRelated: boolean;
  ctor: string;
  kind: WireKind;
  idKind: 'response' | 'notification';
  reqMsgId?: bigint;
  note?: string;
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
  private initConn: TlObject | undefined;
  private handshake: ServerHandshakeLike | undefined;
  private key: { authKey: Uint8Array; authKeyId: bigint } | undefined;
  private readonly sessions = new Map<bigint, ClientSession>();
  private lastSession: ClientSession | undefined;
  private chain: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private disconnectTimer: NodeJS.Timeout | undefined;
  private readonly callDone = new Map<bigint, Promise<void>>();
  private closedReason: string | undefined;

  constructor(link: FrameLink, opts: ServeMtprotoOptions) {
    super();
    this.link = link;
    this.opts = opts;
    this.dcId = opts.dcId;
    this.connId = opts.connId ?? newConnId(opts.dcId, 's');
    this.salts = opts.salts ?? defaultSalts(opts.keyStore);
    this.clock = new MsgIdClock({ synced: true, ...(opts.now ? { now: opts.now } : {}) });
    this.layerValue = opts.defaultLayer;
    link.on('frame', (payload: Uint8Array) => {
      const early = this.decryptEarly(payload);
      this.chain = this.chain.then(() => (early ? this.onEncrypted(early.keyId, payload, early) : this.onFrame(payload))).catch((e: unknown) => this.fail(`internal error: ${errText(e)}`));
    });
    link.on('close', (reason: string) => this.finish(`connection closed: ${reason}`));
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

  /** Sends a server-initiated message (an update) to the connection's current session; false when there is none. */
  push(update: TlObject): boolean {
    const s = this.lastSession;
    if (!s || !this.key || this.closedReason !== undefined) return false;
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

  private fail(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.log(`closing: ${reason}`);
    this.close(reason);
  }

  private finish(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = undefined;
    try {
      this.emit('close', reason);
    } catch {
      // ignore listener errors
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

  private async onFrame(payload: Uint8Array): Promise<void> {
    if (this.closedReason !== undefined) return;
    if (transportErrorCode(payload) !== null) return this.fail('client sent a 4-byte transport error packet');
    const keyId = peekAuthKeyId(payload);
    if (keyId === undefined) return this.fail(`packet of ${payload.length} bytes is too short`);
    if (keyId === 0n) return this.onPlain(payload);
    return this.onEncrypted(keyId, payload);
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

  private async onEncrypted(keyId: bigint, payload: Uint8Array, early?: EarlyDecrypt): Promise<void> {
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
    this.key = { authKey, authKeyId: keyId };
    let s = this.sessions.get(m.sessionId);
    if (!s) {
      const registry = sessionRegistryFor(this.opts.keyStore);
      const registryKey = `${keyId}:${m.sessionId}`;
      s = registry.get(registryKey);
      if (!s) {
        s = { id: m.sessionId, seq: new SeqNo(), recent: new RecentIds(2000), announced: false, queue: [], acks: [], answered: new Set(), destroyed: false };
        registry.set(registryKey, s);
        if (registry.size > SESSION_REGISTRY_LIMIT) registry.delete(registry.keys().next().value!);
      }
      this.sessions.set(m.sessionId, s);
    }
    this.lastSession = s;
    const base = { msgId: m.msgId.toString(), seqno: m.seqno, size: m.body.length };

    // msg_id checks that Telegram answers with bad_msg_notification (the message is ignored)
    const badCode = this.msgIdProblem(m.msgId, true);
    if (badCode) {
      this.wire({ dir: 'in', kind: 'encrypted', ...base, ctor: this.nameOf(m.body), note: `rejected: bad_msg_notification ${badCode}` });
      return this.badMsg(s, m.msgId, m.seqno, badCode);
    }
    const salt = this.currentSalt(keyId);
    if (!this.salts.accepts(keyId, m.salt)) {
      this.wire({ dir: 'in', kind: 'encrypted', ...base, ctor: this.nameOf(m.body), note: 'rejected: wrong server salt' });
      const w = new TlWriter(28);
      w.uint(MT.bad_server_salt);
      w.long(m.msgId);
      w.int(m.seqno);
      w.int(48);
      w.long(salt);
      this.enqueue(s, { body: w.finish(), contentRelated: false, ctor: 'bad_server_salt', kind: 'service', idKind: 'response', reqMsgId: m.msgId });
      return;
    }
    if (s.recent.has(m.msgId)) {
      this.log(`duplicate msg_id ${m.msgId} ignored`);
      return;
    }
    s.recent.add(m.msgId);
    if (!s.announced) {
      s.announced = true;
      // first_msg_id: the lowest id of the first message (a container's children come before the container), so a
      // client re-sends only what was sent before the session existed
      let first = m.msgId;
      if (peekId(m.body) === MT.msg_container) {
        try {
          for (const it of decodeContainer(m.body)) if (it.msgId < first) first = it.msgId;
        } catch {
          // a malformed container is reported by dispatch
        }
      }
      const w = new TlWriter(28);
      w.uint(MT.new_session_created);
      w.long(first);
      w.long(randomLong());
      w.long(salt);
      this.enqueue(s, { body: w.finish(), contentRelated: true, ctor: 'new_session_created', kind: 'service', idKind: 'notification' });
    }
    this.dispatch(s, m.msgId, m.seqno, m.body, undefined);
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

  private badMsg(s: ClientSession, msgId: bigint, seqno: number, code: number): void {
    const w = new TlWriter(20);
    w.uint(MT.bad_msg_notification);
    w.long(msgId);
    w.int(seqno);
    w.int(code);
    this.enqueue(s, { body: w.finish(), contentRelated: false, ctor: 'bad_msg_notification', kind: 'service', idKind: 'response', reqMsgId: msgId, note: `error ${code}` });
  }

  private nameOf(body: Uint8Array): string {
    const id = peekId(body);
    const sn = serviceName(id);
    if (sn) return sn;
    const e = this.codec().schema.byId(id);
    return e ? e.name : hex(id);
  }

  private dispatch(s: ClientSession, msgId: bigint, seqno: number, body: Uint8Array, containerId: bigint | undefined): void {
    const id = peekId(body);
    const base: Omit<WireEvent, 'time' | 'dcId' | 'connId' | 'ctor' | 'kind'> = { dir: 'in', msgId: msgId.toString(), seqno, size: body.length };
    if (containerId !== undefined) base.containerId = containerId.toString();
    if (id === MT.msg_container) {
      if (containerId !== undefined) return this.fail('nested msg_container');
      let items: ContainerItem[];
      try {
        items = decodeContainer(body);
      } catch (e) {
        return this.fail(`malformed msg_container: ${errText(e)}`);
      }
      this.wire({ ...base, kind: 'service', ctor: 'msg_container', note: `${items.length} messages` });
      for (const it of items) {
        if (this.closedReason !== undefined) return;
        if (it.msgId >= msgId) {
          // the container's id must be the largest; Telegram answers 64 (invalid container)
          this.badMsg(s, msgId, seqno, 64);
          return;
        }
        const bad = this.msgIdProblem(it.msgId, false);
        if (bad) {
          this.badMsg(s, it.msgId, it.seqno, bad);
          continue;
        }
        if (s.recent.has(it.msgId)) continue;
        s.recent.add(it.msgId);
        this.dispatch(s, it.msgId, it.seqno, it.body, msgId);
      }
      return;
    }
    if (id === MT.gzip_packed) {
      let inner: Uint8Array;
      try {
        inner = gunzipPacked(body);
      } catch (e) {
        return this.fail(`gzip_packed does not inflate: ${errText(e)}`);
      }
      return this.dispatch(s, msgId, seqno, inner, containerId);
    }
    if (seqno & 1 && serviceName(id) === undefined) {
      // An API call is acknowledged by its answer; only a slow one gets an explicit msgs_ack first (as Telegram does).
      const t = setTimeout(() => {
        if (this.closedReason !== undefined || s.answered.has(msgId)) return;
        s.acks.push(msgId);
        this.scheduleFlush();
      }, this.opts.ackDelayMs ?? 300);
      t.unref?.();
    }
    const r = new TlReader(body, 4);
    switch (id) {
      case MT.msgs_ack: {
        const ids = readLongVector(r);
        this.wire({ ...base, kind: 'service', ctor: 'msgs_ack', note: `${ids.length} ids` });
        for (const a of ids) this.wire({ dir: 'local', kind: 'service', msgId: a.toString(), ctor: 'ack', size: 0, acked: true, note: 'acknowledged by the client' });
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
        const salts = this.salts.future(this.key!.authKeyId, num);
        this.enqueue(s, { body: encodeFutureSalts(msgId, now, salts), contentRelated: false, ctor: 'future_salts', kind: 'service', idKind: 'response', reqMsgId: msgId });
        return;
      }
      case MT.msgs_state_req: {
        const ids = readLongVector(r);
        this.wire({ ...base, kind: 'service', ctor: 'msgs_state_req', note: `${ids.length} ids` });
        const info = Uint8Array.from(ids, (x) => (s.answered.has(x) ? 4 | 32 : s.recent.has(x) ? 4 : 1));
        const w = new TlWriter(16 + info.length);
        w.uint(MT.msgs_state_info);
        w.long(msgId);
        w.bytes(info);
        this.enqueue(s, { body: w.finish(), contentRelated: false, ctor: 'msgs_state_info', kind: 'service', idKind: 'response', reqMsgId: msgId });
        return;
      }
      case MT.destroy_session: {
        const target = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'destroy_session' });
        // any session of this auth key, also one used on an earlier connection, may be destroyed
        const registry = sessionRegistryFor(this.opts.keyStore);
        const registryKey = `${this.key!.authKeyId}:${target}`;
        const t = registry.get(registryKey);
        const ok = !!t && target !== s.id;
        if (ok) {
          t!.destroyed = true;
          registry.delete(registryKey);
          this.sessions.delete(target);
        }
        const w = new TlWriter(12);
        w.uint(ok ? MT.destroy_session_ok : MT.destroy_session_none);
        w.long(target);
        this.enqueue(s, { body: w.finish(), contentRelated: false, ctor: ok ? 'destroy_session_ok' : 'destroy_session_none', kind: 'service', idKind: 'response', reqMsgId: msgId });
        return;
      }
      case MT.rpc_drop_answer: {
        const req = r.long();
        this.wire({ ...base, kind: 'service', ctor: 'rpc_drop_answer' });
        const w = new TlWriter(4);
        w.uint(MT.rpc_answer_unknown);
        this.enqueue(s, { body: encodeRpcResult(msgId, w.finish()), contentRelated: true, ctor: 'rpc_result:rpc_answer_unknown', kind: 'service', idKind: 'response', reqMsgId: msgId, note: `for ${req}` });
        return;
      }
      default: {
        const sn = serviceName(id);
        if (sn) {
          // msg_resend_req, http_wait, msgs_state_info, … : noted, nothing to do on this server
          this.wire({ ...base, kind: 'service', ctor: sn, note: 'ignored' });
          return;
        }
        this.onCall(s, msgId, body, base);
      }
    }
  }

  // ---------------- API calls ----------------

  private onCall(s: ClientSession, msgId: bigint, body: Uint8Array, base: Omit<WireEvent, 'time' | 'dcId' | 'connId' | 'ctor' | 'kind'>): void {
    const authKeyId = this.key!.authKeyId;
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
      if (!entry || entry.kind !== 'method') {
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
    const waitFor = after.map((a) => this.callDone.get(a)).filter((p): p is Promise<void> => !!p);
    const done = (async () => {
      if (waitFor.length) await Promise.all(waitFor);
      await this.runCall(s, call, codec);
    })().catch((e: unknown) => this.fail(`internal error answering ${method._}: ${errText(e)}`));
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
    s.answered.add(call.msgId);
    const ctor = ctorName || rtype;
    this.enqueue(s, { body: encodeRpcResult(call.msgId, bytes), contentRelated: true, ctor: `rpc_result:${ctor}`, kind: 'encrypted', idKind: 'response', reqMsgId: call.msgId, note });
  }

  private answerError(s: ClientSession, msgId: bigint, code: number, message: string, method: string): void {
    s.answered.add(msgId);
    this.enqueue(s, {
      body: encodeRpcResult(msgId, encodeRpcError(code, message)),
      contentRelated: true,
      ctor: 'rpc_result:rpc_error',
      kind: 'encrypted',
      idKind: 'response',
      reqMsgId: msgId,
      note: `${code} ${message} (${method})`,
    });
  }

  // ---------------- outgoing ----------------

  private enqueue(s: ClientSession, item: OutItem): void {
    if (this.closedReason !== undefined || s.destroyed) return;
    s.queue.push(item);
    this.scheduleFlush();
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
      const items: OutItem[] = [];
      if (s.acks.length) {
        const ids = s.acks.splice(0, 8192);
        items.push({ body: encodeLongVectorMessage(MT.msgs_ack, ids), contentRelated: false, ctor: 'msgs_ack', kind: 'service', idKind: 'response', note: `${ids.length} ids` });
        if (s.acks.length) this.scheduleFlush();
      }
      items.push(...s.queue.splice(0));
      for (const g of groupForContainers(items)) this.sendGroup(s, g);
    }
  }

  private sendGroup(s: ClientSession, group: OutItem[]): void {
    const key = this.key!;
    const salt = this.currentSalt(key.authKeyId);
    const enc = (msgId: bigint, seqno: number, body: Uint8Array): Uint8Array =>
      encryptMessage(key.authKey, { salt, sessionId: s.id, msgId, seqno, body }, 8);
    const items = group.map((it) => ({ it, msgId: this.clock.nextServer(it.idKind), seqno: s.seq.next(it.contentRelated), body: it.body }));
    let containerId: bigint | undefined;
    let packet: Uint8Array;
    if (items.length === 1) {
      packet = enc(items[0]!.msgId, items[0]!.seqno, items[0]!.body);
    } else {
      containerId = this.clock.nextServer('response');
      const cseq = s.seq.next(false);
      const body = encodeContainer(items);
      packet = enc(containerId, cseq, body);
      this.wire({ dir: 'out', kind: 'service', msgId: containerId.toString(), seqno: cseq, ctor: 'msg_container', size: body.length, note: `${items.length} messages` });
    }
    for (const { it, msgId, seqno, body } of items) this.wire(outgoingWireEvent(it, msgId, seqno, body.length, containerId));
    this.link.send(packet);
  }
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
