// Per-profile persistence over the two backends. Everything secret (auth keys, api_hash) goes to `secrets`, the rest
// to `plain`; bigint is stored as a decimal string and Uint8Array as base64 because keyv JSON-serializes values.
import type { ProfileBackends } from './backends';
import { decodeBigInt, decodeBytes, encodeBigInt, encodeBytes } from './codec';

export type ProfileName = 'sandbox' | 'test' | 'production' | `custom:${string}`;

const CUSTOM_RE = /^custom:[A-Za-z0-9_.-]{1,64}$/;

export function parseProfileName(s: string): ProfileName {
  if (s === 'sandbox' || s === 'test' || s === 'production' || CUSTOM_RE.test(s)) return s as ProfileName;
  throw new Error(`unknown profile "${s}": expected sandbox, test, production or custom:<name> (name of letters, digits, _ . -)`);
}

export interface DcKeyRecord {
  dcId: number;
  /** 256 bytes; stored in the secrets backend only. */
  authKey: Uint8Array;
  serverSalt: bigint;
  timeOffset: number;
  /** ms since the epoch. */
  createdAt: number;
}

export interface ProfileSnapshot {
  profile: ProfileName;
  homeDc?: number;
  userId?: bigint;
  dcKeys: { dcId: number; createdAt: number }[];
  authorizedDcs: number[];
  apiId?: number;
  hasApiHash: boolean;
  hasDcOptions: boolean;
  hasLastTrace: boolean;
}

interface DcSessionPlain {
  serverSalt: string;
  timeOffset: number;
  createdAt: number;
}

function checkDcId(dcId: number): void {
  if (!Number.isInteger(dcId) || dcId <= 0 || dcId > 0xffff) throw new RangeError(`invalid DC id ${String(dcId)}`);
}

