// Mutators over valid encodings: bit flips, byte insert/delete, length-field edits (TL counts and lengths set to
// huge, negative, off-by-one), TL bytes-prefix edits, splices of two inputs, truncation, region repeats, and for
// text targets token inserts, number swaps and bracket runs. All draws come from the given Rng.
import type { Rng } from './prng';

export interface MutateOptions {
  /** Largest input a mutation may produce (repeats and inserts stop there). */
  maxSize: number;
  /** Text target: add the text mutators (tokens, numbers, nesting, lines). */
  text?: boolean;
  /** Words that mean something to the decoder (`###`, `{{`, `flags.0?`, …). */
  tokens?: readonly string[];
}

const enc = new TextEncoder();
const VECTOR_ID = 0x1cb5c415;

const INTERESTING_32 = [
  0, 1, 2, 3, 4, 7, 8, 15, 16, 253, 254, 255, 256, 0x7f, 0x80, 0xff, 0xfffe, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7ffffffe, 0x7fffffff, -0x80000000, -1, -2,
  -4, 0x40000000, 0x20000000,
];
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff, 0xef, 0xee, 0xdd, 0x7e, 253, 254];
const NUMBERS = [
  '0',
  '-1',
  '1',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740993',
  '1e308',
  '-0',
  '1.5',
  '99999999999999999999999999',
  'NaN',
  '0x10',
  '00',
  '1e-400',
];

function readI32(u8: Uint8Array, p: number): number {
  return u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24);
}

