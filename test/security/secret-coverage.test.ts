// Every field of the schema that could carry a secret is either redacted by the one policy (src/tl/secret-fields.ts)
// or reviewed as public here, with the reason. A new layer that adds such a field fails this test until someone
// decides. Each redacted (constructor, field) pair is then put through the trace's redaction with a canary value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullSchema } from '../../src/tl/bundled';
import { REDACTED_BY_CONSTRUCTOR, SECRET_FIELDS } from '../../src/tl/secret-fields';
import { redact } from '../../src/trace';
import { redactPanelState } from '../../src/ipc/index';

/** Names that may hold a secret: passwords, codes, tokens, secrets, keys, nonces, hashes, raw bytes. */
const SECRET_LOOKING = /password|passcode|code|token|secret|hash|auth_key|nonce|^bytes$|key|srp|^A$|^M1$/i;

/** Reviewed as public (by field name, wherever it appears), with why. */
const PUBLIC_BY_NAME: Record<string, string> = {
  access_hash: 'an object reference, only valid for this user and useless to anyone else',
  allow_app_hash: 'a flag',
  attributes_hash: 'a cache hash',
  base_lang_code: 'a language',
  bytes: 'photo thumbnails and file parts are content, not credentials (exported authorization bytes are constructor-bound)',
  can_pin_message: 'a flag',
  chat_invite_hash: 'an invite link a user shares on purpose',
  code: 'an error code (constructor-bound where it is a login or recovery code)',
  country_code: 'a dialling code',
  country_codes: 'dialling codes',
  data_hash: 'a Passport hash of encrypted data',
  error_code: 'an error code',
  except_auth_keys: 'key ids, not keys',
  exclude_pinned: 'a flag',
  file_hash: 'a Passport hash of an encrypted file',
  file_hashes: 'CDN part hashes (public checks)',
  file_token: 'a CDN file reference, useless without the file key',
  from_auth_key_id: 'a key id, not a key',
  g_a_hash: 'a hash of a DH public value',
  game_hash: 'a game state hash',
  gift_code_slug: 'a gift link shared on purpose',
  has_password: 'a flag',
  hash: 'cache hashes (messages.getDialogs) and the invite/phone hashes a link carries; never a password',
  hashtag: 'a search term',
  invite_hash: 'an invite link',
  key: 'privacy keys and language-pack keys (names, not secrets)',
  key_fingerprint: 'a fingerprint',
  keys: 'language-pack keys',
  keyword: 'sticker keywords',
  keywords: 'sticker keywords',
  lang_code: 'a language',
  lang_codes: 'languages',
  match_code: 'an emoji the user matches on screen, shown to both sides',
  match_codes: 'emoji shown to both sides',
  match_codes_first: 'a flag',
  new_nonce_hash: 'handshake check values (a hash of new_nonce, which is redacted)',
  new_nonce_hash1: 'see new_nonce_hash',
  new_nonce_hash2: 'see new_nonce_hash',
  new_nonce_hash3: 'see new_nonce_hash',
  nonce: 'the handshake nonce and Firebase/APNs request nonces are public by design (new_nonce is redacted)',
  passkeys: 'registered passkey descriptions (public keys)',
  password_missing: 'a flag',
  password_pending: 'a flag',
  perm_auth_key_id: 'a key id',
  phone_code_hash: 'useless without the code (kept so a trace can follow a login)',
  pin_messages: 'a flag',
  ping_id: 'a ping id',
  pinned: 'a flag',
  pinned_msg_id: 'a message id',
  pinned_peers: 'peers',
  pinned_to_top: 'ids',
  play_integrity_nonce: 'a public nonce the server asks the device to sign',
  plural_code: 'a language rule',
  poll_hash: 'a cache hash',
  post_code: 'a postal code the user sends to a bot on purpose',
  prepaid_upgrade_hash: 'a gift reference',
  public_key: 'public keys',
  public_key_fingerprint: 'a fingerprint',
  public_keys: 'public keys',
  request_token: 'a CDN re-upload reference',
  requires_password: 'a flag',
  reset_invite_hash: 'a flag',
  secret: 'the MTProxy secret of a public dcOption and legacy file-location secrets (constructor-bound where private)',
  secure_secret_id: 'an id',
  sent_code: 'the auth.SentCode description (no code in it)',
  server_nonce: 'public handshake value',
  server_public_key_fingerprints: 'fingerprints',
  setup_password_required: 'a flag',
  shipping: 'a shipping option',
  shipping_address: 'an address the user gives a bot on purpose',
  shipping_address_requested: 'a flag',
  shipping_option_id: 'an id',
  shipping_options: 'options',
  srp_id: 'the id of the SRP parameters (public)',
  stories_pinned_available: 'a flag',
  suggested_lang_code: 'a language',
  system_lang_code: 'a language',
  temp_auth_key_id: 'a key id',
  token: 'stats graph tokens and contact tokens (constructor-bound where it logs in or identifies a device)',
  token_type: 'a number',
  typing: 'a flag',
  unpin: 'a flag',
  value_hashes: 'Passport hashes',
  video_codec: 'a codec name',
  zoom_token: 'a stats graph token',
};

const canary = (name: string): string => `canary-${name}-3141592653`;

test('every schema field that looks secret is redacted or reviewed as public', () => {
  const unreviewed: string[] = [];
  const redacted: { entry: string; field: string }[] = [];
  for (const e of fullSchema().entries) {
    for (const p of e.params) {
      const byCtor = REDACTED_BY_CONSTRUCTOR[e.name]?.includes(p.name) ?? false;
      if (SECRET_FIELDS.has(p.name) || byCtor) redacted.push({ entry: e.name, field: p.name });
      else if (SECRET_LOOKING.test(p.name) && !(p.name in PUBLIC_BY_NAME)) unreviewed.push(`${e.name}.${p.name}: ${p.type}`);
    }
  }
  assert.deepEqual(unreviewed, [], 'fields that may carry a secret: add them to src/tl/secret-fields.ts, or to PUBLIC_BY_NAME with why');
  // every constructor-bound rule names a field that exists (a rename in a new layer would silently drop it)
  for (const [name, fields] of Object.entries(REDACTED_BY_CONSTRUCTOR)) {
    const entry = fullSchema().entries.find((x) => x.name === name);
    assert.ok(entry, `REDACTED_BY_CONSTRUCTOR names ${name}, which the schema does not have`);
    for (const f of fields)
      assert.ok(
        entry.params.some((p) => p.name === f),
        `${name} has no field ${f}`,
      );
  }
  // and each redacted pair really disappears: in a payload with its `_`, as a call's params, and in the panel's state
  assert.ok(redacted.length > 30, `${redacted.length} redacted fields`);
  for (const { entry, field } of redacted) {
    const value = { _: entry, [field]: canary(field), nested: { _: entry, [field]: [canary(field)] } };
    const { _: _drop, ...params } = value;
    for (const out of [
      redact(value),
      redact(params, { method: entry }),
      redactPanelState({ version: 1, tab: 'query', query: { json: JSON.stringify(value) }, history: [{ query: value, time: 1 }] }),
    ]) {
      assert.ok(!JSON.stringify(out).includes(canary(field)), `${entry}.${field} leaked: ${JSON.stringify(out).slice(0, 200)}`);
    }
  }
  // names of our own (camelCase) that no schema has: redacted wherever they appear
  for (const name of SECRET_FIELDS) {
    if (redacted.some((r) => r.field === name)) continue;
    assert.ok(!JSON.stringify(redact({ deep: [{ [name]: canary(name) }] })).includes(canary(name)), `${name} leaked`);
  }
});
