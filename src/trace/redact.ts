// Deep redaction of secrets in trace payloads. Output is JSON-ready (long → decimal string, bytes → base64 via
// src/tl/json) and never contains a redacted value, not even inside a nested or camelCase field.
import { tlToJson } from '../tl/json';
import { redactSecrets } from '../tl/secret-fields';
import type { TlSchema } from '../tl/schema';
import type { JsonValue } from './event';

export interface RedactContext {
  /** The method or constructor the payload belongs to when it has no `_` of its own (a call's params). */
  method?: string;
  /** Lets tlToJson render int128/int256 as hex. */
  schema?: TlSchema;
}

/** Redacts secrets (the policy of src/tl/secret-fields.ts) and returns JSON-ready data. Never mutates. */
export function redact(value: unknown, ctx: RedactContext = {}): JsonValue {
  const cleaned = redactSecrets(value, ctx.method);
  const json = tlToJson(cleaned, ctx.schema);
  return normalize(json);
}

/** Whatever tlToJson leaves that JSON cannot hold (functions, symbols, NaN, class instances) becomes a string. */
function normalize(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object') {
    if (v instanceof Date) return v.toISOString();
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined && typeof x !== 'function') out[k] = normalize(x);
    return out;
  }
  return String(v);
}
