import { randomFillSync } from 'node:crypto';

/** `n` cryptographically secure random bytes. */
export function randomBytes(n: number): Uint8Array {
  return randomFillSync(new Uint8Array(n));
}
