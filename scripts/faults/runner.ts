// The seeded fault runner: for each seed every scenario, each run against its scenario's sandbox with a fresh client, its choices
// from Prng(seed, scenario name), ended by its documented outcome or a failure that names the seed to replay.
// Unhandled rejections and uncaught exceptions while a run is in progress fail that run.
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Lab, Run, tempDataDir, Violation } from './harness';
import { Prng } from './prng';
import type { Outcome, Scenario } from './scenarios';

export interface RunnerOptions {
  scenarios: Scenario[];
  seeds: number;
  firstSeed: number;
  /** A run still going after this long fails as a hang (default 120 s). */
  runTimeoutMs?: number;
  /** A scenario's sandbox is replaced after this many of its runs (default 100): memory stays bounded. */
  recycleEvery?: number;
  /** Called after every run. */
  onRun?: (r: RunRecord) => void;
  /** Stops after the run in progress (the summary covers the runs done). */
  signal?: AbortSignal;
}

export interface RunRecord {
  scenario: string;
  seed: number;
  ok: boolean;
  ms: number;
  /** 'success' or the documented error code it ended with. */
  outcome?: string;
  error?: string;
  /** The PRNG's draws, in order (a replay makes the same ones). */
  draws: string[];
  notes: string[];
  /** The sandbox's last log lines (failed runs only). */
  sandboxLog?: string[];
}

export interface ScenarioRow {
  scenario: string;
  runs: number;
  passed: number;
  failed: number;
  p50: number;
  p99: number;
  outcomes: Record<string, number>;
  failedSeeds: number[];
}

export interface Summary {
  ok: boolean;
  /** Seeds asked for (an abort may have stopped earlier: see the rows' runs). */
  seeds: number;
  firstSeed: number;
  rows: ScenarioRow[];
  failures: RunRecord[];
  ms: number;
}

/** Nearest-rank percentile of a list of durations. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''}: ${e.message}`;
  }
  return String(e);
}

class Hang extends Error {
  override readonly name = 'Hang';
}

/** Process-level errors while runs are in progress, attributed to the run that is current. */
class ProcessWatch {
  private errors: string[] = [];
  private readonly onRejection = (reason: unknown): void => void this.errors.push(`unhandled rejection: ${describe(reason)}`);
  private readonly onException = (err: Error): void => void this.errors.push(`uncaught exception: ${describe(err)}`);

  install(): void {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
  }

  remove(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
  }

  take(): string[] {
    const out = this.errors;
    this.errors = [];
    return out;
  }
}

async function runOne(lab: Lab, scenario: Scenario, seed: number, watch: ProcessWatch, timeoutMs: number): Promise<RunRecord> {
  const rng = new Prng(seed, scenario.name);
  const run = new Run(lab, rng, scenario.name, seed);
  const t0 = performance.now();
  let outcome: Outcome | undefined;
  let error: unknown;
  let timer: NodeJS.Timeout | undefined;
  const work = scenario.run(run);
  work.catch(() => undefined);
  try {
    outcome = await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Hang(`still running after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    error = e;
  } finally {
    clearTimeout(timer);
  }
  const ms = Math.round(performance.now() - t0);
  try {
    await run.settleBackground();
  } catch (e) {
    error ??= e;
  }
  await run.dispose();
  lab.clearAll();
  // late rejections of this run (a timer that fired after the checks) still belong to it
  await new Promise((r) => setTimeout(r, 20));
  const proc = watch.take();
  if (proc.length && error === undefined) error = new Violation(proc.join('; '));
  else if (proc.length) run.note(proc.join('; '));
  const rec: RunRecord = {
    scenario: scenario.name,
    seed,
    ok: error === undefined,
    ms,
    draws: rng.draws,
    notes: run.notes,
  };
  if (outcome) rec.outcome = outcome.kind === 'success' ? 'success' : outcome.code;
  if (error !== undefined) {
    rec.error = describe(error);
    rec.sandboxLog = [...lab.logTail];
  }
  return rec;
}

export async function runFaults(opts: RunnerOptions): Promise<Summary> {
  const started = performance.now();
  const timeoutMs = opts.runTimeoutMs ?? 120_000;
  const recycle = Math.max(1, opts.recycleEvery ?? 100);
  const dataDir = tempDataDir();
  const watch = new ProcessWatch();
  watch.install();
  const failures: RunRecord[] = [];
  const rows: ScenarioRow[] = opts.scenarios.map((sc) => ({ scenario: sc.name, runs: 0, passed: 0, failed: 0, p50: 0, p99: 0, outcomes: {}, failedSeeds: [] }));
  const durations: number[][] = opts.scenarios.map(() => []);
  // one sandbox per scenario: a run sees the same sandbox history (earlier seeds of its scenario) whichever other
  // scenarios run beside it
  const labs: (Lab | undefined)[] = opts.scenarios.map(() => undefined);
  try {
    // seed by seed, every scenario: a run cut short still covers every scenario
    for (let i = 0; i < opts.seeds && !opts.signal?.aborted; i++) {
      const seed = opts.firstSeed + i;
      for (const [k, scenario] of opts.scenarios.entries()) {
        if (opts.signal?.aborted) break;
        if (labs[k] && i % recycle === 0) {
          await labs[k]!.stop();
          labs[k] = undefined;
        }
        const lab = (labs[k] ??= await Lab.start(dataDir));
        const rec = await runOne(lab, scenario, seed, watch, timeoutMs);
        const row = rows[k]!;
        row.runs += 1;
        durations[k]!.push(rec.ms);
        if (rec.ok) {
          row.passed += 1;
          const o = rec.outcome ?? 'success';
          row.outcomes[o] = (row.outcomes[o] ?? 0) + 1;
        } else {
          row.failed += 1;
          row.failedSeeds.push(seed);
          failures.push(rec);
        }
        opts.onRun?.(rec);
      }
    }
  } finally {
    for (const lab of labs) await lab?.stop().catch(() => undefined);
    watch.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
  rows.forEach((row, k) => {
    row.p50 = percentile(durations[k]!, 50);
    row.p99 = percentile(durations[k]!, 99);
  });
  return { ok: failures.length === 0, seeds: opts.seeds, firstSeed: opts.firstSeed, rows, failures, ms: Math.round(performance.now() - started) };
}

/** The table: one row per scenario. */
export function formatTable(rows: ScenarioRow[]): string {
  const head = ['scenario', 'runs', 'passed', 'failed', 'p50 ms', 'p99 ms', 'outcomes'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.runs),
    String(r.passed),
    String(r.failed),
    String(r.p50),
    String(r.p99),
    Object.entries(r.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The command that replays one run. */
export function replayCommand(scenario: string, seed: number): string {
  return `npm run faults -- --scenario ${scenario} --first-seed ${seed} --seeds 1`;
}
