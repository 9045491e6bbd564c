// The sandbox's one world, shared by all five DCs: users and their home DC, pending login codes, the per-DC
// authorization table, exported authorizations, SRP challenges, the inbox of delivered codes, and one auth-key
// store PER DC (keys are never shared between DCs: a key made on DC 4 is unknown to DC 3).
// Login codes, exported authorizations and SRP challenges expire, and expired ones are deleted (a sweep on an
// unref'd timer, besides the checks on use), with a cap on each so a flood of them cannot grow the world.
import { randomBytes as nodeRandomBytes, randomInt } from 'node:crypto';
import { srpVerifier } from '../crypto/srp';
import { bigIntToBytes } from '../crypto/bigint';
import { TELEGRAM_DH_PRIME } from '../crypto/dh';
import { SandboxRpcError, badRequest } from './errors';
import { FloodLimits, type FloodLimitConfig } from './flood-limits';
import { CODE_LENGTH, TEST_PASSWORD, hasTestPassword, isSandboxDc, normalizePhone, seedPhones, testPhoneCode, testPhoneDc } from './phones';

export const SRP_G = 3;
export const SRP_P = TELEGRAM_DH_PRIME;
export const SRP_P_BYTES = (): Uint8Array => bigIntToBytes(SRP_P, 256, 'be');

export interface PasswordRecord {
  salt1: Uint8Array;
  salt2: Uint8Array;
  /** Computed on first use (100000 PBKDF2 rounds): seeding ten users must not cost a second at start. */
  verifier(): Uint8Array;
  /** Bumped on every change so an SRP challenge made for an older password answers SRP_PASSWORD_CHANGED. */
  version: number;
}

export interface SandboxUser {
  id: bigint;
  phone: string;
  firstName: string;
  lastName: string;
  homeDc: number;
  accessHash: bigint;
  password: PasswordRecord | null;
}

export interface PendingCode {
  hash: string;
  phone: string;
  code: string;
  dcId: number;
  expires: number;
  /** signIn checked the code for an unregistered number: auth.signUp may now use this hash. */
  verified: boolean;
}

export interface Authorization {
  dcId: number;
  authKeyId: bigint;
  userId: bigint;
  /** 'login': sendCode/signIn/signUp/checkPassword on this DC; 'imported': auth.importAuthorization. */
  kind: 'login' | 'imported';
  time: number;
}

export interface ExportedAuthorization {
  id: bigint;
  bytes: Uint8Array;
  fromDc: number;
  targetDc: number;
  userId: bigint;
  expires: number;
  /** `${dcId}:${authKeyId}` of the key that imported it. */
  usedBy?: string;
}

export interface SrpChallenge {
  srpId: bigint;
  userId: bigint;
  dcId: number;
  authKeyId: bigint;
  b: bigint;
  B: Uint8Array;
  passwordVersion: number;
  expires: number;
}

export interface InboxEntry {
  phone: string;
  code: string;
  time: number;
  dcId: number;
}

export interface KeyStore {
  get(authKeyId: bigint): Uint8Array | undefined;
  set(authKeyId: bigint, key: Uint8Array): void;
  /** destroy_auth_key: forget one key (and its authorization on this DC). */
  delete(authKeyId: bigint): void;
}

export interface WorldOptions {
  /** DC of every number that is not a `99966XYYYY` test number (default 2). */
  nearestDc?: number;
  /** Clock in ms (tests move it to expire codes and exported authorizations). */
  now?: () => number;
  /** Lifetime of a login code (default 5 min), an exported authorization (5 min), an SRP challenge (5 min). */
  codeTtlMs?: number;
  exportTtlMs?: number;
  srpTtlMs?: number;
  /** How often expired codes, exports and challenges are deleted (default 60 s; 0 = only when used or added). */
  sweepMs?: number;
  /** At most this many pending login codes, exported authorizations and SRP challenges each (oldest go first; default 10,000). */
  maxPending?: number;
  /** Register the seed users 99966X1234 and 99966X9234 (default true). */
  seed?: boolean;
  /** Login flood limits (see flood-limits.ts); false turns them off. */
  floodLimits?: Partial<FloodLimitConfig> | false;
  log?: (line: string) => void;
}

const keyOf = (dcId: number, authKeyId: bigint): string => `${dcId}:${authKeyId}`;

