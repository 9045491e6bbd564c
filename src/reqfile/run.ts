// The runner: substitutes variables into each body, validates it (JSON, then tlFromJson), calls through the
// caller's `call` (the CLI's or the extension's routed client), redacts the result and evaluates the request's
// assignments for the requests after it. Nothing invalid reaches the server.
import { describeCallError } from '../lifecycle/call';
import type { CallHop } from '../lifecycle/runtime';
import { tlFromJson, TlJsonError } from '../tl/json';
import type { TlSchema } from '../tl/schema';
import type { TlObject } from '../tl/types';
import { redact } from '../trace/redact';
import { parseDetailed, type ParsedRequestFile, type RequestBlock } from './parse';
import { lineColumnAt } from './text';
import { evaluatePath, findVariableRefs, looksLikeResponsePath, parseResponsePath, PathError, valueAsText, VARIABLE_NAME_RE } from './variables';

export interface RunCallOptions {
  dcId?: number;
  /** The request's `@profile`, for a caller that refuses requests meant for another profile. */
  profile?: string;
  signal?: AbortSignal;
}

export interface RunCallResult {
  /** The raw TL result (the runner redacts it). */
  result: unknown;
  /** The DC that answered. */
  dcId?: number;
  /** Every DC the call was sent to, with the redirect each one answered. */
  hops?: CallHop[];
  /** Id of the call's root event in the caller's trace. */
  traceId?: string;
  /** One-line summary of the call's trace (redirects included). */
  chain?: string;
}

/** Sends one validated method call. A thrown error may carry `chain` / `traceId` (see attachCallTrace). */
export type RunCall = (method: TlObject, opts: RunCallOptions) => Promise<RunCallResult>;

export interface RequestRunError {
  /** 'VALIDATION', 'UNDEFINED_VARIABLE', 'ASSIGNMENT', 'ABORTED', 'ERROR', an rpc error message ('PHONE_NUMBER_INVALID') or a LifecycleError code. */
  code: string;
  message: string;
  /** VALIDATION: the field path (TlJsonError.path); ASSIGNMENT: the response path. */
  path?: string;
  expected?: string;
  dcId?: number;
}

export interface RequestRunResult {
  index: number;
  title?: string;
  method: string;
  /** The DC that answered (or failed); before the call, the DC it is meant for. */
  dcId?: number;
  /** Every DC the call was sent to, with the redirect each one answered. */
  hops?: CallHop[];
  ok: boolean;
  /** The redacted result as JSON (tlToJson). */
  result?: unknown;
  error?: RequestRunError;
  durationMs: number;
  traceId?: string;
  chain?: string;
  /** What this request's assignments set. */
  assigned: Record<string, string>;
}

export interface RunOptions {
  schema: TlSchema;
  call: RunCall;
  /** Run only this request (0-based index). */
  only?: number;
  /** DC for every request run (overrides `@dc`). */
  dcOverride?: number;
  /** The selected environment's variables (lowest priority). */
  environment?: Record<string, string>;
  /** Assigned variables carried over from earlier runs (same priority as this run's assignments). */
  variables?: Record<string, string>;
  /** Stop at the first failure (default true). */
  stopOnError?: boolean;
  onResult?: (r: RequestRunResult) => void;
  signal?: AbortSignal;
}

/** An error a `call` throws to fail a request with its own code (e.g. 'PROFILE_MISMATCH'). */
export class RunCallError extends Error {
  override readonly name = 'RunCallError';
  constructor(
    readonly code: string,
    message: string,
    readonly dcId?: number,
  ) {
    super(message);
  }
}

/** Lets a `call` that throws report the trace of the failed call. */
export function attachCallTrace<E>(error: E, info: { chain?: string; traceId?: string }): E {
  if (error && typeof error === 'object') {
    if (info.chain) (error as { chain?: string }).chain = info.chain;
    if (info.traceId) (error as { traceId?: string }).traceId = info.traceId;
  }
  return error;
}

class RequestFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: { path?: string; expected?: string } = {},
  ) {
    super(message);
  }
}

export async function runRequests(text: string, opts: RunOptions): Promise<{ results: RequestRunResult[]; variables: Record<string, string> }> {
  const file = parseDetailed(text);
  const runner = new Runner(file, opts);
  const selected = opts.only !== undefined ? file.requests.filter((r) => r.index === opts.only) : file.requests;
  if (opts.only !== undefined && selected.length === 0) {
    throw new RangeError(`there is no request #${opts.only + 1}: the file has ${file.requests.length} request${file.requests.length === 1 ? '' : 's'}`);
  }
  const results: RequestRunResult[] = [];
  for (const r of selected) {
    if (opts.signal?.aborted) break;
    const res = await runner.run(r);
    results.push(res);
    opts.onResult?.(res);
    if (!res.ok && (opts.stopOnError ?? true)) break;
  }
  return { results, variables: runner.variables };
}

