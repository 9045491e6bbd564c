// Errors of auth key creation (mtproto/auth_key). Messages name the step and the failed check, never key material.

/** Client side: the handshake failed at `step` because of `reason` (a check name, a transport error, a timeout…). */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
  /** Which exchange failed: 'req_pq_multi', 'req_DH_params', 'set_client_DH_params', 'transport', … */
  readonly step: string;
  /**
   * Short reason: for security checks the check name ('nonce', 'server_nonce', 'pq', 'rsa key', 'answer_hash',
   * 'p-prime', 'p-safe', 'p-size', 'g-range', 'g-residue', 'g_a-range', 'g_a-margin', 'server_time',
   * 'new_nonce_hash1', 'dh_gen_retry', 'dh_gen_fail', 'msg_id', …); otherwise 'timeout', 'connection closed',
   * 'framing error' or 'transport error <code>'.
   */
  readonly reason: string;
  /** The transport error code when the server answered with one (e.g. -404, -444). */
  readonly transportCode?: number;
  /** The name of the failed security check when one failed (same value as `reason` for checks). */
  readonly check?: string;

  constructor(step: string, reason: string, detail?: string, extra?: { transportCode?: number; check?: string; cause?: unknown }) {
    super(`auth key creation failed at ${step}: ${reason}${detail ? ` (${detail})` : ''}`, extra?.cause !== undefined ? { cause: extra.cause } : undefined);
    this.step = step;
    this.reason = reason;
    if (extra?.transportCode !== undefined) this.transportCode = extra.transportCode;
    if (extra?.check !== undefined) this.check = extra.check;
  }
}

/**
 * Server side: the peer sent something the handshake cannot accept. The caller drops the connection or answers a
 * transport error: `transportCode` suggests which one (-404 by default as the spec says, -444 for a wrong dc).
 */
export class ServerHandshakeError extends Error {
  override readonly name = 'ServerHandshakeError';
  readonly check: string;
  readonly transportCode: number;

  constructor(check: string, detail: string, transportCode = -404) {
    super(`handshake rejected (${check}): ${detail}`);
    this.check = check;
    this.transportCode = transportCode;
  }
}
