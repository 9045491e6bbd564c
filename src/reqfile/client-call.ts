// A RunCall over a routed DcClient (src/lifecycle) and its TraceStore: what the CLI and the extension both need.
// The call's root event in the trace gives traceId, its chain line and the DC that finally answered.
import type { DcClient } from '../lifecycle/client';
import type { TlObject } from '../tl/types';
import { formatTraceTimeline, type TraceStore } from '../trace';
import { attachCallTrace, RunCallError, type RunCall } from './run';

export interface CallTrace {
  traceId?: string;
  chain?: string;
  /** The DC of the last result event of the chain (after redirects and transfers). */
  dcId?: number;
}

/** The trace of the root call named `method` recorded after event id `mark`. */
export function callTraceSince(trace: TraceStore, mark: number, method: string): CallTrace {
  const roots = trace.since(mark).filter((e) => e.kind === 'call' && e.name === method && (e.parentId === undefined || e.parentId <= mark));
  const root = roots[roots.length - 1];
  if (!root) return {};
  const chainEvents = trace.chainOf(root.id);
  const out: CallTrace = { traceId: String(root.id), chain: formatTraceTimeline(chainEvents, { details: false }) };
  const answers = chainEvents.filter((e) => e.kind === 'result' && e.dcId !== undefined);
  const last = answers[answers.length - 1];
  if (last?.dcId !== undefined) out.dcId = last.dcId;
  return out;
}

export interface ClientRunCallOptions {
  /** The trace the client writes to (createDcClient({ trace })); gives traceId, chain and the answering DC. */
  trace?: TraceStore;
  /** The active profile: a request marked `@profile` with another name fails with PROFILE_MISMATCH. */
  profile?: string;
}

export function clientRunCall(client: Pick<DcClient, 'call'>, opts: ClientRunCallOptions = {}): RunCall {
  return async (method: TlObject, o) => {
    if (o.profile !== undefined && opts.profile !== undefined && o.profile !== opts.profile) {
      throw new RunCallError('PROFILE_MISMATCH', `${method._} is marked @profile ${o.profile}, but the active profile is ${opts.profile}`);
    }
    const trace = opts.trace;
    const mark = trace?.lastId ?? 0;
    try {
      const result = await client.call(method, o.dcId !== undefined ? { dcId: o.dcId } : {});
      return { result, ...(trace ? callTraceSince(trace, mark, method._) : {}) };
    } catch (e) {
      if (!trace) throw e;
      const { chain, traceId } = callTraceSince(trace, mark, method._);
      throw attachCallTrace(e, { ...(chain ? { chain } : {}), ...(traceId ? { traceId } : {}) });
    }
  };
}
