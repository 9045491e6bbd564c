// What the client does with each rpc_error: the error table of Telegram's API errors page (api/errors) and of the
// login page (api/auth) as one list of rows, read top to bottom, first match wins. ClientRuntime.call() carries
// the reaction out; everything here is pure so the table can be read and tested on its own.
import { parseRpcErrorMessage } from '../mtproto/errors';

export type ErrorReaction =
  /** 303 *_MIGRATE_X: repeat on DC X (PHONE/NETWORK also move home, USER transfers first). */
  | 'redirect'
  /** 420 *_WAIT_X: count down and repeat when X ≤ the threshold, else fail fast; X = 0 is repeated once at once. */
  | 'wait'
  /** 401, the key lost its authorization: home DC → logged out; another DC → transfer again and repeat once. */
  | 'reauthorize'
  /** 401, the account or all its sessions are gone: logged out everywhere, never repeated. */
  | 'account-gone'
  /** 401 AUTH_KEY_PERM_EMPTY: a temporary key is not bound; not a logout. */
  | 'temp-key-unbound'
  /** SESSION_PASSWORD_NEEDED: the 2FA step while logging in; a plain error once authorized. */
  | 'password-needed'
  /** 406 AUTH_KEY_DUPLICATED: replace the DC's auth key and repeat once (on home: logged out). */
  | 'new-key'
  /** The server forgot this connection's initConnection: send it again and repeat once. */
  | 're-init'
  /** 500, −503 and codes the page does not list: backoff retries, only for calls safe to repeat. */
  | 'server-error'
  /** Anything else: the caller gets the error with its text. */
  | 'fail';

/** An rpc_error as the table sees it. */
export interface ParsedRpcError {
  code: number;
  /** The text, e.g. 'FLOOD_PREMIUM_WAIT_5'. */
  message: string;
  /** parseRpcErrorMessage's kind ('FLOOD_PREMIUM_WAIT') and value (5). */
  kind: string;
  value?: number;
}

export interface ErrorRule {
  /** How the row is written in the docs: 'FLOOD_WAIT_X', 'code 500', … */
  label: string;
  /** The exact text, or a test on the parsed error. */
  match: string | ((e: ParsedRpcError) => boolean);
  reaction: ErrorReaction;
  /** What the error means (from the spec pages); shown in traces and logged-out reasons. */
  why: string;
}

export const MIGRATE_KINDS: ReadonlySet<string> = new Set(['PHONE_MIGRATE', 'NETWORK_MIGRATE', 'USER_MIGRATE', 'STATS_MIGRATE', 'FILE_MIGRATE']);

/** Waits whose name does not end in _WAIT. */
const OTHER_WAIT_KINDS: ReadonlySet<string> = new Set(['TAKEOUT_INIT_DELAY']);

/** Codes api/errors describes; any other "may be considered the same as a 500 error". */
export const DOCUMENTED_CODES: ReadonlySet<number> = new Set([303, 400, 401, 403, 404, 406, 420, 500]);

const endsInSeconds = (e: ParsedRpcError): boolean => e.value !== undefined && /_\d+$/.test(e.message);

const plain = (message: string, why: string): ErrorRule => ({ label: message, match: message, reaction: 'fail', why });