export function randomBytes(n: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(n));
}

/** A random signed 64-bit value, never 0. */
export function randomLong(): bigint {
  for (;;) {
    const v = BigInt.asIntN(64, nodeRandomBytes(8).readBigUInt64LE(0));
    if (v !== 0n) return v;
  }
}

export function makePasswordRecord(password: string, version = 1): PasswordRecord {
  const salt1 = randomBytes(40);
  const salt2 = randomBytes(16);
  let verifier: Uint8Array | null = null;
  let secret: string | null = password;
  return {
    salt1,
    salt2,
    version,
    verifier() {
      if (!verifier) {
        verifier = srpVerifier(secret!, salt1, salt2, SRP_G, SRP_P);
        secret = null;
      }
      return verifier;
    },
  };
}

export const DEFAULT_WORLD_SWEEP_MS = 60_000;
export const DEFAULT_MAX_PENDING = 10_000;

/** Runs `sweep` on `target` every `ms` on an unref'd timer that holds it weakly; returns the timer. */
export function weakSweepTimer<T extends object>(target: T, ms: number, sweep: (t: T) => void): NodeJS.Timeout {
  const ref = new WeakRef(target);
  const timer: NodeJS.Timeout = setInterval(() => {
    const t = ref.deref();
    if (t) sweep(t);
    else clearInterval(timer);
  }, ms);
  timer.unref?.();
  return timer;
}

/** Deletes the oldest entries (insertion order) of a map over `max`. */
function capMap<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) m.delete(m.keys().next().value as K);
}

export class World {
  readonly nearestDc: number;
  readonly now: () => number;
  readonly codeTtlMs: number;
  readonly exportTtlMs: number;
  readonly srpTtlMs: number;
  readonly limits: FloodLimits;
  private readonly log: (line: string) => void;
  private readonly usersById = new Map<bigint, SandboxUser>();
  private readonly usersByPhone = new Map<string, SandboxUser>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly authorizations = new Map<string, Authorization>();
  /** Keys that passed signIn but still owe the 2FA password: key → user id. */
  private readonly passwordPending = new Map<string, bigint>();
  private readonly exported = new Map<bigint, ExportedAuthorization>();
  private readonly challenges = new Map<bigint, SrpChallenge>();
  private readonly delivered: InboxEntry[] = [];
  private readonly inboxListeners = new Set<(e: InboxEntry) => void>();
  private readonly keyStores = new Map<number, KeyStore & { size(): number; clear(): bigint[] }>();
  private nextUserId = 8_000_000_001n;
  private readonly maxPending: number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(opts: WorldOptions = {}) {
    const nearest = opts.nearestDc ?? 2;
    if (!isSandboxDc(nearest)) throw new RangeError(`nearestDc must be 1..5, got ${nearest}`);
    this.nearestDc = nearest;
    this.now = opts.now ?? Date.now;
    this.codeTtlMs = opts.codeTtlMs ?? 5 * 60_000;
    this.exportTtlMs = opts.exportTtlMs ?? 5 * 60_000;
    this.srpTtlMs = opts.srpTtlMs ?? 5 * 60_000;
    this.log = opts.log ?? (() => {});
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    const sweepMs = opts.sweepMs ?? DEFAULT_WORLD_SWEEP_MS;
    if (sweepMs > 0) this.sweepTimer = weakSweepTimer(this, sweepMs, (w) => w.sweep());
    this.limits = new FloodLimits(this.now, opts.floodLimits ?? {});
    if (opts.seed !== false) {
      for (const phone of seedPhones()) this.registerUser(phone, `Sandbox User ${phone.slice(5)}`);
    }
  }

  // ---- expiry ----

  /** Deletes expired login codes, exported authorizations and SRP challenges; returns how many of each. */
  sweep(): { codes: number; exported: number; challenges: number } {
    const now = this.now();
    const out = { codes: 0, exported: 0, challenges: 0 };
    for (const [h, c] of this.codes) if (c.expires <= now && this.codes.delete(h)) out.codes++;
    for (const [id, e] of this.exported) if (e.expires <= now && this.exported.delete(id)) out.exported++;
    for (const [id, c] of this.challenges) if (c.expires <= now && this.challenges.delete(id)) out.challenges++;
    return out;
  }

