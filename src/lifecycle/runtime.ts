// ClientRuntime: the I/O behind the client machine. It owns the DcPool, the home DC, the authorization state and
// the persistence, and routes every call: PHONE_MIGRATE / NETWORK_MIGRATE (login: switch home), USER_MIGRATE
// (export at the old home → import at X → new home), STATS_MIGRATE / FILE_MIGRATE (this call goes to X), transfer
// to a non-home DC (one export in flight per DC, cached), AUTH_BYTES_INVALID retries, DC_ID_INVALID, FLOOD_WAIT
// (countdown or fail), AUTH_KEY_UNREGISTERED on home (→ logged out). Every step is a trace event linked by parentId
// to the call that caused it. Secrets never enter an event: payloads go through safePayload() first.
import { srpProof } from '../crypto/srp';
import { DcPool, type DcPoolEvent } from '../dc/pool';
import type { Profile } from '../dc/profile';
import { dcIdsOf, topologyFromConfig, type Topology } from '../dc/topology';
import { RpcError } from '../mtproto/errors';
import type { WireEvent } from '../mtproto/wire-event';
import type { TlObject } from '../tl/types';
import type { TraceEvent, TraceEventInput } from '../trace/event';
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
}

export interface CallOptions {
  /** Target DC (default: home). */
  dcId?: number;
  timeoutMs?: number;
  /** Trace id of the event that caused this call. */
  parentId?: number;
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

const SECRET_FIELDS = new Set(['phone_code', 'password', 'api_hash', 'bytes', 'A', 'M1', 'srp_B', 'new_password_hash', 'phone_code_hash', 'secure_secret', 'new_algo', 'current_algo', 'salt1', 'salt2', 'p']);

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

const MIGRATE_KINDS = new Set(['PHONE_MIGRATE', 'NETWORK_MIGRATE', 'USER_MIGRATE', 'STATS_MIGRATE', 'FILE_MIGRATE']);

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
      ...(opts.onWire ? { onWire: opts.onWire } : {}),
      ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
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
    const id = this.emit({ kind: 'state', name: 'start', dcId: this.homeDc, note: this.authorized ? `resuming user ${String(userId)} on DC${this.homeDc}` : `first DC ${this.homeDc}` });
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
    const explicit = opts.dcId !== undefined;
    let target = opts.dcId ?? this.homeDc;
    const rootId = this.emit({ kind: 'call', name: method._, dcId: target, payload: method, ...(opts.parentId !== undefined ? { parentId: opts.parentId } : {}) });
    if (opts.track) this.currentCallId = rootId;
    const chain = [`${method._} @DC${target}`];
    const homeAtStart = this.homeDc;
    const visited = new Set<number>([target]);
    let hops = 0;
    let floods = 0;
    let reauth = 0;
    let callId = rootId;
    const timeout = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
    for (;;) {
      const started = Date.now();
      try {
        if (this.authorized && target !== this.homeDc && !NO_AUTH_METHODS.has(method._)) await this.ensureAuthorized(target, rootId);
        const res = await this.pool.invoke<T>(target, method, { parentId: rootId, ...timeout });
        this.emit({ kind: 'result', name: resultName(res), dcId: target, parentId: callId, durationMs: Date.now() - started, payload: res });
        return res;
      } catch (e) {
        if (!(e instanceof RpcError)) {
          if (!(e instanceof LifecycleError)) this.emit({ kind: 'error', name: e instanceof Error ? e.name : 'Error', dcId: target, parentId: callId, note: errText(e) });
          throw e;
        }
        const x = e.value;
        const handled = x !== undefined && (MIGRATE_KINDS.has(e.kind) || e.kind === 'FLOOD_WAIT');
        // a redirect or a flood wait is its own event; anything else is an 'error' of this call
        if (!handled) this.emit({ kind: 'error', name: e.errorMessage, dcId: target, parentId: callId, durationMs: Date.now() - started });
        if (MIGRATE_KINDS.has(e.kind) && x !== undefined) {
          hops += 1;
          chain.push(`${e.errorMessage} → DC${x}`);
          const loop = visited.has(x);
          if (loop || hops > this.maxRedirects) {
            const code = loop ? 'REDIRECT_LOOP' : 'TOO_MANY_REDIRECTS';
            this.emit({ kind: 'error', name: code, dcId: target, parentId: rootId, note: chain.join(' → ') });
            // a login redirect chain that failed does not leave the home DC switched half-way
            if (homeAtStart !== this.homeDc && (e.kind === 'PHONE_MIGRATE' || e.kind === 'NETWORK_MIGRATE')) await this.setHome(homeAtStart, rootId, `${code}: back to DC${homeAtStart}`);
            const msg = loop ? `redirect loop for ${method._}: ${chain.join(' → ')}` : `more than ${this.maxRedirects} redirects for ${method._}: ${chain.join(' → ')}`;
            throw new LifecycleError(code, msg, { chain, dcId: x, cause: e });
          }
          visited.add(x);
          this.emit({ kind: 'redirect', name: e.errorMessage, dcId: target, targetDc: x, parentId: rootId });
          if (e.kind === 'PHONE_MIGRATE' || e.kind === 'NETWORK_MIGRATE') {
            if (!explicit) await this.setHome(x, rootId, e.errorMessage);
          } else if (e.kind === 'USER_MIGRATE') {
            await this.migrateUser(target, x, rootId);
          }
          target = x;
          await this.pool.get(target, { parentId: rootId });
          callId = this.emit({ kind: 'call', name: method._, dcId: target, parentId: rootId, note: `repeated after ${e.errorMessage}` });
          continue;
        }
        if (e.kind === 'FLOOD_WAIT' && x !== undefined) {
          if (x > this.floodWaitThreshold) {
            this.emit({ kind: 'flood-wait', name: e.errorMessage, dcId: target, waitSeconds: x, parentId: rootId, note: `over the ${this.floodWaitThreshold} s threshold: failing` });
            throw new LifecycleError('FLOOD_WAIT', `${method._} on DC ${target}: FLOOD_WAIT_${x} (wait ${x} s; threshold ${this.floodWaitThreshold} s)`, { waitSeconds: x, dcId: target, cause: e });
          }
          floods += 1;
          if (floods > 3) throw new LifecycleError('FLOOD_WAIT', `${method._} on DC ${target}: FLOOD_WAIT again after ${floods - 1} waits`, { waitSeconds: x, dcId: target, cause: e });
          await this.countdown(x, target, rootId, e.errorMessage);
          callId = this.emit({ kind: 'call', name: method._, dcId: target, parentId: rootId, note: `repeated after ${e.errorMessage}` });
          continue;
        }
        if (e.errorMessage === 'AUTH_KEY_UNREGISTERED') {
          if (target === this.homeDc && this.authorized) {
            await this.revoke(`AUTH_KEY_UNREGISTERED from ${method._} on home DC ${target}`, rootId);
            throw new LifecycleError('LOGGED_OUT', `logged out: the home DC ${target} answered AUTH_KEY_UNREGISTERED to ${method._}`, { dcId: target, cause: e });
          }
          if (target !== this.homeDc && this.authorized && reauth < 1) {
            reauth += 1;
            this.authorizedDcs.delete(target);
            await this.persistAuthorized();
            callId = this.emit({ kind: 'call', name: method._, dcId: target, parentId: rootId, note: 'repeated after a new transfer' });
            continue;
          }
        }
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

  /** A call on one DC with call/result/error events: no routing, but FLOOD_WAIT is waited out as in call(). */
  private async rawCall<T>(dcId: number, method: TlObject, parentId: number): Promise<T> {
    const id = this.emit({ kind: 'call', name: method._, dcId, parentId, payload: method });
    for (let floods = 0; ; floods++) {
      const started = Date.now();
      try {
        const res = await this.pool.invoke<T>(dcId, method, { parentId });
        this.emit({ kind: 'result', name: resultName(res), dcId, parentId: id, durationMs: Date.now() - started, payload: res });
        return res;
      } catch (e) {
        if (e instanceof RpcError && e.kind === 'FLOOD_WAIT' && e.value !== undefined && e.value <= this.floodWaitThreshold && floods < 3) {
          await this.countdown(e.value, dcId, id, e.errorMessage);
          continue;
        }
        this.emit({ kind: 'error', name: e instanceof RpcError ? e.errorMessage : e instanceof Error ? e.name : 'Error', dcId, parentId: id, note: errText(e) });
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
        if (e instanceof RpcError && e.errorMessage === 'AUTH_KEY_UNREGISTERED' && from === this.homeDc) {
          await this.revoke(`AUTH_KEY_UNREGISTERED from auth.exportAuthorization on home DC ${from}`, tid);
          throw new LifecycleError('LOGGED_OUT', `logged out: the home DC ${from} answered AUTH_KEY_UNREGISTERED`, { dcId: from, cause: e });
        }
        throw new LifecycleError('TRANSFER_FAILED', `transfer DC ${from} → DC ${to}: export failed: ${errText(e)}`, { dcId: to, cause: e });
      }
      try {
        await this.rawCall(to, { _: 'auth.importAuthorization', id: exported.id, bytes: exported.bytes }, tid);
      } catch (e) {
        last = e;
        if (e instanceof RpcError && e.errorMessage === 'AUTH_BYTES_INVALID' && i + 1 < attempts) continue;
        throw new LifecycleError('TRANSFER_FAILED', `transfer DC ${from} → DC ${to}: import failed after ${i + 1} attempt(s): ${errText(e)}`, { dcId: to, cause: e });
      }
      this.authorizedDcs.add(to);
      await this.persistAuthorized();
      this.emit({ kind: 'state', name: 'authorized', dcId: to, parentId: tid, note: `DC${to} authorized by transfer from DC${from}` });
      return;
    }
    throw new LifecycleError('TRANSFER_FAILED', `transfer DC ${from} → DC ${to} failed: ${errText(last)}`, { dcId: to, cause: last });
  }

  /** USER_MIGRATE_X: export at the old DC → import at X; X becomes home (persisted). */
  private async migrateUser(from: number, to: number, parentId: number): Promise<void> {
    if (!this.authorized) {
      await this.setHome(to, parentId, `USER_MIGRATE_${to}`);
      return;
    }
    if (!this.authorizedDcs.has(to)) await this.transfer(from, to, parentId);
    await this.setHome(to, parentId, `USER_MIGRATE_${to}`);
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

  async sendCode(phone: string): Promise<{ phoneCodeHash: string; codeLength?: number; codeType?: string; homeDc: number }> {
    const sent = await this.call<TlObject>(
      { _: 'auth.sendCode', phone_number: phone, api_id: this.profile.apiId, api_hash: this.profile.apiHash, settings: { _: 'codeSettings' } },
      { track: true },
    );
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
      if (e instanceof RpcError && e.errorMessage === 'SESSION_PASSWORD_NEEDED') {
        const info = await this.call<TlObject>({ _: 'account.getPassword' }, { parentId: this.currentCallId! });
        return { kind: 'passwordNeeded', ...(typeof info.hint === 'string' && info.hint ? { hint: info.hint } : {}) };
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

  async checkPassword(password: string): Promise<PasswordOutcome> {
    const info = await this.call<TlObject>({ _: 'account.getPassword' }, { track: true });
    const algo = info.current_algo as TlObject | undefined;
    if (!algo || algo._ !== 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow') {
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
    const res = await this.call<TlObject>({ _: 'auth.signUp', phone_number: phone, phone_code_hash: phoneCodeHash, first_name: firstName, last_name: lastName }, { track: true });
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

  async logOut(): Promise<void> {
    try {
      await this.call({ _: 'auth.logOut' }, { track: true });
    } finally {
      this.authorized = false;
      this.user = undefined;
      this.authorizedDcs.clear();
      await this.persistAuthorized();
    }
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

function resultName(res: unknown): string {
  if (res && typeof res === 'object' && typeof (res as TlObject)._ === 'string') return (res as TlObject)._;
  if (Array.isArray(res)) return `Vector(${res.length})`;
  return typeof res;
}

function isTopology(v: unknown): v is Topology {
  return !!v && typeof v === 'object' && Array.isArray((v as Topology).endpoints) && typeof (v as Topology).thisDc === 'number';
}
