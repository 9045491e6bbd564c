// The hostile DC's modes: one per check of mtproto/security_guidelines (and of the framing and transport-error
// rules around them). Each mode gets exactly one thing wrong; the table says what and which check must catch it.

export type HostileGroup = 'handshake' | 'session' | 'framing' | 'transport';

/**
 * What a correct client does: 'refuse' (fails with an error naming `check`, key and connection dropped),
 * 'ignore' (drops the one message, names why in a wire event, goes on), 'probe' (a −404 once: reconnects, keeps
 * the key), 'drop-key' (−404 on fresh connections in a row: drops the key, the call fails with −404, bounded).
 */
export type HostileExpectation = 'refuse' | 'ignore' | 'probe' | 'drop-key';

export interface HostileModeInfo {
  readonly name: string;
  readonly group: HostileGroup;
  /** The name the client must give: HandshakeError.check (or reason), the session's check, the transport code. */
  readonly check: string;
  readonly expect: HostileExpectation;
  /** What the server gets wrong. */
  readonly wrong: string;
}

const m = <N extends string>(
  name: N,
  group: HostileGroup,
  check: string,
  wrong: string,
  expect: HostileExpectation = 'refuse',
): HostileModeInfo & { readonly name: N } => ({
  name,
  group,
  check,
  expect,
  wrong,
});

