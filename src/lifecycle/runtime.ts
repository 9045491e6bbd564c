// ClientRuntime: the I/O behind the client machine. It owns the DcPool, the home DC, the authorization state and
// the persistence, and routes every call. What an rpc_error means is decided by the table in error-policy.ts; this
// file carries the reaction out: redirects (PHONE/NETWORK_MIGRATE switch home at login, USER_MIGRATE exports to X,
// STATS/FILE_MIGRATE send this call to X), *_WAIT_X countdowns, the 401 family (home → logged out; another DC →
// transfer again once), AUTH_KEY_DUPLICATED (new key), CONNECTION_NOT_INITED (initConnection again), server errors
// (backoff, only for calls safe to repeat), SESSION_PASSWORD_NEEDED (the 2FA step). Transfers to a non-home DC run
// one export at a time per DC and are cached; AUTH_BYTES_INVALID is retried. Every step is a trace event linked by
// parentId to the call that caused it. Secrets never enter an event: payloads go through safePayload() first.
import { srpProof } from '../crypto/srp';
import { DcPool, type DcPoolEvent } from '../dc/pool';
import type { Profile } from '../dc/profile';
import { dcIdsOf, topologyExpired, topologyFromConfig, type Topology } from '../dc/topology';
import { RpcError } from '../mtproto/errors';
import type { WireEvent } from '../mtproto/wire-event';
import type { TlObject } from '../tl/types';
import type { TraceEvent, TraceEventInput } from '../trace/event';
import { backoffMs, classifyRpcError, innermostMethod, repeatSafety, SERVER_RETRY } from './error-policy';
import { LifecycleError } from './errors';
import { keyStoreOf, type LifecycleStore } from './store';

/** What the runtime reports: a trace event (the same object the TraceStore got, or an equivalent with our own id). */
export type LifecycleEvent = TraceEvent;

/** The part of src/trace's TraceStore the runtime uses. */
export interface TraceSink {
  add(input: TraceEventInput): { id: number };
}

export interface ClientRuntimeOptions {
  profile: Profile;
  store: LifecycleStore;
  trace?: TraceSink;
  /** Create keys for the other DCs after help.getConfig: true = every main DC, or a list. */
  prewarm?: boolean | number[];
  /** FLOOD_WAIT_X with X ≤ this (seconds) is waited out; above it the call fails. Default 30. */
  floodWaitThreshold?: number;
  /** Redirect hops per call before TOO_MANY_REDIRECTS (default 5). */
  maxRedirects?: number;
  /** Extra export+import attempts after AUTH_BYTES_INVALID (default 2). */
  authBytesRetries?: number;
  onEvent?: (e: LifecycleEvent) => void;
  onWire?: (e: WireEvent) => void;
  callTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Keepalive interval and read deadline of the DC connections (defaults 60 s / 20 s). */
  pingIntervalMs?: number;
  readTimeoutMs?: number;
}

export interface CallOptions {
  /** Target DC (default: home). */
  dcId?: number;
  timeoutMs?: number;
  /** Trace id of the event that caused this call. */
  parentId?: number;
  /** Filled in as the call is routed: its root event and every DC it was sent to (see routedCall in call.ts). */
  route?: CallRoute;
}

/** One DC a call was sent to; `redirect` is the answer that sent it on (`FILE_MIGRATE_4`, …), absent for the last. */
export interface CallHop {
  dcId: number;
  redirect?: string;
}

/** Where a call went, as the router knows it (not read back from the trace). */
export interface CallRoute {
  /** Id of the call's root event (the trace's id when the client writes to a trace). */
  rootId?: number;
  hops: CallHop[];
}

/** Methods that need no authorization (no transfer before them on a non-home DC). */
const NO_AUTH_METHODS = new Set([
  'help.getConfig',
  'help.getNearestDc',
  'help.getCdnConfig',
  'auth.sendCode',
  'auth.resendCode',
  'auth.cancelCode',
  'auth.signIn',
  'auth.signUp',
  'auth.importAuthorization',
  'auth.exportAuthorization',
  'account.getPassword',
  'auth.checkPassword',
]);

const SECRET_FIELDS = new Set([
  'phone_code',
  'password',
  'api_hash',
  'bytes',
  'A',
  'M1',
  'srp_B',
  'new_password_hash',
  'phone_code_hash',
  'secure_secret',
  'new_algo',
  'current_algo',
  'salt1',
  'salt2',
  'p',
]);

