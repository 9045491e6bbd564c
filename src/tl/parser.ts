// Parser of TL schema text (.tl): sections, comments, `// LAYER N`, generics, flags, bare types, ids.
// Ids that are not written are computed like Telegram does (mtproto/TL-abstract-types): CRC32 of the
// declaration with the id removed, `{` `}` `;` dropped, `<`/`>` turned into spaces, `flags.N?true` params dropped
// and `bytes` written as `string`.
// The scanner and the declaration syntax below keep source positions: src/tl/tl-file.ts (editor support for .tl
// files) builds on the same code, so an id shown in the editor is exactly the id the codec uses.
import { crc32 } from './crc32';
import type { TlEntry, TlParam } from './types';

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

// ---------------------------------------------------------------------------------------------------------------
// Scanner: comments removed, lines joined, split at `;`, with a map back to source offsets.

/** A run of text copied from `source` onwards, starting at index `at` of the assembled text. */
interface Piece {
  at: number;
  source: number;
}

/** Pieces shared by the texts built from one another; `end` is where the longest of them ends. */
interface PieceList {
  pieces: Piece[];
  end: number;
}

/**
 * Text assembled from pieces of a source; `sourceOffset(i)` is where its character `i` came from. Immutable, but
 * appending to the newest text of a chain and slicing share the piece list (a view of it), so building a
 * declaration line by line or cutting it at every `;` costs no copy of what came before.
 */
export class TlMappedText {
  /** `text[i]` is index `i + shift` of the piece list's coordinates; pieces `lo..hi-1` cover it. */
  private constructor(
    readonly text: string,
    private readonly list: PieceList,
    private readonly lo: number,
    private readonly hi: number,
    private readonly shift: number,
  ) {}

  static empty(): TlMappedText {
    return new TlMappedText('', { pieces: [], end: 0 }, 0, 0, 0);
  }

  /** A list this text may push onto: its own when it is the newest text of the chain, else a copy of its pieces. */
  private tip(): { list: PieceList; lo: number; shift: number } {
    if (this.hi === this.list.pieces.length && this.shift + this.text.length === this.list.end) return { list: this.list, lo: this.lo, shift: this.shift };
    const pieces: Piece[] = [];
    for (let i = this.lo; i < this.hi; i++) {
      const p = this.list.pieces[i]!;
      const at = Math.max(p.at, this.shift);
      pieces.push({ at: at - this.shift, source: p.source + (at - p.at) });
    }
    return { list: { pieces, end: this.text.length }, lo: 0, shift: 0 };
  }

  /** `chunk` (contiguous in the source from `source`) appended, with `separator` in between when not empty. */
  append(chunk: string, source: number, separator = ''): TlMappedText {
    if (!chunk) return this;
    const sep = this.text ? separator : '';
    const t = this.tip();
    const at = t.shift + this.text.length + sep.length;
    t.list.pieces.push({ at, source });
    t.list.end = at + chunk.length;
    return new TlMappedText(this.text + sep + chunk, t.list, t.lo, t.list.pieces.length, t.shift);
  }

  /** `other` appended (its pieces kept), with `separator` in between when both are not empty. */
  appendMapped(other: TlMappedText, separator = ''): TlMappedText {
    if (!other.text) return this;
    const sep = this.text ? separator : '';
    const t = this.tip();
    const base = t.shift + this.text.length + sep.length;
    for (let i = other.lo; i < other.hi; i++) {
      const p = other.list.pieces[i]!;
      const from = Math.max(p.at, other.shift);
      t.list.pieces.push({ at: base + (from - other.shift), source: p.source + (from - p.at) });
    }
    t.list.end = base + other.text.length;
    return new TlMappedText(this.text + sep + other.text, t.list, t.lo, t.list.pieces.length, t.shift);
  }

