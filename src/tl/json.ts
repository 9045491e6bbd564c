// JSON mapping of TL values (user-facing): long ↔ decimal string, bytes ↔ base64, int128/int256 ↔ hex.
// tlFromJson validates against the schema and reports the failing path and the expected type.
import { isSecretPath } from './secret-fields';
import { joinTlPath } from './binary';
import { MT_MESSAGE_ENTRY, resolveTlType, type TlTypeRef } from './codec';
import type { TlSchema } from './schema';
import type { TlEntry, TlObject } from './types';

export class TlJsonError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly reason: string,
  ) {
    super(`${path || '(root)'}: ${reason}; expected ${expected}`);
    this.name = 'TlJsonError';
  }
}

/** A resolved TL type; a `%T` without a single constructor is read as any object. */
export type TlJsonKind = Exclude<TlTypeRef, { k: 'bare' }> | { k: 'bare'; entry: TlEntry };
type Kind = TlJsonKind;

/** How a TL type is checked in JSON (also used by the request-file analyzer, so both speak the same words). */
export function classifyJsonType(schema: TlSchema, type: string): TlJsonKind {
  return classify(schema, type);
}

function classify(schema: TlSchema, type: string): Kind {
  const ref = resolveTlType(schema, type);
  if (ref.k !== 'bare') return ref;
  return ref.entry ? { k: 'bare', entry: ref.entry } : { k: 'any' };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const b64 = (u8: Uint8Array): string => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');
const hexOf = (u8: Uint8Array): string => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');

// ---------------------------------------------------------------- to JSON

/**
 * Internal TL value → JSON value. Without a schema: bigint → decimal string, Uint8Array → base64. With a schema
 * the value is walked by its declared types (so int128/int256 become hex); `type` names the value's TL type when
 * it is not a self-describing object.
 */
export function tlToJson(value: unknown, schema?: TlSchema, type?: string): unknown {
  if (schema && type) return toJsonTyped(value, schema, classify(schema, type));
  return toJsonGeneric(value, schema);
}

function toJsonGeneric(v: unknown, schema: TlSchema | undefined): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return b64(v);
  if (Array.isArray(v)) return v.map((x) => toJsonGeneric(x, schema));
  if (isPlainObject(v)) {
    const name = v._;
    const entry = schema && typeof name === 'string' ? schema.byName(name) : undefined;
    if (entry) return toJsonEntry(v, schema!, entry);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined) out[k] = toJsonGeneric(v[k], schema);
    return out;
  }
  return v;
}

function toJsonEntry(v: Record<string, unknown>, schema: TlSchema, entry: TlEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { _: entry.name };
  const types = new Map(entry.params.map((p) => [p.name, p.type]));
  for (const k of Object.keys(v)) {
    if (k === '_' || v[k] === undefined) continue;
    const t = types.get(k);
    out[k] = t ? toJsonTyped(v[k], schema, classify(schema, t)) : toJsonGeneric(v[k], schema);
  }
  return out;
}

function toJsonTyped(v: unknown, schema: TlSchema, kind: Kind): unknown {
  switch (kind.k) {
    case 'int128':
    case 'int256':
      return v instanceof Uint8Array ? hexOf(v) : toJsonGeneric(v, schema);
    case 'vector':
      if (Array.isArray(v)) {
        const ek = classify(schema, kind.elem);
        return v.map((x) => toJsonTyped(x, schema, ek));
      }
      return toJsonGeneric(v, schema);
    case 'bare':
      if (isPlainObject(v)) return toJsonEntry(v, schema, kind.entry);
      return toJsonGeneric(v, schema);
    default:
      return toJsonGeneric(v, schema);
  }
}

// ---------------------------------------------------------------- from JSON

