import { createHash, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

function digest(algo: string, parts: Uint8Array[]): Uint8Array {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/** SHA-1 of the concatenation of `parts`. */
export function sha1(...parts: Uint8Array[]): Uint8Array {
  return digest('sha1', parts);
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  return digest('sha256', parts);
}

/** SHA-512 of the concatenation of `parts`. */
export function sha512(...parts: Uint8Array[]): Uint8Array {
  return digest('sha512', parts);
}

/** Whether two byte strings are equal, compared in constant time for equal lengths (digests, nonces, msg_key). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** PBKDF2-HMAC-SHA512. */
export function pbkdf2Sha512(password: Uint8Array | string, salt: Uint8Array, iterations: number, length = 64): Uint8Array {
  const d = pbkdf2Sync(password, salt, iterations, length, 'sha512');
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}