  /** Pending login codes, exported authorizations and SRP challenges held now (expired ones not swept yet included). */
  pendingCounts(): { codes: number; exported: number; challenges: number } {
    return { codes: this.codes.size, exported: this.exported.size, challenges: this.challenges.size };
  }

  /** Stops the sweep timer (the sandbox's stop). */
  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  // ---- auth keys: one store per DC ----

  keyStore(dcId: number): KeyStore {
    let store = this.keyStores.get(dcId);
    if (!store) {
      const keys = new Map<bigint, Uint8Array>();
      store = {
        get: (id) => keys.get(id),
        set: (id, key) => void keys.set(id, key),
        // destroy_auth_key: the key and what it was authorized for go together
        delete: (id) => {
          if (keys.delete(id)) this.unauthorize(dcId, id);
        },
        size: () => keys.size,
        clear: () => {
          const ids = [...keys.keys()];
          keys.clear();
          return ids;
        },
      };
      this.keyStores.set(dcId, store);
    }
    return store;
  }

  keyCount(dcId: number): number {
    return this.keyStores.get(dcId)?.size() ?? 0;
  }

  // ---- users ----

  userByPhone(phone: string): SandboxUser | undefined {
    return this.usersByPhone.get(phone);
  }

  userById(id: bigint): SandboxUser | undefined {
    return this.usersById.get(id);
  }

  users(): SandboxUser[] {
    return [...this.usersById.values()];
  }

  /** Where a number lives: a registered user's home DC, DC X for 99966XYYYY, else the nearest DC. */
  phoneHomeDc(phone: string): number {
    return this.usersByPhone.get(phone)?.homeDc ?? testPhoneDc(phone) ?? this.nearestDc;
  }

  /** PHONE_MIGRATE (registered or test numbers) or NETWORK_MIGRATE (new numbers, by "IP") when asked on the wrong DC. */
  phoneRedirect(phone: string, dcId: number): SandboxRpcError | null {
    const home = this.phoneHomeDc(phone);
    if (home === dcId) return null;
    const kind = this.usersByPhone.has(phone) || testPhoneDc(phone) !== null ? 'PHONE_MIGRATE' : 'NETWORK_MIGRATE';
    return new SandboxRpcError(303, `${kind}_${home}`);
  }

  /** Registers (or renames) a user; home DC from the phone rules; 99966X9YYY numbers get the password "sandbox". */
  registerUser(rawPhone: string, firstName: string, lastName = '', homeDc?: number): SandboxUser {
    const phone = normalizePhone(rawPhone);
    if (!phone) throw new RangeError(`invalid phone number: ${rawPhone}`);
    const existing = this.usersByPhone.get(phone);
    if (existing) {
      existing.firstName = firstName;
      existing.lastName = lastName;
      return existing;
    }
    const home = homeDc ?? testPhoneDc(phone) ?? this.nearestDc;
    if (!isSandboxDc(home)) throw new RangeError(`home DC must be 1..5, got ${home}`);
    const testDc = testPhoneDc(phone);
    const id = testDc !== null ? 7_000_000_000n + BigInt(phone.slice(5)) : this.nextUserId++;
    const user: SandboxUser = {
      id,
      phone,
      firstName,
      lastName,
      homeDc: home,
      accessHash: randomLong(),
      password: hasTestPassword(phone) ? makePasswordRecord(TEST_PASSWORD) : null,
    };
    this.usersById.set(id, user);
    this.usersByPhone.set(phone, user);
    return user;
  }

  private requireUser(rawPhone: string): SandboxUser {
    const phone = normalizePhone(rawPhone);
    const user = phone ? this.usersByPhone.get(phone) : undefined;
    if (!user) throw new RangeError(`no sandbox user with phone ${rawPhone}`);
    return user;
  }

  /** Scenario knob: the user's data moves to `dcId`; its login keys on other DCs then answer USER_MIGRATE_<dcId>. */
  moveUser(rawPhone: string, dcId: number): SandboxUser {
    if (!isSandboxDc(dcId)) throw new RangeError(`DC must be 1..5, got ${dcId}`);
    const user = this.requireUser(rawPhone);
    const from = user.homeDc;
    user.homeDc = dcId;
    this.log(`user ${user.id} (+${user.phone}) moved from DC${from} to DC${dcId}`);
    return user;
  }

