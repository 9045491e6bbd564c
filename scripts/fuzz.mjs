// Seeded fuzzers for the decoders of outside bytes and text (targets in scripts/fuzz/targets.ts).
//   npm run fuzz -- --target all --seed 1 --runs 100000 [--jobs 2] [--save] [--no-minimize]
//   npm run fuzz -- --target tl --seed 1 --show 123          (print input 123 of that run as hex)
//   npm run fuzz -- --target tl --replay test/fuzz/vectors/tl/x.hex
// One JSON line per target on stdout; findings on stderr; exit 1 when any input crashed, hung or over-allocated.
// Each target runs in a worker thread watched by this one (supervise.ts): an input that blocks is a hang, the
// worker is terminated and the run resumes after that input (input i depends only on seed, target and i).
// More in scripts/fuzz/README.md.
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { TARGETS, targetByName } from './fuzz/targets.ts';
import { buildCorpus, check, HANG_MS, inputAt } from './fuzz/engine.ts';
import { superviseTargets } from './fuzz/supervise.ts';
import { readVector, formatVector } from './fuzz/vectors.ts';

function parseArgs(argv) {
  const o = {
    target: 'all',
    seed: 1,
    runs: 10000,
    jobs: Math.min(2, availableParallelism()),
    save: false,
    minimize: true,
    show: undefined,
    replay: undefined,
    killMs: 5000,
  };
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
      const cpu0 = process.cpuUsage();
      const [{ stats, findings }] = await superviseTargets([{ name: n, runs: o.runs }], { seed: o.seed, minimize: o.minimize, killMs: o.killMs });
      // with one job, the process's CPU time is the target's (its worker's, GC included): a rate a loaded machine
      // does not distort, for long-pass estimates
      if (o.jobs === 1) {
        const cpu = process.cpuUsage(cpu0);
        stats.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
      }
      console.log(JSON.stringify(stats));
      if (stats.crashes || stats.hangs || stats.overAlloc) failed = true;
      for (const f of findings) {
        const hex = f.minimizedHex ?? f.hex;
        if (f.known) {
          console.error(`${n} known ${f.kind} at input ${f.index}: ${f.message.slice(0, 200)}\n  reported: ${f.known}`);
          continue;
        }
        let where = '';
        if (o.save) where = ` → ${saveVector(n, f.kind, f.message, hex, `seed ${o.seed} index ${f.index}, ${f.hex.length / 2} bytes before minimizing`)}`;
        console.error(`${n} ${f.kind} at input ${f.index}: ${f.message}${where}\n  ${hex.length > 400 ? `${hex.slice(0, 400)}…` : hex}`);
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
