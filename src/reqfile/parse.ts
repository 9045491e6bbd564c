// The `.mtproto` request-file parser (format in README.md): blocks separated by `###` lines, each with optional
// directives, a method line, a JSON body and assignments. Syntax only; the schema checks are in analyze.ts.
import { range, splitLines, trimmedRange, type SourceLine, type TextRange } from './text';

export type Severity = 'error' | 'warning' | 'info';

export interface ReqDiagnostic {
  range: TextRange;
  severity: Severity;
  message: string;
  /** 'unknown-method', 'unknown-param', 'missing-param', 'wrong-type', 'wrong-constructor', 'missing-constructor',
   *  'json-syntax', 'undefined-variable', 'bad-variable', 'bad-directive', 'missing-method', 'unexpected-text',
   *  'duplicate-variable', 'duplicate-param'. */
  code: string;
}

export interface VariableDef {
  name: string;
  /** File variable: its raw text. Assignment: its template (`{{response[0].id}}`). */
  value: string;
  /** The whole `@name = value`. */
  range: TextRange;
  nameRange: TextRange;
  valueRange: TextRange;
  kind: 'file' | 'response';
}

export interface RequestBlock {
  /** 0-based position among the requests of the file. */
  index: number;
  /** Text after `###` on the separator line. */
  title?: string;
  /** From the `###` line (or the file start) to the end of the block's last non-blank line. */
  range: TextRange;
  /** 0-based line of the method name (where a CodeLens goes). */
  headerLine: number;
  method: string;
  methodRange: TextRange;
  /** The JSON body; comment lines inside it are replaced by spaces so offsets stay aligned with the file. */
  bodyText: string;
  /** Where bodyText sits in the file (empty range right after the method name when there is no body). */
  bodyRange: TextRange;
  dcId?: number;
  profile?: string;
  /** `@name = template` lines after the body, evaluated in order after the request succeeds. */
  assignments: VariableDef[];
}

export interface RequestFile {
  requests: RequestBlock[];
  /** File variables (`@name = value` outside a request's assignments); the last definition of a name wins. */
  variables: VariableDef[];
  /** Syntax-level problems (JSON syntax is checked by analyzeRequestFile). */
  diagnostics: ReqDiagnostic[];
}

export type LineKind = 'blank' | 'comment' | 'separator' | 'file-variable' | 'directive' | 'method' | 'body' | 'assignment' | 'invalid';

/** What the editor features need beyond RequestFile: every line's role and block. */
export interface ParsedRequestFile extends RequestFile {
  text: string;
  lines: SourceLine[];
  lineKinds: LineKind[];
  /** For each line, the 0-based block (segment between separators) it belongs to. */
  lineSegment: number[];
}

const SEPARATOR_RE = /^\s*###/;
// `s`: a line is split on \n only, so U+2028/U+2029 inside it are ordinary characters of the value
const VARIABLE_LINE_RE = /^(\s*)@([A-Za-z_][A-Za-z0-9_]*)(\s*)=(.*)$/s;
const DIRECTIVE_RE = /^\s*@(\S*)(\s*)(.*)$/s;

export function isCommentLine(trimmed: string): boolean {
  return (trimmed.startsWith('#') && !trimmed.startsWith('###')) || trimmed.startsWith('//');
}

export function isSeparatorLine(text: string): boolean {
  return SEPARATOR_RE.test(text);
}

function variableDef(line: SourceLine, m: RegExpExecArray, kind: 'file' | 'response'): VariableDef {
  const nameStart = line.start + m[1]!.length + 1;
  const rawValue = m[4]!;
  const valueStart = line.start + line.text.length - rawValue.length + (rawValue.length - rawValue.trimStart().length);
  const value = rawValue.trim();
  return {
    name: m[2]!,
    value,
    range: trimmedRange(line),
    nameRange: range(nameStart, nameStart + m[2]!.length),
    valueRange: range(valueStart, valueStart + value.length),
    kind,
  };
}

interface Segment {
  separator?: SourceLine;
  lines: SourceLine[];
}