  /** Scenario knob: sets (or with null removes) a user's 2FA password. The password itself is never logged. */
  setPassword(rawPhone: string, password: string | null): SandboxUser {
    const user = this.requireUser(rawPhone);
    const version = (user.password?.version ?? 0) + 1;
    user.password = password === null ? null : makePasswordRecord(password, version);
    this.log(`user ${user.id} (+${user.phone}): 2FA password ${password === null ? 'removed' : 'set'}`);
    return user;
  }

  /**
   * Scenario knob: DC `dcId` forgets every auth key it holds, with the authorizations, pending 2FA steps and SRP
   * challenges of those keys (a DC that lost its key store). The next message with an old key gets transport error
   * −404; other DCs keep their keys. Works for the CDN DC too (its key store exists while it runs). Returns how many
   * keys were forgotten.
   */
  dropAuthKeys(dcId: number): number {
    // DCs 1..5, and a DC that has a key store without being one of them: the CDN DC (203) when it runs
    if (!isSandboxDc(dcId) && !this.keyStores.has(dcId)) throw new RangeError(`DC must be 1..5 or the running CDN DC, got ${dcId}`);
    const ids = new Set(this.keyStores.get(dcId)?.clear() ?? []);
    for (const id of ids) this.unauthorize(dcId, id);
    for (const [srpId, c] of this.challenges) if (c.dcId === dcId && ids.has(c.authKeyId)) this.challenges.delete(srpId);
    this.log(`DC${dcId}: ${ids.size} auth key(s) forgotten`);
    return ids.size;
  }

  /**
   * Scenario knob: the user's authorizations are revoked (on every DC, or only on `dcId`), as after "terminate
   * sessions" from another device. The keys stay known to the DC; their calls answer 401 AUTH_KEY_UNREGISTERED.
   * Returns how many authorizations were revoked.
   */
  revokeAuthorizations(rawPhone: string, dcId?: number): number {
    const user = this.requireUser(rawPhone);
    const gone = this.authorizationsOf(user.id).filter((a) => dcId === undefined || a.dcId === dcId);
    for (const a of gone) this.unauthorize(a.dcId, a.authKeyId);
    this.log(`user ${user.id} (+${user.phone}): ${gone.length} authorization(s) revoked${dcId === undefined ? '' : ` on DC${dcId}`}`);
    return gone.length;
  }

  // ---- login codes and the inbox ----

  /** Makes and delivers a login code for `phone` on `dcId` (the caller has checked the redirect rules). */
  issueCode(phone: string, dcId: number): PendingCode {
    const code = testPhoneCode(phone) ?? String(randomInt(0, 10 ** CODE_LENGTH)).padStart(CODE_LENGTH, '0');
    const pending: PendingCode = {
      hash: Buffer.from(randomBytes(8)).toString('hex'),
      phone,
      code,
      dcId,
      expires: this.now() + this.codeTtlMs,
      verified: false,
    };
    this.codes.set(pending.hash, pending);
    capMap(this.codes, this.maxPending);
    this.deliver(pending);
    return pending;
  }

  deliver(pending: PendingCode): void {
    const entry: InboxEntry = { phone: pending.phone, code: pending.code, time: this.now(), dcId: pending.dcId };
    this.delivered.push(entry);
    if (this.delivered.length > 1000) this.delivered.splice(0, this.delivered.length - 1000);
    // Sandbox codes are the sandbox's inbox by design: printing them is the point.
    this.log(`inbox: login code ${pending.code} for +${pending.phone} (DC${pending.dcId})`);
    for (const l of this.inboxListeners) {
      try {
        l(entry);
      } catch {
        /* a listener's bug must not break sendCode */
      }
    }
  }

  onInbox(listener: (e: InboxEntry) => void): () => void {
    this.inboxListeners.add(listener);
    return () => this.inboxListeners.delete(listener);
  }

  inbox(): InboxEntry[] {
    return this.delivered.map((e) => ({ ...e }));
  }

