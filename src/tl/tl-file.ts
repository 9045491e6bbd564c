// Editor support for .tl schema files, with positions: entries with the ranges of their parts, diagnostics (a written
// `#id` that is not the CRC32 of the declaration, syntax errors, unknown types, duplicates), hover and go-to-definition.
// Pure: src/vscode turns these offsets into positions. Scanning, declaration syntax and the hashed normalization are
// parser.ts's own, so what the editor shows is exactly what the codec uses.
import { crc32 } from './crc32';
import { normalizeTlDeclaration, parseTlDeclarationSyntax, scanTlSource } from './parser';
import type { TlMappedText, TlSourceItem } from './parser';
import type { TlEntry } from './types';

/** 0-based character offsets into the analyzed text, `end` exclusive. */
export interface TlTextRange {
  start: number;
  end: number;
}

export interface TlFileParam {
  name: string;
  /** Written type without the `flags.N?` prefix (`Vector<InputUser>`, `%Message`, `!X`, `#`). */
  type: string;
  nameRange: TlTextRange;
  typeRange: TlTextRange;
  /** `flags.N?`: the `#` field and bit; `range` covers the whole prefix, `?` included. */
  flag?: { field: string; bit: number; range: TlTextRange };
}

export interface TlFileEntry {
  kind: TlEntry['kind'];
  name: string;
  nameRange: TlTextRange;
  /** From the first character of the declaration to its `;` (included; to its last character when unterminated). */
  lineRange: TlTextRange;
  writtenId?: number;
  /** The written `#id`, `#` included. */
  writtenIdRange?: TlTextRange;
  /** CRC32 of `normalized`: what parser.ts uses when no id is written. */
  computedId: number;
  /** The declaration as hashed (parser.ts's `normalizeTlDeclaration`). */
  normalized: string;
  /**
   * Set when the written id differs from `computedId` but is the CRC32 of an equivalent spelling in which bare
   * `%Type`s are written as constructor names (`vector<%Message>` → `vector message`): the form Telegram hashed for
   * `msg_container`. Such an id is not reported as a mismatch.
   */
  equivalentNormalized?: string;
  /** Result type, whitespace collapsed. */
  resultType: string;
  resultTypeRange: TlTextRange;
  /** `{X:Type}` type parameters. */
  typeParams: { name: string; range: TlTextRange }[];
  params: TlFileParam[];
  /** The `//` comment lines directly above the declaration, without the `//` (e.g. `@description ...`). */
  comment?: string;
}

export interface TlFileDiagnostic {
  range: TlTextRange;
  severity: 'error' | 'warning';
  message: string;
  code: 'id-mismatch' | 'syntax' | 'unknown-type' | 'duplicate';
}

/**
 * A name used as a type (or a flag field) inside a declaration, with what it refers to:
 * `type` a boxed type (`InputUser`); `bare-type` a `%Type`; `constructor` a constructor name used as a bare type
 * (`future_salt`); `builtin` (int, long, Bool, Vector, …); `type-param` the `X` of `{X:Type}` (also in `!X`);
 * `flag-field` the `flags` of `flags.3?`.
 */
export interface TlFileReference {
  range: TlTextRange;
  /** Index into `entries` of the declaration it is written in. */
  entry: number;
  kind: 'type' | 'bare-type' | 'constructor' | 'builtin' | 'type-param' | 'flag-field';
  /** The name looked up: type (`Message` for `%Message`), constructor, builtin, type parameter or field name. */
  target: string;
  /** False when neither this file, the builtins nor `knownTypes` define it. */
  defined: boolean;
}

export interface TlFileAnalysis {
  entries: TlFileEntry[];
  diagnostics: TlFileDiagnostic[];
  /** From a `// LAYER N` comment. */
  layer?: number;
  /** Every type reference (and flag field) of every entry, in source order. */
  references: TlFileReference[];
}

