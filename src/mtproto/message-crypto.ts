// MTProto 2.0 encrypted messages (mtproto/description, "Encrypted Message"):
//   auth_key_id:long | msg_key:int128 | encrypted_data
//   encrypted_data = AES-256-IGE(salt:long session_id:long msg_id:long seqno:int length:int data padding(12..1024))
// msg_key = middle 16 bytes of SHA-256(auth_key[88+x .. 120+x] + plaintext with padding); x = 0 client→server,
// x = 8 server→client. Decryption performs every check of mtproto/security_guidelines that needs only the key.
import { AesIge, aesIgeEncryptInto } from '../crypto/aes-ige';
import { bytesEqual, sha256 } from '../crypto/hash';
import { authKeyId as computeAuthKeyId, messageKeyIv, msgKey as computeMsgKey } from '../crypto/kdf';
import { randomBytes } from '../crypto/random';
import { MessageCheckError } from './errors';

export { MessageCheckError } from './errors';

export interface EncryptedMessageFields {
  salt: bigint;
  sessionId: bigint;
  msgId: bigint;
  seqno: number;
  body: Uint8Array;
}

/** Header bytes inside the plaintext: salt, session_id, msg_id, seqno, length. */
const INNER_HEADER = 32;
/** auth_key_id + msg_key in front of the ciphertext. */
const OUTER_HEADER = 24;

const keyIdCache = new WeakMap<Uint8Array, bigint>();
/** auth_key_id of a key (cached per key object). */
export function keyIdOf(authKey: Uint8Array): bigint {
  let id = keyIdCache.get(authKey);
  if (id === undefined) {
    id = computeAuthKeyId(authKey);
    keyIdCache.set(authKey, id);
  }
  return id;
}

/** Reads the auth_key_id of a packet (0n for unencrypted messages); undefined when shorter than 8 bytes. */
export function peekAuthKeyId(u8: Uint8Array): bigint | undefined {
  if (u8.length < 8) return undefined;
  return new DataView(u8.buffer, u8.byteOffset, 8).getBigInt64(0, true);
}

function paddingLength(dataLen: number): number {
  // 12..1024 bytes, total divisible by 16, plus 0..3 random extra blocks to blur lengths.
  const base = 12 + ((16 - ((INNER_HEADER + dataLen + 12) % 16)) % 16);
  const extra = 16 * (randomBytes(1)[0]! & 3);
  return base + extra;
}

export function encryptMessage(authKey: Uint8Array, msg: EncryptedMessageFields, x: 0 | 8): Uint8Array {
  if (authKey.length !== 256) throw new RangeError(`auth key must be 256 bytes, got ${authKey.length}`);
  if (msg.body.length % 4 !== 0) throw new RangeError(`message body length ${msg.body.length} is not divisible by 4`);
  const pad = paddingLength(msg.body.length);
  // The plaintext is laid out right where its ciphertext goes and encrypted in place: one buffer per message.
  const out = new Uint8Array(OUTER_HEADER + INNER_HEADER + msg.body.length + pad);
  const plain = out.subarray(OUTER_HEADER);
  const v = new DataView(out.buffer, OUTER_HEADER);
  v.setBigInt64(0, BigInt.asIntN(64, msg.salt), true);
  v.setBigInt64(8, BigInt.asIntN(64, msg.sessionId), true);
  v.setBigInt64(16, BigInt.asIntN(64, msg.msgId), true);
  v.setInt32(24, msg.seqno, true);
  v.setInt32(28, msg.body.length, true);
  plain.set(msg.body, INNER_HEADER);
  plain.set(randomBytes(pad), INNER_HEADER + msg.body.length);
  const mk = computeMsgKey(authKey, plain, x);
  const { key, iv } = messageKeyIv(authKey, mk, x);
  aesIgeEncryptInto(plain, key, iv);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, keyIdOf(authKey)), true);
  out.set(mk, 8);
  return out;
}

/**
 * Decrypts and checks; throws `MessageCheckError { check }` naming the failed check. `inPlace` decrypts into the
 * packet's own bytes (the returned body is a view of `u8`): no allocation, for callers that own the packet.
 */
export function decryptMessage(authKey: Uint8Array, u8: Uint8Array, x: 0 | 8, opts?: { inPlace?: boolean }): EncryptedMessageFields {
  // The padded intermediate transport may append 0..15 random bytes after the packet: they are not ciphertext.
  if (u8.length < OUTER_HEADER + INNER_HEADER + 16) throw new MessageCheckError('length', `encrypted packet of ${u8.length} bytes`);
  const cipherLen = (u8.length - OUTER_HEADER) & ~15;
  const id = new DataView(u8.buffer, u8.byteOffset, 8).getBigInt64(0, true);
  if (id !== keyIdOf(authKey)) throw new MessageCheckError('auth_key_id');
  const mk = u8.subarray(8, OUTER_HEADER);
  const { key, iv } = messageKeyIv(authKey, mk, x);
  const cipher = u8.subarray(OUTER_HEADER, OUTER_HEADER + cipherLen);
  const plain = new AesIge(key, iv).decrypt(cipher, opts?.inPlace ? cipher : new Uint8Array(cipherLen));
  if (!bytesEqual(computeMsgKey(authKey, plain, x), mk)) throw new MessageCheckError('msg_key');
  const v = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const len = v.getInt32(28, true);
  const room = plain.length - INNER_HEADER;
  if (len < 0 || len > room || len % 4 !== 0) throw new MessageCheckError('data_length', `message_data_length ${len}`);
  const pad = room - len;
  if (pad < 12 || pad > 1024) throw new MessageCheckError('padding', `${pad} bytes of padding`);
  return {
    salt: v.getBigInt64(0, true),
    sessionId: v.getBigInt64(8, true),
    msgId: v.getBigInt64(16, true),
    seqno: v.getInt32(24, true),
    body: plain.subarray(INNER_HEADER, INNER_HEADER + len),
  };
}

/**
 * Quick-ack token of an encrypted packet (mtproto/mtproto-transports, "Quick ack"): the first 32 bits of the SHA-256
 * that msg_key is cut from (auth_key[88+x, +32] + plaintext with padding), read little-endian, top bit set. The
 * packet must still hold its ciphertext (decrypted again here: only frames that asked for a quick ack pay for it).
 */
export function quickAckToken(authKey: Uint8Array, u8: Uint8Array, x: 0 | 8 = 0): number {
  if (u8.length < OUTER_HEADER + INNER_HEADER + 16) throw new MessageCheckError('length', `encrypted packet of ${u8.length} bytes`);
  const cipherLen = (u8.length - OUTER_HEADER) & ~15;
  const { key, iv } = messageKeyIv(authKey, u8.subarray(8, OUTER_HEADER), x);
  const plain = new AesIge(key, iv).decrypt(u8.subarray(OUTER_HEADER, OUTER_HEADER + cipherLen), new Uint8Array(cipherLen));
  const h = sha256(authKey.subarray(88 + x, 120 + x), plain);
  return (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24) | 0x80000000) >>> 0;
}
