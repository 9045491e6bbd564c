// Seeded fuzzers for the decoders of outside bytes and text (targets in scripts/fuzz/targets.ts).
//   npm run fuzz -- --target all --seed 1 --runs 100000 [--jobs 2] [--save] [--no-minimize]
//   npm run fuzz -- --target tl --seed 1 --show 123          (print input 123 of that run as hex)
//   npm run fuzz -- --target tl --replay test/fuzz/vectors/tl/x.hex
// One JSON line per target on stdout; findings on stderr; exit 1 when any input crashed, hung or over-allocated.
// Each target runs in a worker thread watched by this one: an input that blocks is a hang, the worker is
// terminated and the run resumes after that input (input i depends only on seed, target and i).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, targetByName } from './fuzz/targets.ts';
import { buildCorpus, check, HANG_MS, inputAt } from './fuzz/engine.ts';
import { readVector, formatVector } from './fuzz/vectors.ts';

const WORKER = fileURLToPath(new URL('./fuzz/worker.ts', import.meta.url));

function parseArgs(argv) {
  const o = { target: 'all', seed: 1, runs: 10000, jobs: Math.min(2, availableParallelism()), save: false, minimize: true, show: undefined, replay: undefined, killMs: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--target') o.target = v();
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--jobs') o.jobs = Math.max(1, Number(v()));
    else if (a === '--save') o.save = true;
    else if (a === '--no-minimize') o.minimize = false;
    else if (a === '--show') o.show = Number(v());
    else if (a === '--replay') o.replay = v();
    else if (a === '--kill-ms') o.killMs = Number(v());
    else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error('--seed takes a non-negative integer');
  if (!Number.isSafeInteger(o.runs) || o.runs < 0) throw new Error('--runs takes a non-negative integer');
  return o;
}

function saveVector(target, kind, message, hex, meta) {
  const dir = join('test', 'fuzz', 'vectors', target);
  mkdirSync(dir, { recursive: true });
  const name = `${kind}-${createHash('sha256').update(hex).digest('hex').slice(0, 10)}.hex`;
  const file = join(dir, name);
  writeFileSync(file, formatVector(hex, [`${kind}: ${message}`, meta]));
  return file;
}

/** Runs one target to the end in worker threads, restarting after a blocked input. */
async function fuzzTarget(name, o) {
  const t0 = performance.now();
  const shared = new SharedArrayBuffer(6 * 4);
  const slots = new Int32Array(shared);
  const findings = [];
  let from = 0;
  let runs = 0;
  let loopMs = 0;
  while (from < o.runs) {
    Atomics.store(slots, 0, from);
    Atomics.store(slots, 1, 0);
    const job = { target: name, seed: o.seed, runs: o.runs, from, minimize: o.minimize, shared };
    // a worker does not inherit the TypeScript loader: register it first
    const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER)});`, { eval: true, workerData: job });
    const outcome = await new Promise((resolve) => {
      let last = -1;
      let since = Date.now();
      const timer = setInterval(() => {
        if (Atomics.load(slots, 1) !== 1) return;
        const i = Atomics.load(slots, 0);
        if (i !== last) {
          last = i;
          since = Date.now();
        } else if (Date.now() - since > o.killMs) {
          clearInterval(timer);
          void worker.terminate().then(() => resolve({ blocked: i }));
        }
      }, 100);
      worker.on('message', (m) => {
        clearInterval(timer);
        resolve(m);
      });
      worker.on('error', (e) => {
        clearInterval(timer);
        resolve({ error: e?.stack ?? String(e) });
      });
    });
    if (outcome.error) throw new Error(`fuzz worker for ${name} failed: ${outcome.error}`);
    if (outcome.blocked !== undefined) {
      const i = outcome.blocked;
      runs += i + 1 - from;
      Atomics.add(slots, 3, 1);
      const corpus = await buildCorpus(targetByName(name), o.seed);
      findings.push({ kind: 'hang', index: i, message: `blocked for more than ${o.killMs} ms (worker terminated)`, hex: Buffer.from(inputAt(corpus, i)).toString('hex') });
      from = i + 1;
      continue;
    }
    runs += outcome.runs;
    if (outcome.inputsPerSec > 0) loopMs += (outcome.runs * 1000) / outcome.inputsPerSec;
    findings.push(...outcome.findings);
    from = o.runs;
  }
  const ms = Math.round(performance.now() - t0);
  const stats = {
    target: name,
    seed: o.seed,
    runs,
    crashes: Atomics.load(slots, 2),
    hangs: Atomics.load(slots, 3),
    overAlloc: Atomics.load(slots, 4),
    ms,
    // the loop alone when the worker finished (corpus and warm-up left out), else the wall time
    inputsPerSec: loopMs > 0 && findings.every((f) => f.message.indexOf('worker terminated') < 0) ? Math.round((runs * 1000) / loopMs) : ms > 0 ? Math.round((runs * 1000) / ms) : runs,
    known: Atomics.load(slots, 5),
  };
  return { stats, findings };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const names = o.target === 'all' ? TARGETS.map((t) => t.name) : o.target.split(',');
  for (const n of names) targetByName(n);

  if (o.show !== undefined) {
    const corpus = await buildCorpus(targetByName(names[0]), o.seed);
    console.log(Buffer.from(inputAt(corpus, o.show)).toString('hex'));
    return 0;
  }
  if (o.replay) {
    const t = targetByName(names[0]);
    const f = await check(t, readVector(readFileSync(o.replay, 'utf8')), HANG_MS);
    t.dispose?.();
    console.log(JSON.stringify({ target: t.name, vector: o.replay, result: f ?? 'pass' }));
    return f ? 1 : 0;
  }

  let failed = false;
  const queue = [...names];
  const runOne = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const { stats, findings } = await fuzzTarget(n, o);
      console.log(JSON.stringify(stats));
      if (stats.crashes || stats.hangs || stats.overAlloc) failed = true;
      const target = targetByName(n);
      for (const f of findings) {
        const hex = f.minimizedHex ?? f.hex;
        if (f.known) {
          const note = target.known?.find((k) => k.kind === f.kind && k.pattern.test(f.message))?.note;
          console.error(`${n} known ${f.kind} at input ${f.index}: ${f.message.slice(0, 200)}\n  reported: ${note}`);
          continue;
        }
        let where = '';
        if (o.save) where = ` → ${saveVector(n, f.kind, f.message, hex, `seed ${o.seed} index ${f.index}, ${f.hex.length / 2} bytes before minimizing`)}`;
        console.error(`${n} ${f.kind} at input ${f.index}: ${f.message}${where}\n  ${hex.length > 400 ? hex.slice(0, 400) + '…' : hex}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, names.length) }, runOne));
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
