// The client machine: owns the home DC and the login flow. Async steps are fromPromise actors over the
// ClientRuntime (which does the routing: migrations, transfers, flood waits). Codes, passwords and sign-up names
// arrive as events, so a UI, the CLI and a test can each answer them. Per-DC session actors are spawned as children
// the first time the pool reports on a DC, and receive the pool's reports as events.
import { assign, enqueueActions, fromPromise, setup, type ActorRefFrom } from 'xstate';
import type { DcPoolEvent } from '../dc/pool';
import type { Topology } from '../dc/topology';
import type { TlObject } from '../tl/types';
import { LifecycleError } from './errors';
import type { ClientRuntime, PasswordOutcome, SignInOutcome } from './runtime';
import { dcSessionMachine, type DcSessionEvent } from './session-machine';

export interface ClientInput {
  runtime: ClientRuntime;
}

export interface ClientContext {
  runtime: ClientRuntime;
  homeDc: number;
  phone?: string;
  phoneCodeHash?: string;
  codeLength?: number;
  codeType?: string;
  passwordHint?: string;
  userId?: string;
  user?: TlObject;
  topology?: Topology;
  /** Last error text (a failed step, a wrong code/password). */
  error?: string;
  loggedOutReason?: string;
  /** Whether a stored login was resumed at start. */
  resumed: boolean;
  sessions: Record<string, ActorRefFrom<typeof dcSessionMachine>>;
}

export type ClientEvent =
  | { type: 'START' }
  | { type: 'LOGIN'; phone: string }
  | { type: 'CODE'; code: string }
  | { type: 'PASSWORD'; password: string }
  | { type: 'SIGN_UP'; firstName: string; lastName?: string }
  | { type: 'CANCEL' }
  | { type: 'LOG_OUT' }
  | { type: 'SESSION_REVOKED'; reason: string }
  | { type: 'POOL'; event: DcPoolEvent }
  | { type: 'STOP' };

const errorText = ({ event }: { event: { error?: unknown } }): string => {
  const e = event.error;
  return e instanceof Error ? e.message : String(e);
};

/** A login step failed with SESSION_PASSWORD_NEEDED (e.g. auth.sendCode after a logout token): the password step. */
function passwordNeededError(event: unknown): LifecycleError | undefined {
  const e = (event as { error?: unknown }).error;
  return e instanceof LifecycleError && e.code === 'PASSWORD_NEEDED' ? e : undefined;
}

/** A pool report as the session actor's event (undefined: nothing to tell it). */
export function sessionEventOf(e: DcPoolEvent): DcSessionEvent | undefined {
  const cause = e.parentId !== undefined ? { cause: e.parentId } : {};
  switch (e.type) {
    case 'connecting':
      return { type: 'POOL_CONNECTING', ...cause };
    case 'key-creating':
      return { type: 'KEY_CREATING', ...cause };
    case 'key-created':
      return { type: 'KEY_READY', created: true, ...cause };
    case 'key-reused':
      return { type: 'KEY_READY', created: false, ...cause };
    case 'key-dropped':
      return { type: 'KEY_INVALID', ...(e.reason ? { reason: e.reason } : {}), ...cause };
    case 'latency':
      return e.ms !== undefined ? { type: 'LATENCY', ms: e.ms } : undefined;
    case 'closed': {
      const r = e.reason ?? '';
      // 'key-dropped' follows and tells the actor to make a new key
      if (r.startsWith('key dropped')) return undefined;
      if (/pool closed|closed by the pool|closed by the client/.test(r)) return { type: 'DISCONNECT', reason: r };
      return { type: 'LOST', reason: r, ...cause };
    }
    default:
      return undefined;
  }
}

