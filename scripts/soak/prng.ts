// A small seeded PRNG (mulberry32): the soak's choices (operation, pauses, sizes) repeat for one seed.
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream per client: the seed mixed with its index. */
export function childRng(seed: number, index: number): Rng {
  return mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

export function intIn(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function bytesOf(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = Math.floor(rng() * 4294967296);
    out[i] = v & 0xff;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

/** A random signed 64-bit value (never 0) from the stream. */
export function longOf(rng: Rng): bigint {
  for (;;) {
    const hi = BigInt(Math.floor(rng() * 4294967296));
    const lo = BigInt(Math.floor(rng() * 4294967296));
    const v = BigInt.asIntN(64, (hi << 32n) | lo);
    if (v !== 0n) return v;
  }
}
