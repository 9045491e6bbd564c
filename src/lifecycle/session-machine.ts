// The per-DC session actor: disconnected → connecting (→ creatingKey) → ready → reconnecting (backoff) → connecting.
// It drives the DcPool (connecting invokes pool.get, which shares any connect already in flight for the DC) and
// mirrors what the pool reports (POOL_* events, forwarded by the client): a key being created, the connection
// lost, a −404 that dropped the key (→ connecting, which makes a new key), a ping's latency.
import { assign, fromPromise, setup } from 'xstate';
import type { DcPool } from '../dc/pool';

export interface DcSessionInput {
  dcId: number;
  pool: DcPool;
  /** Backoff cap (default 5000 ms); the n-th retry waits min(cap, 250·2^n) ms. */
  maxBackoffMs?: number;
  /** Reconnect attempts before giving up in `disconnected` with lastError (default 6). */
  maxAttempts?: number;
}

export interface DcSessionContext {
  dcId: number;
  pool: DcPool;
  maxBackoffMs: number;
  maxAttempts: number;
  attempts: number;
  latencyMs?: number;
  lastError?: string;
  /** The last connection made a new auth key. */
  keyCreated: boolean;
  /** Trace id of the call that caused the last transition (for parentId links). */
  cause?: number;
}

export type DcSessionEvent =
  | { type: 'CONNECT'; cause?: number }
  | { type: 'DISCONNECT'; reason?: string }
  | { type: 'PING' }
  | { type: 'LOST'; reason: string; cause?: number }
  | { type: 'KEY_INVALID'; reason?: string; cause?: number }
  | { type: 'POOL_CONNECTING'; cause?: number }
  | { type: 'KEY_CREATING'; cause?: number }
  | { type: 'KEY_READY'; created: boolean; cause?: number }
  | { type: 'LATENCY'; ms: number };

function backoff(ctx: DcSessionContext): number {
  return Math.min(ctx.maxBackoffMs, 250 * 2 ** Math.max(0, ctx.attempts - 1));
}

const causeOf = ({ event }: { event: DcSessionEvent }): number | undefined => ('cause' in event ? event.cause : undefined);

export const dcSessionMachine = setup({
  types: {
    context: {} as DcSessionContext,
    events: {} as DcSessionEvent,
    input: {} as DcSessionInput,
  },
  actors: {
    open: fromPromise<void, { pool: DcPool; dcId: number; cause?: number }>(async ({ input }) => {
      await input.pool.get(input.dcId, input.cause !== undefined ? { parentId: input.cause } : {});
    }),
    ping: fromPromise<number, { pool: DcPool; dcId: number }>(({ input }) => input.pool.ping(input.dcId)),
  },
  delays: {
    backoff: ({ context }) => backoff(context),
  },
  guards: {
    canRetry: ({ context }) => context.attempts < context.maxAttempts,
  },
  actions: {
    setCause: assign({ cause: ({ event, context }) => causeOf({ event }) ?? context.cause }),
  },
}).createMachine({
  id: 'dcSession',
  context: ({ input }) => ({
    dcId: input.dcId,
    pool: input.pool,
    maxBackoffMs: input.maxBackoffMs ?? 5000,
    maxAttempts: input.maxAttempts ?? 6,
    attempts: 0,
    keyCreated: false,
  }),
  initial: 'disconnected',
  on: {
    LATENCY: { actions: assign({ latencyMs: ({ event }) => event.ms }) },
    KEY_READY: { actions: assign({ keyCreated: ({ event }) => event.created }) },
  },
  states: {
    disconnected: {
      always: { guard: ({ context }) => context.attempts === 0 && context.pool.isConnected(context.dcId), target: 'ready' },
      on: {
        CONNECT: { target: 'connecting', actions: ['setCause', assign({ attempts: 0 })] },
        POOL_CONNECTING: { target: 'connecting', actions: 'setCause' },
        KEY_CREATING: { target: 'connecting.creatingKey', actions: 'setCause' },
      },
    },
    connecting: {
      initial: 'link',
      invoke: {
        src: 'open',
        input: ({ context }) => ({ pool: context.pool, dcId: context.dcId, ...(context.cause !== undefined ? { cause: context.cause } : {}) }),
        onDone: { target: 'ready', actions: assign({ attempts: 0, lastError: undefined }) },
        onError: [
          {
            guard: 'canRetry',
            target: 'reconnecting',
            actions: assign({ lastError: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }),
          },
          {
            target: 'disconnected',
            actions: assign({ lastError: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }),
          },
        ],
      },
      states: {
        link: { on: { KEY_CREATING: { target: 'creatingKey', actions: 'setCause' } } },
        creatingKey: {},
      },
      on: { DISCONNECT: 'disconnected' },
    },
    ready: {
      initial: 'idle',
      states: {
        idle: { on: { PING: 'pinging' } },
        pinging: {
          invoke: {
            src: 'ping',
            input: ({ context }) => ({ pool: context.pool, dcId: context.dcId }),
            onDone: { target: 'idle', actions: assign({ latencyMs: ({ event }) => event.output }) },
            onError: {
              target: 'idle',
              actions: assign({ lastError: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }),
            },
          },
        },
      },
      on: {
        LOST: { target: 'reconnecting', actions: ['setCause', assign({ lastError: ({ event }) => event.reason })] },
        KEY_INVALID: { target: 'connecting', actions: ['setCause', assign({ lastError: ({ event }) => event.reason ?? 'auth key unknown to the DC (-404)' })] },
        KEY_CREATING: { target: 'connecting.creatingKey', actions: 'setCause' },
        DISCONNECT: 'disconnected',
      },
    },
    reconnecting: {
      entry: assign({ attempts: ({ context }) => context.attempts + 1 }),
      after: { backoff: 'connecting' },
      on: {
        DISCONNECT: 'disconnected',
        POOL_CONNECTING: { target: 'connecting', actions: 'setCause' },
        KEY_INVALID: { actions: 'setCause' },
      },
    },
  },
});

/** The session actor's state as one string: 'disconnected', 'connecting', 'creatingKey', 'ready', 'reconnecting'. */
export function sessionStateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (k === 'connecting' && v === 'creatingKey') return 'creatingKey';
    if (k) return k;
  }
  return String(value);
}
