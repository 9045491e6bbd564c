#!/usr/bin/env node
// Generates the WebAssembly module behind AES-256-IGE decryption (src/crypto/aes-ige-wasm.ts) and writes it as
// base64 into src/crypto/aes-ige-wasm.generated.ts. No toolchain: the module is small enough to assemble by hand,
// so this script emits the binary format directly (a few opcodes, one function, the 14 AES rounds unrolled).
//
//   node scripts/gen-aes-wasm.mjs             regenerate src/crypto/aes-ige-wasm.generated.ts
//   node scripts/gen-aes-wasm.mjs --check     exit 1 if the committed file differs from what this script produces
//   node scripts/gen-aes-wasm.mjs --wasm F    also write the raw module to F (for inspection with other tools)
//
// The module (one memory, exported as `memory`; one function, exported as `decrypt`):
//   [0, 4096)              LTD0..LTD3: the AES decryption T-tables byte-swapped for little-endian state words
//                          (src/crypto/aes-ige.ts), 256 i32 each; written by the JS side once per instance
//   [4096, 4352)           INV_SBOX, 256 bytes (JS side, once)
//   [4352, 4592)           the 60 decryption round keys (equivalent inverse cipher order) as little-endian words,
//                          i.e. aes-ige.ts's `dkLe` (JS side, per call)
//   [4608, 4640)           IGE chain: previous ciphertext block (16) | previous plaintext block (16), MTProto's IV
//                          layout; decrypt() reads it and writes the chain state back when it returns, so a long
//                          buffer can be decrypted in consecutive chunks
//   [DATA, DATA + CHUNK)   data area: decrypt(ptr, len) decrypts len bytes (a multiple of 16) at ptr in place
// State words are loaded as little-endian i32s, so byte k of a column is bits 8k..8k+7. A table lookup
// T_j[byte k of s] is one `i32.load offset=1024*j` at `(s >>> (8k-2)) & 1020` (the ×4 folded into the shift).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_TS = join(ROOT, 'src/crypto/aes-ige-wasm.generated.ts');

export const LAYOUT = {
  tables: 0, // 4 × 1024 bytes
  invSbox: 4096,
  roundKeys: 4352,
  chain: 4608,
  data: 65536,
  chunk: 65536,
};
const PAGES = Math.ceil((LAYOUT.data + LAYOUT.chunk) / 65536);

// ---------------------------------------------------------------------------------------------- encoding

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n) {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];

// ---------------------------------------------------------------------------------------------- instructions

/** A tiny assembler: each method appends one instruction, named as in the text format. */
class Code {
  bytes = [];
  op(...b) {
    this.bytes.push(...b);
    return this;
  }
  get(i) {
    return this.op(0x20, ...uleb(i));
  }
  set(i) {
    return this.op(0x21, ...uleb(i));
  }
  tee(i) {
    return this.op(0x22, ...uleb(i));
  }
  const(v) {
    return this.op(0x41, ...sleb(v | 0));
  }
  load(offset) {
    return this.op(0x28, 2, ...uleb(offset));
  } // i32.load align=4
  load8u(offset) {
    return this.op(0x2d, 0, ...uleb(offset));
  } // i32.load8_u
  store(offset) {
    return this.op(0x36, 2, ...uleb(offset));
  } // i32.store align=4
  add() {
    return this.op(0x6a);
  }
  and() {
    return this.op(0x71);
  }
  or() {
    return this.op(0x72);
  }
  xor() {
    return this.op(0x73);
  }
  shl() {
    return this.op(0x74);
  }
  shrU() {
    return this.op(0x76);
  }
  ltU() {
    return this.op(0x49);
  }
  geU() {
    return this.op(0x4f);
  }
  block() {
    return this.op(0x02, 0x40);
  }
  loop() {
    return this.op(0x03, 0x40);
  }
  brIf(depth) {
    return this.op(0x0d, ...uleb(depth));
  }
  end() {
    return this.op(0x0b);
  }
}

// ---------------------------------------------------------------------------------------------- decrypt()

