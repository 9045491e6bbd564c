// Unencrypted MTProto messages (mtproto/description, "Unencrypted Message"):
//   auth_key_id:long (= 0) | message_id:long | message_data_length:int | message_data:bytes
// Used only by the auth key handshake. All integers little-endian.

/** Header size of an unencrypted message: auth_key_id (8) + msg_id (8) + length (4). */
export const PLAIN_HEADER_SIZE = 20;
/** The padded intermediate transport may leave up to 15 random bytes after the message. */
const MAX_TRAILING = 15;

export class PlainMessageError extends Error {
  override readonly name = 'PlainMessageError';
}

export function encodePlainMessage(msgId: bigint, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(PLAIN_HEADER_SIZE + body.length);
  const view = new DataView(out.buffer);
  // auth_key_id stays 0
  view.setBigInt64(8, BigInt.asIntN(64, msgId), true);
  view.setInt32(16, body.length, true);
  out.set(body, PLAIN_HEADER_SIZE);
  return out;
}

/**
 * Decodes an unencrypted message. Throws `PlainMessageError` when the buffer is too short, the auth_key_id is not 0,
 * the length is negative, not a multiple of 4, or reaches past the end (at most 15 trailing bytes, the padding of
 * the padded intermediate transport, are tolerated).
 */
export function decodePlainMessage(u8: Uint8Array): { msgId: bigint; body: Uint8Array } {
  if (u8.length < PLAIN_HEADER_SIZE) {
    throw new PlainMessageError(`unencrypted message too short: ${u8.length} bytes, the header alone is ${PLAIN_HEADER_SIZE}`);
  }
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const authKeyId = view.getBigUint64(0, true);
  if (authKeyId !== 0n) throw new PlainMessageError('not an unencrypted message: auth_key_id is not 0');
  const msgId = view.getBigInt64(8, true);
  const length = view.getInt32(16, true);
  if (length < 0) throw new PlainMessageError(`negative message_data_length ${length}`);
  if (length % 4 !== 0) throw new PlainMessageError(`message_data_length ${length} is not divisible by 4`);
  const available = u8.length - PLAIN_HEADER_SIZE;
  if (length > available) {
    throw new PlainMessageError(`message_data_length ${length} exceeds the ${available} bytes present`);
  }
  if (available - length > MAX_TRAILING) {
    throw new PlainMessageError(`${available - length} bytes after the message body (at most ${MAX_TRAILING} allowed)`);
  }
  return { msgId, body: u8.subarray(PLAIN_HEADER_SIZE, PLAIN_HEADER_SIZE + length) };
}
