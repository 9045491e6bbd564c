// Fuzz targets run one after the other in a worker thread. The supervisor (supervise.ts) watches the published
// input index and terminates the worker when one input blocks (an endless loop never returns to a time check).
import { parentPort, workerData } from 'node:worker_threads';
import { buildCorpus, minimize, runTarget } from './engine';
import { SLOT, type WorkerFinding, type WorkerJob, type WorkerMessage } from './supervise';
import { targetByName } from './targets';

async function main(): Promise<void> {
  const job = workerData as WorkerJob;
  const slots = new Int32Array(job.shared);
  const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
  for (const [k, { name, runs }] of job.targets.entries()) {
    const from = k === 0 ? job.from : 0;
    Atomics.store(slots, SLOT.target, k);
    Atomics.store(slots, SLOT.phase, 0);
    for (const s of [SLOT.crash, SLOT.hang, SLOT.overAlloc, SLOT.known]) Atomics.store(slots, s, 0);
    post({ type: 'start', target: name });
    const target = targetByName(name);
    try {
      const corpus = await buildCorpus(target, job.seed);
      const { stats, findings } = await runTarget(corpus, runs, {
        from,
        warm: !(k === 0 && job.noWarm),
        // warm-up entries are watched too, as negative indices
        onWarm: (e) => {
          Atomics.store(slots, SLOT.index, -1 - e);
          Atomics.store(slots, SLOT.phase, 1);
        },
        onInput: (i) => {
          Atomics.store(slots, SLOT.index, i);
          Atomics.store(slots, SLOT.phase, 1);
        },
        onFinding: (kind) => Atomics.add(slots, SLOT[kind], 1),
      });
      Atomics.store(slots, SLOT.phase, 2);
      const out: WorkerFinding[] = [];
      for (const f of findings) {
        const w: WorkerFinding = { kind: f.kind, index: f.index, message: f.message, hex: Buffer.from(f.input).toString('hex') };
        if (f.known) w.known = f.known;
        if (job.minimize && !f.known) w.minimizedHex = Buffer.from(await minimize(target, f.input, f)).toString('hex');
        out.push(w);
      }
      post({ type: 'result', stats, findings: out });
    } finally {
      target.dispose?.();
    }
  }
  post({ type: 'done' });
}

main().catch((e: unknown) => {
  parentPort!.postMessage({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerMessage);
});
