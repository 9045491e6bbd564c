// Diagnostics of a request file against a schema: the parser's syntax problems, JSON syntax, unknown methods and
// parameters, missing required parameters, wrong JSON types and constructors (ranges point at the offending
// value), and variables used before anything defines them.
import { isSecretPath } from '../tl/secret-fields';
import type { TlSchema } from '../tl/schema';
import type { TlEntry } from '../tl/types';
import { parseJsonTree, type JsonNode, type JsonObjectNode } from './json-tree';
import { parseDetailed, type ParsedRequestFile, type ReqDiagnostic, type RequestBlock, type Severity } from './parse';
import { classifyJsonType, jsonExpectedText } from '../tl/json';
import { closestNames, stringMember, writableParams } from './schema-walk';
import type { TextRange } from './text';
import { findVariableRefs, looksLikeResponsePath, parseResponsePath, VARIABLE_NAME_RE } from './variables';

export interface AnalyzeOptions {
  /** Names defined outside the file (the selected environment, variables kept from earlier runs). */
  knownVariables?: readonly string[];
}

export function analyzeRequestFile(text: string, schema: TlSchema, opts: AnalyzeOptions = {}): ReqDiagnostic[] {
  return analyzeParsed(parseDetailed(text), schema, opts);
}

export function analyzeParsed(file: ParsedRequestFile, schema: TlSchema, opts: AnalyzeOptions = {}): ReqDiagnostic[] {
  const out: ReqDiagnostic[] = [...file.diagnostics];
  const add = (range: TextRange, code: string, message: string, severity: Severity = 'error'): void => void out.push({ range, severity, message, code });
  const known = new Set(opts.knownVariables ?? []);
  const fileVars = new Set(file.variables.map((v) => v.name));
  // which requests assign each name (in file order), for "defined later" hints
  const assigners = new Map<string, number[]>();
  for (const r of file.requests) for (const a of r.assignments) assigners.set(a.name, [...(assigners.get(a.name) ?? []), r.index]);

  const checkRefs = (
    textPart: string,
    base: number,
    isDefined: (name: string) => boolean,
    where: 'body' | 'file-variable' | 'assignment',
    requestIndex?: number,
  ): void => {
    for (const ref of findVariableRefs(textPart, base)) {
      if (looksLikeResponsePath(ref.expr)) {
        if (where !== 'assignment') {
          add(
            ref.range,
            'bad-variable',
            '`response` only exists in the assignments after a body (`@name = {{response…}}`); assign what you need there and use `{{name}}` here',
          );
        } else if (!parseResponsePath(ref.expr)) {
          add(
            ref.range,
            'bad-variable',
            `\`${ref.expr}\` is not a response path: write \`response\`, then \`.field\` and \`[index]\` steps, e.g. \`{{response.users[0].id}}\``,
          );
        }
        continue;
      }
      if (!VARIABLE_NAME_RE.test(ref.expr)) {
        add(ref.range, 'bad-variable', `\`{{${ref.expr}}}\` is not a variable: names are letters, digits and _ (not starting with a digit)`);
        continue;
      }
      if (isDefined(ref.expr)) continue;
      const later = (assigners.get(ref.expr) ?? []).filter((i) => requestIndex === undefined || i >= requestIndex);
      const hint =
        later.length && requestIndex !== undefined
          ? ` (request #${later[0]! + 1} assigns it${later[0] === requestIndex ? ' after this body' : ', but it runs later'})`
          : '';
      add(
        ref.range,
        'undefined-variable',
        `undefined variable \`${ref.expr}\`${hint}: define it with \`@${ref.expr} = value\`, assign it from an earlier request, or put it in dclab.env.json`,
      );
    }
  };

  const everAssigned = new Set(assigners.keys());
  for (const v of file.variables) checkRefs(v.value, v.valueRange.start, (n) => fileVars.has(n) || known.has(n) || everAssigned.has(n), 'file-variable');

  const assignedSoFar = new Set<string>();
  for (const r of file.requests) {
    const defined = (n: string): boolean => fileVars.has(n) || known.has(n) || assignedSoFar.has(n);
    const method = schema.methodByName(r.method);
    if (!method) reportUnknownMethod(schema, r, add);
    const tree = parseJsonTree(r.bodyText, r.bodyRange.start);
    for (const e of tree.errors) add(e.range, 'json-syntax', e.message);
    checkRefs(r.bodyText, r.bodyRange.start, defined, 'body', r.index);
    if (method) new BodyChecker(schema, add).checkBody(r, method, tree.root);
    for (const a of r.assignments) {
      checkRefs(a.value, a.valueRange.start, defined, 'assignment', r.index);
      assignedSoFar.add(a.name);
    }
  }
  return out.sort((a, b) => a.range.start - b.range.start || a.range.end - b.range.end);
}

