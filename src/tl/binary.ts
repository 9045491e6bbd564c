// TL primitive serialization: little-endian ints, longs, doubles, int128/int256 and length-prefixed bytes/strings.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * Joins two parts of a field path (`users[0].photo`): a `.` between them unless the right part is an index
 * (`[3]`) or either part is empty. Used by the TL error classes of the binary codec and the JSON mapping.
 */
export function joinTlPath(left: string, right: string): string {
  if (!right) return left;
  if (!left) return right;
  return right.startsWith('[') ? left + right : `${left}.${right}`;
}

/** A decoding failure; the message names the byte offset, the TL type and, when known, the field path. */
export class TlDecodeError extends Error {
  /** Field path from the decoded root, e.g. `users[0].photo.photo_id` (empty at the root). */
  path: string;
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly type: string,
    path = '',
  ) {
    super('');
    this.name = 'TlDecodeError';
    this.path = path;
    this.message = this.format();
  }

  /** Prepends a path segment (`name` or `[3]`) while the error travels up. */
  prependPath(segment: string): this {
    this.path = joinTlPath(segment, this.path);
    this.message = this.format();
    return this;
  }

  /** Adds context to the reason (e.g. that the failure happened inside gzip_packed). */
  addNote(note: string): this {
    (this as { reason: string }).reason += ` (${note})`;
    this.message = this.format();
    return this;
  }

  private format(): string {
    return `${this.reason} at offset ${this.offset} reading ${this.type}${this.path ? ` (field ${this.path})` : ''}`;
  }
}

/** Growable little-endian buffer writer. */
export class TlWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = new DataView(this.buf.buffer);
  }

  get offset(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    // Doubling, but a big write (a file part) gets just what it needs plus 1/8: no 2 MiB buffer for 1 MiB of bytes.
    const size = Math.max(this.buf.length * 2, need + (need >>> 3));
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int(n: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, n, true);
    this.pos += 4;
  }

  uint(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, n >>> 0, true);
    this.pos += 4;
  }

  long(b: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, b), true);
    this.pos += 8;
  }

  double(n: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, n, true);
    this.pos += 8;
  }

  int128(u8: Uint8Array): void {
    if (u8.length !== 16) throw new RangeError(`int128 needs 16 bytes, got ${u8.length}`);
    this.raw(u8);
  }

  int256(u8: Uint8Array): void {
    if (u8.length !== 32) throw new RangeError(`int256 needs 32 bytes, got ${u8.length}`);
    this.raw(u8);
  }

  /** TL `bytes`: 1-byte length (< 254) or 0xfe + 3-byte length, data, zero padding to a multiple of 4. */
  bytes(u8: Uint8Array): void {
    const len = u8.length;
    if (len > 0xffffff) throw new RangeError(`bytes too long: ${len}`);
    const header = len < 254 ? 1 : 4;
    const total = (header + len + 3) & ~3;
    this.ensure(total);
    const b = this.buf;
    let p = this.pos;
    if (header === 1) b[p++] = len;
    else {
      b[p++] = 254;
      b[p++] = len & 0xff;
      b[p++] = (len >>> 8) & 0xff;
      b[p++] = (len >>> 16) & 0xff;
    }
    b.set(u8, p);
    p += len;
    const end = this.pos + total;
    while (p < end) b[p++] = 0;
    this.pos = end;
  }

  string(s: string): void {
    this.bytes(utf8Encoder.encode(s));
  }

  raw(u8: Uint8Array): void {
    this.ensure(u8.length);
    this.buf.set(u8, this.pos);
    this.pos += u8.length;
  }

  /** Overwrites an int already written at `offset` (e.g. a length known only afterwards). */
  patchInt(offset: number, n: number): void {
    this.view.setInt32(offset, n, true);
  }

  /** The written bytes (a copy, so the writer may be reused or dropped). */
  /** The written bytes: the buffer itself when it was sized exactly (no copy), else a copy of the used part. */
  finish(): Uint8Array {
    if (this.pos === this.buf.length) return this.buf;
    return this.buf.slice(0, this.pos);
  }
}

/** Bounds-checked little-endian reader; `bytes()` and `raw()` return views into the input (no copy). */
export class TlReader {
  readonly data: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  private readonly end: number;

  constructor(u8: Uint8Array, start = 0, end = u8.length) {
    this.data = u8;
    this.view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Limit of this reader (exclusive offset). */
  get limit(): number {
    return this.end;
  }

  private need(n: number, type: string): void {
    if (this.pos + n > this.end) throw new TlDecodeError(`unexpected end of data (need ${n} bytes, ${this.end - this.pos} left)`, this.pos, type);
  }

  int(): number {
    this.need(4, 'int');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4, 'int');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  peekUint(): number {
    this.need(4, 'int');
    return this.view.getUint32(this.pos, true);
  }

  long(): bigint {
    this.need(8, 'long');
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  double(): number {
    this.need(8, 'double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  int128(): Uint8Array {
    this.need(16, 'int128');
    return this.take(16);
  }

  int256(): Uint8Array {
    this.need(32, 'int256');
    return this.take(32);
  }

  bytes(type = 'bytes'): Uint8Array {
    const start = this.pos;
    this.need(1, type);
    const first = this.data[this.pos]!;
    let len: number;
    let header: number;
    if (first < 254) {
      len = first;
      header = 1;
    } else if (first === 254) {
      this.need(4, type);
      const d = this.data;
      const p = this.pos;
      len = d[p + 1]! | (d[p + 2]! << 8) | (d[p + 3]! << 16);
      header = 4;
    } else throw new TlDecodeError('invalid length prefix 0xff', start, type);
    const total = (header + len + 3) & ~3;
    if (start + total > this.end) throw new TlDecodeError(`${type} of ${len} bytes runs past the end (${this.end - start} left)`, start, type);
    const out = this.data.subarray(start + header, start + header + len);
    this.pos = start + total;
    return out;
  }

  string(): string {
    return utf8Decoder.decode(this.bytes('string'));
  }

  raw(n: number): Uint8Array {
    if (n < 0) throw new TlDecodeError(`negative length ${n}`, this.pos, 'raw');
    this.need(n, 'raw');
    return this.take(n);
  }

  /** A reader over the next `n` bytes (which this reader skips). */
  sub(n: number, type = 'raw'): TlReader {
    if (n < 0) throw new TlDecodeError(`negative length ${n}`, this.pos, type);
    this.need(n, type);
    const r = new TlReader(this.data, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Moves to an absolute offset within this reader's range. */
  seek(offset: number): void {
    if (offset < 0 || offset > this.end) throw new TlDecodeError(`seek out of range`, offset, 'raw');
    this.pos = offset;
  }

  private take(n: number): Uint8Array {
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
