// A seeded PRNG (splitmix64) for the fault runner: every random choice of a run comes from here, so the same
// scenario and seed make the same choices. Each draw is logged with a label, which is what a replay compares.

import { createCipheriv } from 'node:crypto';

const MASK = (1n << 64n) - 1n;

/** FNV-1a 64 of a text: the scenario's name becomes part of its stream, so scenarios do not share draws. */
function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & MASK;
  }
  return h;
}

export class Prng {
  private state: bigint;
  /** Every draw as "label=value", in order. */
  readonly draws: string[] = [];

  constructor(seed: number | bigint, stream = '') {
    this.state = (BigInt(seed) * 0x9e3779b97f4a7c15n + fnv1a64(stream)) & MASK;
  }

  /** The next 64 random bits (splitmix64). */
  next64(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  }

  /** Uniform in [0, 1), 53 bits. */
  float(): number {
    return Number(this.next64() >> 11n) / 2 ** 53;
  }

  private note<T>(label: string, v: T): T {
    this.draws.push(`${label}=${typeof v === 'bigint' ? v.toString() : String(v)}`);
    return v;
  }

  /** Integer in [lo, hi] (both included). */
  int(label: string, lo: number, hi: number): number {
    if (!(hi >= lo)) throw new RangeError(`int(${label}): empty range ${lo}..${hi}`);
    return this.note(label, lo + Math.floor(this.float() * (hi - lo + 1)));
  }

  bool(label: string, p = 0.5): boolean {
    return this.note(label, this.float() < p);
  }

  pick<T>(label: string, items: readonly T[]): T {
    if (items.length === 0) throw new RangeError(`pick(${label}): no items`);
    const i = Math.floor(this.float() * items.length);
    this.note(label, items[i]);
    return items[i]!;
  }

  /** A signed 64-bit value (a random_id). */
  long(label: string): bigint {
    return this.note(label, BigInt.asIntN(64, this.next64()));
  }

  /** Bytes for an upload: an AES-256-CTR keystream keyed by four draws (the label records the length). */
  bytes(label: string, n: number): Uint8Array {
    const key = Buffer.alloc(32);
    for (let i = 0; i < 4; i++) key.writeBigUInt64LE(this.next64(), i * 8);
    const out = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
    this.note(label, `${n} bytes`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  shuffle<T>(label: string, items: readonly T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    this.note(label, a.join(','));
    return a;
  }
}
