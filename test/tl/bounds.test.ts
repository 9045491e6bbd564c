// Bounds the TL fuzzers asked for: time linear in the input for .tl text, and (below) the binary codec's limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTlSchema, scanTlSource, TlMappedText } from '../../src/tl/parser';
import { analyzeTlFile, tlHoverAt } from '../../src/tl/tl-file';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { BOOL_TRUE_ID, TL_MAX_DEPTH, TlCodec, TlEncodeError, VECTOR_ID } from '../../src/tl/codec';
import { TlDecodeError, TlWriter } from '../../src/tl/binary';
import { apiTypeComment, fullSchema, schemaFromTlText } from '../../src/tl/bundled';

/** Milliseconds `fn` takes. */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** analyze + parse of `text` (the parser may refuse it: only the time matters here). */
function scanBoth(text: string): void {
  analyzeTlFile(text);
  try {
    parseTlSchema(text);
  } catch {
    // a syntax error is fine
  }
}

test('.tl scanning stays linear: a declaration over 20000 lines, 20000 comments on one line, 20000 flag parameters', () => {
  // each took 3–11 s when every line re-copied the declaration so far, every comment rescanned its line to the
  // end and every flag parameter looked back over all the parameters before it
  const cases: [string, string][] = [
    ['20000-line declaration', 'a\n'.repeat(20000)],
    ['20000 comments on one line', '*/'.repeat(20000)],
    ['20000 flag parameters', `x f:# ${'a:f.0?int '.repeat(20000)}= X;`],
  ];
  for (const [what, text] of cases) {
    const ms = timed(() => scanBoth(text));
    assert.ok(ms < 2000, `${what}: ${ms.toFixed(0)} ms`);
  }
});

test('TlMappedText: appending to an older text or a slice leaves the texts built before it as they were', () => {
  const a = TlMappedText.empty().append('abc', 10);
  const b = a.append('def', 20, ' ');
  const c = a.append('xyz', 30, ' '); // a is not the newest text of its chain any more
  assert.equal(b.text, 'abc def');
  assert.equal(c.text, 'abc xyz');
  assert.equal(b.sourceOffset(4), 20);
  assert.equal(c.sourceOffset(4), 30);
  assert.equal(a.sourceOffset(2), 12);
  const s = b.slice(1, 5); // 'bc d'
  assert.equal(s.text, 'bc d');
  assert.deepEqual(
    [0, 1, 3].map((i) => s.sourceOffset(i)),
    [11, 12, 20],
  );
  const t = s.append('!', 99);
  assert.equal(t.text, 'bc d!');
  assert.equal(t.sourceOffset(4), 99);
  assert.equal(b.sourceOffset(6), 22); // b is untouched by the append to its slice
  assert.deepEqual(b.slice(4).appendMapped(s, '|').text, 'def|bc d');
  // the joining space of b maps to just after the piece before it, in s as in b
  assert.deepEqual(
    [0, 4, 6, 7].map((i) => b.slice(4).appendMapped(s, '|').sourceOffset(i)),
    [20, 11, 13, 20],
  );
  assert.equal(b.slice(3, 3).text, '');
});

test('scanTlSource: declarations cut at every `;` of a line keep exact source offsets', () => {
  const text = 'a = A; /* x */ b = B;\nc\n = C; // d\n';
  const decls = scanTlSource(text).filter((i) => i.type === 'declaration');
  assert.deepEqual(
    decls.map((d) => (d.type === 'declaration' ? [d.source.text, d.source.sourceOffset(0), d.semicolon] : [])),
    [
      ['a = A', 0, 5],
      ['b = B', 15, 20],
      ['c = C', 22, 28],
    ],
  );
});

// ---- binary codec ----------------------------------------------------------------------------------------------

const codec = new TlCodec(fullSchema());

function u8(...words: number[]): Uint8Array {
  const w = new TlWriter();
  for (const x of words) w.uint(x >>> 0);
  return w.finish();
}

test('a vector count is bounded by the bytes left over the smallest element (4 for int/object, 8 for long, 16 for int128)', () => {
  // Vector<long> claiming 3 items with 20 bytes left: 3 ≤ 20 bytes but 3 × 8 > 20
  const longs = new TlWriter();
  longs.uint(VECTOR_ID);
  longs.int(3);
  longs.long(1n);
  longs.long(2n);
  longs.int(0);
  assert.throws(
    () => codec.decodeValue('Vector<long>', longs.finish()),
    (e: unknown) => e instanceof TlDecodeError && /invalid vector length 3/.test(e.message) && /at least 24 bytes/.test(e.message) && e.offset === 4,
  );
  // Vector<User> claiming one user per byte left
  assert.throws(
    () => codec.decodeValue('Vector<User>', u8(VECTOR_ID, 13, 0, 0, 0)),
    (e: unknown) => e instanceof TlDecodeError && /invalid vector length 13/.test(e.message),
  );
  // bare vector of int128 (resPQ-style fields): 2 × 16 > 20
  assert.throws(
    () => codec.decodeValue('vector<int128>', u8(2, 0, 0, 0, 0, 0)),
    (e: unknown) => e instanceof TlDecodeError && /invalid vector length 2/.test(e.message),
  );
  // exactly enough is fine
  assert.deepEqual(codec.decodeValue('Vector<long>', concat(u8(VECTOR_ID, 2), new Uint8Array(16))), [0n, 0n]);
  // a count that does not fit is refused before anything is allocated for it
  const claim = concat(u8(VECTOR_ID, 0x3ffff), new Uint8Array(0xffff * 4));
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) assert.throws(() => codec.decodeValue('Vector<int>', claim), TlDecodeError);
  assert.ok(performance.now() - t0 < 3000);
});