class Runner {
  /** Assigned variables: carried ones, then this run's assignments. */
  readonly variables: Record<string, string>;
  private readonly fileVars: Map<string, { value: string; base: number }>;
  private readonly failed = new Set<number>();
  private current: RequestBlock | undefined;

  constructor(
    private readonly file: ParsedRequestFile,
    private readonly opts: RunOptions,
  ) {
    this.variables = { ...(opts.variables ?? {}) };
    this.fileVars = new Map(file.variables.map((v) => [v.name, { value: v.value, base: v.valueRange.start }]));
  }

  private lineOf(offset: number): number {
    return lineColumnAt(this.file.lines, offset).line + 1;
  }

  private label(r: RequestBlock): string {
    return `request #${r.index + 1} (${r.method})`;
  }

  /** A variable's value: assigned > file variable (its own `{{…}}` expanded) > environment. */
  private resolve(name: string, offset: number, stack: readonly string[]): string {
    if (Object.hasOwn(this.variables, name)) return this.variables[name]!;
    const fv = this.fileVars.get(name);
    if (fv) {
      if (stack.includes(name)) throw new RequestFailure('UNDEFINED_VARIABLE', `variable \`${name}\` refers to itself: ${[...stack, name].join(' → ')}`);
      return this.expand(fv.value, fv.base, [...stack, name]);
    }
    const env = this.opts.environment ?? {};
    if (Object.hasOwn(env, name)) return env[name]!;
    throw new RequestFailure('UNDEFINED_VARIABLE', `undefined variable \`${name}\` (line ${this.lineOf(offset)})${this.assignHint(name)}`);
  }

  private assignHint(name: string): string {
    const assigners = this.file.requests.filter((r) => r.assignments.some((a) => a.name === name));
    if (!assigners.length) return '';
    const cur = this.current;
    if (this.opts.only !== undefined) return `: run the request that assigns it first (request #${assigners[0]!.index + 1})`;
    const failed = assigners.find((a) => this.failed.has(a.index));
    if (failed) return `: request #${failed.index + 1}, which assigns it, failed`;
    if (cur && assigners.every((a) => a.index >= cur.index)) return `: request #${assigners[0]!.index + 1} assigns it, but runs later`;
    return '';
  }

  /** Substitutes every `{{name}}` in a text (raw text substitution). */
  private expand(text: string, base: number, stack: readonly string[] = []): string {
    let out = '';
    let last = 0;
    for (const ref of findVariableRefs(text, base)) {
      const at = ref.range.start - base;
      out += text.slice(last, at);
      if (looksLikeResponsePath(ref.expr)) {
        throw new RequestFailure(
          'UNDEFINED_VARIABLE',
          `\`{{${ref.expr}}}\` (line ${this.lineOf(ref.range.start)}): \`response\` only exists in the assignments after a body`,
        );
      }
      if (!VARIABLE_NAME_RE.test(ref.expr))
        throw new RequestFailure('UNDEFINED_VARIABLE', `\`{{${ref.expr}}}\` (line ${this.lineOf(ref.range.start)}) is not a variable name`);
      out += this.resolve(ref.expr, ref.range.start, stack);
      last = ref.range.end - base;
    }
    return out + text.slice(last);
  }

  /** Builds the validated method call of a request (VALIDATION / UNDEFINED_VARIABLE failures; nothing is sent). */
  private build(r: RequestBlock): TlObject {
    const schema = this.opts.schema;
    if (!schema.methodByName(r.method)) {
      throw new RequestFailure(
        'VALIDATION',
        `unknown method \`${r.method}\` in layer ${schema.layer}${schema.constructorByName(r.method) ? ' (that is a constructor)' : ''}`,
      );
    }
    const body = this.expand(r.bodyText, r.bodyRange.start);
    let params: unknown = {};
    if (body.trim() !== '') {
      try {
        params = JSON.parse(body);
      } catch (e) {
        throw new RequestFailure(
          'VALIDATION',
          `the body of ${this.label(r)} is not valid JSON${body !== r.bodyText ? ' after substituting variables' : ''}: ${(e as Error).message}`,
        );
      }
    }
    if (!params || typeof params !== 'object' || Array.isArray(params)) {
      throw new RequestFailure(
        'VALIDATION',
        `the body of ${this.label(r)} must be a JSON object of its parameters, got ${Array.isArray(params) ? 'an array' : JSON.stringify(params)}`,
      );
    }
    const named = (params as Record<string, unknown>)._;
    if (named !== undefined && named !== r.method)
      throw new RequestFailure('VALIDATION', `the body names "_": ${JSON.stringify(named)}, but the method is ${r.method}`, {
        path: '_',
        expected: `"${r.method}" (or no "_")`,
      });
    try {
      return tlFromJson(schema, { ...(params as Record<string, unknown>), _: r.method }) as TlObject;
    } catch (e) {
      if (e instanceof TlJsonError) throw new RequestFailure('VALIDATION', `${r.method}: ${e.message}`, { path: e.path, expected: e.expected });
      throw e;
    }
  }