export interface TlFileAnalysisOptions {
  /**
   * Types defined elsewhere (e.g. the bundled schema's), so a partial .tl may use them: boxed type names (`User`)
   * and/or constructor names for bare use (`inputUserSelf`).
   */
  knownTypes?: Iterable<string>;
}

/** Builtin types: never unknown even when the file does not declare them. Read through builtinDoc (own keys only). */
const BUILTIN_TYPES: Record<string, string> = {
  int: '32-bit signed integer (little-endian)',
  long: '64-bit signed integer (little-endian)',
  double: '64-bit IEEE 754 float',
  string: 'UTF-8 string (serialized like `bytes`)',
  bytes: 'byte string: 1-byte length (< 254) or `0xfe` + 3-byte length, then data padded to 4 bytes',
  int128: '128-bit value (16 raw bytes)',
  int256: '256-bit value (32 raw bytes)',
  true: 'bare `true`: no bytes on the wire; with `flags.N?true` the flag bit alone carries the value',
  Bool: '`boolTrue#997275b5` or `boolFalse#bc799737`',
  Object: 'any boxed object',
  Vector: 'boxed vector: `#1cb5c415`, 32-bit count, then the elements',
  vector: 'bare vector: 32-bit count, then the elements (no `#1cb5c415`)',
  Int: 'boxed `int`',
  Long: 'boxed `long`',
  Double: 'boxed `double`',
  String: 'boxed `string`',
  Bytes: 'boxed `bytes`',
  Int128: 'boxed `int128`',
  Int256: 'boxed `int256`',
  True: 'the type of the `true` constructor',
  Type: 'any type (in a `{X:Type}` type parameter)',
};

/** The description of a builtin type; undefined for anything else (`constructor` and `toString` included). */
function builtinDoc(name: string): string | undefined {
  return Object.hasOwn(BUILTIN_TYPES, name) ? BUILTIN_TYPES[name] : undefined;
}

export function formatTlId(id: number): string {
  return `#${(id >>> 0).toString(16).padStart(8, '0')}`;
}

/** `%Message` → `message`, `%auth.SentCode` → `auth.sentCode`: the bare spelling by constructor name. */
function constructorSpelling(type: string): string {
  const dot = type.lastIndexOf('.');
  return type.slice(0, dot + 1) + type.charAt(dot + 1).toLowerCase() + type.slice(dot + 2);
}

