// Seeded PRNG for the fuzzers: splitmix32 to spread a seed, xoshiro128** for the stream. Never Math.random: a run
// is reproduced from (seed, target, index) alone.

/** splitmix32 step: a well-mixed 32-bit value from any 32-bit state. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a of a string (target names into seeds). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** FNV-1a of bytes (chunk sizes derived from the input itself, so a saved vector replays identically). */
export function hashBytes(u8: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < u8.length; i++) h = Math.imul(h ^ u8[i]!, 0x01000193);
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Any number of 32-bit words (seed, target hash, input index, …) select the stream. */
  constructor(...words: number[]) {
    let s = 0x6a09e667;
    for (const w of words) s = mix32(s ^ mix32(w >>> 0) ^ mix32(Math.floor(w / 0x100000000)));
    this.a = mix32(s);
    this.b = mix32(this.a);
    this.c = mix32(this.b);
    this.d = mix32(this.c) | 1;
  }

  /** xoshiro128**: the next unsigned 32-bit value. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Integer in [0, n) (n ≤ 2^32). */
  below(n: number): number {
    if (n <= 1) return 0;
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v & 0xff;
      if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A size skewed towards small values: mostly < 16, sometimes up to `max`. */
  size(max: number): number {
    const r = this.below(100);
    if (r < 60) return this.below(Math.min(16, max + 1));
    if (r < 90) return this.below(Math.min(256, max + 1));
    return this.below(max + 1);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