  /** The pending code of `hash` if it is for `phone` on `dcId`; PHONE_CODE_HASH_EMPTY / PHONE_CODE_EXPIRED otherwise. */
  pendingCode(hash: unknown, phone: string, dcId: number): PendingCode {
    if (typeof hash !== 'string' || hash === '') throw badRequest('PHONE_CODE_HASH_EMPTY');
    const pending = this.codes.get(hash);
    if (!pending || pending.phone !== phone || pending.dcId !== dcId) throw badRequest('PHONE_CODE_EXPIRED');
    if (pending.expires <= this.now()) {
      this.codes.delete(hash);
      throw badRequest('PHONE_CODE_EXPIRED');
    }
    return pending;
  }

  consumeCode(hash: string): void {
    this.codes.delete(hash);
  }

  // ---- authorizations ----

  authorization(dcId: number, authKeyId: bigint): Authorization | undefined {
    return this.authorizations.get(keyOf(dcId, authKeyId));
  }

  authorizationsOf(userId: bigint): Authorization[] {
    return [...this.authorizations.values()].filter((a) => a.userId === userId);
  }

  authorize(dcId: number, authKeyId: bigint, userId: bigint, kind: Authorization['kind']): Authorization {
    const auth: Authorization = { dcId, authKeyId, userId, kind, time: this.now() };
    const k = keyOf(dcId, authKeyId);
    this.authorizations.set(k, auth);
    this.passwordPending.delete(k);
    this.log(`DC${dcId}: key ${authKeyId} authorized as user ${userId} (${kind})`);
    return auth;
  }

  unauthorize(dcId: number, authKeyId: bigint): boolean {
    const k = keyOf(dcId, authKeyId);
    this.passwordPending.delete(k);
    return this.authorizations.delete(k);
  }

  setPasswordPending(dcId: number, authKeyId: bigint, userId: bigint): void {
    this.passwordPending.set(keyOf(dcId, authKeyId), userId);
  }

  passwordPendingUser(dcId: number, authKeyId: bigint): bigint | undefined {
    return this.passwordPending.get(keyOf(dcId, authKeyId));
  }

  // ---- exported authorizations ----

  exportAuthorization(userId: bigint, fromDc: number, targetDc: number): ExportedAuthorization {
    const now = this.now();
    for (const [id, e] of this.exported) if (e.expires <= now) this.exported.delete(id);
    let id = randomLong();
    while (this.exported.has(id)) id = randomLong();
    const e: ExportedAuthorization = { id, bytes: randomBytes(128), fromDc, targetDc, userId, expires: now + this.exportTtlMs };
    this.exported.set(id, e);
    capMap(this.exported, this.maxPending);
    return e;
  }

  /** Checks exported bytes for an import on (dcId, authKeyId): AUTH_BYTES_INVALID for anything wrong. */
  redeemExported(id: unknown, bytes: unknown, dcId: number, authKeyId: bigint): ExportedAuthorization {
    const invalid = (why: string): SandboxRpcError => {
      this.log(`DC${dcId}: importAuthorization rejected (${why})`);
      return badRequest('AUTH_BYTES_INVALID');
    };
    if (typeof id !== 'bigint' || !(bytes instanceof Uint8Array)) throw invalid('malformed');
    const e = this.exported.get(id);
    if (!e) throw invalid('unknown id');
    if (!sameBytes(e.bytes, bytes)) throw invalid('bytes do not match');
    if (e.expires <= this.now()) throw invalid('expired');
    if (e.targetDc !== dcId) throw invalid(`exported for DC${e.targetDc}`);
    const k = keyOf(dcId, authKeyId);
    if (e.usedBy !== undefined && e.usedBy !== k) throw invalid('already used by another key');
    e.usedBy = k;
    return e;
  }

  // ---- SRP challenges ----

  addChallenge(c: Omit<SrpChallenge, 'srpId' | 'expires'>): SrpChallenge {
    const now = this.now();
    for (const [id, old] of this.challenges) if (old.expires <= now) this.challenges.delete(id);
    const challenge: SrpChallenge = { ...c, srpId: randomLong(), expires: now + this.srpTtlMs };
    this.challenges.set(challenge.srpId, challenge);
    capMap(this.challenges, this.maxPending);
    return challenge;
  }

  /** Removes and returns the challenge (each srp_id is good for one auth.checkPassword). */
  takeChallenge(srpId: unknown): SrpChallenge | undefined {
    if (typeof srpId !== 'bigint') return undefined;
    const c = this.challenges.get(srpId);
    if (!c) return undefined;
    this.challenges.delete(srpId);
    return c.expires > this.now() ? c : undefined;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
