import { randomBytes } from 'node:crypto';
import { AesIge } from '../src/crypto/aes-ige';
const key = randomBytes(32), iv = randomBytes(32);
for (const size of [16, 64, 128, 256, 512, 1024, 4096, 16384]) {
  const data = randomBytes(size);
  const out = new Uint8Array(size);
  const reps = Math.max(200, Math.round((4 << 20) / size));
  const fns: [string, () => void][] = [
    ['js', () => new AesIge(key, iv).decryptJs(data, out)],
    ['wasm', () => new AesIge(key, iv).decryptWasm(data, out)],
    ['jsReused', (() => { const a = new AesIge(key, iv); return () => a.decryptJs(data, out); })()],
    ['wasmReused', (() => { const a = new AesIge(key, iv); return () => a.decryptWasm(data, out); })()],
  ];
  const res: Record<string, number[]> = {};
  for (const [n] of fns) res[n] = [];
  for (let r = 0; r < 11; r++) for (let j = 0; j < fns.length; j++) {
    const [n, f] = fns[(j + r) % fns.length]!;
    const t = process.hrtime.bigint(); for (let i = 0; i < reps; i++) f();
    const s = Number(process.hrtime.bigint() - t) / 1e3 / reps;
    if (r >= 2) res[n]!.push(s);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  console.log(`size ${size}: ` + fns.map(([n]) => `${n} ${med(res[n]!).toFixed(2)}`).join(', ') + ' µs/call');
}
