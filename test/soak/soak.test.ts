// A tiny pass of the soak harness (scripts/soak/run.ts): 10 clients (ours, GramJS, mtcute) logged in with their own
// numbers work for 15 s against a sandbox in a child process while 100 hostile connections send garbage, bare
// 16 MiB headers, slow drips and never-ending frames. Every call must succeed; the server must have closed the
// hostile connections of every kind. The figures (latencies, RSS) are printed, not asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SOAK, runSoak } from '../../scripts/soak/run';

test('soak: 10 clients × 15 s with 100 hostile connections: no failed call, hostile connections closed', { timeout: 120_000 }, async (t) => {
  const lines: string[] = [];
  const summary = await runSoak({
    ...DEFAULT_SOAK,
    clients: 10,
    seconds: 15,
    hostile: 100,
    sampleMs: 2000,
    pauseMs: [100, 1000],
    // drips and bare headers closed well inside the 15 s
    sandbox: { frameTimeoutSeconds: 3 },
    log: (l) => lines.push(l),
  });
  t.diagnostic(JSON.stringify(summary));
  assert.equal(summary.sandboxExit, undefined, 'the sandbox process is alive');
  assert.equal(summary.failures, 0, `failed: ${JSON.stringify(summary.failureSamples)}\n${lines.slice(-5).join('\n')}`);
  assert.deepEqual(summary.kinds, { ours: 4, gramjs: 3, mtcute: 3 });
  for (const [op, s] of Object.entries(summary.perOp)) assert.ok(s.count > 0, `${op} ran`);
  const closed = summary.hostileStats!.closedByServer;
  for (const kind of ['garbage', 'header', 'drip'] as const) assert.ok(closed[kind] > 0, `hostile ${kind} connections closed by the server: ${closed[kind]}`);
});