function writeI32(u8: Uint8Array, p: number, v: number): void {
  u8[p] = v & 0xff;
  u8[p + 1] = (v >>> 8) & 0xff;
  u8[p + 2] = (v >>> 16) & 0xff;
  u8[p + 3] = (v >>> 24) & 0xff;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A position, 4-aligned most of the time (TL and the transports are word-based). */
function position(rng: Rng, len: number, room = 0): number {
  const max = len - room;
  if (max <= 0) return 0;
  const p = rng.below(max + 1);
  return rng.chance(0.7) ? Math.min(p - (p % 4), max) : p;
}

type Mutator = (rng: Rng, u8: Uint8Array, corpus: readonly Uint8Array[], o: MutateOptions) => Uint8Array;

const flipBits: Mutator = (rng, u8) => {
  if (u8.length === 0) return rng.bytes(1 + rng.below(8));
  const out = Uint8Array.from(u8);
  const n = 1 + rng.below(rng.chance(0.8) ? 2 : 16);
  for (let i = 0; i < n; i++) out[rng.below(out.length)]! ^= 1 << rng.below(8);
  return out;
};

const setByte: Mutator = (rng, u8) => {
  if (u8.length === 0) return Uint8Array.of(rng.pick(INTERESTING_8));
  const out = Uint8Array.from(u8);
  out[rng.below(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.below(256);
  return out;
};

/** Finds words that look like a length or a count (0 ≤ v ≤ bytes left, or right after a vector id) and edits one. */
const editLength: Mutator = (rng, u8) => {
  if (u8.length < 4) return setInt32(rng, u8, [], { maxSize: 0 });
  const candidates: number[] = [];
  for (let p = 0; p + 4 <= u8.length; p += 4) {
    const v = readI32(u8, p);
    if ((v >= 0 && v <= u8.length) || (p >= 4 && readI32(u8, p - 4) >>> 0 === VECTOR_ID)) candidates.push(p);
  }
  if (candidates.length === 0) return setInt32(rng, u8, [], { maxSize: 0 });
  const p = rng.pick(candidates);
  const v = readI32(u8, p);
  const left = u8.length - p - 4;
  const choices = [
    v + 1,
    v - 1,
    v + 4,
    v - 4,
    v * 2,
    v * 1000,
    -v,
    -1,
    0,
    0x7fffffff,
    -0x80000000,
    0xffffff,
    1 << 24,
    1 << 28,
    left,
    left + 1,
    left >> 2,
    (left >> 2) + 1,
    (left >> 3) + 1,
    (left >> 4) + 1,
  ];
  const out = Uint8Array.from(u8);
  writeI32(out, p, rng.pick(choices) | 0);
  return out;
};

const setInt32: Mutator = (rng, u8) => {
  if (u8.length < 4) return concat(u8, new Uint8Array(4 - u8.length));
  const out = Uint8Array.from(u8);
  writeI32(out, position(rng, u8.length, 4), rng.pick(INTERESTING_32));
  return out;
};

/** A TL bytes prefix turned into its long form with a huge length, or into the invalid 0xff. */
const editBytesPrefix: Mutator = (rng, u8) => {
  if (u8.length < 4) return setByte(rng, u8, [], { maxSize: 0 });
  const out = Uint8Array.from(u8);
  const p = position(rng, u8.length, 4);
  const r = rng.below(4);
  if (r === 0) out[p] = 0xff;
  else {
    out[p] = 254;
    const len = r === 1 ? 0xffffff : r === 2 ? rng.below(0x1000000) : u8.length - p + rng.int(-8, 8);
    out[p + 1] = len & 0xff;
    out[p + 2] = (len >>> 8) & 0xff;
    out[p + 3] = (len >>> 16) & 0xff;
  }
  return out;
};

const insertBytes: Mutator = (rng, u8, _c, o) => {
  const p = position(rng, u8.length);
  let ins: Uint8Array;
  if (u8.length > 0 && rng.chance(0.5)) {
    const a = rng.below(u8.length);
    ins = u8.slice(a, a + 1 + rng.size(64));
  } else ins = rng.bytes(1 + rng.size(32));
  if (u8.length + ins.length > o.maxSize) return u8;
  return concat(u8.subarray(0, p), ins, u8.subarray(p));
};

const deleteBytes: Mutator = (rng, u8) => {
  if (u8.length === 0) return u8;
  const p = position(rng, u8.length - 1);
  const n = 1 + rng.size(Math.max(1, u8.length - p - 1));
  return concat(u8.subarray(0, p), u8.subarray(Math.min(u8.length, p + n)));
};

const truncate: Mutator = (rng, u8) => {
  if (u8.length === 0) return u8;
  return u8.slice(0, position(rng, u8.length - 1));
};

const splice: Mutator = (rng, u8, corpus, o) => {
  if (corpus.length === 0) return u8;
  const other = rng.pick(corpus);
  const a = position(rng, u8.length);
  const b = position(rng, other.length);
  const out = rng.chance(0.5) ? concat(u8.subarray(0, a), other.subarray(b)) : concat(other.subarray(0, b), u8.subarray(a));
  return out.length > o.maxSize ? out.slice(0, o.maxSize) : out;
};

const repeatRegion: Mutator = (rng, u8, _c, o) => {
  if (u8.length === 0) return u8;
  const a = position(rng, u8.length - 1);
  const len = 1 + rng.size(Math.min(256, u8.length - a - 1));
  const region = u8.subarray(a, a + len);
  const room = Math.floor((o.maxSize - u8.length) / Math.max(1, region.length));
  const k = Math.min(room, rng.chance(0.8) ? 1 + rng.below(8) : 1 + rng.below(4096));
  if (k <= 0) return u8;
  const parts: Uint8Array[] = [u8.subarray(0, a + len)];
  for (let i = 0; i < k; i++) parts.push(region);
  parts.push(u8.subarray(a + len));
  return concat(...parts);
};

/** A TL-sized unit (often the constructor id at the start) repeated many times: nesting as deep as the size allows. */
const repeatWord: Mutator = (rng, u8, _c, o) => {
  if (u8.length < 4) return u8;
  const unit = rng.pick([4, 4, 8, 12, 16]);
  const max = Math.floor((u8.length - unit) / 4) * 4;
  if (max < 0) return u8;
  const a = rng.chance(0.3) ? 0 : position(rng, max);
  const region = u8.subarray(a, a + unit);
  const room = Math.floor((o.maxSize - u8.length) / region.length);
  const k = Math.min(room, rng.chance(0.5) ? 2 + rng.below(15) : 1000 + rng.below(20000));
  if (k <= 0) return u8;
  const out = new Uint8Array(u8.length + k * region.length);
  out.set(u8.subarray(0, a));
  for (let i = 0; i < k; i++) out.set(region, a + i * region.length);
  out.set(u8.subarray(a), a + k * region.length);
  return out;
};

// ---- text mutators ----------------------------------------------------------------------------------------------

const insertToken: Mutator = (rng, u8, _c, o) => {
  const tokens = o.tokens ?? [];
  const t =
    tokens.length && rng.chance(0.8)
      ? rng.pick(tokens)
      : rng.pick(['\n', ' ', '"', '{', '}', '[', ']', ',', ':', '\\', '\r\n', '\u0000', '\u2028', '\ud800', '😀']);
  const p = rng.below(u8.length + 1);
  const ins = enc.encode(t);
  if (u8.length + ins.length > o.maxSize) return u8;
  return concat(u8.subarray(0, p), ins, u8.subarray(p));
};

const swapNumber: Mutator = (rng, u8) => {
  const spans: [number, number][] = [];
  for (let i = 0; i < u8.length; ) {
    if (u8[i]! >= 0x30 && u8[i]! <= 0x39) {
      let j = i;
      while (j < u8.length && u8[j]! >= 0x30 && u8[j]! <= 0x39) j++;
      spans.push([i, j]);
      i = j;
    } else i++;
  }
  if (spans.length === 0) return u8;
  const [a, b] = rng.pick(spans);
  return concat(u8.subarray(0, a), enc.encode(rng.pick(NUMBERS)), u8.subarray(b));
};

const nesting: Mutator = (rng, u8, _c, o) => {
  const open = rng.pick(['[', '{"a":', '{"_":"x","a":', '(', '<', 'Vector<', '{{', '/*']);
  const n = Math.min(rng.chance(0.7) ? 1 + rng.below(100) : 1 + rng.below(20000), Math.floor((o.maxSize - u8.length) / open.length));
  if (n <= 0) return u8;
  const p = rng.below(u8.length + 1);
  return concat(u8.subarray(0, p), enc.encode(open.repeat(n)), u8.subarray(p));
};

const duplicateLine: Mutator = (rng, u8, _c, o) => {
  const starts = [0];
  for (let i = 0; i < u8.length; i++) if (u8[i] === 0x0a) starts.push(i + 1);
  const s = rng.pick(starts);
  let e = u8.indexOf(0x0a, s);
  e = e < 0 ? u8.length : e + 1;
  const line = u8.subarray(s, e);
  const k = rng.chance(0.9) ? 1 : 1 + rng.below(2000);
  if (u8.length + line.length * k > o.maxSize || line.length === 0) return u8;
  const parts: Uint8Array[] = [u8.subarray(0, e)];
  for (let i = 0; i < k; i++) parts.push(line.at(-1) === 0x0a ? line : concat(line, Uint8Array.of(0x0a)));
  parts.push(u8.subarray(e));
  return concat(...parts);
};

const BINARY: readonly [Mutator, number][] = [
  [flipBits, 14],
  [setByte, 8],
  [editLength, 16],
  [setInt32, 8],
  [editBytesPrefix, 6],
  [insertBytes, 8],
  [deleteBytes, 8],
  [truncate, 8],
  [splice, 8],
  [repeatRegion, 6],
  [repeatWord, 4],
];

const TEXT: readonly [Mutator, number][] = [
  [flipBits, 4],
  [setByte, 3],
  [insertBytes, 6],
  [deleteBytes, 10],
  [truncate, 6],
  [splice, 8],
  [repeatRegion, 5],
  [insertToken, 20],
  [swapNumber, 12],
  [nesting, 4],
  [duplicateLine, 8],
];

function choose(rng: Rng, table: readonly [Mutator, number][]): Mutator {
  let total = 0;
  for (const [, w] of table) total += w;
  let r = rng.below(total);
  for (const [m, w] of table) {
    if (r < w) return m;
    r -= w;
  }
  return table[0]![0];
}

/** One to a few stacked mutations of `input` (never modified in place). */
export function mutate(rng: Rng, input: Uint8Array, corpus: readonly Uint8Array[], o: MutateOptions): Uint8Array {
  const table = o.text ? TEXT : BINARY;
  const n = rng.chance(0.6) ? 1 : rng.chance(0.7) ? 2 + rng.below(2) : 4 + rng.below(5);
  let out = input;
  for (let i = 0; i < n; i++) out = choose(rng, table)(rng, out, corpus, o);
  return out.length > o.maxSize ? out.slice(0, o.maxSize) : out;
}
