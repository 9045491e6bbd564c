// `dclab call METHOD 'JSON' [--dc N] [--json]`: params validated with tlFromJson against the API schema (a wrong
// field names its path and the expected type: exit 2, before any connection), the call routed by the lifecycle
// (home DC, migrations, transfer to DC N), the result printed as JSON with secrets redacted, the chain on stderr.
import { CallFailure, describeCallError, formatHops, routedCall, type CallAnswer } from '../lifecycle';
import { callChain } from '../reqfile/client-call';
import { closestNames } from '../reqfile/schema-walk';
import { apiSchema, API_LAYER } from '../tl/bundled';
import { tlFromJson, TlJsonError } from '../tl/json';
import type { TlSchema } from '../tl/schema';
import type { TlObject } from '../tl/types';
import { redact } from '../trace';
import { flagBool, flagInt, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import type { CliContext } from './context';

export const CALL_FLAGS: FlagSpecs = {
  '--dc': { kind: 'int', value: 'a DC id 1..65535', min: 1, max: 65535 },
  '--json': { kind: 'boolean' },
  '--verbose': { kind: 'boolean' },
};

/** METHOD + JSON text → a validated TL method object (UsageError naming the field and expected type). */
export function buildMethodCall(method: string, jsonText: string | undefined, schema: TlSchema = apiSchema()): TlObject {
  const entry = schema.methodByName(method);
  if (!entry) {
    const near = closestNames(
      method,
      schema.entries.filter((e) => e.kind === 'method').map((e) => e.name),
      5,
    );
    const isCtor = schema.constructorByName(method) !== undefined;
    throw new UsageError(
      `unknown method "${method}" in API layer ${API_LAYER}${isCtor ? ' (that is a constructor, not a method)' : ''}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`,
      'call',
    );
  }
  let params: unknown = {};
  if (jsonText !== undefined && jsonText.trim() !== '') {
    try {
      params = JSON.parse(jsonText);
    } catch (e) {
      throw new UsageError(`the parameters of ${method} are not valid JSON: ${(e as Error).message}`, 'call');
    }
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new UsageError(
      `the parameters of ${method} must be a JSON object like '{"field": value}', got ${Array.isArray(params) ? 'an array' : JSON.stringify(params)}`,
      'call',
    );
  }
  const given = (params as Record<string, unknown>)._;
  if (given !== undefined && given !== method) throw new UsageError(`the parameters name "_": ${JSON.stringify(given)}, but the method is ${method}`, 'call');
  try {
    return tlFromJson(schema, { ...(params as Record<string, unknown>), _: method }) as TlObject;
  } catch (e) {
    if (e instanceof TlJsonError) {
      throw new UsageError(`invalid parameters for ${method}: field ${e.path || '(root)'}: ${e.reason}; expected ${e.expected}`, 'call');
    }
    throw e;
  }
}

export async function runCall(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [method, jsonText] = p.positionals;
  if (!method) throw new UsageError('METHOD is required, e.g. dclab call help.getNearestDc', 'call');
  const schema = apiSchema();
  const call = buildMethodCall(method, jsonText, schema);
  const dcId = flagInt(p, '--dc');
  const verbose = flagBool(p, '--verbose');

  if (dcId !== undefined && ctx.isSandbox && (dcId < 1 || dcId > 5)) throw new UsageError(`--dc ${dcId}: the sandbox has DCs 1..5`, 'call');
  const profile = await ctx.connectProfile();
  if (dcId !== undefined && !profile.dcs.some((d) => d.id === dcId)) {
    throw new UsageError(`--dc ${dcId}: the ${ctx.opts.profileName} profile has DCs ${profile.dcs.map((d) => d.id).join(', ')}`, 'call');
  }
  await ctx.beginTrace(false, `${method}${dcId !== undefined ? ` --dc ${dcId}` : ''}`);
  // a flood wait explains a pause: always shown; the rest with --verbose
  const client = ctx.createClient(profile, (e) => verbose || e.kind === 'flood-wait');
  const noteChain = (traceId: number | undefined): void => {
    const chain = traceId !== undefined ? callChain(ctx.trace, traceId) : undefined;
    if (chain) ctx.note(chain);
  };
  try {
    const st = await ctx.startClient(() => client.start());
    if (st.state !== 'authorized') ctx.note(`dclab call: not logged in on the ${ctx.opts.profileName} profile (home DC ${st.homeDc}); calling anyway`);
    let answer: CallAnswer;
    try {
      answer = await routedCall(client, { method: call, ...(dcId !== undefined ? { dcId } : {}) });
    } catch (e) {
      if (!(e instanceof CallFailure)) throw e;
      noteChain(e.traceId);
      const described = describeCallError(e);
      const hint = described.code === 'AUTH_KEY_UNREGISTERED' && st.state !== 'authorized' ? ' — log in first: dclab login --phone P' : '';
      throw new Error(`${described.message}${hint}`);
    }
    const out = redact(answer.result, { schema, method });
    ctx.io.out(`${flagBool(p, '--json') ? JSON.stringify(out) : JSON.stringify(out, null, 2)}\n`);
    noteChain(answer.traceId);
    if (answer.hops.length > 1) ctx.note(`answered by DC${answer.answeredDc}: ${formatHops(answer.hops)}`);
    return 0;
  } finally {
    await client.stop();
  }
}
