// SRP-2048 of api/srp (passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow): the client proof for
// auth.checkPassword and the server-side helpers the sandbox needs to verify it.
import { timingSafeEqual } from 'node:crypto';
import { bigIntFromBytes, bigIntToBytes, modPow } from './bigint';
import { checkDhParams, checkDhValue, DhCheckError } from './dh';
import { pbkdf2Sha512, sha256 } from './hash';
import { randomBytes } from './random';

export type SrpPrime = Uint8Array | bigint;

const utf8 = new TextEncoder();

function toBig(p: SrpPrime): bigint {
  return typeof p === 'bigint' ? p : bigIntFromBytes(p);
}

function pad256(n: bigint): Uint8Array {
  return bigIntToBytes(n, 256);
}

function sh(data: Uint8Array, salt: Uint8Array): Uint8Array {
  return sha256(salt, data, salt);
}

/** PH2(password, salt1, salt2): the 32-byte x of SRP before it is read as a big-endian integer. */
export function srpPasswordHash(password: string | Uint8Array, salt1: Uint8Array, salt2: Uint8Array): Uint8Array {
  const pw = typeof password === 'string' ? utf8.encode(password) : password;
  const ph1 = sh(sh(pw, salt1), salt2);
  return sh(pbkdf2Sha512(ph1, salt1, 100000, 64), salt2);
}

function kOf(p: bigint, g: bigint): bigint {
  return bigIntFromBytes(sha256(pad256(p), pad256(g)));
}

function uOf(A: Uint8Array, B: Uint8Array): bigint {
  return bigIntFromBytes(sha256(A, B));
}

function m1Of(p: bigint, g: bigint, salt1: Uint8Array, salt2: Uint8Array, A: Uint8Array, B: Uint8Array, K: Uint8Array): Uint8Array {
  const hp = sha256(pad256(p));
  const hg = sha256(pad256(g));
  const x = new Uint8Array(32);
  for (let i = 0; i < 32; i++) x[i] = hp[i]! ^ hg[i]!;
  return sha256(x, sha256(salt1), sha256(salt2), A, B, K);
}

/** v = g^x mod p, 256 bytes big-endian (account.passwordInputSettings new_password_hash; what the server keeps). */
export function srpVerifier(password: string | Uint8Array, salt1: Uint8Array, salt2: Uint8Array, g: number, p: SrpPrime): Uint8Array {
  const pb = toBig(p);
  const x = bigIntFromBytes(srpPasswordHash(password, salt1, salt2));
  return pad256(modPow(BigInt(g), x, pb));
}

/**
 * Client: checks p/g (safe prime, cached) and srp_B, picks a, returns A = g^a and
 * M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | H(S)). Throws DhCheckError on a bad p, g or B.
 */
export function srpProof(opts: {
  password: string | Uint8Array;
  salt1: Uint8Array;
  salt2: Uint8Array;
  g: number;
  p: SrpPrime;
  srpB: Uint8Array;
  srpId?: bigint;
}): { A: Uint8Array; M1: Uint8Array } {
  const p = toBig(opts.p);
  const g = BigInt(opts.g);
  checkDhParams(p, opts.g);
  const Bn = bigIntFromBytes(opts.srpB);
  checkDhValue(Bn, p, 'srp_B');
  const B = pad256(Bn);
  const x = bigIntFromBytes(srpPasswordHash(opts.password, opts.salt1, opts.salt2));
  const v = modPow(g, x, p);
  const kv = (kOf(p, g) * v) % p;
  for (;;) {
    const a = bigIntFromBytes(randomBytes(256));
    const An = modPow(g, a, p);
    try {
      checkDhValue(An, p, 'srp_A');
    } catch {
      continue;
    }
    const A = pad256(An);
    const u = uOf(A, B);
    if (u === 0n) continue;
    const t = (((Bn - kv) % p) + p) % p;
    const S = modPow(t, a + u * x, p);
    const K = sha256(pad256(S));
    return { A, M1: m1Of(p, g, opts.salt1, opts.salt2, A, B, K) };
  }
}

/** Server: a random b and B = (k·v + g^b) mod p (account.password srp_B). */
export function srpServerChallenge(verifier: Uint8Array, g: number, p: SrpPrime): { b: bigint; B: Uint8Array } {
  const pb = toBig(p);
  const gb = BigInt(g);
  const v = bigIntFromBytes(verifier);
  const kv = (kOf(pb, gb) * v) % pb;
  for (;;) {
    const b = bigIntFromBytes(randomBytes(256));
    const Bn = (kv + modPow(gb, b, pb)) % pb;
    try {
      checkDhValue(Bn, pb, 'srp_B');
    } catch {
      continue;
    }
    return { b, B: pad256(Bn) };
  }
}

/** Server: recomputes M1 from A, the verifier and b; true when the client's M1 matches (false on a bad A too). */
export function srpServerCheck(opts: {
  verifier: Uint8Array;
  b: bigint;
  B: Uint8Array;
  A: Uint8Array;
  M1: Uint8Array;
  salt1: Uint8Array;
  salt2: Uint8Array;
  g: number;
  p: SrpPrime;
}): boolean {
  const p = toBig(opts.p);
  const g = BigInt(opts.g);
  const An = bigIntFromBytes(opts.A);
  try {
    checkDhValue(An, p, 'srp_A');
  } catch (e) {
    if (e instanceof DhCheckError) return false;
    throw e;
  }
  const A = pad256(An);
  const B = pad256(bigIntFromBytes(opts.B));
  const u = uOf(A, B);
  if (u === 0n) return false;
  const v = bigIntFromBytes(opts.verifier);
  const S = modPow((An * modPow(v, u, p)) % p, opts.b, p);
  const K = sha256(pad256(S));
  const expected = m1Of(p, g, opts.salt1, opts.salt2, A, B, K);
  return opts.M1.length === 32 && timingSafeEqual(expected, opts.M1);
}
