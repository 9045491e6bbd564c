// The extension's working state without VS Code: the active profile's store, the embedded sandbox, the DcClient,
// the session trace and the file downloads. Commands, tree, status bar and the webview panel all drive this one
// object and listen to its 'changed' / 'trace' events. No `vscode` import here (so it could be tested in Node).
//
// Sandbox worlds: the embedded sandbox keeps users, authorizations and auth keys in memory, so the sandbox
// profile's stored keys are only good for the sandbox process that made them. Every start of the embedded sandbox
// is a new world: the sandbox profile's stored state is dropped then (the last trace is kept).
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Profile } from '../dc/profile';
import { createDcClient, resolveProfile, routedCall, type CallAnswer, type CustomServer, type DcClient, type DcStatus } from '../lifecycle';
import { downloadFile, locationFromJson, type DownloadProgress, type DownloadResult } from '../files';
import { DEFAULT_BASE_PORT, startSandbox, testPhoneCode, type Sandbox } from '../sandbox';
import { ProfileStore, parseProfileName, type ProfileBackends, type ProfileName } from '../storage';
import { apiSchema } from '../tl/bundled';
import { tlFromJson } from '../tl/json';
import type { TlObject } from '../tl/types';
import { TraceStore, redact, type TraceEvent, type TraceExport } from '../trace';
import type { TransportName } from '../transport/codec';

export interface LabSettings {
  profile: string;
  apiId: number;
  transport: TransportName;
  prewarm: boolean;
  floodWaitThreshold: number;
  sandboxBasePort: number;
}

export interface LabLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export interface LoginPrompts {
  phone: string;
  code: (ctx: { phone: string; suggested?: string; error?: string }) => Promise<string>;
  password: (ctx: { hint?: string; error?: string; suggested?: string }) => Promise<string>;
  signUp: () => Promise<{ firstName: string; lastName?: string }>;
}

