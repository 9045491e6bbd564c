// A position-aware, error-tolerant JSON parser for request bodies. Besides JSON it knows `{{name}}` values (and
// members: a variable may stand for several `"key": value` pairs), and it keeps going after a syntax error so
// completion and diagnostics work on half-typed text. Ranges are file offsets (`base` + index in the text).
import type { TextRange } from './text';

export interface JsonMember {
  key: string;
  keyRange: TextRange;
  /** False for a bare word where a quoted key belongs (a syntax error, kept for completion). */
  keyQuoted: boolean;
  /** A quoted key whose closing quote was found. */
  keyClosed: boolean;
  /** Offset of the `:` when present. */
  colon?: number;
  value?: JsonNode;
  /** Offset of the `,` after this member when present. */
  comma?: number;
}

interface NodeBase {
  range: TextRange;
}
export interface JsonObjectNode extends NodeBase {
  kind: 'object';
  members: JsonMember[];
  /** `{{var}}` tokens standing where members belong: the object may hold anything. */
  spreads: TextRange[];
  closed: boolean;
}
export interface JsonArrayNode extends NodeBase {
  kind: 'array';
  items: JsonNode[];
  /** Offsets of the `,` between items. */
  commas: number[];
  closed: boolean;
}
export interface JsonStringNode extends NodeBase {
  kind: 'string';
  value: string;
  closed: boolean;
  /** The string holds `{{…}}`: its final value is only known after substitution. */
  hasVariables: boolean;
}
export interface JsonNumberNode extends NodeBase {
  kind: 'number';
  value: number;
  text: string;
}
export interface JsonLiteralNode extends NodeBase {
  kind: 'boolean' | 'null';
  value: boolean | null;
}
export interface JsonVariableNode extends NodeBase {
  kind: 'variable';
  expr: string;
}
/** A bare word in a value position (a syntax error, kept for completion). */
export interface JsonInvalidNode extends NodeBase {
  kind: 'invalid';
  text: string;
}
export type JsonNode = JsonObjectNode | JsonArrayNode | JsonStringNode | JsonNumberNode | JsonLiteralNode | JsonVariableNode | JsonInvalidNode;

export interface JsonSyntaxError {
  range: TextRange;
  message: string;
}

export interface JsonTree {
  root?: JsonNode;
  errors: JsonSyntaxError[];
}

type TokenKind = '{' | '}' | '[' | ']' | ':' | ',' | 'string' | 'number' | 'word' | 'variable' | 'invalid' | 'eof';
interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  text: string;
  /** Strings: decoded value, and whether the closing quote was found. */
  value?: string;
  closed?: boolean;
}

/** Deeper bodies are refused (one error, the rest skipped): every walk of the tree recurses, so depth is stack. */
export const MAX_JSON_DEPTH = 128;

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD_RE = /[A-Za-z_$][\w$.]*/y;

function tokenize(text: string, base: number, errors: JsonSyntaxError[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const at = (s: number, e: number): TextRange => ({ start: base + s, end: base + e });
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (ch === '{' && text[i + 1] === '{') {
      const close = text.indexOf('}}', i + 2);
      const eol = text.slice(i).search(/[\r\n]/);
      const lineEnd = eol < 0 ? text.length : i + eol;
      if (close < 0 || close > lineEnd) {
        errors.push({ range: at(i, lineEnd), message: 'unclosed `{{`: a variable is written `{{name}}`' });
        tokens.push({ kind: 'variable', start: base + i, end: base + lineEnd, text: text.slice(i + 2, lineEnd).trim() });
        i = lineEnd;
      } else {
        tokens.push({ kind: 'variable', start: base + i, end: base + close + 2, text: text.slice(i + 2, close).trim() });
        i = close + 2;
      }
      continue;
    }
    if ('{}[]:,'.includes(ch)) {
      tokens.push({ kind: ch as TokenKind, start: base + i, end: base + i + 1, text: ch });
      i++;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let closed = false;
      while (j < text.length) {
        const c = text[j]!;
        if (c === '\\') {
          j += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          j++;
          break;
        }
        if (c === '\n' || c === '\r') break;
        j++;
      }
      j = Math.min(j, text.length);
      const raw = text.slice(i, j);
      let value: string;
      try {
        value = JSON.parse(closed ? raw : `${raw}"`) as string;
      } catch {
        value = raw.slice(1, closed ? -1 : undefined);
        if (closed) errors.push({ range: at(i, j), message: 'invalid string: check its escapes (\\" \\\\ \\n \\uXXXX) and control characters' });
      }
      if (!closed) errors.push({ range: at(i, j), message: 'unterminated string: add the closing `"` (strings stay on one line)' });
      tokens.push({ kind: 'string', start: base + i, end: base + j, text: raw, value, closed });
      i = j;
      continue;
    }
    NUMBER_RE.lastIndex = i;
    const num = NUMBER_RE.exec(text);
    if (num && (ch === '-' || (ch >= '0' && ch <= '9'))) {
      tokens.push({ kind: 'number', start: base + i, end: base + i + num[0].length, text: num[0] });
      i += num[0].length;
      continue;
    }
    WORD_RE.lastIndex = i;
    const word = WORD_RE.exec(text);
    if (word) {
      tokens.push({ kind: 'word', start: base + i, end: base + i + word[0].length, text: word[0] });
      i += word[0].length;
      continue;
    }
    // anything else: one character of junk (a quote of the wrong kind, a stray symbol)
    tokens.push({ kind: 'invalid', start: base + start, end: base + start + 1, text: ch });
    errors.push({ range: at(start, start + 1), message: ch === "'" ? "JSON strings use double quotes, not '" : `unexpected character \`${ch}\`` });
    i++;
  }
  tokens.push({ kind: 'eof', start: base + text.length, end: base + text.length, text: '' });
  return tokens;
}

