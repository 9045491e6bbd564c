// What is visible at a place in a request file: the request a line belongs to, the variables defined there, and
// the TL type a `response…` path points at (for completion and hover of assignments).
import type { TlSchema } from '../tl/schema';
import type { TlEntry, TlParam } from '../tl/types';
import type { ParsedRequestFile, RequestBlock } from './parse';
import { classifyJsonType } from '../tl/json';
import type { PathSegment } from './variables';

/** The request of the block (segment between `###` lines) that holds line `lineIndex`. */
export function requestOfLine(file: ParsedRequestFile, lineIndex: number): RequestBlock | undefined {
  const seg = file.lineSegment[lineIndex];
  return file.requests.find((r) => file.lineSegment[r.headerLine] === seg);
}

export interface ScopeVariable {
  name: string;
  /** Where the value comes from, for completion details and hover. */
  origin: 'file' | 'response' | 'known';
  /** File variables: the raw text; assignments: the template. */
  value?: string;
  /** Assignments: the 0-based index of the request that assigns it. */
  request?: number;
}

/**
 * Variables usable on line `lineIndex`: file variables, names assigned by earlier requests (and, on an assignment
 * line, by earlier assignments of the same request) and the known names from outside (environment).
 */
export function variablesInScope(file: ParsedRequestFile, lineIndex: number, known: readonly string[] = []): ScopeVariable[] {
  const out = new Map<string, ScopeVariable>();
  for (const k of known) out.set(k, { name: k, origin: 'known' });
  for (const v of file.variables) out.set(v.name, { name: v.name, origin: 'file', value: v.value });
  const here = requestOfLine(file, lineIndex);
  const onAssignment = file.lineKinds[lineIndex] === 'assignment';
  for (const r of file.requests) {
    if (here && r.index > here.index) break;
    for (const a of r.assignments) {
      const line = file.lines.findIndex((l) => a.range.start >= l.start && a.range.start <= l.end);
      const earlier = here && r.index === here.index ? onAssignment && line < lineIndex : true;
      if (!earlier) continue;
      out.set(a.name, { name: a.name, origin: 'response', value: a.value, request: r.index });
    }
  }
  return [...out.values()];
}

/** The constructors a value of `type` may be (one for a bare type, all of a boxed type). */
export function constructorsFor(schema: TlSchema, type: string): TlEntry[] {
  const k = classifyJsonType(schema, type);
  if (k.k === 'bare') return [k.entry];
  if (k.k === 'object') return schema.constructorsOfType(k.type);
  return [];
}

/** The fields a value of `type` may have: the union over its constructors, first occurrence wins. */
export function fieldsOfType(schema: TlSchema, type: string): { param: TlParam; owners: string[] }[] {
  const byName = new Map<string, { param: TlParam; owners: string[] }>();
  for (const c of constructorsFor(schema, type)) {
    for (const p of c.params) {
      if (p.type === '#') continue;
      const seen = byName.get(p.name);
      if (seen) seen.owners.push(c.name);
      else byName.set(p.name, { param: p, owners: [c.name] });
    }
  }
  return [...byName.values()];
}

/** The TL type at a response path of `method` (`response.users[0]` of users.getFullUser → `User`), if known. */
export function responsePathType(schema: TlSchema, method: TlEntry, segments: readonly PathSegment[]): string | undefined {
  let type: string | undefined = method.type;
  for (const s of segments) {
    if (type === undefined) return undefined;
    const k = classifyJsonType(schema, type);
    if ('index' in s) {
      type = k.k === 'vector' ? k.elem : undefined;
    } else {
      type = fieldsOfType(schema, type).find((f) => f.param.name === s.key)?.param.type;
    }
  }
  return type;
}
