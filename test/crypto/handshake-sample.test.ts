// The worked example of core.telegram.org/mtproto/samples-auth_key, end to end through our primitives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TlWriter } from '../../src/tl/binary';
import { aesIgeDecrypt } from '../../src/crypto/aes-ige';
import { bigIntFromBytes, bigIntToBytes, modPow } from '../../src/crypto/bigint';
import { checkDhParams, checkDhValue, dhShared, DhCheckError, TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { sha1 } from '../../src/crypto/hash';
import { authKeyId, handshakeKeyIv, initialServerSalt } from '../../src/crypto/kdf';
import { factorizePq } from '../../src/crypto/pq';
import { hex, SAMPLE } from './samples-auth-key';

test('sample: pq 17ED48941A08F981 factors into 494C553B * 53911073', () => {
  const [p, q] = factorizePq(BigInt(`0x${SAMPLE.pq}`));
  assert.equal(p, 0x494c553bn);
  assert.equal(q, 0x53911073n);
});

test('sample: p_q_inner_data serialization hashes to the page SHA1', () => {
  const w = new TlWriter();
  w.uint(0x83c95aec);
  w.bytes(hex(SAMPLE.pq));
  w.bytes(hex(SAMPLE.p));
  w.bytes(hex(SAMPLE.q));
  w.int128(hex(SAMPLE.nonce));
  w.int128(hex(SAMPLE.serverNonce));
  w.int256(hex(SAMPLE.newNonce));
  assert.equal(Buffer.from(sha1(w.finish())).toString('hex').toUpperCase(), SAMPLE.pqInnerDataSha1);
});

test('sample: tmp_aes_key / tmp_aes_iv from new_nonce and server_nonce', () => {
  const { key, iv } = handshakeKeyIv(hex(SAMPLE.newNonce), hex(SAMPLE.serverNonce));
  assert.equal(Buffer.from(key).toString('hex').toUpperCase(), SAMPLE.tmpAesKey);
  assert.equal(Buffer.from(iv).toString('hex').toUpperCase(), SAMPLE.tmpAesIv);
});

test('sample: server_DH_inner_data carries TELEGRAM_DH_PRIME, g_a; g^b and g_a^b give the page g_b and auth_key', () => {
  const { key, iv } = handshakeKeyIv(hex(SAMPLE.newNonce), hex(SAMPLE.serverNonce));
  const plain = aesIgeDecrypt(hex(SAMPLE.encryptedAnswer), key, iv);
  const answer = plain.subarray(20);
  const dv = Buffer.from(answer.buffer, answer.byteOffset, answer.length);
  assert.equal(dv.readUInt32LE(0), 0xb5890dba);
  assert.equal(dv.readInt32LE(36), SAMPLE.g);
  // dh_prime: bytes with the 4-byte long form header fe 00 01 00 at 40, data at 44..300
  assert.deepEqual([...answer.subarray(40, 44)], [0xfe, 0x00, 0x01, 0x00]);
  const dhPrime = bigIntFromBytes(answer.subarray(44, 300));
  assert.equal(dhPrime, TELEGRAM_DH_PRIME);
  const gA = bigIntFromBytes(answer.subarray(304, 560));
  assert.equal(gA, BigInt(`0x${SAMPLE.gA}`));
  assert.equal(dv.readInt32LE(560), SAMPLE.serverTime);
  checkDhValue(gA, dhPrime, 'g_a');

  const b = BigInt(`0x${SAMPLE.b}`);
  const gB = modPow(BigInt(SAMPLE.g), b, dhPrime);
  assert.equal(gB, BigInt(`0x${SAMPLE.gB}`));
  const authKey = bigIntToBytes(dhShared(gA, b, dhPrime), 256);
  assert.equal(Buffer.from(authKey).toString('hex').toUpperCase(), SAMPLE.authKey);

  // dh_gen_ok new_nonce_hash1 = low 128 bits of SHA1(new_nonce + 0x01 + auth_key_aux_hash)
  const auxHash = sha1(authKey).subarray(0, 8);
  const nnh = sha1(hex(SAMPLE.newNonce), new Uint8Array([1]), auxHash).subarray(4, 20);
  assert.equal(Buffer.from(nnh).toString('hex').toUpperCase(), SAMPLE.newNonceHash1);
  // auth_key_id is the low 64 bits of the same SHA1
  assert.equal(BigInt.asUintN(64, authKeyId(authKey)), bigIntFromBytes(sha1(authKey).subarray(12, 20), 'le'));
});

test('sample: the page pairs this prime with g = 2, which the security rules reject (p mod 8 = 3)', () => {
  assert.equal(TELEGRAM_DH_PRIME % 8n, 3n);
  assert.throws(
    () => checkDhParams(TELEGRAM_DH_PRIME, 2),
    (e: unknown) => e instanceof DhCheckError && e.check === 'g-residue',
  );
});

test('sample: initial server_salt = new_nonce[0:8] XOR server_nonce[0:8] as int64 LE', () => {
  const nn = hex(SAMPLE.newNonce),
    sn = hex(SAMPLE.serverNonce);
  const x = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) x[i] = nn[i]! ^ sn[i]!;
  // 31^A5 1C^CF 85^4D DB^33 23^F4 4A^A1 A2^1E 64^A8 = 94 D3 C8 E8 D7 EB BC CC
  assert.equal(x.toString('hex'), '94d3c8e8d7ebbccc');
  assert.equal(initialServerSalt(nn, sn), x.readBigInt64LE(0));
  assert.equal(initialServerSalt(nn, sn), -0x3343_1428_1737_2c6cn);
});