/** Parses a body; `base` is the file offset of `text`. An empty (or blank) text has no root and no error. */
export function parseJsonTree(text: string, base = 0): JsonTree {
  const errors: JsonSyntaxError[] = [];
  const tokens = tokenize(text, base, errors).filter((t) => t.kind !== 'invalid');
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos < tokens.length - 1 ? pos++ : pos]!;
  const err = (t: Token, message: string): void => {
    errors.push({ range: { start: t.start, end: t.kind === 'eof' ? t.start : t.end }, message });
  };
  const describe = (t: Token): string => (t.kind === 'eof' ? 'the end of the body' : `\`${t.text.length > 30 ? `${t.text.slice(0, 30)}…` : t.text}\``);

  let depth = 0;

  function parseValue(): JsonNode | undefined {
    const t = peek();
    switch (t.kind) {
      case '{':
      case '[': {
        if (depth >= MAX_JSON_DEPTH) return skipTooDeep(t);
        depth++;
        try {
          return t.kind === '{' ? parseObject() : parseArray();
        } finally {
          depth--;
        }
      }
      case 'string':
        next();
        return {
          kind: 'string',
          range: { start: t.start, end: t.end },
          value: t.value ?? '',
          closed: t.closed ?? true,
          hasVariables: /\{\{[^{}]*\}\}/.test(t.value ?? ''),
        };
      case 'number':
        next();
        return { kind: 'number', range: { start: t.start, end: t.end }, value: Number(t.text), text: t.text };
      case 'variable':
        next();
        return { kind: 'variable', range: { start: t.start, end: t.end }, expr: t.text };
      case 'word':
        next();
        if (t.text === 'true' || t.text === 'false') return { kind: 'boolean', range: { start: t.start, end: t.end }, value: t.text === 'true' };
        if (t.text === 'null') return { kind: 'null', range: { start: t.start, end: t.end }, value: null };
        err(t, `unexpected word ${describe(t)}: JSON strings need double quotes`);
        return { kind: 'invalid', range: { start: t.start, end: t.end }, text: t.text };
      default:
        err(t, `expected a value, got ${describe(t)}`);
        return undefined;
    }
  }

  function parseObject(): JsonObjectNode {
    const open = next();
    const node: JsonObjectNode = { kind: 'object', range: { start: open.start, end: open.end }, members: [], spreads: [], closed: false };
    for (;;) {
      const t = peek();
      if (t.kind === '}') {
        next();
        node.closed = true;
        node.range.end = t.end;
        return node;
      }
      if (t.kind === 'eof' || t.kind === ']') {
        err(t, 'unclosed `{`: add the matching `}`');
        node.range.end = t.kind === 'eof' ? t.start : node.range.end;
        return node;
      }
      if (t.kind === 'variable') {
        next();
        node.spreads.push({ start: t.start, end: t.end });
        node.range.end = t.end;
        if (!afterMember(node, undefined)) return node;
        continue;
      }
      let member: JsonMember;
      if (t.kind === 'string' || t.kind === 'word') {
        next();
        if (t.kind === 'word') err(t, `property names need double quotes: "${t.text}"`);
        member = {
          key: t.kind === 'string' ? (t.value ?? '') : t.text,
          keyRange: { start: t.start, end: t.end },
          keyQuoted: t.kind === 'string',
          keyClosed: t.kind === 'string' && (t.closed ?? true),
        };
      } else if (t.kind === ':' || t.kind === ',' || t.kind === '{' || t.kind === '[' || t.kind === 'number') {
        err(t, `expected a property name in double quotes, got ${describe(t)}`);
        if (t.kind === ',') {
          next();
          continue;
        }
        if (t.kind !== ':') {
          // a value without a key: parse it so its brackets balance, then drop it
          const lost = parseValue();
          if (lost) node.range.end = lost.range.end;
          continue;
        }
        member = { key: '', keyRange: { start: t.start, end: t.start }, keyQuoted: false, keyClosed: false };
      } else {
        next();
        err(t, `expected a property name in double quotes, got ${describe(t)}`);
        continue;
      }
      node.members.push(member);
      node.range.end = member.keyRange.end;
      const c = peek();
      if (c.kind === ':') {
        next();
        member.colon = c.start;
        node.range.end = c.end;
        const v = parseValue();
        if (v) {
          member.value = v;
          node.range.end = v.range.end;
        }
      } else {
        err(c, `expected \`:\` after the property name "${member.key}", got ${describe(c)}`);
        if (c.kind === 'string' || c.kind === 'number' || c.kind === '{' || c.kind === '[' || c.kind === 'variable' || c.kind === 'word') {
          const v = parseValue();
          if (v) {
            member.value = v;
            node.range.end = v.range.end;
          }
        }
      }
      if (!afterMember(node, member)) return node;
    }
  }

  /** Skips a value nested past MAX_JSON_DEPTH to its matching bracket (or the end), as one invalid node. */
  function skipTooDeep(open: Token): JsonInvalidNode {
    err(open, `nested deeper than ${MAX_JSON_DEPTH} levels of \`{\` and \`[\``);
    let level = 0;
    let end = open.end;
    for (;;) {
      const t = peek();
      if (t.kind === 'eof') break;
      next();
      end = t.end;
      if (t.kind === '{' || t.kind === '[') level++;
      else if (t.kind === '}' || t.kind === ']') level--;
      if (level <= 0) break;
    }
    return { kind: 'invalid', range: { start: open.start, end }, text: '' };
  }

  /** After a member: `,` (a trailing one before `}` is an error), `}` or recovery. False when the object ended badly. */
  function afterMember(node: JsonObjectNode, member: JsonMember | undefined): boolean {
    const t = peek();
    if (t.kind === ',') {
      next();
      if (member) member.comma = t.start;
      node.range.end = t.end;
      if (peek().kind === '}') err(t, 'trailing comma: remove it (JSON allows no comma before `}`)');
      return true;
    }
    if (t.kind === '}') return true;
    if (t.kind === 'eof' || t.kind === ']') {
      err(t, 'unclosed `{`: add the matching `}`');
      if (t.kind === 'eof') node.range.end = t.start;
      return false;
    }
    err(t, `expected \`,\` or \`}\`, got ${describe(t)}`);
    return true; // a missing comma: carry on with the next member
  }

  function parseArray(): JsonArrayNode {
    const open = next();
    const node: JsonArrayNode = { kind: 'array', range: { start: open.start, end: open.end }, items: [], commas: [], closed: false };
    for (;;) {
      const t = peek();
      if (t.kind === ']') {
        next();
        node.closed = true;
        node.range.end = t.end;
        return node;
      }
      if (t.kind === 'eof' || t.kind === '}') {
        err(t, 'unclosed `[`: add the matching `]`');
        if (t.kind === 'eof') node.range.end = t.start;
        return node;
      }
      if (t.kind === ',' || t.kind === ':') {
        next();
        err(t, t.kind === ',' ? 'expected a value before `,`' : 'unexpected `:` in an array');
        if (t.kind === ',') node.commas.push(t.start);
        node.range.end = t.end;
        continue;
      }
      const v = parseValue();
      if (v) {
        node.items.push(v);
        node.range.end = v.range.end;
      }
      const s = peek();
      if (s.kind === ',') {
        next();
        node.commas.push(s.start);
        node.range.end = s.end;
        if (peek().kind === ']') err(s, 'trailing comma: remove it (JSON allows no comma before `]`)');
      } else if (s.kind !== ']' && s.kind !== 'eof' && s.kind !== '}') {
        err(s, `expected \`,\` or \`]\`, got ${describe(s)}`);
      }
    }
  }

  if (peek().kind === 'eof') return { errors };
  const root = parseValue();
  while (peek().kind !== 'eof') {
    const t = next();
    err(t, `unexpected ${describe(t)} after the body: one request holds one JSON object; start a new request with a \`###\` line`);
    break;
  }
  const tree: JsonTree = { errors };
  if (root) tree.root = root;
  return tree;
}

/** Whether `offset` is strictly inside a node (an unclosed node extends to its end). */
export function isInside(node: JsonNode, offset: number): boolean {
  const open = (node.kind === 'object' || node.kind === 'array' || node.kind === 'string') && !node.closed;
  if (node.kind === 'object' || node.kind === 'array' || node.kind === 'string')
    return offset > node.range.start && (offset < node.range.end || (open && offset <= node.range.end));
  return offset >= node.range.start && offset <= node.range.end;
}