export const ERROR_TABLE: readonly ErrorRule[] = [
  // 401 UNAUTHORIZED
  { label: 'AUTH_KEY_UNREGISTERED', match: 'AUTH_KEY_UNREGISTERED', reaction: 'reauthorize', why: 'the key is not registered in the system' },
  { label: 'AUTH_KEY_INVALID', match: 'AUTH_KEY_INVALID', reaction: 'reauthorize', why: 'the key is invalid' },
  { label: 'SESSION_EXPIRED', match: 'SESSION_EXPIRED', reaction: 'reauthorize', why: 'the authorization has expired' },
  { label: 'USER_DEACTIVATED', match: 'USER_DEACTIVATED', reaction: 'account-gone', why: 'the user has been deleted/deactivated' },
  { label: 'USER_DEACTIVATED_BAN', match: 'USER_DEACTIVATED_BAN', reaction: 'account-gone', why: 'the user has been banned' },
  { label: 'SESSION_REVOKED', match: 'SESSION_REVOKED', reaction: 'account-gone', why: 'the authorization was invalidated: the user terminated all sessions' },
  {
    label: 'AUTH_KEY_PERM_EMPTY',
    match: 'AUTH_KEY_PERM_EMPTY',
    reaction: 'temp-key-unbound',
    why: 'the method is unavailable for a temporary auth key not bound to a permanent one',
  },
  // login (api/auth): also from auth.sendCode when a logout token matches a 2FA account
  { label: 'SESSION_PASSWORD_NEEDED', match: 'SESSION_PASSWORD_NEEDED', reaction: 'password-needed', why: 'the account has a 2FA password' },
  // 406 NOT_ACCEPTABLE
  {
    label: 'AUTH_KEY_DUPLICATED',
    match: 'AUTH_KEY_DUPLICATED',
    reaction: 'new-key',
    why: 'the server saw this auth key used by two connections at once; the key must be replaced',
  },
  // 400, the connection's initConnection
  { label: 'CONNECTION_NOT_INITED', match: 'CONNECTION_NOT_INITED', reaction: 're-init', why: 'the server has no initConnection for this connection' },
  {
    label: 'CONNECTION_LAYER_INVALID',
    match: 'CONNECTION_LAYER_INVALID',
    reaction: 're-init',
    why: 'the server has no valid invokeWithLayer for this connection',
  },
  // 400 the user corrects (the login flow turns some into answers it asks again for)
  plain('PHONE_NUMBER_INVALID', 'the phone number is invalid'),
  plain('PHONE_CODE_EXPIRED', 'the confirmation code has expired'),
  plain('PHONE_CODE_INVALID', 'the confirmation code is wrong'),
  plain('PHONE_CODE_EMPTY', 'phone_code is missing'),
  plain('PHONE_CODE_HASH_EMPTY', 'phone_code_hash is missing'),
  plain('PASSWORD_HASH_INVALID', 'the 2FA password is wrong'),
  plain('PHONE_NUMBER_OCCUPIED', 'the phone number is already in use'),
  plain('PHONE_NUMBER_UNOCCUPIED', 'the phone number is not yet being used'),
  plain('FIRSTNAME_INVALID', 'the first name is invalid'),
  plain('LASTNAME_INVALID', 'the last name is invalid'),
  plain('API_ID_INVALID', 'the api_id/api_hash combination is invalid'),
  plain('MSG_WAIT_FAILED', 'a call this one had to wait for returned an error'),
  // 303 SEE_OTHER
  { label: '*_MIGRATE_X', match: (e) => MIGRATE_KINDS.has(e.kind) && endsInSeconds(e), reaction: 'redirect', why: 'repeat the call on DC X' },
  // 420 FLOOD (FLOOD_WAIT, FLOOD_PREMIUM_WAIT, FLOOD_TEST_PHONE_WAIT, SLOWMODE_WAIT, 2FA_CONFIRM_WAIT, …)
  { label: '*_WAIT_X', match: (e) => endsInSeconds(e) && e.kind.endsWith('_WAIT'), reaction: 'wait', why: 'wait X seconds before repeating' },
  {
    label: 'TAKEOUT_INIT_DELAY_X',
    match: (e) => endsInSeconds(e) && OTHER_WAIT_KINDS.has(e.kind),
    reaction: 'wait',
    why: 'wait X seconds before the takeout session starts',
  },
  { label: '420 …_X', match: (e) => e.code === 420 && endsInSeconds(e), reaction: 'wait', why: 'a flood error naming X seconds' },
  // 500 INTERNAL and alike
  { label: 'INTERNAL', match: (e) => e.message === 'INTERNAL' || e.message.startsWith('INTERNAL_'), reaction: 'server-error', why: 'internal server error' },
  {
    label: 'RPC_CALL_FAIL',
    match: (e) => e.message === 'RPC_CALL_FAIL' || e.message === 'RPC_MCGET_FAIL',
    reaction: 'server-error',
    why: 'the server failed to call an inner service',
  },
  { label: '*_TIMEOUT', match: (e) => e.message.endsWith('_TIMEOUT'), reaction: 'server-error', why: 'the server timed out inside' },
  { label: 'code 500', match: (e) => e.code === 500, reaction: 'server-error', why: 'internal server error' },
  { label: 'code −503 (Timeout)', match: (e) => e.code === -503, reaction: 'server-error', why: 'the server timed out fetching data' },
  { label: 'other codes', match: (e) => !DOCUMENTED_CODES.has(e.code), reaction: 'server-error', why: 'api/errors: a code not listed may be treated as 500' },
  // 400, 403, 404, 406 and the rest
  { label: 'any other error', match: () => true, reaction: 'fail', why: 'an error the caller has to look at' },
];

export interface ErrorClass {
  reaction: ErrorReaction;
  rule: ErrorRule;
  /** Seconds of a 'wait', DC of a 'redirect'. */
  value?: number;
}

