import { sha1, sha256 } from './hash';
import { bigIntFromBytes } from './bigint';

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function signed64(u: bigint): bigint {
  return BigInt.asIntN(64, u);
}

/** auth_key_id: the 64 low-order bits of SHA1(auth_key), i.e. its last 8 bytes read as a signed little-endian int64. */
export function authKeyId(authKey: Uint8Array): bigint {
  return signed64(bigIntFromBytes(sha1(authKey).subarray(12, 20), 'le'));
}

/** MTProto 2.0 msg_key: the middle 128 bits of SHA256(auth_key[88+x, +32] + plaintext_with_padding). x = 0 client→server, 8 server→client. */
export function msgKey(authKey: Uint8Array, plaintextPadded: Uint8Array, x: 0 | 8): Uint8Array {
  return sha256(authKey.subarray(88 + x, 88 + x + 32), plaintextPadded).slice(8, 24);
}

/** MTProto 2.0 aes_key / aes_iv from auth_key and msg_key (mtproto/description). */
export function messageKeyIv(authKey: Uint8Array, msgKey: Uint8Array, x: 0 | 8): { key: Uint8Array; iv: Uint8Array } {
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(40 + x, 40 + x + 36), msgKey);
  const key = concat(a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32));
  const iv = concat(b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32));
  return { key, iv };
}

/** tmp_aes_key / tmp_aes_iv of the handshake's server_DH_params_ok / set_client_DH_params (mtproto/auth_key). */
export function handshakeKeyIv(newNonce: Uint8Array, serverNonce: Uint8Array): { key: Uint8Array; iv: Uint8Array } {
  const ns = sha1(newNonce, serverNonce);
  const sn = sha1(serverNonce, newNonce);
  const nn = sha1(newNonce, newNonce);
  const key = concat(ns, sn.subarray(0, 12));
  const iv = concat(sn.subarray(12, 20), nn, newNonce.subarray(0, 4));
  return { key, iv };
}

/** The first server_salt: substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8), as a signed little-endian int64. */
export function initialServerSalt(newNonce: Uint8Array, serverNonce: Uint8Array): bigint {
  const x = new Uint8Array(8);
  for (let i = 0; i < 8; i++) x[i] = newNonce[i]! ^ serverNonce[i]!;
  return signed64(bigIntFromBytes(x, 'le'));
}
