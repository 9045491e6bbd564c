// The one list of field names whose values are secret. The trace's redaction, the JSON validation errors (which
// never quote a secret value) and the panel's saved state all read it.
/**
 * Field names whose values are secret wherever they appear (TL snake_case and our own camelCase):
 * - auth keys: `auth_key`, `authKey`, `tmp_auth_key`; handshake `new_nonce` (derives the tmp AES key and the salt);
 * - login codes and passwords: `phone_code`, `phoneCode`, `password` (a string, or inputCheckPasswordSRP — its
 *   A/M1 are also caught by constructor), `new_password_hash`, `current_password_hash`, `tmp_password`,
 *   `secure_secret`, `new_secure_settings`, `srp_B` (with A and M1 it allows an offline guess of the password);
 * - app credentials and login tokens: `api_hash`, `apiHash`, `bot_auth_token`;
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
]);

/** Whether a JSON path (`password.A`, `settings.phone_code`, `id[0].access_hash`) runs through a secret field. */
export function isSecretPath(path: string): boolean {
  return path.split('.').some((seg) => SECRET_FIELDS.has(seg.replace(/\[\d+\]$/, '')));
}
