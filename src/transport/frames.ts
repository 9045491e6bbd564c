// MTProto TCP framing primitives (re-exported by codec.ts, which adds server-side detection): abridged, intermediate, padded intermediate and full transports
// (core.telegram.org/mtproto/mtproto-transports), plus server-side auto-detection of the transport a client chose.
//
// A FrameCodec is one direction pair of one connection: `encode` wraps an outgoing payload, `push` takes whatever
// bytes TCP delivered (any fragmentation: one byte at a time, several frames in one chunk) and returns every payload
// completed so far. Codecs are stateful (buffered bytes, full-transport seqnos) and belong to one connection.
//
// Quick ack (mtproto-transports#quick-ack): a client may set the top bit of the length (intermediate, padded) or of
// the first byte (abridged) to ask for one; the server answers with a bare 4-byte token whose top bit is set (for
// abridged written byte-swapped, so its first byte has the top bit set). The decoders here understand both: a
// server-side codec strips the request bit and reports it through `pushFrames`/`onQuickAckRequest`; a client-side
// codec reports tokens through `pushFrames`/`onQuickAck` and never returns them as payloads. The full transport has
// no quick-ack form: `quickAck` is ignored there.
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { crc32 } from '../tl/crc32';

export type TransportName = 'abridged' | 'intermediate' | 'padded' | 'full';
export type TransportSide = 'client' | 'server';

export const TRANSPORT_NAMES: readonly TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];

/** Largest payload a codec encodes or accepts (a frame length beyond it is a framing error, not a buffer to fill). */
export const MAX_PAYLOAD_LENGTH = 16 * 1024 * 1024;
/** The most any transport adds around a payload (full: 12 bytes; padded: 4 + up to 15). */
export const MAX_FRAME_OVERHEAD = 32;

/** The byte stream is not a valid frame sequence of the transport (bad length, CRC, seqno, …). */
export class TransportFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportFramingError';
  }
}

export interface EncodeOptions {
  /** Client side: ask the server for a quick ack of this frame (ignored by the full transport). */
  quickAck?: boolean;
}

/** One decoded unit: a payload (with the quick-ack request bit, server side) or a quick-ack token (client side). */
export type DecodedFrame = { kind: 'payload'; payload: Uint8Array; quickAck: boolean } | { kind: 'quick-ack'; token: number };

export interface FrameCodec {
  readonly name: TransportName;
  readonly side: TransportSide;
  /** Wraps one payload. Throws TransportFramingError when the payload cannot be framed (too big, abridged %4). */
  encode(payload: Uint8Array, opts?: EncodeOptions): Uint8Array;
  /**
   * Feeds received bytes; returns the complete payloads, in order. Quick-ack tokens are not payloads: they go to
   * `onQuickAck`. Padded intermediate returns payload AND padding (the transport does not say where the payload
   * ends: the MTProto layer knows the real length from the message itself). Throws TransportFramingError.
   */
  push(chunk: Uint8Array): Uint8Array[];
  /** Like push, but returns quick-ack tokens and the quick-ack request bit too (no callbacks are called). */
  pushFrames(chunk: Uint8Array): DecodedFrame[];
  /** Server side: frames the answer to a quick-ack request (`token` gets its top bit set). Not for full. */
  encodeQuickAck(token: number): Uint8Array;
  /** Client side, called by push(): the server sent a quick-ack token (unsigned, top bit set). */
  onQuickAck?: (token: number) => void;
  /** Server side, called by push(): this payload's frame asked for a quick ack (it is also returned by push). */
  onQuickAckRequest?: (payload: Uint8Array) => void;
}

// ---------------------------------------------------------------------------------------------------------------
/** Payloads this size and up are handed out without a copy: the queue lets go of the buffer holding them. */
export const EXCLUSIVE_PAYLOAD_MIN = 64 * 1024;

/**
 * ArrayBuffers that hold one handed-out payload and nothing anyone still uses: a consumer may transfer such a
 * buffer whole to a worker thread (the payload is a view into it). The decrypt pool does, for file parts.
 */
