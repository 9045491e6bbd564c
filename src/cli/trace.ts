// `dclab trace [--json] [--last N] [--no-details] [--machines]`: the session's stored trace (every command appends to it; login
// starts a new one) as chains (formatTraceTimeline) or as the export JSON. Reads the store only.
import { formatTraceTimeline, TraceStore, type TraceExport } from '../trace';
import { flagBool, flagInt, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import type { CliContext } from './context';
import { withoutMachineTransitions } from './events';

export const TRACE_FLAGS: FlagSpecs = {
  '--json': { kind: 'boolean' },
  '--last': { kind: 'int', value: 'a number of events ≥ 1', min: 1, max: 1_000_000 },
  '--no-details': { kind: 'boolean' },
  '--machines': { kind: 'boolean' },
};

export async function runTrace(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.positionals.length) throw new UsageError(`unexpected argument: ${p.positionals[0]}`, 'trace');
  const stored = await ctx.store.getLastTrace<TraceExport>();
  if (!stored) {
    ctx.note(`dclab trace: no trace stored for profile ${ctx.opts.profileName} in ${ctx.opts.dataDir} (run a command first, e.g. dclab login)`);
    return 1;
  }
  // import validates the file and redacts payloads again (a hand-edited state.json cannot smuggle a secret out)
  const trace = TraceStore.import(stored);
  const last = flagInt(p, '--last');
  const exp = trace.export(last !== undefined ? { last } : {});
  if (flagBool(p, '--json')) {
    ctx.io.out(`${JSON.stringify(exp, null, 2)}\n`);
    return 0;
  }
  const events = flagBool(p, '--machines') ? exp.events : withoutMachineTransitions(exp.events);
  ctx.io.out(`${formatTraceTimeline(events, { details: !flagBool(p, '--no-details') })}\n`);
  return 0;
}