function isConstructorName(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return !/^[A-Z]/.test(last);
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Line number (1-based) of an offset. */
function lineOf(lineStarts: number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

interface RawReference {
  name: string;
  prefix: '' | '%' | '!';
  range: TlTextRange;
}

/** The names inside a written type (`Vector<%Message>` → `Vector`, `%Message`), with source ranges. */
function referencesInType(source: TlMappedText, start: number, end: number): RawReference[] {
  const refs: RawReference[] = [];
  for (const m of source.text.slice(start, end).matchAll(/([%!]?)([A-Za-z_][\w.]*)/g)) {
    const nameStart = start + m.index + m[1]!.length;
    refs.push({
      name: m[2]!,
      prefix: m[1] as RawReference['prefix'],
      range: source.sourceRange(start + m.index, nameStart + m[2]!.length),
    });
  }
  return refs;
}

/** Analyzes a .tl text: entries with positions, diagnostics, type references. */
export function analyzeTlFile(text: string, opts: TlFileAnalysisOptions = {}): TlFileAnalysis {
  const knownTypes = new Set(opts.knownTypes ?? []);
  const entries: TlFileEntry[] = [];
  const diagnostics: TlFileDiagnostic[] = [];
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  let layer: number | undefined;

  // pass 1: entries (references need every type of the file, so they come after)
  const declarations: { entry: TlFileEntry; source: TlMappedText; params: { typeStart: number; typeEnd: number }[]; resultStart: number; resultEnd: number }[] =
    [];
  const builtinTypesDeclared = new Set<string>();
  const commentBlockEndingAt = new Map<number, string[]>();
  const items: TlSourceItem[] = scanTlSource(text);
  for (const item of items) {
    if (item.type === 'comment') {
      if (item.layer !== undefined) layer = item.layer;
      else if (item.ownLine) {
        const block = commentBlockEndingAt.get(item.line - 1) ?? [];
        commentBlockEndingAt.delete(item.line - 1);
        block.push(item.text.replace(/^ /, '').trimEnd());
        commentBlockEndingAt.set(item.line, block);
      }
      continue;
    }
    if (item.type === 'section') continue;
    const source = item.source;
    const whole = source.sourceRange(0, source.text.length);
    if (item.unterminatedBy) {
      const message = item.unterminatedBy === 'section' ? 'unterminated declaration before section marker (missing ";")' : 'missing ";" at end of declaration';
      diagnostics.push({ range: whole, severity: 'error', message, code: 'syntax' });
      continue;
    }
    const parsed = parseTlDeclarationSyntax(source.text);
    if (!parsed.ok) {
      if (parsed.builtin) builtinTypesDeclared.add(parsed.resultType.split(' ')[0]!);
      else
        diagnostics.push({
          range: source.sourceRange(parsed.start, Math.min(parsed.end, source.text.length)),
          severity: 'error',
          message: parsed.message,
          code: 'syntax',
        });
      continue;
    }
    const syntax = parsed.syntax;
    const normalized = normalizeTlDeclaration(source.text);
    const entry: TlFileEntry = {
      kind: item.kind,
      name: syntax.name,
      nameRange: source.sourceRange(syntax.nameStart, syntax.nameStart + syntax.name.length),
      lineRange: { start: whole.start, end: item.semicolon !== undefined ? item.semicolon + 1 : whole.end },
      computedId: crc32(normalized),
      normalized,
      resultType: syntax.resultType,
      resultTypeRange: source.sourceRange(syntax.resultStart, syntax.resultEnd),
      typeParams: syntax.typeParams.map((t) => ({ name: t.name, range: source.sourceRange(t.start, t.end) })),
      params: syntax.params.map((p) => {
        const param: TlFileParam = {
          name: p.name,
          type: p.type,
          nameRange: source.sourceRange(p.nameStart, p.nameStart + p.name.length),
          typeRange: source.sourceRange(p.typeStart, p.typeStart + p.type.length),
        };
        if (p.flag) param.flag = { field: p.flag.field, bit: p.flag.bit, range: source.sourceRange(p.flag.start, p.flag.end) };
        return param;
      }),
    };
    if (syntax.writtenId !== undefined) {
      entry.writtenId = syntax.writtenId;
      entry.writtenIdRange = source.sourceRange(syntax.idStart!, syntax.idEnd!);
      if (syntax.writtenId !== entry.computedId && normalized.includes('%')) {
        const equivalent = normalizeTlDeclaration(source.text.replace(/%([A-Za-z_][\w.]*)/g, (_, type: string) => constructorSpelling(type)));
        if (crc32(equivalent) === syntax.writtenId) entry.equivalentNormalized = equivalent;
      }
    }
    const comment = commentBlockEndingAt.get(item.line - 1);
    if (comment?.length) entry.comment = comment.join('\n');
    entries.push(entry);
    declarations.push({
      entry,
      source,
      params: syntax.params.map((p) => ({ typeStart: p.typeStart, typeEnd: p.typeStart + p.type.length })),
      resultStart: syntax.resultStart,
      resultEnd: syntax.resultEnd,
    });
  }

  const constructorsByType = new Map<string, TlFileEntry[]>();
  const constructorsByName = new Map<string, TlFileEntry[]>();
  const firstByKindAndName = new Map<string, TlFileEntry>();
  for (const entry of entries) {
    const key = `${entry.kind}:${entry.name}`;
    const first = firstByKindAndName.get(key);
    if (first)
      diagnostics.push({
        range: entry.nameRange,
        severity: 'warning',
        message: `${entry.kind} "${entry.name}" is already defined at line ${lineOf(lineStarts, first.nameRange.start)}`,
        code: 'duplicate',
      });
    else firstByKindAndName.set(key, entry);
    if (entry.kind !== 'constructor') continue;
    addTo(constructorsByType, entry.resultType, entry);
    addTo(constructorsByName, entry.name, entry);
  }

  // pass 2: id checks and references
  const references: TlFileReference[] = [];
  const isTypeDefined = (type: string) =>
    constructorsByType.has(type) || builtinDoc(type) !== undefined || builtinTypesDeclared.has(type) || knownTypes.has(type);
  for (const [entryIndex, { entry, source, params, resultStart, resultEnd }] of declarations.entries()) {
    if (entry.writtenId !== undefined && entry.writtenId !== entry.computedId && !entry.equivalentNormalized)
      diagnostics.push({
        range: entry.writtenIdRange!,
        severity: 'error',
        message: `constructor id ${formatTlId(entry.writtenId)} does not match the computed ${formatTlId(entry.computedId)} (CRC32 of "${entry.normalized}")`,
        code: 'id-mismatch',
      });

    const typeParamNames = new Set(entry.typeParams.map((t) => t.name));
    const makeRef = (raw: RawReference, kind: TlFileReference['kind'], defined: boolean): TlFileReference => ({
      range: raw.range,
      entry: entryIndex,
      kind,
      target: raw.name,
      defined,
    });
    const resolve = (raw: RawReference): TlFileReference => {
      const name = raw.name;
      if (typeParamNames.has(name) && raw.prefix !== '%') return makeRef(raw, 'type-param', true);
      if (raw.prefix === '%') return makeRef(raw, 'bare-type', isTypeDefined(name));
      if (isConstructorName(name)) {
        if (constructorsByName.has(name)) return makeRef(raw, 'constructor', true);
        if (builtinDoc(name) !== undefined) return makeRef(raw, 'builtin', true);
        return makeRef(raw, 'constructor', knownTypes.has(name));
      }
      if (constructorsByType.has(name)) return makeRef(raw, 'type', true);
      if (builtinDoc(name) !== undefined || builtinTypesDeclared.has(name)) return makeRef(raw, 'builtin', true);
      return makeRef(raw, 'type', knownTypes.has(name));
    };
    const addTypeReferences = (start: number, end: number, checked: boolean) => {
      for (const raw of referencesInType(source, start, end)) {
        const ref = resolve(raw);
        references.push(ref);
        if (checked && !ref.defined)
          diagnostics.push({
            range: ref.range,
            severity: 'warning',
            message:
              ref.kind === 'constructor'
                ? `unknown constructor "${ref.target}" used as a bare type`
                : `unknown type "${raw.prefix === '!' ? '!' : ''}${ref.target}": not defined in this file, not a builtin${knownTypes.size ? ', not in the known types' : ''}`,
            code: 'unknown-type',
          });
      }
    };
    // the `#` parameters seen so far (a flag names one before it); a set, not a scan back per parameter
    const flagFields = new Set<string>();
    for (const [i, param] of entry.params.entries()) {
      if (param.flag) {
        const field = flagFields.has(param.flag.field);
        const fieldRange = { start: param.flag.range.start, end: param.flag.range.start + param.flag.field.length };
        references.push({ range: fieldRange, entry: entryIndex, kind: 'flag-field', target: param.flag.field, defined: !!field });
        if (!field)
          diagnostics.push({
            range: fieldRange,
            severity: 'error',
            message: `flag field "${param.flag.field}" is not a "#" parameter before "${param.name}"`,
            code: 'syntax',
          });
      }
      if (param.type === '#') flagFields.add(param.name);
      addTypeReferences(params[i]!.typeStart, params[i]!.typeEnd, true);
    }
    // a constructor's result type is what it defines; a method's must exist
    addTypeReferences(resultStart, resultEnd, entry.kind === 'method');
  }
  diagnostics.sort((a, b) => a.range.start - b.range.start);
  const analysis: TlFileAnalysis = { entries, diagnostics, references };
  if (layer !== undefined) analysis.layer = layer;
  return analysis;
}

// ---------------------------------------------------------------------------------------------------------------
// Queries by offset

interface TlFileIndex {
  constructorsByType: Map<string, TlFileEntry[]>;
  constructorsByName: Map<string, TlFileEntry[]>;
}
const indexes = new WeakMap<TlFileAnalysis, TlFileIndex>();

function indexOf(analysis: TlFileAnalysis): TlFileIndex {
  let index = indexes.get(analysis);
  if (!index) {
    index = { constructorsByType: new Map(), constructorsByName: new Map() };
    for (const e of analysis.entries) {
      if (e.kind !== 'constructor') continue;
      addTo(index.constructorsByType, e.resultType, e);
      addTo(index.constructorsByName, e.name, e);
    }
    indexes.set(analysis, index);
  }
  return index;
}

/** Cursor at `offset` touches `range` (the end counts: a cursor right after a word is on it). */
function touches(range: TlTextRange, offset: number): boolean {
  return range.start <= offset && offset <= range.end;
}

/** The last element whose `start(el) <= offset`, by binary search over a list sorted by start. */
function lastStartingAtOrBefore<T>(list: T[], offset: number, start: (el: T) => number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (start(list[mid]!) <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function referenceAt(analysis: TlFileAnalysis, offset: number): TlFileReference | undefined {
  const refs = analysis.references;
  const i = lastStartingAtOrBefore(refs, offset, (r) => r.range.start);
  // prefer the reference the cursor is inside; one ending exactly at the cursor comes next
  if (i >= 0 && touches(refs[i]!.range, offset)) return refs[i];
  if (i > 0 && touches(refs[i - 1]!.range, offset)) return refs[i - 1];
  return undefined;
}

function entryAt(analysis: TlFileAnalysis, offset: number): TlFileEntry | undefined {
  const i = lastStartingAtOrBefore(analysis.entries, offset, (e) => e.lineRange.start);
  const entry = i >= 0 ? analysis.entries[i] : undefined;
  return entry && touches(entry.lineRange, offset) ? entry : undefined;
}

function signature(entry: TlFileEntry): string {
  return `${entry.name}${formatTlId(entry.writtenId ?? entry.computedId)}`;
}

function constructorList(constructors: TlFileEntry[]): string {
  const shown = constructors.slice(0, 40).map((c) => `- \`${signature(c)}\``);
  if (constructors.length > shown.length) shown.push(`- … ${constructors.length - shown.length} more`);
  return shown.join('\n');
}

function entryHover(entry: TlFileEntry): string {
  const parts = [`**${entry.kind}** \`${entry.name}\` → \`${entry.resultType}\``];
  parts.push(`Computed id \`${formatTlId(entry.computedId)}\`, the CRC32 of:\n\n\`\`\`tl\n${entry.normalized}\n\`\`\``);
  if (entry.writtenId !== undefined) {
    const written = formatTlId(entry.writtenId);
    if (entry.writtenId === entry.computedId) parts.push(`Written id \`${written}\` matches.`);
    else if (entry.equivalentNormalized)
      parts.push(`Written id \`${written}\` is the CRC32 of the equivalent spelling:\n\n\`\`\`tl\n${entry.equivalentNormalized}\n\`\`\``);
    else parts.push(`**Written id \`${written}\` does not match** the computed \`${formatTlId(entry.computedId)}\`.`);
  }
  if (entry.comment) parts.push(`---\n\n${entry.comment}`);
  return parts.join('\n\n');
}

function referenceHover(analysis: TlFileAnalysis, ref: TlFileReference): string {
  const { constructorsByType, constructorsByName } = indexOf(analysis);
  const entry = analysis.entries[ref.entry];
  switch (ref.kind) {
    case 'builtin':
      return `**builtin type** \`${ref.target}\`: ${builtinDoc(ref.target) ?? 'declared by a builtin line of this file'}`;
    case 'type-param':
      return `**type parameter** \`${ref.target}\` of \`${entry?.name}\` (\`{${ref.target}:Type}\`): any boxed type; \`!${ref.target}\` is a whole serialized object of that type`;
    case 'flag-field': {
      const param = entry?.params.find((p) => p.flag && p.flag.range.start === ref.range.start);
      return param?.flag
        ? `**flag** bit ${param.flag.bit} of \`${ref.target}\`: \`${param.name}\` is present when the bit is set`
        : `**flag field** \`${ref.target}\` is not a \`#\` parameter of \`${entry?.name}\``;
    }
    case 'constructor': {
      const constructors = constructorsByName.get(ref.target) ?? [];
      if (!constructors.length)
        return ref.defined ? `**constructor** \`${ref.target}\` used as a bare type (not defined in this file)` : `**unknown constructor** \`${ref.target}\``;
      return `**constructor** \`${ref.target}\` used as a bare type (no id on the wire)\n\n${constructorList(constructors)}`;
    }
    case 'bare-type':
    case 'type': {
      const constructors = constructorsByType.get(ref.target) ?? [];
      const label = ref.kind === 'bare-type' ? `**bare type** \`%${ref.target}\` (no id on the wire)` : `**type** \`${ref.target}\``;
      if (!constructors.length) {
        const doc = builtinDoc(ref.target);
        if (doc !== undefined) return `${label}: ${doc}`;
        return ref.defined ? `${label}: not defined in this file (a known type)` : `**unknown type** \`${ref.target}\``;
      }
      const count = constructors.length === 1 ? '1 constructor' : `${constructors.length} constructors`;
      return `${label}: ${count}\n\n${constructorList(constructors)}`;
    }
  }
}

/** Hover at `offset`: an entry's name or `#id` (computed id, hashed line, written-id check) or a type reference. */
export function tlHoverAt(analysis: TlFileAnalysis, text: string, offset: number): { range: TlTextRange; markdown: string } | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  const entry = entryAt(analysis, offset);
  if (entry) {
    const onId = entry.writtenIdRange && touches(entry.writtenIdRange, offset);
    if (onId || touches(entry.nameRange, offset)) {
      const range = entry.writtenIdRange ? { start: entry.nameRange.start, end: entry.writtenIdRange.end } : entry.nameRange;
      return { range, markdown: entryHover(entry) };
    }
  }
  const ref = referenceAt(analysis, offset);
  return ref ? { range: ref.range, markdown: referenceHover(analysis, ref) } : undefined;
}

/**
 * Definition at `offset` of a type reference: the names of the constructors of a boxed type (also `%Type`), the
 * constructor a lowercase bare type names, the `{X:Type}` of a type parameter, the `#` parameter of a flag field.
 */
export function tlDefinitionAt(analysis: TlFileAnalysis, text: string, offset: number): TlTextRange[] {
  if (offset < 0 || offset > text.length) return [];
  const ref = referenceAt(analysis, offset);
  if (!ref) return [];
  const { constructorsByType, constructorsByName } = indexOf(analysis);
  const entry = analysis.entries[ref.entry];
  switch (ref.kind) {
    case 'type':
    case 'bare-type':
      return (constructorsByType.get(ref.target) ?? []).map((c) => c.nameRange);
    case 'constructor':
      return (constructorsByName.get(ref.target) ?? []).map((c) => c.nameRange);
    case 'type-param':
      return (entry?.typeParams ?? []).filter((t) => t.name === ref.target).map((t) => t.range);
    case 'flag-field': {
      const field = entry?.params.find((p) => p.name === ref.target && p.type === '#');
      return field ? [field.nameRange] : [];
    }
    case 'builtin':
      // `Bool`, `true`: a file that declares their constructors can jump there
      return (constructorsByType.get(ref.target) ?? constructorsByName.get(ref.target) ?? []).map((c) => c.nameRange);
  }
}
