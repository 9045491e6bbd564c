// The fault runner's lab: one in-process sandbox (ephemeral ports, IPv4 only, a temp data dir), a fresh logged-in
// client per run, and the invariant checks the scenarios share (exactly-once sends, byte-identical downloads,
// no .part that looks complete, still usable after the fault).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fsp, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient, type DcClient, type DcClientOptions } from '../../src/lifecycle/client';
import { memoryLifecycleStore } from '../../src/lifecycle/store';
import type { LifecycleEvent } from '../../src/lifecycle/runtime';
import { locationFromJson } from '../../src/files/media';
import { readSidecar } from '../../src/files/part-file';
import type { TlObject } from '../../src/tl/types';
import type { Prng } from './prng';

export const DC_IDS = [1, 2, 3, 4, 5] as const;

/** An invariant that did not hold: the run fails with this message. */
export class Violation extends Error {
  override readonly name = 'Violation';
}

export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Violation(message);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One sandbox shared by a batch of runs; the server's wire events go to the run in progress. */
export class Lab {
  readonly sandbox: Sandbox;
  readonly dataDir: string;
  /** The last lines of the sandbox's log (printed with a failure). */
  readonly logTail: string[] = [];
  private wireSink: ((e: WireEvent) => void) | undefined;
  private phoneCounter = 0;

  private constructor(sandbox: Sandbox, dataDir: string) {
    this.sandbox = sandbox;
    this.dataDir = dataDir;
  }

  static async start(dataDir: string): Promise<Lab> {
    const holder: { lab?: Lab } = {};
    const sandbox = await startSandbox({
      basePort: 0,
      ipv6: false,
      dataDir,
      control: false,
      log: (l) => holder.lab?.noteLog(l),
      onWire: (e) => holder.lab?.wireSink?.(e),
    });
    holder.lab = new Lab(sandbox, dataDir);
    return holder.lab;
  }

  private noteLog(line: string): void {
    this.logTail.push(line);
    if (this.logTail.length > 60) this.logTail.shift();
  }

  setWireSink(sink: ((e: WireEvent) => void) | undefined): void {
    this.wireSink = sink;
  }

  /** A number no other run of this sandbox used (99966X9YYY has a 2FA password, X1234 is seeded: both skipped). */
  nextPhone(home: number): string {
    for (;;) {
      const n = 1000 + (this.phoneCounter++ % 8000);
      if (n === 1234) continue;
      return `99966${home}${String(n).padStart(4, '0')}`;
    }
  }

  /** Every fault knob back to rest: rpc errors, floods, connection rules, latency. */
  clearAll(): void {
    this.sandbox.clearFaults();
    this.sandbox.clearConnectionFaults();
    for (const dc of DC_IDS) this.sandbox.setLatency(dc, 0);
  }

  async stop(): Promise<void> {
    this.wireSink = undefined;
    await this.sandbox.stop();
  }
}

export interface SessionHandle {
  client: DcClient;
  phone: string;
  home: number;
  /** The client's lifecycle events of this run. */
  events: LifecycleEvent[];
  /** The client's own wire events. */
  wire: WireEvent[];
}

export interface SendHandle {
  text: string;
  randomId: bigint;
  answer: Promise<TlObject>;
}

/** The state of one run: its PRNG, its clients, its temp folder, the server wire events seen meanwhile. */
export class Run {
  readonly notes: string[] = [];
  readonly serverWire: WireEvent[] = [];
  readonly dir: string;
  private readonly clients: DcClient[] = [];
  private sends = 0;
  /** Background work a scenario started (fault timers); each settles to its error, if any. */
  private readonly background: Promise<Error | undefined>[] = [];

