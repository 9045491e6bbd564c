import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTlFile, tlDefinitionAt, tlHoverAt } from '../../src/tl/tl-file';
import type { TlTextRange } from '../../src/tl/tl-file';
import { parseTlSchema } from '../../src/tl/parser';
import { apiSchema } from '../../src/tl/bundled';
import { MTPROTO_SCHEMA_TL } from '../../src/tl/mtproto-schema';
import type { TlEntry } from '../../src/tl/types';

// GramJS's layer-198 api.tl (module.exports = string)
const gramjsApiTl: string = require('telegram/tl/apiTl.js');

/** Range of the `nth` occurrence of `needle` in `text`. */
function rangeOf(text: string, needle: string, nth = 0): TlTextRange {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `"${needle}" #${nth} not in text`);
  }
  return { start: at, end: at + needle.length };
}

/** A schema entry written back as a TL line (written id included). */
function tlLine(e: TlEntry): string {
  const typeParams = [...new Set(e.params.filter((p) => p.type.startsWith('!')).map((p) => `{${p.type.slice(1)}:Type}`))];
  const params = e.params.map((p) => `${p.name}:${p.flag ? `${p.flag.field}.${p.flag.bit}?` : ''}${p.type}`);
  return [`${e.name}#${e.id.toString(16).padStart(8, '0')}`, ...typeParams, ...params, '=', `${e.type};`].join(' ');
}

const SAMPLE = `// LAYER 227
// @description A peer: a user
// with its access hash
inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;
inputPeerSelf#7da07ec9 = InputPeer;

inputUserSelf#f7c1b13f = InputUser;
inputUser#f21158c6 user_id:long access_hash:long = InputUser;
thing flags:# self:flags.0?true peer:flags.1?InputPeer bare:%InputUser one:inputUser ids:vector<long> = Thing;
---functions---
users.getUsers#0d91a548 id:Vector<InputUser> = Vector<User>;
invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;
`;

test('ids of bundled-schema entries written as TL are the computed ids (message with flags, users.getUsers, inputPeerUser)', () => {
  const api = apiSchema();
  // mtcute's own method and two legacy constructors it keeps without the params they were hashed with
  const notFromTelegram = new Set(['mtcute.customMethod', 'inputPeerPhotoFileLocationLegacy', 'inputStickerSetThumbLegacy']);
  const entries = api.entries.filter((e) => !notFromTelegram.has(e.name));
  const text = [
    ...entries.filter((e) => e.kind === 'constructor').map(tlLine),
    '---functions---',
    ...entries.filter((e) => e.kind === 'method').map(tlLine),
  ].join('\n');
  const analysis = analyzeTlFile(text);
  assert.equal(analysis.entries.length, entries.length);
  assert.deepEqual(
    analysis.diagnostics.filter((d) => d.code === 'id-mismatch'),
    [],
  );
  for (const [kind, name] of [
    ['method', 'users.getUsers'],
    ['constructor', 'inputPeerUser'],
    ['constructor', 'message'],
    ['constructor', 'user'],
  ] as const) {
    const expected = kind === 'method' ? api.methodByName(name)! : api.constructorByName(name)!;
    const found = analysis.entries.find((e) => e.kind === kind && e.name === name)!;
    assert.equal(found.computedId, expected.id, name);
    assert.equal(found.writtenId, expected.id, name);
  }
  assert.equal(analysis.entries.find((e) => e.name === 'users.getUsers')!.computedId, 0x0d91a548);
  const message = analysis.entries.find((e) => e.kind === 'constructor' && e.name === 'message')!;
  assert.ok(message.params.some((p) => p.flag?.field === 'flags2'));
  assert.ok(!message.normalized.includes('?true'), 'flags.N?true params are not hashed');
});

