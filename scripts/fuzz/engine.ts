// The fuzz loop: input i of a run is a pure function of (seed, target, i) — a corpus entry, mutated — so a run
// can resume after a killed worker and any finding can be regenerated. Each input is timed and its ArrayBuffer
// and heap growth measured; crashes, hangs and over-allocations are minimized by delta debugging.
import { getHeapStatistics } from 'node:v8';
import { mutate } from './mutate';
import { hashString, Rng } from './prng';
import { FuzzBoundError, type FuzzTarget } from './targets';

export type FindingKind = 'crash' | 'hang' | 'overAlloc';

export interface Finding {
  kind: FindingKind;
  /** Index of the input in the run (-1: a replayed or minimized input). */
  index: number;
  /** Error name and message, or what was measured. */
  message: string;
  input: Uint8Array;
  /** The reported issue (in code outside the decoders fixed here) it matches (see FuzzTarget.known). */
  known?: string;
}

export interface RunStats {
  target: string;
  seed: number;
  runs: number;
  crashes: number;
  hangs: number;
  overAlloc: number;
  /** Wall time of the target's run (corpus and warm-up included). */
  ms: number;
  /** Inputs per second of the fuzz loop alone (what a long pass extrapolates from). */
  inputsPerSec: number;
  /** Failures matching a reported issue in code this harness does not own (they do not fail the run). */
  known: number;
}

/** One input taking longer than this is a hang. */
export const HANG_MS = 1000;
/** JS heap growth from one input beyond this floor (plus a share of the input size) counts as over-allocation. */
const HEAP_FLOOR = 48 << 20;

export interface Corpus {
  target: FuzzTarget;
  seed: number;
  inputs: Uint8Array[];
}

export async function buildCorpus(target: FuzzTarget, seed: number): Promise<Corpus> {
  const inputs = await target.corpus(new Rng(seed, hashString(target.name), 0xc0c0));
  return { target, seed, inputs };
}

/** Input `index` of the run: 4% a corpus entry as is, 2% random bytes, else a mutation of one. */
export function inputAt(c: Corpus, index: number): Uint8Array {
  const rng = new Rng(c.seed, hashString(c.target.name), index);
  const roll = rng.below(100);
  const base = rng.pick(c.inputs);
  if (roll < 4) return base;
  if (roll < 6) return rng.bytes(rng.size(4096));
  return mutate(rng, base, c.inputs, { maxSize: c.target.maxSize, text: c.target.text ?? false, tokens: c.target.tokens ?? [] });
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 500);
  return `thrown ${typeof e}: ${String(e)}`.slice(0, 500);
}

type Failure = Omit<Finding, 'index' | 'input'>;

/** Runs one input (on `slot` of a target that runs several at once), judging its errors and its time. */
async function judge(target: FuzzTarget, input: Uint8Array, hangMs: number, slot: number): Promise<Failure | undefined> {
  const t0 = performance.now();
  let failure: Failure | undefined;
  try {
    const r = target.run(input, slot);
    if (r) await r;
  } catch (e) {
    if (e instanceof FuzzBoundError) failure = { kind: 'overAlloc', message: e.message };
    else if (!target.expected(e)) failure = { kind: 'crash', message: describe(e) };
  }
  const ms = performance.now() - t0;
  if (ms > hangMs) return { kind: 'hang', message: `${ms.toFixed(0)} ms for ${input.length} bytes` };
  return failure;
}

/** Memory the inputs left behind, against the sum of their bounds. */
function measured(target: FuzzTarget, inputs: readonly Uint8Array[], before: HeapInfo): Failure | undefined {
  const after = getHeapStatistics();
  const external = after.external_memory - before.external_memory;
  let bound = 0;
  let size = 0;
  for (const input of inputs) {
    bound += target.allocBound(input);
    size += input.length;
  }
  if (external > bound) return { kind: 'overAlloc', message: `${external} bytes of ArrayBuffers for ${size} input bytes (bound ${bound})` };
  const heap = after.used_heap_size - before.used_heap_size;
  if (heap > HEAP_FLOOR + bound) return { kind: 'overAlloc', message: `JS heap grew ${heap} bytes for ${size} input bytes` };
  return undefined;
}

type HeapInfo = ReturnType<typeof getHeapStatistics>;

/** Runs one input and judges it (errors, time, memory); undefined when it passed. */
export async function check(target: FuzzTarget, input: Uint8Array, hangMs = HANG_MS): Promise<Failure | undefined> {
  const before = getHeapStatistics();
  return (await judge(target, input, hangMs, 0)) ?? measured(target, [input], before);
}

/** Several inputs at once (a target with `concurrency`): each judged alone, memory judged for the batch. */
async function checkBatch(target: FuzzTarget, inputs: readonly Uint8Array[], hangMs: number): Promise<(Failure | undefined)[]> {
  if (inputs.length === 1) return [await check(target, inputs[0]!, hangMs)];
  const before = getHeapStatistics();
  const out = await Promise.all(inputs.map((input, slot) => judge(target, input, hangMs, slot)));
  const mem = measured(target, inputs, before);
  // a batch over its bound: each input alone again, to name the one that did it
  if (mem) for (let i = 0; i < inputs.length; i++) out[i] ??= await check(target, inputs[i]!, hangMs);
  return out;
}

