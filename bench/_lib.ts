// Shared helpers for bench/*.bench.ts (this file is not a bench itself: run-bench.mjs only picks *.bench.ts).
// Contract: one JSON line per figure on stdout, everything else on stderr.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds for display: 3 significant-ish digits without losing small ratios. */
export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

export function log(line: string): void {
  process.stderr.write(`[${benchName()}] ${line}\n`);
}

function benchName(): string {
  const f = process.argv[1] ?? '';
  const m = /([^/\\]+)\.bench\.ts$/.exec(f);
  return m ? m[1]! : 'bench';
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Rotates `items` by `r` positions: used to interleave contenders in a different order each round. */
export function rotate<T>(items: T[], r: number): T[] {
  const k = items.length ? r % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}

export function fail(message: string): never {
  process.stderr.write(`FAIL: ${message}\n`);
  process.exit(1);
}
