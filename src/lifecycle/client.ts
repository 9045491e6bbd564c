// createDcClient: the facade the CLI, the extension and the benchmark use. It builds the ClientRuntime and the
// client actor, turns every actor transition into a 'state' trace event (linked to the call that caused it), and
// offers promise-based start/login/call/logOut/stop beside the event-driven actor.
import { createActor, waitFor, type Actor, type InspectionEvent } from 'xstate';
import type { DcPool } from '../dc/pool';
import type { ProfileName } from '../dc/profile';
import type { Topology } from '../dc/topology';
import { sharedDecryptPool } from '../mtproto/decrypt-pool';
import type { TlObject } from '../tl/types';
import { clientMachine, type ClientEvent } from './client-machine';
import { LifecycleError } from './errors';
import { ClientRuntime, type CallOptions, type ClientRuntimeOptions } from './runtime';
import { sessionStateName } from './session-machine';
import { memoryLifecycleStore, type LifecycleStore } from './store';

/** The runtime's options (documented there), with the store optional and the actor's inspection hook added. */
export interface DcClientOptions extends Omit<ClientRuntimeOptions, 'store'> {
  /** src/storage's ProfileStore fits; in memory when absent. */
  store?: LifecycleStore;
  /** XState inspection of the client actor and its session actors (called after the built-in trace hook). */
  inspect?: (e: InspectionEvent) => void;
}

export interface DcStatusEntry {
  dcId: number;
  hasKey: boolean;
  authorized: boolean;
  connected: boolean;
  /** Session actor state: 'disconnected' | 'connecting' | 'creatingKey' | 'ready' | 'reconnecting' ('none' before any use). */
  session: string;
  latencyMs?: number;
}

export interface DcStatus {
  state: string;
  profile: ProfileName;
  homeDc: number;
  userId?: string;
  authorizedDcs: number[];
  dcs: DcStatusEntry[];
  topology?: Topology;
  error?: string;
  loggedOutReason?: string;
}

export interface LoginOptions {
  phone: string;
  code: () => Promise<string>;
  password?: (hint?: string) => Promise<string>;
  signUp?: () => Promise<{ firstName: string; lastName?: string }>;
  /** Wrong codes / passwords accepted before giving up (default 3). */
  maxAttempts?: number;
}

export type ClientActor = Actor<typeof clientMachine>;

export interface DcClient {
  readonly actor: ClientActor;
  readonly runtime: ClientRuntime;
  readonly pool: DcPool;
  start(): Promise<DcStatus>;
  login(opts: LoginOptions): Promise<TlObject>;
  sendEvent(e: ClientEvent): void;
  call<T = unknown>(method: TlObject, opts?: Pick<CallOptions, 'dcId' | 'timeoutMs' | 'route'>): Promise<T>;
  status(): DcStatus;
  /** Known DC ids (profile + topology), ascending. */
  dcIds(): number[];
  ping(dcId?: number): Promise<number>;
  prewarm(dcIds?: number[]): Promise<void>;
  /** Resolves when the pre-warming started after getConfig is done. */
  prewarmed(): Promise<void>;
  logOut(): Promise<void>;
  /** destroy_auth_key on every DC holding one of our keys, then the keys are dropped (see ClientRuntime.forgetKeys). */
  forgetKeys(): Promise<Map<number, string>>;
  stop(): Promise<void>;
}

function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    return v === undefined ? String(k) : `${k}.${stateName(v)}`;
  }
  return String(value);
}

