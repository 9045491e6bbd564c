import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import {
  generateRsaKeyPair,
  loadRsaKeyPair,
  parseRsaPublicKeyPem,
  rsaFingerprint,
  rsaPadDecrypt,
  rsaPadEncrypt,
  RsaPadError,
  TELEGRAM_PRODUCTION_KEYS,
  TELEGRAM_TEST_KEYS,
  type RsaKeyPair,
} from '../../src/crypto/rsa';
import { bigIntFromBytes, bigIntToBytes, modPow } from '../../src/crypto/bigint';

let pairCache: RsaKeyPair | undefined;
const pair = (): RsaKeyPair => (pairCache ??= generateRsaKeyPair());

test('Telegram key fingerprints: production -3414540481677951611 (0xd09d1d85de64fd85), test 0xb25898df208d2603', () => {
  assert.equal(TELEGRAM_PRODUCTION_KEYS[0]!.fingerprint, -3414540481677951611n);
  assert.equal(BigInt.asUintN(64, TELEGRAM_PRODUCTION_KEYS[0]!.fingerprint), 0xd09d1d85de64fd85n);
  assert.equal(BigInt.asUintN(64, TELEGRAM_TEST_KEYS[0]!.fingerprint), 0xb25898df208d2603n);
  assert.equal(TELEGRAM_TEST_KEYS[0]!.fingerprint, BigInt.asIntN(64, 0xb25898df208d2603n));
  for (const k of [...TELEGRAM_PRODUCTION_KEYS, ...TELEGRAM_TEST_KEYS]) {
    assert.equal(k.e, 65537n);
    assert.equal(k.n.toString(2).length, 2048);
  }
  // GramJS's hard-coded production modulus (decimal) agrees with the PEM we embed
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const gram = require('telegram/crypto/RSA') as { _serverKeys: Map<string, { n: { toString(): string } }> };
  assert.equal(gram._serverKeys.get('-3414540481677951611')!.n.toString(), TELEGRAM_PRODUCTION_KEYS[0]!.n.toString());
});