test('entries: exact ranges, written and computed ids, comments, layer', () => {
  const a = analyzeTlFile(SAMPLE);
  assert.equal(a.layer, 227);
  assert.deepEqual(
    a.entries.map((e) => `${e.kind[0]}:${e.name}`),
    ['c:inputPeerUser', 'c:inputPeerSelf', 'c:inputUserSelf', 'c:inputUser', 'c:thing', 'm:users.getUsers', 'm:invokeWithLayer'],
  );
  const peerUser = a.entries[0]!;
  assert.deepEqual(peerUser.nameRange, rangeOf(SAMPLE, 'inputPeerUser'));
  assert.deepEqual(peerUser.writtenIdRange, rangeOf(SAMPLE, '#dde8a54c'));
  assert.deepEqual(peerUser.lineRange, rangeOf(SAMPLE, 'inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;'));
  assert.equal(peerUser.writtenId, 0xdde8a54c);
  assert.equal(peerUser.computedId, 0xdde8a54c);
  assert.equal(peerUser.normalized, 'inputPeerUser user_id:long access_hash:long = InputPeer');
  assert.equal(peerUser.resultType, 'InputPeer');
  assert.deepEqual(peerUser.resultTypeRange, rangeOf(SAMPLE, 'InputPeer', 0));
  assert.equal(peerUser.comment, '@description A peer: a user\nwith its access hash');
  assert.equal(a.entries[1]!.comment, undefined);
  assert.deepEqual(peerUser.params[1], {
    name: 'access_hash',
    type: 'long',
    nameRange: rangeOf(SAMPLE, 'access_hash'),
    typeRange: { start: rangeOf(SAMPLE, 'access_hash').end + 1, end: rangeOf(SAMPLE, 'access_hash').end + 5 },
  });

  const thing = a.entries.find((e) => e.name === 'thing')!;
  assert.equal(thing.writtenId, undefined);
  assert.equal(thing.normalized, 'thing flags:# peer:flags.1?InputPeer bare:%InputUser one:inputUser ids:vector long = Thing');
  assert.equal(thing.computedId, parseTlSchema(SAMPLE).entries.find((e) => e.name === 'thing')!.id, 'same id as the parser');
  const peer = thing.params.find((p) => p.name === 'peer')!;
  assert.deepEqual(peer.flag, { field: 'flags', bit: 1, range: rangeOf(SAMPLE, 'flags.1?') });
  assert.equal(peer.type, 'InputPeer');
  assert.deepEqual(peer.typeRange, { start: rangeOf(SAMPLE, 'flags.1?').end, end: rangeOf(SAMPLE, 'flags.1?').end + 'InputPeer'.length });

  const getUsers = a.entries.find((e) => e.name === 'users.getUsers')!;
  assert.equal(getUsers.kind, 'method');
  assert.equal(getUsers.computedId, 0x0d91a548);
  assert.deepEqual(getUsers.params[0]!.typeRange, rangeOf(SAMPLE, 'Vector<InputUser>'));
  assert.deepEqual(getUsers.resultTypeRange, rangeOf(SAMPLE, 'Vector<User>'));
  const invoke = a.entries.find((e) => e.name === 'invokeWithLayer')!;
  assert.equal(invoke.computedId, 0xda9b0d0d);
  assert.deepEqual(invoke.typeParams, [{ name: 'X', range: rangeOf(SAMPLE, '{X:Type}') }]);
  assert.deepEqual(
    invoke.params.map((p) => p.type),
    ['int', '!X'],
  );

  // User is not defined here: one unknown-type warning, gone when the bundled schema's types are known
  assert.deepEqual(a.diagnostics, [
    {
      range: { start: rangeOf(SAMPLE, 'Vector<User>').start + 7, end: rangeOf(SAMPLE, 'Vector<User>').end - 1 },
      severity: 'warning',
      message: 'unknown type "User": not defined in this file, not a builtin',
      code: 'unknown-type',
    },
  ]);
  const knownTypes = apiSchema()
    .entries.filter((e) => e.kind === 'constructor')
    .map((e) => e.type);
  assert.deepEqual(analyzeTlFile(SAMPLE, { knownTypes }).diagnostics, []);
});

test('diagnostics: id mismatch, syntax, unknown types, duplicates, bad flag field', () => {
  const text = [
    'inputPeerSelf#12345678 = InputPeer;',
    'broken#1 a = B;',
    'inputPeerSelf#7da07ec9 = InputPeer;',
    'foo#00000001 x:Bar y:%Baz z:qux w:flags.0?int = Foo;',
    '---functions---',
    'inputPeerSelf#7da07ec9 = InputPeer;',
    'f = Nothing;',
    'unterminated x:int = Foo',
  ].join('\n');
  const a = analyzeTlFile(text);
  const byCode = (code: string) => a.diagnostics.filter((d) => d.code === code);
  assert.deepEqual(byCode('id-mismatch')[0], {
    range: rangeOf(text, '#12345678'),
    severity: 'error',
    message: 'constructor id #12345678 does not match the computed #7da07ec9 (CRC32 of "inputPeerSelf = InputPeer")',
    code: 'id-mismatch',
  });
  assert.equal(byCode('id-mismatch').length, 2, 'foo#00000001 too');
  assert.deepEqual(
    byCode('syntax').map((d) => [text.slice(d.range.start, d.range.end), d.severity]),
    [
      ['a', 'error'], // bad parameter
      ['flags', 'error'], // no `flags:#` before it
      ['unterminated x:int = Foo', 'error'],
    ],
  );
  assert.match(byCode('syntax')[0]!.message, /bad parameter "a"/);
  assert.deepEqual(
    byCode('unknown-type').map((d) => text.slice(d.range.start, d.range.end)),
    ['Bar', '%Baz', 'qux', 'Nothing'],
  );
  assert.match(byCode('unknown-type')[2]!.message, /unknown constructor "qux"/);
  const dup = byCode('duplicate');
  assert.equal(dup.length, 1, 'same name in another section is no duplicate');
  assert.deepEqual(dup[0]!.range, rangeOf(text, 'inputPeerSelf', 1));
  assert.equal(dup[0]!.severity, 'warning');
  assert.match(dup[0]!.message, /already defined at line 1/);
  assert.ok(
    a.diagnostics.every((d, i) => i === 0 || a.diagnostics[i - 1]!.range.start <= d.range.start),
    'sorted',
  );
});

