import { test } from 'node:test';
import assert from 'node:assert/strict';
import { srpProof } from '../../src/crypto/srp';
import { bigIntFromBytes } from '../../src/crypto/bigint';
import { TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { methodToken } from '../../src/sandbox/errors';
import { hasTestPassword, normalizePhone, seedPhones, testPhoneCode, testPhoneDc } from '../../src/sandbox/phones';
import { getSelf, harness, login, rejectsRpc, sendCode, signIn } from './helpers';

test('phone rules: 99966XYYYY belongs to DC X with code XXXXX; 99966X9YYY has 2FA', () => {
  assert.equal(testPhoneDc('9996641234'), 4);
  assert.equal(testPhoneCode('9996641234'), '44444');
  assert.equal(testPhoneDc('9996661234'), null); // X outside 1..5
  assert.equal(testPhoneDc('99966412345'), null);
  assert.equal(hasTestPassword('9996629234'), true);
  assert.equal(hasTestPassword('9996621234'), false);
  assert.equal(normalizePhone('+999 66-4 (1234)'), '9996641234');
  assert.equal(normalizePhone('12ab'), null);
  assert.equal(seedPhones().length, 10);
});

test('seed users exist with their home DC and names', () => {
  const h = harness();
  const u = h.world.userByPhone('9996621234')!;
  assert.equal(u.homeDc, 2);
  assert.equal(u.firstName, 'Sandbox User 21234');
  assert.equal(u.password, null);
  assert.ok(h.world.userByPhone('9996659234')!.password);
  assert.equal(h.world.userByPhone('9996651111'), undefined);
});

test('auth.sendCode: test number on its DC gets an app code of length 5, elsewhere PHONE_MIGRATE_X', async () => {
  const h = harness();
  const sent = await h.call(4, 11n, sendCode('+9996641234'));
  assert.equal(sent._, 'auth.sentCode');
  assert.deepEqual(sent.type, { _: 'auth.sentCodeTypeApp', length: 5 });
  assert.match(sent.phone_code_hash, /^[0-9a-f]{16}$/);
  assert.deepEqual(
    h.world.inbox().map((e) => [e.phone, e.code, e.dcId]),
    [['9996641234', '44444', 4]],
  );
  await rejectsRpc(h.call(2, 12n, sendCode('9996641234')), 303, 'PHONE_MIGRATE_4');
  // unregistered test numbers follow the same rule
  await rejectsRpc(h.call(1, 12n, sendCode('9996635555')), 303, 'PHONE_MIGRATE_3');
  await rejectsRpc(h.call(1, 12n, sendCode('12')), 406, 'PHONE_NUMBER_INVALID');
});

test('auth.sendCode: other numbers belong to the nearest DC (NETWORK_MIGRATE elsewhere), random code in the inbox', async () => {
  const h = harness();
  await rejectsRpc(h.call(1, 1n, sendCode('15550001111')), 303, 'NETWORK_MIGRATE_2');
  const sent = await h.call(2, 1n, sendCode('15550001111'));
  const entry = h.world.inbox().at(-1)!;
  assert.equal(entry.phone, '15550001111');
  assert.match(entry.code, /^\d{5}$/);
  assert.ok(
    h.logs.some((l) => l.includes(entry.code) && l.includes('15550001111')),
    'the code is printed in the log',
  );
  // resendCode delivers it again under the same hash
  const again = await h.call(2, 1n, { _: 'auth.resendCode', phone_number: '15550001111', phone_code_hash: sent.phone_code_hash });
  assert.equal(again.phone_code_hash, sent.phone_code_hash);
  assert.equal(again.type._, 'auth.sentCodeTypeSms');
  assert.equal(h.world.inbox().length, 2);
  await rejectsRpc(h.call(2, 1n, { _: 'auth.resendCode', phone_number: '15550001111', phone_code_hash: 'nope' }), 400, 'PHONE_CODE_EXPIRED');

  const h3 = harness({ nearestDc: 3 });
  await rejectsRpc(h3.call(2, 1n, sendCode('15550001111')), 303, 'NETWORK_MIGRATE_3');
});

test('auth.signIn: code checks, authorization, AUTH_KEY_UNREGISTERED before it', async () => {
  const h = harness();
  await rejectsRpc(h.call(4, 5n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
  await rejectsRpc(h.call(4, 5n, { _: 'updates.getState' }), 401, 'AUTH_KEY_UNREGISTERED');
  const sent = await h.call(4, 5n, sendCode('9996641234'));
  await rejectsRpc(h.call(4, 5n, signIn('9996641234', sent.phone_code_hash, '12345')), 400, 'PHONE_CODE_INVALID');
  await rejectsRpc(h.call(4, 5n, signIn('9996641234', sent.phone_code_hash)), 400, 'PHONE_CODE_EMPTY');
  await rejectsRpc(h.call(4, 5n, signIn('9996641234', '')), 400, 'PHONE_CODE_HASH_EMPTY');
  await rejectsRpc(h.call(4, 5n, signIn('9996641234', 'deadbeef', '44444')), 400, 'PHONE_CODE_EXPIRED');
  await rejectsRpc(h.call(2, 5n, signIn('9996641234', sent.phone_code_hash, '44444')), 303, 'PHONE_MIGRATE_4');
  const auth = await h.call(4, 5n, signIn('9996641234', sent.phone_code_hash, '44444'));
  assert.equal(auth._, 'auth.authorization');
  assert.equal(auth.user._, 'user');
  assert.equal(auth.user.self, true);
  assert.equal(auth.user.phone, '9996641234');
  assert.equal(typeof auth.user.id, 'bigint');
  // the hash is used up
  await rejectsRpc(h.call(4, 6n, signIn('9996641234', sent.phone_code_hash, '44444')), 400, 'PHONE_CODE_EXPIRED');
  const users = await h.call(4, 5n, getSelf);
  assert.equal(users.length, 1);
  assert.equal(users[0].id, auth.user.id);
  const byId = await h.call(4, 5n, { _: 'users.getUsers', id: [{ _: 'inputUser', user_id: auth.user.id, access_hash: auth.user.access_hash }] });
  assert.equal(byId[0].self, true);
  const full = await h.call(4, 5n, { _: 'users.getFullUser', id: { _: 'inputUserSelf' } });
  assert.equal(full._, 'users.userFull');
  assert.equal(full.full_user.id, auth.user.id);
  await rejectsRpc(h.call(4, 5n, { _: 'users.getFullUser', id: { _: 'inputUser', user_id: 1n, access_hash: 0n } }), 400, 'USER_ID_INVALID');
  const state = await h.call(4, 5n, { _: 'updates.getState' });
  assert.equal(state._, 'updates.state');
  // another key on the same DC is not authorized
  await rejectsRpc(h.call(4, 7n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
  // nor is the same key id on another DC
  await rejectsRpc(h.call(3, 5n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
});

test('login codes expire', async () => {
  const h = harness({ codeTtlMs: 1000 });
  const sent = await h.call(1, 1n, sendCode('9996611234'));
  h.clock.now += 1001;
  await rejectsRpc(h.call(1, 1n, signIn('9996611234', sent.phone_code_hash, '11111')), 400, 'PHONE_CODE_EXPIRED');
});

test('sign-up: unregistered number → authorizationSignUpRequired → auth.signUp; then PHONE_MIGRATE for it', async () => {
  const h = harness();
  const phone = '15557654321';
  const sent = await h.call(2, 9n, sendCode(phone));
  const code = h.world.inbox().at(-1)!.code;
  const signUpCall = { _: 'auth.signUp', phone_number: phone, phone_code_hash: sent.phone_code_hash, first_name: 'Ada', last_name: 'L' };
  await rejectsRpc(h.call(2, 9n, signUpCall), 400, 'PHONE_CODE_INVALID'); // signIn has not checked the code yet
  const r = await h.call(2, 9n, signIn(phone, sent.phone_code_hash, code));
  assert.equal(r._, 'auth.authorizationSignUpRequired');
  await rejectsRpc(h.call(2, 9n, { ...signUpCall, first_name: ' ' }), 400, 'FIRSTNAME_INVALID');
  const auth = await h.call(2, 9n, signUpCall);
  assert.equal(auth._, 'auth.authorization');
  assert.equal(auth.user.first_name, 'Ada');
  assert.equal(h.world.userByPhone(phone)!.homeDc, 2);
  await rejectsRpc(h.call(5, 1n, sendCode(phone)), 303, 'PHONE_MIGRATE_2');
  // registered now: a second sign-up is refused
  const sent2 = await h.call(2, 10n, sendCode(phone));
  await rejectsRpc(h.call(2, 10n, { ...signUpCall, phone_code_hash: sent2.phone_code_hash }), 400, 'PHONE_NUMBER_OCCUPIED');
  // registerUser knob: no sign-up needed
  h.world.registerUser('9996631777', 'Knob');
  const a2 = await login(h, 3, 44n, '9996631777', '33333');
  assert.equal(a2._, 'auth.authorization');
});

test('2FA: SESSION_PASSWORD_NEEDED, account.getPassword, auth.checkPassword with SRP (fail, reuse, success)', async () => {
  const h = harness();
  const phone = '9996629234';
  await rejectsRpc(login(h, 2, 21n, phone, '22222'), 401, 'SESSION_PASSWORD_NEEDED');
  await rejectsRpc(h.call(2, 21n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
  const pw = await h.call(2, 21n, { _: 'account.getPassword' });
  assert.equal(pw._, 'account.password');
  assert.equal(pw.has_password, true);
  const algo = pw.current_algo;
  assert.equal(algo._, 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow');
  assert.equal(algo.g, 3);
  assert.equal(bigIntFromBytes(algo.p), TELEGRAM_DH_PRIME);
  assert.equal(pw.srp_B.length, 256);
  assert.equal(typeof pw.srp_id, 'bigint');

  const wrong = srpProof({ password: 'not-it', salt1: algo.salt1, salt2: algo.salt2, g: algo.g, p: algo.p, srpB: pw.srp_B });
  const check = (srpId: bigint, proof: { A: Uint8Array; M1: Uint8Array }) =>
    h.call(2, 21n, { _: 'auth.checkPassword', password: { _: 'inputCheckPasswordSRP', srp_id: srpId, A: proof.A, M1: proof.M1 } });
  await rejectsRpc(check(pw.srp_id, wrong), 400, 'PASSWORD_HASH_INVALID');
  await rejectsRpc(check(pw.srp_id, wrong), 400, 'SRP_ID_INVALID'); // each srp_id is good once

  const pw2 = await h.call(2, 21n, { _: 'account.getPassword' });
  // another key cannot use this key's challenge
  await rejectsRpc(
    h.call(2, 22n, { _: 'auth.checkPassword', password: { _: 'inputCheckPasswordSRP', srp_id: pw2.srp_id, A: wrong.A, M1: wrong.M1 } }),
    400,
    'SRP_ID_INVALID',
  );
  const pw3 = await h.call(2, 21n, { _: 'account.getPassword' });
  const right = srpProof({ password: 'sandbox', salt1: algo.salt1, salt2: algo.salt2, g: 3, p: algo.p, srpB: pw3.srp_B });
  const auth = await check(pw3.srp_id, right);
  assert.equal(auth._, 'auth.authorization');
  assert.equal(auth.user.phone, phone);
  const users = await h.call(2, 21n, getSelf);
  assert.equal(users[0].phone, phone);
});

test('setPassword knob: any user can get (and lose) a password', async () => {
  const h = harness();
  const noPw = await h.call(1, 1n, { _: 'account.getPassword' });
  assert.equal(noPw.has_password, undefined);
  h.world.setPassword('9996611234', 'hunter2');
  await rejectsRpc(login(h, 1, 2n, '9996611234', '11111'), 401, 'SESSION_PASSWORD_NEEDED');
  assert.ok(!h.logs.some((l) => l.includes('hunter2')), 'the password is never logged');
  h.world.setPassword('9996611234', null);
  const auth = await login(h, 1, 3n, '9996611234', '11111');
  assert.equal(auth._, 'auth.authorization');
});

test('export/import authorization: DC_ID_INVALID, AUTH_BYTES_INVALID (tampered, wrong DC, reuse, expired), success', async () => {
  const h = harness({ exportTtlMs: 60_000 });
  await rejectsRpc(h.call(4, 40n, { _: 'auth.exportAuthorization', dc_id: 3 }), 401, 'AUTH_KEY_UNREGISTERED');
  const auth = await login(h, 4, 40n, '9996641234', '44444');
  for (const bad of [4, 0, 6, -2]) {
    await rejectsRpc(h.call(4, 40n, { _: 'auth.exportAuthorization', dc_id: bad }), 400, 'DC_ID_INVALID');
  }
  const exp = await h.call(4, 40n, { _: 'auth.exportAuthorization', dc_id: 3 });
  assert.equal(exp._, 'auth.exportedAuthorization');
  assert.equal(typeof exp.id, 'bigint');
  assert.ok(exp.bytes instanceof Uint8Array && exp.bytes.length >= 32);
  const imp = (dc: number, key: bigint, id: bigint, bytes: Uint8Array) => h.call(dc, key, { _: 'auth.importAuthorization', id, bytes });

  const tampered = Uint8Array.from(exp.bytes);
  tampered[7] ^= 1;
  await rejectsRpc(imp(3, 30n, exp.id, tampered), 400, 'AUTH_BYTES_INVALID');
  await rejectsRpc(imp(3, 30n, exp.id, exp.bytes.subarray(1)), 400, 'AUTH_BYTES_INVALID');
  await rejectsRpc(imp(3, 30n, exp.id + 1n, exp.bytes), 400, 'AUTH_BYTES_INVALID');
  await rejectsRpc(imp(5, 50n, exp.id, exp.bytes), 400, 'AUTH_BYTES_INVALID'); // exported for DC 3
  await rejectsRpc(h.call(3, 30n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');

  const imported = await imp(3, 30n, exp.id, exp.bytes);
  assert.equal(imported._, 'auth.authorization');
  assert.equal(imported.user.id, auth.user.id);
  const there = await h.call(3, 30n, getSelf);
  assert.equal(there[0].id, auth.user.id);
  // a retry on the same key is fine, another key may not reuse the bytes
  await imp(3, 30n, exp.id, exp.bytes);
  await rejectsRpc(imp(3, 31n, exp.id, exp.bytes), 400, 'AUTH_BYTES_INVALID');

  const exp2 = await h.call(4, 40n, { _: 'auth.exportAuthorization', dc_id: 1 });
  h.clock.now += 60_001;
  await rejectsRpc(imp(1, 10n, exp2.id, exp2.bytes), 400, 'AUTH_BYTES_INVALID');
  assert.ok(h.logs.some((l) => l.includes('expired')));
  // nothing secret in the log
  const hex = Buffer.from(exp.bytes).toString('hex');
  assert.ok(!h.logs.some((l) => l.includes(hex) || l.includes(Buffer.from(exp.bytes).toString('base64'))));
});

test('USER_MIGRATE: after moveUser the old DC answers USER_MIGRATE_X to every query but auth.exportAuthorization', async () => {
  const h = harness();
  await login(h, 4, 40n, '9996641234', '44444');
  const exp = await h.call(4, 40n, { _: 'auth.exportAuthorization', dc_id: 3 });
  await h.call(3, 30n, { _: 'auth.importAuthorization', id: exp.id, bytes: exp.bytes });

  h.world.moveUser('9996641234', 5);
  await rejectsRpc(h.call(4, 40n, getSelf), 303, 'USER_MIGRATE_5');
  await rejectsRpc(h.call(4, 40n, { _: 'updates.getState' }), 303, 'USER_MIGRATE_5');
  await rejectsRpc(h.call(4, 40n, { _: 'help.getConfig' }), 303, 'USER_MIGRATE_5');
  await rejectsRpc(h.call(4, 40n, { _: 'messages.getHistory' }), 303, 'USER_MIGRATE_5');
  const exp5 = await h.call(4, 40n, { _: 'auth.exportAuthorization', dc_id: 5 });
  const onNew = await h.call(5, 50n, { _: 'auth.importAuthorization', id: exp5.id, bytes: exp5.bytes });
  assert.equal(onNew.user.phone, '9996641234');
  assert.equal((await h.call(5, 50n, getSelf))[0].phone, '9996641234');
  // an imported authorization elsewhere keeps working (it is not the user's login DC)
  assert.equal((await h.call(3, 30n, getSelf))[0].phone, '9996641234');
  // logging in again goes to the new DC
  await rejectsRpc(h.call(4, 41n, sendCode('9996641234')), 303, 'PHONE_MIGRATE_5');
  const a = await login(h, 5, 51n, '9996641234', '44444');
  assert.equal(a._, 'auth.authorization');
});

test('unimplemented methods answer 400 METHOD_NOT_SUPPORTED_<METHOD> and the log names the method', async () => {
  const h = harness();
  await rejectsRpc(h.call(1, 1n, { _: 'messages.getHistory', peer: { _: 'inputPeerSelf' } }), 401, 'AUTH_KEY_UNREGISTERED');
  await rejectsRpc(h.call(1, 1n, { _: 'langpack.getLangPack', lang_pack: '', lang_code: 'en' }), 400, 'METHOD_NOT_SUPPORTED_LANGPACK_GET_LANG_PACK');
  await login(h, 1, 1n, '9996611234', '11111');
  await rejectsRpc(h.call(1, 1n, { _: 'messages.getHistory', peer: { _: 'inputPeerSelf' } }), 400, 'METHOD_NOT_SUPPORTED_MESSAGES_GET_HISTORY');
  assert.ok(h.logs.some((l) => l.includes('messages.getHistory') && l.includes('not implemented')));
  assert.equal(methodToken('upload.getCdnFileHashes'), 'UPLOAD_GET_CDN_FILE_HASHES');
  await rejectsRpc(h.call(1, 1n, { _: '' }), 400, 'INPUT_METHOD_INVALID');
});

test('wrappers are unwrapped; auth.logOut drops the authorization', async () => {
  const h = harness();
  await login(h, 1, 1n, '9996611234', '11111');
  const users = await h.call(1, 1n, { _: 'invokeWithLayer', layer: 198, query: { _: 'invokeWithoutUpdates', query: getSelf } });
  assert.equal(users[0].phone, '9996611234');
  const out = await h.call(1, 1n, { _: 'auth.logOut' });
  assert.equal(out._, 'auth.loggedOut');
  await rejectsRpc(h.call(1, 1n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
});

test('help.getConfig and help.getNearestDc describe the sandbox listeners', async () => {
  const h = harness();
  const cfg = await h.call(3, 1n, { _: 'help.getConfig' });
  assert.equal(cfg._, 'config');
  assert.equal(cfg.this_dc, 3);
  assert.equal(cfg.test_mode, false);
  assert.ok(cfg.expires > cfg.date);
  const v4 = cfg.dc_options.filter((o: any) => !o.ipv6 && !o.media_only);
  assert.deepEqual(
    v4.map((o: any) => [o.id, o.ip_address, o.port]),
    [1, 2, 3, 4, 5].map((i) => [i, '127.0.0.1', 30000 + i]),
  );
  const v6 = cfg.dc_options.filter((o: any) => o.ipv6);
  assert.deepEqual(
    v6.map((o: any) => [o.id, o.ip_address, o.port]),
    [1, 2, 3, 4, 5].map((i) => [i, '::1', 31000 + i]),
  );
  const media = cfg.dc_options.filter((o: any) => o.media_only);
  assert.deepEqual(
    media.map((o: any) => [o.id, o.port]),
    [[2, 30002]],
  );
  const near = await h.call(4, 1n, { _: 'help.getNearestDc' });
  assert.deepEqual(near, { _: 'nearestDc', country: 'XX', this_dc: 4, nearest_dc: 2 });
  const cdn = await h.call(4, 1n, { _: 'help.getCdnConfig' });
  assert.deepEqual(cdn, { _: 'cdnConfig', public_keys: [] });
});

test('keys are per DC: each DC has its own key store', () => {
  const h = harness();
  const key = new Uint8Array(256).fill(7);
  h.world.keyStore(4).set(99n, key);
  assert.equal(h.world.keyStore(4).get(99n), key);
  assert.equal(h.world.keyStore(3).get(99n), undefined);
  assert.equal(h.world.keyCount(4), 1);
  assert.ok(!h.logs.some((l) => l.includes('0707070707')));
});
