// The one redaction policy: field names whose values are secret, the fields secret only inside a given
// constructor, and the walk that replaces them. The trace's redaction, the JSON validation errors (which never quote
// a secret value), request-file diagnostics and the panel's saved state (host and webview) all use it. No imports:
// the webview bundles it.
/**
 * Field names whose values are secret wherever they appear (TL snake_case and our own camelCase):
 * - auth keys: `auth_key`, `authKey`, `tmp_auth_key`; handshake `new_nonce` (derives the tmp AES key and the salt);
 * - login codes and passwords: `phone_code`, `phoneCode`, `password` (a string, or inputCheckPasswordSRP — its
 *   A/M1 are also caught by constructor), `new_password_hash`, `current_password_hash`, `tmp_password`,
 *   `secure_secret`, `new_secure_settings`, `srp_B` (with A and M1 it allows an offline guess of the password);
 * - app credentials and login tokens: `api_hash`, `apiHash`, `bot_auth_token`, `future_auth_token` and
 *   `logout_tokens` (each logs in without a code), `web_auth_token`, `autologin_token` (logs a link's page in);
 * - device attestation and payments: `ios_push_secret`, `safety_net_token`, `play_integrity_token`, `pnv_token`,
 *   `payment_token`.
 * Kept on purpose: `phone_code_hash` (useless without the code), `srp_id`, `salt1`/`salt2` (public KDF salts),
 * `server_salt`, `tmp_session`, dcOption `secret` (the MTProxy obfuscation secret of a public address), `g_a`/`g_b`.
 */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'auth_key',
  'authKey',
  'tmp_auth_key',
  'new_nonce',
  'phone_code',
  'phoneCode',
  'password',
  'new_password_hash',
  'current_password_hash',
  'tmp_password',
  'secure_secret',
  'new_secure_settings',
  'srp_B',
  'api_hash',
  'apiHash',
  'bot_auth_token',
  'future_auth_token',
  'logout_tokens',
  'web_auth_token',
  'autologin_token',
  'ios_push_secret',
  'safety_net_token',
  'play_integrity_token',
  'pnv_token',
  'payment_token',
]);

/** Whether a JSON path (`password.A`, `settings.phone_code`, `id[0].access_hash`) runs through a secret field. */
export function isSecretPath(path: string): boolean {
  return path.split('.').some((seg) => SECRET_FIELDS.has(seg.replace(/\[\d+\]$/, '')));
}

/**
 * Fields redacted only inside a given constructor or method (`_`), because the field name alone is too generic:
 * exported authorization bytes, SRP proof values, QR login tokens, e-mail and recovery codes, a bot's token, push
 * and captcha tokens, the CDN's file key and Passport's encrypted secrets.
 */
export const REDACTED_BY_CONSTRUCTOR: Readonly<Record<string, readonly string[]>> = {
  'auth.exportedAuthorization': ['bytes'],
  'auth.importAuthorization': ['bytes'],
  inputCheckPasswordSRP: ['A', 'M1'],
  'auth.loginToken': ['token'],
  'auth.importLoginToken': ['token'],
  'auth.loginTokenMigrateTo': ['token'],
  'auth.acceptLoginToken': ['token'],
  emailVerificationCode: ['code'],
  emailVerificationGoogle: ['token'],
  emailVerificationApple: ['token'],
  'auth.recoverPassword': ['code'],
  'auth.checkRecoveryPassword': ['code'],
  'account.confirmPasswordEmail': ['code'],
  'account.invalidateSignInCodes': ['codes'],
  'bots.exportedBotToken': ['token'],
  'account.registerDevice': ['token', 'secret'],
  'account.unregisterDevice': ['token'],
  invokeWithGooglePlayIntegrity: ['token'],
  invokeWithReCaptcha: ['token'],
  invokeWithApnsSecret: ['secret'],
  codeSettings: ['token'],
  'upload.fileCdnRedirect': ['encryption_key'],
  inputSecureFileUploaded: ['secret'],
  secureFile: ['secret'],
  secureData: ['secret'],
  secureCredentialsEncrypted: ['secret'],
};

const MARKER_RE = /^\[redacted( \d+ bytes)?\]$/;

function marker(v: unknown): string {
  if (v instanceof Uint8Array) return `[redacted ${v.length} bytes]`;
  if (typeof v === 'string' && MARKER_RE.test(v)) return v; // already redacted (re-import)
  return '[redacted]'; // strings (even base64: its length says nothing useful), numbers, objects
}

/**
 * A copy of `v` with every secret value replaced by a marker (`[redacted]`, `[redacted N bytes]`), however deep.
 * `ctor` names the method or constructor when `v` has no `_` of its own (a call's params). Other values are kept as
 * they are (bigints, bytes): the trace turns the result into JSON. Never mutates.
 */
export function redactSecrets(v: unknown, ctor?: string): unknown {
  if (Array.isArray(v)) return v.map((x) => redactSecrets(x));
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (v instanceof Error) return redactSecrets(Object.assign({ name: v.name, message: v.message }, v), ctor);
  if (v instanceof Map) return redactSecrets(Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x])), ctor);
  if (v instanceof Set) return redactSecrets([...v], ctor);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return redactSecrets((v as { toJSON(): unknown }).toJSON(), ctor);
  // plain objects and class instances alike: own enumerable fields, redacted
  const obj = v as Record<string, unknown>;
  const name = typeof obj._ === 'string' ? obj._ : ctor;
  const byCtor = name ? REDACTED_BY_CONSTRUCTOR[name] : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(obj)) {
    if (x === undefined) continue;
    if (k !== '_' && (SECRET_FIELDS.has(k) || byCtor?.includes(k))) out[k] = marker(x);
    else out[k] = redactSecrets(x);
  }
  return out;
}