test('comments, multi-line declarations, CRLF and builtin lines keep exact ranges', () => {
  const text = [
    'int ? = Int;',
    'vector {t:Type} # [ t ] = Vector t;',
    '/* a block',
    '   comment */ multi id:Vector<InputUser> // trailing',
    '  = Vector<User>; a#0 = A; /* inline */ b x:Int = B;',
    '---functions---',
    'users.getUsers id:Vector<InputUser> = Vector<User>;',
  ].join('\r\n');
  const a = analyzeTlFile(text, { knownTypes: ['InputUser', 'User'] });
  assert.deepEqual(
    a.entries.map((e) => e.name),
    ['multi', 'a', 'b', 'users.getUsers'],
  );
  const multi = a.entries[0]!;
  assert.deepEqual(multi.nameRange, rangeOf(text, 'multi'));
  assert.deepEqual(multi.resultTypeRange, rangeOf(text, 'Vector<User>'));
  assert.deepEqual(multi.lineRange, { start: rangeOf(text, 'multi').start, end: rangeOf(text, 'Vector<User>;').end });
  assert.equal(multi.normalized, 'multi id:Vector InputUser = Vector User');
  assert.deepEqual(
    a.entries.map((e) => e.computedId),
    parseTlSchema(text).entries.map((e) => (e.name === 'a' ? a.entries[1]!.computedId : e.id)),
  );
  assert.deepEqual(a.entries[2]!.params[0]!.typeRange, rangeOf(text, 'Int', 1));
  assert.equal(a.entries[3]!.computedId, 0x0d91a548);
  // only `a#0` is wrong; `Int` comes from the builtin line
  assert.deepEqual(
    a.diagnostics.map((d) => `${d.code} ${text.slice(d.range.start, d.range.end)}`),
    ['id-mismatch #0'],
  );
  assert.deepEqual(
    analyzeTlFile('a = A;\n---functions---\nb = A').diagnostics.map((d) => d.message),
    ['missing ";" at end of declaration'],
  );
  assert.match(analyzeTlFile('a = A\n---functions---\n').diagnostics[0]!.message, /before section marker/);
});

test('hover: computed id, hashed line and written-id check on name and #id; constructors on a type', () => {
  const a = analyzeTlFile(SAMPLE);
  const onName = tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, 'users.getUsers').start + 3)!;
  assert.deepEqual(onName.range, rangeOf(SAMPLE, 'users.getUsers#0d91a548'));
  assert.match(onName.markdown, /\*\*method\*\* `users\.getUsers` → `Vector<User>`/);
  assert.match(onName.markdown, /`#0d91a548`/);
  assert.ok(onName.markdown.includes('users.getUsers id:Vector InputUser = Vector User'), 'the hashed line');
  assert.match(onName.markdown, /Written id `#0d91a548` matches/);
  const onId = tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, '#dde8a54c').start + 4)!;
  assert.match(onId.markdown, /inputPeerUser user_id:long access_hash:long = InputPeer/);
  assert.match(onId.markdown, /@description A peer/);
  const noId = tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, 'thing').start)!;
  assert.doesNotMatch(noId.markdown, /Written id/);

  const wrong = 'inputPeerSelf#12345678 = InputPeer;';
  assert.match(tlHoverAt(analyzeTlFile(wrong), wrong, 0)!.markdown, /does not match\*\* the computed `#7da07ec9`/);

  const onType = tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, 'Vector<InputUser>').start + 9)!;
  assert.deepEqual(onType.range, { start: rangeOf(SAMPLE, 'Vector<InputUser>').start + 7, end: rangeOf(SAMPLE, 'Vector<InputUser>').end - 1 });
  assert.match(onType.markdown, /\*\*type\*\* `InputUser`: 2 constructors/);
  assert.match(onType.markdown, /`inputUserSelf#f7c1b13f`/);
  assert.match(onType.markdown, /`inputUser#f21158c6`/);
  assert.match(tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, 'layer:int').start + 7)!.markdown, /builtin type\*\* `int`/);
  assert.match(tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, 'Vector<User>').start + 8)!.markdown, /unknown type/);
  assert.match(tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, 'flags.1?').start + 1)!.markdown, /bit 1 of `flags`: `peer`/);
  assert.equal(tlHoverAt(a, SAMPLE, rangeOf(SAMPLE, '---functions---').start + 3), undefined);
});

