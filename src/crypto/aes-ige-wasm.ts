// AES-256-IGE decryption in WebAssembly: the module assembled by scripts/gen-aes-wasm.mjs (no toolchain, no
// dependency; its bytes are in aes-ige-wasm.generated.ts), instantiated synchronously once per thread (main thread
// and each decrypt worker) on first use. Same algorithm as AesIge's little-endian JS path (T-tables on LE words,
// 14 rounds unrolled, the IGE chain in locals), but compiled ahead by V8 without typed-array bounds checks or
// deoptimisation guards. The data goes through a 64 KiB area inside the module's memory (copy in, decrypt in
// place, copy out: two memcpys, cache-resident), chunk by chunk with the chain carried in memory across chunks.
import { AES_IGE_WASM_BASE64, AES_IGE_WASM_LAYOUT as L } from './aes-ige-wasm.generated';

/** The subset of the WebAssembly JS API used here (the project's `lib` has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: Record<string, unknown> };
}

interface WasmMemory {
  buffer: ArrayBuffer;
}

export interface IgeWasmTables {
  /** LTD0..LTD3: the decryption T-tables for little-endian state words. */
  ltd: readonly [Int32Array, Int32Array, Int32Array, Int32Array];
  invSbox: Uint8Array;
}

export interface IgeWasm {
  /**
   * Decrypts `data` (length a multiple of 16) into `out` (`out` may be `data` itself; no other overlap).
   * `rkLe`: the 60 decryption round keys as little-endian words; `ivLe`: the 8 IV words as little-endian words
   * (i.e. the 32 IV bytes read as native Int32s).
   */
  decrypt(rkLe: Int32Array, ivLe: Int32Array, data: Uint8Array, out: Uint8Array): void;
}

/** Instantiates the module and writes the tables into it. Throws when WebAssembly is missing or refuses it. */
export function instantiateIgeWasm(tables: IgeWasmTables): IgeWasm {
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wa) throw new Error('WebAssembly is not available');
  const bytes = Buffer.from(AES_IGE_WASM_BASE64, 'base64');
  const instance = new wa.Instance(new wa.Module(bytes), {});
  const memory = instance.exports.memory as WasmMemory;
  const run = instance.exports.decrypt as (ptr: number, len: number) => void;
  // The module never grows its memory, so these views stay attached.
  const mem8 = new Uint8Array(memory.buffer);
  const mem32 = new Int32Array(memory.buffer);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('big-endian host: the module expects little-endian words');
  for (let t = 0; t < 4; t++) mem32.set(tables.ltd[t]!, (L.tables >> 2) + 256 * t);
  mem8.set(tables.invSbox, L.invSbox);
  const rkAt = L.roundKeys >> 2;
  const chainAt = L.chain >> 2;
  const chunk = L.chunk;
  const dataAt = L.data;
  return {
    decrypt(rkLe, ivLe, data, out) {
      mem32.set(rkLe, rkAt);
      mem32.set(ivLe, chainAt);
      const n = data.length;
      for (let o = 0; o < n; o += chunk) {
        const len = Math.min(n - o, chunk);
        mem8.set(o === 0 && len === n ? data : data.subarray(o, o + len), dataAt);
        run(dataAt, len);
        out.set(mem8.subarray(dataAt, dataAt + len), o);
      }
    },
  };
}