test('nesting deeper than the codec allows is a TlDecodeError, not a stack overflow', () => {
  // invokeAfterMsg msg_id:long query:!X, 12 bytes a level; and textBold text:RichText, 4 bytes a level
  const invokeAfterMsg = codec.schema.methodByName('invokeAfterMsg')!.id;
  const textBold = codec.schema.constructorByName('textBold')!.id;
  for (const [unit, levels] of [
    [concat(u8(invokeAfterMsg), new Uint8Array(8)), 100_000],
    [u8(textBold), 300_000],
  ] as const) {
    const data = new Uint8Array(unit.length * levels + 4);
    for (let i = 0; i < levels; i++) data.set(unit, i * unit.length);
    data.set(u8(codec.schema.constructorByName('textEmpty')!.id), unit.length * levels);
    assert.throws(
      () => codec.decode(data),
      (e: unknown) => e instanceof TlDecodeError && new RegExp(`nested deeper than ${TL_MAX_DEPTH}`).test(e.message),
    );
  }
  // a real depth decodes
  let v: unknown = { _: 'textEmpty' };
  for (let i = 0; i < 50; i++) v = { _: 'textBold', text: v };
  assert.deepEqual(codec.decodeValue('RichText', codec.encodeValue('RichText', v)), v);
});

function gzipPacked(data: Uint8Array): Uint8Array {
  const w = new TlWriter();
  w.uint(0x3072cfa1);
  w.bytes(gzipSync(data));
  return w.finish();
}

test('gzip_packed inside TL: one inflates to at most 16 MiB (and 256× its size above 2 MiB); one decode shares one budget (32 MiB, 256× the input above 2 MiB)', () => {
  const ping = codec.encode({ _: 'ping', ping_id: 7n });
  // 20 MiB of zeros behind a ping: over the per-gzip bound
  const bomb = concat(ping, new Uint8Array(20 << 20));
  assert.throws(
    () => codec.decode(gzipPacked(bomb)),
    (e: unknown) => e instanceof TlDecodeError && /gzip_packed/.test(e.message) && /16777216/.test(e.message),
  );
  // 4 MiB of zeros compress to ~4 KiB: over 256× its size
  assert.throws(
    () => codec.decode(gzipPacked(concat(ping, new Uint8Array(4 << 20)))),
    (e: unknown) => e instanceof TlDecodeError && /gzip_packed/.test(e.message),
  );
  // under the floor: fine
  assert.deepEqual(codec.decode(gzipPacked(concat(ping, new Uint8Array(1900 << 10)))), { _: 'ping', ping_id: 7n });
  // Bools inflating 1.9 MiB each from ~2 KiB: two of them in a 4 KiB message already exceed its 2 MiB budget
  const boolBomb = gzipPacked(concat(u8(BOOL_TRUE_ID), new Uint8Array(1900 << 10)));
  assert.throws(
    () => codec.decodeValue('Vector<Bool>', concat(u8(VECTOR_ID, 2), boolBomb, boolBomb)),
    (e: unknown) => e instanceof TlDecodeError && /budget/.test(e.message),
  );
  // with 8 KiB of noise each they pass the ratio, and 4 of them fit; 20 exceed the 32 MiB cap however big the message
  const noise = new Uint8Array(randomBytes(8192));
  const noisyBomb = gzipPacked(concat(u8(BOOL_TRUE_ID), new Uint8Array(1900 << 10), noise));
  const few = concat(u8(VECTOR_ID, 4), ...Array.from({ length: 4 }, () => noisyBomb));
  assert.deepEqual(codec.decodeValue('Vector<Bool>', few), [true, true, true, true]);
  const many = concat(u8(VECTOR_ID, 20), ...Array.from({ length: 20 }, () => noisyBomb));
  assert.throws(
    () => codec.decodeValue('Vector<Bool>', many),
    (e: unknown) => e instanceof TlDecodeError && /budget/.test(e.message),
  );
  // the budget is per decode: the next call starts afresh
  assert.deepEqual(codec.decodeValue('Vector<Bool>', few), [true, true, true, true]);
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('names of Object.prototype are no builtin TL types (constructor, toString, __proto__, hasOwnProperty)', () => {
  const text = 'foo x:constructor y:toString z:hasOwnProperty = Foo;\nbar w:__proto__ = Bar;\n';
  const a = analyzeTlFile(text);
  for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    const ref = a.references.find((r) => r.target === name)!;
    assert.equal(ref.defined, false, name);
    assert.notEqual(ref.kind, 'builtin', name);
    assert.ok(
      a.diagnostics.some((d) => d.code === 'unknown-type' && d.message.includes(`"${name}"`)),
      name,
    );
    const hover = tlHoverAt(a, text, text.indexOf(name) + 1)!;
    assert.ok(!/native code|\[object Object\]/.test(hover.markdown), hover.markdown);
  }
  // the codec resolves them as (unknown) boxed types, not as primitives
  const schema = schemaFromTlText(text);
  const codec = new TlCodec(schema);
  assert.throws(() => codec.encode({ _: 'foo', x: { _: 'nothing' }, y: { _: 'nothing' }, z: { _: 'nothing' } }), TlEncodeError);
  assert.throws(
    () => codec.decodeValue('constructor', u8(0x12345678)),
    (e: unknown) => e instanceof TlDecodeError && /unknown constructor id/.test(e.message),
  );
  assert.equal(apiTypeComment('constructor'), undefined);
  assert.equal(typeof apiTypeComment('User'), 'string');
});
