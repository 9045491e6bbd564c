// What every command shares: the common options (--profile, --data-dir, --sandbox-info, ...), the profile's
// persistent store (ProfileStore over ~/.dclab/state.json + secrets.json), the session trace, the DC profile and,
// for the sandbox profile without --sandbox-info, an embedded sandbox started on demand.
//
// Sandbox worlds. A sandbox keeps its users, authorizations and auth keys in memory, so stored keys are only good
// for the sandbox process that made them. The CLI records which world the stored sandbox state belongs to
// (`sandbox:cli:world`: the attached info file's `worldId`, new on every start of `dclab sandbox` and kept when a
// moved DC rewrites the file — for files without one, the fingerprint, addresses and mtime — or the embedded
// sandbox's pid and start time). A command that talks to another world
// than the stored one drops the stale state first (and says so); `status` only reports it.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DcAddress, Profile } from '../dc/profile';
import { DEFAULT_BASE_PORT, startSandbox, type Sandbox, type SandboxInfo } from '../sandbox';
import { cliBackends, DEFAULT_DCLAB_DIR, parseProfileName, ProfileStore, type ProfileBackends, type ProfileName } from '../storage';
import { createDcClient, resolveProfile, type CustomServer, type DcClient, type LifecycleEvent } from '../lifecycle';
import { TraceStore, type TraceExport } from '../trace';
import { progressLine } from './events';
import type { TransportName } from '../transport/codec';
import { flagBool, flagInt, flagList, flagString, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import { StdinLines, type CliIo } from './io';

const TRANSPORTS: readonly TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];

export const COMMON_FLAGS: FlagSpecs = {
  '--profile': { kind: 'string', value: 'sandbox, test, production or custom:<name>' },
  '--data-dir': { kind: 'string', value: 'a directory (the storage root)' },
  '--sandbox-info': { kind: 'string', value: 'the info file written by `dclab sandbox --info-file F`' },
  '--sandbox-port': { kind: 'int', value: 'a base port 0..65530 (0 = ephemeral)', min: 0, max: 65530 },
  '--transport': { kind: 'string', value: 'a transport', choices: TRANSPORTS },
  '--api-id': { kind: 'int', value: 'a positive integer api_id', min: 1, max: 0x7fffffff },
  '--api-hash-stdin': { kind: 'boolean' },
  '--dc-address': { kind: 'list', value: 'ID=HOST:PORT (e.g. 2=203.0.113.5:443)' },
  '--rsa-pem': { kind: 'string', value: 'a PEM file with the server RSA public key' },
  '--test-mode': { kind: 'boolean' },
};

export interface CommonOptions {
  profileName: ProfileName;
  dataDir: string;
  sandboxInfoFile?: string;
  sandboxPort: number;
  transport?: TransportName;
  apiId?: number;
  apiHashStdin: boolean;
  dcAddresses: DcAddress[];
  rsaPemFile?: string;
  testMode: boolean;
}