export const exclusivePayloadBuffers = new WeakSet<ArrayBufferLike>();

/** Room for one more socket read (libuv reads up to 64 KiB) behind an awaited frame, so its last read needs no regrowth. */
const READ_SLACK = 64 * 1024 + 64;
/** While a frame of known size arrives, the buffer may be this many times the bytes held (never the whole claim). */
const GROWTH_AHEAD = 4;

// A growable byte queue: append at the end, read from the front, without re-concatenating on every chunk. It
// grows with the bytes that arrive (at most GROWTH_AHEAD times them), never with what a length header claims: a
// peer announcing a 16 MiB frame and sending 8 bytes costs a 4 KiB buffer, not 16 MiB.
export class ByteQueue {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  /** Size of the frame being awaited (header included), 0 when unknown: growth stops just past it. */
  private awaited = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.end + n > this.buf.length) {
      const used = this.end - this.start;
      if (used + n <= this.buf.length && this.start >= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length;
        while (cap < used + n) cap *= 2;
        if (this.awaited > 0) {
          // a big frame on its way: up to 4× what arrived (fewer copies), but no more than the frame and one
          // more read, since its buffer may be handed out whole
          const fit = this.awaited + READ_SLACK;
          cap = Math.max(cap, Math.min(GROWTH_AHEAD * (used + n), fit));
          if (used + n <= fit && cap > fit) cap = fit;
        }
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = used;
    }
    this.buf.set(chunk, this.end);
    this.end += n;
  }

  /** The byte at `i` from the front (caller checks length). */
  at(i: number): number {
    return this.buf[this.start + i]!;
  }

  uint32le(i: number): number {
    return readUint32le(this.buf, this.start + i);
  }

  /** A view of the first n bytes; valid only until the next append/take. */
  peek(n: number): Uint8Array {
    return this.buf.subarray(this.start, this.start + n);
  }

  /**
   * A frame of `total` bytes (from the front) is on its way. Nothing is allocated for it now; the buffer grows as
   * its bytes arrive and stops growing just past it.
   */
  expect(total: number): void {
    this.awaited = total;
  }

  /**
   * Removes and returns the first n bytes: a copy when small; when big, a view into the current buffer, which the
   * queue then gives up (the bytes behind it move to a fresh buffer) and marks in `exclusivePayloadBuffers`.
   */
  take(n: number): Uint8Array {
    if (n < EXCLUSIVE_PAYLOAD_MIN) {
      const out = this.buf.slice(this.start, this.start + n);
      this.awaited = 0;
      this.skip(n);
      return out;
    }
    const out = this.buf.subarray(this.start, this.start + n);
    this.awaited = 0;
    const rest = this.end - (this.start + n);
    const next = new Uint8Array(Math.max(4096, rest));
    next.set(this.buf.subarray(this.start + n, this.end));
    exclusivePayloadBuffers.add(this.buf.buffer);
    this.buf = next;
    this.start = 0;
    this.end = rest;
    return out;
  }

  skip(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }
}

function writeUint32le(u8: Uint8Array, offset: number, v: number): void {
  u8[offset] = v & 0xff;
  u8[offset + 1] = (v >>> 8) & 0xff;
  u8[offset + 2] = (v >>> 16) & 0xff;
  u8[offset + 3] = (v >>> 24) & 0xff;
}

/** The unsigned little-endian 32-bit word at `offset` (caller checks length). */
export function readUint32le(u8: Uint8Array, offset: number): number {
  return (u8[offset]! | (u8[offset + 1]! << 8) | (u8[offset + 2]! << 16) | (u8[offset + 3]! << 24)) >>> 0;
}

function checkPayloadSize(name: TransportName, payload: Uint8Array): void {
  if (payload.length > MAX_PAYLOAD_LENGTH) {
    throw new TransportFramingError(`${name}: payload of ${payload.length} bytes exceeds the ${MAX_PAYLOAD_LENGTH}-byte limit`);
  }
}

