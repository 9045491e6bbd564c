import { checkPrimeSync, generatePrimeSync, randomInt } from 'node:crypto';

/** Telegram's pq is the product of two ~31-bit primes, always below 2^63; a bigger one is refused unfactored. */
export const PQ_LIMIT = 1n << 63n;

/** Why a pq was refused: 'pq-size' (≥ 2^63 or < 6), 'pq-prime', 'pq-factors' (not two primes), 'pq-budget' (gave up). */
export type PqCheck = 'pq-size' | 'pq-prime' | 'pq-factors' | 'pq-budget';

/** A pq the client will not (or could not) split; a RangeError so callers that only know that still match. */
export class PqError extends RangeError {
  readonly check: PqCheck;
  constructor(check: PqCheck, message: string) {
    super(message);
    this.name = 'PqError';
    this.check = check;
  }
}

export interface FactorizeOptions {
  /** Wall-clock budget for the whole factorization, ms (default 2000): it runs on the event loop. */
  budgetMs?: number;
  /** Pollard-Brent steps before giving up (default 2^22, far above the ~2^16 a 31-bit factor needs). */
  maxSteps?: number;
}

const DEFAULT_BUDGET_MS = 2000;
const DEFAULT_MAX_STEPS = 1 << 22;

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

function randomBelow(n: bigint): bigint {
  // n < 2^64 here: two 32-bit draws are plenty.
  const r = (BigInt(randomInt(0, 2 ** 32)) << 32n) | BigInt(randomInt(0, 2 ** 32));
  return r % n;
}

/** Throws PqError('pq-budget') once `deadline` (ms since epoch) has passed. */
function checkDeadline(deadline: number, what: string): void {
  if (Date.now() >= deadline) throw new PqError('pq-budget', `factorization of pq gave up: ${what} ran past its time budget`);
}

/**
 * One non-trivial factor of composite `n` < 2^64 (Brent's variant of Pollard's rho, gcd batched every m steps);
 * factorizePq's fallback, exported for tests. Bounded: PqError('pq-budget') after `maxSteps` steps or `budgetMs`.
 */
export function brent(n: bigint, opts: FactorizeOptions & { deadline?: number } = {}): bigint {
  if ((n & 1n) === 0n) return 2n;
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const deadline = opts.deadline ?? Date.now() + (opts.budgetMs ?? DEFAULT_BUDGET_MS);
  let steps = 0;
  const spend = (k: number): void => {
    steps += k;
    if (steps > maxSteps) throw new PqError('pq-budget', `factorization of pq gave up after a budget of ${maxSteps} Pollard-Brent steps`);
    checkDeadline(deadline, 'Pollard-Brent');
  };
  for (;;) {
    let y = randomBelow(n - 1n) + 1n;
    const c = randomBelow(n - 1n) + 1n;
    const m = 128;
    let g = 1n,
      r = 1,
      q = 1n;
    let x = 0n,
      ys = 0n;
    while (g === 1n) {
      x = y;
      spend(r);
      for (let i = 0; i < r; i++) y = (y * y + c) % n;
      let k = 0;
      while (k < r && g === 1n) {
        ys = y;
        const lim = Math.min(m, r - k);
        spend(lim);
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
        spend(1);
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
function squfof(n: bigint, deadline: number): bigint {
  if (n >= PQ_LIMIT) return 0n;
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
      if ((i & 0xffff) === 0) checkDeadline(deadline, 'SQUFOF');
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
      if ((j & 0xffff) === 0) checkDeadline(deadline, 'SQUFOF');
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

/**
 * Splits the handshake's pq into its two prime factors, smaller first (SQUFOF, Pollard-Brent as the fallback).
 * Refuses (PqError) a pq ≥ 2^63 before any work, a prime, and anything that is not a product of exactly two
 * primes; gives up with PqError('pq-budget') past the time/step budget.
 */
export function factorizePq(pq: bigint, opts: FactorizeOptions = {}): [bigint, bigint] {
  if (pq >= PQ_LIMIT) {
    throw new PqError('pq-size', `pq of ${pq.toString(2).length} bits is not below 2^63 (Telegram's pq always is): refused without factoring`);
  }
  if (pq < 4n) throw new PqError('pq-size', `pq ${pq} has no two factors`);
  const deadline = Date.now() + (opts.budgetMs ?? DEFAULT_BUDGET_MS);
  checkDeadline(deadline, 'the primality check');
  if (checkPrimeSync(pq)) throw new PqError('pq-prime', `pq ${pq} is prime`);
  let a: bigint;
  if ((pq & 1n) === 0n) a = 2n;
  else {
    const s = isqrt(pq);
    if (s * s === pq) a = s;
    else {
      a = squfof(pq, deadline);
      if (a === 0n || pq % a !== 0n) a = brent(pq, { ...opts, deadline });
    }
  }
  const b = pq / a;
  if (!checkPrimeSync(a) || !checkPrimeSync(b)) throw new PqError('pq-factors', `pq ${pq} is not a product of two primes (${a} · ${b})`);
  return a < b ? [a, b] : [b, a];
}

/** Server side: two distinct random primes p < q (31 and 32 bits) with pq < 2^63, like Telegram sends. */
export function generatePq(): { pq: bigint; p: bigint; q: bigint } {
  const p = generatePrimeSync(31, { bigint: true });
  const q = generatePrimeSync(32, { bigint: true });
  return { pq: p * q, p, q };
}
