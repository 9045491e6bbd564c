// Schema data in the webview: the method list and constructorsOfType answers (cached), type helpers, defaults and
// the immediate validation of a query's JSON (the host validates again with tlFromJson before calling).
import type { IpcTlEntry, IpcTlParam, JsonObject, JsonValue } from '../../../src/ipc/index';
import type { Host } from '../host';

export type TypeShape =
  | { kind: 'scalar'; name: 'int' | 'long' | 'double' | 'string' | 'bytes' | 'int128' | 'int256' }
  | { kind: 'bool' }
  | { kind: 'true' }
  | { kind: 'count' }
  | { kind: 'vector'; of: string }
  | { kind: 'object'; type: string }
  | { kind: 'any' };

const SCALARS = new Set(['int', 'long', 'double', 'string', 'bytes', 'int128', 'int256']);

export function shapeOf(type: string): TypeShape {
  const t = type.trim();
  const v = /^[Vv]ector\s*<\s*(.+)\s*>$/.exec(t);
  if (v) return { kind: 'vector', of: v[1]!.trim() };
  if (t === 'int53') return { kind: 'scalar', name: 'long' };
  if (SCALARS.has(t)) return { kind: 'scalar', name: t as 'int' };
  if (t === 'Bool') return { kind: 'bool' };
  if (t === 'true') return { kind: 'true' };
  if (t === '#') return { kind: 'count' };
  if (t.startsWith('!') || t === 'Object' || t === 'X' || t === 'Type') return { kind: 'any' };
  return { kind: 'object', type: t.startsWith('%') ? t.slice(1) : t };
}

export function isOptional(p: IpcTlParam): boolean {
  return p.flag !== undefined;
}

/** The value a new required field starts with (undefined: none, the user must choose). */
export function defaultFor(type: string): JsonValue | undefined {
  const s = shapeOf(type);
  switch (s.kind) {
    case 'scalar':
      return s.name === 'int' || s.name === 'double'
        ? 0
        : s.name === 'long'
          ? '0'
          : s.name === 'int128'
            ? '0'.repeat(32)
            : s.name === 'int256'
              ? '0'.repeat(64)
              : '';
    case 'bool':
      return false;
    case 'vector':
      return [];
    default:
      return undefined;
  }
}

/** A new object of a constructor or method: `_` first, then the required fields with their defaults. */
export function newObject(entry: IpcTlEntry): JsonObject {
  const o: JsonObject = { _: entry.name };
  for (const p of entry.params) {
    if (p.type === '#' || isOptional(p)) continue;
    const d = defaultFor(p.type);
    if (d !== undefined) o[p.name] = d;
  }
  return o;
}

/** Same object with keys in schema order (`_` first, unknown keys last). */
export function ordered(entry: IpcTlEntry, o: JsonObject): JsonObject {
  const out: JsonObject = { _: o._ ?? entry.name };
  for (const p of entry.params) if (o[p.name] !== undefined) out[p.name] = o[p.name]!;
  for (const [k, v] of Object.entries(o)) if (!(k in out)) out[k] = v;
  return out;
}