function parseDcAddress(s: string): DcAddress {
  const m = /^(\d{1,5})=(\[[0-9a-fA-F:.]+\]|[^:=\s]+):(\d{1,5})$/.exec(s);
  if (!m) throw new UsageError(`--dc-address needs ID=HOST:PORT (e.g. 2=203.0.113.5:443), got "${s}"`);
  const id = Number(m[1]);
  const port = Number(m[3]);
  if (id < 1 || id > 65535) throw new UsageError(`--dc-address: DC id must be 1..65535, got ${id}`);
  if (port < 1 || port > 65535) throw new UsageError(`--dc-address: port must be 1..65535, got ${port}`);
  return { id, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export function parseCommon(p: ParsedArgs, command: string): CommonOptions {
  let profileName: ProfileName;
  try {
    profileName = parseProfileName(flagString(p, '--profile') ?? 'sandbox');
  } catch {
    throw new UsageError(
      `--profile needs sandbox, test, production or custom:<name> (name of letters, digits, _ . -), got "${flagString(p, '--profile')}"`,
      command,
    );
  }
  const o: CommonOptions = {
    profileName,
    dataDir: resolve(flagString(p, '--data-dir') ?? DEFAULT_DCLAB_DIR),
    sandboxPort: flagInt(p, '--sandbox-port') ?? DEFAULT_BASE_PORT,
    apiHashStdin: flagBool(p, '--api-hash-stdin'),
    dcAddresses: flagList(p, '--dc-address').map((s) => {
      try {
        return parseDcAddress(s);
      } catch (e) {
        throw new UsageError((e as Error).message, command);
      }
    }),
    testMode: flagBool(p, '--test-mode'),
  };
  const info = flagString(p, '--sandbox-info');
  if (info !== undefined) o.sandboxInfoFile = resolve(info);
  const t = flagString(p, '--transport');
  if (t !== undefined) o.transport = t as TransportName;
  const apiId = flagInt(p, '--api-id');
  if (apiId !== undefined) o.apiId = apiId;
  const pem = flagString(p, '--rsa-pem');
  if (pem !== undefined) o.rsaPemFile = resolve(pem);

  const isSandbox = profileName === 'sandbox';
  const isCustom = profileName.startsWith('custom:');
  if (!isSandbox && o.sandboxInfoFile) throw new UsageError(`--sandbox-info only goes with --profile sandbox (profile is ${profileName})`, command);
  if (!isSandbox && p.flags.has('--sandbox-port')) throw new UsageError(`--sandbox-port only goes with --profile sandbox (profile is ${profileName})`, command);
  if (o.sandboxInfoFile && p.flags.has('--sandbox-port'))
    throw new UsageError('--sandbox-port is for the embedded sandbox; with --sandbox-info the ports come from the info file', command);
  if (!isCustom && (o.dcAddresses.length || o.rsaPemFile || o.testMode))
    throw new UsageError(`--dc-address, --rsa-pem and --test-mode only go with --profile custom:<name> (profile is ${profileName})`, command);
  if (isSandbox && (o.apiId !== undefined || o.apiHashStdin))
    throw new UsageError('--api-id / --api-hash-stdin are not used by the sandbox profile (it takes any api_id and api_hash)', command);
  return o;
}

/** Which sandbox world stored state belongs to (see the header comment). */
export interface WorldRecord {
  id: string;
  kind: 'attached' | 'embedded';
  /** Human description: the info file, or "embedded sandbox (pid N)". */
  where: string;
  since: number;
}

const WORLD_KEY = 'sandbox:cli:world';
const CUSTOM_KEY = (name: string): string => `${name}:cli:customProfile`;

export function readSandboxInfo(file: string): { info: SandboxInfo; mtimeMs: number } {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(file, 'utf8');
    mtimeMs = statSync(file).mtimeMs;
  } catch (e) {
    throw new Error(
      `--sandbox-info ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); start one with \`dclab sandbox --info-file ${file}\``,
    );
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`--sandbox-info ${file}: not JSON (${(e as Error).message})`);
  }
  const info = v as SandboxInfo;
  const okDcs =
    Array.isArray(info?.dcs) && info.dcs.length > 0 && info.dcs.every((d) => Number.isInteger(d?.id) && typeof d.host === 'string' && Number.isInteger(d.port));
  if (!okDcs) throw new Error(`--sandbox-info ${file}: "dcs" must be a non-empty array of {id, host, port}`);
  if (typeof info.rsa?.pem !== 'string') throw new Error(`--sandbox-info ${file}: "rsa.pem" is missing`);
  return { info, mtimeMs };
}

function attachedWorldId(info: SandboxInfo, mtimeMs: number): string {
  if (typeof info.worldId === 'string' && info.worldId !== '') return `attached:${info.worldId}`;
  return `attached:${info.rsa.fingerprint ?? ''}:${info.dcs.map((d) => `${d.id}@${d.host}:${d.port}`).join(',')}:${Math.round(mtimeMs)}`;
}

/** Whether the info file of a stored attached world still describes that same world. */
export function worldStillThere(w: WorldRecord): boolean {
  try {
    const { info, mtimeMs } = readSandboxInfo(w.where);
    return attachedWorldId(info, mtimeMs) === w.id;
  } catch {
    return false;
  }
}

/** One command's run: store, trace, profile and (maybe) the embedded sandbox. */
export class CliContext {
  readonly backends: ProfileBackends;
  readonly store: ProfileStore;
  trace: TraceStore;
  sandbox: Sandbox | undefined;
  profile: Profile | undefined;
  world: WorldRecord | undefined;
  readonly stdinLines: StdinLines;
  private saveTraceOnClose = false;

  constructor(
    readonly io: CliIo,
    readonly opts: CommonOptions,
    readonly command: string,
  ) {
    this.backends = cliBackends(opts.dataDir);
    this.store = new ProfileStore(this.backends, opts.profileName);
    this.trace = new TraceStore();
    this.stdinLines = new StdinLines(io);
  }

  get isSandbox(): boolean {
    return this.opts.profileName === 'sandbox';
  }

  get embedded(): boolean {
    return this.isSandbox && !this.opts.sandboxInfoFile;
  }

