// Bundled schemas: the API layer from @mtcute/core's JSON, the MTProto service schema written from the spec,
// and user .tl texts merged over the service schema.
import apiJson from '@mtcute/core/tl/api-schema.json';
import { MTPROTO_SCHEMA_TL } from './mtproto-schema';
import { parseTlSchema } from './parser';
import { TlSchema } from './schema';
import type { TlEntry, TlParam } from './types';

export const API_LAYER = 227;

/** Shape of @mtcute/core/tl/api-schema.json (only what is used). */
interface MtcuteArg {
  name: string;
  type: string;
  comment?: string;
  typeModifiers?: { predicate?: string; isVector?: boolean; isBareVector?: boolean; isBareType?: boolean };
}
interface MtcuteEntry {
  kind: 'class' | 'method';
  name: string;
  id: number;
  type: string;
  comment?: string;
  arguments: MtcuteArg[];
  typeModifiers?: { isVector?: boolean; isBareVector?: boolean; isBareType?: boolean };
  throws?: { code: number; name: string; comment?: string }[];
}
export interface MtcuteSchemaJson {
  l: number;
  e: MtcuteEntry[];
  u?: Record<string, string>;
}

/** Builtin constructors the JSON omits (the codec handles them natively; kept so lookups by name/type work). */
const API_BUILTINS_TL = `
boolFalse#bc799737 = Bool;
boolTrue#997275b5 = Bool;
true#3fedd339 = True;
null#56730bcc = Null;
`;

function mtcuteType(type: string, mods: MtcuteArg['typeModifiers']): string {
  let t = type === 'int53' ? 'long' : type;
  if (mods?.isBareType && !t.startsWith('%') && /^[A-Z]/.test(t.slice(t.lastIndexOf('.') + 1))) t = `%${t}`;
  if (mods?.isVector) t = `Vector<${t}>`;
  else if (mods?.isBareVector) t = `vector<${t}>`;
  return t;
}

/** Converts mtcute's JSON schema to TL entries (int53 → long, predicates → flags, isVector → Vector<T>). */
export function entriesFromMtcuteJson(json: MtcuteSchemaJson): TlEntry[] {
  return json.e.map((e) => {
    const params: TlParam[] = e.arguments.map((a) => {
      const p: TlParam = { name: a.name, type: mtcuteType(a.type, a.typeModifiers) };
      const pred = a.typeModifiers?.predicate;
      if (pred) {
        const m = /^(\w+)\.(\d+)$/.exec(pred);
        if (!m) throw new Error(`unsupported predicate ${pred} in ${e.name}.${a.name}`);
        p.flag = { field: m[1]!, bit: Number(m[2]) };
      }
      if (a.comment) p.comment = a.comment;
      return p;
    });
    const entry: TlEntry = {
      kind: e.kind === 'method' ? 'method' : 'constructor',
      name: e.name,
      id: e.id >>> 0,
      params,
      type: mtcuteType(e.type, e.typeModifiers),
    };
    if (e.comment) entry.comment = e.comment;
    if (e.throws?.length) entry.throws = e.throws.map((t) => (t.comment ? { code: t.code, name: t.name, comment: t.comment } : { code: t.code, name: t.name }));
    return entry;
  });
}

let apiCache: TlSchema | undefined;
let mtprotoCache: TlSchema | undefined;
let fullCache: TlSchema | undefined;
let typeDocs: Record<string, string> | undefined;

/** The API layer 227 schema (cached). */
export function apiSchema(): TlSchema {
  if (!apiCache) {
    const json = apiJson as unknown as MtcuteSchemaJson;
    const builtins = parseTlSchema(API_BUILTINS_TL).entries;
    const entries = entriesFromMtcuteJson(json);
    const names = new Set(entries.filter((e) => e.kind === 'constructor').map((e) => e.name));
    apiCache = new TlSchema([...builtins.filter((b) => !names.has(b.name)), ...entries], json.l ?? API_LAYER);
    typeDocs = json.u ?? {};
  }
  return apiCache;
}

/** Descriptions of the API's boxed types (`User` → "…"), from the same JSON. */
export function apiTypeComment(type: string): string | undefined {
  apiSchema();
  return typeDocs && Object.hasOwn(typeDocs, type) ? typeDocs[type] : undefined;
}

/** The MTProto service schema (auth key creation and service messages), cached. */
export function mtprotoSchema(): TlSchema {
  if (!mtprotoCache) mtprotoCache = new TlSchema(parseTlSchema(MTPROTO_SCHEMA_TL).entries, 0);
  return mtprotoCache;
}

/** MTProto service schema + API layer 227 (cached). */
export function fullSchema(): TlSchema {
  if (!fullCache) fullCache = mtprotoSchema().extend(apiSchema().entries, API_LAYER);
  return fullCache;
}

/** A user's own .tl text (e.g. another layer's api.tl) merged over the MTProto service schema. */
export function schemaFromTlText(text: string, layer?: number): TlSchema {
  const parsed = parseTlSchema(text);
  return mtprotoSchema().extend(parsed.entries, layer ?? parsed.layer ?? 0);
}
