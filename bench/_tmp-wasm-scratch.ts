import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AesIge } from '../src/crypto/aes-ige';
const size = Number(process.argv[2] ?? 1 << 20);
const data = randomBytes(size), key = randomBytes(32), iv = randomBytes(32);
const ige = new AesIge(key, iv);
const warn = console.warn; console.warn = () => {};
const w = require('@mtcute/wasm') as any; console.warn = warn;
w.initSync(readFileSync(require.resolve('@mtcute/wasm/mtcute.wasm')));
const out1 = new Uint8Array(size), out2 = new Uint8Array(size);
ige.decryptJs(data, out1); ige.decryptWasm(data, out2);
if (Buffer.compare(out1, out2) !== 0 || Buffer.compare(Buffer.from(w.ige256Decrypt(data, key, iv)), out1) !== 0) throw new Error('mismatch');
const reps = Math.max(1, Math.round((8 << 20) / size));
const fns: [string, () => void][] = [['js', () => ige.decryptJs(data, out1)], ['wasm', () => ige.decryptWasm(data, out2)], ['newAesIgeWasm', () => new AesIge(key, iv).decryptWasm(data, out2)], ['mtcute', () => w.ige256Decrypt(data, key, iv)]];
const res: Record<string, number[]> = {};
for (const [n] of fns) res[n] = [];
for (let r = 0; r < 13; r++) for (let j = 0; j < fns.length; j++) {
  const [n, f] = fns[(j + r) % fns.length]!;
  const t = process.hrtime.bigint(); for (let i = 0; i < reps; i++) f();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r >= 2) res[n]!.push(reps * size / 1e6 / s);
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
console.log(`size ${size}: ` + fns.map(([n]) => `${n} ${med(res[n]!).toFixed(1)}`).join(', ') + ` MB/s; wasm/js ${(med(res.wasm!) / med(res.js!)).toFixed(2)}`);
