// The TextMate grammars of .tl and .mtproto files, tokenized with the engine VS Code uses (vscode-textmate +
// vscode-oniguruma), and the language configurations' JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INITIAL, Registry, parseRawGrammar } from 'vscode-textmate';
import type { IGrammar, StateStack } from 'vscode-textmate';
import { OnigScanner, OnigString, loadWASM } from 'vscode-oniguruma';

const root = join(__dirname, '..', '..');

/** A minimal source.json: enough JSON (objects, arrays, strings, numbers, constants) to nest the request body in. */
const JSON_STUB = JSON.stringify({
  scopeName: 'source.json',
  patterns: [{ include: '#value' }],
  repository: {
    value: { patterns: [{ include: '#object' }, { include: '#array' }, { include: '#string' }, { include: '#constant' }, { include: '#number' }] },
    object: {
      begin: '\\{',
      end: '\\}',
      name: 'meta.structure.dictionary.json',
      patterns: [
        { include: '#string' },
        { match: ':', name: 'punctuation.separator.dictionary.key-value.json' },
        { include: '#value' },
        { match: ',', name: 'punctuation.separator.dictionary.pair.json' },
      ],
    },
    array: {
      begin: '\\[',
      end: '\\]',
      name: 'meta.structure.array.json',
      patterns: [{ include: '#value' }, { match: ',', name: 'punctuation.separator.array.json' }],
    },
    string: { begin: '"', end: '"', name: 'string.quoted.double.json', patterns: [{ match: '\\\\.', name: 'constant.character.escape.json' }] },
    constant: { match: '\\b(?:true|false|null)\\b', name: 'constant.language.json' },
    number: { match: '-?\\d+(?:\\.\\d+)?', name: 'constant.numeric.json' },
  },
});
/** VS Code's own JSON grammar, present once `npm run test:e2e` has set up code-server. */
const VSCODE_JSON_GRAMMAR = join(root, '.cache/code-server/node_modules/code-server/lib/vscode/extensions/json/syntaxes/JSON.tmLanguage.json');

let wasmLoaded: Promise<void> | undefined;
function onigLib() {
  wasmLoaded ??= (() => {
    const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    return loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  })();
  return wasmLoaded.then(() => ({
    createOnigScanner: (patterns: string[]) => new OnigScanner(patterns),
    createOnigString: (s: string) => new OnigString(s),
  }));
}

async function loadGrammar(scopeName: string, json: 'stub' | 'none' | 'vscode' = 'stub'): Promise<IGrammar> {
  const registry = new Registry({
    onigLib: onigLib(),
    loadGrammar: async (scope) => {
      if (scope === 'source.tl') return parseRawGrammar(readFileSync(join(root, 'syntaxes/tl.tmLanguage.json'), 'utf8'), 'tl.tmLanguage.json');
      if (scope === 'source.mtproto') return parseRawGrammar(readFileSync(join(root, 'syntaxes/mtproto.tmLanguage.json'), 'utf8'), 'mtproto.tmLanguage.json');
      if (scope === 'source.json' && json === 'stub') return parseRawGrammar(JSON_STUB, 'json-stub.json');
      if (scope === 'source.json' && json === 'vscode') return parseRawGrammar(readFileSync(VSCODE_JSON_GRAMMAR, 'utf8'), VSCODE_JSON_GRAMMAR);
      return null;
    },
  });
  const grammar = await registry.loadGrammar(scopeName);
  assert.ok(grammar, scopeName);
  return grammar;
}

interface Token {
  line: number;
  text: string;
  scopes: string[];
}

