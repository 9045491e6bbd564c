// Schema-driven TL binary codec: TlObject <-> bytes for constructors, method calls and typed values.
import { unzipSync } from 'node:zlib';
import { joinTlPath, TlDecodeError, TlReader, TlWriter } from './binary';
import { computeTlId } from './parser';
import type { TlSchema } from './schema';
import type { TlEntry, TlObject } from './types';

export const VECTOR_ID = 0x1cb5c415;
export const GZIP_PACKED_ID = 0x3072cfa1;
export const BOOL_TRUE_ID = 0x997275b5;
export const BOOL_FALSE_ID = 0xbc799737;
/** Most bytes one gzip_packed may inflate to. */
export const GZIP_MAX_INFLATED = 16 << 20;
/** Inflated size always allowed, whatever the ratio (a zero-filled 512 KiB file part compresses 1000:1). */
export const GZIP_RATIO_FLOOR = 2 << 20;
/**
 * Above the floor, at most this many inflated bytes per packed byte: a small packet cannot cost 16 MiB. Real TL
 * answers compress 3–30×; thousands of identical objects reach ~350×, and deflate's own limit is ~1030×.
 */
export const GZIP_MAX_RATIO = 256;
/**
 * All gzip_packed of one decode (one packet) together inflate to at most this, and to the ratio bound of the
 * packet's own size (gzipPacketBudget): many of them do not multiply the bound of one.
 */
export const GZIP_PACKET_BUDGET = 32 << 20;
/** Deepest nesting of objects and vectors a decode follows (far beyond any real answer, far below the stack's limit). */
export const TL_MAX_DEPTH = 200;

/** The most `packedLength` bytes of gzip_packed data may inflate to. */
export function gzipInflateLimit(packedLength: number): number {
  return Math.min(GZIP_MAX_INFLATED, Math.max(GZIP_RATIO_FLOOR, packedLength * GZIP_MAX_RATIO));
}

/** The most all gzip_packed of a `packetLength`-byte packet may inflate to together. */
export function gzipPacketBudget(packetLength: number): number {
  return Math.min(GZIP_PACKET_BUDGET, Math.max(GZIP_RATIO_FLOOR, packetLength * GZIP_MAX_RATIO));
}

/** An encoding failure naming the field path (`users[0].photo.photo_id`) and the expected TL type. */
export class TlEncodeError extends Error {
  path: string;
  constructor(
    readonly reason: string,
    readonly expected: string,
    path = '',
    readonly root = '',
  ) {
    super('');
    this.name = 'TlEncodeError';
    this.path = path;
    this.message = this.format();
  }

  prependPath(segment: string): this {
    this.path = joinTlPath(segment, this.path);
    this.message = this.format();
    return this;
  }

  withRoot(root: string): this {
    (this as { root: string }).root = root;
    this.message = this.format();
    return this;
  }

  private format(): string {
    const where = joinTlPath(this.root, this.path);
    return `${where ? `${where}: ` : ''}${this.reason} (expected ${this.expected})`;
  }
}

export interface TlCodecOptions {
  /** Fill missing required fields with zero values and ignore unknown fields (serving several layers from one world). */
  lenient?: boolean;
}

/** Kinds of TL types that need no schema lookup (`#` is `flags`; `Object` and `!X` are `any`). */
type TlScalarKind = 'int' | 'long' | 'double' | 'string' | 'bytes' | 'int128' | 'int256' | 'bool' | 'true' | 'flags' | 'any';

/**
 * A TL type string classified against a schema (see resolveTlType); vector elements are left as type strings. A
 * bare `entry` is undefined for a `%T` when no constructor is named T and T has not exactly one constructor.
 */
export type TlTypeRef =
  | { k: TlScalarKind }
  | { k: 'vector'; boxed: boolean; elem: string; text: string }
  | { k: 'object'; type: string }
  | { k: 'bare'; entry: TlEntry | undefined; text: string };

type Node =
  | { k: TlScalarKind }
  | { k: 'vector'; boxed: boolean; elem: Node; text: string }
  | { k: 'object'; type: string }
  | { k: 'bare'; entry: TlEntry; text: string };

/**
 * The MTProto `message msg_id:long seqno:int bytes:int body:Object = Message` used bare inside msg_container
 * (`vector<%Message>`). The API layer has its own `message` constructor of type `Message`, so `%Message` always
 * means this one, whatever the merged schema says; `bytes` is computed on encode and bounds `body` on decode.
 */