  /** Index (in the list) of the last piece of this text starting at or before list coordinate `g`. */
  private pieceAt(g: number): number {
    let lo = this.lo;
    let hi = this.hi - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.list.pieces[mid]!.at <= g) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Source offset of character `index` (a joining separator maps to just after the piece before it). */
  sourceOffset(index: number): number {
    if (this.hi <= this.lo) return index;
    const g = index + this.shift;
    const p = this.list.pieces[this.pieceAt(g)]!;
    // a slice may start inside its first piece
    const from = Math.max(p.at, this.shift);
    return p.source + (from - p.at) + (g - from);
  }

  /** Source range of text `[start, end)` (end exclusive; `end > start`). */
  sourceRange(start: number, end: number): { start: number; end: number } {
    return { start: this.sourceOffset(start), end: this.sourceOffset(end - 1) + 1 };
  }

  slice(start: number, end = this.text.length): TlMappedText {
    start = Math.max(0, Math.min(start, this.text.length));
    end = Math.max(start, Math.min(end, this.text.length));
    if (start === end) return new TlMappedText('', this.list, this.lo, this.lo, this.shift + start);
    const lo = this.pieceAt(start + this.shift);
    let hi = this.pieceAt(end - 1 + this.shift) + 1;
    if (hi <= lo) hi = lo + 1;
    return new TlMappedText(this.text.slice(start, end), this.list, lo, Math.min(hi, this.hi), this.shift + start);
  }

  trim(): TlMappedText {
    const lead = this.text.length - this.text.trimStart().length;
    const kept = this.text.trim().length;
    return lead === 0 && kept === this.text.length ? this : this.slice(lead, lead + kept);
  }
}

/** What the scanner finds in a .tl text, in source order. Lines are 1-based, offsets 0-based. */
export type TlSourceItem =
  | { type: 'comment'; text: string; line: number; start: number; end: number; ownLine: boolean; layer?: number }
  | { type: 'section'; name: string; line: number; start: number; end: number }
  | {
      type: 'declaration';
      kind: TlEntry['kind'];
      /** Declaration text without comments and without its `;`, lines joined by a space, trimmed. */
      source: TlMappedText;
      line: number;
      /** Offset of the terminating `;`; absent when the text ended (or a section marker came) first. */
      semicolon?: number;
      unterminatedBy?: 'section' | 'end';
    };