const methodNamesBySchema = new WeakMap<TlSchema, readonly string[]>();

/** One list per schema, so that closestNames' cache (keyed by the list) serves every unknown method. */
function methodNames(schema: TlSchema): readonly string[] {
  let names = methodNamesBySchema.get(schema);
  if (!names) methodNamesBySchema.set(schema, (names = schema.entries.filter((e) => e.kind === 'method').map((e) => e.name)));
  return names;
}

function reportUnknownMethod(schema: TlSchema, r: RequestBlock, add: (range: TextRange, code: string, message: string) => void): void {
  if (schema.constructorByName(r.method)) {
    add(r.methodRange, 'unknown-method', `${r.method} is a constructor (of type ${schema.constructorByName(r.method)!.type}), not a method`);
    return;
  }
  const near = closestNames(r.method, methodNames(schema));
  add(
    r.methodRange,
    'unknown-method',
    `unknown method \`${r.method}\` in layer ${schema.layer}${near.length ? `; did you mean ${near.map((n) => `\`${n}\``).join(', ')}?` : ''}`,
  );
}

function describeNode(n: JsonNode, where = ''): string {
  // a value typed for a secret field (a login code, a password) is never quoted back in a diagnostic
  if (where && isSecretPath(where) && (n.kind === 'string' || n.kind === 'number')) return `a ${n.kind} (value not shown)`;
  switch (n.kind) {
    case 'string':
      return `the string ${JSON.stringify(n.value.length > 40 ? `${n.value.slice(0, 40)}…` : n.value)}`;
    case 'number':
      return `the number ${n.text}`;
    case 'boolean':
      return String(n.value);
    case 'null':
      return 'null';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    default:
      return 'a variable';
  }
}

const LONG_MIN = -(1n << 63n);
const LONG_MAX_UNSIGNED = (1n << 64n) - 1n;

const joinPath = (left: string, right: string): string => (!left ? right : right.startsWith('[') ? left + right : `${left}.${right}`);

/** The type checks of src/tl/json's tlFromJson, on the position-aware tree so each problem has its range. */
class BodyChecker {
  constructor(
    private readonly schema: TlSchema,
    private readonly add: (range: TextRange, code: string, message: string, severity?: Severity) => void,
  ) {}

  checkBody(r: RequestBlock, method: TlEntry, root: JsonNode | undefined): void {
    if (!root) {
      this.checkMembers({ kind: 'object', range: r.bodyRange, members: [], spreads: [], closed: true }, method, r.methodRange, '');
      return;
    }
    if (root.kind === 'variable') return;
    if (root.kind !== 'object') {
      this.add(root.range, 'wrong-type', `the body of ${method.name} is a JSON object of its parameters ({} when it has none), got ${describeNode(root)}`);
      return;
    }
    const named = stringMember(root, '_');
    if (named && named.value !== method.name && !(named.node.kind === 'string' && named.node.hasVariables)) {
      this.add(named.node.range, 'wrong-constructor', `the body names "_": ${JSON.stringify(named.value)}, but the method is ${method.name} (leave "_" out)`);
    }
    this.checkMembers(root, method, r.methodRange, '');
  }

