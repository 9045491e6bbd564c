// Completion at an offset: method names on the method line, parameter names inside a body object (of the method
// or of the constructor that object is), constructor names where `"_"` goes, variables after `{{`, `response`
// fields in assignments, and the directives after `@`.
import type { TlSchema } from '../tl/schema';
import type { TlEntry } from '../tl/types';
import { parseJsonTree, type JsonObjectNode } from './json-tree';
import { parseDetailed, type ParsedRequestFile, type RequestBlock } from './parse';
import { constructorsFor, fieldsOfType, requestOfLine, responsePathType, variablesInScope } from './scope';
import { classifyJsonType } from '../tl/json';
import { docToMarkdown, framesAt, isRequiredParam, paramTypeText, tlSignature, writableParams, type Frame } from './schema-walk';
import { lineAt, type TextRange } from './text';
import { parseResponsePath } from './variables';

export interface ReqCompletion {
  label: string;
  kind: 'method' | 'param' | 'constructor' | 'variable' | 'directive';
  /** TL signature (methods, constructors), `name: type` (params), the value (variables). */
  detail?: string;
  /** Markdown. */
  documentation?: string;
  insertText?: string;
  /** What the completion replaces (file offsets). */
  range?: TextRange;
}

export interface CompleteOptions {
  /** Names defined outside the file (the selected environment). */
  knownVariables?: readonly string[];
}

const WORD_CHARS = /[A-Za-z0-9_.]/;

export function completeAt(text: string, offset: number, schema: TlSchema, opts: CompleteOptions = {}): ReqCompletion[] {
  const file = parseDetailed(text);
  const line = lineAt(file.lines, offset);
  const before = line.text.slice(0, offset - line.start);
  const after = line.text.slice(offset - line.start);

  // after `{{` (not yet closed before the cursor): variables, or `response` fields in an assignment
  const open = before.lastIndexOf('{{');
  if (open >= 0 && !before.slice(open).includes('}}') && /^\s*[A-Za-z0-9_.[\]]*$/.test(before.slice(open + 2))) {
    return variableCompletions(file, schema, line.index, line.start + open + 2, before.slice(open + 2), offset, after, opts);
  }

  const kind = file.lineKinds[line.index];
  const request = requestOfLine(file, line.index);
  const preMethod = !request || line.index < request.headerLine;

  const directive = /^(\s*)@([A-Za-z]*)$/.exec(before);
  if (directive) {
    if (!preMethod) return [];
    const start = line.start + directive[1]!.length + 1;
    const end = offset + (/^[A-Za-z]*/.exec(after)?.[0].length ?? 0);
    const want = directive[2]!.toLowerCase();
    return DIRECTIVES.filter((d) => d.label.startsWith(want)).map((d) => ({ ...d, range: { start, end } }));
  }

  // the method line, or the line that will become it
  const methodWord = /^(\s*)([A-Za-z0-9_.]*)$/.exec(before);
  if (methodWord && ((kind === 'method' && request?.headerLine === line.index) || (preMethod && (kind === 'blank' || kind === 'invalid')))) {
    let endCol = before.length;
    while (endCol < line.text.length && WORD_CHARS.test(line.text[endCol]!)) endCol++;
    return methodCompletions(schema, methodWord[2]!, { start: line.start + methodWord[1]!.length, end: line.start + endCol });
  }

  if (request && offset >= request.bodyRange.start && offset <= request.bodyRange.end && request.bodyText !== '') {
    return bodyCompletions(schema, request, offset);
  }
  return [];
}

const DIRECTIVES: ReqCompletion[] = [
  {
    label: 'dc',
    kind: 'directive',
    detail: '@dc N',
    documentation: 'Run this request on DC N (the authorization is transferred there first).',
    insertText: 'dc ',
  },
  {
    label: 'profile',
    kind: 'directive',
    detail: '@profile NAME',
    documentation: 'The profile this request is meant for (sandbox, test, production, custom:<name>).',
    insertText: 'profile ',
  },
];

function methodCompletions(schema: TlSchema, prefix: string, replace: TextRange): ReqCompletion[] {
  const want = prefix.toLowerCase();
  const full: TlEntry[] = [];
  const byTail: TlEntry[] = [];
  for (const e of schema.entries) {
    if (e.kind !== 'method') continue;
    const name = e.name.toLowerCase();
    if (name.startsWith(want)) full.push(e);
    // without a namespace typed, `getUsers` also finds users.getUsers
    else if (!want.includes('.') && name.slice(name.lastIndexOf('.') + 1).startsWith(want)) byTail.push(e);
  }
  return [...full, ...byTail].map((e) => ({
    label: e.name,
    kind: 'method' as const,
    detail: tlSignature(e),
    documentation: docToMarkdown(e.comment),
    insertText: e.name,
    range: replace,
  }));
}