/** Same kind, and for crashes the same error type and message start (numbers aside). */
function sameFailure(a: Failure, b: Failure | undefined): boolean {
  if (!b || a.kind !== b.kind) return false;
  if (a.kind !== 'crash') return true;
  const sig = (m: string): string => m.replace(/\d+/g, 'N').slice(0, 60);
  return sig(a.message) === sig(b.message);
}

/** Delta debugging: drops ever smaller chunks while the input still fails the same way; then zeroes bytes. */
export async function minimize(target: FuzzTarget, input: Uint8Array, failure: Failure, budgetMs = 20_000): Promise<Uint8Array> {
  const deadline = Date.now() + budgetMs;
  let cur = input;
  const fails = async (cand: Uint8Array): Promise<boolean> => sameFailure(failure, await check(target, cand, failure.kind === 'hang' ? HANG_MS : HANG_MS * 5));
  for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1 && Date.now() < deadline; chunk >>= 1) {
    let progressed = true;
    while (progressed && Date.now() < deadline) {
      progressed = false;
      for (let at = 0; at < cur.length && Date.now() < deadline; ) {
        const cand = new Uint8Array(cur.length - Math.min(chunk, cur.length - at));
        cand.set(cur.subarray(0, at));
        cand.set(cur.subarray(at + chunk), at);
        if (cand.length < cur.length && (await fails(cand))) {
          cur = cand;
          progressed = true;
        } else at += chunk;
      }
    }
  }
  return cur;
}

export interface RunOptions {
  from?: number;
  /** Called before each input (the worker publishes the index for its watchdog). */
  onInput?: (index: number) => void;
  /** Called before corpus entry k runs in the warm-up; no warm-up when `warm` is false. */
  onWarm?: (k: number) => void;
  warm?: boolean;
  /** Called for every failing input (counted at once: a worker killed later keeps its counts). */
  onFinding?: (kind: FindingKind | 'known') => void;
  /** Findings kept per kind (all are counted). */
  keep?: number;
  hangMs?: number;
}

export interface RunResult {
  stats: RunStats;
  findings: Finding[];
}

/** Runs inputs [from, runs) of a target. */
/** The reported issue a failure of `input` matches, if any. */
export function knownIssue(target: FuzzTarget, f: Failure, input: Uint8Array): string | undefined {
  return target.known?.find((k) => k.kind === f.kind && (!k.pattern || k.pattern.test(f.message)) && (!k.when || k.when(input)))?.note;
}

/**
 * Runs every corpus entry once, unmeasured: one-time allocations (caches, WebAssembly memory) are not the inputs'
 * doing. `onEntry(k)` before entry k lets a watchdog see a corpus entry that blocks.
 */
export async function warmUp(c: Corpus, onEntry?: (k: number) => void): Promise<void> {
  for (const [k, input] of c.inputs.entries()) {
    onEntry?.(k);
    try {
      const r = c.target.run(input);
      if (r) await r;
    } catch {
      // judged in the run proper
    }
  }
}

export async function runTarget(c: Corpus, runs: number, opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  const stats: RunStats = { target: c.target.name, seed: c.seed, runs: 0, crashes: 0, hangs: 0, overAlloc: 0, ms: 0, inputsPerSec: 0, known: 0 };
  const findings: Finding[] = [];
  const keep = opts.keep ?? 5;
  const seen = new Set<string>();
  if (opts.warm !== false) await warmUp(c, opts.onWarm);
  const loop = performance.now();
  const batch = Math.max(1, c.target.concurrency ?? 1);
  for (let first = opts.from ?? 0; first < runs; first += batch) {
    opts.onInput?.(first);
    const indices: number[] = [];
    for (let i = first; i < Math.min(runs, first + batch); i++) indices.push(i);
    const inputs = indices.map((i) => inputAt(c, i));
    const results = await checkBatch(c.target, inputs, opts.hangMs ?? HANG_MS);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      const input = inputs[k]!;
      const f = results[k];
      stats.runs++;
      if (!f) continue;
      const known = knownIssue(c.target, f, input);
      if (known !== undefined) {
        stats.known++;
        opts.onFinding?.('known');
        if (findings.some((x) => x.known === known)) continue;
        findings.push({ ...f, index: i, input, known });
        continue;
      }
      if (f.kind === 'crash') stats.crashes++;
      else if (f.kind === 'hang') stats.hangs++;
      else stats.overAlloc++;
      opts.onFinding?.(f.kind);
      const sig = `${f.kind}:${f.message.replace(/\d+/g, 'N').slice(0, 60)}`;
      if (seen.has(sig) || findings.filter((x) => x.kind === f.kind).length >= keep) continue;
      seen.add(sig);
      findings.push({ ...f, index: i, input });
    }
  }
  const end = performance.now();
  stats.ms = Math.round(end - t0);
  stats.inputsPerSec = end > loop ? Math.round((stats.runs * 1000) / (end - loop)) : stats.runs;
  return { stats, findings };
}
