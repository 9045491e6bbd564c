import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { srpProof, srpServerChallenge, srpServerCheck, srpVerifier, srpPasswordHash } from '../../src/crypto/srp';
import { DhCheckError, TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { bigIntToBytes } from '../../src/crypto/bigint';

// PBKDF2 with 100000 iterations is ≈100 ms: the password hashes below are shared between tests.
const p = bigIntToBytes(TELEGRAM_DH_PRIME, 256);
const g = 3;
const salt1 = new Uint8Array(randomBytes(40));
const salt2 = new Uint8Array(randomBytes(16));
let verifierCache: Uint8Array | undefined;
const verifier = (): Uint8Array => (verifierCache ??= srpVerifier('hunter2', salt1, salt2, g, p));

test('SRP: server verifier + client proof + server check succeed; wrong password and tampered values fail', () => {
  const v = verifier();
  assert.equal(v.length, 256);
  const { b, B } = srpServerChallenge(v, g, p);
  assert.equal(B.length, 256);
  const { A, M1 } = srpProof({ password: 'hunter2', salt1, salt2, g, p, srpB: B, srpId: 1n });
  assert.equal(A.length, 256);
  assert.equal(M1.length, 32);
  const base = { verifier: v, b, B, salt1, salt2, g, p };
  assert.equal(srpServerCheck({ ...base, A, M1 }), true);

  const wrong = srpProof({ password: 'hunter3', salt1, salt2, g, p, srpB: B });
  assert.equal(srpServerCheck({ ...base, A: wrong.A, M1: wrong.M1 }), false);

  const badM1 = M1.slice();
  badM1[0]! ^= 1;
  assert.equal(srpServerCheck({ ...base, A, M1: badM1 }), false);
  // M1 of one exchange does not verify against another challenge
  const other = srpServerChallenge(v, g, p);
  assert.equal(srpServerCheck({ ...base, b: other.b, B: other.B, A, M1 }), false);
  // A = 1 (would force S = 1) and A = p - 1 are refused
  assert.equal(srpServerCheck({ ...base, A: bigIntToBytes(1n, 256), M1 }), false);
  assert.equal(srpServerCheck({ ...base, A: bigIntToBytes(TELEGRAM_DH_PRIME - 1n, 256), M1 }), false);
});

test('SRP client refuses a bad srp_B or a bad p/g before hashing the password', () => {
  assert.throws(() => srpProof({ password: 'x', salt1, salt2, g, p, srpB: bigIntToBytes(1n, 256) }), DhCheckError);
  assert.throws(() => srpProof({ password: 'x', salt1, salt2, g, p, srpB: bigIntToBytes(TELEGRAM_DH_PRIME - 1n, 256) }), DhCheckError);
  assert.throws(() => srpProof({ password: 'x', salt1, salt2, g: 2, p, srpB: bigIntToBytes(1n << 2000n, 256) }), DhCheckError);
  assert.throws(() => srpProof({ password: 'x', salt1, salt2, g, p: TELEGRAM_DH_PRIME + 6n, srpB: bigIntToBytes(1n << 2000n, 256) }), DhCheckError);
});

test('SRP cross-implementation: GramJS computeDigest equals our verifier; GramJS computeCheck passes our server check', async () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Api } = require('telegram/tl') as { Api: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const gramPassword = require('telegram/Password') as {
    computeDigest(algo: unknown, password: string): Promise<Buffer>;
    computeCheck(request: unknown, password: string): Promise<{ A: Buffer; M1: Buffer }>;
  };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const bigInt = require('big-integer') as (v: string) => unknown;
  const v = verifier();
  const algo = new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
    salt1: Buffer.from(salt1),
    salt2: Buffer.from(salt2),
    g,
    p: Buffer.from(p),
  });
  assert.deepEqual(new Uint8Array(await gramPassword.computeDigest(algo, 'hunter2')), v);

  const { b, B } = srpServerChallenge(v, g, p);
  const request = new Api.account.Password({
    currentAlgo: algo,
    srp_B: Buffer.from(B),
    srpId: bigInt('12345'),
    newAlgo: new Api.PasswordKdfAlgoUnknown(),
    newSecureAlgo: new Api.SecurePasswordKdfAlgoUnknown(),
    secureRandom: Buffer.alloc(32),
  });
  const check = await gramPassword.computeCheck(request, 'hunter2');
  assert.equal(srpServerCheck({ verifier: v, b, B, A: new Uint8Array(check.A), M1: new Uint8Array(check.M1), salt1, salt2, g, p }), true);
  const m1 = new Uint8Array(check.M1);
  m1[31]! ^= 0x80;
  assert.equal(srpServerCheck({ verifier: v, b, B, A: new Uint8Array(check.A), M1: m1, salt1, salt2, g, p }), false);
});

test('srpPasswordHash is PH2: 32 bytes, depends on both salts', () => {
  // cheap structural checks only (each call is one PBKDF2 run)
  const h = srpPasswordHash('pw', salt1, salt2);
  assert.equal(h.length, 32);
  assert.notDeepEqual(h, srpPasswordHash('pw', salt1, salt1));
});
