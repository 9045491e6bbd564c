// Completion in each position of a request file: method line, parameter keys (method and nested constructor),
// "_" values, value slots, array items, variables after {{, response fields in assignments, directives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeAt, type ReqCompletion } from '../../src/reqfile';
import { apiSchema } from '../../src/tl/bundled';

const schema = apiSchema();

/** Completion at the `|` of `marked` (the marker is removed). */
function at(marked: string, knownVariables?: string[]): { text: string; items: ReqCompletion[] } {
  const offset = marked.indexOf('|');
  assert.ok(offset >= 0);
  const text = marked.slice(0, offset) + marked.slice(offset + 1);
  return { text, items: completeAt(text, offset, schema, knownVariables ? { knownVariables } : {}) };
}
const labels = (items: ReqCompletion[]): string[] => items.map((i) => i.label);
const replaced = (text: string, i: ReqCompletion): string => text.slice(i.range!.start, i.range!.end);

test('method line: prefix match, namespace aware, with the signature and doc; replaces the whole word', () => {
  const { text, items } = at('### t\nusers.getU|sers\n{}');
  assert.deepEqual(labels(items), ['users.getUsers']);
  const it = items[0]!;
  assert.equal(it.kind, 'method');
  assert.equal(it.detail, 'users.getUsers#0d91a548 id:Vector<InputUser> = Vector<User>');
  assert.match(it.documentation!, /Returns basic user info/);
  assert.equal(replaced(text, it), 'users.getUsers');
  assert.equal(it.insertText, 'users.getUsers');

  // the tail of a namespaced name finds it too; namespace prefix lists that namespace
  assert.ok(labels(at('getFullU|').items).includes('users.getFullUser'));
  const ns = labels(at('help.|').items);
  assert.ok(ns.length > 10 && ns.every((n) => n.startsWith('help.')), ns.join());
  // a new line in a block that has no method yet
  const blank = at('@x = 1\n###\n|\n');
  assert.ok(blank.items.length > 500, 'every method on an empty method line');
  assert.ok(blank.items.every((i) => i.kind === 'method'));
  // a line inside the body is a key position, not a method line
  assert.deepEqual(labels(at('users.getUsers\n{\n|\n}').items), ['id']);
});

test('directives after @ before the method line only', () => {
  const { text, items } = at('### t\n@|\nusers.getUsers');
  assert.deepEqual(labels(items), ['dc', 'profile']);
  assert.equal(items[0]!.kind, 'directive');
  assert.equal(items[0]!.insertText, 'dc ');
  assert.equal(replaced(text, items[0]!), '');
  assert.deepEqual(labels(at('@pr|\nusers.getUsers').items), ['profile']);
  assert.deepEqual(at('users.getUsers\n{}\n@|').items, [], 'after the body only assignments go');
});

test('body keys: the method parameters not yet present, required first, as `"name": ` or inside quotes', () => {
  const all = at('messages.getHistory\n{ | }');
  assert.deepEqual(labels(all.items), ['peer', 'offset_id', 'offset_date', 'add_offset', 'limit', 'max_id', 'min_id', 'hash']);
  assert.equal(all.items[0]!.insertText, '"peer": ');
  assert.equal(all.items[0]!.detail, 'peer: InputPeer');
  assert.equal(all.items[0]!.kind, 'param');
  const rest = at('messages.getHistory\n{ "peer": {"_":"inputPeerSelf"}, "limit": 5, | }');
  assert.deepEqual(labels(rest.items), ['offset_id', 'offset_date', 'add_offset', 'max_id', 'min_id', 'hash']);
  // inside quotes: just the name, replacing what is typed between the quotes
  const quoted = at('messages.getHistory\n{ "peer": {"_":"inputPeerSelf"}, "li|" }');
  assert.equal(quoted.items.find((i) => i.label === 'limit')!.insertText, 'limit');
  assert.equal(replaced(quoted.text, quoted.items[0]!), 'li');
  // an unterminated key: only the word at the cursor is replaced
  const open = at('messages.getHistory\n{ "peer": {"_":"inputPeerSelf"}, "li| }');
  assert.equal(replaced(open.text, open.items[0]!), 'li');
  // optional (flag) params come after the required ones, with their flag in the detail
  const send = at('messages.sendMessage\n{ | }');
  const names = labels(send.items);
  assert.deepEqual(names.slice(0, 3), ['peer', 'message', 'random_id']);
  assert.equal(send.items.find((i) => i.label === 'silent')!.detail, 'silent: flags.5?true');
  assert.ok(!names.includes('flags'), 'the # field is computed');
});