export const MT_MESSAGE_ENTRY: TlEntry = {
  kind: 'constructor',
  name: 'message',
  id: computeTlId('message msg_id:long seqno:int bytes:int body:Object = Message'),
  params: [
    { name: 'msg_id', type: 'long' },
    { name: 'seqno', type: 'int' },
    { name: 'bytes', type: 'int' },
    { name: 'body', type: 'Object' },
  ],
  type: 'Message',
};

interface CParam {
  name: string;
  node: Node;
  type: string;
  flagField?: string;
  mask: number;
  isTrue: boolean;
  /** For `#` params: the params whose presence sets bits of this field. */
  deps?: CParam[];
}

interface Compiled {
  entry: TlEntry;
  params: CParam[];
  names: Set<string>;
  isMessage: boolean;
}

const PRIMITIVES: Record<string, TlScalarKind> = {
  int: 'int',
  '#': 'flags',
  long: 'long',
  int53: 'long',
  double: 'double',
  string: 'string',
  bytes: 'bytes',
  int128: 'int128',
  int256: 'int256',
  Bool: 'bool',
  true: 'true',
  Object: 'any',
};

/**
 * Classifies a TL type string (shared by the binary codec and the JSON mapping): a primitive, `!X` (any boxed
 * value), `Vector<T>` / `vector<T>` (also written `Vector T`), `%Message` (always MT_MESSAGE_ENTRY), `%T` (the
 * constructor named T, else the only constructor of type T), a name whose last part is lower-case and names a
 * constructor (bare), otherwise a boxed type.
 */
export function resolveTlType(schema: TlSchema, type: string): TlTypeRef {
  const t = type.trim();
  const prim = Object.hasOwn(PRIMITIVES, t) ? PRIMITIVES[t] : undefined; // not `constructor`, `toString`, …
  if (prim) return { k: prim };
  if (t.startsWith('!')) return { k: 'any' };
  const vm = /^([Vv])ector\s*<\s*(.+)\s*>$/.exec(t) ?? /^([Vv])ector\s+(.+)$/.exec(t);
  if (vm) return { k: 'vector', boxed: vm[1] === 'V', elem: vm[2]!, text: t };
  if (t === '%Message') return { k: 'bare', entry: MT_MESSAGE_ENTRY, text: t };
  if (t.startsWith('%')) {
    const inner = t.slice(1);
    const ctors = schema.constructorsOfType(inner);
    return { k: 'bare', entry: schema.constructorByName(inner) ?? (ctors.length === 1 ? ctors[0] : undefined), text: t };
  }
  const lastPart = t.slice(t.lastIndexOf('.') + 1);
  const bareCtor = /^[a-z]/.test(lastPart) ? schema.constructorByName(t) : undefined;
  if (bareCtor) return { k: 'bare', entry: bareCtor, text: t };
  return { k: 'object', type: t };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'Uint8Array';
  if (typeof v === 'object') return typeof (v as TlObject)._ === 'string' ? `object ${(v as TlObject)._}` : 'object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Whether a value is a TL object or call (`{ _: 'name', … }`). */
export function isTlObject(v: unknown): v is TlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && typeof (v as TlObject)._ === 'string';
}

