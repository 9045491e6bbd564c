// The short pass of the seeded fault runner (npm run faults): every scenario for 2 seeds against one in-process
// sandbox each; plus the runner's own promises: the same seed makes the same choices, a broken invariant, a leaked
// rejection, an uncaught exception and a hang fail the run with its seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../scripts/faults/prng';
import { spawnSync } from 'node:child_process';
import { formatTable, percentile, replayCommand, runFaults, type RunRecord, type ScenarioRow } from '../../scripts/faults/runner';
import { SCENARIOS, scenarioByName } from '../../scripts/faults/scenarios';

/**
 * Open bugs the runner found outside the client (their owners fix them): a run failing this way shows as a todo
 * subtest, not a failure. Any other failed run fails the short pass.
 */
const KNOWN_OPEN: { scenario: string; error: RegExp; issue: string }[] = [];

test('short pass: every scenario, 2 seeds each, ends in success or its documented error', async (t) => {
  const summary = await runFaults({ scenarios: SCENARIOS, seeds: 2, firstSeed: 1, runTimeoutMs: 45_000 });
  process.stdout.write(`${formatTable(summary.rows)}\n(short pass: ${summary.ms} ms)\n`);
  const known = (f: RunRecord): (typeof KNOWN_OPEN)[number] | undefined => KNOWN_OPEN.find((k) => k.scenario === f.scenario && k.error.test(f.error ?? ''));
  const show = (f: RunRecord): string => `${f.scenario} seed ${f.seed}: ${f.error}\n  ${replayCommand(f.scenario, f.seed)}\n  ${f.draws.join(' ')}`;
  assert.deepEqual(summary.failures.filter((f) => !known(f)).map(show), []);
  for (const k of KNOWN_OPEN) {
    const hits = summary.failures.filter((f) => known(f) === k);
    await t.test(`known open bug: ${k.issue}`, { todo: hits.length > 0 }, () => {
      assert.deepEqual(hits.map(show), []);
    });
  }
  assert.equal(summary.rows.length, SCENARIOS.length);
  for (const row of summary.rows) {
    assert.equal(row.runs, 2, row.scenario);
    assert.equal(row.passed + summary.failures.filter((f) => f.scenario === row.scenario).length, 2, row.scenario);
  }
  // the error scenarios end in their documented codes, never in success
  const outcomes = (name: string): string[] => Object.keys(summary.rows.find((r) => r.scenario === name)!.outcomes);
  assert.deepEqual(outcomes('flood-wait-over'), ['FLOOD_WAIT']);
  for (const o of outcomes('redirect-loop')) assert.ok(['REDIRECT_LOOP', 'TOO_MANY_REDIRECTS'].includes(o), o);
  for (const o of outcomes('auth-bytes-invalid')) assert.ok(['success', 'TRANSFER_FAILED'].includes(o), o);
});

test('replay: the same scenario and seed make the same choices; another seed makes others', async () => {
  const scenario = scenarioByName('redirect-loop')!;
  const draws = async (seed: number): Promise<string[]> => {
    const seen: RunRecord[] = [];
    const s = await runFaults({ scenarios: [scenario], seeds: 1, firstSeed: seed, onRun: (r) => void seen.push(r) });
    assert.ok(s.ok, JSON.stringify(s.failures));
    return seen[0]!.draws;
  };
  const first = await draws(41);
  assert.ok(first.length >= 6, first.join(' '));
  assert.deepEqual(await draws(41), first);
  assert.notDeepEqual(await draws(42), first);
});

test('prng: a stream per (seed, name), values in range, every item reachable', () => {
  const a = new Prng(7, 'x');
  const b = new Prng(7, 'x');
  const c = new Prng(7, 'y');
  const xs = Array.from({ length: 50 }, () => a.next64());
  assert.deepEqual(
    Array.from({ length: 50 }, () => b.next64()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 50 }, () => c.next64()),
    xs,
  );
  assert.equal(new Set(xs).size, 50);
  const r = new Prng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const v = r.int('v', 3, 9);
    assert.ok(v >= 3 && v <= 9 && Number.isInteger(v));
    seen.add(v);
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
  }
  assert.equal(seen.size, 7);
  assert.equal(r.draws.length, 500, 'int() draws are logged, float() is not');
  const bytes = new Prng(3).bytes('b', 1000);
  assert.deepEqual(new Prng(3).bytes('b', 1000), bytes);
  assert.equal(bytes.length, 1000);
});

test('percentile: nearest rank', () => {
  assert.equal(percentile([], 50), 0);
  assert.equal(percentile([5], 99), 5);
  assert.equal(percentile([4, 1, 3, 2], 50), 2);
  assert.equal(
    percentile(
      Array.from({ length: 100 }, (_, i) => i + 1),
      99,
    ),
    99,
  );
});

test('a broken invariant, a leaked rejection, an uncaught exception and a hang each fail their run, with the seed', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/faults/failing-fixture.ts'], { encoding: 'utf8', timeout: 60_000 });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  const s = JSON.parse(last) as { ok: boolean; rows: ScenarioRow[]; failures: { scenario: string; seed: number; error?: string }[] };
  assert.equal(s.ok, false);
  const row = (n: string): ScenarioRow => s.rows.find((r) => r.scenario === n)!;
  assert.deepEqual(row('test-broken').failedSeeds, [11]);
  assert.equal(row('test-broken').passed, 1);
  for (const n of ['test-leaky', 'test-throwing', 'test-hang']) assert.deepEqual(row(n).failedSeeds, [10, 11], n);
  const errors = (n: string): string[] => s.failures.filter((f) => f.scenario === n).map((f) => f.error ?? '');
  assert.match(errors('test-broken')[0]!, /Violation: odd seed/);
  for (const e of errors('test-leaky')) assert.match(e, /unhandled rejection: .*leaked on purpose/);
  for (const e of errors('test-throwing')) assert.match(e, /uncaught exception: .*thrown on purpose/);
  for (const e of errors('test-hang')) assert.match(e, /Hang: still running after 300 ms/);
  assert.match(formatTable(s.rows), /test-broken\s+2\s+1\s+1/);
});