/** A copy of a TL value with secret fields and byte strings replaced by markers. */
export function safePayload(v: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (v instanceof Uint8Array) return `[${v.length} bytes]`;
  if (Array.isArray(v)) return v.slice(0, 50).map((x) => safePayload(x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = SECRET_FIELDS.has(k) ? '[redacted]' : safePayload(x, depth + 1);
    return out;
  }
  return v;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Waits of one call before it fails (each under the threshold). */
const MAX_WAITS = 3;

export type SignInOutcome =
  | { kind: 'authorized'; user: TlObject }
  | { kind: 'signUpRequired' }
  | { kind: 'passwordNeeded'; hint?: string }
  | { kind: 'codeInvalid'; error: string };

export type PasswordOutcome = { kind: 'authorized'; user: TlObject } | { kind: 'passwordInvalid'; error: string };

export class ClientRuntime {
  readonly profile: Profile;
  readonly store: LifecycleStore;
  readonly pool: DcPool;
  homeDc: number;
  userId: bigint | undefined;
  user: TlObject | undefined;
  authorized = false;
  topology: Topology | undefined;
  readonly authorizedDcs = new Set<number>();
  /** Id of the root call of the login step running now (client transitions link to it). */
  currentCallId: number | undefined;
  /** Pre-warming started after getConfig (resolved when done). */
  prewarming: Promise<void> = Promise.resolve();
  /** Set by the facade: AUTH_KEY_UNREGISTERED on the home DC. */
  onRevoked: ((reason: string) => void) | undefined;
  /** Set by the facade: pool events to forward to the session actors. */
  onPoolEvent: ((e: DcPoolEvent) => void) | undefined;
  private readonly opts: ClientRuntimeOptions;
  private readonly transfers = new Map<number, Promise<void>>();
  /** Per DC: how many times its key was replaced after its login moved away, and the replacement running. */
  private readonly movedLogins = new Map<number, { gen: number; running?: Promise<void> }>();
  private refreshing: Promise<boolean> | undefined;
  /** Pending flood-wait countdowns (stop() rejects them). */
  private readonly cancels = new Set<() => void>();
  private ownIds = 0;
  private stopped = false;

  constructor(opts: ClientRuntimeOptions) {
    this.opts = opts;
    this.profile = opts.profile;
    this.store = opts.store;
    this.homeDc = opts.profile.firstDc;
    this.pool = new DcPool({
      profile: opts.profile,
      keys: keyStoreOf(opts.store),
      onEvent: (e) => this.onPool(e),
      // a refresh already running is the one that failed to reach this DC: waiting for it would deadlock
      refreshTopology: (dcId, reason) => (this.refreshing ? Promise.resolve(false) : this.refreshTopology(reason, dcId)),
      ...(opts.onWire ? { onWire: opts.onWire } : {}),
      ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
      ...(opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {}),
      ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}),
    });
  }

  get floodWaitThreshold(): number {
    return this.opts.floodWaitThreshold ?? 30;
  }

  // ------------------------------------------------------------------ events

  /** Records one lifecycle event (trace + onEvent) and returns its id. */
  emit(input: TraceEventInput): number {
    const clean: TraceEventInput = { ...input };
    if ('payload' in clean) clean.payload = safePayload(clean.payload);
    let ev: TraceEvent;
    if (this.opts.trace) {
      const added = this.opts.trace.add(clean);
      ev = { ...clean, ...(added as object), id: added.id, time: (added as { time?: number }).time ?? Date.now() } as TraceEvent;
    } else {
      ev = { ...clean, id: ++this.ownIds, time: clean.time ?? Date.now() } as TraceEvent;
    }
    try {
      this.opts.onEvent?.(ev);
    } catch {
      // observers must not break the client
    }
    return ev.id;
  }

  private onPool(e: DcPoolEvent): void {
    const base = { dcId: e.dcId, ...(e.connId ? { connId: e.connId } : {}), ...(e.parentId !== undefined ? { parentId: e.parentId } : {}) };
    switch (e.type) {
      case 'connecting':
        this.emit({ kind: 'state', name: 'connect', ...base, ...(e.address ? { note: e.address } : {}) });
        break;
      case 'key-created':
        this.emit({ kind: 'key', name: 'auth key', ...base, ...(e.roundTrips !== undefined ? { roundTrips: e.roundTrips } : {}) });
        break;
      case 'key-reused':
        this.emit({ kind: 'state', name: 'stored auth key', ...base, note: 'no handshake' });
        break;
      case 'key-dropped':
        this.emit({ kind: 'key', name: 'auth key dropped', ...base, ...(e.reason ? { note: e.reason } : {}) });
        if (this.authorizedDcs.delete(e.dcId)) void this.persistAuthorized();
        break;
      case 'closed':
        this.emit({ kind: 'state', name: 'disconnected', ...base, ...(e.reason ? { note: e.reason } : {}) });
        break;
      case 'endpoint-failed':
        this.emit({ kind: 'state', name: 'endpoint failed', ...base, note: `${e.address ?? '?'}: ${e.reason ?? 'no answer'}` });
        break;
      case 'reconnecting':
        this.emit({
          kind: 'state',
          name: 'reconnect',
          ...base,
          note: `attempt ${e.attempt ?? 1} in ${e.ms ?? 0} ms${e.code !== undefined ? ` after transport error ${e.code}` : ''}`,
        });
        break;
      case 'transport-error':
        this.emit({ kind: 'error', name: `transport error ${e.code ?? '?'}`, ...base, ...(e.reason ? { note: e.reason } : {}) });
        break;
      case 'new-session':
        this.emit({ kind: 'state', name: 'new session', ...base, ...(e.reason ? { note: e.reason } : {}) });
        break;
      case 'latency':
        this.emit({ kind: 'state', name: 'ping', ...base, ...(e.ms !== undefined ? { durationMs: e.ms } : {}) });
        break;
      default:
        break;
    }
    try {
      this.onPoolEvent?.(e);
    } catch {
      // ignore
    }
  }

  // ------------------------------------------------------------------ persistence

  private async persistAuthorized(): Promise<void> {
    await this.store.setAuthorizedDcs([...this.authorizedDcs]).catch(() => undefined);
  }

  private async setHome(dcId: number, parentId: number | undefined, why: string): Promise<void> {
    if (dcId === this.homeDc) return;
    const from = this.homeDc;
    this.homeDc = dcId;
    this.emit({ kind: 'state', name: 'home DC', dcId, from: `DC${from}`, to: `DC${dcId}`, note: why, ...(parentId !== undefined ? { parentId } : {}) });
    await this.store.setHomeDc(dcId);
  }

  // ------------------------------------------------------------------ start

  /** Loads the persisted state and connects to the home DC (stored key: no handshake). */
  async connectHome(): Promise<{ homeDc: number; authorized: boolean; userId?: bigint }> {
    this.assertRunning();
    const [home, userId, authorizedDcs, options, keyed] = await Promise.all([
      this.store.getHomeDc(),
      this.store.getUserId(),
      this.store.getAuthorizedDcs(),
      this.store.getDcOptions<Topology>(),
      this.store.listDcKeys(),
    ]);
    this.pool.noteStoredKeys(keyed);
    if (home !== undefined && this.profile.dcs.some((d) => d.id === home)) this.homeDc = home;
    else this.homeDc = this.profile.firstDc;
    if (options && isTopology(options.options)) {
      this.topology = options.options;
      this.pool.setTopology(options.options);
    }
    this.authorizedDcs.clear();
    for (const d of authorizedDcs) this.authorizedDcs.add(d);
    this.authorized = userId !== undefined && this.authorizedDcs.has(this.homeDc);
    this.userId = this.authorized ? userId : undefined;
    const id = this.emit({
      kind: 'state',
      name: 'start',
      dcId: this.homeDc,
      note: this.authorized ? `resuming user ${String(userId)} on DC${this.homeDc}` : `first DC ${this.homeDc}`,
    });
    await this.pool.get(this.homeDc, { parentId: id });
    return { homeDc: this.homeDc, authorized: this.authorized, ...(this.userId !== undefined ? { userId: this.userId } : {}) };
  }

  /** help.getConfig on the home DC → topology (persisted), then optional pre-warming. */
  async fetchConfig(): Promise<Topology> {
    const config = await this.call<TlObject>({ _: 'help.getConfig' }, { track: true });
    const topology = topologyFromConfig(config);
    this.topology = topology;
    this.pool.setTopology(topology);
    await this.store.setDcOptions(topology);
    const pw = this.opts.prewarm;
    if (pw) {
      const dcs = (Array.isArray(pw) ? pw : dcIdsOf(topology)).filter((d) => d !== this.homeDc);
      this.prewarming = this.prewarm(dcs);
    }
    return topology;
  }

  /**
   * help.getConfig again (its `expires` passed, or every endpoint of a DC failed): through the home DC, or through
   * another DC when the home one is the unreachable one. True when the endpoints changed. One refresh at a time.
   */
  refreshTopology(reason: string, unreachableDc?: number): Promise<boolean> {
    this.refreshing ??= this.runRefresh(reason, unreachableDc).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async runRefresh(reason: string, unreachableDc: number | undefined): Promise<boolean> {
    const before = JSON.stringify(this.topology?.endpoints ?? []);
    const known = this.topology ? dcIdsOf(this.topology) : this.profile.dcs.map((d) => d.id);
    const via = [this.homeDc, ...known].filter((d, i, all) => d !== unreachableDc && all.indexOf(d) === i);
    const id = this.emit({ kind: 'state', name: 'config refresh', dcId: via[0] ?? this.homeDc, note: reason });
    for (const dc of via) {
      try {
        const config = await this.pool.invoke<TlObject>(dc, { _: 'help.getConfig' }, { parentId: id, timeoutMs: 15_000 });
        const topology = topologyFromConfig(config);
        this.topology = topology;
        this.pool.setTopology(topology);
        await this.store.setDcOptions(topology);
        const changed = JSON.stringify(topology.endpoints) !== before;
        this.emit({ kind: 'state', name: 'config', dcId: dc, parentId: id, note: changed ? 'dc_options changed' : 'dc_options unchanged' });
        return changed;
      } catch (e) {
        this.emit({ kind: 'error', name: 'config refresh failed', dcId: dc, parentId: id, note: errText(e) });
      }
    }
    return false;
  }

  /** A config past its `expires` is read again in the background (calls do not wait for it). */
  private refreshIfExpired(): void {
    if (this.topology && !this.refreshing && topologyExpired(this.topology))
      void this.refreshTopology(`the config expired at ${new Date(this.topology.expires! * 1000).toISOString()}`);
  }

  async prewarm(dcIds: number[]): Promise<void> {
    if (dcIds.length === 0) return;
    const id = this.emit({ kind: 'state', name: 'prewarm', dcId: this.homeDc, note: `auth keys for DC ${dcIds.join(', ')}` });
    const res = await this.pool.prewarm(dcIds, { parentId: id });
    for (const [dc, r] of res) if (r instanceof Error) this.emit({ kind: 'error', name: 'prewarm failed', dcId: dc, parentId: id, note: r.message });
  }

  // ------------------------------------------------------------------ routed calls

  /**
   * Runs a method on the home DC (or opts.dcId) and follows what the server says. `track` marks a login-step call
   * (the client machine's next transition links to it).
   */
  async call<T = unknown>(method: TlObject, opts: CallOptions & { track?: boolean } = {}): Promise<T> {
    this.assertRunning();
    if (method._ !== 'help.getConfig') this.refreshIfExpired();
    const explicit = opts.dcId !== undefined;
    let target = opts.dcId ?? this.homeDc;
    const rootId = this.emit({
      kind: 'call',
      name: method._,
      dcId: target,
      payload: method,
      ...(opts.parentId !== undefined ? { parentId: opts.parentId } : {}),
    });
    if (opts.track) this.currentCallId = rootId;
    const route = opts.route;
    if (route) {
      route.rootId = rootId;
      route.hops.push({ dcId: target });
    }
    /** The DC that was asked last answered `redirect`; the call goes to `to` next (none when the chain ends there). */
    const routed = (redirect: string, to?: number): void => {
      if (!route) return;
      const last = route.hops[route.hops.length - 1];
      if (last) last.redirect = redirect;
      if (to !== undefined) route.hops.push({ dcId: to });
    };
    const chain = [`${method._} @DC${target}`];
    const homeAtStart = this.homeDc;
    const visited = new Set<number>([target]);
    let hops = 0;
    let floods = 0;
    let zeroWaits = 0;
    let reauth = 0;
    let keyDrops = 0;
    let reinits = 0;
    let serverRetries = 0;
    let callId = rootId;
    const timeout = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
    const repeat = (note: string): number => this.emit({ kind: 'call', name: method._, dcId: target, parentId: rootId, note });
    let stays = 0;
    for (;;) {
      const started = Date.now();
      const loginGen = this.movedLoginGen(target);
      try {
        if (this.authorized && target !== this.homeDc && !NO_AUTH_METHODS.has(method._)) await this.ensureAuthorized(target, rootId);
        const res = await this.pool.invoke<T>(target, method, { parentId: rootId, ...timeout });
        this.emit({ kind: 'result', name: resultName(res), dcId: target, parentId: callId, durationMs: Date.now() - started, payload: res });
        return res;
      } catch (e) {
        if (!(e instanceof RpcError)) {
          if (!(e instanceof LifecycleError))
            this.emit({ kind: 'error', name: e instanceof Error ? e.name : 'Error', dcId: target, parentId: callId, note: errText(e) });
          throw e;
        }
        const err = e.errorMessage;
        const cls = classifyRpcError(e.code, err);
        const x = cls.value;
        // the reaction is told in the error event's note; redirects and waits have their own event kinds
        const failed = (note?: string): void => {
          this.emit({ kind: 'error', name: err, dcId: target, parentId: callId, durationMs: Date.now() - started, ...(note ? { note } : {}) });
        };
        switch (cls.reaction) {
          case 'redirect': {
            if (x === undefined) break;
            if (e.kind === 'USER_MIGRATE' && explicit && this.authorized && x !== target && stays < 1) {
              // the call was asked for this DC (a file's parts live there): the login moves to X, this DC's key
              // (whose login that was) is replaced by one authorized from X, and the call repeats here
              stays += 1;
              this.emit({
                kind: 'redirect',
                name: err,
                dcId: target,
                targetDc: x,
                parentId: rootId,
                note: `home moves to DC${x}; the call stays on DC${target}, with a new key there`,
              });
              await this.migrateUser(x, rootId, err);
              await this.replaceMovedLogin(target, loginGen, rootId, `${err}: the login on DC${target} moved to DC${x}`);
              routed(err, target);
              callId = repeat(`repeated on DC${target} after ${err}`);
              continue;
            }
            hops += 1;
            chain.push(`${err} → DC${x}`);
            const loop = visited.has(x);
            if (loop || hops > this.maxRedirects) {
              const code = loop ? 'REDIRECT_LOOP' : 'TOO_MANY_REDIRECTS';
              routed(err);
              this.emit({ kind: 'error', name: code, dcId: target, parentId: rootId, note: chain.join(' → ') });
              // a redirect chain that failed does not leave the home DC switched half-way (whichever hop switched it:
              // the DC the chain started from still holds the login)
              if (homeAtStart !== this.homeDc) await this.setHome(homeAtStart, rootId, `${code}: back to DC${homeAtStart}`);
              const msg = loop
                ? `redirect loop for ${method._}: ${chain.join(' → ')}`
                : `more than ${this.maxRedirects} redirects for ${method._}: ${chain.join(' → ')}`;
              throw new LifecycleError(code, msg, { chain, dcId: x, cause: e });
            }
            visited.add(x);
            this.emit({ kind: 'redirect', name: err, dcId: target, targetDc: x, parentId: rootId });
            if (e.kind === 'PHONE_MIGRATE' || e.kind === 'NETWORK_MIGRATE') {
              // logged in, a new home without the authorization would be a logout: it moves along, as for USER_MIGRATE
              if (!explicit) await (this.authorized ? this.migrateUser(x, rootId, err) : this.setHome(x, rootId, err));
            } else if (e.kind === 'USER_MIGRATE') {
              await this.migrateUser(x, rootId, err);
            }
            target = x;
            routed(err, target);
            await this.pool.get(target, { parentId: rootId });
            callId = repeat(`repeated after ${err}`);
            continue;
          }
          case 'wait': {
            if (x === undefined) break;
            const fail = (note: string, message: string): LifecycleError => {
              this.emit({ kind: 'flood-wait', name: err, dcId: target, waitSeconds: x, parentId: rootId, note });
              return new LifecycleError('FLOOD_WAIT', `${method._} on DC ${target}: ${message}`, { waitSeconds: x, dcId: target, cause: e });
            };
            if (x > this.floodWaitThreshold) {
              throw fail(`over the ${this.floodWaitThreshold} s threshold: failing`, `${err} (wait ${x} s; threshold ${this.floodWaitThreshold} s)`);
            }
            if (x === 0 && ++zeroWaits > 1) throw fail('0 s again: failing', `${err} again after an immediate retry`);
            floods += 1;
            if (floods > MAX_WAITS)
              throw fail(`again after ${MAX_WAITS} waits: failing`, `${err} again after ${MAX_WAITS} waits (threshold ${this.floodWaitThreshold} s)`);
            await this.countdown(x, target, rootId, err);
            callId = repeat(`repeated after ${err}`);
            continue;
          }
          case 'reauthorize':
            if (this.authorized && target === this.homeDc) {
              failed('the home DC ended the authorization: logged out');
              await this.revoke(`${err} from ${method._} on home DC ${target}: ${cls.rule.why}`, rootId);
              throw new LifecycleError('LOGGED_OUT', `logged out: the home DC ${target} answered ${err} to ${method._} (${cls.rule.why})`, {
                dcId: target,
                cause: e,
              });
            }
            if (this.authorized && target !== this.homeDc && reauth < 1) {
              reauth += 1;
              failed(`DC${target} lost the imported authorization: transferring again, then repeating once`);
              this.authorizedDcs.delete(target);
              await this.persistAuthorized();
              callId = repeat('repeated after a new transfer');
              continue;
            }
            failed(this.authorized ? 'again after a new transfer: not repeated' : 'not logged in');
            throw e;
          case 'account-gone':
            if (this.authorized) {
              failed('the account or all its sessions are gone: logged out on every DC, not repeated');
              await this.revoke(`${err} from ${method._} on DC ${target}: ${cls.rule.why}`, rootId);
              throw new LifecycleError('LOGGED_OUT', `logged out: DC ${target} answered ${err} to ${method._} (${cls.rule.why})`, { dcId: target, cause: e });
            }
            failed('not repeated');
            throw e;
          case 'temp-key-unbound':
            failed('not a logout: the server asks for a temporary key bound to the permanent one; this client uses permanent keys only');
            throw new LifecycleError(
              'TEMP_KEY_UNBOUND',
              `${method._} on DC ${target}: AUTH_KEY_PERM_EMPTY (${cls.rule.why}). This client does not use temporary keys yet, so this answer is unexpected; it is not a logout and the authorization is kept.`,
              { dcId: target, cause: e },
            );
          case 'password-needed':
            if (this.authorized) break;
            failed('2FA: the login continues with the password step');
            throw new LifecycleError('PASSWORD_NEEDED', `${method._} on DC ${target}: SESSION_PASSWORD_NEEDED (${cls.rule.why})`, { dcId: target, cause: e });
          case 'new-key': {
            if (keyDrops >= 1) {
              failed('again on a new key: not repeated');
              throw e;
            }
            keyDrops += 1;
            const endsLogin = this.authorized && target === this.homeDc;
            failed(`the DC${target} auth key is replaced${endsLogin ? '; the new key is not logged in: logged out' : ', then the call is repeated once'}`);
            // the 'auth key dropped' event also takes away the DC's authorized mark (a transfer makes it again)
            await this.pool.dropKey(target, `${err} from ${method._}`, rootId);
            if (endsLogin) {
              await this.revoke(`${err} from ${method._} on home DC ${target}: ${cls.rule.why}`, rootId);
              if (!NO_AUTH_METHODS.has(method._)) {
                throw new LifecycleError('LOGGED_OUT', `logged out: the home DC ${target} answered ${err} to ${method._} (${cls.rule.why})`, {
                  dcId: target,
                  cause: e,
                });
              }
            }
            callId = repeat(`repeated on a new auth key after ${err}`);
            continue;
          }
          case 're-init':
            if (reinits >= 1) {
              failed('again after initConnection: not repeated');
              throw e;
            }
            reinits += 1;
            failed(`the next call on DC${target} is wrapped in invokeWithLayer + initConnection again, then repeated once`);
            this.pool.requireInit(target);
            callId = repeat(`repeated with initConnection after ${err}`);
            continue;
          case 'server-error': {
            const safety = repeatSafety(innermostMethod(method));
            if (!safety.safe) {
              failed(`not retried: not safe to repeat (${safety.why})`);
              throw e;
            }
            if (serverRetries >= SERVER_RETRY.retries) {
              failed(`not retried: ${SERVER_RETRY.retries} retries spent`);
              throw e;
            }
            const ms = backoffMs(serverRetries);
            serverRetries += 1;
            failed(`retry ${serverRetries}/${SERVER_RETRY.retries} in ${ms} ms (${safety.why})`);
            await this.pause(ms, target, err);
            callId = repeat(`repeated after ${err} (retry ${serverRetries}/${SERVER_RETRY.retries})`);
            continue;
          }
          case 'fail':
            break;
        }
        failed();
        throw e;
      }
    }
  }

  private get maxRedirects(): number {
    return this.opts.maxRedirects ?? 5;
  }

  private countdown(seconds: number, dcId: number, parentId: number, name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let remaining = seconds;
      let timer: NodeJS.Timeout | undefined;
      const cancel = (): void => {
        if (timer) clearTimeout(timer);
        this.cancels.delete(cancel);
        reject(new LifecycleError('STOPPED', `the client was stopped during ${name}`, { dcId }));
      };
      this.cancels.add(cancel);
      const tick = (): void => {
        this.emit({ kind: 'flood-wait', name, dcId, waitSeconds: remaining, parentId, note: remaining > 0 ? `retrying in ${remaining} s` : 'retrying now' });
        if (remaining <= 0) {
          this.cancels.delete(cancel);
          resolve();
          return;
        }
        remaining -= 1;
        timer = setTimeout(tick, 1000);
      };
      tick();
    });
  }

  /** A pause before a retry that stop() ends with STOPPED. */
  private pause(ms: number, dcId: number, name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const cancel = (): void => {
        clearTimeout(timer);
        this.cancels.delete(cancel);
        reject(new LifecycleError('STOPPED', `the client was stopped during the pause after ${name}`, { dcId }));
      };
      const timer = setTimeout(() => {
        this.cancels.delete(cancel);
        resolve();
      }, ms);
      this.cancels.add(cancel);
    });
  }

  /** A call on one DC with call/result/error events: no routing, but *_WAIT_X is waited out as in call(). */
  private async rawCall<T>(dcId: number, method: TlObject, parentId: number): Promise<T> {
    const id = this.emit({ kind: 'call', name: method._, dcId, parentId, payload: method });
    let zeros = 0;
    for (let floods = 0; ; floods++) {
      const started = Date.now();
      try {
        const res = await this.pool.invoke<T>(dcId, method, { parentId });
        this.emit({ kind: 'result', name: resultName(res), dcId, parentId: id, durationMs: Date.now() - started, payload: res });
        return res;
      } catch (e) {
        const wait = e instanceof RpcError ? classifyRpcError(e.code, e.errorMessage) : undefined;
        if (
          e instanceof RpcError &&
          wait?.reaction === 'wait' &&
          wait.value !== undefined &&
          wait.value <= this.floodWaitThreshold &&
          floods < MAX_WAITS &&
          (wait.value > 0 || zeros++ === 0)
        ) {
          await this.countdown(wait.value, dcId, id, e.errorMessage);
          continue;
        }
        this.emit({
          kind: 'error',
          name: e instanceof RpcError ? e.errorMessage : e instanceof Error ? e.name : 'Error',
          dcId,
          parentId: id,
          note: errText(e),
        });
        throw e;
      }
    }
  }

  // ------------------------------------------------------------------ transfer and migration

  /** Makes sure DC `dcId` is authorized for the user (export at home → import there); one transfer in flight per DC. */
  ensureAuthorized(dcId: number, parentId?: number): Promise<void> {
    if (dcId === this.homeDc || this.authorizedDcs.has(dcId)) return Promise.resolve();
    if (!this.authorized) return Promise.reject(new LifecycleError('NOT_AUTHORIZED', `cannot transfer to DC ${dcId}: not logged in`, { dcId }));
    return this.transfer(this.homeDc, dcId, parentId);
  }

  private transfer(from: number, to: number, parentId: number | undefined): Promise<void> {
    const inflight = this.transfers.get(to);
    if (inflight) return inflight;
    const p = this.runTransfer(from, to, parentId).finally(() => this.transfers.delete(to));
    this.transfers.set(to, p);
    return p;
  }

  private async runTransfer(from: number, to: number, parentId: number | undefined): Promise<void> {
    const tid = this.emit({ kind: 'transfer', name: 'transfer', dcId: from, targetDc: to, ...(parentId !== undefined ? { parentId } : {}) });
    const attempts = 1 + (this.opts.authBytesRetries ?? 2);
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      let exported: TlObject;
      try {
        exported = await this.rawCall<TlObject>(from, { _: 'auth.exportAuthorization', dc_id: to }, tid);
      } catch (e) {
        if (e instanceof RpcError && e.errorMessage === 'DC_ID_INVALID') {
          if (to === from) return;
          throw new LifecycleError('DC_ID_INVALID', `DC ${from} refused to export an authorization for DC ${to} (DC_ID_INVALID)`, { dcId: to, cause: e });
        }
        const cls = e instanceof RpcError ? classifyRpcError(e.code, e.errorMessage) : undefined;
        if (e instanceof RpcError && cls && (cls.reaction === 'reauthorize' || cls.reaction === 'account-gone') && from === this.homeDc && this.authorized) {
          await this.revoke(`${e.errorMessage} from auth.exportAuthorization on home DC ${from}: ${cls.rule.why}`, tid);
          throw new LifecycleError('LOGGED_OUT', `logged out: the home DC ${from} answered ${e.errorMessage} (${cls.rule.why})`, { dcId: from, cause: e });
        }
        throw new LifecycleError('TRANSFER_FAILED', `transfer DC ${from} → DC ${to}: export failed: ${errText(e)}`, { dcId: to, cause: e });
      }
      try {
        await this.rawCall(to, { _: 'auth.importAuthorization', id: exported.id, bytes: exported.bytes }, tid);
      } catch (e) {
        last = e;
        if (e instanceof RpcError && e.errorMessage === 'AUTH_BYTES_INVALID' && i + 1 < attempts) continue;
        throw new LifecycleError('TRANSFER_FAILED', `transfer DC ${from} → DC ${to}: import failed after ${i + 1} attempt(s): ${errText(e)}`, {
          dcId: to,
          cause: e,
        });
      }
      this.authorizedDcs.add(to);
      await this.persistAuthorized();
      this.emit({ kind: 'state', name: 'authorized', dcId: to, parentId: tid, note: `DC${to} authorized by transfer from DC${from}` });
      return;
    }
    throw new LifecycleError('TRANSFER_FAILED', `transfer DC ${from} → DC ${to} failed: ${errText(last)}`, { dcId: to, cause: last });
  }

  /**
   * USER_MIGRATE_X (or a PHONE/NETWORK_MIGRATE_X once logged in): export at the home DC, which holds the login
   * (the DC that redirected may be one a chain only routed through) → import at X; X becomes home (persisted).
   */
  private async migrateUser(to: number, parentId: number, why: string): Promise<void> {
    if (this.authorized) await this.ensureAuthorized(to, parentId);
    await this.setHome(to, parentId, why);
  }

  private movedLoginGen(dcId: number): number {
    return this.movedLogins.get(dcId)?.gen ?? 0;
  }

  /**
   * Drops DC `dcId`'s key after its login moved away (USER_MIGRATE): the next call there makes a new key and gets
   * the authorization by transfer. Calls sent on the old key (generation `gen`) share one replacement.
   */
  private replaceMovedLogin(dcId: number, gen: number, parentId: number, why: string): Promise<void> {
    let st = this.movedLogins.get(dcId);
    if (!st) this.movedLogins.set(dcId, (st = { gen: 0 }));
    if (st.gen !== gen) return st.running ?? Promise.resolve();
    st.gen += 1;
    const entry = st;
    const p = this.pool.dropKey(dcId, why, parentId).finally(() => {
      if (entry.running === p) entry.running = undefined;
    });
    entry.running = p;
    return p;
  }

  private async revoke(reason: string, parentId: number): Promise<void> {
    this.currentCallId = parentId;
    this.authorized = false;
    this.authorizedDcs.clear();
    await this.persistAuthorized();
    this.emit({ kind: 'state', name: 'logged out', dcId: this.homeDc, parentId, note: reason });
    this.onRevoked?.(reason);
  }

  // ------------------------------------------------------------------ login steps

  /**
   * auth.sendCode. SESSION_PASSWORD_NEEDED here (a logout token matched a 2FA account) rejects with LifecycleError
   * PASSWORD_NEEDED carrying the password hint: the machine goes to the password step without a code.
   */
  async sendCode(phone: string): Promise<{ phoneCodeHash: string; codeLength?: number; codeType?: string; homeDc: number }> {
    let sent: TlObject;
    try {
      sent = await this.call<TlObject>(
        { _: 'auth.sendCode', phone_number: phone, api_id: this.profile.apiId, api_hash: this.profile.apiHash, settings: { _: 'codeSettings' } },
        { track: true },
      );
    } catch (e) {
      if (!isPasswordNeeded(e)) throw e;
      const hint = await this.passwordHint();
      throw new LifecycleError('PASSWORD_NEEDED', e.message, {
        ...(e.dcId !== undefined ? { dcId: e.dcId } : {}),
        ...(hint ? { passwordHint: hint } : {}),
        cause: e.cause,
      });
    }
    if (sent._ === 'auth.sentCodeSuccess') {
      // a future-auth-token login: already authorized
      await this.completeLogin((sent.authorization as TlObject).user as TlObject);
      return { phoneCodeHash: '', homeDc: this.homeDc, codeType: 'success' };
    }
    const type = sent.type as TlObject | undefined;
    return {
      phoneCodeHash: String(sent.phone_code_hash),
      ...(type && typeof type.length === 'number' ? { codeLength: type.length } : {}),
      ...(type ? { codeType: type._ } : {}),
      homeDc: this.homeDc,
    };
  }

  async signIn(phone: string, phoneCodeHash: string, code: string): Promise<SignInOutcome> {
    let res: TlObject;
    try {
      res = await this.call<TlObject>({ _: 'auth.signIn', phone_number: phone, phone_code_hash: phoneCodeHash, phone_code: code }, { track: true });
    } catch (e) {
      if (isPasswordNeeded(e)) {
        const hint = await this.passwordHint();
        return { kind: 'passwordNeeded', ...(hint ? { hint } : {}) };
      }
      if (e instanceof RpcError && (e.errorMessage === 'PHONE_CODE_INVALID' || e.errorMessage === 'PHONE_CODE_EMPTY')) {
        return { kind: 'codeInvalid', error: e.errorMessage };
      }
      throw e;
    }
    if (res._ === 'auth.authorizationSignUpRequired') return { kind: 'signUpRequired' };
    const user = res.user as TlObject;
    await this.completeLogin(user);
    return { kind: 'authorized', user };
  }

  /** account.getPassword's hint, linked to the login step running now; the hint only decorates the prompt, so a failure gives none. */
  private async passwordHint(): Promise<string | undefined> {
    try {
      const info = await this.call<TlObject>({ _: 'account.getPassword' }, this.currentCallId !== undefined ? { parentId: this.currentCallId } : {});
      return typeof info.hint === 'string' && info.hint ? info.hint : undefined;
    } catch (e) {
      if (e instanceof LifecycleError && e.code === 'STOPPED') throw e;
      return undefined;
    }
  }

  async checkPassword(password: string): Promise<PasswordOutcome> {
    const info = await this.call<TlObject>({ _: 'account.getPassword' }, { track: true });
    const algo = info.current_algo as TlObject | undefined;
    if (algo?._ !== 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow') {
      throw new LifecycleError('LOGIN_FAILED', `account.getPassword: unsupported password algorithm ${String(algo?._)}`);
    }
    const proof = srpProof({
      password,
      salt1: algo.salt1 as Uint8Array,
      salt2: algo.salt2 as Uint8Array,
      g: algo.g as number,
      p: algo.p as Uint8Array,
      srpB: info.srp_B as Uint8Array,
      srpId: info.srp_id as bigint,
    });
    let res: TlObject;
    try {
      res = await this.call<TlObject>(
        { _: 'auth.checkPassword', password: { _: 'inputCheckPasswordSRP', srp_id: info.srp_id, A: proof.A, M1: proof.M1 } },
        { parentId: this.currentCallId! },
      );
    } catch (e) {
      if (e instanceof RpcError && e.errorMessage === 'PASSWORD_HASH_INVALID') return { kind: 'passwordInvalid', error: e.errorMessage };
      throw e;
    }
    const user = res.user as TlObject;
    await this.completeLogin(user);
    return { kind: 'authorized', user };
  }

  async signUp(phone: string, phoneCodeHash: string, firstName: string, lastName = ''): Promise<TlObject> {
    const res = await this.call<TlObject>(
      { _: 'auth.signUp', phone_number: phone, phone_code_hash: phoneCodeHash, first_name: firstName, last_name: lastName },
      { track: true },
    );
    const user = res.user as TlObject;
    await this.completeLogin(user);
    return user;
  }

  private async completeLogin(user: TlObject): Promise<void> {
    this.authorized = true;
    this.user = user;
    this.userId = typeof user.id === 'bigint' ? user.id : BigInt(String(user.id));
    this.authorizedDcs.clear();
    this.authorizedDcs.add(this.homeDc);
    await this.store.setHomeDc(this.homeDc);
    await this.store.setUserId(this.userId);
    await this.persistAuthorized();
  }

  /**
   * auth.logOut on every authorized DC other than home (each key carries its own imported authorization), then on
   * home; best effort: a failure is an event of the log-out, not an exception. The authorization is cleared after.
   */
  async logOut(): Promise<void> {
    const home = this.homeDc;
    const others = [...this.authorizedDcs].filter((d) => d !== home).sort((a, b) => a - b);
    const rootId = this.emit({ kind: 'state', name: 'log out', dcId: home, note: `auth.logOut on DC ${[...others, home].join(', ')}` });
    this.currentCallId = rootId;
    const failures: string[] = [];
    const noteFailure = (dcId: number, e: unknown): void => {
      const what = e instanceof RpcError ? e.errorMessage : errText(e);
      failures.push(`DC${dcId}: ${what}`);
      this.emit({ kind: 'state', name: 'log out failed', dcId, parentId: rootId, note: `auth.logOut on DC${dcId} failed (${what}); going on` });
    };
    for (const dcId of others) {
      try {
        await this.rawCall(dcId, { _: 'auth.logOut' }, rootId);
      } catch (e) {
        noteFailure(dcId, e);
      }
    }
    try {
      if (this.authorized) await this.call({ _: 'auth.logOut' }, { parentId: rootId });
    } catch (e) {
      noteFailure(home, e);
    } finally {
      this.authorized = false;
      this.user = undefined;
      this.authorizedDcs.clear();
      await this.persistAuthorized();
      this.emit({
        kind: 'state',
        name: 'logged out',
        dcId: home,
        parentId: rootId,
        note: failures.length ? `by the user; not confirmed by ${failures.join(', ')}` : 'by the user',
      });
    }
  }

  /**
   * Forget keys: destroy_auth_key on every DC that holds one of our keys (the DC forgets it, so a copy of the key
   * is useless there), then the keys are dropped here. Best effort per DC; returns each DC's answer.
   */
  async forgetKeys(): Promise<Map<number, string>> {
    const dcs = await this.store.listDcKeys();
    const rootId = this.emit({ kind: 'key', name: 'forget keys', dcId: this.homeDc, note: `destroy_auth_key on DC ${dcs.join(', ') || '(none)'}` });
    const out = new Map<number, string>();
    for (const dcId of dcs) {
      const answer = await this.pool.destroyKey(dcId, rootId);
      out.set(dcId, answer);
      this.authorizedDcs.delete(dcId);
    }
    this.authorized = false;
    this.user = undefined;
    await this.persistAuthorized();
    return out;
  }

  // ------------------------------------------------------------------ shutdown

  private assertRunning(): void {
    if (this.stopped) throw new LifecycleError('STOPPED', 'the client is stopped');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of [...this.cancels]) c();
    await this.pool.persistSessions();
    this.pool.close();
    await this.prewarming.catch(() => undefined);
  }
}

function isPasswordNeeded(e: unknown): e is LifecycleError {
  return e instanceof LifecycleError && e.code === 'PASSWORD_NEEDED';
}

function resultName(res: unknown): string {
  if (res && typeof res === 'object' && typeof (res as TlObject)._ === 'string') return (res as TlObject)._;
  if (Array.isArray(res)) return `Vector(${res.length})`;
  return typeof res;
}

function isTopology(v: unknown): v is Topology {
  return !!v && typeof v === 'object' && Array.isArray((v as Topology).endpoints) && typeof (v as Topology).thisDc === 'number';
}