function describe(v: unknown, path: string): string {
  if (v === null) return 'null';
  // a value given for a secret field (a login code, a password) is never quoted back: errors end up in logs
  if (isSecretPath(path))
    return typeof v === 'string'
      ? `a string of ${v.length} characters (value not shown)`
      : Array.isArray(v)
        ? 'an array'
        : typeof v === 'object'
          ? 'an object'
          : `a ${typeof v} (value not shown)`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function listNames(entries: TlEntry[]): string {
  const names = entries.map((e) => e.name);
  return names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ');
}

const LONG_MIN = -(1n << 63n);
const LONG_MAX_UNSIGNED = (1n << 64n) - 1n;

/**
 * JSON → internal TL value, validated against the schema. Without `expectedType` the JSON must be an object whose
 * `_` names a constructor or a method. Throws TlJsonError naming the path and the expected type.
 */
export function tlFromJson(schema: TlSchema, json: unknown, expectedType?: string): unknown {
  if (expectedType === undefined) return fromObject(schema, json, '', undefined, true);
  return fromJson(schema, json, classify(schema, expectedType), expectedType, '');
}

/**
 * What a JSON value of this type looks like, for messages. With `schema`, an abstract type lists its constructors
 * (up to six) — the editor's diagnostics do; TlJsonError keeps the short form.
 */
export function jsonExpectedText(kind: TlJsonKind, type: string, schema?: TlSchema): string {
  switch (kind.k) {
    case 'int':
    case 'flags':
      return 'int (32-bit integer)';
    case 'long':
      return 'long (decimal string or integer)';
    case 'double':
      return 'double (number)';
    case 'string':
      return 'string';
    case 'bytes':
      return 'bytes (base64 string)';
    case 'int128':
      return 'int128 (32 hex digits)';
    case 'int256':
      return 'int256 (64 hex digits)';
    case 'bool':
      return 'Bool (true or false)';
    case 'true':
      return 'true (or absent)';
    case 'vector':
      return `${type} (array)`;
    case 'bare':
      return `${kind.entry.name} (object)`;
    case 'object': {
      if (!schema) return `${type} (object with "_" naming a constructor)`;
      const names = schema.constructorsOfType(kind.type).map((e) => e.name);
      const list = names.length > 6 ? `${names.slice(0, 6).join(', ')}, …` : names.join(', ');
      return `${type} (object with "_" naming ${names.length === 1 ? list : `one of: ${list}`})`;
    }
    case 'any':
      return 'an object with "_" naming a constructor or method';
  }
}

function fromJson(schema: TlSchema, v: unknown, kind: Kind, type: string, path: string): unknown {
  const fail = (reason: string): never => {
    throw new TlJsonError(path, jsonExpectedText(kind, type), reason);
  };
  switch (kind.k) {
    case 'int':
    case 'flags':
      if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) return v | 0;
      return fail(`got ${describe(v, path)}`);
    case 'long': {
      let b: bigint | undefined;
      if (typeof v === 'string' && /^-?\d{1,20}$/.test(v.trim())) b = BigInt(v.trim());
      else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
      if (b === undefined) return fail(`got ${describe(v, path)}`);
      if (b < LONG_MIN || b > LONG_MAX_UNSIGNED) return fail(`${v} is out of the 64-bit range`);
      return BigInt.asIntN(64, b);
    }
    case 'double':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      return fail(`got ${describe(v, path)}`);
    case 'string':
      if (typeof v === 'string') return v;
      return fail(`got ${describe(v, path)}`);
    case 'bytes':
      if (typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v) && v.replace(/=+$/, '').length % 4 !== 1) return new Uint8Array(Buffer.from(v, 'base64'));
      return fail(`got ${describe(v, path)}`);
    case 'int128':
    case 'int256': {
      const n = kind.k === 'int128' ? 32 : 64;
      if (typeof v === 'string' && v.length === n && /^[0-9a-fA-F]+$/.test(v)) return new Uint8Array(Buffer.from(v, 'hex'));
      return fail(`got ${describe(v, path)}`);
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      return fail(`got ${describe(v, path)}`);
    case 'true':
      if (v === true) return true;
      return fail(`got ${describe(v, path)}`);
    case 'vector': {
      if (!Array.isArray(v)) return fail(`got ${describe(v, path)}`);
      const ek = classify(schema, kind.elem);
      return v.map((x, i) => fromJson(schema, x, ek, kind.elem, joinTlPath(path, `[${i}]`)));
    }
    case 'bare':
      return fromObject(schema, v, path, { bare: kind.entry }, false);
    case 'object':
      return fromObject(schema, v, path, { type: kind.type }, false);
    case 'any':
      return fromObject(schema, v, path, undefined, true);
  }
}

