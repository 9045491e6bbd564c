// The service-message layer both sides of MTProto use (mtproto/service_messages, service_messages_about_messages):
// constructor ids, containers (framing and the size rules), msgs_ack / msg_resend_req vectors, rpc_result and
// rpc_error, gzip_packed, future_salts, the duplicate-id window and the bad_msg_notification texts. The client
// session (session.ts) and the sandbox's server session (session-server.ts) are two users of this one module.
//
// Constructors are read and written by hand here: it keeps the wire details (bare vectors, container framing, gzip
// inside rpc_result) explicit and independent of the API layer.
import { inflateRawSync, unzipSync } from 'node:zlib';
import { TlReader, TlWriter } from '../tl/binary';
import { GZIP_PACKET_BUDGET, gzipInflateLimit, gzipPacketBudget } from '../tl/codec';
import { randomBytes } from '../crypto/random';
import type { WireEvent, WireKind } from './wire-event';

export const MT = {
  vector: 0x1cb5c415,
  rpc_result: 0xf35c6d01,
  rpc_error: 0x2144ca19,
  msg_container: 0x73f1f8dc,
  gzip_packed: 0x3072cfa1,
  msgs_ack: 0x62d6b459,
  bad_msg_notification: 0xa7eff811,
  bad_server_salt: 0xedab447b,
  new_session_created: 0x9ec20908,
  ping: 0x7abe77ec,
  ping_delay_disconnect: 0xf3427b8c,
  pong: 0x347773c5,
  get_future_salts: 0xb921bd04,
  future_salts: 0xae500895,
  msgs_state_req: 0xda69fb52,
  msgs_state_info: 0x04deb57d,
  msgs_all_info: 0x8cc0d131,
  msg_detailed_info: 0x276d3ec6,
  msg_new_detailed_info: 0x809db6df,
  msg_resend_req: 0x7d861a08,
  msg_resend_ans_req: 0x8610baeb,
  destroy_session: 0xe7512126,
  destroy_session_ok: 0xe22045fc,
  destroy_session_none: 0x62d350c9,
  rpc_drop_answer: 0x58e4a740,
  rpc_answer_unknown: 0x5e2ad36e,
  rpc_answer_dropped_running: 0xcd78e586,
  rpc_answer_dropped: 0xa43ad8b7,
  http_wait: 0x9299359f,
  destroy_auth_key: 0xd1435160,
  destroy_auth_key_ok: 0xf660e1d4,
  destroy_auth_key_none: 0x0a9f2259,
  destroy_auth_key_fail: 0xea109b13,
} as const;

const MT_NAMES = new Map<number, string>(Object.entries(MT).map(([k, v]) => [v, k]));
/** Name of a service constructor id, or undefined. */
export function serviceName(id: number): string | undefined {
  return MT_NAMES.get(id);
}

/** Constructor id at the start of a body (0 when shorter than 4 bytes). */
export function peekId(body: Uint8Array): number {
  if (body.length < 4) return 0;
  return new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
}

/** Max messages in one msg_container (Telegram's limit is 1020) and a soft byte budget. */
export const CONTAINER_MAX_MESSAGES = 1020;
export const CONTAINER_MAX_BYTES = 1 << 20;

export interface ContainerLimits {
  maxMessages: number;
  maxBytes: number;
  /** Messages of which at most one may travel in a container (file parts: each is big and slow to answer). */
  exclusive?: (m: { body: Uint8Array }) => boolean;
}

/** What the server allows (and sends): Telegram's 1020 messages, a 1 MiB budget. */
export const SERVER_CONTAINER_LIMITS: ContainerLimits = { maxMessages: CONTAINER_MAX_MESSAGES, maxBytes: CONTAINER_MAX_BYTES };

/**
 * Splits outgoing messages into the groups that travel alone or together in one msg_container: at most
 * `maxMessages` each, `maxBytes` counting 16 bytes of framing per message, at most one `exclusive` message; a
 * message bigger than the budget travels alone. Order is kept.
 */