function tooLong(name: TransportName, length: number): TransportFramingError {
  return new TransportFramingError(`${name}: frame length ${length} exceeds the ${MAX_PAYLOAD_LENGTH}-byte limit (garbage or desynchronised stream)`);
}

/**
 * `FrameCodec.push` in terms of `pushFrames` (for every codec, plain or obfuscated): quick-ack tokens go to
 * `onQuickAck`, a payload's quick-ack request to `onQuickAckRequest`; the payloads are returned in order.
 */
export function pushPayloads(codec: FrameCodec, chunk: Uint8Array): Uint8Array[] {
  const payloads: Uint8Array[] = [];
  for (const f of codec.pushFrames(chunk)) {
    if (f.kind === 'quick-ack') {
      codec.onQuickAck?.(f.token);
    } else {
      if (f.quickAck) codec.onQuickAckRequest?.(f.payload);
      payloads.push(f.payload);
    }
  }
  return payloads;
}

abstract class BaseCodec implements FrameCodec {
  abstract readonly name: TransportName;
  protected readonly q = new ByteQueue();
  onQuickAck?: (token: number) => void;
  onQuickAckRequest?: (payload: Uint8Array) => void;
  private failed: TransportFramingError | null = null;

  constructor(readonly side: TransportSide) {}

  abstract encode(payload: Uint8Array, opts?: EncodeOptions): Uint8Array;
  abstract encodeQuickAck(token: number): Uint8Array;
  /** Decodes one frame from the queue, or returns null when more bytes are needed. */
  protected abstract next(): DecodedFrame | null;

  pushFrames(chunk: Uint8Array): DecodedFrame[] {
    // After a framing error the stream position is unknown: every later push fails the same way.
    if (this.failed) throw this.failed;
    this.q.append(chunk);
    const out: DecodedFrame[] = [];
    try {
      for (;;) {
        const f = this.next();
        if (!f) break;
        out.push(f);
      }
    } catch (e) {
      if (e instanceof TransportFramingError) this.failed = e;
      throw e;
    }
    return out;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    return pushPayloads(this, chunk);
  }
}

// ---------------------------------------------------------------------------------------------------------------
class AbridgedCodec extends BaseCodec {
  readonly name = 'abridged' as const;

  encode(payload: Uint8Array, opts?: EncodeOptions): Uint8Array {
    checkPayloadSize(this.name, payload);
    if (payload.length % 4 !== 0) {
      throw new TransportFramingError(`abridged: payload length ${payload.length} is not a multiple of 4`);
    }
    const words = payload.length / 4;
    const ack = opts?.quickAck && this.side === 'client' ? 0x80 : 0;
    let out: Uint8Array;
    if (words < 0x7f) {
      out = new Uint8Array(1 + payload.length);
      out[0] = words | ack;
      out.set(payload, 1);
    } else {
      out = new Uint8Array(4 + payload.length);
      out[0] = 0x7f | ack;
      out[1] = words & 0xff;
      out[2] = (words >>> 8) & 0xff;
      out[3] = (words >>> 16) & 0xff;
      out.set(payload, 4);
    }
    return out;
  }

  encodeQuickAck(token: number): Uint8Array {
    // Byte-swapped: the token's most significant byte (top bit set) goes first.
    const t = (token | 0x80000000) >>> 0;
    return Uint8Array.of(t >>> 24, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff);
  }

  protected next(): DecodedFrame | null {
    const q = this.q;
    if (q.length < 1) return null;
    const first = q.at(0);
    if (first & 0x80 && this.side === 'client') {
      // A quick-ack token from the server: 4 bytes, big-endian on the wire.
      if (q.length < 4) return null;
      const token = ((first << 24) | (q.at(1) << 16) | (q.at(2) << 8) | q.at(3)) >>> 0;
      q.skip(4);
      return { kind: 'quick-ack', token };
    }
    const quickAck = (first & 0x80) !== 0;
    const lenByte = first & 0x7f;
    let header: number;
    let length: number;
    if (lenByte < 0x7f) {
      header = 1;
      length = lenByte * 4;
    } else {
      if (q.length < 4) return null;
      header = 4;
      length = (q.at(1) | (q.at(2) << 8) | (q.at(3) << 16)) * 4;
    }
    if (length > MAX_PAYLOAD_LENGTH) throw tooLong(this.name, length);
    if (q.length < header + length) {
      q.expect(header + length);
      return null;
    }
    q.skip(header);
    return { kind: 'payload', payload: q.take(length), quickAck };
  }
}