/** Splits .tl text into comments, section markers and declarations (several per line or several lines each). */
export function scanTlSource(text: string): TlSourceItem[] {
  const items: TlSourceItem[] = [];
  let kind: TlEntry['kind'] = 'constructor';
  let pending = TlMappedText.empty();
  let pendingLine = 0;
  let inBlockComment = false;
  let lineStart = 0;
  for (let lineNo = 1; lineStart <= text.length; lineNo++) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');

    // the code of this line: everything outside `//` and `/* */` comments
    let code = TlMappedText.empty();
    let pos = 0;
    // next `//` and `/*` at or after pos, searched again only once passed (-1 stays -1): a line of many
    // comments is not rescanned to its end for each
    let lineComment = -2;
    let blockComment = -2;
    while (pos < line.length) {
      if (inBlockComment) {
        const close = line.indexOf('*/', pos);
        if (close < 0) break;
        inBlockComment = false;
        pos = close + 2;
        continue;
      }
      if (lineComment !== -1 && lineComment < pos) lineComment = line.indexOf('//', pos);
      if (blockComment !== -1 && blockComment < pos) blockComment = line.indexOf('/*', pos);
      if (lineComment >= 0 && (blockComment < 0 || lineComment < blockComment)) {
        code = code.append(line.slice(pos, lineComment), lineStart + pos);
        const commentText = line.slice(lineComment);
        const layerMatch = /^\/\/\s*LAYER\s+(\d+)/i.exec(commentText);
        items.push({
          type: 'comment',
          text: commentText.slice(2),
          line: lineNo,
          start: lineStart + lineComment,
          end: lineStart + line.length,
          ownLine: !code.text.trim(),
          ...(layerMatch ? { layer: Number(layerMatch[1]) } : {}),
        });
        pos = line.length;
      } else if (blockComment >= 0) {
        code = code.append(line.slice(pos, blockComment), lineStart + pos);
        inBlockComment = true;
        pos = blockComment + 2;
      } else {
        code = code.append(line.slice(pos), lineStart + pos);
        pos = line.length;
      }
    }
    code = code.trim();

    if (code.text) {
      const section = /^---(\w+)---$/.exec(code.text);
      if (section) {
        if (pending.text) items.push({ type: 'declaration', kind, source: pending, line: pendingLine, unterminatedBy: 'section' });
        pending = TlMappedText.empty();
        if (section[1] === 'functions') kind = 'method';
        else if (section[1] === 'types') kind = 'constructor';
        const start = code.sourceOffset(0);
        items.push({ type: 'section', name: section[1]!, line: lineNo, start, end: start + code.text.length });
      } else {
        if (!pending.text) pendingLine = lineNo;
        pending = pending.appendMapped(code, ' ');
        // a line may hold several declarations; pending has no `;` before this line's code (searching the whole
        // of a long multi-line declaration again on every line would be quadratic)
        let semi: number;
        while (code.text.includes(';') && (semi = pending.text.indexOf(';')) >= 0) {
          const decl = pending.slice(0, semi).trim();
          const semicolon = pending.sourceOffset(semi);
          pending = pending.slice(semi + 1).trim();
          if (decl.text) items.push({ type: 'declaration', kind, source: decl, line: pendingLine, semicolon });
          pendingLine = lineNo;
        }
      }
    }
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  if (pending.text) items.push({ type: 'declaration', kind, source: pending, line: pendingLine, unterminatedBy: 'end' });
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// Declaration syntax, with positions as indices into the declaration text (end exclusive).

export interface TlParamSyntax {
  name: string;
  nameStart: number;
  /** Written type without the `flags.N?` prefix. */
  type: string;
  typeStart: number;
  /** `flags.N?`: the field, the bit, and where the prefix is (`?` included). */
  flag?: { field: string; bit: number; start: number; end: number };
}

export interface TlDeclarationSyntax {
  name: string;
  nameStart: number;
  /** `#id` as written; `idStart` is the index of `#`. */
  writtenId?: number;
  idStart?: number;
  idEnd?: number;
  /** `{X:Type}` type parameters. */
  typeParams: { name: string; type: string; start: number; end: number }[];
  params: TlParamSyntax[];
  /** Result type, whitespace collapsed (`Vector<User>`, `X`). */
  resultType: string;
  resultStart: number;
  resultEnd: number;
}

export type TlDeclarationParse =
  | { ok: true; syntax: TlDeclarationSyntax }
  /** A builtin's definition (`int ? = Int`, `vector {t:Type} # [ t ] = Vector t`): not an entry. */
  | { ok: false; builtin: true; resultType: string }
  | { ok: false; builtin?: false; message: string; start: number; end: number };

/** Parses one declaration (no `;`) into its parts, or says why it is not one. */
export function parseTlDeclarationSyntax(decl: string): TlDeclarationParse {
  const fail = (message: string, start: number, end: number): TlDeclarationParse => ({
    ok: false,
    message,
    start,
    end: Math.max(end, start + 1),
  });
  const eq = decl.lastIndexOf('=');
  if (eq < 0) return fail(`missing "=" in "${decl}"`, 0, decl.length);
  const left = decl.slice(0, eq).trim();
  const resultType = decl
    .slice(eq + 1)
    .trim()
    .replace(/\s+/g, ' ');
  if (!resultType) return fail(`missing result type in "${decl}"`, eq, eq + 1);
  // builtins: `int ? = Int`, `vector {t:Type} # [ t ] = Vector t`, `int128 4*[ int ] = Int128`
  if (/\s\?(\s|$)/.test(left) || left.includes('[') || (/^\w+$/.test(left) && BUILTIN_SKIP.test(left) && resultType !== 'True' && resultType !== 'Bool'))
    return { ok: false, builtin: true, resultType };
  const resultStart = eq + 1 + (decl.length - eq - 1 - decl.slice(eq + 1).trimStart().length);
  const resultEnd = decl.trimEnd().length;

  const tokens = [...decl.slice(0, eq).matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index }));
  const head = tokens.shift() ?? { text: '', start: 0 };
  const hm = /^([A-Za-z_][\w.]*)(?:#([0-9a-fA-F]{1,8}))?$/.exec(head.text);
  if (!hm) return fail(`bad combinator name "${head.text}"`, head.start, head.start + head.text.length);
  const syntax: TlDeclarationSyntax = { name: hm[1]!, nameStart: head.start, typeParams: [], params: [], resultType, resultStart, resultEnd };
  if (hm[2] !== undefined) {
    syntax.writtenId = parseInt(hm[2], 16) >>> 0;
    syntax.idStart = head.start + hm[1]!.length;
    syntax.idEnd = head.start + head.text.length;
  }
  for (const tok of tokens) {
    const tokEnd = tok.start + tok.text.length;
    if (tok.text.startsWith('{')) {
      // generic `{X:Type}`
      const gm = /^\{(\w+):(\w+)\}$/.exec(tok.text);
      if (gm) syntax.typeParams.push({ name: gm[1]!, type: gm[2]!, start: tok.start, end: tokEnd });
      continue;
    }
    const colon = tok.text.indexOf(':');
    if (colon <= 0) return fail(`bad parameter "${tok.text}"`, tok.start, tokEnd);
    const param: TlParamSyntax = { name: tok.text.slice(0, colon), nameStart: tok.start, type: tok.text.slice(colon + 1), typeStart: tok.start + colon + 1 };
    const fm = /^([\w]+)\.(\d+)\?(.+)$/.exec(param.type);
    if (fm) {
      const prefixLength = param.type.length - fm[3]!.length;
      param.flag = { field: fm[1]!, bit: Number(fm[2]), start: param.typeStart, end: param.typeStart + prefixLength };
      param.type = fm[3]!;
      param.typeStart += prefixLength;
      if (param.flag.bit > 31) return fail(`flag bit ${param.flag.bit} out of range`, param.flag.start, param.flag.end);
    }
    if (!param.type) return fail(`empty type for "${param.name}"`, tok.start, tokEnd);
    syntax.params.push(param);
  }
  return { ok: true, syntax };
}

