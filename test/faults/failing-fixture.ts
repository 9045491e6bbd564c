// Run in a child process by faults.test.ts: scenarios that break an invariant, leak a rejection and hang. A leaked
// rejection must be the runner's to catch, and node:test would claim it first in the test's own process.
import { runFaults } from '../../scripts/faults/runner';
import { Violation } from '../../scripts/faults/harness';
import type { Scenario } from '../../scripts/faults/scenarios';

const broken: Scenario = {
  name: 'test-broken',
  summary: 'fails an invariant on odd seeds',
  async run(r) {
    if (r.seed % 2 === 1) throw new Violation(`odd seed ${r.rng.int('x', 0, 9)}`);
    return { kind: 'success' };
  },
};
const leaky: Scenario = {
  name: 'test-leaky',
  summary: 'a rejection nobody handles',
  async run() {
    void Promise.reject(new Error('leaked on purpose'));
    await new Promise((r) => setTimeout(r, 10));
    return { kind: 'success' };
  },
};
const throwing: Scenario = {
  name: 'test-throwing',
  summary: 'an exception thrown from a timer',
  async run() {
    setTimeout(() => {
      throw new Error('thrown on purpose');
    }, 1);
    await new Promise((r) => setTimeout(r, 10));
    return { kind: 'success' };
  },
};
const hang: Scenario = {
  name: 'test-hang',
  summary: 'never ends',
  run: () => new Promise(() => undefined),
};

void runFaults({ scenarios: [broken, leaky, throwing, hang], seeds: 2, firstSeed: 10, runTimeoutMs: 300 }).then((s) => {
  process.stdout.write(
    `${JSON.stringify({ ok: s.ok, rows: s.rows, failures: s.failures.map((f) => ({ scenario: f.scenario, seed: f.seed, error: f.error })) })}\n`,
  );
  process.exit(0);
});
