import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrimeSync, generatePrimeSync, getDiffieHellman } from 'node:crypto';
import { checkDhParams, checkDhParamsAsync, checkDhValue, dhKeyPair, dhShared, DhCheckError, TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { brent, factorizePq, generatePq, PqError } from '../../src/crypto/pq';
import { modPow, modPowJs } from '../../src/crypto/bigint';

const P = TELEGRAM_DH_PRIME;
const M = 1n << 1984n;
const failsWith = (check: string) => (e: unknown) => e instanceof DhCheckError && e.check === check;

test('factorizePq: generated pq round-trips', () => {
  for (let i = 0; i < 30; i++) {
    const { pq, p, q } = generatePq();
    assert.ok(p < q && p !== q);
    assert.ok(pq < 1n << 63n && pq > 1n << 60n);
    assert.ok(checkPrimeSync(p) && checkPrimeSync(q));
    assert.deepEqual(factorizePq(pq), [p, q]);
  }
});

test('Pollard-Brent (the fallback path) splits generated pq too', () => {
  for (let i = 0; i < 3; i++) {
    const { pq, p, q } = generatePq();
    const f = brent(pq);
    assert.ok(f === p || f === q, `brent gave ${f} for ${p} * ${q}`);
  }
});

test('factorizePq: small and even composites, squares, rejects primes', () => {
  assert.deepEqual(factorizePq(1000003n * 1000003n), [1000003n, 1000003n]);
  assert.deepEqual(factorizePq(2147483647n * 4294967291n), [2147483647n, 4294967291n]);
  assert.deepEqual(factorizePq(15n), [3n, 5n]);
  assert.deepEqual(factorizePq(2n * 1000003n), [2n, 1000003n]);
  assert.deepEqual(factorizePq(0x494c553bn * 0x53911073n), [0x494c553bn, 0x53911073n]);
  assert.throws(() => factorizePq(1000003n), RangeError);
});

test('TELEGRAM_DH_PRIME (pre-seeded as proven) really is a safe 2048-bit prime, and passes with g = 3 and 4', () => {
  assert.equal(P.toString(2).length, 2048);
  assert.ok(checkPrimeSync(P), 'p is prime');
  assert.ok(checkPrimeSync((P - 1n) / 2n), '(p-1)/2 is prime');
  checkDhParams(P, 3);
  checkDhParams(P, 4);
});

test('checkDhParams accepts the RFC 3526 2048-bit group (safe prime, p mod 8 = 7) with g = 2', () => {
  const p = BigInt(`0x${getDiffieHellman('modp14').getPrime('hex')}`);
  assert.equal(p % 8n, 7n);
  checkDhParams(p, 2);
});

test('checkDhParams rejects g = 2 when p mod 8 != 7, and other residue rules', () => {
  assert.throws(() => checkDhParams(P, 2), failsWith('g-residue')); // P mod 8 = 3
  assert.throws(() => checkDhParams(P, 5), failsWith('g-residue')); // P mod 5 = 3
  assert.throws(() => checkDhParams(P, 6), failsWith('g-residue')); // P mod 24 = 11
  checkDhParams(P, 7); // P mod 7 = 6
  assert.throws(() => checkDhParams(P, 1), failsWith('g-range'));
  assert.throws(() => checkDhParams(P, 8), failsWith('g-range'));
});

test('checkDhParams rejects a 2047-bit prime ((P-1)/2, itself prime)', () => {
  const q = (P - 1n) / 2n;
  assert.ok(q < 1n << 2047n);
  assert.throws(() => checkDhParams(q, 4), failsWith('p-size'));
  assert.throws(() => checkDhParams(1n << 2048n, 4), failsWith('p-size'));
  assert.throws(() => checkDhParams(1n << 2047n, 4), failsWith('p-size'));
});

test('checkDhParams rejects a composite and a prime that is not safe', () => {
  assert.throws(() => checkDhParams(P + 6n, 4), failsWith('p-prime'));
  const notSafe = generatePrimeSync(2048, { bigint: true });
  assert.ok(!checkPrimeSync((notSafe - 1n) / 2n));
  assert.throws(() => checkDhParams(notSafe, 4), failsWith('p-safe'));
});

test('checkDhValue: 1, p-1, below and above the 2^1984 margins are rejected; the edges are accepted', () => {
  assert.throws(() => checkDhValue(1n, P, 'g_a'), failsWith('g_a-range'));
  assert.throws(() => checkDhValue(P - 1n, P, 'g_a'), failsWith('g_a-range'));
  assert.throws(() => checkDhValue(0n, P, 'g_a'), failsWith('g_a-range'));
  assert.throws(() => checkDhValue(P, P, 'g_a'), failsWith('g_a-range'));
  assert.throws(() => checkDhValue(2n, P, 'g_a'), failsWith('g_a-margin'));
  assert.throws(() => checkDhValue(M - 1n, P, 'g_a'), failsWith('g_a-margin'));
  assert.throws(() => checkDhValue(P - M + 1n, P, 'g_b'), failsWith('g_b-margin'));
  checkDhValue(M, P, 'g_a');
  checkDhValue(P - M, P, 'g_a');
});

test('dhKeyPair / dhShared agree on both sides and match bigint modPow', () => {
  const a = dhKeyPair(P, 3);
  const b = dhKeyPair(P, 3);
  checkDhValue(a.public, P, 'g_a');
  assert.equal(a.public, modPowJs(3n, a.secret, P));
  const s1 = dhShared(b.public, a.secret, P);
  const s2 = dhShared(a.public, b.secret, P);
  assert.equal(s1, s2);
  assert.notEqual(a.secret, b.secret);
});

test('modPow (native path) equals square-and-multiply, incl. exponent ≥ modulus and tiny moduli', () => {
  const base = P / 3n + 12345n;
  for (const e of [2n, 65537n, P - 2n, P * 7n + 5n, P * P + 3n]) assert.equal(modPow(base, e, P), modPowJs(base, e, P));
  assert.equal(modPow(3n, 1000n, 1000003n), modPowJs(3n, 1000n, 1000003n));
  assert.equal(modPow(7n, 0n, P), 1n);
  assert.equal(modPow(-2n, 3n, 11n), 3n); // (-8) mod 11
  assert.equal(modPow(5n, 3n, 16n), 125n % 16n);
});

// A hostile server's pq: Telegram's is below 2^63 (two ~31-bit primes); anything bigger is refused before any
// factoring starts, and factoring itself stops at a budget, so the event loop is never held without bound.
test('factorizePq refuses pq ≥ 2^63 at once: a 16-byte pq (two 64-bit primes) and 2^63 itself', () => {
  const p = generatePrimeSync(64, { bigint: true });
  const q = generatePrimeSync(64, { bigint: true });
  const started = Date.now();
  assert.throws(
    () => factorizePq(p * q),
    (e: unknown) => e instanceof PqError && e.check === 'pq-size' && /2\^63/.test(e.message),
  );
  assert.throws(
    () => factorizePq(1n << 63n),
    (e: unknown) => e instanceof PqError && e.check === 'pq-size',
  );
  assert.ok(Date.now() - started < 100, 'refused without factoring');
});

test('factorizePq refuses pq with three prime factors and pq that is a prime', () => {
  const three = 1000003n * 1000033n * 1000037n; // below 2^63
  assert.ok(three < 1n << 63n);
  assert.throws(
    () => factorizePq(three),
    (e: unknown) => e instanceof PqError && e.check === 'pq-factors',
  );
  assert.throws(
    () => factorizePq(2147483647n),
    (e: unknown) => e instanceof PqError && e.check === 'pq-prime',
  );
});

test('Pollard-Brent stops at its step budget with a clear error instead of running on', () => {
  const { pq } = generatePq();
  assert.throws(
    () => brent(pq, { maxSteps: 16 }),
    (e: unknown) => e instanceof PqError && e.check === 'pq-budget' && /budget/.test(e.message),
  );
  // a prime never splits: without the budget this loop would never end
  assert.throws(
    () => brent(4294967291n, { maxSteps: 10_000 }),
    (e: unknown) => e instanceof PqError && e.check === 'pq-budget',
  );
});

test('factorizePq stops at its time budget', () => {
  const { pq } = generatePq();
  assert.throws(
    () => factorizePq(pq, { budgetMs: 0 }),
    (e: unknown) => e instanceof PqError && e.check === 'pq-budget',
  );
});

test('checkDhParamsAsync: the same checks, with the primality proofs off the event loop', async () => {
  const notSafe = generatePrimeSync(2048, { bigint: true });
  const started = performance.now();
  const pending = checkDhParamsAsync(notSafe, 4);
  const syncMs = performance.now() - started;
  await assert.rejects(pending, failsWith('p-safe'));
  // checkDhParams spends ≈100 ms here before it returns; the async form only the cheap checks
  assert.ok(syncMs < 20, `${syncMs.toFixed(1)} ms spent before returning`);
  await assert.rejects(checkDhParamsAsync(P + 6n, 3), failsWith('p-prime'));
  await assert.rejects(checkDhParamsAsync(P, 2), failsWith('g-residue'));
  await assert.rejects(checkDhParamsAsync((P - 1n) / 2n, 4), failsWith('p-size'));
  await assert.rejects(checkDhParamsAsync(P, 8), failsWith('g-range'));
  await checkDhParamsAsync(BigInt(`0x${getDiffieHellman('modp14').getPrime('hex')}`), 2);
  await checkDhParamsAsync(P, 3);
});
