// Errors of the lifecycle layer. Messages name DCs, methods, error codes and redirect chains — never secrets.

export type LifecycleErrorCode =
  | 'REDIRECT_LOOP'
  | 'TOO_MANY_REDIRECTS'
  | 'FLOOD_WAIT'
  | 'LOGGED_OUT'
  | 'TRANSFER_FAILED'
  | 'DC_ID_INVALID'
  | 'NOT_AUTHORIZED'
  | 'STOPPED'
  | 'BAD_STATE'
  | 'LOGIN_FAILED';

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
  readonly code: LifecycleErrorCode;
  /** The redirect chain, e.g. ['auth.sendCode @DC2', 'PHONE_MIGRATE_4 → DC4', 'PHONE_MIGRATE_2 → DC2']. */
  readonly chain?: string[];
  readonly waitSeconds?: number;
  readonly dcId?: number;
  constructor(code: LifecycleErrorCode, message: string, extra: { chain?: string[]; waitSeconds?: number; dcId?: number; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.code = code;
    if (extra.chain) this.chain = extra.chain;
    if (extra.waitSeconds !== undefined) this.waitSeconds = extra.waitSeconds;
    if (extra.dcId !== undefined) this.dcId = extra.dcId;
  }
}