class IntermediateCodec extends BaseCodec {
  readonly name: 'intermediate' | 'padded';

  constructor(
    side: TransportSide,
    private readonly padded: boolean,
  ) {
    super(side);
    this.name = padded ? 'padded' : 'intermediate';
  }

  encode(payload: Uint8Array, opts?: EncodeOptions): Uint8Array {
    checkPayloadSize(this.name, payload);
    const pad = this.padded ? nodeRandomBytes(1)[0]! % 16 : 0;
    const out = new Uint8Array(4 + payload.length + pad);
    const ack = opts?.quickAck && this.side === 'client' ? 0x80000000 : 0;
    writeUint32le(out, 0, ((payload.length + pad) | ack) >>> 0);
    out.set(payload, 4);
    if (pad) out.set(nodeRandomBytes(pad), 4 + payload.length);
    return out;
  }

  encodeQuickAck(token: number): Uint8Array {
    const out = new Uint8Array(4);
    writeUint32le(out, 0, (token | 0x80000000) >>> 0);
    return out;
  }

  protected next(): DecodedFrame | null {
    const q = this.q;
    if (q.length < 4) return null;
    const word = q.uint32le(0);
    const flagged = (word & 0x80000000) !== 0;
    if (flagged && this.side === 'client') {
      q.skip(4);
      return { kind: 'quick-ack', token: word };
    }
    const length = word & 0x7fffffff;
    if (length > MAX_PAYLOAD_LENGTH + (this.padded ? 15 : 0)) throw tooLong(this.name, length);
    if (q.length < 4 + length) {
      q.expect(4 + length);
      return null;
    }
    q.skip(4);
    return { kind: 'payload', payload: q.take(length), quickAck: flagged };
  }
}

class FullCodec extends BaseCodec {
  readonly name = 'full' as const;
  private sendSeq = 0;
  private recvSeq = 0;

  encode(payload: Uint8Array): Uint8Array {
    checkPayloadSize(this.name, payload);
    const total = payload.length + 12;
    const out = new Uint8Array(total);
    writeUint32le(out, 0, total);
    writeUint32le(out, 4, this.sendSeq);
    this.sendSeq = (this.sendSeq + 1) >>> 0;
    out.set(payload, 8);
    writeUint32le(out, total - 4, crc32(out.subarray(0, total - 4)));
    return out;
  }

  encodeQuickAck(): Uint8Array {
    throw new TransportFramingError('full: the full transport has no quick-ack form');
  }

