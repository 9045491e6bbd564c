import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { TlWriter } from '../tl/binary';
import { AesIge } from './aes-ige';
import { bigIntFromBytes, bigIntToBytes, bigIntToMinBytes, modPow } from './bigint';
import { sha1, sha256 } from './hash';
import { randomBytes } from './random';

export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  /** signed 64-bit: the low 64 bits of SHA1(TL bytes(n) + TL bytes(e)) read little-endian */
  fingerprint: bigint;
  pem?: string;
}

export interface RsaKeyPair {
  publicKey: RsaPublicKey;
  privatePem: string;
  publicPem: string;
}

function b64urlToBigInt(s: string): bigint {
  return bigIntFromBytes(Buffer.from(s, 'base64url'));
}

/** Telegram's key fingerprint of (n, e). */
export function rsaFingerprint(n: bigint, e: bigint): bigint {
  const w = new TlWriter(300);
  w.bytes(bigIntToMinBytes(n));
  w.bytes(bigIntToMinBytes(e));
  const h = sha1(w.finish());
  return BigInt.asIntN(64, bigIntFromBytes(h.subarray(12, 20), 'le'));
}

/** Parses a PEM public key, PKCS#1 ("BEGIN RSA PUBLIC KEY") or SPKI ("BEGIN PUBLIC KEY"). */
export function parseRsaPublicKeyPem(pem: string): RsaPublicKey {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`not an RSA key: ${key.asymmetricKeyType}`);
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.n || !jwk.e) throw new TypeError('RSA key without n/e');
  const n = b64urlToBigInt(jwk.n);
  const e = b64urlToBigInt(jwk.e);
  return { n, e, fingerprint: rsaFingerprint(n, e), pem };
}

const ZERO_IV = new Uint8Array(32);

/**
 * RSA_PAD (mtproto/auth_key): data (≤ 144 bytes, normally a p_q_inner_data*) padded to 192 random-filled bytes,
 * reversed, followed by SHA256(temp_key + data_with_padding), AES-256-IGE encrypted under a random temp_key with a
 * zero IV, temp_key XOR SHA256(aes_encrypted) prepended, retried with a new temp_key while ≥ n, then raw RSA.
 */
export function rsaPadEncrypt(data: Uint8Array, key: RsaPublicKey): Uint8Array {
  if (data.length > 144) throw new RangeError(`RSA_PAD data must be at most 144 bytes, got ${data.length}`);
  const dataWithPadding = new Uint8Array(192);
  dataWithPadding.set(data);
  dataWithPadding.set(randomBytes(192 - data.length), data.length);
  const reversed = dataWithPadding.slice().reverse();
  const dataWithHash = new Uint8Array(224);
  dataWithHash.set(reversed);
  for (let attempt = 0; attempt < 64; attempt++) {
    const tempKey = randomBytes(32);
    dataWithHash.set(sha256(tempKey, dataWithPadding), 192);
    const aesEncrypted = new AesIge(tempKey, ZERO_IV).encrypt(dataWithHash);
    const h = sha256(aesEncrypted);
    const keyAesEncrypted = new Uint8Array(256);
    for (let i = 0; i < 32; i++) keyAesEncrypted[i] = tempKey[i]! ^ h[i]!;
    keyAesEncrypted.set(aesEncrypted, 32);
    const m = bigIntFromBytes(keyAesEncrypted);
    if (m >= key.n) continue;
    return bigIntToBytes(modPow(m, key.e, key.n), 256);
  }
  throw new Error('RSA_PAD: no temp_key gave a value below the modulus');
}

/** Raised by rsaPadDecrypt when the cipher text does not decode to a well-formed RSA_PAD block. */
export class RsaPadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RsaPadError';
  }
}

/**
 * Server side of RSA_PAD: raw RSA with the private key (OpenSSL, no padding), then undoes the pad and verifies
 * the SHA256. Returns data_with_padding (192 bytes: the TL object followed by random padding).
 */
export function rsaPadDecrypt(cipher256: Uint8Array, pair: RsaKeyPair): Uint8Array {
  if (cipher256.length !== 256) throw new RsaPadError(`RSA_PAD cipher text must be 256 bytes, got ${cipher256.length}`);
  if (bigIntFromBytes(cipher256) >= pair.publicKey.n) throw new RsaPadError('RSA_PAD cipher text is not below the modulus');
  let plain: Uint8Array;
  try {
    const key = privateKeyObject(pair);
    const b = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, cipher256);
    plain = new Uint8Array(256);
    plain.set(b, 256 - b.length);
  } catch (e) {
    throw new RsaPadError(`RSA_PAD raw RSA failed: ${(e as Error).message}`);
  }
  const tempKeyXor = plain.subarray(0, 32);
  const aesEncrypted = plain.subarray(32, 256);
  const h = sha256(aesEncrypted);
  const tempKey = new Uint8Array(32);
  for (let i = 0; i < 32; i++) tempKey[i] = tempKeyXor[i]! ^ h[i]!;
  const dataWithHash = new AesIge(tempKey, ZERO_IV).decrypt(aesEncrypted);
  const dataWithPadding = dataWithHash.slice(0, 192).reverse();
  const expected = sha256(tempKey, dataWithPadding);
  if (!timingSafeEqual(expected, dataWithHash.subarray(192, 224))) throw new RsaPadError('RSA_PAD hash mismatch');
  return dataWithPadding;
}

const privateKeys = new WeakMap<RsaKeyPair, ReturnType<typeof createPrivateKey>>();
function privateKeyObject(pair: RsaKeyPair): ReturnType<typeof createPrivateKey> {
  let k = privateKeys.get(pair);
  if (!k) {
    k = createPrivateKey(pair.privatePem);
    privateKeys.set(pair, k);
  }
  return k;
}

/** A fresh 2048-bit RSA key pair (e = 65537), PEMs in PKCS#1 form as Telegram publishes its keys. */
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 65537,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return loadRsaKeyPair(privateKey);
}

/** Key pair from a private PEM (PKCS#1 or PKCS#8). */
export function loadRsaKeyPair(privatePem: string): RsaKeyPair {
  const priv = createPrivateKey(privatePem);
  if (priv.asymmetricKeyType !== 'rsa') throw new TypeError(`not an RSA key: ${priv.asymmetricKeyType}`);
  const publicPem = createPublicKey(priv).export({ type: 'pkcs1', format: 'pem' }).toString();
  const pair: RsaKeyPair = { publicKey: parseRsaPublicKeyPem(publicPem), privatePem, publicPem };
  privateKeys.set(pair, priv);
  return pair;
}

const PRODUCTION_PEM = `-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
+aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
-----END RSA PUBLIC KEY-----
`;

const TEST_PEM = `-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
-----END RSA PUBLIC KEY-----
`;

/** Telegram's production DC key (fingerprint 0xd09d1d85de64fd85). */
export const TELEGRAM_PRODUCTION_KEYS: RsaPublicKey[] = [parseRsaPublicKeyPem(PRODUCTION_PEM)];
/** Telegram's test DC key (fingerprint 0xb25898df208d2603). */
export const TELEGRAM_TEST_KEYS: RsaPublicKey[] = [parseRsaPublicKeyPem(TEST_PEM)];