export function groupForContainers<T extends { body: Uint8Array }>(msgs: readonly T[], limits: ContainerLimits = SERVER_CONTAINER_LIMITS): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  let hasExclusive = false;
  for (const m of msgs) {
    const exclusive = limits.exclusive?.(m) ?? false;
    if (group.length && (group.length >= limits.maxMessages || bytes + m.body.length + 16 > limits.maxBytes || (exclusive && hasExclusive))) {
      groups.push(group);
      group = [];
      bytes = 0;
      hasExclusive = false;
    }
    group.push(m);
    bytes += m.body.length + 16;
    hasExclusive ||= exclusive;
  }
  if (group.length) groups.push(group);
  return groups;
}

export interface ContainerItem {
  msgId: bigint;
  seqno: number;
  body: Uint8Array;
}

export function encodeContainer(items: ContainerItem[]): Uint8Array {
  const w = new TlWriter(16 + items.reduce((n, i) => n + 16 + i.body.length, 0));
  w.uint(MT.msg_container);
  w.int(items.length);
  for (const i of items) {
    w.long(i.msgId);
    w.int(i.seqno);
    w.int(i.body.length);
    w.raw(i.body);
  }
  return w.finish();
}

/** Parses a msg_container body (with its constructor id); throws on malformed framing. */
export function decodeContainer(body: Uint8Array): ContainerItem[] {
  const r = new TlReader(body);
  if (r.uint() !== MT.msg_container) throw new Error('not a msg_container');
  const n = r.int();
  if (n < 0 || n > CONTAINER_MAX_MESSAGES * 8) throw new Error(`msg_container with ${n} messages`);
  // each message takes at least 16 bytes (msg_id, seqno, length)
  if (n * 16 > r.remaining) throw new Error(`msg_container of ${n} messages does not fit in ${r.remaining} bytes`);
  const out: ContainerItem[] = [];
  for (let i = 0; i < n; i++) {
    const msgId = r.long();
    const seqno = r.int();
    const len = r.int();
    if (len < 0 || len % 4 !== 0) throw new Error(`container message of ${len} bytes`);
    out.push({ msgId, seqno, body: r.raw(len) });
  }
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes after the last container message`);
  return out;
}

export function encodeLongVectorMessage(id: number, ids: bigint[]): Uint8Array {
  const w = new TlWriter(12 + ids.length * 8);
  w.uint(id);
  w.uint(MT.vector);
  w.int(ids.length);
  for (const x of ids) w.long(x);
  return w.finish();
}

export function readLongVector(r: TlReader): bigint[] {
  if (r.uint() !== MT.vector) throw new Error('expected a Vector<long>');
  const n = r.int();
  if (n < 0 || n * 8 > r.remaining) throw new Error(`Vector<long> of ${n} items does not fit`);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(r.long());
  return out;
}

export { GZIP_MAX_INFLATED, GZIP_RATIO_FLOOR, GZIP_MAX_RATIO, GZIP_PACKET_BUDGET } from '../tl/codec';

/** The most `packedLength` bytes of gzip_packed data may inflate to (16 MiB, 256× above a 2 MiB floor). */
export function gzipPackedLimit(packedLength: number): number {
  return gzipInflateLimit(packedLength);
}

/** The most all gzip_packed of a `packetLength`-byte packet may inflate to together (32 MiB, 256× above 2 MiB). */
export function gzipPacketLimit(packetLength: number): number {
  return gzipPacketBudget(packetLength);
}

/** gzip_packed that does not inflate, or would inflate beyond its bound or the packet's budget. */
export class GzipPackedError extends Error {
  override readonly name = 'GzipPackedError';
}

/** What the gzip_packed of one packet may still inflate to, together. */
export interface GzipBudget {
  remaining: number;
}

/** A fresh budget for one packet: gzipPacketLimit of its size, GZIP_PACKET_BUDGET when the size is not given. */
export function gzipBudget(packetLength?: number): GzipBudget {
  return { remaining: packetLength === undefined ? GZIP_PACKET_BUDGET : gzipPacketBudget(packetLength) };
}

// Budgets by the buffer the bodies are views of: a decrypted packet has a buffer of its own, so the messages of
// one container (and what their gzip_packed inflate to) share one budget without the callers passing it along.
const packetBudgets = new WeakMap<ArrayBufferLike, GzipBudget>();

function budgetOf(body: Uint8Array): GzipBudget {
  let b = packetBudgets.get(body.buffer);
  if (!b) packetBudgets.set(body.buffer, (b = gzipBudget(body.buffer.byteLength)));
  return b;
}

function tooBig(e: unknown): boolean {
  return e instanceof RangeError || (e as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Unwraps a gzip_packed body (with its constructor id). gzip and zlib streams are detected; raw deflate too. One
 * inflates to at most gzipPackedLimit(packed size); all of one packet together to `budget` (default: the budget
 * of the packet `body` is a view of — gzipPacketLimit of its size —, shared with the other messages of its
 * container). Throws GzipPackedError (TlDecodeError when the TL framing is broken).
 */
export function gunzipPacked(body: Uint8Array, budget?: GzipBudget): Uint8Array {
  const r = new TlReader(body);
  const id = r.uint();
  if (id !== MT.gzip_packed) throw new GzipPackedError(`not a gzip_packed (id 0x${id.toString(16).padStart(8, '0')})`);
  const packed = r.bytes('gzip_packed.packed_data');
  const b = budget ?? budgetOf(body);
  const limit = gzipInflateLimit(packed.length);
  const allowed = Math.min(limit, b.remaining);
  const opts = { maxOutputLength: Math.max(1, allowed) };
  const refuse = (): GzipPackedError =>
    allowed < limit
      ? new GzipPackedError(
          `gzip_packed exceeds what is left of its packet's inflate budget (${allowed} bytes; at most ${GZIP_PACKET_BUDGET}, 256× the packet above 2 MiB)`,
        )
      : new GzipPackedError(`gzip_packed of ${packed.length} bytes inflates beyond its ${limit}-byte bound`);
  let out: Uint8Array;
  try {
    out = unzipSync(packed, opts);
  } catch (e) {
    if (tooBig(e)) throw refuse();
    try {
      out = inflateRawSync(packed, opts);
    } catch (raw) {
      if (tooBig(raw)) throw refuse();
      throw new GzipPackedError((e as Error).message);
    }
  }
  b.remaining -= out.byteLength;
  // a copy in a buffer of its own, which inherits the budget (a container or gzip_packed inside it shares it)
  const inner = new Uint8Array(out);
  packetBudgets.set(inner.buffer, b);
  return inner;
}