/** Parses TL schema text into entries; `layer` from a `// LAYER N` comment when present. */
export function parseTlSchema(text: string): { entries: TlEntry[]; layer?: number } {
  const entries: TlEntry[] = [];
  let layer: number | undefined;
  for (const item of scanTlSource(text)) {
    if (item.type === 'comment') {
      if (item.layer !== undefined) layer = item.layer;
    } else if (item.type === 'declaration') {
      if (item.unterminatedBy === 'section') throw new TlParseError('unterminated declaration before section marker', item.line);
      if (item.unterminatedBy === 'end') throw new TlParseError('missing ";" at end of declaration', item.line);
      const entry = parseDeclaration(item.source.text, item.kind, item.line);
      if (entry) entries.push(entry);
    }
  }
  return layer === undefined ? { entries } : { entries, layer };
}

function parseDeclaration(decl: string, kind: TlEntry['kind'], lineNo: number): TlEntry | undefined {
  const parsed = parseTlDeclarationSyntax(decl);
  if (!parsed.ok) {
    if (parsed.builtin) return undefined;
    throw new TlParseError(parsed.message, lineNo);
  }
  const { syntax } = parsed;
  const params = syntax.params.map(
    (p): TlParam => (p.flag ? { name: p.name, type: p.type, flag: { field: p.flag.field, bit: p.flag.bit } } : { name: p.name, type: p.type }),
  );
  return { kind, name: syntax.name, id: syntax.writtenId ?? computeTlId(decl), params, type: syntax.resultType };
}
