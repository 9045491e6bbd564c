// Schema diagnostics of request files: each code, with the exact range it points at (against the bundled layer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeRequestFile, completeAt, hoverAt } from '../../src/reqfile';
import { apiSchema, schemaFromTlText } from '../../src/tl/bundled';

const schema = apiSchema();

/** [code, the text the range covers] of every diagnostic. */
function diags(text: string, knownVariables?: string[]): [string, string][] {
  return analyzeRequestFile(text, schema, knownVariables ? { knownVariables } : {}).map((d) => [d.code, text.slice(d.range.start, d.range.end)]);
}
function messages(text: string): string[] {
  return analyzeRequestFile(text, schema).map((d) => d.message);
}

test('a valid file has no diagnostics (variables, flags, nested constructors, vectors, longs as strings)', () => {
  const text = `@peer = {"_":"inputPeerSelf"}
### history
messages.getHistory
{ "peer": {{peer}}, "offset_id": 0, "offset_date": 0, "add_offset": 0, "limit": 5, "max_id": 0, "min_id": 0, "hash": "0" }
###
users.getUsers
{ "id": [{ "_": "inputUserSelf" }, { "_": "inputUser", "user_id": "7000041234", "access_hash": -5 }] }
@me = {{response[0].id}}
###
users.getFullUser
{ "id": { "_": "inputUser", "user_id": "{{me}}", "access_hash": "{{hash}}" } }
###
help.getNearestDc
###
messages.sendMessage
{ "peer": {"_":"inputPeerSelf"}, "message": "hi", "random_id": "1", "silent": true, "no_webpage": false, "reply_to": null }
`;
  assert.deepEqual(analyzeRequestFile(text, schema, { knownVariables: ['hash'] }), []);
});

test('unknown-method: on the method name, with the closest names; a constructor is named as such', () => {
  const text = 'users.getUser\n{}\n###\nmessages.getHistroy\n###\ninputUserSelf';
  assert.deepEqual(diags(text), [
    ['unknown-method', 'users.getUser'],
    ['unknown-method', 'messages.getHistroy'],
    ['unknown-method', 'inputUserSelf'],
  ]);
  const m = messages(text);
  assert.match(m[0]!, /unknown method `users\.getUser` in layer 227; did you mean `users\.getUsers`/);
  assert.match(m[1]!, /did you mean `messages\.getHistory`/);
  assert.match(m[2]!, /inputUserSelf is a constructor \(of type InputUser\), not a method/);
});

test('unknown-param: on the key, naming it and the valid ones (method and nested constructor)', () => {
  const text = 'users.getUsers\n{ "id": [{ "_": "inputUser", "user_id": "1", "acces_hash": "2" }], "limit": 5 }';
  assert.deepEqual(diags(text), [
    ['missing-param', '"inputUser"'],
    ['unknown-param', '"acces_hash"'],
    ['unknown-param', '"limit"'],
  ]);
  const m = messages(text);
  assert.equal(m[0], 'missing field "access_hash" (long) of inputUser');
  assert.match(m[1]!, /unknown field "acces_hash" of inputUser \(did you mean "access_hash"\?\); its fields: user_id, access_hash/);
  assert.equal(m[2], 'unknown parameter "limit" of users.getUsers; its parameters: id');
});

test('missing-param: required (non-flag) params only, on the method name; flags and `true` flags may be absent', () => {
  const text = 'messages.getHistory\n{ "peer": {"_":"inputPeerSelf"}, "limit": 1, "hash": "0" }\n###\nusers.getUsers';
  assert.deepEqual(diags(text), [
    ['missing-param', 'messages.getHistory'],
    ['missing-param', 'messages.getHistory'],
    ['missing-param', 'messages.getHistory'],
    ['missing-param', 'messages.getHistory'],
    ['missing-param', 'messages.getHistory'],
    ['missing-param', 'users.getUsers'],
  ]);
  assert.deepEqual(
    messages(text).map((m) => /"(\w+)"/.exec(m)![1]),
    ['offset_id', 'offset_date', 'add_offset', 'max_id', 'min_id', 'id'],
  );
  // sendMessage has many optional flags: only its required fields are asked for
  assert.deepEqual(
    diags('messages.sendMessage\n{ "peer": {"_":"inputPeerSelf"} }').map(([c]) => c),
    ['missing-param', 'missing-param'],
  );
});