  /** Progress / notices (stderr). */
  /**
   * A client on this command's store and trace; lifecycle events that `show` accepts are printed as progress lines
   * on stderr (commands show flood waits always, the rest with --verbose).
   */
  createClient(profile: Profile, show: (e: LifecycleEvent) => boolean = () => true): DcClient {
    return createDcClient({
      profile,
      store: this.store,
      trace: this.trace,
      onEvent: (e) => {
        if (!show(e)) return;
        const line = progressLine(e);
        if (line) this.note(line);
      },
    });
  }

  note(line: string): void {
    this.io.err(`${line}\n`);
  }

  // ------------------------------------------------------------------ trace

  /**
   * The session trace: `login` starts a new one; the other commands continue the stored one, so `dclab trace`
   * shows the whole session (login, calls, ...) with each command marked by a 'state' event `dclab <command>`.
   */
  async beginTrace(fresh: boolean, note?: string): Promise<number> {
    if (!fresh) {
      const prev = await this.store.getLastTrace<TraceExport>().catch(() => undefined);
      if (prev) {
        try {
          this.trace = TraceStore.import(prev);
        } catch {
          this.note('dclab: the stored trace is unreadable; starting a new one');
        }
      }
    }
    this.saveTraceOnClose = true;
    return this.trace.add({ kind: 'state', name: `dclab ${this.command}`, ...(note ? { note } : {}) }).id;
  }

  /** This run's trace is not kept (the stored one stays as it was). */
  discardTrace(): void {
    this.saveTraceOnClose = false;
  }

  async saveTrace(): Promise<void> {
    await this.store.setLastTrace(this.trace.export());
  }

  // ------------------------------------------------------------------ sandbox world

  async storedWorld(): Promise<WorldRecord | undefined> {
    return ((await this.backends.plain.get<WorldRecord>(WORLD_KEY)) ?? undefined) as WorldRecord | undefined;
  }

  /** The world of the attached sandbox, without starting anything (undefined for the embedded one). */
  attachedWorld(): { world: WorldRecord; info: SandboxInfo } | undefined {
    if (!this.opts.sandboxInfoFile) return undefined;
    const { info, mtimeMs } = readSandboxInfo(this.opts.sandboxInfoFile);
    return { world: { id: attachedWorldId(info, mtimeMs), kind: 'attached', where: this.opts.sandboxInfoFile, since: Math.round(mtimeMs) }, info };
  }

  /** Makes the stored sandbox state belong to `world`: stale state of another world is dropped (with a notice). */
  private async adoptWorld(world: WorldRecord): Promise<void> {
    const stored = await this.storedWorld();
    if (stored?.id === world.id) return;
    const snap = await this.store.snapshot();
    const hasState = snap.homeDc !== undefined || snap.dcKeys.length > 0 || snap.authorizedDcs.length > 0;
    if (hasState && stored?.kind === 'attached' && stored.where !== world.where && worldStillThere(stored)) {
      // most likely a forgotten --sandbox-info: do not throw away a login that still works
      throw new Error(
        `the stored sandbox login belongs to the sandbox of ${stored.where}, which is still there: pass --sandbox-info ${stored.where}` +
          ` (or forget that login with \`dclab logout --local\`${this.opts.dataDir ? ` --data-dir ${this.opts.dataDir}` : ''})`,
      );
    }
    if (hasState) {
      const was = stored
        ? stored.kind === 'embedded'
          ? 'an embedded sandbox that has ended'
          : `the sandbox of ${stored.where} as started at ${new Date(stored.since).toISOString()}`
        : 'an unknown sandbox';
      this.note(`dclab: the stored sandbox login (DC keys, home DC, user) belonged to ${was}; that world is gone, so it is dropped`);
      const trace = await this.store.getLastTrace().catch(() => undefined);
      await this.store.clear();
      if (trace) await this.store.setLastTrace(trace as { events: unknown[] }).catch(() => undefined);
    }
    await this.backends.plain.set(WORLD_KEY, world);
  }

  // ------------------------------------------------------------------ profile

  /** Builds the DC profile (resolveProfile); for the sandbox profile this attaches to (or starts) the sandbox. */
  async connectProfile(): Promise<Profile> {
    if (this.profile) return this.profile;
    const o = this.opts;
    this.profile = await resolveProfile(o.profileName, {
      ...(o.transport ? { transport: o.transport } : {}),
      sandbox: () => this.sandboxAddresses(),
      apiId: () => this.apiId(),
      apiHash: () => this.apiHash(),
      customServer: () => this.customServer(),
      howToSet: {
        apiId: '--api-id N (stored for later commands)',
        apiHash: 'pipe it to --api-hash-stdin or set DCLAB_API_HASH (stored in secrets.json for later commands)',
        customServer: 'give --dc-address ID=HOST:PORT (one per DC) and --rsa-pem FILE',
      },
    });
    if (this.world) await this.adoptWorld(this.world);
    return this.profile;
  }