test('keys of a nested object: the fields of the constructor its "_" names; "_" first when there is none', () => {
  const nested = at('messages.getHistory\n{ "peer": {"_":"inputPeerUser", |} }');
  assert.deepEqual(labels(nested.items), ['user_id', 'access_hash']);
  assert.equal(nested.items[0]!.detail, 'user_id: long');
  const inVector = at('users.getUsers\n{ "id": [{"_":"inputUser", "user_id": "1", |}] }');
  assert.deepEqual(labels(inVector.items), ['access_hash']);
  const noCtor = at('messages.getHistory\n{ "peer": { | } }');
  assert.deepEqual(labels(noCtor.items), ['_']);
  assert.equal(noCtor.items[0]!.insertText, '"_": ');
  assert.match(noCtor.items[0]!.documentation!, /inputPeerSelf/);
});

test('"_" values: the constructors valid for the expected type at that path', () => {
  const inString = at('users.getUsers\n{ "id": [{ "_": "inputU|" }] }');
  assert.deepEqual(labels(inString.items), ['inputUserEmpty', 'inputUserSelf', 'inputUser', 'inputUserFromMessage']);
  assert.equal(inString.items[1]!.kind, 'constructor');
  assert.equal(inString.items[1]!.detail, 'inputUserSelf#f7c1b13f = InputUser');
  assert.equal(inString.items[1]!.insertText, 'inputUserSelf');
  assert.equal(replaced(inString.text, inString.items[1]!), 'inputU');
  const afterColon = at('messages.getHistory\n{ "peer": { "_": | } }');
  assert.ok(labels(afterColon.items).includes('inputPeerSelf'));
  assert.ok(!labels(afterColon.items).includes('inputUserSelf'));
  assert.equal(afterColon.items.find((i) => i.label === 'inputPeerSelf')!.insertText, '"inputPeerSelf"');
  // deeper: a field of a constructor inside a method param
  const deep = at('messages.sendMedia\n{ "media": { "_": "inputMediaDocument", "id": { "_": "|" } } }');
  assert.deepEqual(labels(deep.items), ['inputDocumentEmpty', 'inputDocument']);
});

test('value slots and array items of a boxed type: whole { "_": … } objects', () => {
  const slot = at('messages.getHistory\n{ "peer": | }');
  const self = slot.items.find((i) => i.label === 'inputPeerSelf')!;
  assert.equal(self.insertText, '{ "_": "inputPeerSelf" }');
  assert.deepEqual(self.range, { start: slot.text.indexOf('"peer": ') + 8, end: slot.text.indexOf('"peer": ') + 8 });
  const item = at('users.getUsers\n{ "id": [ {"_":"inputUserSelf"}, | ] }');
  assert.deepEqual(labels(item.items), ['inputUserEmpty', 'inputUserSelf', 'inputUser', 'inputUserFromMessage']);
  assert.deepEqual(at('messages.getHistory\n{ "limit": | }').items, [], 'an int slot has no constructors');
});

test('variables after {{: file variables, earlier assignments, known names; `response` and its fields in assignments', () => {
  const text = '@peer = {"_":"inputPeerSelf"}\nusers.getUsers\n{"id":[]}\n@me = {{response[0].id}}\n###\nusers.getUsers\n{ "id": [{{|}] }\n@later = 1';
  const v = at(text, ['envVar']);
  assert.deepEqual(labels(v.items).sort(), ['envVar', 'me', 'peer']);
  const me = v.items.find((i) => i.label === 'me')!;
  assert.equal(me.kind, 'variable');
  assert.equal(me.detail, 'from request #1 (users.getUsers): {{response[0].id}}');
  assert.equal(me.insertText, 'me}}');
  assert.equal(v.items.find((i) => i.label === 'peer')!.detail, '{"_":"inputPeerSelf"}');
  // a prefix filters; an existing `}}` is not doubled
  const p = at('@peer = 1\n@pear = 2\nusers.getUsers\n{ "id": [{{pe|}}] }');
  assert.deepEqual(labels(p.items).sort(), ['pear', 'peer']);
  assert.equal(p.items[0]!.insertText, p.items[0]!.label);
  assert.equal(replaced(p.text, p.items[0]!), 'pe');
  // in an assignment: `response` first, then its fields by the method's result type
  const a = at('users.getFullUser\n{"id":{"_":"inputUserSelf"}}\n@x = {{|}}');
  assert.equal(a.items[0]!.label, 'response');
  assert.equal(a.items[0]!.detail, 'the result of users.getFullUser: users.UserFull');
  const fields = at('users.getFullUser\n{"id":{"_":"inputUserSelf"}}\n@x = {{response.|}}');
  assert.deepEqual(labels(fields.items), ['full_user', 'chats', 'users']);
  const deeper = at('users.getFullUser\n{"id":{"_":"inputUserSelf"}}\n@x = {{response.users[0].fi|}}');
  const firstName = deeper.items.find((i) => i.label === 'first_name')!;
  assert.equal(firstName.detail, 'first_name: flags.1?string');
  assert.equal(replaced(deeper.text, firstName), 'fi');
});
