import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact, TraceStore } from '../../src/trace/index';

const bytes = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
const b64 = (u8: Uint8Array): string => Buffer.from(u8).toString('base64');

/** Every secret must vanish from the output — raw, as base64, as hex, as decimal. */
function assertGone(out: unknown, secrets: (string | Uint8Array | bigint)[]): void {
  const text = JSON.stringify(out);
  for (const s of secrets) {
    const forms = s instanceof Uint8Array ? [b64(s), Buffer.from(s).toString('hex'), b64(s).slice(0, 16)] : [String(s)];
    for (const f of forms) assert.ok(!text.includes(f), `secret ${f.slice(0, 12)}… leaked in ${text.slice(0, 200)}`);
  }
}

test('redact: every secret of the documented list disappears, public fields stay', () => {
  const authKey = bytes(256, 1);
  const exported = bytes(128, 2);
  const A = bytes(256, 3);
  const M1 = bytes(32, 4);
  const srpB = bytes(256, 5);
  const newHash = bytes(32, 6);
  const newNonce = bytes(32, 7);
  const token = bytes(24, 8);
  const secureSecret = bytes(32, 9);
  const tmpPwd = bytes(16, 10);
  const cases: { value: unknown; secrets: (string | Uint8Array | bigint)[]; kept?: Record<string, unknown>; ctx?: { method: string } }[] = [
    {
      value: { _: 'auth.sendCode', phone_number: '9996641234', api_id: 4, api_hash: 'c0ffee00c0ffee00c0ffee00c0ffee00', settings: { _: 'codeSettings' } },
      secrets: ['c0ffee00c0ffee00'],
      kept: { phone_number: '9996641234', api_id: 4 },
    },
    { value: { _: 'auth.signIn', phone_number: '1', phone_code_hash: 'h4sh', phone_code: '271828' }, secrets: ['271828'], kept: { phone_code_hash: 'h4sh' } },
    { value: { _: 'auth.checkPassword', password: { _: 'inputCheckPasswordSRP', srp_id: 99887766554433n, A, M1 } }, secrets: [A, M1] },
    { value: { _: 'inputCheckPasswordSRP', srp_id: 1n, A, M1 }, secrets: [A, M1], kept: { srp_id: '1' } },
    {
      value: { _: 'account.password', srp_B: srpB, srp_id: 5n, current_algo: { _: 'passwordKdfAlgoX', salt1: bytes(8, 11), salt2: bytes(8, 12), g: 3 } },
      secrets: [srpB],
      kept: { srp_id: '5' },
    },
    {
      value: {
        _: 'account.passwordInputSettings',
        new_password_hash: newHash,
        hint: 'h',
        new_secure_settings: { _: 'secureSecretSettings', secure_secret: secureSecret },
      },
      secrets: [newHash, secureSecret],
      kept: { hint: 'h' },
    },
    { value: { _: 'auth.exportedAuthorization', id: 12345678901234n, bytes: exported }, secrets: [exported], kept: { id: '12345678901234' } },
    { value: { _: 'auth.importAuthorization', id: 5n, bytes: exported }, secrets: [exported] },
    { value: { id: 5n, bytes: exported }, ctx: { method: 'auth.importAuthorization' }, secrets: [exported] },
    { value: { dcId: 4, authKey, serverSalt: 7n }, secrets: [authKey], kept: { dcId: 4, serverSalt: '7' } },
    { value: { nested: [{ auth_key: authKey }, { tmp_auth_key: authKey }] }, secrets: [authKey] },
    { value: { _: 'p_q_inner_data_dc', pq: bytes(8, 13), new_nonce: newNonce, dc: 2 }, secrets: [newNonce] },
    { value: { _: 'auth.loginToken', expires: 30, token }, secrets: [token], kept: { expires: 30 } },
    { value: { _: 'auth.importLoginToken', token }, secrets: [token] },
    { value: { _: 'emailVerificationCode', code: '918273' }, secrets: ['918273'] },
    { value: { _: 'account.tmpPassword', tmp_password: tmpPwd, valid_until: 9 }, secrets: [tmpPwd] },
    {
      value: { _: 'auth.importBotAuthorization', bot_auth_token: '123:ABCsecretTOKEN', api_hash: 'ffff0000ffff0000' },
      secrets: ['ABCsecretTOKEN', 'ffff0000ffff0000'],
    },
    { value: { password: 'hunter2-password', phoneCode: '31415', apiHash: 'abcabcabcabc' }, secrets: ['hunter2-password', '31415', 'abcabcabcabc'] },
    { value: [{ _: 'auth.exportedAuthorization', id: 1n, bytes: exported }], secrets: [exported] },
  ];
  for (const c of cases) {
    const out = redact(c.value, c.ctx);
    assertGone(out, c.secrets);
    for (const [k, v] of Object.entries(c.kept ?? {})) assert.deepEqual((out as Record<string, unknown>)[k], v, `${k} is kept`);
  }
  // every field and constructor rule of the policy is exercised by test/security/secret-coverage.test.ts
});