export const HOSTILE_MODES = [
  // key exchange (mtproto/auth_key + security_guidelines)
  m('resPQ-nonce', 'handshake', 'nonce', 'resPQ.nonce is not the nonce the client sent'),
  m('plain-msg-id-even', 'handshake', 'msg_id', 'resPQ travels with an even (client-side) msg_id'),
  m('pq-prime', 'handshake', 'pq', 'pq is a prime'),
  m('pq-three-factors', 'handshake', 'pq', 'pq is a product of three primes'),
  m('pq-square', 'handshake', 'pq', 'pq = p·p (the factors are not distinct)'),
  m('pq-16-bytes', 'handshake', 'pq', 'pq is 16 bytes: two 64-bit primes (would block factoring for ever)'),
  m('pq-above-2^63', 'handshake', 'pq', 'pq is 8 bytes but ≥ 2^63 (two 32-bit primes)'),
  m('rsa-fingerprint-unknown', 'handshake', 'rsa key', 'resPQ offers no fingerprint the client knows'),
  m('server-dh-params-fail', 'handshake', 'server_DH_params_fail', 'answers server_DH_params_fail'),
  m('server_nonce-in-dh-params', 'handshake', 'server_nonce', "server_DH_params_ok.server_nonce differs from resPQ's"),
  m('answer-hash', 'handshake', 'answer_hash', 'the SHA1 in answer_with_hash does not match the answer'),
  m('nonce-in-inner-data', 'handshake', 'nonce', 'server_DH_inner_data.nonce differs'),
  m('server_nonce-in-inner-data', 'handshake', 'server_nonce', 'server_DH_inner_data.server_nonce differs'),
  m('dh-prime-composite', 'handshake', 'p-prime', 'dh_prime is composite (Telegram prime + 6)'),
  m('dh-prime-not-safe', 'handshake', 'p-safe', 'dh_prime is a 2048-bit prime whose (p−1)/2 is not prime'),
  m('dh-prime-2047-bits', 'handshake', 'p-size', 'dh_prime has 2047 bits'),
  m('dh-prime-2049-bits', 'handshake', 'p-size', 'dh_prime has 2049 bits'),
  m('g-out-of-range', 'handshake', 'g-range', 'g = 8 (not one of 2..7)'),
  m('g-not-generator', 'handshake', 'g-residue', 'g = 2 with a prime where p mod 8 ≠ 7 (g generates the wrong subgroup)'),
  m('g_a-one', 'handshake', 'g_a-range', 'g_a = 1'),
  m('g_a-p-minus-1', 'handshake', 'g_a-range', 'g_a = p − 1'),
  m('g_a-below-margin', 'handshake', 'g_a-margin', 'g_a = 2^1984 − 1 (within 2^(2048−64) of 0)'),
  m('g_a-above-margin', 'handshake', 'g_a-margin', 'g_a = p − 2^1984 + 1 (within 2^(2048−64) of p)'),
  m('server-time-absurd', 'handshake', 'server_time', 'server_time = 0 (1970)'),
  m('new-nonce-hash1', 'handshake', 'new_nonce_hash1', 'dh_gen_ok.new_nonce_hash1 is wrong'),
  m('server_nonce-in-dh-gen-ok', 'handshake', 'server_nonce', 'dh_gen_ok.server_nonce differs'),
  m('dh-gen-retry-forever', 'handshake', 'dh_gen_retry', 'answers dh_gen_retry to every set_client_DH_params'),
  m('dh-gen-fail', 'handshake', 'dh_gen_fail', 'answers dh_gen_fail'),
  // encrypted session (after a correct key exchange): the first answer of a connection is the wrong one
  m('msg_key', 'session', 'msg_key', 'msg_key is not the SHA-256 of the plaintext'),
  m('auth_key_id', 'session', 'auth_key_id', 'the packet names another auth_key_id'),
  m('session_id', 'session', 'session_id', 'the answer carries another session_id'),
  m('msg_id-even', 'session', 'msg_id_parity', 'the answer has an even msg_id'),
  m('msg_id-past', 'session', 'msg_id', 'a salt change arrives with a msg_id 400 s in the past', 'ignore'),
  m('msg_id-future', 'session', 'msg_id', 'a salt change arrives with a msg_id 60 s in the future', 'ignore'),
  m('msg_id-duplicate', 'session', 'msg_id', 'a salt change reuses the msg_id of the message before', 'ignore'),
  m('padding-short', 'session', 'padding', 'only 4 bytes of padding (length field says so)'),
  m('padding-long', 'session', 'padding', 'more than 1024 bytes of padding'),
  m('length-beyond-plaintext', 'session', 'data_length', 'message_data_length is larger than the plaintext'),
  m('length-not-multiple-of-4', 'session', 'data_length', 'message_data_length is not divisible by 4'),
  m('garbage-frame-in-session', 'session', 'auth_key_id', 'a frame of random bytes after a valid answer'),
  // framing (the first answer of the key exchange)
  m('frame-length-16mib', 'framing', 'timeout', 'a frame header announcing 16 MiB, then nothing'),
  m('frame-length-over-limit', 'framing', 'framing error', 'a frame header announcing more than 16 MiB'),
  m('frame-truncated', 'framing', 'connection closed', 'half a frame, then the connection is closed'),
  m('frame-drip', 'framing', 'timeout', 'the answer dripped one byte per 100 ms'),
  m('frame-garbage-after', 'framing', 'unencrypted message', 'a valid frame followed by a frame of garbage'),
  // transport errors (src/dc's −404 policy)
  m('transport-404-once', 'transport', '-404', 'one −404 on the first connection (a spoof, or a DC restarting)', 'probe'),
  m('transport-404-always', 'transport', '-404', '−404 to every encrypted packet (the key is really unknown)', 'drop-key'),
] as const satisfies readonly HostileModeInfo[];

export type HostileModeName = (typeof HOSTILE_MODES)[number]['name'];
/** A mode, or 'none': an honest DC (the control every test compares with). */
export type HostileModeOrNone = HostileModeName | 'none';

export function hostileMode(name: string): HostileModeInfo | undefined {
  return HOSTILE_MODES.find((x) => x.name === name);
}

export function isHostileModeName(name: string): name is HostileModeName {
  return hostileMode(name) !== undefined;
}

export function groupOf(mode: HostileModeOrNone): HostileGroup | 'none' {
  return mode === 'none' ? 'none' : hostileMode(mode)!.group;
}
