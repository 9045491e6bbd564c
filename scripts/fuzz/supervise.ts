// Runs fuzz targets in worker threads and watches them: an input that blocks (an endless loop never gets back to
// a time check) has its worker terminated, counts as a hang, and the run goes on after it in a fresh worker —
// input i depends only on (seed, target, i), so nothing else changes.
import { Worker } from 'node:worker_threads';
import { buildCorpus, inputAt, type Finding, type RunStats } from './engine';
import { targetByName } from './targets';

export interface WorkerJob {
  /** Targets in order, each with its run count; the first starts at input `from`. */
  targets: { name: string; runs: number }[];
  from: number;
  /** Skip the first target's warm-up (a corpus entry blocked in it). */
  noWarm: boolean;
  seed: number;
  minimize: boolean;
  /** Int32 slots, see SLOT. */
  shared: SharedArrayBuffer;
}

/**
 * Slots of the shared Int32Array: the input running, the phase (0 building the corpus, 1 running inputs — the
 * only phase watched —, 2 minimizing), the counts of the target running and its position in the job.
 */
export const SLOT = { index: 0, phase: 1, crash: 2, hang: 3, overAlloc: 4, known: 5, target: 6 } as const;
const SLOT_COUNT = 7;

export interface WorkerFinding extends Omit<Finding, 'input'> {
  hex: string;
  minimizedHex?: string;
}

export type WorkerMessage =
  | { type: 'start'; target: string }
  | { type: 'result'; stats: RunStats; findings: WorkerFinding[] }
  | { type: 'done' }
  | { type: 'error'; error: string };

export interface TargetResult {
  stats: RunStats;
  findings: WorkerFinding[];
}

export interface SuperviseOptions {
  seed: number;
  minimize: boolean;
  /** An input running this long is taken as blocked. */
  killMs: number;
  /** Called as each target finishes (in job order). */
  onResult?: (r: TargetResult) => void;
}

const WORKER = require.resolve('./worker.ts');

/** Runs the targets one after the other in a worker (restarted after a blocked input); results in job order. */
export async function superviseTargets(jobs: { name: string; runs: number }[], o: SuperviseOptions): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  const shared = new SharedArrayBuffer(SLOT_COUNT * 4);
  const slots = new Int32Array(shared);
  let pending = [...jobs];
  let from = 0;
  let noWarm = false;
  // what a terminated worker had done of the target it was running
  let carried: { name: string; stats: RunStats; findings: WorkerFinding[]; started: number } | undefined;
  while (pending.length) {
    Atomics.store(slots, SLOT.phase, 0);
    const job: WorkerJob = { targets: pending, from, noWarm, seed: o.seed, minimize: o.minimize, shared };
    // a worker does not inherit the TypeScript loader: register it first
    const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER)});`, { eval: true, workerData: job });
    let started = Date.now();
    const outcome = await new Promise<{ blocked: number } | { done: true } | { error: string }>((resolve) => {
      let last = -1;
      let since = Date.now();
      const timer = setInterval(() => {
        if (Atomics.load(slots, SLOT.phase) !== 1) return;
        const i = Atomics.load(slots, SLOT.index);
        if (i !== last) {
          last = i;
          since = Date.now();
        } else if (Date.now() - since > o.killMs) {
          clearInterval(timer);
          void worker.terminate().then(() => resolve({ blocked: i }));
        }
      }, 100);
      const stop = (r: { done: true } | { error: string }): void => {
        clearInterval(timer);
        void worker.terminate().then(() => resolve(r));
      };
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'start') started = carried?.name === m.target ? carried.started : Date.now();
        else if (m.type === 'result') {
          const r = merge(carried?.name === m.stats.target ? carried : undefined, m.stats, m.findings, started);
          carried = undefined;
          from = 0;
          noWarm = false;
          pending = pending.slice(1);
          results.push(r);
          o.onResult?.(r);
        } else if (m.type === 'done') stop({ done: true });
        else stop({ error: m.error });
      });
      worker.on('error', (e: Error) => stop({ error: e.stack ?? String(e) }));
    });
    if ('error' in outcome) throw new Error(`fuzz worker failed: ${outcome.error}`);
    if ('done' in outcome) break;
    // blocked: count the target's inputs so far and the hang, then go on after the input (a corpus entry that
    // blocked in the warm-up, at a negative index: go on without the warm-up)
    const name = pending[0]!.name;
    const i = outcome.blocked;
    const corpus = await buildCorpus(targetByName(name), o.seed);
    const input = i >= 0 ? inputAt(corpus, i) : corpus.inputs[-1 - i]!;
    const what = i >= 0 ? `input ${i}` : `corpus entry ${-1 - i} (in the warm-up)`;
    const hang: WorkerFinding = {
      kind: 'hang',
      index: i,
      message: `${what} blocked for more than ${o.killMs} ms (worker terminated)`,
      hex: Buffer.from(input).toString('hex'),
    };
    targetByName(name).dispose?.();
    const partial: RunStats = {
      target: name,
      seed: o.seed,
      runs: i >= 0 ? i + 1 - from : 0,
      crashes: Atomics.load(slots, SLOT.crash),
      hangs: Atomics.load(slots, SLOT.hang) + 1,
      overAlloc: Atomics.load(slots, SLOT.overAlloc),
      ms: 0,
      inputsPerSec: 0,
      known: Atomics.load(slots, SLOT.known),
    };
    const prev = carried?.name === name ? carried : undefined;
    carried = { name, stats: prev ? add(prev.stats, partial) : partial, findings: [...(prev?.findings ?? []), hang], started: prev?.started ?? started };
    if (i >= 0) from = i + 1;
    else noWarm = true;
    if (from >= pending[0]!.runs) {
      const r = merge(carried, { ...partial, runs: 0, crashes: 0, hangs: 0, overAlloc: 0, known: 0 }, [], carried.started);
      carried = undefined;
      from = 0;
      pending = pending.slice(1);
      results.push(r);
      o.onResult?.(r);
    }
  }
  return results;
}

function add(a: RunStats, b: RunStats): RunStats {
  return {
    ...a,
    runs: a.runs + b.runs,
    crashes: a.crashes + b.crashes,
    hangs: a.hangs + b.hangs,
    overAlloc: a.overAlloc + b.overAlloc,
    known: a.known + b.known,
  };
}

/** A target's result from what terminated workers did of it and what the last one reported. */
function merge(carried: { stats: RunStats; findings: WorkerFinding[] } | undefined, last: RunStats, findings: WorkerFinding[], started: number): TargetResult {
  const ms = Date.now() - started;
  if (!carried) return { stats: { ...last, ms }, findings };
  const stats = add(carried.stats, last);
  // a terminated worker's loop time is unknown: the wall time it is
  stats.ms = ms;
  stats.inputsPerSec = ms > 0 ? Math.round((stats.runs * 1000) / ms) : stats.runs;
  return { stats, findings: [...carried.findings, ...findings] };
}