test('redact: markers, JSON-readiness, no mutation, public values untouched', () => {
  const key = bytes(256, 1);
  const input = { _: 'auth.exportedAuthorization', id: -5n, bytes: key, extra: { salt1: bytes(4, 2), when: 3 } };
  const copy = structuredClone(input);
  const out = redact(input) as Record<string, unknown>;
  assert.deepEqual(input, copy, 'input not mutated');
  assert.equal(out.bytes, '[redacted 256 bytes]');
  assert.equal(out.id, '-5');
  assert.deepEqual(out.extra, { salt1: b64(bytes(4, 2)), when: 3 }, 'salt1 is public and kept');
  assert.equal((redact({ phone_code: '12345' }) as Record<string, unknown>).phone_code, '[redacted]');
  assert.deepEqual(JSON.parse(JSON.stringify(out)), out, 'JSON-ready');
  assert.deepEqual(redact({ a: undefined, b: NaN, c: () => 1, d: new Date(0) }), { b: 'NaN', d: '1970-01-01T00:00:00.000Z' });
  assert.equal(redact('plain'), 'plain');
  assert.deepEqual(redact(redact(input)), redact(input), 'idempotent');
  // the byte-length marker from a first pass survives a second pass (re-import)
  assert.equal((redact({ auth_key: '[redacted 256 bytes]' }) as Record<string, unknown>).auth_key, '[redacted 256 bytes]');
});

test('TraceStore.add never stores a secret payload unredacted', () => {
  const s = new TraceStore();
  const A = bytes(256, 9);
  s.add({ kind: 'call', name: 'auth.checkPassword', payload: { password: { _: 'inputCheckPasswordSRP', srp_id: 1n, A, M1: bytes(32, 1) } } });
  s.add({ kind: 'call', name: 'auth.importAuthorization', payload: { id: 1n, bytes: A } }); // params without `_`: the name gives the method
  s.add({ kind: 'result', name: 'auth.exportedAuthorization', payload: { _: 'auth.exportedAuthorization', id: 1n, bytes: A } });
  assertGone(s.events(), [A]);
  assertGone(s.exportJson(), [A]);
});

test('redact: class instances, Errors and Maps are walked too (a secret cannot hide in them)', () => {
  class Session {
    constructor(
      readonly dcId: number,
      readonly authKey: Uint8Array,
    ) {}
  }
  const key = bytes(256, 77);
  const err = Object.assign(new Error('boom'), { auth_key: key });
  const out = redact({ s: new Session(2, key), err, m: new Map([['api_hash', 'abcdef123456']]) });
  assertGone(out, [key, 'abcdef123456']);
  assert.deepEqual((out as any).s, { dcId: 2, authKey: '[redacted 256 bytes]' });
  assert.equal((out as any).err.message, 'boom');
});