function variableCompletions(
  file: ParsedRequestFile,
  schema: TlSchema,
  lineIndex: number,
  exprStartRaw: number,
  typed: string,
  offset: number,
  after: string,
  opts: CompleteOptions,
): ReqCompletion[] {
  const lead = typed.length - typed.trimStart().length;
  const partial = typed.trimStart();
  const closing = /^\s*\}\}/.test(after.replace(/^[A-Za-z0-9_]*/, ''));
  const wordAfter = /^[A-Za-z0-9_]*/.exec(after)?.[0].length ?? 0;
  const isAssignment = file.lineKinds[lineIndex] === 'assignment';
  const request = requestOfLine(file, lineIndex);

  if (isAssignment && request && /^response(\.|\[)/.test(partial)) {
    const method = schema.methodByName(request.method);
    const dot = partial.lastIndexOf('.');
    if (!method || dot < 0) return [];
    const segments = parseResponsePath(partial.slice(0, dot));
    if (!segments) return [];
    const type = responsePathType(schema, method, segments);
    if (!type) return [];
    const start = exprStartRaw + lead + dot + 1;
    return fieldsOfType(schema, type).map(({ param, owners }) => ({
      label: param.name,
      kind: 'param' as const,
      detail: `${param.name}: ${paramTypeText(param)}`,
      documentation: [docToMarkdown(param.comment), `field of ${owners.join(', ')}`].filter(Boolean).join('\n\n'),
      insertText: param.name,
      range: { start, end: offset + wordAfter },
    }));
  }

  const range = { start: exprStartRaw + lead, end: offset + wordAfter };
  const items: ReqCompletion[] = variablesInScope(file, lineIndex, opts.knownVariables ?? []).map((v) => {
    const detail =
      v.origin === 'file'
        ? v.value
        : v.origin === 'response'
          ? `from request #${v.request! + 1} (${file.requests[v.request!]?.method}): ${v.value}`
          : 'environment';
    const item: ReqCompletion = { label: v.name, kind: 'variable', insertText: v.name + (closing ? '' : '}}'), range };
    if (detail !== undefined) item.detail = detail;
    return item;
  });
  if (isAssignment && request) {
    const method = schema.methodByName(request.method);
    items.unshift({
      label: 'response',
      kind: 'variable',
      detail: method ? `the result of ${method.name}: ${method.type}` : 'the result of this request',
      insertText: 'response',
      range,
    });
  }
  return items.filter((i) => i.label.toLowerCase().startsWith(partial.toLowerCase()));
}

/** Where in a JSON object the cursor is: on a key, at a new key, or where a member's value goes. */
type ObjectSpot = { at: 'key'; member?: JsonObjectNode['members'][number] } | { at: 'value'; member: JsonObjectNode['members'][number] } | { at: 'none' };

function spotInObject(node: JsonObjectNode, offset: number): ObjectSpot {
  for (const m of node.members) {
    const r = m.keyRange;
    const inKey = m.keyQuoted
      ? offset > r.start && (offset < r.end || (offset === r.end && !m.keyClosed))
      : offset >= r.start && offset <= r.end && r.end > r.start;
    if (inKey) return { at: 'key', member: m };
  }
  let last: JsonObjectNode['members'][number] | undefined;
  for (const m of node.members) if (m.keyRange.end <= offset) last = m;
  if (!last) return offset > node.range.start ? { at: 'key' } : { at: 'none' };
  if (last.comma !== undefined && last.comma < offset) return { at: 'key' };
  if (last.colon !== undefined && last.colon < offset && (!last.value || offset <= last.value.range.start)) return { at: 'value', member: last };
  return { at: 'none' };
}

