// The handlers build layer-227 objects; the lenient codec of every served layer must encode them, including
// GramJS's layer 198 (its api.tl text is a devDependency, used here only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { srpProof } from '../../src/crypto/srp';
import { API_LAYER, fullSchema } from '../../src/tl/bundled';
import { TlCodec } from '../../src/tl/codec';
import { LayerCodecs } from '../../src/sandbox/layers';
import { harness, login, sendCode, getSelf } from './helpers';

const require = createRequire(__filename);
const GRAMJS_TL: string = require('telegram/tl/apiTl.js');

async function results(): Promise<Record<string, [string, unknown]>> {
  const h = harness();
  const sent = await h.call(4, 1n, sendCode('9996641234'));
  const auth = await h.call(4, 1n, { _: 'auth.signIn', phone_number: '9996641234', phone_code_hash: sent.phone_code_hash, phone_code: '44444' });
  const users = await h.call(4, 1n, getSelf);
  const full = await h.call(4, 1n, { _: 'users.getFullUser', id: { _: 'inputUserSelf' } });
  const exp = await h.call(4, 1n, { _: 'auth.exportAuthorization', dc_id: 2 });
  const newSent = await h.call(2, 5n, sendCode('15550009999'));
  const signUpRequired = await h.call(2, 5n, {
    _: 'auth.signIn',
    phone_number: '15550009999',
    phone_code_hash: newSent.phone_code_hash,
    phone_code: h.world.inbox().at(-1)!.code,
  });
  assert.equal(signUpRequired._, 'auth.authorizationSignUpRequired');
  await assert.rejects(login(h, 2, 6n, '9996629234', '22222'));
  const pw = await h.call(2, 6n, { _: 'account.getPassword' });
  const noPw = await h.call(2, 7n, { _: 'account.getPassword' });
  return {
    config: ['help.getConfig', await h.call(4, 1n, { _: 'help.getConfig' })],
    sentCode: ['auth.sendCode', sent],
    authorization: ['auth.signIn', auth],
    signUpRequired: ['auth.signIn', signUpRequired],
    users: ['users.getUsers', users],
    userFull: ['users.getFullUser', full],
    exported: ['auth.exportAuthorization', exp],
    password: ['account.getPassword', pw],
    noPassword: ['account.getPassword', noPw],
    nearest: ['help.getNearestDc', await h.call(4, 1n, { _: 'help.getNearestDc' })],
    state: ['updates.getState', await h.call(4, 1n, { _: 'updates.getState' })],
    loggedOut: ['auth.logOut', await h.call(4, 1n, { _: 'auth.logOut' })],
  };
}

function roundTrip(codec: TlCodec, method: string, value: unknown): any {
  const type = codec.returnTypeOf(method);
  const bytes = codec.encodeValue(type, value);
  assert.ok(bytes.length > 0);
  return codec.decodeValue(type, bytes);
}

test('LayerCodecs serves 227 and extra layers, one cached codec per layer', () => {
  const codecs = new LayerCodecs([{ layer: 198, text: GRAMJS_TL }]);
  assert.deepEqual(codecs.layers(), [198, API_LAYER]);
  assert.equal(codecs.resolve(198), 198);
  assert.equal(codecs.resolve(210), 198);
  assert.equal(codecs.resolve(300), 227);
  assert.equal(codecs.resolve(100), 198);
  assert.equal(codecs.codecFor(198), codecs.codecFor(198));
  assert.notEqual(codecs.codecFor(198), codecs.codecFor(227));
  assert.equal(codecs.codecFor(227).lenient, true);
  assert.throws(() => new LayerCodecs([{ layer: 0, text: '' }]));
});

test('results are exactly layer-227 shaped: a strict (non-lenient) codec encodes them all', async () => {
  const strict = new TlCodec(fullSchema());
  for (const [name, [method, value]] of Object.entries(await results())) {
    assert.doesNotThrow(() => strict.encodeValue(strict.returnTypeOf(method), value), name);
  }
});

for (const layer of [227, 198]) {
  test(`main results encode and decode in layer ${layer}`, async () => {
    const codecs = new LayerCodecs([{ layer: 198, text: GRAMJS_TL }]);
    const codec = codecs.codecFor(layer);
    const r = await results();
    for (const [name, [method, value]] of Object.entries(r)) {
      const back = roundTrip(codec, method, value);
      assert.ok(back !== undefined, name);
    }
    const cfg = roundTrip(codec, 'help.getConfig', r.config![1]);
    assert.equal(cfg._, 'config');
    assert.equal(cfg.this_dc, 4);
    assert.equal(cfg.dc_options.length, 11);
    assert.equal(cfg.dc_options.filter((o: any) => o.ipv6).length, 5);
    assert.equal(cfg.dc_options.filter((o: any) => o.media_only).length, 1);
    assert.equal(cfg.test_mode, false);
    const auth = roundTrip(codec, 'auth.signIn', r.authorization![1]);
    assert.equal(auth.user.phone, '9996641234');
    assert.equal(auth.user.self, true);
    const users = roundTrip(codec, 'users.getUsers', r.users![1]);
    assert.equal(users[0].first_name, 'Sandbox User 41234');
    const sent = roundTrip(codec, 'auth.sendCode', r.sentCode![1]);
    assert.deepEqual(sent.type, { _: 'auth.sentCodeTypeApp', length: 5 });
    const pw = roundTrip(codec, 'account.getPassword', r.password![1]);
    assert.equal(pw.has_password, true);
    assert.equal(pw.srp_B.length, 256);
    assert.equal(pw.current_algo._, 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow');
    // what a client decodes is enough for its SRP proof
    assert.doesNotThrow(() =>
      srpProof({ password: 'x', salt1: pw.current_algo.salt1, salt2: pw.current_algo.salt2, g: pw.current_algo.g, p: pw.current_algo.p, srpB: pw.srp_B }),
    );
  });
}