  constructor(
    readonly lab: Lab,
    readonly rng: Prng,
    readonly scenario: string,
    readonly seed: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'dclab-faults-run-'));
    lab.setWireSink((e) => void this.serverWire.push(e));
  }

  get sandbox(): Sandbox {
    return this.lab.sandbox;
  }

  note(line: string): void {
    this.notes.push(line);
  }

  /** Runs `fn` in the background (a fault at a random moment); its failure fails the run. */
  spawn(what: string, fn: () => Promise<unknown>): void {
    this.background.push(
      fn().then(
        () => undefined,
        (e: unknown) => new Violation(`${what} failed: ${e instanceof Error ? e.message : String(e)}`),
      ),
    );
  }

  /** Waits for the background work; the first failure is thrown. */
  async settleBackground(): Promise<void> {
    const errors = await Promise.all(this.background.splice(0));
    const first = errors.find((e) => e !== undefined);
    if (first) throw first;
  }

  /**
   * A fresh client logged in as a new 99966XYYYY user: home DC X and the DC it first talks to come from the PRNG
   * unless given (a different first DC means a PHONE_MIGRATE at login).
   */
  async login(o: { home?: number; firstDc?: number; client?: Partial<DcClientOptions> } = {}): Promise<SessionHandle> {
    const home = o.home ?? this.rng.int('home', 1, 5);
    const firstDc = o.firstDc ?? this.rng.int('firstDc', 1, 5);
    const phone = this.lab.nextPhone(home);
    this.sandbox.registerUser(phone, 'Fault', `${this.scenario} ${this.seed}`);
    const events: LifecycleEvent[] = [];
    const wire: WireEvent[] = [];
    const client = createDcClient({
      profile: profileFromSandboxInfo(this.sandbox.info, { firstDc }),
      store: memoryLifecycleStore(),
      ...o.client,
      onEvent: (e) => void events.push(e),
      onWire: (e) => void wire.push(e),
    });
    this.clients.push(client);
    await client.start();
    await client.login({ phone, code: async () => String(home).repeat(5) });
    check(client.status().state === 'authorized', `login ended in ${client.status().state}`);
    check(client.runtime.homeDc === home, `home DC ${client.runtime.homeDc} after login, expected ${home}`);
    return { client, phone, home, events, wire };
  }

  /** messages.sendMessage to Saved Messages with a random_id from the PRNG and a text unique to this run. */
  send(s: SessionHandle): SendHandle {
    const n = ++this.sends;
    const text = `fault ${this.scenario} seed ${this.seed} #${n}`;
    const randomId = this.rng.long(`random_id#${n}`);
    const answer = s.client.call<TlObject>({ _: 'messages.sendMessage', peer: { _: 'inputPeerSelf' }, message: text, random_id: randomId });
    // the caller awaits it; this only keeps an early rejection from counting as unhandled
    answer.catch(() => undefined);
    return { text, randomId, answer };
  }

  /** The send was answered, made exactly one message, and ran at most once on the server. */
  async checkSentOnce(s: SessionHandle, h: SendHandle): Promise<void> {
    const res = await h.answer;
    check(typeof res._ === 'string' && res._.startsWith('update'), `sendMessage answered ${String(res._)}`);
    const texts = await savedTexts(s.client);
    const same = texts.filter((t) => t === h.text).length;
    check(same === 1, `"${h.text}": ${same} messages in Saved Messages, expected exactly 1`);
    const runs = this.serverExecutions('messages.sendMessage');
    check(runs <= this.sends, `messages.sendMessage ran ${runs} times on the server for ${this.sends} send(s)`);
  }

  /** Server-side executions of a method in this run: received, not a duplicate msg_id, not rejected by a check. */
  serverExecutions(method: string): number {
    return this.serverWire.filter((e) => e.dir === 'in' && e.ctor === method && !/^(duplicate|rejected)/.test(e.note ?? '')).length;
  }

  /** One more call succeeds and the login is still there. */
  async checkUsable(s: SessionHandle, opts: { dcId?: number } = {}): Promise<void> {
    const users = await s.client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, opts.dcId !== undefined ? { dcId: opts.dcId } : {});
    check(Array.isArray(users) && users.length === 1 && users[0]!._ === 'user', 'users.getUsers(self) after the fault did not answer one user');
    check(s.client.status().state === 'authorized', `the client is ${s.client.status().state} after the fault`);
  }

  out(name: string): string {
    return join(this.dir, name);
  }

  /** Stops the run's clients and removes its folder. */
  async dispose(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop().catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function savedTexts(client: DcClient): Promise<string[]> {
  const h = await client.call<TlObject>({
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 100,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  return ((h.messages as TlObject[] | undefined) ?? []).map((m) => String(m.message ?? ''));
}

/** A seeded file: its location, current DC, size, sha256 and a reader of its true bytes. */
export interface SeededFile {
  key: string;
  location: TlObject;
  dcId: number;
  size: number;
  sha256: string;
  cdn: boolean;
  read(offset: number, length: number): Uint8Array;
}

export function seeded(sandbox: Sandbox, key: string): SeededFile {
  const info = sandbox.files().find((f) => f.key === key);
  if (!info) throw new Error(`no seeded file ${key}`);
  const media = sandbox.fileStore.media(key);
  if (media?.kind !== 'document') throw new Error(`seeded file ${key} is not a document`);
  const content = media.content;
  return {
    key,
    location: locationFromJson(info.location),
    dcId: info.dcId,
    size: info.size,
    sha256: info.sha256,
    cdn: info.cdn,
    read: (o, l) => content.read(o, l),
  };
}

export function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

/** After a download that succeeded: the file is byte-identical and no .part or sidecar is left. */
export function checkDownloaded(out: string, file: SeededFile, resSha: string): void {
  check(resSha === file.sha256, `download of ${file.key}: result sha256 ${resSha} differs from the seeded ${file.sha256}`);
  check(existsSync(out), `download of ${file.key}: ${out} is missing`);
  check(sha256File(out) === file.sha256, `download of ${file.key}: the file on disk is not byte-identical`);
  check(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`), `download of ${file.key}: .part or sidecar left after success`);
}

/**
 * After a download that failed: nothing at `out`, and the .part's sidecar claims only ranges whose bytes are the
 * file's true bytes, never the whole file (a .part that looks complete would be resumed into a wrong "done").
 */
export async function checkFailedDownload(out: string, file: SeededFile): Promise<void> {
  check(!existsSync(out), `failed download of ${file.key}: ${out} exists`);
  const sc = await readSidecar(out);
  if (!sc) return;
  check(existsSync(`${out}.part`), `failed download of ${file.key}: a sidecar without its .part`);
  const part = await fsp.readFile(`${out}.part`);
  let claimed = 0;
  for (const r of sc.done) {
    check(r.offset + r.length <= part.length, `failed download of ${file.key}: sidecar claims ${r.offset}+${r.length} beyond the .part's ${part.length} bytes`);
    const want = file.read(r.offset, r.length);
    check(
      Buffer.compare(part.subarray(r.offset, r.offset + r.length), Buffer.from(want)) === 0,
      `failed download of ${file.key}: bytes ${r.offset}+${r.length} marked done differ from the file`,
    );
    claimed += r.length;
  }
  check(claimed < file.size, `failed download of ${file.key}: the .part claims all ${file.size} bytes done`);
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'dclab-faults-sb-'));
}