function hex(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

export class TlCodec {
  readonly schema: TlSchema;
  readonly lenient: boolean;
  private readonly nodes = new Map<string, Node>();
  private readonly compiled = new Map<TlEntry, Compiled>();
  private readonly minSizes = new Map<Node, number>();
  /** Nesting of the decode running now (0: none), and what its gzip_packed may still inflate to. */
  private depth = 0;
  private inflateBudget = 0;

  constructor(schema: TlSchema, opts: TlCodecOptions = {}) {
    this.schema = schema;
    this.lenient = !!opts.lenient;
  }

  // ---------- public API ----------

  /** Boxed serialization of a constructor or a method call. */
  encode(obj: TlObject): Uint8Array {
    const w = new TlWriter(256);
    this.writeBoxed(w, obj, { k: 'any' }, true);
    return w.finish();
  }

  /** Decodes one boxed constructor or method call (gzip_packed is inflated transparently). */
  decode(data: Uint8Array | TlReader): TlObject {
    const r = data instanceof TlReader ? data : new TlReader(data);
    return this.entered(r, () => {
      const v = this.readBoxed(r, { k: 'any' }, true);
      if (!isTlObject(v)) throw new TlDecodeError('expected a constructor, got a non-object value', r.offset, 'Object');
      return v;
    });
  }

  encodeValue(type: string, value: unknown): Uint8Array {
    const w = new TlWriter(64);
    this.writeValue(w, type, value);
    return w.finish();
  }

  decodeValue(type: string, data: Uint8Array | TlReader): unknown {
    return this.readValue(data instanceof TlReader ? data : new TlReader(data), type);
  }

  writeValue(w: TlWriter, type: string, value: unknown): void {
    this.write(w, this.node(type), value);
  }

  readValue(r: TlReader, type: string): unknown {
    const n = this.node(type);
    return this.entered(r, () => this.read(r, n));
  }

  /**
   * The result type of a method (`Vector<User>`, `auth.SentCode`). Given a call object of a generic wrapper
   * (invokeWithLayer, initConnection, …) the type of the wrapped query is returned.
   */
  returnTypeOf(method: string | TlObject): string {
    const name = typeof method === 'string' ? method : method._;
    const e = this.schema.methodByName(name);
    if (!e) throw new TlEncodeError(`unknown method ${name}`, 'a method of the schema', '_');
    if (typeof method !== 'string') {
      const q = e.params.find((p) => p.type === `!${e.type}`);
      if (q && isTlObject(method[q.name])) return this.returnTypeOf(method[q.name] as TlObject);
    }
    return e.type;
  }

  /** The method call an (possibly generic-wrapped) call finally invokes. */
  innerQuery(call: TlObject): TlObject {
    const e = this.schema.methodByName(call._);
    if (!e) return call;
    const q = e.params.find((p) => p.type.startsWith('!'));
    return q && isTlObject(call[q.name]) ? this.innerQuery(call[q.name] as TlObject) : call;
  }

  // ---------- type nodes ----------

  private node(type: string): Node {
    let n = this.nodes.get(type);
    if (!n) {
      n = this.parseType(type);
      this.nodes.set(type, n);
    }
    return n;
  }

  private parseType(type: string): Node {
    const ref = resolveTlType(this.schema, type);
    switch (ref.k) {
      case 'vector':
        return { k: 'vector', boxed: ref.boxed, elem: this.node(ref.elem), text: ref.text };
      case 'bare': {
        if (ref.entry) return { k: 'bare', entry: ref.entry, text: ref.text };
        const inner = ref.text.slice(1);
        const found = this.schema.constructorsOfType(inner).length;
        throw new TlEncodeError(`bare type ${ref.text} needs exactly one constructor of ${inner}, found ${found}`, ref.text);
      }
      default:
        return ref;
    }
  }

  private compile(e: TlEntry): Compiled {
    let c = this.compiled.get(e);
    if (c) return c;
    const params: CParam[] = e.params.map((p) => ({
      name: p.name,
      type: p.type,
      node: this.node(p.type),
      mask: p.flag ? (1 << p.flag.bit) >>> 0 : 0,
      isTrue: p.type === 'true',
      ...(p.flag ? { flagField: p.flag.field } : {}),
    }));
    for (const p of params) if (p.node.k === 'flags') p.deps = params.filter((d) => d.flagField === p.name);
    c = {
      entry: e,
      params,
      names: new Set(e.params.map((p) => p.name)),
      isMessage: e === MT_MESSAGE_ENTRY || (e.name === 'message' && e.params.map((p) => p.name).join() === 'msg_id,seqno,bytes,body'),
    };
    this.compiled.set(e, c);
    return c;
  }

  // ---------- writing ----------

  private write(w: TlWriter, n: Node, v: unknown): void {
    switch (n.k) {
      case 'int':
      case 'flags': {
        if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) return w.int(v | 0);
        if (this.lenient && typeof v === 'bigint') return w.int(Number(BigInt.asIntN(32, v)));
        throw new TlEncodeError(`got ${describe(v)}`, 'int (32-bit integer)');
      }
      case 'long': {
        if (typeof v === 'bigint') {
          if (v < -(1n << 63n) || v >= 1n << 64n) throw new TlEncodeError(`got ${describe(v)} out of 64-bit range`, 'long (bigint)');
          return w.long(v);
        }
        if (this.lenient && typeof v === 'number' && Number.isSafeInteger(v)) return w.long(BigInt(v));
        throw new TlEncodeError(`got ${describe(v)}`, 'long (bigint)');
      }
      case 'double':
        if (typeof v === 'number') return w.double(v);
        throw new TlEncodeError(`got ${describe(v)}`, 'double (number)');
      case 'string':
        if (typeof v === 'string') return w.string(v);
        if (v instanceof Uint8Array) return w.bytes(v);
        throw new TlEncodeError(`got ${describe(v)}`, 'string');
      case 'bytes':
        if (v instanceof Uint8Array) return w.bytes(v);
        if (this.lenient && typeof v === 'string') return w.string(v);
        throw new TlEncodeError(`got ${describe(v)}`, 'bytes (Uint8Array)');
      case 'int128':
      case 'int256': {
        const len = n.k === 'int128' ? 16 : 32;
        if (v instanceof Uint8Array && v.length === len) return w.raw(v);
        throw new TlEncodeError(`got ${describe(v)}${v instanceof Uint8Array ? ` of ${v.length} bytes` : ''}`, `${n.k} (Uint8Array of ${len} bytes)`);
      }
      case 'bool':
        if (typeof v === 'boolean') return w.uint(v ? BOOL_TRUE_ID : BOOL_FALSE_ID);
        if (isTlObject(v) && (v._ === 'boolTrue' || v._ === 'boolFalse')) return w.uint(v._ === 'boolTrue' ? BOOL_TRUE_ID : BOOL_FALSE_ID);
        throw new TlEncodeError(`got ${describe(v)}`, 'Bool (boolean)');
      case 'true':
        return; // presence is carried by the flags field
      case 'vector': {
        if (!Array.isArray(v)) throw new TlEncodeError(`got ${describe(v)}`, `${n.text} (array)`);
        if (n.boxed) w.uint(VECTOR_ID);
        w.int(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            this.write(w, n.elem, v[i]);
          } catch (e) {
            if (e instanceof TlEncodeError) e.prependPath(`[${i}]`);
            throw e;
          }
        }
        return;
      }
      case 'bare': {
        const e = n.entry;
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
          throw new TlEncodeError(`got ${describe(v)}`, `${n.text} (object)`);
        const name = (v as TlObject)._;
        if (name !== undefined && name !== e.name) throw new TlEncodeError(`got constructor ${String(name)}`, `bare ${e.name}`, '_');
        return this.writeParams(w, this.compile(e), v as TlObject);
      }
      case 'object':
      case 'any':
        return this.writeBoxed(w, v, n, false);
    }
  }

  private writeBoxed(w: TlWriter, v: unknown, n: Node, top: boolean): void {
    const type = n.k === 'object' ? n.type : 'Object';
    if (n.k === 'any' && !top) {
      if (typeof v === 'boolean') return w.uint(v ? BOOL_TRUE_ID : BOOL_FALSE_ID);
      if (v instanceof Uint8Array) return w.raw(v); // pre-serialized boxed value
      if (Array.isArray(v)) return this.writeAnyVector(w, v);
    }
    if (!isTlObject(v)) throw new TlEncodeError(`got ${describe(v)}`, `${type} (object with "_")`);
    let e: TlEntry | undefined;
    if (n.k === 'any') e = this.schema.constructorByName(v._) ?? this.schema.methodByName(v._);
    else {
      e = this.schema.constructorByName(v._);
      if (!e && !this.schema.hasType(type)) e = this.schema.methodByName(v._);
    }
    if (!e) {
      if (n.k === 'object' && (type === 'Bool' || v._ === 'boolTrue' || v._ === 'boolFalse')) return this.write(w, { k: 'bool' }, v);
      // lenient: a constructor this layer lacks becomes the type's empty constructor when it has one
      if (this.lenient && n.k === 'object' && this.schema.hasType(type)) {
        const empty = this.schema.constructorsOfType(type).find((c) => c.params.every((p) => p.flag || p.type === '#'));
        if (empty) return this.writeBoxed(w, { _: empty.name }, n, false);
      }
      throw new TlEncodeError(
        `unknown ${n.k === 'any' ? 'constructor or method' : 'constructor'} ${v._}`,
        type === 'Object' ? 'a constructor or method of the schema' : `a constructor of ${type}`,
        top ? '' : '_',
      );
    }
    if (n.k === 'object' && e.kind === 'constructor' && e.type !== type && this.schema.hasType(type))
      throw new TlEncodeError(`constructor ${v._} is of type ${e.type}`, `a constructor of ${type}`, '_');
    w.uint(e.id);
    try {
      this.writeParams(w, this.compile(e), v);
    } catch (err) {
      if (top && err instanceof TlEncodeError) err.withRoot(v._);
      throw err;
    }
  }

  private writeAnyVector(w: TlWriter, v: unknown[]): void {
    let elem: Node = { k: 'any' };
    if (v.length > 0) {
      const f = v[0];
      if (typeof f === 'bigint') elem = { k: 'long' };
      else if (typeof f === 'number') elem = { k: 'int' };
      else if (typeof f === 'string') elem = { k: 'string' };
      else if (f instanceof Uint8Array) elem = { k: 'bytes' };
    }
    this.write(w, { k: 'vector', boxed: true, elem, text: 'Vector<Object>' }, v);
  }

  private writeParams(w: TlWriter, c: Compiled, obj: TlObject): void {
    if (!this.lenient) {
      for (const key in obj) {
        if (key !== '_' && !c.names.has(key) && obj[key] !== undefined)
          throw new TlEncodeError(`unknown field ${key} of ${c.entry.name}`, `one of: ${[...c.names].join(', ') || '(no fields)'}`, key);
      }
    }
    let lengthAt = -1;
    let flagValues: Record<string, number> | undefined;
    for (const p of c.params) {
      let v = obj[p.name];
      try {
        if (p.node.k === 'flags') {
          let flags = 0;
          for (const d of p.deps!) {
            const dv = obj[d.name];
            if (d.isTrue ? dv === true : dv !== undefined && dv !== null) flags |= d.mask;
          }
          (flagValues ??= {})[p.name] = flags;
          w.int(flags);
          continue;
        }
        if (p.flagField !== undefined) {
          if (p.isTrue) continue;
          if (v === undefined || v === null) {
            // a bit shared with a field that is present (e.g. user.bot and bot_info_version on flags.14)
            if (((flagValues?.[p.flagField] ?? 0) & p.mask) === 0) continue;
            const setter = c.params.find(
              (d) => d !== p && d.flagField === p.flagField && d.mask === p.mask && (d.isTrue ? obj[d.name] === true : obj[d.name] != null),
            );
            if (!this.lenient)
              throw new TlEncodeError(
                `missing field, required because ${setter?.name ?? 'another field'} sets ${p.flagField}.${31 - Math.clz32(p.mask)}`,
                this.expectedOf(p.node, p.type),
              );
            v = this.zeroValue(p.node, p.type);
          }
        } else if (c.isMessage && p.name === 'bytes') {
          lengthAt = w.offset;
          w.int(0);
          continue;
        } else if (v === undefined || v === null) {
          if (!this.lenient) throw new TlEncodeError('missing required field', this.expectedOf(p.node, p.type));
          v = this.zeroValue(p.node, p.type);
        }
        if (c.isMessage && p.name === 'body' && lengthAt >= 0) {
          const start = w.offset;
          this.write(w, p.node, v);
          w.patchInt(lengthAt, w.offset - start);
          continue;
        }
        this.write(w, p.node, v);
      } catch (e) {
        if (e instanceof TlEncodeError) e.prependPath(p.name);
        throw e;
      }
    }
  }

  private expectedOf(n: Node, type: string): string {
    switch (n.k) {
      case 'int':
        return 'int (32-bit integer)';
      case 'long':
        return 'long (bigint)';
      case 'double':
        return 'double (number)';
      case 'bytes':
        return 'bytes (Uint8Array)';
      case 'int128':
        return 'int128 (Uint8Array of 16 bytes)';
      case 'int256':
        return 'int256 (Uint8Array of 32 bytes)';
      case 'bool':
        return 'Bool (boolean)';
      case 'vector':
        return `${type} (array)`;
      case 'object':
        return `${type} (object with "_")`;
      default:
        return type;
    }
  }

  /** The zero value lenient mode puts in a missing required field. */
  private zeroValue(n: Node, type: string): unknown {
    switch (n.k) {
      case 'int':
      case 'flags':
      case 'double':
        return 0;
      case 'long':
        return 0n;
      case 'string':
        return '';
      case 'bytes':
        return new Uint8Array(0);
      case 'int128':
        return new Uint8Array(16);
      case 'int256':
        return new Uint8Array(32);
      case 'bool':
        return false;
      case 'true':
        return true;
      case 'vector':
        return [];
      case 'bare':
        return { _: n.entry.name };
      case 'object': {
        const c = this.schema.constructorsOfType(n.type).find((e) => e.params.every((p) => p.flag || p.type === '#'));
        if (c) return { _: c.name };
        throw new TlEncodeError('missing required field with no empty constructor to fill it', `${type} (object with "_")`);
      }
      case 'any':
        throw new TlEncodeError('missing required field', `${type} (any boxed object)`);
    }
  }

  // ---------- reading ----------

  /** Runs a public decode: the outermost one starts a fresh inflate budget; the depth is restored however it ends. */
  private entered<T>(r: TlReader, fn: () => T): T {
    const depth = this.depth;
    if (depth === 0) this.inflateBudget = gzipPacketBudget(r.remaining);
    try {
      return fn();
    } finally {
      this.depth = depth;
    }
  }

  private deeper(r: TlReader, type: string): void {
    if (++this.depth > TL_MAX_DEPTH) throw new TlDecodeError(`nested deeper than ${TL_MAX_DEPTH} levels`, r.offset, type);
  }

  /** Fewest bytes one value of a node takes (a vector's count is checked against it before anything is allocated). */
  private minSize(n: Node): number {
    const known = this.minSizes.get(n);
    if (known !== undefined) return known;
    this.minSizes.set(n, 0); // a bare type that contains itself: counted once
    let size: number;
    switch (n.k) {
      case 'long':
      case 'double':
        size = 8;
        break;
      case 'int128':
        size = 16;
        break;
      case 'int256':
        size = 32;
        break;
      case 'true':
        size = 0;
        break;
      case 'vector':
        size = n.boxed ? 8 : 4;
        break;
      case 'bare':
        size = 0;
        for (const p of this.compile(n.entry).params) if (p.flagField === undefined) size += this.minSize(p.node);
        break;
      default:
        // int, flags, string/bytes (a length byte, padded to 4), Bool, boxed objects
        size = 4;
    }
    this.minSizes.set(n, size);
    return size;
  }

  private read(r: TlReader, n: Node): unknown {
    switch (n.k) {
      case 'int':
      case 'flags':
        return r.int();
      case 'long':
        return r.long();
      case 'double':
        return r.double();
      case 'string':
        return r.string();
      case 'bytes':
        return r.bytes();
      case 'int128':
        return r.int128();
      case 'int256':
        return r.int256();
      case 'true':
        return true;
      case 'bool': {
        const at = r.offset;
        const id = r.uint();
        if (id === BOOL_TRUE_ID) return true;
        if (id === BOOL_FALSE_ID) return false;
        if (id === GZIP_PACKED_ID) return this.read(this.inflate(r, at), n);
        throw new TlDecodeError(`expected boolTrue/boolFalse, got id ${hex(id)}`, at, 'Bool');
      }
      case 'vector': {
        if (n.boxed) {
          const at = r.offset;
          const id = r.uint();
          if (id === GZIP_PACKED_ID) return this.read(this.inflate(r, at), n);
          if (id !== VECTOR_ID) throw new TlDecodeError(`expected vector id 0x1cb5c415, got ${hex(id)}`, at, n.text);
        }
        const at = r.offset;
        const count = r.int();
        // each element takes at least minSize bytes (at least 1 counted, so zero-size elements stay bounded too)
        const min = Math.max(1, this.minSize(n.elem));
        if (count < 0 || count * min > r.remaining)
          throw new TlDecodeError(
            `invalid vector length ${count} (${count < 0 ? 'negative' : `at least ${count * min} bytes, ${r.remaining} left`})`,
            at,
            n.text,
          );
        this.deeper(r, n.text);
        const out = new Array<unknown>(count);
        for (let i = 0; i < count; i++) {
          try {
            out[i] = this.read(r, n.elem);
          } catch (e) {
            if (e instanceof TlDecodeError) e.prependPath(`[${i}]`);
            throw e;
          }
        }
        this.depth--;
        return out;
      }
      case 'bare': {
        this.deeper(r, n.text);
        const v = this.readParams(r, this.compile(n.entry));
        this.depth--;
        return v;
      }
      case 'object':
      case 'any':
        return this.readBoxed(r, n, false);
    }
  }

  private inflate(r: TlReader, at: number): TlReader {
    const packed = r.bytes('gzip_packed.packed_data');
    const limit = gzipInflateLimit(packed.length);
    const allowed = Math.min(limit, this.inflateBudget);
    let out: Uint8Array;
    try {
      out = unzipSync(packed, { maxOutputLength: Math.max(1, allowed) });
    } catch (e) {
      const tooBig = e instanceof RangeError || (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
      if (tooBig && allowed < limit)
        throw new TlDecodeError(
          `gzip_packed exceeds what is left of this message's inflate budget (${allowed} bytes; at most ${GZIP_PACKET_BUDGET}, ${GZIP_MAX_RATIO}× the message above ${GZIP_RATIO_FLOOR})`,
          at,
          'gzip_packed',
        );
      if (tooBig)
        throw new TlDecodeError(
          `gzip_packed of ${packed.length} bytes inflates beyond its ${limit}-byte bound (at most ${GZIP_MAX_INFLATED} bytes, ${GZIP_MAX_RATIO}× above ${GZIP_RATIO_FLOOR})`,
          at,
          'gzip_packed',
        );
      throw new TlDecodeError(`gzip_packed does not inflate: ${(e as Error).message}`, at, 'gzip_packed');
    }
    this.inflateBudget -= out.byteLength;
    return new TlReader(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }

  private readBoxed(r: TlReader, n: Node, top: boolean): unknown {
    const at = r.offset;
    const type = n.k === 'object' ? n.type : 'Object';
    this.deeper(r, type);
    const v = this.readBoxedAt(r, n, top, at, type);
    this.depth--;
    return v;
  }

  private readBoxedAt(r: TlReader, n: Node, top: boolean, at: number, type: string): unknown {
    const id = r.uint();
    if (id === GZIP_PACKED_ID) {
      const inner = this.inflate(r, at);
      try {
        return this.readBoxed(inner, n, top);
      } catch (e) {
        if (e instanceof TlDecodeError) e.addNote(`inside gzip_packed at offset ${at}`);
        throw e;
      }
    }
    if (n.k === 'any' && !top) {
      if (id === BOOL_TRUE_ID) return true;
      if (id === BOOL_FALSE_ID) return false;
      if (id === VECTOR_ID) {
        // a vector's element type is unknown here: hand back the serialized value for decodeValue(type, …)
        r.seek(at);
        return r.raw(r.remaining);
      }
    }
    const e = this.schema.byId(id);
    if (!e) throw new TlDecodeError(`unknown constructor id ${hex(id)}`, at, type);
    return this.readParams(r, this.compile(e));
  }

  private readParams(r: TlReader, c: Compiled): TlObject {
    const obj: TlObject = { _: c.entry.name };
    let flags: Record<string, number> | undefined;
    for (const p of c.params) {
      try {
        if (p.flagField !== undefined) {
          const f = flags?.[p.flagField] ?? 0;
          if ((f & p.mask) === 0) continue;
          if (p.isTrue) {
            obj[p.name] = true;
            continue;
          }
        }
        if (p.node.k === 'flags') {
          (flags ??= {})[p.name] = r.int();
          continue;
        }
        if (c.isMessage && p.name === 'body' && typeof obj.bytes === 'number') {
          const sub = r.sub(obj.bytes, 'message.body');
          obj[p.name] = this.readMessageBody(sub);
          continue;
        }
        obj[p.name] = this.read(r, p.node);
      } catch (e) {
        if (e instanceof TlDecodeError) e.prependPath(p.name);
        throw e;
      }
    }
    return obj;
  }

  private readMessageBody(sub: TlReader): unknown {
    const start = sub.offset;
    const depth = this.depth;
    try {
      return this.readBoxed(sub, { k: 'any' }, false);
    } catch (e) {
      this.depth = depth;
      // lenient: a body of a layer this schema lacks stays serialized so the rest of the container survives
      if (this.lenient && e instanceof TlDecodeError && e.reason.startsWith('unknown constructor id')) {
        sub.seek(start);
        return sub.raw(sub.remaining);
      }
      throw e;
    }
  }
}
