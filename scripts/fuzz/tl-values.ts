// Seeded values for every constructor and method of a schema, in the codec's internal representation, so the
// corpora start from valid encodings (every field type, flags on and off, vectors, nested objects).
import { resolveTlType } from '../../src/tl/codec';
import type { TlSchema } from '../../src/tl/schema';
import type { TlEntry, TlObject } from '../../src/tl/types';
import type { Rng } from './prng';

const INTS = [0, 1, -1, 2, 7, 100, 0x7fffffff, -0x80000000, 1700000000];
const WORDS = ['', 'a', 'hello', 'Привет', 'x'.repeat(300), '😀 emoji', 'PHONE_MIGRATE_4', 'line\nbreak'];

export class TlValueGen {
  private readonly simplest = new Map<string, TlEntry | undefined>();

  constructor(
    readonly schema: TlSchema,
    private readonly rng: Rng,
  ) {}

  /** A call or constructor object for `entry` (flags decided at random, nested values at most `depth` deep). */
  entryValue(entry: TlEntry, depth = 0): TlObject {
    const obj: TlObject = { _: entry.name };
    for (const p of entry.params) {
      if (p.type === '#') continue;
      if (p.flag && this.rng.chance(0.5)) continue;
      if (p.type === 'true') {
        obj[p.name] = true;
        continue;
      }
      if (p.name === 'bytes' && entry.name === 'message' && entry.type === 'Message') continue; // computed
      obj[p.name] = this.value(p.type, depth + 1);
    }
    return obj;
  }

  value(type: string, depth: number): unknown {
    const r = this.rng;
    const ref = resolveTlType(this.schema, type);
    switch (ref.k) {
      case 'int':
      case 'flags':
        return r.chance(0.5) ? r.pick(INTS) : r.int(-1000, 100000);
      case 'long':
        return r.chance(0.3) ? BigInt(r.pick(INTS)) : BigInt.asIntN(64, (BigInt(r.u32()) << 32n) | BigInt(r.u32()));
      case 'double':
        return r.pick([0, 1.5, -2.25, 1e300, 0.1]);
      case 'string':
        return r.pick(WORDS);
      case 'bytes':
        return r.bytes(r.chance(0.1) ? 254 + r.below(600) : r.below(40));
      case 'int128':
        return r.bytes(16);
      case 'int256':
        return r.bytes(32);
      case 'bool':
        return r.chance(0.5);
      case 'true':
        return true;
      case 'vector': {
        const n = depth > 3 ? 0 : r.below(4);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(ref.elem, depth + 1));
        return out;
      }
      case 'bare':
        return ref.entry ? this.entryValue(ref.entry, depth) : { _: 'true' };
      case 'object': {
        const e = this.constructorOf(ref.type, depth);
        return e ? this.entryValue(e, depth) : { _: 'boolTrue' };
      }
      case 'any': {
        // Object / !X: a method call for !X-style wrappers, some constructor otherwise
        const e = depth > 2 ? (this.schema.byName('ping') ?? this.schema.byName('boolTrue')) : r.pick(this.schema.entries);
        return e ? this.entryValue(e, depth + 2) : true;
      }
    }
  }

  private constructorOf(type: string, depth: number): TlEntry | undefined {
    const all = this.schema.constructorsOfType(type);
    if (all.length === 0) return undefined;
    if (depth <= 3) return this.rng.pick(all);
    if (!this.simplest.has(type)) {
      let best: TlEntry | undefined;
      for (const e of all) if (!best || requiredCount(e) < requiredCount(best)) best = e;
      this.simplest.set(type, best);
    }
    return this.simplest.get(type);
  }
}

function requiredCount(e: TlEntry): number {
  return e.params.filter((p) => !p.flag && p.type !== '#').length;
}

/** A TL declaration line for an entry (`name#id a:int flags:# b:flags.0?string = Type;`). */
export function declarationOf(e: TlEntry): string {
  const params = e.params.map((p) => `${p.name}:${p.flag ? `${p.flag.field}.${p.flag.bit}?` : ''}${p.type}`);
  return `${e.name}#${(e.id >>> 0).toString(16)}${params.length ? ` ${params.join(' ')}` : ''} = ${e.type};`;
}
