// Hover: a method's TL signature (with the id of the bundled schema), doc and documented errors; a parameter's
// type and doc; a constructor's signature; a variable's value; a response path's type; tlSignature itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoverAt, tlSignature } from '../../src/reqfile';
import { apiSchema, fullSchema } from '../../src/tl/bundled';
import { computeTlId } from '../../src/tl/parser';

const schema = apiSchema();
const text = `@peer = {"_":"inputPeerSelf"}
### me
users.getUsers
{ "id": [{ "_": "inputUserSelf" }] }
@me = {{response[0].id}}
###
@dc 2
users.getFullUser
{ "id": { "_": "inputUser", "user_id": "{{me}}", "access_hash": "{{hash}}" } }
###
messages.getHistory
{ "peer": {{peer}}, "limit": 1 }`;
const hover = (needle: string, delta = 1, opts?: { variables?: Record<string, string> }) => {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, needle);
  return hoverAt(text, offset + delta, schema, opts);
};

test('method name: signature with the bundled id, doc, parameters and documented errors', () => {
  const h = hover('users.getUsers', 3)!;
  assert.equal(text.slice(h.range.start, h.range.end), 'users.getUsers');
  assert.ok(h.markdown.startsWith('```tl\nusers.getUsers#0d91a548 id:Vector<InputUser> = Vector<User>\n```'), h.markdown);
  assert.match(h.markdown, /Returns basic user info according to their identifiers\./);
  assert.match(h.markdown, /- `id`: `Vector<InputUser>` — List of user identifiers/);
  assert.match(h.markdown, /\*\*Errors\*\*/);
  const entry = schema.methodByName('users.getUsers')!;
  for (const t of entry.throws!) assert.ok(h.markdown.includes(`- ${t.code} \`${t.name}\``), t.name);
  assert.match(h.markdown, /- 400 `PEER_ID_INVALID` — The provided peer id is invalid\./);
  const full = hover('users.getFullUser', 2)!;
  assert.match(full.markdown, /users\.getFullUser#b60f5918 id:InputUser = users\.UserFull/);
  assert.match(full.markdown, /400 `USER_ID_INVALID`/);
});

test('parameter keys: `name: type`, doc and owner (method or constructor, with the flag when optional)', () => {
  const id = hover('"id": [', 2)!;
  assert.equal(text.slice(id.range.start, id.range.end), '"id"');
  assert.match(id.markdown, /```tl\nid: Vector<InputUser>\n```/);
  assert.match(id.markdown, /List of user identifiers/);
  assert.match(id.markdown, /parameter of `users\.getUsers`/);
  const userId = hover('"user_id"', 3)!;
  assert.match(userId.markdown, /user_id: long/);
  assert.match(userId.markdown, /field of `inputUser`/);
  const t = 'messages.sendMessage\n{ "silent": true }';
  const silent = hoverAt(t, t.indexOf('silent') + 1, schema)!;
  assert.match(silent.markdown, /silent: flags\.5\?true/);
  assert.match(silent.markdown, /optional: bit 5 of flags/);
});

test('constructor names in "_": their signature and doc', () => {
  const h = hover('inputUserSelf', 4)!;
  assert.equal(text.slice(h.range.start, h.range.end), '"inputUserSelf"');
  assert.match(h.markdown, /^```tl\ninputUserSelf#f7c1b13f = InputUser\n```\n\nDefines the current user\./);
  const u = hover('"inputUser"', 3)!;
  assert.match(u.markdown, /inputUser#f21158c6 user_id:long access_hash:long = InputUser/);
});

test('variables: file variable value, the assignment that sets it, environment values, undefined ones', () => {
  const peer = hover('{{peer}}', 3)!;
  assert.equal(text.slice(peer.range.start, peer.range.end), '{{peer}}');
  assert.match(peer.markdown, /`@peer` \(file variable\)/);
  assert.match(peer.markdown, /\{"_":"inputPeerSelf"\}/);
  const me = hover('{{me}}', 3)!;
  assert.match(me.markdown, /`@me` = `\{\{response\[0\]\.id\}\}`, assigned after request #1 \(`users\.getUsers`\) succeeds/);
  const env = hover('{{hash}}', 3, { variables: { hash: '12345' } })!;
  assert.match(env.markdown, /`hash` \(environment\)/);
  assert.match(env.markdown, /12345/);
  assert.match(hover('{{hash}}', 3)!.markdown, /`hash` is not defined here/);
  // a response path in an assignment: its type from the method's result
  const path = hover('{{response[0].id}}', 5)!;
  assert.equal(path.markdown, '`response[0].id`: `long` — from the result of `users.getUsers`');
  // the name in a definition line
  const def = hover('@peer', 2)!;
  assert.equal(text.slice(def.range.start, def.range.end), '@peer');
  assert.match(def.markdown, /`@peer` \(file variable\)/);
  const assignment = hover('@me =', 1)!;
  assert.equal(text.slice(assignment.range.start, assignment.range.end), '@me');
  assert.match(assignment.markdown, /assigned after request #1 \(`users\.getUsers`\) succeeds/);
});

test('directives and nothing to say', () => {
  assert.match(hover('@dc 2', 1)!.markdown, /run this request on DC N/);
  assert.equal(hover('"limit": 1', 9), undefined, 'a plain value');
  assert.equal(hoverAt('### title\n', 3, schema), undefined);
});

test('tlSignature: ids as 8 hex digits, flags, generics; ids agree with the CRC32 of the line', () => {
  const s = fullSchema();
  assert.equal(tlSignature(s.methodByName('invokeWithLayer')!), 'invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X');
  assert.equal(tlSignature(s.constructorByName('inputPeerSelf')!), 'inputPeerSelf#7da07ec9 = InputPeer');
  assert.match(
    tlSignature(s.methodByName('messages.sendMessage')!),
    /^messages\.sendMessage#[0-9a-f]{8} flags:# no_webpage:flags\.1\?true silent:flags\.5\?true/,
  );
  for (const name of ['users.getUsers', 'help.getNearestDc', 'req_pq_multi']) {
    const e = s.methodByName(name)!;
    const line = tlSignature(e);
    assert.equal(computeTlId(line.replace(/#[0-9a-f]{8}/, '')), e.id, line);
  }
});
