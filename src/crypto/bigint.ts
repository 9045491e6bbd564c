import { constants, createPublicKey, publicEncrypt } from 'node:crypto';

/** Unsigned integer from bytes (big-endian by default). */
export function bigIntFromBytes(u8: Uint8Array, endian: 'be' | 'le' = 'be'): bigint {
  if (u8.length === 0) return 0n;
  const b = Buffer.from(u8.buffer, u8.byteOffset, u8.length);
  const hex = endian === 'be' ? b.toString('hex') : Buffer.from(b).reverse().toString('hex');
  return BigInt(`0x${hex}`);
}

/**
 * `n` as exactly `length` bytes (big-endian by default). Negative values are written in two's complement
 * (so `-1n` as 8 bytes is ff..ff, what a signed TL long needs); a value that does not fit throws.
 */
export function bigIntToBytes(n: bigint, length: number, endian: 'be' | 'le' = 'be'): Uint8Array {
  const bits = BigInt(length * 8);
  let v = n;
  if (v < 0n) {
    if (-v > 1n << (bits - 1n)) throw new RangeError(`${n} does not fit in ${length} bytes`);
    v += 1n << bits;
  } else if (length > 0 && v >> bits !== 0n) {
    throw new RangeError(`${n} does not fit in ${length} bytes`);
  } else if (length === 0 && v !== 0n) {
    throw new RangeError(`${n} does not fit in 0 bytes`);
  }
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const hex = v.toString(16).padStart(length * 2, '0');
  Buffer.from(hex, 'hex').copy(out);
  return endian === 'be' ? out : out.reverse();
}

/** Number of bits in a non-negative bigint. */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Minimal big-endian bytes of a non-negative bigint (empty for 0). */
export function bigIntToMinBytes(n: bigint): Uint8Array {
  return bigIntToBytes(n, Math.ceil(bitLength(n) / 8));
}

/** Plain square-and-multiply on bigint (the fallback of modPow). */
export function modPowJs(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod === 1n) return 0n;
  let result = 1n;
  let b = ((base % mod) + mod) % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    e >>= 1n;
    if (e > 0n) b = (b * b) % mod;
  }
  return result;
}

/**
 * base^exp mod mod. For odd moduli (every DH, SRP and RSA case) OpenSSL does the exponentiation: raw RSA
 * (no padding) with modulus = mod and public exponent = exp computes exactly base^exp mod mod. Measured on
 * 2048-bit numbers: ≈3 ms native vs ≈33 ms for bigint square-and-multiply (node's DiffieHellman object was no
 * option: it runs a primality check on every construction, ≈380 ms). OpenSSL refuses exponents ≥ the modulus, so
 * those are split into base-`mod` digits; whatever OpenSSL refuses falls back to the bigint loop.
 */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod <= 0n) throw new RangeError('modPow: modulus must be positive');
  if (exp < 0n) throw new RangeError('modPow: negative exponent');
  if (mod === 1n) return 0n;
  const b = ((base % mod) + mod) % mod;
  if (exp === 0n) return 1n;
  if (b < 2n || exp === 1n) return b;
  if ((mod & 1n) === 0n || mod < 1n << 255n) return modPowJs(b, exp, mod);
  if (exp < mod) return nativeOrJs(b, exp, mod);
  // exp = sum d_i * mod^i: base^exp = prod (base^(mod^i))^(d_i)
  let result = 1n;
  let pw = b;
  let e = exp;
  while (e > 0n) {
    const d = e % mod;
    if (d !== 0n) result = (result * nativeOrJs(pw, d, mod)) % mod;
    e /= mod;
    if (e > 0n) pw = (nativeOrJs(pw, mod - 1n, mod) * pw) % mod;
  }
  return result;
}

function nativeOrJs(base: bigint, exp: bigint, mod: bigint): bigint {
  if (exp === 0n) return 1n;
  if (base < 2n || exp === 1n) return base;
  try {
    const len = Math.ceil(bitLength(mod) / 8);
    const key = createPublicKey({ key: { kty: 'RSA', n: b64url(mod), e: b64url(exp) }, format: 'jwk' });
    const r = publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, bigIntToBytes(base, len));
    return bigIntFromBytes(r);
  } catch {
    return modPowJs(base, exp, mod);
  }
}

function b64url(n: bigint): string {
  return Buffer.from(bigIntToMinBytes(n)).toString('base64url');
}