/** Parses a request file: requests, file variables and syntax diagnostics. Never throws. */
export function parseRequestFile(text: string): RequestFile {
  const p = parseDetailed(text);
  return { requests: p.requests, variables: p.variables, diagnostics: p.diagnostics };
}

export function parseDetailed(text: string): ParsedRequestFile {
  const lines = splitLines(text);
  const lineKinds: LineKind[] = lines.map(() => 'blank');
  const lineSegment: number[] = lines.map(() => 0);
  const diagnostics: ReqDiagnostic[] = [];
  const fileVariables: VariableDef[] = [];
  const requests: RequestBlock[] = [];

  const segments: Segment[] = [{ lines: [] }];
  for (const line of lines) {
    if (isSeparatorLine(line.text)) {
      segments.push({ separator: line, lines: [] });
      lineKinds[line.index] = 'separator';
    } else segments[segments.length - 1]!.lines.push(line);
    lineSegment[line.index] = segments.length - 1;
  }

  const error = (r: TextRange, code: string, message: string, severity: Severity = 'error'): void => {
    diagnostics.push({ range: r, severity, message, code });
  };

  for (const seg of segments) {
    let phase: 'pre' | 'body' | 'after' = 'pre';
    let method: { name: string; range: TextRange; line: SourceLine } | undefined;
    let dcId: number | undefined;
    let profile: string | undefined;
    const directiveLines: SourceLine[] = [];
    const seen = new Set<string>();
    const bodyLines: SourceLine[] = [];
    let bodyFirstOffset: number | undefined; // where the body starts on the method line itself
    const commentInBody: SourceLine[] = [];
    const assignments: VariableDef[] = [];
    let lastContent: SourceLine | undefined = seg.separator;

    for (const line of seg.lines) {
      const trimmed = line.text.trim();
      if (trimmed !== '') lastContent = line;
      if (phase === 'body') {
        if (isCommentLine(trimmed)) {
          lineKinds[line.index] = 'comment';
          commentInBody.push(line);
          continue;
        }
        if (!trimmed.startsWith('@')) {
          lineKinds[line.index] = 'body';
          bodyLines.push(line);
          continue;
        }
        phase = 'after';
      }
      if (trimmed === '') continue;
      if (isCommentLine(trimmed)) {
        lineKinds[line.index] = 'comment';
        continue;
      }
      const v = VARIABLE_LINE_RE.exec(line.text);
      if (v) {
        if (phase === 'pre') {
          lineKinds[line.index] = 'file-variable';
          fileVariables.push(variableDef(line, v, 'file'));
        } else {
          lineKinds[line.index] = 'assignment';
          assignments.push(variableDef(line, v, 'response'));
        }
        continue;
      }
      if (trimmed.startsWith('@')) {
        lineKinds[line.index] = 'directive';
        const d = DIRECTIVE_RE.exec(line.text)!;
        const name = d[1]!;
        const arg = d[3]!.trim();
        const nameRange = range(line.start + line.text.indexOf('@'), line.start + line.text.indexOf('@') + 1 + name.length);
        const whole = trimmedRange(line);
        if (phase !== 'pre') {
          error(
            whole,
            'bad-directive',
            `@${name} after the body: directives (@dc N, @profile NAME) go before the method line; after the body only assignments \`@name = {{response…}}\` are allowed`,
          );
          continue;
        }
        directiveLines.push(line);
        if (name === 'dc') {
          if (!/^\d{1,5}$/.test(arg) || Number(arg) < 1 || Number(arg) > 65535) {
            error(
              arg ? range(whole.end - arg.length, whole.end) : whole,
              'bad-directive',
              `@dc needs a DC id 1..65535, e.g. \`@dc 2\`${arg ? `, got "${arg}"` : ''}`,
            );
            continue;
          }
          if (seen.has('dc')) error(whole, 'bad-directive', '@dc is given twice for this request');
          seen.add('dc');
          dcId = Number(arg);
        } else if (name === 'profile') {
          if (!/^[A-Za-z0-9_.:-]+$/.test(arg)) {
            error(
              arg ? range(whole.end - arg.length, whole.end) : whole,
              'bad-directive',
              `@profile needs a profile name (sandbox, test, production or custom:<name>)${arg ? `, got "${arg}"` : ''}`,
            );
            continue;
          }
          if (seen.has('profile')) error(whole, 'bad-directive', '@profile is given twice for this request');
          seen.add('profile');
          profile = arg;
        } else {
          error(nameRange, 'bad-directive', `unknown directive @${name}: the directives are @dc N and @profile NAME; a variable is \`@name = value\``);
        }
        continue;
      }
      if (phase === 'after') {
        lineKinds[line.index] = 'invalid';
        error(
          trimmedRange(line),
          'unexpected-text',
          'unexpected text after the body: only `@name = …` assignments may follow it; start a new request with a `###` line',
        );
        continue;
      }
      // phase 'pre': the method line
      const lead = line.text.length - line.text.trimStart().length;
      if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
        lineKinds[line.index] = 'invalid';
        error(trimmedRange(line), 'missing-method', 'a request starts with a method name (e.g. users.getUsers) on its own line, then its JSON body');
        // the rest of the block is not a request; keep classifying its lines as body so nothing else is reported
        phase = 'body';
        continue;
      }
      const nameMatch = /^[^\s{]+/.exec(trimmed)!;
      const start = line.start + lead;
      method = { name: nameMatch[0], range: range(start, start + nameMatch[0].length), line };
      lineKinds[line.index] = 'method';
      const rest = line.text.slice(lead + nameMatch[0].length);
      if (rest.trim() !== '') bodyFirstOffset = method.range.end + (rest.length - rest.trimStart().length);
      phase = 'body';
    }

    if (!method) {
      for (const l of directiveLines)
        error(trimmedRange(l), 'missing-method', 'a directive without a request: add the method line (e.g. users.getUsers) below it');
      continue;
    }

    // body: from the first non-blank character after the method name to the last one before the assignments
    let bodyStart: number | undefined = bodyFirstOffset;
    if (bodyStart === undefined) {
      const first = bodyLines.find((l) => l.text.trim() !== '');
      if (first) bodyStart = trimmedRange(first).start;
    }
    let bodyRange: TextRange;
    let bodyText: string;
    if (bodyStart === undefined) {
      bodyRange = range(method.range.end, method.range.end);
      bodyText = '';
    } else {
      const lastNonBlank = [...bodyLines].reverse().find((l) => l.text.trim() !== '') ?? method.line;
      const end = Math.max(bodyStart, trimmedRange(lastNonBlank).end);
      bodyRange = range(bodyStart, end);
      const chars = text.slice(bodyStart, end).split('');
      for (const c of commentInBody) {
        if (c.start < bodyStart || c.start >= end) continue;
        for (let i = c.start; i < c.end; i++) chars[i - bodyStart] = ' ';
      }
      bodyText = chars.join('');
    }

    const index = requests.length;
    // without a separator (the file's first request) the block starts at its first directive or its method line
    const segStart = seg.separator ? seg.separator.start : trimmedRange(directiveLines[0] ?? method.line).start;
    const end = lastContent ? trimmedRange(lastContent).end : method.range.end;
    const title = seg.separator ? seg.separator.text.trim().replace(/^#+/, '').trim() : '';
    const block: RequestBlock = {
      index,
      range: range(segStart, Math.max(end, method.range.end)),
      headerLine: method.line.index,
      method: method.name,
      methodRange: method.range,
      bodyText,
      bodyRange,
      assignments,
    };
    if (title) block.title = title;
    if (dcId !== undefined) block.dcId = dcId;
    if (profile !== undefined) block.profile = profile;
    requests.push(block);
  }

  // the last definition of a file variable wins (like a JSON object's last key); earlier ones get a warning
  const lastByName = new Map<string, VariableDef>();
  for (const v of fileVariables) lastByName.set(v.name, v);
  for (const v of fileVariables) {
    const last = lastByName.get(v.name)!;
    if (last !== v)
      diagnostics.push({
        range: v.nameRange,
        severity: 'warning',
        code: 'duplicate-variable',
        message: `@${v.name} is defined again later in the file; that later value wins`,
      });
  }
  diagnostics.sort((a, b) => a.range.start - b.range.start);
  return { text, lines, lineKinds, lineSegment, requests, variables: [...lastByName.values()], diagnostics };
}