function fromObject(schema: TlSchema, v: unknown, path: string, want: { type?: string; bare?: TlEntry } | undefined, allowMethods: boolean): TlObject {
  const type = want?.type;
  const expected = want?.bare
    ? `${want.bare.name} (object)`
    : type
      ? `${type} (object with "_" naming one of: ${listNames(schema.constructorsOfType(type))})`
      : 'an object with "_" naming a constructor or method';
  if (!isPlainObject(v)) throw new TlJsonError(path, expected, `got ${describe(v, path)}`);
  let entry: TlEntry | undefined;
  if (want?.bare) {
    entry = want.bare;
    if (v._ !== undefined && v._ !== entry.name) throw new TlJsonError(joinTlPath(path, '_'), `"${entry.name}"`, `got ${describe(v._, joinTlPath(path, '_'))}`);
  } else {
    if (typeof v._ !== 'string') throw new TlJsonError(joinTlPath(path, '_'), expected, `missing "_" (got ${describe(v._, joinTlPath(path, '_'))})`);
    entry = schema.constructorByName(v._) ?? (allowMethods || (type && !schema.hasType(type)) ? schema.methodByName(v._) : undefined);
    if (!entry && type === 'Bool' && (v._ === 'boolTrue' || v._ === 'boolFalse')) return { _: v._ };
    if (!entry) throw new TlJsonError(joinTlPath(path, '_'), expected, `unknown ${allowMethods ? 'constructor or method' : 'constructor'} "${v._}"`);
    if (type && entry.kind === 'constructor' && entry.type !== type && schema.hasType(type))
      throw new TlJsonError(joinTlPath(path, '_'), expected, `constructor "${v._}" is of type ${entry.type}, not ${type}`);
  }
  const out: TlObject = { _: entry.name };
  const params = new Map(entry.params.map((p) => [p.name, p]));
  for (const key of Object.keys(v)) {
    if (key === '_') continue;
    const p = params.get(key);
    if (!p) {
      const fields = entry.params.filter((x) => x.type !== '#').map((x) => x.name);
      throw new TlJsonError(joinTlPath(path, key), `one of the fields of ${entry.name}: ${fields.join(', ') || '(none)'}`, `unknown field "${key}"`);
    }
  }
  for (const p of entry.params) {
    const fp = joinTlPath(path, p.name);
    const raw = v[p.name];
    if (p.type === '#') {
      if (raw !== undefined && raw !== null && !(typeof raw === 'number' && Number.isInteger(raw)))
        throw new TlJsonError(fp, 'int (flags are computed; may be omitted)', `got ${describe(raw, fp)}`);
      continue;
    }
    if (raw === undefined || raw === null) {
      if (p.flag && p.type !== 'true') {
        // a bit shared with a field that is present makes this one required too (user.bot → bot_info_version)
        const f = p.flag;
        const setter = entry.params.find(
          (d) => d !== p && d.flag?.field === f.field && d.flag.bit === f.bit && (d.type === 'true' ? v[d.name] === true : v[d.name] != null),
        );
        if (setter)
          throw new TlJsonError(
            fp,
            jsonExpectedText(classify(schema, p.type), p.type),
            `missing field, required because ${setter.name} sets ${f.field}.${f.bit}`,
          );
      }
      if (p.flag || (entry === MT_MESSAGE_ENTRY && p.name === 'bytes')) continue;
      const k = classify(schema, p.type);
      throw new TlJsonError(fp, jsonExpectedText(k, p.type), 'missing required field');
    }
    if (p.flag && p.type === 'true') {
      if (typeof raw !== 'boolean') throw new TlJsonError(fp, 'true (or absent)', `got ${describe(raw, fp)}`);
      if (raw) out[p.name] = true;
      continue;
    }
    out[p.name] = fromJson(schema, raw, classify(schema, p.type), p.type, fp);
  }
  return out;
}