test('parseRsaPublicKeyPem reads PKCS#1 and SPKI forms of the same key identically', () => {
  const pkcs1 = TELEGRAM_PRODUCTION_KEYS[0]!.pem!;
  const spki = createPublicKey(pkcs1).export({ type: 'spki', format: 'pem' }).toString();
  assert.match(spki, /BEGIN PUBLIC KEY/);
  const a = parseRsaPublicKeyPem(pkcs1);
  const b = parseRsaPublicKeyPem(spki);
  assert.equal(a.n, b.n);
  assert.equal(a.fingerprint, b.fingerprint);
  assert.equal(rsaFingerprint(a.n, a.e), a.fingerprint);
  assert.notEqual(rsaFingerprint(a.n, 3n), a.fingerprint);
  assert.throws(() => parseRsaPublicKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'));
});

test('generateRsaKeyPair / loadRsaKeyPair: 2048-bit, e = 65537, PKCS#1 PEMs, reload gives the same key', () => {
  const kp = pair();
  assert.match(kp.privatePem, /BEGIN RSA PRIVATE KEY/);
  assert.match(kp.publicPem, /BEGIN RSA PUBLIC KEY/);
  assert.equal(kp.publicKey.e, 65537n);
  assert.equal(kp.publicKey.n.toString(2).length, 2048);
  const again = loadRsaKeyPair(kp.privatePem);
  assert.equal(again.publicKey.n, kp.publicKey.n);
  assert.equal(again.publicKey.fingerprint, kp.publicKey.fingerprint);
});

test('RSA_PAD round trip ours → ours: data comes back followed by its padding; every cipher differs', () => {
  const kp = pair();
  for (const len of [0, 1, 100, 144]) {
    const data = randomBytes(len);
    const c1 = rsaPadEncrypt(data, kp.publicKey);
    const c2 = rsaPadEncrypt(data, kp.publicKey);
    assert.equal(c1.length, 256);
    assert.notDeepEqual(c1, c2);
    assert.ok(bigIntFromBytes(c1) < kp.publicKey.n);
    const out = rsaPadDecrypt(c1, kp);
    assert.equal(out.length, 192);
    assert.deepEqual(out.subarray(0, len), new Uint8Array(data));
  }
  assert.throws(() => rsaPadEncrypt(new Uint8Array(145), kp.publicKey), RangeError);
});

test('rsaPadDecrypt throws on a tampered cipher, a garbage pad, a cipher ≥ n and a wrong length', () => {
  const kp = pair();
  const c = rsaPadEncrypt(randomBytes(100), kp.publicKey);
  const bad = c.slice();
  bad[100]! ^= 0x40;
  assert.throws(() => rsaPadDecrypt(bad, kp), RsaPadError);
  // a well-formed RSA value whose pad is garbage
  const garbage = bigIntToBytes(modPow(bigIntFromBytes(randomBytes(255)), kp.publicKey.e, kp.publicKey.n), 256);
  assert.throws(() => rsaPadDecrypt(garbage, kp), /hash mismatch/);
  assert.throws(() => rsaPadDecrypt(bigIntToBytes(kp.publicKey.n, 256), kp), RsaPadError);
  assert.throws(() => rsaPadDecrypt(c.subarray(0, 255), kp), RsaPadError);
});

test('RSA_PAD cross-implementation: GramJS doAuthentication encrypts p_q_inner_data, our server side decrypts it', async () => {
  const kp = pair();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const bigInt = require('big-integer') as (v: string) => { toString(): string; eq(o: unknown): boolean };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const gramRsa = require('telegram/crypto/RSA') as { _serverKeys: Map<string, { n: unknown; e: number }> };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Api } = require('telegram/tl') as { Api: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { doAuthentication } = require('telegram/network/Authenticator') as { doAuthentication(s: unknown, l: unknown): Promise<unknown> };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { BinaryReader } = require('telegram/extensions') as { BinaryReader: new (b: Buffer) => { tgReadObject(): any } }; // eslint-disable-line @typescript-eslint/no-explicit-any

  const fp = kp.publicKey.fingerprint.toString();
  gramRsa._serverKeys.set(fp, { n: bigInt(kp.publicKey.n.toString()), e: 65537 });
  // GramJS reads int128 as a signed little-endian number
  const serverNonce = bigInt(BigInt.asIntN(128, bigIntFromBytes(randomBytes(16), 'le')).toString());
  const pqBytes = Buffer.from('17ED48941A08F981', 'hex');
  let sentNonce: unknown;
  let encryptedData: Buffer | undefined;
  const abort = new Error('stop after req_DH_params');
  const sender = {
    async send(req: { className: string; nonce?: unknown; encryptedData?: Buffer }) {
      if (req.className === 'ReqPqMulti') {
        sentNonce = req.nonce;
        return new Api.ResPQ({ nonce: req.nonce, serverNonce, pq: pqBytes, serverPublicKeyFingerprints: [bigInt(fp)] });
      }
      if (req.className === 'ReqDHParams') {
        encryptedData = req.encryptedData;
        throw abort;
      }
      throw new Error(`unexpected ${req.className}`);
    },
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  try {
    await assert.rejects(doAuthentication(sender, log), (e) => e === abort);
  } finally {
    gramRsa._serverKeys.delete(fp);
  }
  assert.ok(encryptedData && encryptedData.length === 256);
  const plain = rsaPadDecrypt(new Uint8Array(encryptedData), kp);
  const inner = new BinaryReader(Buffer.from(plain)).tgReadObject();
  assert.equal(inner.className, 'PQInnerData');
  assert.ok(inner.nonce.eq(sentNonce));
  assert.ok(inner.serverNonce.eq(serverNonce));
  assert.deepEqual(Buffer.from(inner.pq), pqBytes);
  assert.deepEqual(Buffer.from(inner.p), Buffer.from('494C553B', 'hex'));
  assert.deepEqual(Buffer.from(inner.q), Buffer.from('53911073', 'hex'));
  // and a flipped bit in GramJS's cipher is caught by our hash check
  const bad = new Uint8Array(encryptedData);
  bad[200]! ^= 1;
  assert.throws(() => rsaPadDecrypt(bad, kp), RsaPadError);
});