test('go to definition: boxed types (also in Vector<…> and flags.N?), %Type, constructor names, type parameters, flag fields', () => {
  const a = analyzeTlFile(SAMPLE);
  const inputUsers = [rangeOf(SAMPLE, 'inputUserSelf'), rangeOf(SAMPLE, 'inputUser#').start].map((r) =>
    typeof r === 'number' ? { start: r, end: r + 'inputUser'.length } : r,
  );
  const at = (needle: string, nth = 0, delta = 0) => tlDefinitionAt(a, SAMPLE, rangeOf(SAMPLE, needle, nth).start + delta);
  assert.deepEqual(at('Vector<InputUser>', 0, 'Vector<'.length + 2), inputUsers);
  assert.deepEqual(at('%InputUser', 0, 0), inputUsers);
  assert.deepEqual(at('%InputUser', 0, 4), inputUsers);
  assert.deepEqual(at('one:inputUser', 0, 'one:'.length), [{ start: rangeOf(SAMPLE, 'inputUser#').start, end: rangeOf(SAMPLE, 'inputUser#').end - 1 }]);
  const inputPeers = [rangeOf(SAMPLE, 'inputPeerUser'), rangeOf(SAMPLE, 'inputPeerSelf')];
  assert.deepEqual(at('flags.1?InputPeer', 0, 'flags.1?'.length + 1), inputPeers);
  assert.deepEqual(at('= InputPeer;', 0, 3), inputPeers, 'a constructor result type');
  // at the end of the word still counts (cursor right after it)
  assert.deepEqual(at('InputUser> =', 0, 'InputUser'.length), inputUsers);
  assert.deepEqual(at('query:!X', 0, 'query:!'.length), [rangeOf(SAMPLE, '{X:Type}')]);
  assert.deepEqual(
    at('flags.0?true', 0, 2),
    [rangeOf(SAMPLE, 'flags:#').start].map((s) => ({ start: s, end: s + 5 })),
  );
  assert.deepEqual(at('Vector<User>', 0, 8), [], 'not defined in the file');
  assert.deepEqual(at('user_id:long', 0, 9), [], 'builtin');
  assert.deepEqual(tlDefinitionAt(a, SAMPLE, rangeOf(SAMPLE, 'user_id').start), [], 'a parameter name is no type reference');
});

test("the MTProto service schema: msg_container's historical id is accepted, every other id is the computed one", () => {
  const a = analyzeTlFile(MTPROTO_SCHEMA_TL);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.code !== 'unknown-type'),
    [],
  );
  const container = a.entries.find((e) => e.name === 'msg_container')!;
  assert.equal(container.writtenId, 0x73f1f8dc);
  assert.equal(container.equivalentNormalized, 'msg_container messages:vector message = MessageContainer');
  assert.match(tlHoverAt(a, MTPROTO_SCHEMA_TL, container.nameRange.start)!.markdown, /equivalent spelling/);
  for (const e of a.entries) if (e.name !== 'msg_container') assert.equal(e.writtenId ?? e.computedId, e.computedId, e.name);
});

test('GramJS api.tl (layer 198, ~2000 entries): no diagnostics, same ids as the parser, under 1 s', () => {
  const started = performance.now();
  const a = analyzeTlFile(gramjsApiTl);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `${elapsed.toFixed(0)} ms`);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.code === 'id-mismatch'),
    [],
  );
  assert.deepEqual(a.diagnostics, []);
  const parsed = parseTlSchema(gramjsApiTl).entries;
  assert.ok(parsed.length > 1500);
  assert.deepEqual(
    a.entries.map((e) => `${e.name}#${e.writtenId ?? e.computedId}`),
    parsed.map((e) => `${e.name}#${e.id}`),
  );
  // hover and definition answer at once on a big file
  const offset = gramjsApiTl.indexOf('id:Vector<InputUser> = Vector<User>') + 'id:Vector<'.length;
  assert.ok(tlDefinitionAt(a, gramjsApiTl, offset).length >= 3);
  assert.match(tlHoverAt(a, gramjsApiTl, offset)!.markdown, /inputUserSelf#f7c1b13f/);
});
