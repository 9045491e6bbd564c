// One fuzz target in a worker thread: the main thread watches the published input index and terminates the
// worker when one input blocks (an endless loop never returns to a time check), then resumes after it.
import { parentPort, workerData } from 'node:worker_threads';
import { buildCorpus, minimize, runTarget, type Finding } from './engine';
import { targetByName } from './targets';

export interface WorkerJob {
  target: string;
  seed: number;
  runs: number;
  from: number;
  minimize: boolean;
  /** Int32 slots: [0] index of the input running, [1] 1 once the loop runs, [2..5] crashes, hangs, overAlloc, known. */
  shared: SharedArrayBuffer;
}

export interface WorkerFinding extends Omit<Finding, 'input'> {
  hex: string;
  minimizedHex?: string;
}

export interface WorkerDone {
  runs: number;
  /** Inputs per second of the loop alone. */
  inputsPerSec: number;
  findings: WorkerFinding[];
}

async function main(): Promise<void> {
  const job = workerData as WorkerJob;
  const slots = new Int32Array(job.shared);
  const target = targetByName(job.target);
  const corpus = await buildCorpus(target, job.seed);
  const { stats, findings } = await runTarget(corpus, job.runs, {
    from: job.from,
    onInput: (i) => {
      Atomics.store(slots, 0, i);
      Atomics.store(slots, 1, 1);
    },
    onFinding: (kind) => Atomics.add(slots, kind === 'crash' ? 2 : kind === 'hang' ? 3 : kind === 'overAlloc' ? 4 : 5, 1),
  });
  Atomics.store(slots, 1, 2); // minimizing: no watchdog on the index any more
  const out: WorkerFinding[] = [];
  for (const f of findings) {
    const w: WorkerFinding = { kind: f.kind, index: f.index, message: f.message, hex: Buffer.from(f.input).toString('hex') };
    if (f.known) w.known = true;
    if (job.minimize && !f.known) w.minimizedHex = Buffer.from(await minimize(target, f.input, f)).toString('hex');
    out.push(w);
  }
  target.dispose?.();
  const done: WorkerDone = { runs: stats.runs, inputsPerSec: stats.inputsPerSec, findings: out };
  parentPort!.postMessage(done);
}

main().catch((e: unknown) => {
  parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
});
