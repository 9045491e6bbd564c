// Quick measure of AES-256-IGE throughput on 1 MiB buffers: ours (pure JS T-tables) vs node:crypto ECB per block
// vs @mtcute/wasm (not our dependency; only for the figure). Run: node --import tsx bench/ige-primitive.ts
import { createCipheriv, randomBytes } from 'node:crypto';
import { AesIge } from '../src/crypto/aes-ige';

const MiB = 1 << 20;
const data = randomBytes(MiB);
const key = randomBytes(32);
const iv = randomBytes(32);

function nodePerBlockEncrypt(input: Uint8Array, k: Uint8Array, v: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-ecb', k, null).setAutoPadding(false);
  const out = new Uint8Array(input.length);
  let y = v.subarray(0, 16), x = v.subarray(16, 32);
  const t = new Uint8Array(16);
  for (let o = 0; o < input.length; o += 16) {
    const p = input.subarray(o, o + 16);
    for (let i = 0; i < 16; i++) t[i] = p[i]! ^ y[i]!;
    const e = c.update(t);
    for (let i = 0; i < 16; i++) out[o + i] = e[i]! ^ x[i]!;
    x = p; y = out.subarray(o, o + 16);
  }
  return out;
}

/** Median MB/s over `trials` timings of `rounds` calls each, after a warm-up. */
function measure(name: string, fn: () => void, rounds = 8, trials = 5): number {
  for (let i = 0; i < 5; i++) fn();
  const results: number[] = [];
  for (let t = 0; t < trials; t++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    results.push((rounds / s) * (MiB / 1e6));
  }
  results.sort((a, b) => a - b);
  const mbs = results[trials >> 1]!;
  console.log(`${name.padEnd(36)} ${mbs.toFixed(1)} MB/s (min ${results[0]!.toFixed(1)}, max ${results[trials - 1]!.toFixed(1)})`);
  return mbs;
}

async function main(): Promise<void> {
  const ige = new AesIge(key, iv);
  const out = new Uint8Array(MiB);
  measure('ours encrypt (reused instance)', () => ige.encrypt(data, out), 10);
  measure('ours decrypt (reused instance)', () => ige.decrypt(data, out), 10);
  measure('ours encrypt (new AesIge per call)', () => new AesIge(key, iv).encrypt(data), 10);
  measure('node aes-256-ecb per block', () => nodePerBlockEncrypt(data, key, iv), 2, 3);
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const warn = console.warn;
    console.warn = () => {};
    const wasm = require('@mtcute/wasm') as { initSync?: (m?: unknown) => void; ige256Encrypt: (d: Uint8Array, k: Uint8Array, i: Uint8Array) => Uint8Array; ige256Decrypt: (d: Uint8Array, k: Uint8Array, i: Uint8Array) => Uint8Array; getWasmUrl?: () => URL };
    console.warn = warn;
    const fs = await import('node:fs');
    const path = require.resolve('@mtcute/wasm/mtcute.wasm');
    wasm.initSync?.(fs.readFileSync(path));
    measure('@mtcute/wasm encrypt', () => wasm.ige256Encrypt(data, key, iv), 10);
    measure('@mtcute/wasm decrypt', () => wasm.ige256Decrypt(data, key, iv), 10);
  } catch (e) {
    console.log('@mtcute/wasm unavailable:', (e as Error).message);
  }
}
void main();