  /** An assignment template with `{{response…}}` paths and variables → its text. */
  private evaluate(template: string, base: number, response: unknown): string {
    const refs = findVariableRefs(template, base);
    let out = '';
    let last = 0;
    for (const ref of refs) {
      const at = ref.range.start - base;
      out += template.slice(last, at);
      const segments = parseResponsePath(ref.expr);
      if (segments) out += valueAsText(evaluatePath(response, segments));
      else if (looksLikeResponsePath(ref.expr))
        throw new PathError(`\`${ref.expr}\` is not a response path (write \`response\`, \`.field\`, \`[index]\`)`, ref.expr);
      else out += this.resolve(ref.expr, ref.range.start, []);
      last = ref.range.end - base;
    }
    return out + template.slice(last);
  }

  async run(r: RequestBlock): Promise<RequestRunResult> {
    this.current = r;
    const dcId = this.opts.dcOverride ?? r.dcId;
    const res: RequestRunResult = { index: r.index, method: r.method, ok: false, durationMs: 0, assigned: {} };
    if (r.title !== undefined) res.title = r.title;
    if (dcId !== undefined) res.dcId = dcId;
    const t0 = Date.now();
    let call: TlObject;
    try {
      call = this.build(r);
    } catch (e) {
      if (!(e instanceof RequestFailure)) throw e;
      res.error = { code: e.code, message: e.message, ...e.extra };
      res.durationMs = Date.now() - t0;
      this.failed.add(r.index);
      return res;
    }
    const callOpts: RunCallOptions = {};
    if (dcId !== undefined) callOpts.dcId = dcId;
    if (r.profile !== undefined) callOpts.profile = r.profile;
    if (this.opts.signal) callOpts.signal = this.opts.signal;
    try {
      const answer = await this.opts.call(call, callOpts);
      res.durationMs = Date.now() - t0;
      res.ok = true;
      res.result = redact(answer.result, { schema: this.opts.schema, method: r.method });
      if (answer.dcId !== undefined) res.dcId = answer.dcId;
      if (answer.hops !== undefined) res.hops = answer.hops;
      if (answer.traceId !== undefined) res.traceId = answer.traceId;
      if (answer.chain !== undefined) res.chain = answer.chain;
    } catch (e) {
      res.durationMs = Date.now() - t0;
      res.error = callError(e, r, this.opts.signal);
      if (res.error.dcId !== undefined) res.dcId = res.error.dcId;
      const extra = e as { chain?: unknown; traceId?: unknown; hops?: unknown };
      if (Array.isArray(extra?.hops)) res.hops = extra.hops as CallHop[];
      if (typeof extra?.chain === 'string') res.chain = extra.chain;
      if (typeof extra?.traceId === 'string') res.traceId = extra.traceId;
      this.failed.add(r.index);
      return res;
    }
    for (const a of r.assignments) {
      try {
        const value = this.evaluate(a.value, a.valueRange.start, res.result);
        this.variables[a.name] = value;
        res.assigned[a.name] = value;
      } catch (e) {
        if (!(e instanceof PathError) && !(e instanceof RequestFailure)) throw e;
        res.ok = false;
        res.error = {
          code: 'ASSIGNMENT',
          message: `${this.label(r)}, @${a.name} (line ${this.lineOf(a.range.start)}): ${e.message}`,
          ...(e instanceof PathError ? { path: e.path } : {}),
        };
        this.failed.add(r.index);
        break;
      }
    }
    return res;
  }
}

function callError(e: unknown, r: RequestBlock, signal: AbortSignal | undefined): RequestRunError {
  if (e instanceof RunCallError) return { code: e.code, message: e.message, ...(e.dcId !== undefined ? { dcId: e.dcId } : {}) };
  const described = describeCallError(e, r.method);
  // a failure the abort caused (a closed connection, …) is reported as the abort
  if (described.code === 'ERROR' && signal?.aborted) return { code: 'ABORTED', message: `${r.method}: aborted` };
  return described;
}