  private checkMembers(node: JsonObjectNode, entry: TlEntry, missingRange: TextRange, path: string): void {
    const noun = entry.kind === 'method' ? 'parameter' : 'field';
    const seen = new Set<string>();
    for (const m of node.members) {
      if (!m.keyQuoted) seen.add(m.key); // a syntax error already; it still counts as given
      if (m.key === '_' || !m.keyQuoted) continue;
      if (seen.has(m.key)) this.add(m.keyRange, 'duplicate-param', `"${m.key}" is given twice; the last value wins`, 'warning');
      seen.add(m.key);
      const p = entry.params.find((x) => x.name === m.key);
      if (!p) {
        const names = writableParams(entry).map((x) => x.name);
        const near = closestNames(m.key, names, 2);
        this.add(
          m.keyRange,
          'unknown-param',
          `unknown ${noun} "${m.key}" of ${entry.name}${near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)` : ''}; ${entry.kind === 'method' ? 'its parameters' : 'its fields'}: ${names.join(', ') || '(none)'}`,
        );
        continue;
      }
      const v = m.value;
      if (!v) continue;
      const where = joinPath(path, m.key);
      if (v.kind === 'null') {
        if (!p.flag && p.type !== '#')
          this.add(
            v.range,
            'wrong-type',
            `${where}: null for a required parameter; expected ${jsonExpectedText(classifyJsonType(this.schema, p.type), p.type, this.schema)}`,
          );
        continue;
      }
      if (p.type === '#') {
        if (v.kind !== 'variable' && !(v.kind === 'number' && Number.isInteger(v.value)))
          this.add(v.range, 'wrong-type', `${where}: expected int (flags are computed; leave it out), got ${describeNode(v)}`);
        continue;
      }
      if (p.flag && p.type === 'true') {
        if (v.kind !== 'variable' && v.kind !== 'boolean')
          this.add(v.range, 'wrong-type', `${where}: expected true (or absent), got ${describeNode(v, where)}`);
        continue;
      }
      this.checkValue(v, p.type, where);
    }
    if (node.spreads.length || !node.closed) return; // a `{{var}}` member may supply anything; a half-typed object is not judged yet
    for (const p of entry.params) {
      if (p.flag || p.type === '#' || seen.has(p.name)) continue;
      this.add(missingRange, 'missing-param', `missing ${noun} "${p.name}" (${p.type}) of ${entry.name}`);
    }
  }

  private checkValue(v: JsonNode, type: string, where: string): void {
    if (v.kind === 'variable' || v.kind === 'invalid') return;
    if (v.kind === 'string' && (v.hasVariables || !v.closed)) return; // known after substitution / still being typed
    const kind = classifyJsonType(this.schema, type);
    const wrong = (extra = ''): void =>
      this.add(v.range, 'wrong-type', `${where}: expected ${jsonExpectedText(kind, type, this.schema)}, got ${describeNode(v, where)}${extra}`);
    switch (kind.k) {
      case 'int':
      case 'flags':
        if (v.kind !== 'number' || !Number.isInteger(v.value) || v.value < -0x80000000 || v.value > 0xffffffff) wrong();
        return;
      case 'long': {
        if (v.kind === 'string' && /^-?\d{1,20}$/.test(v.value.trim())) {
          const b = BigInt(v.value.trim());
          if (b < LONG_MIN || b > LONG_MAX_UNSIGNED) wrong(' (out of the 64-bit range)');
          return;
        }
        if (v.kind === 'number' && Number.isInteger(v.value) && !Number.isSafeInteger(v.value)) {
          wrong(': beyond 2^53 a JSON number loses digits, write it as a decimal string');
          return;
        }
        if (v.kind !== 'number' || !Number.isSafeInteger(v.value)) wrong();
        return;
      }
      case 'double':
        if (v.kind !== 'number') wrong();
        return;
      case 'string':
        if (v.kind !== 'string') wrong();
        return;
      case 'bytes':
        if (v.kind !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v.value) || v.value.replace(/=+$/, '').length % 4 === 1) wrong();
        return;
      case 'int128':
      case 'int256': {
        const n = kind.k === 'int128' ? 32 : 64;
        if (v.kind !== 'string' || v.value.length !== n || !/^[0-9a-fA-F]+$/.test(v.value)) wrong();
        return;
      }
      case 'bool':
        if (v.kind !== 'boolean') wrong();
        return;
      case 'true':
        if (!(v.kind === 'boolean' && v.value)) wrong();
        return;
      case 'vector':
        if (v.kind !== 'array') return wrong();
        v.items.forEach((item, i) => {
          this.checkValue(item, kind.elem, joinPath(where, `[${i}]`));
        });
        return;
      case 'bare': {
        if (v.kind !== 'object') return wrong();
        const named = stringMember(v, '_');
        if (named && named.value !== kind.entry.name && !(named.node.kind === 'string' && named.node.hasVariables)) {
          this.add(named.node.range, 'wrong-constructor', `${joinPath(where, '_')}: this bare ${type} is always ${kind.entry.name}, got "${named.value}"`);
        }
        this.checkMembers(v, kind.entry, named?.node.range ?? { start: v.range.start, end: v.range.start + 1 }, where);
        return;
      }
      case 'object':
      case 'any': {
        if (v.kind !== 'object') return wrong();
        const underscore = v.members.find((m) => m.key === '_');
        if (!underscore) {
          if (!v.spreads.length && v.closed)
            this.add(v.range, 'missing-constructor', `${where}: missing "_"; expected ${jsonExpectedText(kind, type, this.schema)}`);
          return;
        }
        const nameNode = underscore.value;
        if (!nameNode || nameNode.kind === 'variable' || nameNode.kind === 'invalid') return;
        if (nameNode.kind !== 'string') {
          this.add(nameNode.range, 'wrong-type', `${joinPath(where, '_')}: "_" names a constructor (a string), got ${describeNode(nameNode)}`);
          return;
        }
        if (nameNode.hasVariables) return;
        const entry = this.resolveConstructor(nameNode.value, kind.k === 'object' ? kind.type : undefined, type, nameNode.range, joinPath(where, '_'));
        if (entry) this.checkMembers(v, entry, nameNode.range, where);
        return;
      }
    }
  }

  /** The constructor `"_"` names, if it is valid where `type` is expected (otherwise a diagnostic). */
  private resolveConstructor(name: string, boxedType: string | undefined, type: string, at: TextRange, where: string): TlEntry | undefined {
    const s = this.schema;
    if (boxedType === undefined) {
      const e = s.constructorByName(name) ?? s.methodByName(name);
      if (!e) this.add(at, 'wrong-constructor', `${where}: unknown constructor or method "${name}"`);
      return e;
    }
    const ctor = s.constructorByName(name);
    if (!ctor && boxedType === 'Bool' && (name === 'boolTrue' || name === 'boolFalse')) return undefined;
    if (!s.hasType(boxedType)) {
      // a type this schema has no constructors for (a user's partial .tl): accept any known constructor or method
      const e = ctor ?? s.methodByName(name);
      if (!e) this.add(at, 'wrong-constructor', `${where}: unknown constructor "${name}"`);
      return e;
    }
    const valid = s.constructorsOfType(boxedType).map((e) => e.name);
    if (!ctor) {
      const near = closestNames(name, valid, 3);
      this.add(
        at,
        'wrong-constructor',
        `${where}: unknown constructor "${name}"; ${type} is one of: ${listed(valid)}${near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(', ')}?)` : ''}`,
      );
      return undefined;
    }
    if (ctor.type !== boxedType) {
      this.add(at, 'wrong-constructor', `${where}: "${name}" is of type ${ctor.type}, not ${type}; ${type} is one of: ${listed(valid)}`);
      return undefined;
    }
    return ctor;
  }
}

function listed(names: string[]): string {
  return names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ');
}