export interface FieldError {
  /** 'limit', 'peer._', 'id[0]', 'filter.q' ('' = the whole query). */
  path: string;
  message: string;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export class SchemaCache {
  layer = 0;
  methods: IpcTlEntry[] = [];
  private readonly methodByName = new Map<string, IpcTlEntry>();
  private readonly ctors = new Map<string, IpcTlEntry[]>();
  private readonly ctorByName = new Map<string, IpcTlEntry>();
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(private readonly host: Host) {}

  async loadMethods(): Promise<void> {
    const r = await this.host.request('schema/methods', {});
    this.layer = r.layer;
    this.methods = [...r.methods].sort((a, b) => a.name.localeCompare(b.name));
    this.methodByName.clear();
    for (const m of this.methods) this.methodByName.set(m.name, m);
  }

  method(name: string): IpcTlEntry | undefined {
    return this.methodByName.get(name);
  }

  constructors(type: string): IpcTlEntry[] | undefined {
    return this.ctors.get(type);
  }

  constructorByName(name: string): IpcTlEntry | undefined {
    return this.ctorByName.get(name);
  }

  /** Loads the constructors of these types (one request for the missing ones). */
  async ensure(types: Iterable<string>): Promise<void> {
    const missing = [...new Set(types)].filter((t) => !this.ctors.has(t) && !this.inflight.has(t));
    const waits = [...new Set(types)].map((t) => this.inflight.get(t)).filter((p): p is Promise<void> => !!p);
    if (missing.length) {
      const p = this.host.request('schema/constructorsOfType', { types: missing }).then((r) => {
        for (const t of missing) {
          const list = r.constructors[t] ?? [];
          this.ctors.set(t, list);
          for (const c of list) this.ctorByName.set(c.name, c);
        }
      });
      for (const t of missing) this.inflight.set(t, p);
      try {
        await p;
      } finally {
        for (const t of missing) this.inflight.delete(t);
      }
    }
    await Promise.all(waits);
  }

  /** Object types named by an entry's params (also inside vectors): what its form needs pickers for. */
  static objectTypesOf(entry: IpcTlEntry): string[] {
    const out = new Set<string>();
    for (const p of entry.params) {
      let s = shapeOf(p.type);
      while (s.kind === 'vector') s = shapeOf(s.of);
      if (s.kind === 'object') out.add(s.type);
    }
    return [...out];
  }

  /**
   * Validates a query against the schema data known so far. Types whose constructors are not loaded yet are added
   * to `missing` (the caller loads them and validates again).
   */
  validateQuery(q: unknown, missing: Set<string>): FieldError[] {
    const errors: FieldError[] = [];
    if (typeof q !== 'object' || q === null || Array.isArray(q)) return [{ path: '', message: 'expected a JSON object { "_": "method", … }' }];
    const name = (q as JsonObject)._;
    const m = typeof name === 'string' ? this.method(name) : undefined;
    if (!m) return [{ path: '_', message: `_: unknown method ${show(name)}` }];
    this.validateFields(m, q as JsonObject, '', errors, missing);
    return errors;
  }

  private validateFields(entry: IpcTlEntry, o: JsonObject, path: string, errors: FieldError[], missing: Set<string>): void {
    const known = new Set(['_']);
    for (const p of entry.params) {
      known.add(p.name);
      if (p.type === '#') continue;
      const fp = path ? `${path}.${p.name}` : p.name;
      const v = o[p.name];
      if (v === undefined) {
        if (!isOptional(p)) errors.push({ path: fp, message: `${fp}: required, expected ${p.type}` });
        continue;
      }
      this.validateValue(p.type, v, fp, errors, missing);
    }
    for (const k of Object.keys(o)) {
      if (!known.has(k)) {
        const fp = path ? `${path}.${k}` : k;
        errors.push({ path: fp, message: `${fp}: unknown field of ${entry.name}` });
      }
    }
  }

  validateValue(type: string, v: JsonValue, path: string, errors: FieldError[], missing: Set<string>): void {
    const s = shapeOf(type);
    const bad = (expected: string) => errors.push({ path, message: `${path}: expected ${expected}, got ${show(v)}` });
    switch (s.kind) {
      case 'scalar':
        switch (s.name) {
          case 'int':
            if (typeof v !== 'number' || !Number.isInteger(v) || v < INT_MIN || v > INT_MAX) bad('int');
            return;
          case 'double':
            if (typeof v !== 'number' || !Number.isFinite(v)) bad('double');
            return;
          case 'long': {
            const ok =
              (typeof v === 'string' && /^-?\d{1,20}$/.test(v) && BigInt(v) >= LONG_MIN && BigInt(v) <= LONG_MAX) ||
              (typeof v === 'number' && Number.isSafeInteger(v));
            if (!ok) bad('long (a decimal string)');
            return;
          }
          case 'string':
            if (typeof v !== 'string') bad('string');
            return;
          case 'bytes':
            if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) bad('bytes (base64)');
            return;
          case 'int128':
          case 'int256': {
            const n = s.name === 'int128' ? 32 : 64;
            if (typeof v !== 'string' || !new RegExp(`^[0-9a-fA-F]{${n}}$`).test(v)) bad(`${s.name} (${n} hex digits)`);
            return;
          }
        }
        return;
      case 'bool':
        if (typeof v !== 'boolean') bad('Bool (true or false)');
        return;
      case 'true':
        if (v !== true) bad('true (a flag: true or absent)');
        return;
      case 'count':
        return;
      case 'any':
        if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as JsonObject)._ !== 'string') bad(`a TL object { "_": … } (${type})`);
        return;
      case 'vector':
        if (!Array.isArray(v)) {
          bad(type);
          return;
        }
        v.forEach((x, i) => {
          this.validateValue(s.of, x, `${path}[${i}]`, errors, missing);
        });
        return;
      case 'object': {
        const list = this.ctors.get(s.type);
        if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as JsonObject)._ !== 'string') {
          bad(`${s.type} (an object { "_": "constructor", … })`);
          return;
        }
        if (!list) {
          missing.add(s.type);
          return;
        }
        const name = (v as JsonObject)._ as string;
        const c = list.find((x) => x.name === name);
        if (!c) {
          const names = list.map((x) => x.name);
          errors.push({
            path: `${path}._`,
            message: `${path}._: expected a constructor of ${s.type} (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}), got ${show(name)}`,
          });
          return;
        }
        for (const t of SchemaCache.objectTypesOf(c)) if (!this.ctors.has(t)) missing.add(t);
        this.validateFields(c, v as JsonObject, path, errors, missing);
        return;
      }
    }
  }
}
