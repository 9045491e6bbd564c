// `{{…}}` references: finding them, the `response.a[0].b` paths of assignments, and how values become text.
import type { TextRange } from './text';

export const VARIABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface VariableRef {
  /** The text between the braces, trimmed (`me`, `response[0].id`). */
  expr: string;
  /** The whole `{{ … }}`. */
  range: TextRange;
  /** Just `expr`. */
  exprRange: TextRange;
}

const REF_RE = /\{\{([^{}\r\n]*)\}\}/g;

/** The `{{…}}` references in `text`; offsets are shifted by `base` (where `text` starts in the file). */
export function findVariableRefs(text: string, base = 0): VariableRef[] {
  const refs: VariableRef[] = [];
  for (const m of text.matchAll(REF_RE)) {
    const inner = m[1]!;
    const lead = inner.length - inner.trimStart().length;
    const expr = inner.trim();
    const start = base + m.index!;
    refs.push({ expr, range: { start, end: start + m[0].length }, exprRange: { start: start + 2 + lead, end: start + 2 + lead + expr.length } });
  }
  return refs;
}

export type PathSegment = { key: string } | { index: number };

/** `response.users[0].id` → [{key:'users'},{index:0},{key:'id'}]; undefined when it is not a response path. */
export function parseResponsePath(expr: string): PathSegment[] | undefined {
  if (!/^response(?![A-Za-z0-9_])/.test(expr)) return undefined;
  const segments: PathSegment[] = [];
  let rest = expr.slice('response'.length);
  while (rest.length) {
    const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(rest) ?? /^\[(\d+)\]/.exec(rest);
    if (!m) return undefined;
    segments.push(m[0].startsWith('.') ? { key: m[1]! } : { index: Number(m[1]) });
    rest = rest.slice(m[0].length);
  }
  return segments;
}

/** Whether `expr` starts like a response path (`response`, `response.x`, `response[`), valid or not. */
export function looksLikeResponsePath(expr: string): boolean {
  return /^response(?![A-Za-z0-9_])/.test(expr);
}

export function formatPath(segments: readonly PathSegment[]): string {
  return `response${segments.map((s) => ('key' in s ? `.${s.key}` : `[${s.index}]`)).join('')}`;
}

/** How a value is substituted: strings as their raw text, everything else as its JSON text. */
export function valueAsText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null');
}

function describeJson(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => k !== '_');
    const name = typeof o._ === 'string' ? `${o._} ` : '';
    return `an object ${name}with ${keys.length ? keys.slice(0, 12).join(', ') + (keys.length > 12 ? ', …' : '') : 'no fields'}`;
  }
  return JSON.stringify(v) ?? String(v);
}

export class PathError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'PathError';
  }
}

/** Walks a response path through a JSON value; a missing step is a PathError naming the path and what is there. */
export function evaluatePath(root: unknown, segments: readonly PathSegment[]): unknown {
  let v = root;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const here = formatPath(segments.slice(0, i));
    const whole = formatPath(segments);
    if ('index' in s) {
      if (!Array.isArray(v)) throw new PathError(`\`${whole}\` does not resolve: \`${here}\` is ${describeJson(v)}, not an array`, whole);
      if (s.index >= v.length) throw new PathError(`\`${whole}\` does not resolve: \`${here}\` has ${v.length} element${v.length === 1 ? '' : 's'}`, whole);
      v = v[s.index];
    } else {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PathError(`\`${whole}\` does not resolve: \`${here}\` is ${describeJson(v)}`, whole);
      const o = v as Record<string, unknown>;
      if (!(s.key in o)) throw new PathError(`\`${whole}\` does not resolve: \`${here}\` is ${describeJson(v)}`, whole);
      v = o[s.key];
    }
  }
  return v;
}
