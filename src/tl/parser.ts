// Parser of TL schema text (.tl): sections, comments, `// LAYER N`, generics, flags, bare types, ids.
// Ids that are not written are computed like Telegram does (mtproto/TL-abstract-types): CRC32 of the
// declaration with the id removed, `{` `}` `;` dropped, `<`/`>` turned into spaces, `flags.N?true` params dropped
// and `bytes` written as `string`.
import { crc32 } from './crc32.js';
import type { TlEntry, TlParam } from './types.js';

export class TlParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TlParseError';
  }
}

const BUILTIN_SKIP = /^(int|long|double|string|bytes|int128|int256|vector|Vector|true|Bool)\b/;

/** The string Telegram hashes to compute a constructor id, for a declaration without its `#id` and `;`. */
export function normalizeTlDeclaration(decl: string): string {
  let s = decl.trim().replace(/;$/, '').trim();
  s = s.replace(/^([\w.]+)#[0-9a-fA-F]+/, '$1');
  s = s
    .replace(/[{}]/g, '')
    .replace(/</g, ' ')
    .replace(/>/g, '')
    .replace(/(\s)[\w]+:flags\d*\.\d+\?true(?=\s|$)/g, '')
    .replace(/([:?])bytes(?=\s|$)/g, '$1string');
  return s.replace(/\s+/g, ' ').trim();
}

/** Computed id of a declaration (unsigned). */
export function computeTlId(decl: string): number {
  return crc32(normalizeTlDeclaration(decl));
}

function parseParams(tokens: string[], lineNo: number): TlParam[] {
  const params: TlParam[] = [];
  for (const tok of tokens) {
    if (tok.startsWith('{')) continue; // generic `{X:Type}`
    const colon = tok.indexOf(':');
    if (colon <= 0) throw new TlParseError(`bad parameter "${tok}"`, lineNo);
    const name = tok.slice(0, colon);
    let type = tok.slice(colon + 1);
    const p: TlParam = { name, type };
    const m = /^([\w]+)\.(\d+)\?(.+)$/.exec(type);
    if (m) {
      p.flag = { field: m[1]!, bit: Number(m[2]) };
      type = m[3]!;
      p.type = type;
      if (p.flag.bit > 31) throw new TlParseError(`flag bit ${p.flag.bit} out of range`, lineNo);
    }
    if (!type) throw new TlParseError(`empty type for "${name}"`, lineNo);
    params.push(p);
  }
  return params;
}

/** Parses TL schema text into entries; `layer` from a `// LAYER N` comment when present. */
export function parseTlSchema(text: string): { entries: TlEntry[]; layer?: number } {
  const entries: TlEntry[] = [];
  let layer: number | undefined;
  let kind: TlEntry['kind'] = 'constructor';
  let pending = '';
  let pendingLine = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const ci = line.indexOf('//');
    if (ci >= 0) {
      const lm = /^\/\/\s*LAYER\s+(\d+)/i.exec(line.slice(ci));
      if (lm) layer = Number(lm[1]);
      line = line.slice(0, ci);
    }
    line = line.replace(/\/\*.*?\*\//g, '').trim();
    if (!line) continue;
    const sec = /^---(\w+)---$/.exec(line);
    if (sec) {
      if (pending) throw new TlParseError('unterminated declaration before section marker', pendingLine);
      if (sec[1] === 'functions') kind = 'method';
      else if (sec[1] === 'types') kind = 'constructor';
      continue;
    }
    if (!pending) pendingLine = i + 1;
    pending = pending ? `${pending} ${line}` : line;
    // a line may hold several declarations
    let semi: number;
    while ((semi = pending.indexOf(';')) >= 0) {
      const decl = pending.slice(0, semi).trim();
      pending = pending.slice(semi + 1).trim();
      if (decl) {
        const e = parseDeclaration(decl, kind, pendingLine);
        if (e) entries.push(e);
      }
      pendingLine = i + 1;
    }
  }
  if (pending.trim()) throw new TlParseError('missing ";" at end of declaration', pendingLine);
  return layer === undefined ? { entries } : { entries, layer };
}

function parseDeclaration(decl: string, kind: TlEntry['kind'], lineNo: number): TlEntry | undefined {
  const eq = decl.lastIndexOf('=');
  if (eq < 0) throw new TlParseError(`missing "=" in "${decl}"`, lineNo);
  const left = decl.slice(0, eq).trim();
  const type = decl
    .slice(eq + 1)
    .trim()
    .replace(/\s+/g, ' ');
  if (!type) throw new TlParseError(`missing result type in "${decl}"`, lineNo);
  // builtins: `int ? = Int`, `vector {t:Type} # [ t ] = Vector t`, `int128 4*[ int ] = Int128`
  if (/\s\?(\s|$)/.test(left) || left.includes('[') || (/^\w+$/.test(left) && BUILTIN_SKIP.test(left) && type !== 'True' && type !== 'Bool'))
    return undefined;
  const tokens = left.split(/\s+/);
  const head = tokens.shift()!;
  const hm = /^([A-Za-z_][\w.]*)(?:#([0-9a-fA-F]{1,8}))?$/.exec(head);
  if (!hm) throw new TlParseError(`bad combinator name "${head}"`, lineNo);
  const name = hm[1]!;
  const id = hm[2] !== undefined ? parseInt(hm[2], 16) >>> 0 : computeTlId(decl);
  const params = parseParams(tokens, lineNo);
  return { kind, name, id, params, type };
}
