import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from '../../src/tl/crc32';
import { computeTlId, normalizeTlDeclaration, parseTlSchema, TlParseError } from '../../src/tl/parser';
import { TlSchema } from '../../src/tl/schema';
import { MTPROTO_SCHEMA_TL } from '../../src/tl/mtproto-schema';
import { API_LAYER, apiSchema, fullSchema, mtprotoSchema, schemaFromTlText } from '../../src/tl/bundled';

// GramJS's layer-198 api.tl (module.exports = string)
const gramjsApiTl: string = require('telegram/tl/apiTl.js');

test('crc32 known vector', () => {
  assert.equal(crc32('123456789'), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('computed ids equal written ids on the whole GramJS api.tl', () => {
  let count = 0;
  const mismatches: string[] = [];
  for (const raw of gramjsApiTl.split('\n')) {
    const line = raw.trim();
    const m = /^([\w.]+)#([0-9a-f]+)\s/.exec(line);
    if (!m || line.includes('[')) continue; // `vector#1cb5c415 {t:Type} # [ t ] = Vector t` is a builtin
    count++;
    if (computeTlId(line) !== parseInt(m[2]!, 16)) mismatches.push(line);
  }
  assert.ok(count > 1500, `only ${count} entries`);
  assert.deepEqual(mismatches, []);
  // and the parser keeps them all, with their written ids
  const parsed = parseTlSchema(gramjsApiTl);
  assert.equal(parsed.entries.length, count);
  assert.equal(parsed.entries.find((e) => e.name === 'inputPeerUser')!.id, 0xdde8a54c);
});

test('normalization: flags.N?true dropped, bytes→string, generics unwrapped, Vector<T> spaced', () => {
  assert.equal(normalizeTlDeclaration('invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;'), 'invokeWithLayer X:Type layer:int query:!X = X');
  assert.equal(computeTlId('invokeWithLayer {X:Type} layer:int query:!X = X'), 0xda9b0d0d);
  assert.equal(
    normalizeTlDeclaration('a#1 flags:# x:flags.0?true y:flags.1?bytes z:Vector<bytes> w:bytes = A'),
    'a flags:# y:flags.1?string z:Vector bytes w:string = A',
  );
  // ids computed from the spec's own lines (mtproto/samples-auth_key, schema/mtproto)
  assert.equal(computeTlId('req_pq nonce:int128 = ResPQ'), 0x60469778);
  assert.equal(computeTlId('resPQ nonce:int128 server_nonce:int128 pq:bytes server_public_key_fingerprints:Vector<long> = ResPQ'), 0x05162463);
});

test('parser: sections, comments, LAYER, generics, flags2, bare types, builtins, multi-line', () => {
  const text = `
// LAYER 42
int ? = Int;
vector {t:Type} # [ t ] = Vector t;
int128 4*[ int ] = Int128;
boolTrue#997275b5 = Bool;
true#3fedd339 = True;
// a comment line
thing#0000abcd flags:# a:flags.0?true b:flags.1?string flags2:# c:flags2.31?Vector<long> d:%Inner e:vector<inner> = Thing; // trailing
inner x:int = Inner;
multi#11223344 a:int
  b:long = Multi;
---functions---
wrap#01020304 {X:Type} query:!X = X;
things.get ids:Vector<int> = Vector<Thing>;
---types---
late#55 = Late;
`;
  const { entries, layer } = parseTlSchema(text);
  assert.equal(layer, 42);
  assert.deepEqual(
    entries.map((e) => `${e.kind[0]}:${e.name}`),
    ['c:boolTrue', 'c:true', 'c:thing', 'c:inner', 'c:multi', 'm:wrap', 'm:things.get', 'c:late'],
  );
  const thing = entries.find((e) => e.name === 'thing')!;
  assert.equal(thing.id, 0xabcd);
  assert.deepEqual(thing.params, [
    { name: 'flags', type: '#' },
    { name: 'a', type: 'true', flag: { field: 'flags', bit: 0 } },
    { name: 'b', type: 'string', flag: { field: 'flags', bit: 1 } },
    { name: 'flags2', type: '#' },
    { name: 'c', type: 'Vector<long>', flag: { field: 'flags2', bit: 31 } },
    { name: 'd', type: '%Inner' },
    { name: 'e', type: 'vector<inner>' },
  ]);
  const inner = entries.find((e) => e.name === 'inner')!;
  assert.equal(inner.id, crc32('inner x:int = Inner'));
  assert.deepEqual(
    entries.find((e) => e.name === 'multi')!.params.map((p) => p.name),
    ['a', 'b'],
  );
  const wrap = entries.find((e) => e.name === 'wrap')!;
  assert.deepEqual(wrap.params, [{ name: 'query', type: '!X' }]);
  assert.equal(wrap.type, 'X');
  assert.equal(entries.find((e) => e.name === 'things.get')!.type, 'Vector<Thing>');
  assert.throws(() => parseTlSchema('broken#1 a:int'), TlParseError);
  assert.throws(() => parseTlSchema('bad#1 a = B;'), /line 1/);
});

test('TlSchema lookups, constructorsOfType and extend overriding by name', () => {
  const { entries } = parseTlSchema('a#1 = T;\nb#2 x:int = T;\n---functions---\nf#3 = T;');
  const s = new TlSchema(entries, 1);
  assert.equal(s.byId(2)!.name, 'b');
  assert.equal(s.constructorByName('a')!.id, 1);
  assert.equal(s.methodByName('f')!.id, 3);
  assert.equal(s.methodByName('a'), undefined);
  assert.deepEqual(
    s.constructorsOfType('T').map((e) => e.name),
    ['a', 'b'],
  );
  const s2 = s.extend(parseTlSchema('b#22 y:long = T;').entries, 2);
  assert.equal(s2.layer, 2);
  assert.equal(s2.byId(2), undefined);
  assert.equal(s2.constructorByName('b')!.id, 0x22);
  assert.equal(s2.constructorsOfType('T').length, 2);
  assert.equal(s.constructorByName('b')!.id, 2, 'extend leaves the original alone');
});

test('MTProto schema: every written id verified by CRC32, all required entries present', () => {
  const { entries } = parseTlSchema(MTPROTO_SCHEMA_TL);
  const bad: string[] = [];
  for (const line of MTPROTO_SCHEMA_TL.split('\n')) {
    const m = /^([\w.]+)#([0-9a-f]+)\s/.exec(line);
    if (!m) continue;
    // msg_container's id is, historically, the CRC of `... messages:vector message = MessageContainer`
    const decl = m[1] === 'msg_container' ? 'msg_container messages:vector message = MessageContainer' : line;
    if (computeTlId(decl) !== parseInt(m[2]!, 16)) bad.push(line);
  }
  assert.deepEqual(bad, []);
  const names = new Set(entries.map((e) => e.name));
  for (const n of [
    'req_pq',
    'req_pq_multi',
    'resPQ',
    'p_q_inner_data',
    'p_q_inner_data_dc',
    'p_q_inner_data_temp',
    'p_q_inner_data_temp_dc',
    'req_DH_params',
    'server_DH_params_ok',
    'server_DH_params_fail',
    'server_DH_inner_data',
    'set_client_DH_params',
    'client_DH_inner_data',
    'dh_gen_ok',
    'dh_gen_retry',
    'dh_gen_fail',
    'rpc_result',
    'rpc_error',
    'rpc_answer_unknown',
    'rpc_answer_dropped_running',
    'rpc_answer_dropped',
    'rpc_drop_answer',
    'get_future_salts',
    'future_salt',
    'future_salts',
    'ping',
    'ping_delay_disconnect',
    'pong',
    'destroy_session',
    'destroy_session_ok',
    'destroy_session_none',
    'new_session_created',
    'msg_container',
    'message',
    'msg_copy',
    'gzip_packed',
    'msgs_ack',
    'bad_msg_notification',
    'bad_server_salt',
    'msg_resend_req',
    'msgs_state_req',
    'msgs_state_info',
    'msgs_all_info',
    'msg_detailed_info',
    'msg_new_detailed_info',
    'http_wait',
    'destroy_auth_key',
    'destroy_auth_key_ok',
    'destroy_auth_key_none',
    'destroy_auth_key_fail',
    'bind_auth_key_inner',
  ])
    assert.ok(names.has(n), n);
  const s = mtprotoSchema();
  assert.equal(s.constructorByName('rpc_result')!.id, 0xf35c6d01);
  assert.equal(s.constructorByName('msg_container')!.id, 0x73f1f8dc);
  assert.equal(s.constructorByName('p_q_inner_data')!.id, 0x83c95aec);
  assert.equal(s.methodByName('req_pq_multi')!.id, 0xbe7e8ef1);
});

test('bundled API schema: layer 227, int53 → long, isVector → Vector<T>, comments and throws kept', () => {
  const api = apiSchema();
  assert.equal(API_LAYER, 227);
  assert.equal(api.layer, 227);
  assert.ok(api.entries.length > 2000);
  const user = api.constructorByName('user')!;
  assert.equal(user.params.find((p) => p.name === 'id')!.type, 'long');
  assert.deepEqual(user.params.find((p) => p.name === 'usernames')!, {
    name: 'usernames',
    type: 'Vector<Username>',
    flag: { field: 'flags2', bit: 0 },
    comment: user.params.find((p) => p.name === 'usernames')!.comment,
  });
  assert.equal(api.methodByName('users.getUsers')!.type, 'Vector<User>');
  assert.equal(api.methodByName('messages.getMessages')!.params[0]!.type, 'Vector<InputMessage>');
  assert.deepEqual(
    api.methodByName('invokeWithLayer')!.params.map((p) => p.type),
    ['int', '!X'],
  );
  const sendCode = api.methodByName('auth.sendCode')!;
  assert.ok(sendCode.comment && sendCode.comment.length > 5);
  assert.ok(sendCode.throws!.some((t) => t.name === 'PHONE_NUMBER_INVALID' && t.code === 406 && t.comment === 'The phone number is invalid.'));
  assert.equal(api.constructorByName('boolTrue')!.id, 0x997275b5);
  const full = fullSchema();
  assert.equal(full, fullSchema(), 'cached');
  assert.equal(full.layer, 227);
  assert.ok(full.methodByName('req_pq_multi') && full.methodByName('help.getConfig'));
});

test('schemaFromTlText: GramJS layer 198 over the MTProto schema', () => {
  const s = schemaFromTlText(gramjsApiTl, 198);
  assert.equal(s.layer, 198);
  assert.ok(s.methodByName('ping'));
  assert.equal(s.methodByName('help.getConfig')!.id, 0xc4f9186b);
  assert.equal(s.constructorByName('user')!.id, 0x4b46c37e); // layer 198's user
  assert.equal(schemaFromTlText('// LAYER 7\nfoo#1 = Foo;').layer, 7);
});
