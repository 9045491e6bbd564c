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
  /** The caller's AbortSignal ended the wait for the answer (the request may still reach the server). */
  | 'ABORTED'
  | 'BAD_STATE'
  | 'LOGIN_FAILED'
  /** SESSION_PASSWORD_NEEDED before login: the login continues with the 2FA password step. */
  | 'PASSWORD_NEEDED'
  /** AUTH_KEY_PERM_EMPTY: the server wants a bound temporary key; not a logout. */
  | 'TEMP_KEY_UNBOUND';

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
  readonly code: LifecycleErrorCode;
  /** The redirect chain, e.g. ['auth.sendCode @DC2', 'PHONE_MIGRATE_4 → DC4', 'PHONE_MIGRATE_2 → DC2']. */
  readonly chain?: string[];
  readonly waitSeconds?: number;
  readonly dcId?: number;
  /** PASSWORD_NEEDED: the hint account.getPassword gave. */
  readonly passwordHint?: string;
  constructor(
    code: LifecycleErrorCode,
    message: string,
    extra: { chain?: string[]; waitSeconds?: number; dcId?: number; passwordHint?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.code = code;
    if (extra.chain) this.chain = extra.chain;
    if (extra.waitSeconds !== undefined) this.waitSeconds = extra.waitSeconds;
    if (extra.dcId !== undefined) this.dcId = extra.dcId;
    if (extra.passwordHint !== undefined) this.passwordHint = extra.passwordHint;
  }
}
