import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { authKeyId, messageKeyIv, msgKey } from '../../src/crypto/kdf';
import { bigIntFromBytes, bigIntToBytes } from '../../src/crypto/bigint';
import { randomBytes as ourRandom } from '../../src/crypto/random';
import { pbkdf2Sha512, sha1, sha256, sha512 } from '../../src/crypto/hash';

// A fixed auth key: bytes 0..255.
const authKey = Uint8Array.from({ length: 256 }, (_, i) => i);
const plaintext = Uint8Array.from({ length: 64 }, (_, i) => (i * 7) & 255);
const H = (algo: string, ...parts: Uint8Array[]) => {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

test('authKeyId: low 64 bits of SHA1(auth_key), signed little-endian', () => {
  const h = H('sha1', authKey);
  assert.equal(authKeyId(authKey), Buffer.from(h.subarray(12, 20)).readBigInt64LE(0));
});

test('msgKey: middle 128 bits of SHA256(auth_key[88+x..+32] + plaintext); x = 0 and 8 differ', () => {
  const k0 = msgKey(authKey, plaintext, 0);
  assert.equal(k0.length, 16);
  assert.deepEqual(k0, H('sha256', authKey.subarray(88, 120), plaintext).subarray(8, 24));
  assert.deepEqual(msgKey(authKey, plaintext, 0), k0);
  const k8 = msgKey(authKey, plaintext, 8);
  assert.deepEqual(k8, H('sha256', authKey.subarray(96, 128), plaintext).subarray(8, 24));
  assert.notDeepEqual(k0, k8);
  const other = plaintext.slice();
  other[63]! ^= 1;
  assert.notDeepEqual(msgKey(authKey, other, 0), k0);
});

test('messageKeyIv: MTProto 2.0 layout of sha256_a / sha256_b; deterministic; x = 0 vs 8 differ', () => {
  const mk = msgKey(authKey, plaintext, 0);
  for (const x of [0, 8] as const) {
    const a = H('sha256', mk, authKey.subarray(x, x + 36));
    const b = H('sha256', authKey.subarray(40 + x, 76 + x), mk);
    const { key, iv } = messageKeyIv(authKey, mk, x);
    assert.deepEqual(key, Uint8Array.from([...a.subarray(0, 8), ...b.subarray(8, 24), ...a.subarray(24, 32)]));
    assert.deepEqual(iv, Uint8Array.from([...b.subarray(0, 8), ...a.subarray(8, 24), ...b.subarray(24, 32)]));
    assert.deepEqual(messageKeyIv(authKey, mk, x), { key, iv });
  }
  assert.notDeepEqual(messageKeyIv(authKey, mk, 0).key, messageKeyIv(authKey, mk, 8).key);
  assert.notDeepEqual(messageKeyIv(authKey, mk, 0).iv, messageKeyIv(authKey, mk, 8).iv);
});

test('hashes over several parts equal the hash of the concatenation; pbkdf2 matches a known RFC-style vector', () => {
  const a = randomBytes(10),
    b = randomBytes(70);
  const ab = Buffer.concat([a, b]);
  assert.deepEqual(sha1(a, b), H('sha1', ab));
  assert.deepEqual(sha256(a, b), H('sha256', ab));
  assert.deepEqual(sha512(a, b), H('sha512', ab));
  assert.equal(Buffer.from(sha256(new TextEncoder().encode('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // PBKDF2-HMAC-SHA512("password", "salt", 1) first 16 bytes (well-known test vector)
  assert.equal(
    Buffer.from(pbkdf2Sha512('password', new TextEncoder().encode('salt'), 1))
      .toString('hex')
      .slice(0, 32),
    '867f70cf1ade02cff3752599a3a53dc4',
  );
  assert.equal(pbkdf2Sha512('x', new Uint8Array(4), 2, 32).length, 32);
});

test("bigint helpers: endianness, padding, two's complement and overflow", () => {
  assert.equal(bigIntFromBytes(Uint8Array.of(1, 2)), 0x0102n);
  assert.equal(bigIntFromBytes(Uint8Array.of(1, 2), 'le'), 0x0201n);
  assert.equal(bigIntFromBytes(new Uint8Array(0)), 0n);
  assert.deepEqual(bigIntToBytes(0x0102n, 4), Uint8Array.of(0, 0, 1, 2));
  assert.deepEqual(bigIntToBytes(0x0102n, 4, 'le'), Uint8Array.of(2, 1, 0, 0));
  assert.deepEqual(bigIntToBytes(-1n, 8, 'le'), new Uint8Array(8).fill(255));
  assert.deepEqual(bigIntToBytes(-(1n << 63n), 8), Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0));
  assert.throws(() => bigIntToBytes(256n, 1), RangeError);
  assert.throws(() => bigIntToBytes(-(1n << 63n) - 1n, 8), RangeError);
  const r = ourRandom(32);
  assert.equal(r.length, 32);
  assert.notDeepEqual(r, ourRandom(32));
});