export function createDcClient(opts: DcClientOptions): DcClient {
  const store = opts.store ?? memoryLifecycleStore();
  const runtime = new ClientRuntime({
    profile: opts.profile,
    store,
    ...(opts.trace ? { trace: opts.trace } : {}),
    ...(opts.prewarm !== undefined ? { prewarm: opts.prewarm } : {}),
    ...(opts.floodWaitThreshold !== undefined ? { floodWaitThreshold: opts.floodWaitThreshold } : {}),
    ...(opts.maxRedirects !== undefined ? { maxRedirects: opts.maxRedirects } : {}),
    ...(opts.authBytesRetries !== undefined ? { authBytesRetries: opts.authBytesRetries } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.onWire ? { onWire: opts.onWire } : {}),
    ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    ...(opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {}),
    ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}),
  });

  // Every transition of the client and of the session actors becomes a 'state' event.
  const lastState = new Map<string, string>();
  const inspect = (ev: InspectionEvent): void => {
    traceTransition(ev);
    if (opts.inspect) {
      try {
        opts.inspect(ev);
      } catch {
        // observers must not break the client
      }
    }
  };
  const traceTransition = (ev: InspectionEvent): void => {
    if (ev.type !== '@xstate.snapshot') return;
    const snap = ev.snapshot as { value?: unknown; context?: { dcId?: number; cause?: number } };
    if (snap.value === undefined) return;
    const id = (ev.actorRef as { id?: string; sessionId: string }).id ?? ev.actorRef.sessionId;
    const isSession = !!snap.context && typeof snap.context.dcId === 'number' && id !== 'client';
    const to = isSession ? sessionStateName(snap.value) : stateName(snap.value);
    const from = lastState.get(id);
    if (from === to) return;
    lastState.set(id, to);
    if (from === undefined && (to === 'idle' || to === 'disconnected')) return;
    const parentId = isSession ? snap.context?.cause : runtime.currentCallId;
    runtime.emit({
      kind: 'state',
      name: isSession ? `DC${snap.context!.dcId} session: ${to}` : `client: ${to}`,
      ...(isSession ? { dcId: snap.context!.dcId! } : { dcId: runtime.homeDc }),
      from: from ?? 'none',
      to,
      ...(parentId !== undefined ? { parentId } : {}),
    });
  };

  const actor = createActor(clientMachine, { input: { runtime }, inspect, id: 'client' });
  runtime.onPoolEvent = (e) => {
    if (actor.getSnapshot().status === 'active') actor.send({ type: 'POOL', event: e });
  };
  runtime.onRevoked = (reason) => {
    if (actor.getSnapshot().status === 'active') actor.send({ type: 'SESSION_REVOKED', reason });
  };

  const settled = (s: { value: unknown; status: string }): boolean =>
    s.status !== 'active' || ['authorized', 'unauthorized', 'failed', 'loggedOut'].includes(stateName(s.value));

  const client: DcClient = {
    actor,
    runtime,
    pool: runtime.pool,

    async start() {
      if (actor.getSnapshot().status === 'active' && stateName(actor.getSnapshot().value) !== 'idle' && stateName(actor.getSnapshot().value) !== 'failed') {
        throw new LifecycleError('BAD_STATE', `start(): the client is already ${stateName(actor.getSnapshot().value)}`);
      }
      // the decrypt workers boot while the client connects, not when the first file part arrives
      sharedDecryptPool()?.warm();
      actor.start();
      actor.send({ type: 'START' });
      const snap = await waitFor(actor, settled, { timeout: Infinity });
      if (snap.value === 'failed') throw new LifecycleError('BAD_STATE', `start failed: ${snap.context.error ?? 'unknown error'}`);
      return client.status();
    },

    async login(lo) {
      const now = actor.getSnapshot();
      const st = stateName(now.value);
      if (st === 'authorized') throw new LifecycleError('BAD_STATE', 'login(): already authorized (log out first)');
      if (st !== 'unauthorized' && st !== 'loggedOut') throw new LifecycleError('BAD_STATE', `login(): the client is ${st}; call start() first`);
      const max = lo.maxAttempts ?? 3;
      let codes = 0;
      let passwords = 0;
      actor.send({ type: 'LOGIN', phone: lo.phone });
      for (;;) {
        const snap = await waitFor(
          actor,
          (s) =>
            s.status !== 'active' ||
            ['awaitingCode', 'awaitingPassword', 'awaitingSignUp', 'authorized', 'unauthorized', 'loggedOut'].includes(stateName(s.value)),
          { timeout: Infinity },
        );
        const s = stateName(snap.value);
        if (snap.status !== 'active') throw new LifecycleError('STOPPED', 'the client stopped during login');
        if (s === 'authorized') return snap.context.user ?? ({ _: 'user', id: snap.context.userId } as TlObject);
        if (s === 'unauthorized' || s === 'loggedOut') throw new LifecycleError('LOGIN_FAILED', `login failed: ${snap.context.error ?? 'unknown error'}`);
        try {
          if (s === 'awaitingCode') {
            if (++codes > max) throw new LifecycleError('LOGIN_FAILED', `login failed: ${snap.context.error ?? 'wrong code'} (${max} attempts)`);
            actor.send({ type: 'CODE', code: await lo.code() });
          } else if (s === 'awaitingPassword') {
            if (!lo.password) throw new LifecycleError('LOGIN_FAILED', 'login failed: the account has a 2FA password and no password callback was given');
            if (++passwords > max) throw new LifecycleError('LOGIN_FAILED', `login failed: ${snap.context.error ?? 'wrong password'} (${max} attempts)`);
            actor.send({ type: 'PASSWORD', password: await lo.password(snap.context.passwordHint) });
          } else if (s === 'awaitingSignUp') {
            if (!lo.signUp) throw new LifecycleError('LOGIN_FAILED', 'login failed: the number is not registered and no signUp callback was given');
            const n = await lo.signUp();
            actor.send({ type: 'SIGN_UP', firstName: n.firstName, ...(n.lastName !== undefined ? { lastName: n.lastName } : {}) });
          }
        } catch (e) {
          if (actor.getSnapshot().status === 'active') actor.send({ type: 'CANCEL' });
          throw e;
        }
      }
    },

    sendEvent(e) {
      actor.send(e);
    },

    call(method, co = {}) {
      return runtime.call(method, co);
    },

    status() {
      const snap = actor.getSnapshot();
      const ids = client.dcIds();
      const sessions = snap.context.sessions;
      const dcs: DcStatusEntry[] = ids.map((dcId) => {
        const ref = sessions[String(dcId)];
        const ss = ref?.getSnapshot();
        const latency = ss?.context.latencyMs ?? runtime.pool.latency(dcId);
        return {
          dcId,
          hasKey: runtime.pool.hasKey(dcId) === true,
          authorized: runtime.authorized && runtime.authorizedDcs.has(dcId),
          connected: runtime.pool.isConnected(dcId),
          session: ss ? sessionStateName(ss.value) : 'none',
          ...(latency !== undefined ? { latencyMs: latency } : {}),
        };
      });
      return {
        state: snap.status === 'active' ? stateName(snap.value) : snap.status === 'done' ? 'stopped' : snap.status,
        profile: opts.profile.name,
        homeDc: runtime.homeDc,
        ...(runtime.authorized && runtime.userId !== undefined ? { userId: String(runtime.userId) } : {}),
        authorizedDcs: runtime.authorized ? [...runtime.authorizedDcs].sort((a, b) => a - b) : [],
        dcs,
        ...(runtime.topology ? { topology: runtime.topology } : {}),
        ...(snap.context.error ? { error: snap.context.error } : {}),
        ...(snap.context.loggedOutReason ? { loggedOutReason: snap.context.loggedOutReason } : {}),
      };
    },

    dcIds() {
      const ids = new Set(opts.profile.dcs.map((d) => d.id));
      for (const e of runtime.topology?.endpoints ?? []) if (!e.cdn && !e.mediaOnly) ids.add(e.id);
      return [...ids].sort((a, b) => a - b);
    },

    ping(dcId) {
      return runtime.pool.ping(dcId ?? runtime.homeDc);
    },

    prewarm(dcIds) {
      return runtime.prewarm((dcIds ?? client.dcIds()).filter((d) => d !== runtime.homeDc));
    },

    prewarmed() {
      return runtime.prewarming;
    },

    async logOut() {
      const st = stateName(actor.getSnapshot().value);
      if (st !== 'authorized') throw new LifecycleError('BAD_STATE', `logOut(): the client is ${st}`);
      actor.send({ type: 'LOG_OUT' });
      await waitFor(actor, (s) => s.status !== 'active' || stateName(s.value) === 'loggedOut', { timeout: Infinity });
    },

    async forgetKeys() {
      const wasAuthorized = stateName(actor.getSnapshot().value) === 'authorized';
      const answers = await runtime.forgetKeys();
      // without its keys the login is gone: the machine says so, with the reason
      if (wasAuthorized && actor.getSnapshot().status === 'active') actor.send({ type: 'SESSION_REVOKED', reason: 'keys forgotten (destroy_auth_key)' });
      return answers;
    },

    async stop() {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'STOP' });
      await runtime.stop();
    },
  };
  return client;
}
