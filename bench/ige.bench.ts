// AES-256-IGE throughput (MB/s, 1 MB = 10^6 bytes) on a 1 MiB buffer, decrypt and encrypt.
//   ours        src/crypto/aes-ige: aesIgeEncrypt/aesIgeDecrypt (the contract functions, key schedule included;
//               decryption runs in our WebAssembly module, encryption through node:crypto CBC)
//   oursJs      src/crypto/aes-ige: the pure-JS paths, new AesIge(key, iv).decryptJs / .encrypt (the fallback
//               without WebAssembly, and what `ours` decryption was before the module)
//   oursReused  src/crypto/aes-ige: one AesIge instance reused (key schedule excluded)
//   oursReusedJs  the same instance, decryption forced through the pure-JS path (decryptJs; encrypt as oursReused):
//               oursReused / oursReusedJs is the WebAssembly module's gain, measured interleaved in one process
//   gramjs      telegram/crypto/IGE: new IGE(key, iv).encryptIge/decryptIge (how GramJS calls it per message)
//   mtcute      @mtcute/node NodeCryptoProvider.createAesIge(key, iv) → @mtcute/wasm ige256* (SIMD build when available)
//   nodeEcb     node:crypto aes-256-ecb called once per 16-byte block, IGE chaining in JS (baseline)
// All contenders are checked to produce byte-identical output before anything is timed (exit 1 otherwise).
// Rounds are interleaved (the order rotates every round); each figure is the median over the timed rounds.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { aesIgeDecrypt, aesIgeEncrypt, AesIge, igeWasmUnavailable } from '../src/crypto/aes-ige';
import { IGE as GramIge } from 'telegram/crypto/IGE';
import { emit, fail, log, median, nowMs, rotate, round } from './_lib';

type Fn = (data: Buffer, key: Buffer, iv: Buffer) => Uint8Array;
interface Contender {
  name: string;
  encrypt: Fn;
  decrypt: Fn;
}

const MiB = 1 << 20;
const WARMUP = Number(process.env.BENCH_IGE_WARMUP ?? 3);
const RUNS = Number(process.env.BENCH_IGE_RUNS ?? 21);

function nodeEcbIge(decrypt: boolean): Fn {
  return (input, key, iv) => {
    const c = decrypt ? createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false) : createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const out = Buffer.allocUnsafe(input.length);
    const t = Buffer.allocUnsafe(16);
    // MTProto layout: iv = [first "previous ciphertext" block (16) | first "previous plaintext" block (16)]
    let prevC: Uint8Array = iv.subarray(0, 16);
    let prevP: Uint8Array = iv.subarray(16, 32);
    for (let o = 0; o < input.length; o += 16) {
      const blk = input.subarray(o, o + 16);
      // encrypt: c = E(p ^ prevC) ^ prevP        decrypt: p = D(c ^ prevP) ^ prevC
      const a = decrypt ? prevP : prevC;
      const b = decrypt ? prevC : prevP;
      for (let i = 0; i < 16; i++) t[i] = blk[i]! ^ a[i]!;
      const e = c.update(t);
      for (let i = 0; i < 16; i++) out[o + i] = e[i]! ^ b[i]!;
      if (decrypt) {
        prevC = blk;
        prevP = out.subarray(o, o + 16);
      } else {
        prevP = blk;
        prevC = out.subarray(o, o + 16);
      }
    }
    return out;
  };
}

