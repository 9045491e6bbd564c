// The short pass of every fuzz target (scripts/fuzz/targets.ts) with a fixed seed, and the replay of every kept
// regression vector (test/fuzz/vectors/<target>/*.hex). The long pass is `npm run fuzz -- --runs 1000000`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, knownIssue } from '../../scripts/fuzz/engine';
import { superviseTargets } from '../../scripts/fuzz/supervise';
import { TARGETS, targetByName } from '../../scripts/fuzz/targets';
import { readVector } from '../../scripts/fuzz/vectors';

const SEED = 20240601;

/** Runs per target: together about 10 s on one core (the slow targets, I/O or text analysis, get fewer). */
const RUNS: Record<string, number> = {
  tl: 1500,
  'transport-abridged': 600,
  'transport-intermediate': 600,
  'transport-padded': 600,
  'transport-full': 600,
  obfuscated: 600,
  encrypted: 1500,
  container: 1500,
  gzip: 600,
  handshake: 1500,
  reqfile: 500,
  'tl-file': 500,
  ipc: 1500,
  state: 400,
};

test('every target has a short-pass run count', () => {
  assert.deepEqual(Object.keys(RUNS).sort(), TARGETS.map((t) => t.name).sort());
});

// All targets in one worker thread watched from here: an input that blocks fails its target instead of the run.
const results = superviseTargets(
  TARGETS.map((t) => ({ name: t.name, runs: RUNS[t.name] ?? 300 })),
  { seed: SEED, minimize: false, killMs: 10_000 },
);
results.catch(() => {}); // awaited (and reported) by each test below

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${RUNS[target.name]} inputs, no crash, hang or over-allocation`, async (t) => {
    const r = (await results).find((x) => x.stats.target === target.name);
    assert.ok(r, `no result for ${target.name}`);
    const { stats, findings } = r;
    const report = findings
      .filter((f) => !f.known)
      .map((f) => `${f.kind} at input ${f.index}: ${f.message}\n  ${f.hex.slice(0, 400)}`)
      .join('\n');
    assert.equal(stats.crashes + stats.hangs + stats.overAlloc, 0, `${JSON.stringify(stats)}\n${report}`);
    t.diagnostic(`${stats.inputsPerSec} inputs/s`);
    const known = findings.filter((f) => f.known).map((f) => f.known);
    if (stats.known) t.diagnostic(`${stats.known} inputs hit issues reported to the code's owners: ${[...new Set(known)].join('; ')}`);
  });
}

const VECTORS = join('test', 'fuzz', 'vectors');

for (const dir of existsSync(VECTORS) ? readdirSync(VECTORS).sort() : []) {
  const target = targetByName(dir);
  for (const file of readdirSync(join(VECTORS, dir))
    .filter((f) => f.endsWith('.hex'))
    .sort()) {
    const known = file.startsWith('known-');
    const title = known ? 'fails only as reported to its owners (a bug outside the decoders fixed here)' : 'replays without a crash, hang or over-allocation';
    test(`vector ${dir}/${file} ${title}`, async () => {
      const text = readFileSync(join(VECTORS, dir, file), 'utf8');
      try {
        const input = readVector(text);
        const f = await check(target, input);
        // a vector of a bug in code owned elsewhere stays until it is fixed there; it must still fail only that way
        if (f && known) assert.ok(knownIssue(target, f, input), `${f.kind}: ${f.message}`);
        else assert.equal(f, undefined, f && `${f.kind}: ${f.message}`);
      } finally {
        target.dispose?.();
      }
    });
  }
}