function checkJsonReady(v: unknown, path: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${path}: not a finite number`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkJsonReady(x, `${path}[${i}]`);
    });
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) checkJsonReady(x, `${path}.${k}`);
    return;
  }
  const what = typeof v === 'bigint' ? 'bigint' : v instanceof Uint8Array ? 'Uint8Array' : typeof v;
  throw new TypeError(`${path}: ${what} is not JSON-ready (convert with tlToJson first)`);
}

/** One queue per (plain backend, profile): every ProfileStore of a profile over the same backends shares it. */
const queues = new WeakMap<object, Map<string, { q: Promise<unknown> }>>();

function queueOf(backend: object, profile: string): { q: Promise<unknown> } {
  let m = queues.get(backend);
  if (!m) queues.set(backend, (m = new Map()));
  let e = m.get(profile);
  if (!e) m.set(profile, (e = { q: Promise.resolve() }));
  return e;
}

const sortNums = (a: number[]): number[] => [...new Set(a)].sort((x, y) => x - y);

export class ProfileStore {
  private readonly shared: { q: Promise<unknown> };
  /** The authorized DCs as this store's user last saw or wrote them (the base of setAuthorizedDcs' merge). */
  private authorizedSeen: number[] | undefined;

  constructor(
    private readonly backends: ProfileBackends,
    readonly profile: ProfileName,
  ) {
    parseProfileName(profile);
    this.shared = queueOf(backends.plain, profile);
  }

  /** Settles after every read-modify-write queued so far. */
  private get queue(): Promise<unknown> {
    return this.shared.q;
  }

  private k(field: string): string {
    return `${this.profile}:${field}`;
  }

  /**
   * Serializes read-modify-write sequences of every ProfileStore of this profile over these backends, and across
   * processes when the backends offer a transaction (the CLI's data dir).
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const tx = this.backends.transaction;
    const run = this.shared.q.then(() => (tx ? tx(fn) : fn()));
    this.shared.q = run.catch(() => {});
    return run;
  }

  private async getPlain<T>(field: string): Promise<T | undefined> {
    return (await this.backends.plain.get<T>(this.k(field))) ?? undefined;
  }

  /** A stored list of DC ids; anything else (a hand edit, another program's file) is an error naming the entry. */
  private async getDcList(field: 'dcKeys' | 'authorizedDcs'): Promise<number[]> {
    const v = await this.getPlain<unknown>(field);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d))) {
      const got = Array.isArray(v) ? 'an array holding a non-integer' : typeof v;
      throw new TypeError(`stored ${this.k(field)}: expected an array of DC ids, got ${got}`);
    }
    return v as number[];
  }

  private async setPlain(field: string, value: unknown): Promise<void> {
    await this.backends.plain.set(this.k(field), value);
  }

  // --- home DC, user ---------------------------------------------------------------------------------------------
  getHomeDc(): Promise<number | undefined> {
    return this.getPlain<number>('homeDc');
  }

  async setHomeDc(dcId: number): Promise<void> {
    checkDcId(dcId);
    await this.setPlain('homeDc', dcId);
  }

  async getUserId(): Promise<bigint | undefined> {
    const s = await this.getPlain<string>('userId');
    return s === undefined ? undefined : decodeBigInt(s);
  }

  async setUserId(id: bigint): Promise<void> {
    await this.setPlain('userId', encodeBigInt(id));
  }

  // --- per-DC auth keys --------------------------------------------------------------------------------------------
  async getDcKey(dcId: number): Promise<DcKeyRecord | undefined> {
    checkDcId(dcId);
    const [plain, secret] = await Promise.all([
      this.getPlain<DcSessionPlain>(`dc:${dcId}:session`),
      this.backends.secrets.get<string>(this.k(`dc:${dcId}:authKey`)),
    ]);
    if (!plain || typeof secret !== 'string') return undefined;
    return { dcId, authKey: decodeBytes(secret), serverSalt: decodeBigInt(plain.serverSalt), timeOffset: plain.timeOffset, createdAt: plain.createdAt };
  }

  async setDcKey(rec: DcKeyRecord): Promise<void> {
    checkDcId(rec.dcId);
    if (!(rec.authKey instanceof Uint8Array) || rec.authKey.length === 0) throw new TypeError('authKey must be a non-empty Uint8Array');
    const plain: DcSessionPlain = { serverSalt: encodeBigInt(rec.serverSalt), timeOffset: rec.timeOffset, createdAt: rec.createdAt };
    await this.serial(async () => {
      await this.backends.secrets.set(this.k(`dc:${rec.dcId}:authKey`), encodeBytes(rec.authKey));
      await this.setPlain(`dc:${rec.dcId}:session`, plain);
      const index = await this.getDcList('dcKeys');
      await this.setPlain('dcKeys', sortNums([...index, rec.dcId]));
    });
  }

  async updateDcSession(dcId: number, patch: { serverSalt?: bigint; timeOffset?: number }): Promise<void> {
    checkDcId(dcId);
    await this.serial(async () => {
      const cur = await this.getPlain<DcSessionPlain>(`dc:${dcId}:session`);
      if (!cur) throw new Error(`profile ${this.profile} has no auth key for DC ${dcId}`);
      await this.setPlain(`dc:${dcId}:session`, {
        ...cur,
        ...(patch.serverSalt !== undefined ? { serverSalt: encodeBigInt(patch.serverSalt) } : {}),
        ...(patch.timeOffset !== undefined ? { timeOffset: patch.timeOffset } : {}),
      });
    });
  }

  /** Drops the key of a DC (e.g. after -404). A new key is a new, unauthorized session, so the DC leaves authorizedDcs. */
  async deleteDcKey(dcId: number): Promise<void> {
    checkDcId(dcId);
    await this.serial(async () => {
      await this.backends.secrets.delete(this.k(`dc:${dcId}:authKey`));
      await this.backends.plain.delete(this.k(`dc:${dcId}:session`));
      const index = await this.getDcList('dcKeys');
      await this.setPlain(
        'dcKeys',
        index.filter((d) => d !== dcId),
      );
      const auth = await this.getDcList('authorizedDcs');
      if (auth.includes(dcId))
        await this.setPlain(
          'authorizedDcs',
          auth.filter((d) => d !== dcId),
        );
    });
  }

  async listDcKeys(): Promise<number[]> {
    await this.queue;
    return sortNums(await this.getDcList('dcKeys'));
  }

  // --- authorized DCs ----------------------------------------------------------------------------------------------
  async getAuthorizedDcs(): Promise<number[]> {
    const ids = await this.readAuthorizedDcs();
    this.authorizedSeen = ids;
    return [...ids];
  }

  private async readAuthorizedDcs(): Promise<number[]> {
    await this.queue;
    return sortNums(await this.getDcList('authorizedDcs'));
  }

  /**
   * Saves the caller's whole list as a change to what it last read or wrote here: DCs it added are added and DCs it
   * dropped are dropped, while DCs another process authorized meanwhile stay (two commands transferring to two DCs
   * at once both keep theirs). Without an earlier read the list replaces the stored one.
   */
  async setAuthorizedDcs(ids: number[]): Promise<void> {
    ids.forEach(checkDcId);
    const mine = sortNums(ids);
    const base = this.authorizedSeen;
    await this.serial(async () => {
      let next = mine;
      if (base) {
        const cur = await this.getDcList('authorizedDcs');
        next = sortNums([...cur.filter((d) => mine.includes(d) || !base.includes(d)), ...mine.filter((d) => !base.includes(d))]);
      }
      await this.setPlain('authorizedDcs', next);
    });
    this.authorizedSeen = mine;
  }

  async addAuthorizedDc(dcId: number): Promise<void> {
    checkDcId(dcId);
    await this.serial(async () => {
      const cur = await this.getDcList('authorizedDcs');
      await this.setPlain('authorizedDcs', sortNums([...cur, dcId]));
    });
  }

  async removeAuthorizedDc(dcId: number): Promise<void> {
    await this.serial(async () => {
      const cur = await this.getDcList('authorizedDcs');
      await this.setPlain(
        'authorizedDcs',
        cur.filter((d) => d !== dcId),
      );
    });
  }

  // --- cached topology ---------------------------------------------------------------------------------------------
  getDcOptions<T = unknown>(): Promise<{ options: T; savedAt: number } | undefined> {
    return this.getPlain<{ options: T; savedAt: number }>('dcOptions');
  }

  async setDcOptions(options: unknown): Promise<void> {
    checkJsonReady(options, 'dcOptions');
    await this.setPlain('dcOptions', { options, savedAt: Date.now() });
  }

  // --- API credentials ---------------------------------------------------------------------------------------------
  getApiId(): Promise<number | undefined> {
    return this.getPlain<number>('apiId');
  }

  async setApiId(apiId: number): Promise<void> {
    if (!Number.isInteger(apiId) || apiId <= 0) throw new RangeError('api_id must be a positive integer');
    await this.setPlain('apiId', apiId);
  }

  async getApiHash(): Promise<string | undefined> {
    return (await this.backends.secrets.get<string>(this.k('apiHash'))) ?? undefined;
  }

  async setApiHash(apiHash: string): Promise<void> {
    if (typeof apiHash !== 'string' || apiHash === '') throw new TypeError('api_hash must be a non-empty string');
    await this.backends.secrets.set(this.k('apiHash'), apiHash);
  }

  // --- last session's trace ----------------------------------------------------------------------------------------
  getLastTrace<T = unknown>(): Promise<T | undefined> {
    return this.getPlain<T>('lastTrace');
  }

  /** Stores a trace export (already redacted by src/trace), keeping only its last `maxEvents` events. */
  async setLastTrace(trace: { events: unknown[] }, maxEvents = 5000): Promise<void> {
    if (!trace || !Array.isArray(trace.events)) throw new TypeError('trace must be an object with an events array');
    const bounded = trace.events.length > maxEvents ? { ...trace, events: trace.events.slice(-maxEvents) } : trace;
    checkJsonReady(bounded, 'lastTrace');
    await this.setPlain('lastTrace', bounded);
  }

  // --- whole profile -----------------------------------------------------------------------------------------------
  async snapshot(): Promise<ProfileSnapshot> {
    await this.queue;
    const [homeDc, userId, dcs, authorizedDcs, apiId, apiHash, dcOptions, lastTrace] = await Promise.all([
      this.getHomeDc(),
      this.getUserId(),
      this.listDcKeys(),
      this.readAuthorizedDcs(),
      this.getApiId(),
      this.backends.secrets.has(this.k('apiHash')),
      this.backends.plain.has(this.k('dcOptions')),
      this.backends.plain.has(this.k('lastTrace')),
    ]);
    const dcKeys: ProfileSnapshot['dcKeys'] = [];
    for (const dcId of dcs) {
      const s = await this.getPlain<DcSessionPlain>(`dc:${dcId}:session`);
      if (s) dcKeys.push({ dcId, createdAt: s.createdAt });
    }
    return {
      profile: this.profile,
      ...(homeDc !== undefined ? { homeDc } : {}),
      ...(userId !== undefined ? { userId } : {}),
      dcKeys,
      authorizedDcs,
      ...(apiId !== undefined ? { apiId } : {}),
      hasApiHash: apiHash === true,
      hasDcOptions: dcOptions === true,
      hasLastTrace: lastTrace === true,
    };
  }

  /** Removes everything of this profile from both backends; other profiles are untouched. */
  async clear(): Promise<void> {
    await this.serial(async () => {
      const dcs = await this.getDcList('dcKeys');
      await this.backends.secrets.delete([this.k('apiHash'), ...dcs.map((d) => this.k(`dc:${d}:authKey`))]);
      await this.backends.plain.delete([
        ...['homeDc', 'userId', 'authorizedDcs', 'dcOptions', 'apiId', 'lastTrace'].map((f) => this.k(f)),
        ...dcs.map((d) => this.k(`dc:${d}:session`)),
        this.k('dcKeys'),
      ]);
    });
  }
}