/** The first row of ERROR_TABLE matching an rpc_error (code + text). */
export function classifyRpcError(code: number, message: string): ErrorClass {
  const p = parseRpcErrorMessage(message);
  const e: ParsedRpcError = { code, message, kind: p.kind, ...(p.value !== undefined ? { value: p.value } : {}) };
  for (const rule of ERROR_TABLE) {
    const hit = typeof rule.match === 'string' ? rule.match === message : rule.match(e);
    if (hit)
      return {
        reaction: rule.reaction,
        rule,
        ...((rule.reaction === 'wait' || rule.reaction === 'redirect') && e.value !== undefined ? { value: e.value } : {}),
      };
  }
  // unreachable: the last row matches everything
  return { reaction: 'fail', rule: ERROR_TABLE[ERROR_TABLE.length - 1]! };
}

/**
 * Whether ClientRuntime.call() has a reaction for this error: what a file transfer hands over to it rather than
 * failing (waits, USER_MIGRATE, re-authorization, re-init, server errors). FILE_MIGRATE is the transfer's own to
 * follow; a plain failure is the caller's.
 */
export function lifecycleHandles(code: number, message: string): boolean {
  const c = classifyRpcError(code, message);
  if (c.reaction === 'fail') return false;
  return !(c.reaction === 'redirect' && parseRpcErrorMessage(message).kind === 'FILE_MIGRATE');
}

// ------------------------------------------------------------------ safe to repeat

/**
 * A call is safe to repeat after a server error when it only reads: its name after the dot starts with one of these
 * verbs (help.getConfig, users.getUsers, messages.getHistory, upload.getFile, upload.getCdnFile, contacts.resolveUsername,
 * account.checkUsername, messages.search, …). help.* is covered by the verbs; its other methods (saveAppLog,
 * acceptTermsOfService, dismissSuggestion, …) change something.
 */
export const READ_VERBS: readonly string[] = ['get', 'search', 'check', 'resolve'];

/** Namespaces whose every method only reads. */
export const READ_NAMESPACES: readonly string[] = ['langpack'];

/** Methods the verb rule would call safe, with the reason they are not. */
export const NOT_SAFE_DESPITE_VERB: ReadonlyMap<string, string> = new Map([
  ['auth.checkPassword', 'the SRP challenge is used up by the first try'],
  ['messages.getBotCallbackAnswer', 'presses a bot button: the bot acts on every call'],
  ['messages.getMessagesViews', 'with increment it counts a view each time'],
]);

/** Wrappers whose inner `query` is the call that decides (invokeWithLayer, initConnection, invokeWithoutUpdates, …). */
export function innermostMethod(method: { _: string; query?: unknown }): string {
  let m: { _: string; query?: unknown } = method;
  for (let i = 0; i < 8; i++) {
    const q = m.query;
    if (!q || typeof q !== 'object' || typeof (q as { _?: unknown })._ !== 'string') break;
    m = q as { _: string; query?: unknown };
  }
  return m._;
}

/** Whether a method may be sent again after a server error, and why (for the trace). */
export function repeatSafety(method: string): { safe: boolean; why: string } {
  const dot = method.indexOf('.');
  const ns = dot < 0 ? '' : method.slice(0, dot);
  const name = dot < 0 ? method : method.slice(dot + 1);
  const unsafe = NOT_SAFE_DESPITE_VERB.get(method);
  if (unsafe) return { safe: false, why: unsafe };
  if (READ_NAMESPACES.includes(ns)) return { safe: true, why: `${ns}.* only reads` };
  const verb = READ_VERBS.find((v) => name.startsWith(v) && (name.length === v.length || /[A-Z]/.test(name[v.length]!)));
  if (verb) return { safe: true, why: `a ${verb}* method only reads` };
  return { safe: false, why: `${method} may send or change something` };
}

export function isSafeToRepeat(method: string): boolean {
  return repeatSafety(method).safe;
}

// ------------------------------------------------------------------ backoff

export const SERVER_RETRY = {
  /** Retries after the first failure. */
  retries: 3,
  /** First pause; doubled each time (0.5 s, 1 s, 2 s). */
  baseMs: 500,
  /** ± this fraction, so clients hit by one outage do not come back in step. */
  jitter: 0.2,
} as const;

/** Pause before retry number `attempt` (0-based) after a server error. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const d = SERVER_RETRY.baseMs * 2 ** attempt;
  return Math.round(d * (1 - SERVER_RETRY.jitter + 2 * SERVER_RETRY.jitter * random()));
}
