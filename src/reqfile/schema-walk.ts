// Schema lookups for a body's JSON tree: which TL type is expected where, which constructor an object is, the
// signature line of an entry, and the schema's HTML-ish doc comments as Markdown.
import { classifyJsonType } from '../tl/json';
import type { TlSchema } from '../tl/schema';
import type { TlEntry, TlParam } from '../tl/types';
import { isInside, type JsonNode, type JsonObjectNode } from './json-tree';

/** `flags.2?string` as written in TL. */
export function paramTypeText(p: TlParam): string {
  return p.flag ? `${p.flag.field}.${p.flag.bit}?${p.type}` : p.type;
}

/** The TL line of an entry with its id: `users.getUsers#0d91a548 id:Vector<InputUser> = Vector<User>`. */
export function tlSignature(entry: TlEntry): string {
  const generics = new Set<string>();
  for (const p of entry.params) if (p.type.startsWith('!')) generics.add(p.type.slice(1));
  const parts = [`${entry.name}#${(entry.id >>> 0).toString(16).padStart(8, '0')}`];
  for (const g of generics) parts.push(`{${g}:Type}`);
  for (const p of entry.params) parts.push(`${p.name}:${paramTypeText(p)}`);
  return `${parts.join(' ')} = ${entry.type}`;
}

/** The schema's doc comments hold a little HTML (`<a href>`, `<strong>`, `<br>`, `{@link X}`): as Markdown. */
export function docToMarkdown(comment: string | undefined): string {
  if (!comment) return '';
  return comment
    .replace(/<a href="([^"]*)">(.*?)<\/a>/g, (_m, href: string, label: string) => `[${label}](${href})`)
    .replace(/<\/?(strong|b)>/g, '**')
    .replace(/<\/?(em|i)>/g, '*')
    .replace(/<\/?code>/g, '`')
    .replace(/<br\s*\/?>/g, '  \n')
    .replace(/\{@link (?:Raw)?([A-Za-z0-9_.]+)\}/g, '`$1`')
    .replace(/<[^>]+>/g, '')
    .trim();
}

/** Params a user writes in JSON (the `#` flags fields are computed). */
export function writableParams(entry: TlEntry): TlParam[] {
  return entry.params.filter((p) => p.type !== '#');
}

export function isRequiredParam(p: TlParam): boolean {
  return !p.flag && p.type !== '#';
}

export function stringMember(node: JsonObjectNode, key: string): { value: string; node: JsonNode } | undefined {
  for (let i = node.members.length - 1; i >= 0; i--) {
    const m = node.members[i]!;
    if (m.key === key && m.value?.kind === 'string') return { value: m.value.value, node: m.value };
  }
  return undefined;
}

/**
 * The constructor an object stands for when `type` is expected there: a bare type's one constructor, the
 * constructor named by `"_"` when it fits the type, or (type `any`) whatever `"_"` names.
 */
export function objectEntry(schema: TlSchema, node: JsonObjectNode, type: string | undefined): TlEntry | undefined {
  const named = stringMember(node, '_')?.value;
  if (type === undefined) return named !== undefined ? (schema.constructorByName(named) ?? schema.methodByName(named)) : undefined;
  const kind = classifyJsonType(schema, type);
  if (kind.k === 'bare') return kind.entry;
  if (named === undefined) return undefined;
  if (kind.k === 'object') {
    const c = schema.constructorByName(named);
    if (c && (c.type === kind.type || !schema.hasType(kind.type))) return c;
    return !schema.hasType(kind.type) ? schema.methodByName(named) : undefined;
  }
  if (kind.k === 'any') return schema.constructorByName(named) ?? schema.methodByName(named);
  return undefined;
}

/** The element type of a vector type (undefined for anything else). */
export function elementType(schema: TlSchema, type: string | undefined): string | undefined {
  if (type === undefined) return undefined;
  const k = classifyJsonType(schema, type);
  return k.k === 'vector' ? k.elem : undefined;
}

