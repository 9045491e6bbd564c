// One routed call with its own identity, and the one wording of a failed call. The panel's query, request files
// and `dclab call` all go through routedCall, so "which DC answered" comes from the router that sent the call (the
// hops it followed), never from reading the trace back afterwards.
import { RpcError } from '../mtproto/errors';
import { TlJsonError } from '../tl/json';
import type { TlObject } from '../tl/types';
import type { DcClient } from './client';
import { LifecycleError } from './errors';
import type { CallHop, CallRoute } from './runtime';

export interface CallRequest {
  /** A validated method object (tlFromJson). */
  method: TlObject;
  /** Target DC (default: the home DC). */
  dcId?: number;
  timeoutMs?: number;
  /** Stops waiting for the answer (the request may already be on its way). */
  signal?: AbortSignal;
}

export interface CallAnswer<T = unknown> {
  result: T;
  /** Id of the call's root event (the trace's id when the client writes to a trace). */
  traceId: number;
  /** The DC whose answer this is: the last hop. */
  answeredDc: number;
  /** Every DC the call was sent to, in order, with the redirect each one answered. */
  hops: CallHop[];
  ms: number;
}

/** A call that failed, with the route it took; `cause` is what the router threw (RpcError, LifecycleError, …). */
export class CallFailure extends Error {
  override readonly name = 'CallFailure';
  override readonly cause: unknown;
  readonly method: string;
  readonly traceId: number | undefined;
  readonly hops: CallHop[];
  readonly ms: number;
  constructor(method: string, cause: unknown, route: CallRoute, ms: number) {
    super(describeCallError(cause, method).message);
    this.method = method;
    this.cause = cause;
    this.traceId = route.rootId;
    this.hops = route.hops;
    this.ms = ms;
  }

  /** The last DC the call was sent to. */
  get lastDc(): number | undefined {
    return this.hops[this.hops.length - 1]?.dcId;
  }
}

/** Sends one method through the client's router; a failure is thrown as a CallFailure. */
export async function routedCall<T = unknown>(client: Pick<DcClient, 'call'>, req: CallRequest): Promise<CallAnswer<T>> {
  const route: CallRoute = { hops: [] };
  const t0 = Date.now();
  const fail = (e: unknown): CallFailure => new CallFailure(req.method._, e, route, Date.now() - t0);
  if (req.signal?.aborted) throw fail(abortError(req.method._));
  const sent = client.call<T>(req.method, {
    route,
    ...(req.dcId !== undefined ? { dcId: req.dcId } : {}),
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
  });
  let result: T;
  try {
    result = await (req.signal ? untilAborted(sent, req.signal, req.method._) : sent);
  } catch (e) {
    throw fail(e);
  }
  const answeredDc = route.hops[route.hops.length - 1]?.dcId;
  if (route.rootId === undefined || answeredDc === undefined) throw new Error(`${req.method._}: the client did not report the call's route`);
  return { result, traceId: route.rootId, answeredDc, hops: route.hops, ms: Date.now() - t0 };
}

function abortError(method: string): LifecycleError {
  return new LifecycleError('ABORTED', `${method}: aborted`);
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal, method: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(method));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `DC2 → FILE_MIGRATE_4 → DC4`: the hops of a call as one line. */
export function formatHops(hops: readonly CallHop[]): string {
  return hops.map((h) => `DC${h.dcId}${h.redirect ? ` → ${h.redirect}` : ''}`).join(' → ');
}

export interface CallErrorDescription {
  /** 'VALIDATION', an rpc error message ('PEER_ID_INVALID'), a LifecycleError code, 'ABORTED' or 'ERROR'. */
  code: string;
  message: string;
  /** The DC that answered with the error (or the last one tried). */
  dcId?: number;
  /** VALIDATION: the field path and the expected type. */
  path?: string;
  expected?: string;
}

/** The user-facing text of a failed call; `method` names the call when the error does not. */
export function describeCallError(err: unknown, method?: string): CallErrorDescription {
  if (err instanceof CallFailure) {
    const inner = describeCallError(err.cause, err.method);
    const lastDc = err.lastDc;
    return inner.dcId === undefined && lastDc !== undefined ? { ...inner, dcId: lastDc } : inner;
  }
  if (err instanceof TlJsonError) {
    return { code: 'VALIDATION', message: method ? `${method}: ${err.message}` : err.message, path: err.path, expected: err.expected };
  }
  if (err instanceof RpcError) {
    return { code: err.errorMessage, message: `${err.code} ${err.errorMessage} from ${err.method || method || 'the call'} on DC${err.dcId}`, dcId: err.dcId };
  }
  if (err instanceof LifecycleError) {
    return { code: err.code, message: err.message, ...(err.dcId !== undefined ? { dcId: err.dcId } : {}) };
  }
  if (err instanceof Error && err.name === 'AbortError') return { code: 'ABORTED', message: `${method ?? 'the call'}: aborted` };
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
}
