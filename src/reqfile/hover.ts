// Hover at an offset: a method's TL signature with its doc and documented errors, a parameter's `name: type` and
// doc, a constructor's signature, a variable's value, a directive's meaning.
import type { TlSchema } from '../tl/schema';
import type { TlEntry } from '../tl/types';
import { parseJsonTree } from './json-tree';
import { parseDetailed, type ParsedRequestFile } from './parse';
import { requestOfLine, responsePathType, variablesInScope } from './scope';
import { docToMarkdown, framesAt, paramTypeText, tlSignature } from './schema-walk';
import { lineAt, type TextRange } from './text';
import { findVariableRefs, parseResponsePath } from './variables';

export interface ReqHover {
  range: TextRange;
  /** Markdown. */
  markdown: string;
}

export interface HoverOptions {
  /** Values from outside the file (the selected environment), shown for their `{{name}}`. */
  variables?: Record<string, string>;
}

const fence = (line: string): string => `\`\`\`tl\n${line}\n\`\`\``;

/** A method's hover text: signature, doc, parameters and documented errors. */
export function methodMarkdown(entry: TlEntry): string {
  const parts = [fence(tlSignature(entry))];
  const doc = docToMarkdown(entry.comment);
  if (doc) parts.push(doc);
  const params = entry.params.filter((p) => p.type !== '#');
  if (params.length) {
    parts.push(
      `**Parameters**\n\n${params.map((p) => `- \`${p.name}\`: \`${paramTypeText(p)}\`${p.comment ? ` — ${docToMarkdown(p.comment)}` : ''}`).join('\n')}`,
    );
  }
  parts.push(`**Returns** \`${entry.type}\``);
  if (entry.throws?.length) {
    parts.push(`**Errors**\n\n${entry.throws.map((t) => `- ${t.code} \`${t.name}\`${t.comment?.trim() ? ` — ${docToMarkdown(t.comment)}` : ''}`).join('\n')}`);
  }
  return parts.join('\n\n');
}

export function constructorMarkdown(entry: TlEntry): string {
  const doc = docToMarkdown(entry.comment);
  return [fence(tlSignature(entry)), doc].filter(Boolean).join('\n\n');
}

export function hoverAt(text: string, offset: number, schema: TlSchema, opts: HoverOptions = {}): ReqHover | undefined {
  const file = parseDetailed(text);
  const line = lineAt(file.lines, offset);

  // a {{variable}} anywhere on the line
  const ref = findVariableRefs(line.text, line.start).find((r) => offset >= r.range.start && offset <= r.range.end);
  if (ref) return variableHover(file, schema, line.index, ref.expr, ref.range, opts);

  const kind = file.lineKinds[line.index];
  if (kind === 'file-variable' || kind === 'assignment') {
    // the `@name` of a definition: what it defines
    const owner = file.requests.find((r) => r.assignments.some((a) => a.nameRange.start >= line.start && a.nameRange.end <= line.end));
    const def = [...file.variables, ...(owner?.assignments ?? [])].find((v) => v.nameRange.start >= line.start && v.nameRange.end <= line.end);
    if (def && offset >= def.nameRange.start - 1 && offset <= def.nameRange.end) {
      const range = { start: def.nameRange.start - 1, end: def.nameRange.end };
      if (def.kind === 'file') return { range, markdown: `\`@${def.name}\` (file variable) =\n\n${`\`\`\`\n${def.value}\n\`\`\``}` };
      return { range, markdown: `\`@${def.name}\` = \`${def.value}\`, assigned after request #${owner!.index + 1} (\`${owner!.method}\`) succeeds` };
    }
  }
  if (kind === 'directive') {
    const m = /^(\s*)@(dc|profile)\b/.exec(line.text);
    if (m && offset - line.start <= m[0].length) {
      const range = { start: line.start + m[1]!.length, end: line.start + m[0].length };
      return {
        range,
        markdown:
          m[2] === 'dc'
            ? '`@dc N` — run this request on DC N: the call is routed there (the authorization is exported and imported first when needed). `dclab run --dc N` overrides it.'
            : '`@profile NAME` — the profile (sandbox, test, production, custom:<name>) this request is meant for; the runner refuses to send it with another one.',
      };
    }
  }

  const request = requestOfLine(file, line.index);
  if (!request) return undefined;
  if (offset >= request.methodRange.start && offset <= request.methodRange.end) {
    const entry = schema.methodByName(request.method);
    if (entry) return { range: request.methodRange, markdown: methodMarkdown(entry) };
    const ctor = schema.constructorByName(request.method);
    return {
      range: request.methodRange,
      markdown: ctor
        ? `\`${request.method}\` is a constructor, not a method\n\n${constructorMarkdown(ctor)}`
        : `unknown method \`${request.method}\` (layer ${schema.layer})`,
    };
  }
  if (offset < request.bodyRange.start || offset > request.bodyRange.end) return undefined;
  const method = schema.methodByName(request.method);
  const tree = parseJsonTree(request.bodyText, request.bodyRange.start);
  const frames = framesAt(schema, method, tree.root, offset);
  const f = frames[frames.length - 1];
  if (!f) return undefined;
  if (f.node.kind === 'object') {
    const m = f.node.members.find((x) => offset >= x.keyRange.start && offset <= x.keyRange.end);
    if (!m) return undefined;
    if (m.key === '_') return { range: m.keyRange, markdown: `\`_\` names the constructor of this object${f.type ? ` (a \`${f.type}\`)` : ''}` };
    const p = f.entry?.params.find((x) => x.name === m.key);
    if (!p || !f.entry) return undefined;
    const owner = f.entry.kind === 'method' ? `parameter of \`${f.entry.name}\`` : `field of \`${f.entry.name}\``;
    const flag = p.flag ? ` (optional: bit ${p.flag.bit} of ${p.flag.field})` : '';
    return { range: m.keyRange, markdown: [fence(`${p.name}: ${paramTypeText(p)}`), docToMarkdown(p.comment), `${owner}${flag}`].filter(Boolean).join('\n\n') };
  }
  if (f.node.kind === 'string' && f.memberKey === '_') {
    const c = schema.constructorByName(f.node.value) ?? schema.methodByName(f.node.value);
    if (c) return { range: f.node.range, markdown: constructorMarkdown(c) };
  }
  return undefined;
}