  /** The attached sandbox (--sandbox-info), or the embedded one started now; records its world. */
  private async sandboxAddresses(): Promise<SandboxInfo> {
    const o = this.opts;
    if (o.sandboxInfoFile) {
      const { world, info } = this.attachedWorld()!;
      this.world = world;
      return info;
    }
    const dir = join(o.dataDir, 'sandbox');
    try {
      // one command's sandbox: nobody outside could drive it, so no control channel
      this.sandbox = await startSandbox({ basePort: o.sandboxPort, dataDir: dir, ipv6: false, control: false, log: () => {} });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const ports = o.sandboxPort ? `ports ${o.sandboxPort + 1}..${o.sandboxPort + 5}` : 'ephemeral ports';
      throw new Error(
        `cannot start the embedded sandbox on ${ports}: ${code ?? (e as Error).message}` +
          (code === 'EADDRINUSE' ? ' — is `dclab sandbox` running? Attach to it with --sandbox-info FILE, or pick --sandbox-port P (0 = ephemeral)' : ''),
      );
    }
    this.world = { id: `embedded:${process.pid}:${Date.now()}`, kind: 'embedded', where: `embedded sandbox (pid ${process.pid})`, since: Date.now() };
    return this.sandbox.info;
  }

  /** --api-id (stored for later commands), else the stored one. */
  private async apiId(): Promise<number | undefined> {
    if (this.opts.apiId !== undefined) {
      await this.store.setApiId(this.opts.apiId);
      return this.opts.apiId;
    }
    return this.store.getApiId();
  }

  /** api_hash: --api-hash-stdin, else DCLAB_API_HASH, else the stored one; a given one is stored in secrets. */
  private async apiHash(): Promise<string | undefined> {
    let given: string | undefined;
    if (this.opts.apiHashStdin) given = (await this.stdinLines.line('--api-hash-stdin')).trim();
    else if (this.io.env.DCLAB_API_HASH) given = this.io.env.DCLAB_API_HASH.trim();
    if (given !== undefined) {
      if (!/^[0-9a-fA-F]{32}$/.test(given)) throw new Error('the api_hash must be 32 hex digits (value not shown)');
      await this.store.setApiHash(given);
      return given;
    }
    return this.store.getApiHash();
  }

  /** The custom server: the flags given now (stored), else the stored definition. */
  private async customServer(): Promise<CustomServer | undefined> {
    const o = this.opts;
    const key = CUSTOM_KEY(o.profileName);
    let saved = ((await this.backends.plain.get<CustomServer>(key)) ?? undefined) as CustomServer | undefined;
    if (o.dcAddresses.length || o.rsaPemFile || o.testMode) {
      let rsaPem = saved?.rsaPem;
      if (o.rsaPemFile) {
        try {
          rsaPem = readFileSync(o.rsaPemFile, 'utf8');
        } catch (e) {
          throw new Error(`--rsa-pem ${o.rsaPemFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      }
      const dcs = o.dcAddresses.length ? o.dcAddresses : saved?.dcs;
      if (!dcs?.length || !rsaPem) throw new Error(`profile ${o.profileName} needs --dc-address ID=HOST:PORT (one per DC) and --rsa-pem FILE the first time`);
      saved = { dcs, rsaPem, testMode: o.testMode || (saved?.testMode ?? false) };
      await this.backends.plain.set(key, saved);
    }
    return saved;
  }

  /** client.start() with a hint when the DCs cannot be reached. */
  async startClient<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|timed out/.test(msg)) {
        const hint = this.opts.sandboxInfoFile
          ? ` — is the sandbox of ${this.opts.sandboxInfoFile} still running? (\`dclab sandbox --info-file ${this.opts.sandboxInfoFile}\`)`
          : '';
        throw new Error(`cannot reach the ${this.opts.profileName} DCs: ${msg}${hint}`);
      }
      throw e;
    }
  }

  /** Saves the trace (when begun) and stops the embedded sandbox. */
  async close(): Promise<void> {
    try {
      if (this.saveTraceOnClose) await this.saveTrace();
    } finally {
      await this.sandbox?.stop();
      this.sandbox = undefined;
    }
  }
}
