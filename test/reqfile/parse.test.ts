// The .mtproto parser: blocks, titles, directives, bodies, variables and assignments, CRLF, comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestFile } from '../../src/reqfile';

const slice = (text: string, r: { start: number; end: number }): string => text.slice(r.start, r.end);

test('the example of the format: file variables, titles, directives, bodies and assignments', () => {
  const text = [
    '# comment lines start with # or //',
    '@peer = {"_":"inputPeerSelf"}',
    '@limit = 5',
    '',
    '### Get my user',
    '@dc 2',
    'users.getUsers',
    '{ "id": [{ "_": "inputUserSelf" }] }',
    '@me = {{response[0].id}}',
    '',
    '###',
    'messages.getHistory',
    '{ "peer": {{peer}}, "limit": {{limit}},',
    '  "hash": "0" }',
    '',
  ].join('\n');
  const f = parseRequestFile(text);
  assert.deepEqual(f.diagnostics, []);
  assert.deepEqual(
    f.variables.map((v) => [v.name, v.value, v.kind, slice(text, v.nameRange), slice(text, v.valueRange), slice(text, v.range)]),
    [
      ['peer', '{"_":"inputPeerSelf"}', 'file', 'peer', '{"_":"inputPeerSelf"}', '@peer = {"_":"inputPeerSelf"}'],
      ['limit', '5', 'file', 'limit', '5', '@limit = 5'],
    ],
  );
  assert.equal(f.requests.length, 2);
  const [a, b] = f.requests as [(typeof f.requests)[0], (typeof f.requests)[0]];
  assert.equal(a.index, 0);
  assert.equal(a.title, 'Get my user');
  assert.equal(a.dcId, 2);
  assert.equal(a.method, 'users.getUsers');
  assert.equal(slice(text, a.methodRange), 'users.getUsers');
  assert.equal(a.headerLine, 6);
  assert.equal(a.bodyText, '{ "id": [{ "_": "inputUserSelf" }] }');
  assert.equal(slice(text, a.bodyRange), a.bodyText);
  assert.equal(slice(text, a.range), '### Get my user\n@dc 2\nusers.getUsers\n{ "id": [{ "_": "inputUserSelf" }] }\n@me = {{response[0].id}}');
  assert.deepEqual(
    a.assignments.map((v) => [v.name, v.value, v.kind]),
    [['me', '{{response[0].id}}', 'response']],
  );
  assert.equal(b.index, 1);
  assert.equal(b.title, undefined);
  assert.equal(b.dcId, undefined);
  assert.equal(b.headerLine, 11);
  assert.equal(b.bodyText, '{ "peer": {{peer}}, "limit": {{limit}},\n  "hash": "0" }');
  assert.deepEqual(b.assignments, []);
});

test('a file may start directly with a request; an empty body; a body on the method line', () => {
  const text = 'help.getNearestDc\n###\nusers.getUsers {"id": []}\n###   Config  \n@profile sandbox\nhelp.getConfig\n\n';
  const f = parseRequestFile(text);
  assert.deepEqual(f.diagnostics, []);
  assert.deepEqual(
    f.requests.map((r) => [r.method, r.bodyText, r.title, r.profile, r.headerLine]),
    [
      ['help.getNearestDc', '', undefined, undefined, 0],
      ['users.getUsers', '{"id": []}', undefined, undefined, 2],
      ['help.getConfig', '', 'Config', 'sandbox', 5],
    ],
  );
  const first = f.requests[0]!;
  assert.deepEqual(first.range, { start: 0, end: 'help.getNearestDc'.length });
  assert.deepEqual(first.bodyRange, { start: first.methodRange.end, end: first.methodRange.end }, 'an empty body sits right after the method name');
  const inline = f.requests[1]!;
  assert.equal(slice(text, inline.bodyRange), '{"id": []}');
});

test('CRLF line endings: same requests, offsets into the CRLF text', () => {
  const lf = '@x = 1\n### T\n@dc 3\nusers.getUsers\n{\n  "id": []\n}\n@me = {{response}}\n';
  const crlf = lf.replace(/\n/g, '\r\n');
  const f = parseRequestFile(crlf);
  assert.deepEqual(f.diagnostics, []);
  const r = f.requests[0]!;
  assert.equal(r.title, 'T');
  assert.equal(r.dcId, 3);
  assert.equal(slice(crlf, r.methodRange), 'users.getUsers');
  assert.equal(r.headerLine, 3);
  assert.equal(r.bodyText, '{\r\n  "id": []\r\n}');
  assert.equal(slice(crlf, r.bodyRange), r.bodyText);
  assert.equal(r.assignments[0]!.value, '{{response}}');
  assert.equal(slice(crlf, r.assignments[0]!.nameRange), 'me');
  assert.equal(f.variables[0]!.value, '1', 'no \\r in values');
});