const CUSTOM_KEY = (name: string): string => `${name}:vscode:customProfile`;
const SANDBOX_TEST_PASSWORD = 'sandbox';

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class LabSession extends EventEmitter {
  trace = new TraceStore();
  sandbox: Sandbox | undefined;
  client: DcClient | undefined;
  profile: Profile | undefined;
  private starting: Promise<Sandbox> | undefined;
  private connecting: Promise<DcStatus> | undefined;
  private unsubTrace: (() => void) | undefined;
  private changedTimer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  /** 'idle' | 'connecting' | client states ('unauthorized', 'authorized', …) | 'stopped'. */
  busy: string | undefined;

  constructor(
    readonly backends: ProfileBackends,
    readonly settings: () => LabSettings,
    readonly dataDir: string,
    readonly log: LabLog,
  ) {
    super();
    this.setMaxListeners(50);
    this.watchTrace();
  }

  get profileName(): ProfileName {
    try {
      return parseProfileName(this.settings().profile || 'sandbox');
    } catch {
      return 'sandbox';
    }
  }

  get store(): ProfileStore {
    return new ProfileStore(this.backends, this.profileName);
  }

  private watchTrace(): void {
    this.unsubTrace?.();
    this.unsubTrace = this.trace.onEvent((e) => {
      this.emit('trace', e);
      this.changed();
    });
  }

  /** Coalesced 'changed' event (status, tree, status bar, topology). */
  changed(): void {
    if (this.changedTimer) return;
    this.changedTimer = setTimeout(() => {
      this.changedTimer = undefined;
      this.emit('changed');
    }, 50);
  }

  status(): DcStatus | undefined {
    return this.client?.status();
  }

  /** 'no client' | the client machine's state. */
  state(): string {
    if (this.busy) return this.busy;
    return this.client?.status().state ?? (this.sandbox ? 'sandbox running' : 'idle');
  }

  // ------------------------------------------------------------------ sandbox

  async startSandbox(): Promise<Sandbox> {
    if (this.sandbox) return this.sandbox;
    if (this.starting) return this.starting;
    this.starting = (async () => {
      const dir = join(this.dataDir, 'sandbox');
      mkdirSync(dir, { recursive: true });
      const base = this.settings().sandboxBasePort;
      const log = (line: string): void => this.log.debug(`sandbox: ${line.replace(/login code \S+/g, 'login code [redacted]')}`);
      let sb: Sandbox;
      try {
        sb = await startSandbox({ basePort: base, dataDir: dir, ipv6: false, log });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || base === 0) throw e;
        this.log.warn(`sandbox ports ${base + 1}..${base + 5} are in use (another dclab sandbox?); using ephemeral ports`);
        sb = await startSandbox({ basePort: 0, dataDir: dir, ipv6: false, log });
      }
      // a new world: the sandbox profile's stored keys, home DC and user belong to an old one
      const store = new ProfileStore(this.backends, 'sandbox');
      const trace = await store.getLastTrace().catch(() => undefined);
      await store.clear();
      if (trace) await store.setLastTrace(trace as { events: unknown[] }).catch(() => undefined);
      this.sandbox = sb;
      this.log.info(
        `sandbox started: ${sb.info.dcs.map((d) => `DC${d.id} ${d.host}:${d.port}`).join(', ')}${sb.info.cdn ? `, CDN DC${sb.info.cdn.id} ${sb.info.cdn.host}:${sb.info.cdn.port}` : ''}`,
      );
      this.trace.add({ kind: 'state', name: 'sandbox started', note: sb.info.dcs.map((d) => `DC${d.id} :${d.port}`).join(' ') });
      this.changed();
      return sb;
    })();
    try {
      return await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  async stopSandbox(): Promise<void> {
    if (this.profileName === 'sandbox') await this.disconnect();
    const sb = this.sandbox;
    this.sandbox = undefined;
    if (sb) {
      await sb.stop();
      this.log.info('sandbox stopped');
      this.trace.add({ kind: 'state', name: 'sandbox stopped' });
    }
    this.changed();
  }

  // ------------------------------------------------------------------ profile + client

  async customServer(name: string): Promise<CustomServer | undefined> {
    return ((await this.backends.plain.get<CustomServer>(CUSTOM_KEY(name))) ?? undefined) as CustomServer | undefined;
  }

  async saveCustomServer(name: string, server: CustomServer): Promise<void> {
    await this.backends.plain.set(CUSTOM_KEY(name), server);
    const list = ((await this.backends.plain.get<string[]>('vscode:customNames')) ?? []) as string[];
    if (!list.includes(name)) await this.backends.plain.set('vscode:customNames', [...list, name]);
  }

  async customNames(): Promise<string[]> {
    return ((await this.backends.plain.get<string[]>('vscode:customNames')) ?? []) as string[];
  }

  /** The active profile's DCs and credentials (resolveProfile; the sandbox profile starts the embedded sandbox). */
  async buildProfile(): Promise<Profile> {
    const s = this.settings();
    const store = this.store;
    return resolveProfile(this.profileName, {
      transport: s.transport,
      sandbox: async () => (await this.startSandbox()).info,
      apiId: async () => (s.apiId > 0 ? s.apiId : store.getApiId()),
      apiHash: () => store.getApiHash(),
      customServer: (name) => this.customServer(name),
      howToSet: {
        apiId: 'set "dclab.apiId" in the settings',
        apiHash: 'run "DC Lab: Set api_hash" (kept in SecretStorage)',
        customServer: 'run "DC Lab: Add Custom Server"',
      },
    });
  }

  /** Connects the active profile (starting the embedded sandbox for the sandbox profile). */
  async connect(): Promise<DcStatus> {
    if (this.client && !['stopped', 'failed'].includes(this.client.status().state)) return this.client.status();
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      this.busy = 'connecting';
      this.changed();
      try {
        const profile = await this.buildProfile();
        const s = this.settings();
        const client = createDcClient({
          profile,
          store: this.store,
          trace: this.trace,
          prewarm: s.prewarm,
          floodWaitThreshold: s.floodWaitThreshold,
        });
        this.client = client;
        this.profile = profile;
        client.actor.subscribe({ next: () => this.changed(), error: () => this.changed() });
        this.log.info(`connecting profile ${this.profileName} (DC${profile.firstDc} first, ${profile.transport})`);
        const st = await client.start();
        this.lastError = undefined;
        this.log.info(`connected: home DC${st.homeDc}, ${st.state}`);
        this.pingConnected();
        return st;
      } catch (e) {
        this.lastError = errText(e);
        const c = this.client;
        this.client = undefined;
        await c?.stop().catch(() => undefined);
        throw e;
      } finally {
        this.busy = undefined;
        this.changed();
      }
    })();
    try {
      return await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  /** Latency of every connected DC (tree, topology): after connect, login and calls on a chosen DC — no timer, so
   *  an idle window adds nothing to the trace. Failures are ignored. */
  pingConnected(): void {
    const c = this.client;
    if (!c) return;
    for (const d of c.status().dcs) {
      if (d.connected)
        void c.ping(d.dcId).then(
          () => this.changed(),
          () => undefined,
        );
    }
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.profile = undefined;
    if (c) {
      await c.stop().catch((e) => this.log.warn(`stop: ${errText(e)}`));
      await this.saveTrace();
      this.log.info('disconnected');
    }
    this.changed();
  }

  async switchProfile(): Promise<void> {
    await this.disconnect();
    this.changed();
  }

  async saveTrace(): Promise<void> {
    try {
      await this.store.setLastTrace(this.trace.export({ last: 5000 }));
    } catch (e) {
      this.log.warn(`could not save the trace: ${errText(e)}`);
    }
  }

  // ------------------------------------------------------------------ login

  /** What the sandbox "delivered" to `phone` since `since` (the embedded sandbox only). */
  sandboxCode(phone: string, since: number): string | undefined {
    if (!this.sandbox || this.profileName !== 'sandbox') return undefined;
    const got = this.sandbox.inbox().filter((m) => m.phone === phone && m.time >= since - 1000);
    return got[got.length - 1]?.code ?? testPhoneCode(phone) ?? undefined;
  }

  async login(p: LoginPrompts): Promise<TlObject> {
    await this.connect();
    const client = this.client!;
    const started = Date.now();
    const phone = p.phone;
    const user = await client.login({
      phone,
      code: () => {
        const ctx = client.actor.getSnapshot().context;
        const suggested = this.sandboxCode(phone, started);
        return p.code({ phone, ...(suggested ? { suggested } : {}), ...(ctx.error ? { error: String(ctx.error) } : {}) });
      },
      password: (hint) => {
        const ctx = client.actor.getSnapshot().context;
        const suggested = this.profileName === 'sandbox' && /^99966[1-5]9\d{3}$/.test(phone) ? SANDBOX_TEST_PASSWORD : undefined;
        return p.password({ ...(hint ? { hint } : {}), ...(ctx.error ? { error: String(ctx.error) } : {}), ...(suggested ? { suggested } : {}) });
      },
      signUp: p.signUp,
    });
    this.log.info(`logged in as user ${String(user.id)} — home DC${client.status().homeDc}`);
    this.pingConnected();
    await this.saveTrace();
    this.changed();
    return user;
  }

  async logOut(): Promise<void> {
    if (!this.client) throw new Error('not connected');
    await this.client.logOut();
    this.log.info('logged out');
    await this.saveTrace();
    this.changed();
  }

  /** destroy_auth_key on every DC holding one of our keys (the DCs forget them), then the keys are dropped. */
  async forgetKeys(): Promise<Map<number, string>> {
    await this.connect();
    const answers = await this.client!.forgetKeys();
    this.log.info(`keys forgotten: ${[...answers].map(([dc, a]) => `DC${dc} ${a}`).join(', ') || 'none were stored'}`);
    await this.saveTrace();
    this.changed();
    return answers;
  }

  // ------------------------------------------------------------------ calls + downloads

  /** Runs a method given as JSON params (validated against the API schema): the redacted JSON result, the DC that
   *  answered and the hops the call took. A failure is a CallFailure (describeCallError words it). */
  async runQuery(method: string, params: unknown, dcId?: number): Promise<CallAnswer> {
    const schema = apiSchema();
    if (!schema.methodByName(method)) throw new Error(`unknown method "${method}"`);
    const body = params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
    const call = tlFromJson(schema, { ...body, _: method }) as TlObject;
    await this.connect();
    const answer = await routedCall(this.client!, { method: call, ...(dcId !== undefined ? { dcId } : {}) });
    if (dcId !== undefined) this.pingConnected();
    return { ...answer, result: redact(answer.result, { schema, method }) };
  }

  async download(opts: {
    dcId: number;
    location: unknown;
    out: string;
    size?: number;
    sha256?: string;
    signal?: AbortSignal;
    onProgress?: (p: DownloadProgress) => void;
  }): Promise<DownloadResult> {
    await this.connect();
    const location = locationFromJson(opts.location);
    return downloadFile(this.client!, {
      location,
      dcId: opts.dcId,
      out: opts.out,
      ...(opts.size !== undefined ? { size: opts.size } : {}),
      ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  }

  exportTrace(): TraceExport {
    return this.trace.export();
  }

  importTrace(json: string | unknown): number {
    const t = TraceStore.import(json);
    this.trace = t;
    this.watchTrace();
    this.emit('trace-reset');
    this.changed();
    return t.size;
  }

  events(): TraceEvent[] {
    return this.trace.events();
  }

  async dispose(): Promise<void> {
    await this.disconnect().catch(() => undefined);
    const sb = this.sandbox;
    this.sandbox = undefined;
    await sb?.stop().catch(() => undefined);
    this.unsubTrace?.();
    if (this.changedTimer) clearTimeout(this.changedTimer);
  }
}

export { DEFAULT_BASE_PORT };
