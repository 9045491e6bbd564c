import { checkPrimeSync, generatePrimeSync, randomInt } from 'node:crypto';

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

function randomBelow(n: bigint): bigint {
  // n < 2^64 here: two 32-bit draws are plenty.
  const r = (BigInt(randomInt(0, 2 ** 32)) << 32n) | BigInt(randomInt(0, 2 ** 32));
  return r % n;
}

/** One non-trivial factor of composite `n` (Brent's variant of Pollard's rho, gcd batched every m steps); factorizePq's fallback, exported for tests. */
export function brent(n: bigint): bigint {
  if ((n & 1n) === 0n) return 2n;
  for (;;) {
    let y = randomBelow(n - 1n) + 1n;
    const c = randomBelow(n - 1n) + 1n;
    const m = 128;
    let g = 1n, r = 1, q = 1n;
    let x = 0n, ys = 0n;
    while (g === 1n) {
      x = y;
      for (let i = 0; i < r; i++) y = (y * y + c) % n;
      let k = 0;
      while (k < r && g === 1n) {
        ys = y;
        const lim = Math.min(m, r - k);
        for (let i = 0; i < lim; i++) {
          y = (y * y + c) % n;
          q = (q * (x > y ? x - y : y - x)) % n;
        }
        g = gcd(q, n);
        k += m;
      }
      r *= 2;
    }
    if (g === n) {
      // the batch overshot: walk it again one step at a time
      do {
        ys = (ys * ys + c) % n;
        g = gcd(x > ys ? x - ys : ys - x, n);
      } while (g === 1n);
    }
    if (g !== n) return g;
    // unlucky constants: try again
  }
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton steps fix the double's rounding
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

const SQUFOF_MULTIPLIERS = [1, 3, 5, 7, 11, 15, 21, 33, 35, 55, 77, 105, 165, 231, 385, 1155];

/**
 * Shanks' square forms factorization for n < 2^63: about n^(1/4) iterations on numbers below 2^41 that fit a
 * double exactly, so the loops run on plain numbers (bigint only for the few setup steps). Returns a non-trivial
 * factor, or 0n when no multiplier succeeded (the caller falls back to Pollard-Brent).
 */
function squfof(n: bigint): bigint {
  if (n >= 1n << 63n) return 0n;
  for (const k of SQUFOF_MULTIPLIERS) {
    const D = BigInt(k) * n;
    const p0big = isqrt(D);
    const P0 = Number(p0big);
    let Qprev = 1;
    let Q = Number(D - p0big * p0big);
    if (Q === 0) continue;
    let P = P0;
    let Pprev = P0;
    const B = Math.floor(6 * Math.sqrt(2 * Math.sqrt(Number(D))));
    let r = 0;
    let i = 2;
    for (; i < B; i++) {
      const b = Math.floor((P0 + P) / Q);
      P = b * Q - P;
      const q = Q;
      Q = Qprev + b * (Pprev - P);
      r = Math.floor(Math.sqrt(Q) + 0.5);
      if ((i & 1) === 0 && r * r === Q) break;
      Qprev = q;
      Pprev = P;
    }
    if (i >= B || r === 0) continue;
    const b0 = Math.floor((P0 - P) / r);
    P = b0 * r + P;
    Pprev = P;
    Qprev = r;
    const pb = BigInt(Pprev);
    Q = Number((D - pb * pb) / BigInt(Qprev));
    if (Q === 0) continue;
    let j = 0;
    do {
      const b = Math.floor((P0 + P) / Q);
      Pprev = P;
      P = b * Q - P;
      const q = Q;
      Q = Qprev + b * (Pprev - P);
      Qprev = q;
      j++;
    } while (P !== Pprev && j < B);
    const f = gcd(n, BigInt(P));
    if (f !== 1n && f !== n) return f;
  }
  return 0n;
}

/** Splits the handshake's pq into its two prime factors, smaller first (SQUFOF, Pollard-Brent as the fallback). */
export function factorizePq(pq: bigint): [bigint, bigint] {
  if (pq < 4n) throw new RangeError(`pq ${pq} has no two factors`);
  if (checkPrimeSync(pq)) throw new RangeError(`pq ${pq} is prime`);
  if ((pq & 1n) === 0n) return [2n, pq / 2n];
  const s = isqrt(pq);
  if (s * s === pq) return [s, s];
  let a = squfof(pq);
  if (a === 0n || pq % a !== 0n) a = brent(pq);
  const b = pq / a;
  return a < b ? [a, b] : [b, a];
}

/** Server side: two distinct random primes p < q (31 and 32 bits) with pq < 2^63, like Telegram sends. */
export function generatePq(): { pq: bigint; p: bigint; q: bigint } {
  const p = generatePrimeSync(31, { bigint: true });
  const q = generatePrimeSync(32, { bigint: true });
  return { pq: p * q, p, q };
}