export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    events: {} as ClientEvent,
    input: {} as ClientInput,
  },
  actors: {
    dcSession: dcSessionMachine,
    connect: fromPromise<{ homeDc: number; authorized: boolean; userId?: bigint }, { runtime: ClientRuntime }>(({ input }) => input.runtime.connectHome()),
    fetchConfig: fromPromise<Topology, { runtime: ClientRuntime }>(({ input }) => input.runtime.fetchConfig()),
    sendCode: fromPromise<{ phoneCodeHash: string; codeLength?: number; codeType?: string; homeDc: number }, { runtime: ClientRuntime; phone: string }>(
      ({ input }) => input.runtime.sendCode(input.phone),
    ),
    signIn: fromPromise<SignInOutcome, { runtime: ClientRuntime; phone: string; phoneCodeHash: string; code: string }>(({ input }) =>
      input.runtime.signIn(input.phone, input.phoneCodeHash, input.code),
    ),
    checkPassword: fromPromise<PasswordOutcome, { runtime: ClientRuntime; password: string }>(({ input }) => input.runtime.checkPassword(input.password)),
    signUp: fromPromise<TlObject, { runtime: ClientRuntime; phone: string; phoneCodeHash: string; firstName: string; lastName: string }>(({ input }) =>
      input.runtime.signUp(input.phone, input.phoneCodeHash, input.firstName, input.lastName),
    ),
    logOut: fromPromise<void, { runtime: ClientRuntime }>(({ input }) => input.runtime.logOut()),
  },
  actions: {
    clearError: assign({ error: undefined }),
    enterPasswordStep: assign(({ context, event }) => ({
      error: undefined,
      homeDc: context.runtime.homeDc,
      passwordHint: passwordNeededError(event)?.passwordHint,
    })),
    setAuthorized: assign(({ context }) => ({
      homeDc: context.runtime.homeDc,
      ...(context.runtime.userId !== undefined ? { userId: String(context.runtime.userId) } : {}),
      ...(context.runtime.user ? { user: context.runtime.user } : {}),
      error: undefined,
      loggedOutReason: undefined,
    })),
    forwardPool: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'POOL') return;
      const ev = sessionEventOf(event.event);
      const key = String(event.event.dcId);
      const ref = context.sessions[key];
      if (!ref) {
        if (!ev || ev.type === 'DISCONNECT') return;
        enqueue.assign({
          sessions: ({ context: c, spawn }) => ({
            ...c.sessions,
            [key]: spawn('dcSession', { id: `dc${key}`, input: { dcId: event.event.dcId, pool: c.runtime.pool } }),
          }),
        });
        enqueue.sendTo(({ context: c }) => c.sessions[key]!, ev);
        return;
      }
      if (ev) enqueue.sendTo(ref, ev);
    }),
  },
  guards: {
    resumed: ({ context }) => context.resumed,
    passwordNeeded: ({ event }) => passwordNeededError(event) !== undefined,
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => ({ runtime: input.runtime, homeDc: input.runtime.homeDc, resumed: false, sessions: {} }),
  initial: 'idle',
  on: {
    POOL: { actions: 'forwardPool' },
    STOP: '.stopped',
  },
  states: {
    idle: { on: { START: 'connecting' } },
    connecting: {
      invoke: {
        id: 'connect',
        src: 'connect',
        input: ({ context }) => ({ runtime: context.runtime }),
        onDone: {
          target: 'fetchingConfig',
          actions: assign(({ event }) => ({
            homeDc: event.output.homeDc,
            resumed: event.output.authorized,
            ...(event.output.userId !== undefined ? { userId: String(event.output.userId) } : {}),
          })),
        },
        onError: { target: 'failed', actions: assign({ error: errorText }) },
      },
    },
    fetchingConfig: {
      invoke: {
        id: 'fetchConfig',
        src: 'fetchConfig',
        input: ({ context }) => ({ runtime: context.runtime }),
        onDone: [
          { guard: 'resumed', target: 'authorized', actions: [assign({ topology: ({ event }) => event.output }), 'setAuthorized'] },
          { target: 'unauthorized', actions: assign({ topology: ({ event }) => event.output, homeDc: ({ context }) => context.runtime.homeDc }) },
        ],
        onError: { target: 'failed', actions: assign({ error: errorText }) },
      },
    },
    unauthorized: {
      on: { LOGIN: { target: 'sendingCode', actions: [assign({ phone: ({ event }) => event.phone }), 'clearError'] } },
    },
    sendingCode: {
      invoke: {
        id: 'sendCode',
        src: 'sendCode',
        input: ({ context }) => ({ runtime: context.runtime, phone: context.phone ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.codeType === 'success', target: 'authorized', actions: 'setAuthorized' },
          {
            target: 'awaitingCode',
            actions: assign(({ event }) => ({
              phoneCodeHash: event.output.phoneCodeHash,
              homeDc: event.output.homeDc,
              ...(event.output.codeLength !== undefined ? { codeLength: event.output.codeLength } : {}),
              ...(event.output.codeType !== undefined ? { codeType: event.output.codeType } : {}),
            })),
          },
        ],
        onError: [
          { guard: 'passwordNeeded', target: 'awaitingPassword', actions: 'enterPasswordStep' },
          { target: 'unauthorized', actions: assign({ error: errorText, homeDc: ({ context }) => context.runtime.homeDc }) },
        ],
      },
    },
    awaitingCode: {
      on: {
        CODE: { target: 'signingIn' },
        LOGIN: { target: 'sendingCode', actions: [assign({ phone: ({ event }) => event.phone }), 'clearError'] },
        CANCEL: { target: 'unauthorized', actions: 'clearError' },
      },
    },
    signingIn: {
      invoke: {
        id: 'signIn',
        src: 'signIn',
        input: ({ context, event }) => ({
          runtime: context.runtime,
          phone: context.phone ?? '',
          phoneCodeHash: context.phoneCodeHash ?? '',
          code: event.type === 'CODE' ? event.code : '',
        }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'authorized', target: 'authorized', actions: 'setAuthorized' },
          { guard: ({ event }) => event.output.kind === 'signUpRequired', target: 'awaitingSignUp', actions: 'clearError' },
          {
            guard: ({ event }) => event.output.kind === 'passwordNeeded',
            target: 'awaitingPassword',
            actions: assign(({ event }) => ({ error: undefined, passwordHint: event.output.kind === 'passwordNeeded' ? event.output.hint : undefined })),
          },
          {
            target: 'awaitingCode',
            actions: assign({ error: ({ event }) => (event.output.kind === 'codeInvalid' ? event.output.error : 'unexpected sign-in answer') }),
          },
        ],
        onError: { target: 'unauthorized', actions: assign({ error: errorText }) },
      },
    },
    awaitingPassword: {
      on: {
        PASSWORD: { target: 'checkingPassword' },
        CANCEL: { target: 'unauthorized', actions: 'clearError' },
      },
    },
    checkingPassword: {
      invoke: {
        id: 'checkPassword',
        src: 'checkPassword',
        input: ({ context, event }) => ({ runtime: context.runtime, password: event.type === 'PASSWORD' ? event.password : '' }),
        onDone: [
          { guard: ({ event }) => event.output.kind === 'authorized', target: 'authorized', actions: 'setAuthorized' },
          {
            target: 'awaitingPassword',
            actions: assign({ error: ({ event }) => (event.output.kind === 'passwordInvalid' ? event.output.error : 'unexpected answer') }),
          },
        ],
        onError: { target: 'unauthorized', actions: assign({ error: errorText }) },
      },
    },
    awaitingSignUp: {
      on: {
        SIGN_UP: { target: 'signingUp' },
        CANCEL: { target: 'unauthorized', actions: 'clearError' },
      },
    },
    signingUp: {
      invoke: {
        id: 'signUp',
        src: 'signUp',
        input: ({ context, event }) => ({
          runtime: context.runtime,
          phone: context.phone ?? '',
          phoneCodeHash: context.phoneCodeHash ?? '',
          firstName: event.type === 'SIGN_UP' ? event.firstName : '',
          lastName: event.type === 'SIGN_UP' ? (event.lastName ?? '') : '',
        }),
        onDone: { target: 'authorized', actions: 'setAuthorized' },
        onError: [
          { guard: 'passwordNeeded', target: 'awaitingPassword', actions: 'enterPasswordStep' },
          { target: 'unauthorized', actions: assign({ error: errorText }) },
        ],
      },
    },
    authorized: {
      on: {
        LOG_OUT: 'loggingOut',
        SESSION_REVOKED: { target: 'loggedOut', actions: assign({ loggedOutReason: ({ event }) => event.reason, userId: undefined, user: undefined }) },
      },
    },
    loggingOut: {
      invoke: {
        id: 'logOut',
        src: 'logOut',
        input: ({ context }) => ({ runtime: context.runtime }),
        onDone: { target: 'loggedOut', actions: assign({ loggedOutReason: 'logged out by the user', userId: undefined, user: undefined }) },
        onError: { target: 'loggedOut', actions: assign({ loggedOutReason: 'logged out by the user', error: errorText, userId: undefined, user: undefined }) },
      },
    },
    loggedOut: {
      on: { LOGIN: { target: 'sendingCode', actions: [assign({ phone: ({ event }) => event.phone }), 'clearError'] } },
    },
    failed: {
      on: { START: { target: 'connecting', actions: 'clearError' } },
    },
    stopped: { type: 'final' },
  },
});

export type ClientMachine = typeof clientMachine;