async function loadMtcute(): Promise<Contender | null> {
  try {
    // @mtcute ships CJS bundles that print a deprecation banner on load; this bench runs as CJS under tsx.
    (globalThis as Record<string, unknown>)._MTCUTE_CJS_DEPRECATION_WARNED = true;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('@mtcute/node/utils.js') as {
      NodeCryptoProvider: new () => {
        initialize(): Promise<void>;
        createAesIge(key: Uint8Array, iv: Uint8Array): { encrypt(d: Uint8Array): Uint8Array; decrypt(d: Uint8Array): Uint8Array };
      };
    };
    const provider = new mod.NodeCryptoProvider();
    await provider.initialize();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const simd = (require('@mtcute/wasm') as { SIMD_AVAILABLE: boolean }).SIMD_AVAILABLE;
    log(`mtcute: NodeCryptoProvider initialised (${simd ? 'mtcute-simd.wasm' : 'mtcute.wasm'})`);
    return {
      name: 'mtcute',
      encrypt: (d, k, v) => provider.createAesIge(k, v).encrypt(d),
      decrypt: (d, k, v) => provider.createAesIge(k, v).decrypt(d),
    };
  } catch (e) {
    log(`mtcute skipped: ${(e as Error).message}`);
    return null;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function verify(contenders: Contender[]): void {
  for (const size of [16, 32, 48, 1024 + 16, 65536, MiB]) {
    for (let trial = 0; trial < 2; trial++) {
      const data = randomBytes(size);
      const key = randomBytes(32);
      const iv = trial === 0 ? Buffer.alloc(32) : randomBytes(32); // zero IV is what the handshake's RSA_PAD uses
      const dataCopy = Buffer.from(data);
      const ref = contenders[0]!;
      const refEnc = ref.encrypt(data, key, iv);
      const refDec = ref.decrypt(data, key, iv);
      for (const c of contenders) {
        const enc = c.encrypt(data, key, iv);
        if (!sameBytes(enc, refEnc)) {
          fail(`IGE encrypt mismatch: ${c.name} vs ${ref.name} (size ${size}, trial ${trial}, first differing byte ${firstDiff(enc, refEnc)})`);
        }
        const dec = c.decrypt(data, key, iv);
        if (!sameBytes(dec, refDec)) {
          fail(`IGE decrypt mismatch: ${c.name} vs ${ref.name} (size ${size}, trial ${trial}, first differing byte ${firstDiff(dec, refDec)})`);
        }
        const back = c.decrypt(Buffer.from(enc), key, iv);
        if (!sameBytes(back, data)) fail(`IGE round trip failed for ${c.name} (size ${size}, trial ${trial})`);
        if (!sameBytes(data, dataCopy)) fail(`${c.name} modified its input buffer (size ${size})`);
      }
    }
  }
  log(`verified: ${contenders.map((c) => c.name).join(', ')} agree on encrypt and decrypt (sizes 16 B .. 1 MiB, zero and random IV)`);
}

async function main(): Promise<void> {
  const contenders: Contender[] = [
    { name: 'ours', encrypt: (d, k, v) => aesIgeEncrypt(d, k, v), decrypt: (d, k, v) => aesIgeDecrypt(d, k, v) },
    { name: 'oursJs', encrypt: (d, k, v) => new AesIge(k, v).encrypt(d), decrypt: (d, k, v) => new AesIge(k, v).decryptJs(d) },
    { name: 'gramjs', encrypt: (d, k, v) => new GramIge(k, v).encryptIge(d), decrypt: (d, k, v) => new GramIge(k, v).decryptIge(d) },
    { name: 'nodeEcb', encrypt: nodeEcbIge(false), decrypt: nodeEcbIge(true) },
  ];
  const mtcute = await loadMtcute();
  if (mtcute) contenders.splice(3, 0, mtcute);
  const wasmOff = igeWasmUnavailable();
  log(wasmOff ? `ours: WebAssembly decryption unavailable (${wasmOff}), ours = oursJs for decrypt` : 'ours: decryption through our WebAssembly module');

  verify(contenders);

  const data = randomBytes(MiB);
  const key = randomBytes(32);
  const iv = randomBytes(32);
  // oursReused: one key schedule for the whole bench (what a caller holding an AesIge gets); same output as ours.
  const reused = new AesIge(key, iv);
  const reusedOut = new Uint8Array(MiB);
  const timed: { name: string; encrypt: () => Uint8Array; decrypt: () => Uint8Array }[] = [
    ...contenders.map((c) => ({ name: c.name, encrypt: () => c.encrypt(data, key, iv), decrypt: () => c.decrypt(data, key, iv) })),
    { name: 'oursReused', encrypt: () => reused.encrypt(data, reusedOut), decrypt: () => reused.decrypt(data, reusedOut) },
    // same instance, JS decryption; encrypt is the same call as oursReused's (AesIge has one encryption path)
    { name: 'oursReusedJs', encrypt: () => reused.encrypt(data, reusedOut), decrypt: () => reused.decryptJs(data, reusedOut) },
  ];
  if (!sameBytes(reused.encrypt(data, reusedOut), contenders[0]!.encrypt(data, key, iv))) fail('AesIge instance output differs from aesIgeEncrypt');
  if (!sameBytes(reused.decrypt(data, reusedOut), contenders[0]!.decrypt(data, key, iv))) fail('AesIge instance output differs from aesIgeDecrypt');
  if (!sameBytes(reused.decryptJs(data, reusedOut), contenders[0]!.decrypt(data, key, iv))) fail('AesIge.decryptJs output differs from aesIgeDecrypt');

  for (const op of ['decrypt', 'encrypt'] as const) {
    const samples = new Map<string, number[]>(timed.map((t) => [t.name, []]));
    const t0 = nowMs();
    for (let r = 0; r < WARMUP + RUNS; r++) {
      for (const t of rotate(timed, r)) {
        const s = nowMs();
        t[op]();
        const ms = nowMs() - s;
        if (r >= WARMUP) samples.get(t.name)!.push(MiB / 1e6 / (ms / 1e3));
      }
    }
    const med = (n: string): number | null => (samples.has(n) ? round(median(samples.get(n)!), 1) : null);
    const ours = med('ours')!;
    const gramjs = med('gramjs')!;
    log(
      `${op}: ${WARMUP} warm-up + ${RUNS} timed rounds in ${((nowMs() - t0) / 1000).toFixed(1)} s; ` +
        timed.map((t) => `${t.name} ${med(t.name)} MB/s`).join(', '),
    );
    emit({
      bench: `ige-${op}`,
      unit: 'MB/s',
      ours,
      gramjs,
      ratio: round(ours / gramjs, 2),
      oursJs: med('oursJs'),
      oursReused: med('oursReused'),
      oursReusedJs: med('oursReusedJs'),
      mtcute: mtcute ? med('mtcute') : null,
      nodeEcb: med('nodeEcb'),
      bytes: MiB,
      runs: RUNS,
    });
  }
}

main().catch((e: unknown) => fail((e as Error).stack ?? String(e)));
