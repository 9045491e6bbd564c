// `dclab run FILE.mtproto`: the request-file runner of src/reqfile from the command line (CI). The file is checked
// against the schema first (errors printed as FILE:LINE:COL, exit 2, nothing sent); then each request runs on the
// routed client like `dclab call` (same client setup, redaction and session trace), results on stdout, chains on
// stderr. Exit 0 all ok, 1 a request failed (rpc or lifecycle error), 2 file/validation errors.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  analyzeRequestFile,
  clientRunCall,
  EnvironmentError,
  lineColumnAt,
  loadEnvironment,
  parseRequestFile,
  runRequests,
  splitLines,
  type ReqDiagnostic,
  type RequestRunResult,
} from '../reqfile';
import { apiSchema, schemaFromTlText } from '../tl/bundled';
import { analyzeTlFile } from '../tl/tl-file';
import type { TlSchema } from '../tl/schema';
import { flagBool, flagInt, flagString, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import type { CliContext } from './context';

export const RUN_FLAGS: FlagSpecs = {
  '--env': { kind: 'string', value: 'an environment name of dclab.env.json' },
  '--request': { kind: 'int', value: 'a request number (1 = the first request of the file)', min: 1, max: 1_000_000 },
  '--title': { kind: 'string', value: 'the title of a request (the text after its ###)' },
  '--dc': { kind: 'int', value: 'a DC id 1..65535', min: 1, max: 65535 },
  '--json': { kind: 'boolean' },
  '--continue-on-error': { kind: 'boolean' },
  '--verbose': { kind: 'boolean' },
  '--schema': { kind: 'string', value: 'a .tl file to check the requests against' },
};

/**
 * The schema requests are checked against: the bundled layer, or a user's `.tl` (as the extension's
 * `dclab.schemaFile`). Checking only: the client still encodes with the bundled layer it announces.
 */
async function checkSchema(file: string | undefined): Promise<TlSchema> {
  if (file === undefined) return apiSchema();
  let text: string;
  try {
    text = await readFile(resolve(file), 'utf8');
  } catch (e) {
    throw new UsageError(`--schema ${file}: ${e instanceof Error ? e.message : String(e)}`, 'run');
  }
  // a schema that does not parse would check nothing: its syntax errors end the run like a request file's
  const analysis = analyzeTlFile(text);
  const syntax = analysis.diagnostics.filter((d) => d.code === 'syntax');
  if (syntax.length || analysis.entries.length === 0) {
    const lines = splitLines(text);
    const where = syntax.slice(0, 5).map((d) => {
      const { line, column } = lineColumnAt(lines, d.range.start);
      return `\n  ${file}:${line + 1}:${column + 1}: ${d.message}`;
    });
    throw new UsageError(
      `--schema ${file}: ${syntax.length ? `${syntax.length} syntax error${syntax.length === 1 ? '' : 's'}${where.join('')}` : 'no TL declarations in that file'}`,
      'run',
    );
  }
  return schemaFromTlText(text);
}

/** Client-side failures: nothing was sent for that request (exit 2, like a file error). */
const CLIENT_SIDE = new Set(['VALIDATION', 'UNDEFINED_VARIABLE']);

function pickRequest(p: ParsedArgs, requests: ReturnType<typeof parseRequestFile>['requests'], file: string): number | undefined {
  const n = flagInt(p, '--request');
  const title = flagString(p, '--title');
  if (n !== undefined && title !== undefined) throw new UsageError('give --request N or --title TEXT, not both', 'run');
  if (n !== undefined) {
    if (n > requests.length) throw new UsageError(`--request ${n}: ${file} has ${requests.length} request${requests.length === 1 ? '' : 's'}`, 'run');
    return n - 1;
  }
  if (title === undefined) return undefined;
  const exact = requests.filter((r) => r.title === title);
  const loose = exact.length ? exact : requests.filter((r) => r.title?.toLowerCase().includes(title.toLowerCase()));
  if (loose.length === 1) return loose[0]!.index;
  const titles = requests.filter((r) => r.title).map((r) => `#${r.index + 1} "${r.title}"`);
  if (!loose.length) throw new UsageError(`--title "${title}": no request has that title${titles.length ? ` (titles: ${titles.join(', ')})` : ''}`, 'run');
  throw new UsageError(`--title "${title}" matches ${loose.map((r) => `#${r.index + 1} "${r.title}"`).join(', ')}: be more precise or use --request N`, 'run');
}

export async function runRun(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [fileArg] = p.positionals;
  if (!fileArg) throw new UsageError('FILE is required, e.g. dclab run examples/requests/sandbox.mtproto', 'run');
  const path = resolve(fileArg);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${fileArg} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'run');
  }
  let environment: { file?: string; variables: Record<string, string> };
  try {
    environment = await loadEnvironment(path, flagString(p, '--env'));
  } catch (e) {
    if (e instanceof EnvironmentError) throw new UsageError(e.message, 'run');
    throw e;
  }

  const schema = await checkSchema(flagString(p, '--schema'));
  const parsed = parseRequestFile(text);
  if (parsed.requests.length === 0) throw new UsageError(`${fileArg} has no requests (a request is a method name line, then its JSON body)`, 'run');
  const only = pickRequest(p, parsed.requests, fileArg);

  // the schema check first: a file with errors sends nothing (for one request: its block and the file variables)
  const lines = splitLines(text);
  const selected = only !== undefined ? parsed.requests[only]! : undefined;
  const relevant = (d: ReqDiagnostic): boolean => {
    if (!selected) return true;
    const owner = parsed.requests.find((r) => d.range.start >= r.range.start && d.range.start <= r.range.end);
    return !owner || owner === selected;
  };
  const diagnostics = analyzeRequestFile(text, schema, { knownVariables: Object.keys(environment.variables) }).filter(
    (d) => d.severity !== 'info' && relevant(d),
  );
  for (const d of diagnostics) {
    const { line, column } = lineColumnAt(lines, d.range.start);
    ctx.note(`${fileArg}:${line + 1}:${column + 1}: ${d.severity}: ${d.message}`);
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (errors) {
    ctx.note(`dclab run: ${errors} error${errors === 1 ? '' : 's'} in ${fileArg}; nothing was sent`);
    return 2;
  }

  const dcOverride = flagInt(p, '--dc');
  if (dcOverride !== undefined && ctx.isSandbox && (dcOverride < 1 || dcOverride > 5))
    throw new UsageError(`--dc ${dcOverride}: the sandbox has DCs 1..5`, 'run');
  const profile = await ctx.connectProfile();
  if (dcOverride !== undefined && !profile.dcs.some((d) => d.id === dcOverride)) {
    throw new UsageError(`--dc ${dcOverride}: the ${ctx.opts.profileName} profile has DCs ${profile.dcs.map((d) => d.id).join(', ')}`, 'run');
  }
  const verbose = flagBool(p, '--verbose');
  const json = flagBool(p, '--json');
  await ctx.beginTrace(false, `${fileArg}${only !== undefined ? ` request #${only + 1}` : ''}${dcOverride !== undefined ? ` --dc ${dcOverride}` : ''}`);
  const client = ctx.createClient(profile, (e) => verbose || e.kind === 'flood-wait');
  try {
    const st = await ctx.startClient(() => client.start());
    if (st.state !== 'authorized') ctx.note(`dclab run: not logged in on the ${ctx.opts.profileName} profile (home DC ${st.homeDc}); running anyway`);

    const call = clientRunCall(client, { trace: ctx.trace, profile: ctx.opts.profileName });

    const show = (r: RequestRunResult): void => {
      if (r.chain) ctx.note(r.chain);
      if (r.error) {
        const hint = r.error.code === 'AUTH_KEY_UNREGISTERED' && st.state !== 'authorized' ? ' — log in first: dclab login --phone P' : '';
        ctx.note(
          `dclab run: request #${r.index + 1} (${r.method}): ${r.error.message}${r.error.path ? ` [field ${r.error.path}; expected ${r.error.expected}]` : ''}${hint}`,
        );
      }
      if (json) return;
      const where = r.dcId !== undefined ? ` @DC${r.dcId}` : '';
      const outcome = r.ok ? 'ok' : r.error!.code;
      ctx.io.out(`### [${r.index + 1}] ${r.method}${where} → ${outcome} (${r.durationMs} ms)${r.title ? ` · ${r.title}` : ''}\n`);
      if (r.result !== undefined) ctx.io.out(`${JSON.stringify(r.result, null, 2)}\n`);
      for (const [k, v] of Object.entries(r.assigned)) ctx.note(`  @${k} = ${v.length > 120 ? `${v.slice(0, 120)}…` : v}`);
    };
    const { results } = await runRequests(text, {
      schema,
      call,
      ...(only !== undefined ? { only } : {}),
      ...(dcOverride !== undefined ? { dcOverride } : {}),
      environment: environment.variables,
      stopOnError: !flagBool(p, '--continue-on-error'),
      onResult: show,
    });
    if (json) ctx.io.out(`${JSON.stringify(results, null, 2)}\n`);
    const planned = only !== undefined ? 1 : parsed.requests.length;
    if (results.length < planned) {
      ctx.note(
        `dclab run: stopped after request #${results[results.length - 1]!.index + 1} failed; ${planned - results.length} not run (--continue-on-error runs them)`,
      );
    }
    const failures = results.filter((r) => !r.ok);
    if (!failures.length) return 0;
    return failures.every((r) => CLIENT_SIDE.has(r.error!.code)) ? 2 : 1;
  } finally {
    await client.stop();
  }
}