/** One step from the body's root down to an offset: the node, the TL type expected there and its constructor. */
export interface Frame {
  node: JsonNode;
  /** TL type expected for this node (undefined at the root, which is the method itself). */
  type?: string;
  /** For objects: the method (root) or the constructor the object stands for. */
  entry?: TlEntry;
  /** The member of the parent object this node is the value of. */
  memberKey?: string;
}

/** The chain of nodes containing `offset`, outermost first, with their expected types. */
export function framesAt(schema: TlSchema, method: TlEntry | undefined, root: JsonNode | undefined, offset: number): Frame[] {
  const frames: Frame[] = [];
  if (!root || !isInside(root, offset)) return frames;
  let frame: Frame = { node: root };
  if (root.kind === 'object') {
    if (method) frame.entry = method;
  }
  frames.push(frame);
  for (;;) {
    const n = frame.node;
    let next: Frame | undefined;
    if (n.kind === 'object') {
      for (const m of n.members) {
        if (m.value && isInside(m.value, offset)) {
          const p = frame.entry?.params.find((x) => x.name === m.key);
          next = { node: m.value, memberKey: m.key };
          if (p) next.type = p.type;
          break;
        }
      }
    } else if (n.kind === 'array') {
      const item = n.items.find((x) => isInside(x, offset));
      if (item) {
        next = { node: item };
        const t = elementType(schema, frame.type);
        if (t !== undefined) next.type = t;
      }
    }
    if (!next) return frames;
    if (next.node.kind === 'object' && next.type !== undefined) {
      const e = objectEntry(schema, next.node, next.type);
      if (e) next.entry = e;
    }
    frames.push(next);
    frame = next;
  }
}

/** Suggestions already computed, per candidate list (the lists are cached per schema): an editor re-analyzes the
 * same text on every keystroke, and a file of many typos would otherwise pay a scan of the schema for each. */
const closestCache = new WeakMap<readonly string[], Map<string, string[]>>();
const CLOSEST_CACHE_ENTRIES = 512;

/** Closest names for a misspelling: same tail after the namespace first, then small edit distances. */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  let cache = closestCache.get(candidates);
  if (!cache) closestCache.set(candidates, (cache = new Map()));
  const key = `${max} ${name}`;
  const hit = cache.get(key);
  if (hit) return hit.slice();
  const want = name.toLowerCase();
  const tail = want.slice(want.lastIndexOf('.') + 1);
  const limit = Math.max(2, Math.floor(want.length / 4));
  const scored: { n: string; d: number }[] = [];
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const ctail = lc.slice(lc.lastIndexOf('.') + 1);
    let d: number;
    if (tail.length >= 3 && ctail === tail) d = Math.min(editDistance(want, lc, 1), 1);
    else if (tail.length >= 4 && ctail.includes(tail)) d = Math.min(editDistance(want, lc, 2), 2);
    else d = editDistance(want, lc, Math.min(4, limit));
    if (d <= limit) scored.push({ n: c, d });
  }
  scored.sort((a, b) => a.d - b.d || a.n.localeCompare(b.n));
  const out = scored.slice(0, max).map((s) => s.n);
  if (cache.size >= CLOSEST_CACHE_ENTRIES) cache.clear();
  cache.set(key, out);
  return out.slice();
}

let distanceRows = new Int32Array(2 * 64);

/** Levenshtein distance, giving up (returning limit + 1) once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const width = b.length + 1;
  if (distanceRows.length < 2 * width) distanceRows = new Int32Array(2 * width);
  let prev = distanceRows.subarray(0, width);
  let cur = distanceRows.subarray(width, 2 * width);
  for (let j = 0; j < width; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let best = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j < width; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ai === b.charCodeAt(j - 1) ? 0 : 1));
      cur[j] = v;
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev[b.length]!;
}
