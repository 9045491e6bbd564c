// Bounds the TL fuzzers asked for: time linear in the input for .tl text, and (below) the binary codec's limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTlSchema, scanTlSource, TlMappedText } from '../../src/tl/parser.js';
import { analyzeTlFile } from '../../src/tl/tl-file.js';

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
    ['20000 flag parameters', 'x f:# ' + 'a:f.0?int '.repeat(20000) + '= X;'],
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
  assert.deepEqual([0, 1, 3].map((i) => s.sourceOffset(i)), [11, 12, 20]);
  const t = s.append('!', 99);
  assert.equal(t.text, 'bc d!');
  assert.equal(t.sourceOffset(4), 99);
  assert.equal(b.sourceOffset(6), 22); // b is untouched by the append to its slice
  assert.deepEqual(b.slice(4).appendMapped(s, '|').text, 'def|bc d');
  // the joining space of b maps to just after the piece before it, in s as in b
  assert.deepEqual([0, 4, 6, 7].map((i) => b.slice(4).appendMapped(s, '|').sourceOffset(i)), [20, 11, 13, 20]);
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