export function encodeRpcError(code: number, message: string): Uint8Array {
  const w = new TlWriter(64);
  w.uint(MT.rpc_error);
  w.int(code);
  w.string(message);
  return w.finish();
}

/** rpc_answer_dropped#a43ad8b7 msg_id:long seq_no:int bytes:int: the dropped answer's id, seqno and size. */
export function encodeRpcAnswerDropped(msgId: bigint, seqNo: number, bytes: number): Uint8Array {
  const w = new TlWriter(20);
  w.uint(MT.rpc_answer_dropped);
  w.long(msgId);
  w.int(seqNo);
  w.int(bytes);
  return w.finish();
}

/** A message made of a constructor id alone (rpc_answer_unknown, destroy_auth_key_ok, …). */
export function encodeBareConstructor(id: number): Uint8Array {
  const w = new TlWriter(4);
  w.uint(id);
  return w.finish();
}

/** Service messages the spec leaves out of a container's 1020-message limit (mtproto/service_messages, containers). */
export const CONTAINER_COUNT_EXEMPT: ReadonlySet<number> = new Set<number>([MT.msgs_ack, MT.msgs_state_req, MT.msg_resend_req, MT.http_wait]);

export function encodeRpcResult(reqMsgId: bigint, result: Uint8Array): Uint8Array {
  const w = new TlWriter(12 + result.length);
  w.uint(MT.rpc_result);
  w.long(reqMsgId);
  w.raw(result);
  return w.finish();
}

export interface FutureSalt {
  valid_since: number;
  valid_until: number;
  salt: bigint;
}