test('wrong-type: the range is the value; int, long, string, bytes, Bool, vector, object, true flags, null', () => {
  const text = `messages.getHistory
{ "peer": {"_":"inputPeerSelf"}, "offset_id": "0", "offset_date": 1.5, "add_offset": 0, "limit": 5, "max_id": 0, "min_id": 0, "hash": 9007199254740993 }
###
users.getUsers
{ "id": {"_":"inputUserSelf"} }
###
messages.sendMessage
{ "peer": [], "message": 5, "random_id": "x", "silent": "yes", "reply_to": null, "entities": null }
###
auth.checkPassword
{ "password": { "_": "inputCheckPasswordSRP", "srp_id": "1", "A": "not base64!", "M1": "AAAA" } }`;
  assert.deepEqual(diags(text), [
    ['wrong-type', '"0"'],
    ['wrong-type', '1.5'],
    ['wrong-type', '9007199254740993'],
    ['wrong-type', '{"_":"inputUserSelf"}'],
    ['wrong-type', '[]'],
    ['wrong-type', '5'],
    ['wrong-type', '"x"'],
    ['wrong-type', '"yes"'],
    ['wrong-type', '"not base64!"'],
  ]);
  const m = messages(text);
  assert.equal(m[0], 'offset_id: expected int (32-bit integer), got the string "0"');
  assert.match(m[2]!, /hash: expected long .*beyond 2\^53 a JSON number loses digits, write it as a decimal string/);
  assert.equal(m[3], 'id: expected Vector<InputUser> (array), got an object');
  assert.match(m[4]!, /^peer: expected InputPeer \(object with "_" naming one of: inputPeerEmpty, inputPeerSelf/);
  assert.equal(m[7], 'silent: expected true (or absent), got the string "yes"');
  // a value under a secret field is never quoted back
  assert.equal(m[8], 'password.A: expected bytes (base64 string), got a string (value not shown)');
  // a nested path through a vector
  assert.deepEqual(diags('users.getUsers\n{ "id": [{"_":"inputUser","user_id":true,"access_hash":"1"}] }'), [['wrong-type', 'true']]);
  assert.match(messages('users.getUsers\n{ "id": [{"_":"inputUser","user_id":true,"access_hash":"1"}] }')[0]!, /^id\[0\]\.user_id: expected long/);
  // the body itself must be an object
  assert.deepEqual(diags('users.getUsers\n[1]'), [['wrong-type', '[1]']]);
});

test('wrong-constructor / missing-constructor: a "_" of the wrong type, unknown, missing, or not the method', () => {
  const text = `users.getUsers
{ "id": [{ "_": "inputPeerSelf" }, { "_": "inputUsr" }, {}] }
###
users.getFullUser
{ "_": "users.getUsers", "id": { "_": "inputUserSelf" } }`;
  assert.deepEqual(diags(text), [
    ['wrong-constructor', '"inputPeerSelf"'],
    ['wrong-constructor', '"inputUsr"'],
    ['missing-constructor', '{}'],
    ['wrong-constructor', '"users.getUsers"'],
  ]);
  const m = messages(text);
  assert.match(
    m[0]!,
    /^id\[0\]\._: "inputPeerSelf" is of type InputPeer, not InputUser; InputUser is one of: inputUserEmpty, inputUserSelf, inputUser, inputUserFromMessage/,
  );
  assert.match(m[1]!, /unknown constructor "inputUsr"; .*did you mean "inputUser"/);
  assert.match(m[2]!, /^id\[2\]: missing "_"; expected InputUser/);
  assert.match(m[3]!, /the body names "_": "users\.getUsers", but the method is users\.getFullUser/);
});

test('json-syntax: ranges at the offending token; the rest of the body is still checked', () => {
  const cases: [string, [string, string][]][] = [
    ['users.getUsers\n{ "id": [], }', [['json-syntax', ',']]],
    ['users.getUsers\n{ id: [] }', [['json-syntax', 'id']]],
    [
      "users.getUsers\n{ 'id': [] }",
      [
        ['json-syntax', "'"],
        ['json-syntax', 'id'],
        ['json-syntax', "'"],
      ],
    ],
    [
      'users.getUsers\n{ "id": [] "x": 1 }',
      [
        ['json-syntax', '"x"'],
        ['unknown-param', '"x"'],
      ],
    ],
    ['users.getUsers\n{ "id": [ }', [['json-syntax', '}']]],
    ['users.getUsers\n{ "id": [] }\nhelp.getConfig', [['json-syntax', 'help.getConfig']]],
    ['users.getUsers\n{ "id": [{"_": "inputUserSelf"}]', [['json-syntax', '']]],
    [
      'users.getUsers\n{ "id": "abc }',
      [
        ['json-syntax', '"abc }'],
        ['json-syntax', ''],
      ],
    ],
  ];
  for (const [text, want] of cases) assert.deepEqual(diags(text), want, text);
  assert.match(messages('users.getUsers\n{ "id": [] }\nhelp.getConfig')[0]!, /start a new request with a `###` line/);
  assert.match(messages('users.getUsers\n{ "id": [], }')[0]!, /trailing comma/);
});

test('undefined-variable: not in the file, not assigned earlier, not known; `response` outside assignments; bad paths', () => {
  const text = `users.getUsers
{ "id": [{{self}}], "x": "{{me}}" }
@me = {{response[0].id}}
@bad = {{response..id}}
@alias = {{me}}-{{other}}
###
users.getFullUser
{ "id": {{response}} }`;
  assert.deepEqual(diags(text, ['self']), [
    ['unknown-param', '"x"'],
    ['undefined-variable', '{{me}}'],
    ['bad-variable', '{{response..id}}'],
    ['undefined-variable', '{{other}}'],
    ['bad-variable', '{{response}}'],
  ]);
  const m = analyzeRequestFile(text, schema, { knownVariables: ['self'] }).map((d) => d.message);
  assert.match(m[1]!, /undefined variable `me` \(request #1 assigns it after this body\)/);
  assert.deepEqual(diags(text).slice(0, 1), [['undefined-variable', '{{self}}']], 'without knownVariables `self` is undefined');
  // a later request's assignment does not define it for an earlier one
  const later = 'users.getUsers\n{"id":[{"_":"inputUser","user_id":"{{me}}","access_hash":"0"}]}\n###\nusers.getUsers\n{"id":[]}\n@me = {{response[0].id}}';
  assert.deepEqual(diags(later), [['undefined-variable', '{{me}}']]);
  assert.match(analyzeRequestFile(later, schema)[0]!.message, /request #2 assigns it, but it runs later/);
});

test('a user schema (schemaFromTlText) is used as given', () => {
  const own = schemaFromTlText(
    '---types---\nlab.thing#00000001 name:string = lab.Thing;\n---functions---\nlab.get#00000002 thing:lab.Thing count:int = lab.Thing;\n',
    1,
  );
  assert.deepEqual(analyzeRequestFile('lab.get\n{ "thing": {"_":"lab.thing","name":"x"}, "count": 1 }', own), []);
  const d = analyzeRequestFile('lab.get\n{ "thing": {"_":"lab.thing"}, "count": "1" }\n###\nusers.getUsers', own);
  assert.deepEqual(
    d.map((x) => x.code),
    ['missing-param', 'wrong-type', 'unknown-method'],
  );
});

test('a body nested past the depth limit is one diagnostic, and analysis, completion and hover still answer', () => {
  const text = `users.getUsers\n{ "id": ${'['.repeat(5000)}1${']'.repeat(5000)} }\n`;
  const d = analyzeRequestFile(text, schema);
  assert.ok(
    d.some((x) => /nested deeper than 128 levels/.test(x.message)),
    JSON.stringify(d.map((x) => x.message)),
  );
  completeAt(text, text.indexOf('1'), schema);
  hoverAt(text, text.indexOf('1'), schema);
});