test('comments: # and // lines (also inside a body, blanked so offsets stay), while ### separates', () => {
  const text = '// top\n# also a comment\n## still a comment\nusers.getUsers\n{\n  // the ids\n  # more\n  "id": []\n}\n#### Next\nhelp.getConfig';
  const f = parseRequestFile(text);
  assert.deepEqual(f.diagnostics, []);
  assert.equal(f.requests.length, 2);
  const r = f.requests[0]!;
  assert.equal(r.bodyText, `{\n${' '.repeat('  // the ids'.length)}\n${' '.repeat('  # more'.length)}\n  "id": []\n}`);
  assert.equal(r.bodyText.length, r.bodyRange.end - r.bodyRange.start);
  assert.deepEqual(JSON.parse(r.bodyText), { id: [] });
  assert.equal(f.requests[1]!.title, 'Next');
});

test('variables between requests are file variables; after a body they are assignments (text around a path too)', () => {
  const text = 'users.getUsers\n{"id":[]}\n@a = {{response}}\n@b = id-{{response[0].id}}!\n###\n@c = 3\nhelp.getConfig\n@d = x';
  const f = parseRequestFile(text);
  assert.deepEqual(f.diagnostics, []);
  assert.deepEqual(
    f.variables.map((v) => v.name),
    ['c'],
  );
  assert.deepEqual(
    f.requests[0]!.assignments.map((v) => [v.name, v.value]),
    [
      ['a', '{{response}}'],
      ['b', 'id-{{response[0].id}}!'],
    ],
  );
  assert.deepEqual(
    f.requests[1]!.assignments.map((v) => [v.name, v.value]),
    [['d', 'x']],
  );
});

test('syntax diagnostics: bad and misplaced directives, a body without a method, text after the assignments, duplicates', () => {
  const text = [
    '@dc two', // 0
    '@timeout 5', // 1
    'users.getUsers', // 2
    '{"id":[]}', // 3
    '@me = {{response[0].id}}', // 4
    '@dc 2', // 5
    'help.getConfig', // 6
    '###', // 7
    '{"id": []}', // 8
    '###', // 9
    '@dc 4', // 10
    '###', // 11
    '@v = 1', // 12
    '@v = 2', // 13
    '@dc 70000', // 14
    '@dc 1', // 15
    '@dc 2', // 16
    'help.getConfig', // 17
  ].join('\n');
  const f = parseRequestFile(text);
  const got = f.diagnostics.map((d) => [d.code, d.severity, slice(text, d.range)]);
  assert.deepEqual(got, [
    ['bad-directive', 'error', 'two'],
    ['bad-directive', 'error', '@timeout'],
    ['bad-directive', 'error', '@dc 2'],
    ['unexpected-text', 'error', 'help.getConfig'],
    ['missing-method', 'error', '{"id": []}'],
    ['missing-method', 'error', '@dc 4'],
    ['duplicate-variable', 'warning', 'v'],
    ['bad-directive', 'error', '70000'],
    ['bad-directive', 'error', '@dc 2'],
  ]);
  assert.match(f.diagnostics[2]!.message, /directives .* go before the method line/);
  assert.match(f.diagnostics[3]!.message, /start a new request with a `###` line/);
  assert.match(f.diagnostics[8]!.message, /given twice/);
  assert.equal(f.variables.find((v) => v.name === 'v')!.value, '2', 'the last definition wins');
  assert.deepEqual(
    f.requests.map((r) => [r.method, r.dcId]),
    [
      ['users.getUsers', undefined],
      ['help.getConfig', 2],
    ],
  );
});

test('an empty file, only comments, only variables: no requests, no diagnostics', () => {
  for (const text of ['', '\n\n', '# c\n// d\n', '@a = 1\n###\n\n###']) {
    const f = parseRequestFile(text);
    assert.deepEqual(f.requests, [], JSON.stringify(text));
    assert.deepEqual(f.diagnostics, [], JSON.stringify(text));
  }
});

test('a directive or assignment line holding U+2028/U+2029 is parsed, not a crash (the separators are characters of the line)', () => {
  const file = parseRequestFile('@dc 2\u2028\n@x = a\u2029b\nhelp.getConfig\n');
  assert.equal(file.requests.length, 1);
  assert.equal(file.variables.find((v) => v.name === 'x')?.value, 'a\u2029b');
});