function tokenize(grammar: IGrammar, text: string): Token[] {
  const tokens: Token[] = [];
  let state: StateStack = INITIAL;
  text.split('\n').forEach((line, lineIndex) => {
    const result = grammar.tokenizeLine(line, state);
    for (const t of result.tokens) tokens.push({ line: lineIndex, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    state = result.ruleStack;
  });
  return tokens;
}

/** Scopes of the `nth` token whose text is `text` (on `line` when given). */
function scopesOf(tokens: Token[], text: string, opts: { line?: number; nth?: number } = {}): string[] {
  const found = tokens.filter((t) => t.text === text && (opts.line === undefined || t.line === opts.line));
  const token = found[opts.nth ?? 0];
  assert.ok(
    token,
    `no token "${text}"${opts.line !== undefined ? ` on line ${opts.line}` : ''}; tokens: ${JSON.stringify(tokens.filter((t) => opts.line === undefined || t.line === opts.line).map((t) => t.text))}`,
  );
  return token.scopes;
}

function assertScope(tokens: Token[], text: string, scope: string, opts: { line?: number; nth?: number } = {}): void {
  const scopes = scopesOf(tokens, text, opts);
  assert.ok(scopes.includes(scope), `"${text}" has ${JSON.stringify(scopes)}, expected ${scope}`);
}

const TL_SAMPLE = `// LAYER 227
/* a block
   comment */
inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;
message#7600b9d3 flags:# out:flags.1?true id:int entities:flags.7?Vector<MessageEntity> bare:%Message = Message;
---functions---
invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;
users.getUsers#0d91a548 id:Vector<InputUser>
    = Vector<User>; // trailing`;

test('tl grammar: ids, names, parameters, builtin and schema types, flags, generics, sections, comments', async () => {
  const tokens = tokenize(await loadGrammar('source.tl'), TL_SAMPLE);
  assertScope(tokens, '//', 'comment.line.double-slash.tl', { line: 0 });
  assertScope(tokens, 'LAYER', 'keyword.other.layer.tl');
  assertScope(tokens, '227', 'constant.numeric.integer.layer.tl');
  assertScope(tokens, '   comment ', 'comment.block.tl');
  assertScope(tokens, 'inputPeerUser', 'entity.name.function.tl');
  assertScope(tokens, '#dde8a54c', 'constant.numeric.hex.id.tl');
  assertScope(tokens, 'user_id', 'variable.parameter.tl');
  assertScope(tokens, ':', 'punctuation.separator.key-value.tl', { line: 3 });
  assertScope(tokens, 'long', 'support.type.builtin.tl');
  assertScope(tokens, '=', 'punctuation.separator.result.tl', { line: 3 });
  assertScope(tokens, 'InputPeer', 'entity.name.type.tl');
  assertScope(tokens, ';', 'punctuation.terminator.declaration.tl', { line: 3 });
  assertScope(tokens, '#', 'support.type.builtin.nat.tl', { line: 4 });
  assertScope(tokens, 'flags', 'variable.parameter.tl', { line: 4 });
  assertScope(tokens, 'flags.', 'keyword.operator.flag.tl', { line: 4 });
  assertScope(tokens, '1', 'constant.numeric.integer.flag-bit.tl', { line: 4 });
  assertScope(tokens, '1', 'keyword.operator.flag.tl', { line: 4 });
  assertScope(tokens, '?', 'keyword.operator.flag.tl', { line: 4 });
  assertScope(tokens, 'true', 'support.type.builtin.tl', { line: 4 });
  assertScope(tokens, 'Vector', 'support.type.builtin.tl', { line: 4 });
  assertScope(tokens, 'MessageEntity', 'entity.name.type.tl');
  assertScope(tokens, '%', 'keyword.operator.bare.tl');
  assertScope(tokens, 'functions', 'keyword.control.section.tl');
  assertScope(tokens, 'X', 'entity.name.type.parameter.tl', { line: 6 });
  assertScope(tokens, 'Type', 'support.type.builtin.tl', { line: 6 });
  assertScope(tokens, '!', 'keyword.operator.serialized.tl');
  assertScope(tokens, 'users.getUsers', 'entity.name.function.tl');
  assertScope(tokens, '#0d91a548', 'constant.numeric.hex.id.tl');
  // the declaration goes on over the line break
  assertScope(tokens, 'User', 'entity.name.type.tl', { line: 8 });
  assertScope(tokens, 'User', 'meta.declaration.tl', { line: 8 });
  assertScope(tokens, '//', 'comment.line.double-slash.tl', { line: 8 });
  assert.ok(!scopesOf(tokens, '//', { line: 8 }).includes('meta.declaration.tl'), 'the comment is after the `;`');
});

const MTPROTO_SAMPLE = `# comment
// comment too
@peer = {"_":"inputPeerSelf"}
### Get my user
@dc 2
@profile sandbox
users.getUsers
{ "id": [{ "_": "inputUserSelf", "note": "for {{peer}}" }],
  "count": {{me}},
  "flag": true
}
@me = {{response[0].id}}
###
messages.getHistory {"peer": {{peer}}, "limit": 10}`;

async function checkMtprotoSample(json: 'stub' | 'none' | 'vscode'): Promise<Token[]> {
  const tokens = tokenize(await loadGrammar('source.mtproto', json), MTPROTO_SAMPLE);
  assertScope(tokens, ' comment', 'comment.line.number-sign.mtproto', { line: 0 });
  assertScope(tokens, '#', 'punctuation.definition.comment.mtproto', { line: 0 });
  assertScope(tokens, ' comment too', 'comment.line.double-slash.mtproto');
  assertScope(tokens, '@', 'punctuation.definition.variable.mtproto', { line: 2 });
  assertScope(tokens, 'peer', 'variable.other.definition.mtproto', { line: 2 });
  assertScope(tokens, '=', 'keyword.operator.assignment.mtproto', { line: 2 });
  assertScope(tokens, '###', 'punctuation.definition.heading.mtproto', { line: 3 });
  assertScope(tokens, '###', 'markup.heading.request.mtproto', { line: 3 });
  assertScope(tokens, 'Get my user', 'entity.name.section.request.mtproto');
  assertScope(tokens, 'dc', 'keyword.control.directive.dc.mtproto');
  assertScope(tokens, '@', 'keyword.control.directive.dc.mtproto', { line: 4 });
  assertScope(tokens, '2', 'constant.numeric.integer.dc.mtproto', { line: 4 });
  assertScope(tokens, 'profile', 'keyword.control.directive.profile.mtproto');
  assertScope(tokens, 'sandbox', 'string.unquoted.profile.mtproto');
  assertScope(tokens, 'users.getUsers', 'entity.name.function.method.mtproto');
  // {{…}} inside a JSON string nested in an object in an array, and as a bare value
  assertScope(tokens, 'peer', 'variable.other.mtproto', { line: 7 });
  assertScope(tokens, '{{', 'punctuation.definition.template-expression.begin.mtproto', { line: 7 });
  assertScope(tokens, 'me', 'variable.other.mtproto', { line: 8 });
  assertScope(tokens, 'me', 'meta.embedded.block.json.mtproto', { line: 8 });
  assertScope(tokens, 'me', 'variable.other.definition.mtproto', { line: 11 });
  assertScope(tokens, 'response[0].id', 'variable.other.mtproto', { line: 11 });
  // the body ended: the next `###` is a heading again, the next method a method
  assert.ok(!scopesOf(tokens, '###', { line: 12 }).includes('meta.embedded.block.json.mtproto'));
  assertScope(tokens, '###', 'markup.heading.request.mtproto', { line: 12 });
  assertScope(tokens, 'messages.getHistory', 'entity.name.function.method.mtproto');
  assert.ok(
    tokens.some((t) => t.line === 13 && t.text === 'peer' && t.scopes.includes('variable.other.mtproto')),
    'a bare {{peer}} in a one-line body',
  );
  assertScope(tokens, '}', 'meta.embedded.block.json.mtproto', { line: 10 });
  return tokens;
}

test('mtproto grammar with a source.json: separators, directives, variables (also inside JSON strings), method, body', async () => {
  const tokens = await checkMtprotoSample('stub');
  assertScope(tokens, 'peer', 'string.quoted.double.json', { line: 7 });
  assertScope(tokens, 'true', 'constant.language.json', { line: 9 });
  assertScope(tokens, '10', 'constant.numeric.json', { line: 13 });
  assertScope(tokens, 'inputPeerSelf', 'string.quoted.double.json', { line: 2 });
});

test('mtproto grammar without source.json: the unresolved include matches nothing, everything else still works', async () => {
  const tokens = await checkMtprotoSample('none');
  // a JSON literal at the start of a body line is no method
  assert.ok(!scopesOf(tokens, '  "flag": true', { line: 9 }).includes('entity.name.function.method.mtproto'));
});

test("mtproto grammar with VS Code's own JSON grammar", {
  skip: !existsSync(VSCODE_JSON_GRAMMAR) && 'code-server not set up (npm run test:e2e does)',
}, async () => {
  const tokens = await checkMtprotoSample('vscode');
  assertScope(tokens, 'peer', 'string.quoted.double.json', { line: 7 });
  assertScope(tokens, 'true', 'constant.language.json', { line: 9 });
});

test('language configurations parse, their folding markers compile, and the .vsix includes grammars and configurations', () => {
  const tl = JSON.parse(readFileSync(join(root, 'language-configuration/tl.json'), 'utf8'));
  assert.deepEqual(tl.comments, { lineComment: '//', blockComment: ['/*', '*/'] });
  const mtproto = JSON.parse(readFileSync(join(root, 'language-configuration/mtproto.json'), 'utf8'));
  assert.equal(mtproto.comments.lineComment, '#');
  assert.deepEqual(
    mtproto.autoClosingPairs.map((p: { open: string }) => p.open),
    ['{', '[', '"'],
  );
  for (const config of [tl, mtproto]) {
    const start = new RegExp(config.folding.markers.start);
    const end = new RegExp(config.folding.markers.end);
    assert.ok(start.test(config === tl ? '// region ids' : '# region login') && end.test(config === tl ? '// endregion' : '# endregion'));
    if (config.wordPattern) assert.ok(new RegExp(config.wordPattern).test('users.getUsers'));
  }
  assert.ok(new RegExp(tl.wordPattern).exec('#0d91a548')![0] === '#0d91a548');
  const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  assert.ok(ignore.includes('!syntaxes/**') && ignore.includes('!language-configuration/**'));
});