export function encodeFutureSalts(reqMsgId: bigint, now: number, salts: FutureSalt[]): Uint8Array {
  const w = new TlWriter(20 + salts.length * 16);
  w.uint(MT.future_salts);
  w.long(reqMsgId);
  w.int(now);
  // salts:vector<future_salt> — a bare vector of bare future_salt: count, then the fields
  w.int(salts.length);
  for (const s of salts) {
    w.int(s.valid_since);
    w.int(s.valid_until);
    w.long(s.salt);
  }
  return w.finish();
}

export function decodeFutureSalts(body: Uint8Array): { reqMsgId: bigint; now: number; salts: FutureSalt[] } {
  const r = new TlReader(body);
  r.uint();
  const reqMsgId = r.long();
  const now = r.int();
  let n = r.int();
  // tolerate a boxed vector too
  if (n >>> 0 === MT.vector) n = r.int();
  if (n < 0 || n * 16 > r.remaining) throw new Error(`future_salts with ${n} salts does not fit`);
  const salts: FutureSalt[] = [];
  for (let i = 0; i < n; i++) {
    // a boxed future_salt would carry its id; bare is what the schema says
    const valid_since = r.int();
    const valid_until = r.int();
    const salt = r.long();
    salts.push({ valid_since, valid_until, salt });
  }
  return { reqMsgId, now, salts };
}

/** Whether a body (or any message of a container body) is a salt/time notification, exempt from the time window. */
export function isClockNotification(body: Uint8Array): boolean {
  const id = peekId(body);
  if (id === MT.bad_msg_notification || id === MT.bad_server_salt) return true;
  if (id === MT.msg_container) {
    try {
      return decodeContainer(body).some((m) => isClockNotification(m.body));
    } catch {
      return false;
    }
  }
  return false;
}

/** Remembers recent incoming msg_ids: duplicate and "older than everything kept" detection. */
export class RecentIds {
  private readonly set = new Set<bigint>();
  private readonly order: bigint[] = [];
  constructor(private readonly capacity = 1000) {}

  has(id: bigint): boolean {
    return this.set.has(id);
  }

  /** True when the window is full and `id` is older than every id kept. */
  tooOld(id: bigint): boolean {
    if (this.order.length < this.capacity) return false;
    let min = this.order[0]!;
    for (const x of this.order) if (x < min) min = x;
    return id < min;
  }

  add(id: bigint): void {
    this.set.add(id);
    this.order.push(id);
    if (this.order.length > this.capacity) this.set.delete(this.order.shift()!);
  }
}

/** The 'out' wire event of one sent message (`containerId`: the container it travelled in). */
export function outgoingWireEvent(
  m: { kind: WireKind; ctor: string; reqMsgId?: bigint; acks?: readonly bigint[]; note?: string },
  msgId: bigint,
  seqno: number,
  size: number,
  containerId: bigint | undefined,
): Omit<WireEvent, 'time' | 'dcId' | 'connId'> {
  const e: Omit<WireEvent, 'time' | 'dcId' | 'connId'> = { dir: 'out', kind: m.kind, msgId: msgId.toString(), seqno, ctor: m.ctor, size };
  if (containerId !== undefined) e.containerId = containerId.toString();
  if (m.reqMsgId !== undefined) e.reqMsgId = m.reqMsgId.toString();
  if (m.acks?.length) e.ackMsgIds = m.acks.map(String);
  if (m.note) e.note = m.note;
  return e;
}

export function randomLong(): bigint {
  return new DataView(randomBytes(8).buffer).getBigInt64(0, true);
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What each bad_msg_notification error_code means. */
export const BAD_MSG_TEXT: Record<number, string> = {
  16: 'msg_id too low',
  17: 'msg_id too high',
  18: 'incorrect two lower order msg_id bits',
  19: 'container msg_id is the same as msg_id of a previously received message',
  20: 'message too old',
  32: 'msg_seqno too low',
  33: 'msg_seqno too high',
  34: 'an even msg_seqno expected, but odd received',
  35: 'odd msg_seqno expected, but even received',
  48: 'incorrect server salt',
  64: 'invalid container',
};