function variableHover(file: ParsedRequestFile, schema: TlSchema, lineIndex: number, expr: string, range: TextRange, opts: HoverOptions): ReqHover {
  const segments = parseResponsePath(expr);
  if (segments) {
    const request = requestOfLine(file, lineIndex);
    const method = request ? schema.methodByName(request.method) : undefined;
    const type = method ? responsePathType(schema, method, segments) : undefined;
    return { range, markdown: `\`${expr}\`${type ? `: \`${type}\`` : ''} — from the result of ${method ? `\`${method.name}\`` : 'this request'}` };
  }
  const known = Object.keys(opts.variables ?? {});
  const v = variablesInScope(file, lineIndex, known).find((x) => x.name === expr);
  if (!v) {
    const assigner = file.requests.find((r) => r.assignments.some((a) => a.name === expr));
    return { range, markdown: `\`${expr}\` is not defined here${assigner ? ` (request #${assigner.index + 1} assigns it)` : ''}` };
  }
  if (v.origin === 'file') return { range, markdown: `\`@${expr}\` (file variable) =\n\n${`\`\`\`\n${v.value}\n\`\`\``}` };
  if (v.origin === 'response') {
    const r = file.requests[v.request!]!;
    return { range, markdown: `\`@${expr}\` = \`${v.value}\`, assigned after request #${r.index + 1} (\`${r.method}\`) succeeds` };
  }
  return { range, markdown: `\`${expr}\` (environment) =\n\n${`\`\`\`\n${opts.variables?.[expr] ?? ''}\n\`\`\``}` };
}