  protected next(): DecodedFrame | null {
    const q = this.q;
    if (q.length < 4) return null;
    const total = q.uint32le(0);
    if (total < 12) throw new TransportFramingError(`full: frame length ${total} is below the 12-byte minimum`);
    if (total > MAX_PAYLOAD_LENGTH + 12) throw tooLong(this.name, total);
    if (q.length < total) {
      q.expect(total);
      return null;
    }
    const frame = q.peek(total);
    const seq = readUint32le(frame, 4);
    const expectedCrc = readUint32le(frame, total - 4);
    const actualCrc = crc32(frame.subarray(0, total - 4));
    if (expectedCrc !== actualCrc) {
      throw new TransportFramingError(
        `full: CRC32 mismatch in frame seqno ${seq} of ${total} bytes (frame says 0x${hex8(expectedCrc)}, computed 0x${hex8(actualCrc)})`,
      );
    }
    if (seq !== this.recvSeq) {
      throw new TransportFramingError(`full: unexpected seqno ${seq}, expected ${this.recvSeq}`);
    }
    this.recvSeq = (this.recvSeq + 1) >>> 0;
    const payload = frame.slice(8, total - 4);
    q.expect(0);
    q.skip(total);
    return { kind: 'payload', payload, quickAck: false };
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** A fresh codec for one connection. `side` is the side that uses it (it decodes the other side's frames). */
export function createFrameCodec(name: TransportName, side: TransportSide): FrameCodec {
  switch (name) {
    case 'abridged':
      return new AbridgedCodec(side);
    case 'intermediate':
      return new IntermediateCodec(side, false);
    case 'padded':
      return new IntermediateCodec(side, true);
    case 'full':
      return new FullCodec(side);
    default:
      throw new TypeError(`unknown transport ${String(name)}`);
  }
}

/** The bytes a client sends first on a plain (not obfuscated) connection. */
export function clientPreamble(name: TransportName): Uint8Array {
  switch (name) {
    case 'abridged':
      return Uint8Array.of(0xef);
    case 'intermediate':
      return Uint8Array.of(0xee, 0xee, 0xee, 0xee);
    case 'padded':
      return Uint8Array.of(0xdd, 0xdd, 0xdd, 0xdd);
    case 'full':
      return new Uint8Array(0);
    default:
      throw new TypeError(`unknown transport ${String(name)}`);
  }
}

/** The 4-byte protocol tag of an obfuscated header (bytes 56..59 after decryption). */
export function transportTag(name: Exclude<TransportName, 'full'>): number {
  return name === 'abridged' ? 0xefefefef : name === 'intermediate' ? 0xeeeeeeee : 0xdddddddd;
}

export function transportFromTag(tag: number): Exclude<TransportName, 'full'> | null {
  switch (tag >>> 0) {
    case 0xefefefef:
      return 'abridged';
    case 0xeeeeeeee:
      return 'intermediate';
    case 0xdddddddd:
      return 'padded';
    default:
      return null;
  }
}

/**
 * First words a client's first 4 bytes must never be when it sends an obfuscated header (mtproto-transports,
 * "Transport obfuscation"): HTTP methods (`HEAD`, `POST`, `GET `, `OPTI`), a TLS handshake record and the two
 * intermediate preambles, read as little-endian uint32. (Plus: first byte 0xef, and bytes 4..7 all zero.)
 */
export const FORBIDDEN_FIRST_WORDS: readonly number[] = [
  0x44414548, // 'HEAD'
  0x54534f50, // 'POST'
  0x20544547, // 'GET '
  0x4954504f, // 'OPTI'
  0x02010316, // TLS record header
  0xdddddddd,
  0xeeeeeeee,
];

/** True when a 64-byte obfuscation header would be mistaken for another protocol (the spec's forbidden values). */
export function isForbiddenObfuscatedStart(header: Uint8Array): boolean {
  if (header.length < 8) return true;
  if (header[0] === 0xef) return true;
  if (FORBIDDEN_FIRST_WORDS.includes(readUint32le(header, 0))) return true;
  return readUint32le(header, 4) === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Transport errors: a 4-byte packet holding a negative little-endian int32 (−404, −429, −444, −403, …).

/**
 * The transport error code carried by a payload, or null. A 4-byte payload holding a negative int32 is one; with
 * padded intermediate the decoder returns the payload with its 0–15 padding bytes, so any payload shorter than the
 * smallest MTProto message (24 bytes: 8 auth_key_id + 8 msg_id + 4 length + 4 constructor) whose first int32 is
 * negative counts too. Returns the (negative) code as sent, e.g. −404.
 */
export function transportErrorCode(payload: Uint8Array): number | null {
  if (payload.length < 4 || payload.length >= 24) return null;
  const v = readUint32le(payload, 0) | 0;
  return v < 0 ? v : null;
}

/** The 4-byte payload of transport error `code` (404 and −404 both give −404 on the wire). */
export function encodeTransportError(code: number): Uint8Array {
  if (!Number.isInteger(code) || code === 0 || Math.abs(code) > 0x7fffffff) {
    throw new RangeError(`transport error code must be a non-zero int32, got ${code}`);
  }
  const out = new Uint8Array(4);
  writeUint32le(out, 0, -Math.abs(code) >>> 0);
  return out;
}
