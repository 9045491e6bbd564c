// Public surface of the MTProto layer.
export * from './wire-event';
export * from './msg-id';
export * from './errors';
export {
  encryptMessage,
  decryptMessage,
  keyIdOf,
  peekAuthKeyId,
  type EncryptedMessageFields,
} from './message-crypto';
export * from './plain';
export * from './handshake-errors';
export { createAuthKey, type CreateAuthKeyOptions, type AuthKeyResult } from './handshake-client';
export { ServerHandshake, type ServerHandshakeOptions, type ServerHandshakeDone } from './handshake-server';
export {
  MtprotoSession,
  defaultCodec,
  type MtprotoSessionOptions,
  type InitConnectionParams,
  type InvokeOptions,
} from './session';
export * from './service-messages';
export * from './session-server';
export * from './client';
export { sharedDecryptPool, OFFLOAD_MIN_BYTES, type DecryptPool } from './decrypt-pool';
