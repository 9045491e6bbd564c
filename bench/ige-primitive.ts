// Quick measure of AES-256-IGE throughput: ours (decryption in our WebAssembly module and in pure JS, encryption
// in pure JS) vs node:crypto ECB per block vs @mtcute/wasm (not our dependency; only for the figure).
//   node --import tsx bench/ige-primitive.ts [bytes] [trials]     (default 1 MiB, 9 trials)
// The cases are interleaved: each trial runs every case once (the order rotates), and each figure is the median
// over the trials, so a burst of load from elsewhere on the machine hits all cases alike.
import { createCipheriv, randomBytes } from 'node:crypto';
import { AesIge, igeWasmUnavailable } from '../src/crypto/aes-ige';

const SIZE = Number(process.argv[2] ?? 1 << 20);
const TRIALS = Number(process.argv[3] ?? 9);
const data = randomBytes(SIZE);
const key = randomBytes(32);
const iv = randomBytes(32);

function nodePerBlockEncrypt(input: Uint8Array, k: Uint8Array, v: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-ecb', k, null).setAutoPadding(false);
  const out = new Uint8Array(input.length);
  let y = v.subarray(0, 16),
    x = v.subarray(16, 32);
  const t = new Uint8Array(16);
  for (let o = 0; o < input.length; o += 16) {
    const p = input.subarray(o, o + 16);
    for (let i = 0; i < 16; i++) t[i] = p[i]! ^ y[i]!;
    const e = c.update(t);
    for (let i = 0; i < 16; i++) out[o + i] = e[i]! ^ x[i]!;
    x = p;
    y = out.subarray(o, o + 16);
  }
  return out;
}

interface Case {
  name: string;
  fn: () => void;
  /** bytes per trial ≈ this × 8 MiB (so each trial lasts long enough to time) */
  weight?: number;
}

function loadMtcute(): Case[] {
  try {
    const warn = console.warn;
    console.warn = () => {};
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasm = require('@mtcute/wasm') as {
      initSync?: (m?: unknown) => void;
      ige256Encrypt: (d: Uint8Array, k: Uint8Array, i: Uint8Array) => Uint8Array;
      ige256Decrypt: (d: Uint8Array, k: Uint8Array, i: Uint8Array) => Uint8Array;
    };
    console.warn = warn;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('node:fs') as typeof import('node:fs');
    wasm.initSync?.(fs.readFileSync(require.resolve('@mtcute/wasm/mtcute.wasm')));
    return [
      { name: '@mtcute/wasm encrypt', fn: () => wasm.ige256Encrypt(data, key, iv) },
      { name: '@mtcute/wasm decrypt', fn: () => wasm.ige256Decrypt(data, key, iv) },
    ];
  } catch (e) {
    console.log('@mtcute/wasm unavailable:', (e as Error).message);
    return [];
  }
}

function main(): void {
  const unavailable = igeWasmUnavailable();
  if (unavailable) console.log(`our WebAssembly decryption is unavailable (${unavailable}): 'wasm' below runs the JS path`);
  const ige = new AesIge(key, iv);
  const out = new Uint8Array(SIZE);
  const cases: Case[] = [
    { name: 'ours decrypt wasm (reused instance)', fn: () => ige.decryptWasm(data, out) },
    { name: 'ours decrypt js (reused instance)', fn: () => ige.decryptJs(data, out) },
    { name: 'ours decrypt (new AesIge per call)', fn: () => new AesIge(key, iv).decrypt(data) },
    { name: 'ours encrypt js (reused instance)', fn: () => ige.encrypt(data, out) },
    { name: 'node aes-256-ecb per block (encrypt)', fn: () => nodePerBlockEncrypt(data, key, iv), weight: 0.1 },
    ...loadMtcute(),
  ];
  const reps = (c: Case): number => Math.max(1, Math.round(((c.weight ?? 1) * 8 * (1 << 20)) / SIZE));
  for (const c of cases) for (let i = 0; i < Math.max(2, reps(c) >> 1); i++) c.fn(); // warm-up (and JIT tier-up)
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let t = 0; t < TRIALS; t++) {
    for (let j = 0; j < cases.length; j++) {
      const c = cases[(j + t) % cases.length]!;
      const n = reps(c);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) c.fn();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      samples.get(c.name)!.push((n * SIZE) / 1e6 / s);
    }
  }
  const med = new Map<string, number>();
  console.log(`${SIZE} bytes per call, ${TRIALS} interleaved trials (median, min..max MB/s):`);
  for (const c of cases) {
    const r = samples.get(c.name)!.sort((a, b) => a - b);
    med.set(c.name, r[r.length >> 1]!);
    console.log(`  ${c.name.padEnd(38)} ${r[r.length >> 1]!.toFixed(1).padStart(6)} (${r[0]!.toFixed(1)}..${r[r.length - 1]!.toFixed(1)})`);
  }
  const w = med.get('ours decrypt wasm (reused instance)')!;
  const j = med.get('ours decrypt js (reused instance)')!;
  console.log(`  decrypt wasm / js: ${(w / j).toFixed(2)}×`);
}
main();