function bodyCompletions(schema: TlSchema, request: RequestBlock, offset: number): ReqCompletion[] {
  const method = schema.methodByName(request.method);
  const tree = parseJsonTree(request.bodyText, request.bodyRange.start);
  const frames = framesAt(schema, method, tree.root, offset);
  const f = frames[frames.length - 1];
  if (!f) return [];
  const node = f.node;

  if (node.kind === 'object') {
    const spot = spotInObject(node, offset);
    if (spot.at === 'key') {
      const present = new Set(node.members.filter((m) => m !== spot.member).map((m) => m.key));
      let range: TextRange = { start: offset, end: offset };
      let quoted = false;
      if (spot.member) {
        const r = spot.member.keyRange;
        quoted = spot.member.keyQuoted;
        // an unterminated key runs to the end of the line: replace only the word at the cursor then
        range = quoted ? { start: r.start + 1, end: spot.member.keyClosed ? r.end - 1 : wordEnd(request, offset) } : r;
      }
      return paramCompletions(schema, f, present, quoted, range);
    }
    if (spot.at === 'value') {
      const slot = { start: offset, end: offset };
      if (spot.member.key === '_' && f.type !== undefined) return constructorCompletions(schema, f.type, 'quoted', slot);
      const p = f.entry?.params.find((x) => x.name === spot.member.key);
      return p ? constructorCompletions(schema, p.type, 'object', slot) : [];
    }
    return [];
  }
  if (node.kind === 'array') {
    // a new item after `[` or `,`
    const before = node.items.filter((i) => i.range.end <= offset);
    const lastItem = before[before.length - 1];
    const afterSep = !lastItem || node.commas.some((c) => c > lastItem.range.end - 1 && c < offset);
    if (!afterSep || f.type === undefined) return [];
    const k = classifyJsonType(schema, f.type);
    return k.k === 'vector' ? constructorCompletions(schema, k.elem, 'object', { start: offset, end: offset }) : [];
  }
  const parent = frames[frames.length - 2];
  if (f.memberKey === '_' && parent && parent.node.kind === 'object' && parent.type !== undefined) {
    if (node.kind === 'string') {
      const end = node.closed ? node.range.end - 1 : wordEnd(request, offset);
      return constructorCompletions(schema, parent.type, 'bare', { start: node.range.start + 1, end });
    }
    if (node.kind === 'invalid') return constructorCompletions(schema, parent.type, 'quoted', node.range);
  }
  if (node.kind === 'invalid' && f.type !== undefined) return constructorCompletions(schema, f.type, 'object', node.range);
  return [];
}

/** The end of the identifier characters at `offset` in a body. */
function wordEnd(request: RequestBlock, offset: number): number {
  let i = offset - request.bodyRange.start;
  while (i < request.bodyText.length && /[A-Za-z0-9_.]/.test(request.bodyText[i]!)) i++;
  return request.bodyRange.start + i;
}

function paramCompletions(schema: TlSchema, f: Frame, present: Set<string>, insideQuotes: boolean, range: TextRange): ReqCompletion[] {
  const entry = f.entry;
  const wrap = (name: string): string => (insideQuotes ? name : `"${name}": `);
  if (!entry) {
    // an object of a boxed type with no "_" yet: that comes first
    if (f.type === undefined || present.has('_') || constructorsFor(schema, f.type).length === 0) return [];
    return [
      {
        label: '_',
        kind: 'param',
        detail: `_: the constructor (a ${f.type})`,
        documentation: `One of: ${constructorsFor(schema, f.type)
          .map((c) => c.name)
          .join(', ')}`,
        insertText: wrap('_'),
        range,
      },
    ];
  }
  const params = writableParams(entry).filter((p) => !present.has(p.name));
  params.sort((a, b) => Number(isRequiredParam(b)) - Number(isRequiredParam(a)));
  return params.map((p) => ({
    label: p.name,
    kind: 'param' as const,
    detail: `${p.name}: ${paramTypeText(p)}`,
    documentation: [docToMarkdown(p.comment), isRequiredParam(p) ? 'required' : 'optional'].filter(Boolean).join('\n\n'),
    insertText: wrap(p.name),
    range,
  }));
}

/** Constructors valid for `type`: as a bare name (inside quotes), a quoted name, or a whole `{ "_": … }` object. */
function constructorCompletions(schema: TlSchema, type: string, form: 'bare' | 'quoted' | 'object', range: TextRange): ReqCompletion[] {
  const k = classifyJsonType(schema, type);
  const ctors = k.k === 'any' ? schema.entries.filter((e) => e.kind === 'constructor') : constructorsFor(schema, type);
  if (form === 'object' && k.k !== 'object' && k.k !== 'any') return [];
  return ctors.map((c) => ({
    label: c.name,
    kind: 'constructor' as const,
    detail: tlSignature(c),
    documentation: docToMarkdown(c.comment),
    insertText: form === 'bare' ? c.name : form === 'quoted' ? `"${c.name}"` : `{ "_": "${c.name}" }`,
    range,
  }));
}
