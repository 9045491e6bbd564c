// npm run faults -- --seeds N [--scenario NAME[,NAME]] [--first-seed S] [--runs-file F] [--verbose] [--list]
// Runs every scenario (or the named ones) for seeds S..S+N-1 against an in-process sandbox; prints one row per
// scenario and a final JSON line; exit 1 when a run failed (its seed and the replay command are printed).
// --runs-file appends every run (scenario, seed, outcome, ms, choices) as a JSON line, for a later look.
import { appendFileSync } from 'node:fs';
import { formatTable, replayCommand, runFaults, type RunRecord } from './faults/runner';
import { SCENARIOS, scenarioByName, type Scenario } from './faults/scenarios';

interface Args {
  seeds: number;
  firstSeed: number;
  scenarios: Scenario[];
  verbose: boolean;
  timeoutMs: number;
  runsFile?: string;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`faults: ${msg}\n`);
  process.stderr.write(
    'usage: npm run faults -- --seeds N [--scenario NAME[,NAME…]] [--first-seed S] [--timeout-ms MS] [--runs-file F] [--verbose] [--list]\n' +
      `scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}

function intArg(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isSafeInteger(n) || n < min) usage(`${name} needs an integer ≥ ${min}, got ${v ?? 'nothing'}`);
  return n;
}

function parse(argv: string[]): Args {
  const out: Args = { seeds: 10, firstSeed: 1, scenarios: [], verbose: false, timeoutMs: 120_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--seeds':
        out.seeds = intArg('--seeds', value(), 1);
        break;
      case '--first-seed':
        out.firstSeed = intArg('--first-seed', value(), 0);
        break;
      case '--timeout-ms':
        out.timeoutMs = intArg('--timeout-ms', value(), 1000);
        break;
      case '--scenario':
        for (const name of (value() ?? '').split(',').filter(Boolean)) {
          const s = scenarioByName(name);
          if (!s) usage(`unknown scenario "${name}"`);
          out.scenarios.push(s);
        }
        break;
      case '--runs-file': {
        const f = value();
        if (!f) usage('--runs-file needs a path');
        out.runsFile = f;
        break;
      }
      case '--verbose':
        out.verbose = true;
        break;
      case '--list':
        for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(24)} ${s.summary}\n`);
        process.exit(0);
        break;
      case '--help':
      case '-h':
        usage();
        break;
      default:
        usage(`unknown argument ${a}`);
    }
  }
  if (out.scenarios.length === 0) out.scenarios = SCENARIOS;
  return out;
}

function printFailure(r: RunRecord): void {
  process.stderr.write(`FAIL ${r.scenario} seed ${r.seed} (${r.ms} ms): ${r.error}\n`);
  process.stderr.write(`  replay: ${replayCommand(r.scenario, r.seed)}\n`);
  process.stderr.write(`  choices: ${r.draws.join(' ')}\n`);
  for (const n of r.notes) process.stderr.write(`  note: ${n}\n`);
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const total = args.seeds * args.scenarios.length;
  let done = 0;
  // Ctrl+C ends the run in progress, then prints what was done (a second one exits at once)
  const stop = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('faults: stopping after the run in progress (Ctrl+C again to quit now)\n');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  const summary = await runFaults({
    signal: stop.signal,
    scenarios: args.scenarios,
    seeds: args.seeds,
    firstSeed: args.firstSeed,
    runTimeoutMs: args.timeoutMs,
    onRun: (r) => {
      done += 1;
      if (args.runsFile)
        appendFileSync(
          args.runsFile,
          `${JSON.stringify({ scenario: r.scenario, seed: r.seed, ok: r.ok, ms: r.ms, outcome: r.outcome, error: r.error, draws: r.draws })}\n`,
        );
      if (!r.ok) {
        printFailure(r);
        if (args.verbose) for (const l of r.sandboxLog ?? []) process.stderr.write(`  sandbox: ${l}\n`);
      } else if (args.verbose) {
        process.stderr.write(`ok   ${r.scenario} seed ${r.seed} (${r.ms} ms) → ${r.outcome}; ${r.draws.join(' ')}\n`);
      } else if (done % 25 === 0 || done === total) {
        process.stderr.write(`… ${done}/${total} runs\n`);
      }
    },
  });
  process.stdout.write(`${formatTable(summary.rows)}\n`);
  if (!summary.ok) {
    process.stdout.write(`\n${summary.failures.length} failed run(s):\n`);
    for (const f of summary.failures) process.stdout.write(`  ${f.scenario} seed ${f.seed}: ${f.error}\n    ${replayCommand(f.scenario, f.seed)}\n`);
  }
  const json = {
    ok: summary.ok,
    stopped: stop.signal.aborted,
    seeds: summary.seeds,
    firstSeed: summary.firstSeed,
    ms: summary.ms,
    scenarios: summary.rows.map((r) => ({
      scenario: r.scenario,
      runs: r.runs,
      passed: r.passed,
      failed: r.failed,
      p50Ms: r.p50,
      p99Ms: r.p99,
      outcomes: r.outcomes,
      failedSeeds: r.failedSeeds,
    })),
    failures: summary.failures.map((f) => ({ scenario: f.scenario, seed: f.seed, error: f.error })),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
  // the decrypt worker pool and stray timers must not keep the process up
  process.exit(summary.ok ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`faults: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
