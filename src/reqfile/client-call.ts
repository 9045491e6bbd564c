// A RunCall over a routed DcClient (src/lifecycle) and its TraceStore: what the CLI and the extension both need.
// routedCall says which DC answered and the hops the call took; the trace gives the chain line of the call's own root.
import { CallFailure, routedCall, type DcClient } from '../lifecycle';
import type { TlObject } from '../tl/types';
import { formatTraceTimeline, type TraceStore } from '../trace';
import { attachCallTrace, RunCallError, type RunCall } from './run';

/** The one-line-per-chain timeline of the call whose root event is `traceId`. */
export function callChain(trace: TraceStore, traceId: number): string | undefined {
  const events = trace.chainOf(traceId);
  return events.length ? formatTraceTimeline(events, { details: false }) : undefined;
}

export interface ClientRunCallOptions {
  /** The trace the client writes to (createDcClient({ trace })); gives traceId and the chain line. */
  trace?: TraceStore;
  /** The active profile: a request marked `@profile` with another name fails with PROFILE_MISMATCH. */
  profile?: string;
}

export function clientRunCall(client: Pick<DcClient, 'call'>, opts: ClientRunCallOptions = {}): RunCall {
  const trace = opts.trace;
  const traced = (traceId: number | undefined): { traceId?: string; chain?: string } => {
    if (!trace || traceId === undefined) return {};
    const chain = callChain(trace, traceId);
    return { traceId: String(traceId), ...(chain ? { chain } : {}) };
  };
  return async (method: TlObject, o) => {
    if (o.profile !== undefined && opts.profile !== undefined && o.profile !== opts.profile) {
      throw new RunCallError('PROFILE_MISMATCH', `${method._} is marked @profile ${o.profile}, but the active profile is ${opts.profile}`);
    }
    try {
      const answer = await routedCall(client, {
        method,
        ...(o.dcId !== undefined ? { dcId: o.dcId } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return { result: answer.result, dcId: answer.answeredDc, hops: answer.hops, ...traced(answer.traceId) };
    } catch (e) {
      throw e instanceof CallFailure ? attachCallTrace(e, traced(e.traceId)) : e;
    }
  };
}