function decryptBody() {
  // params: 0 = ptr, 1 = len (turned into the end pointer)
  const PTR = 0,
    END = 1;
  let next = 2;
  const alloc = (n) => Array.from({ length: n }, () => next++);
  const X = alloc(4); // previous plaintext block
  const Y = alloc(4); // previous ciphertext block
  const C = alloc(4); // this ciphertext block
  const S = alloc(4);
  const T = alloc(4);
  const nLocals = next - 2;
  const c = new Code();
  const { tables, invSbox, roundKeys: RK, chain: CHAIN } = LAYOUT;
  const rk = (i) => c.const(0).load(RK + 4 * i);

  // end = ptr + len
  c.get(PTR).get(END).add().set(END);
  for (let i = 0; i < 4; i++)
    c.const(0)
      .load(CHAIN + 4 * i)
      .set(Y[i]);
  for (let i = 0; i < 4; i++)
    c.const(0)
      .load(CHAIN + 16 + 4 * i)
      .set(X[i]);

  /** Pushes T_table[byte k of local s] (a 32-bit table entry). */
  const lookup = (table, s, k) => {
    c.get(s);
    if (k === 0) c.const(2).shl();
    else c.const(8 * k - 2).shrU();
    c.const(1020)
      .and()
      .load(tables + 1024 * table);
  };
  /** Pushes INV_SBOX[byte k of local s] << 8k. */
  const sbox = (s, k) => {
    c.get(s);
    if (k > 0) c.const(8 * k).shrU();
    if (k < 3) c.const(255).and();
    c.load8u(invSbox);
    if (k > 0) c.const(8 * k).shl();
  };

  c.block();
  c.get(PTR).get(END).geU().brIf(0); // len 0: nothing to do
  c.loop();
  // s = c ^ x ^ rk[0..3]
  for (let i = 0; i < 4; i++) {
    c.get(PTR)
      .load(4 * i)
      .tee(C[i])
      .get(X[i])
      .xor();
    rk(i).xor().set(S[i]);
  }
  // 13 full rounds: t_i = Td0[s_i.b0] ^ Td1[s_{i+3}.b1] ^ Td2[s_{i+2}.b2] ^ Td3[s_{i+1}.b3] ^ rk
  let from = S,
    to = T;
  for (let r = 1; r < 14; r++) {
    for (let i = 0; i < 4; i++) {
      lookup(0, from[i], 0);
      lookup(1, from[(i + 3) & 3], 1);
      c.xor();
      lookup(2, from[(i + 2) & 3], 2);
      c.xor();
      lookup(3, from[(i + 1) & 3], 3);
      c.xor();
      rk(4 * r + i)
        .xor()
        .set(to[i]);
    }
    [from, to] = [to, from];
  }
  // last round: InvSubBytes + InvShiftRows + AddRoundKey, then ^ previous ciphertext; store; chain
  for (let i = 0; i < 4; i++) {
    c.get(PTR);
    sbox(from[i], 0);
    sbox(from[(i + 3) & 3], 1);
    c.or();
    sbox(from[(i + 2) & 3], 2);
    c.or();
    sbox(from[(i + 1) & 3], 3);
    c.or();
    rk(56 + i)
      .xor()
      .get(Y[i])
      .xor()
      .tee(X[i])
      .store(4 * i);
  }
  for (let i = 0; i < 4; i++) c.get(C[i]).set(Y[i]);
  c.get(PTR).const(16).add().tee(PTR).get(END).ltU().brIf(0);
  c.end(); // loop
  c.end(); // block
  for (let i = 0; i < 4; i++)
    c.const(0)
      .get(Y[i])
      .store(CHAIN + 4 * i);
  for (let i = 0; i < 4; i++)
    c.const(0)
      .get(X[i])
      .store(CHAIN + 16 + 4 * i);
  c.end(); // function
  const body = [...vec([[...uleb(nLocals), 0x7f]]), ...c.bytes];
  return [...uleb(body.length), ...body];
}

export function buildModule() {
  const I32 = 0x7f;
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version 1
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([])]])), // type 0: (i32, i32) -> ()
    ...section(3, vec([uleb(0)])), // func 0 has type 0
    ...section(5, vec([[0x00, ...uleb(PAGES)]])), // memory 0: PAGES pages, no maximum
    ...section(
      7,
      vec([
        [...str('memory'), 0x02, 0],
        [...str('decrypt'), 0x00, 0],
      ]),
    ),
    ...section(10, vec([decryptBody()])),
  ]);
}

// ---------------------------------------------------------------------------------------------- output

function render(bytes) {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,116}/g) ?? [''];
  return `// Generated by scripts/gen-aes-wasm.mjs — do not edit; rerun \`node scripts/gen-aes-wasm.mjs\` instead.
// AES-256-IGE decryption as a WebAssembly module (${bytes.length} bytes), loaded by src/crypto/aes-ige-wasm.ts.

/** Memory layout of the module (byte offsets); see scripts/gen-aes-wasm.mjs. */
export const AES_IGE_WASM_LAYOUT = ${JSON.stringify(LAYOUT).replace(/"/g, '').replace(/,/g, ', ').replace(/:/g, ': ')} as const;

export const AES_IGE_WASM_BASE64 =
${lines.map((l) => `  '${l}'`).join(' +\n')};
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = buildModule();
  new WebAssembly.Module(bytes); // validates, throws on a malformed module
  const text = render(bytes);
  const wasmAt = process.argv.indexOf('--wasm');
  if (wasmAt > 0) writeFileSync(process.argv[wasmAt + 1], bytes);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUT_TS, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`${OUT_TS} is out of date: run node scripts/gen-aes-wasm.mjs`);
      process.exit(1);
    }
    console.log(`${OUT_TS} is up to date (${bytes.length} bytes of wasm)`);
  } else {
    writeFileSync(OUT_TS, text);
    console.log(`wrote ${OUT_TS} (${bytes.length} bytes of wasm)`);
  }
}
