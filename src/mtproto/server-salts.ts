// Server salts that rotate, as Telegram's do (mtproto/description "Server Salt", service_messages "Request for
// several future salts"). Time is cut into periods of `periodSeconds`; every auth key has one salt per period,
// derived from a per-server secret, so future salts can be announced before they are in force. A message is
// accepted with the salt of the current period, or with the previous one for `graceSeconds` after the change
// (clients switch on their own clock, which may lag). rotate() starts a new period now (a fault on demand).
// The salt chosen by a key exchange (new_nonce ⊕ server_nonce) is the key's salt for the period it was made in.
import { createHash } from 'node:crypto';
import { randomBytes } from '../crypto/random';
import type { FutureSalt } from './service-messages';

export interface ServerSaltOptions {
  /** Length of one salt's period (default 3600 s). */
  periodSeconds?: number;
  /** How long the previous salt is still accepted after a change (default half a period, at most 1800 s). */
  graceSeconds?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export class ServerSalts {
  readonly periodSeconds: number;
  readonly graceSeconds: number;
  private readonly now: () => number;
  private readonly secret = randomBytes(32);
  /** Period boundaries are origin + k·period, shifted by rotate(). */
  private origin: number;
  private bumps = 0;
  private readonly initial = new Map<bigint, { index: number; salt: bigint }>();

  constructor(opts: ServerSaltOptions = {}) {
    this.periodSeconds = Math.max(1, opts.periodSeconds ?? 3600);
    this.graceSeconds = Math.max(0, opts.graceSeconds ?? Math.min(1800, this.periodSeconds / 2));
    this.now = opts.now ?? Date.now;
    // whole seconds: future_salts announces integer times, so a boundary must fall on one
    this.origin = Math.floor(this.now() / 1000);
  }

  private index(nowS: number): number {
    return Math.floor((nowS - this.origin) / this.periodSeconds) + this.bumps;
  }

  /** Unix time (s) at which the current period began. */
  private periodStart(nowS: number): number {
    return this.origin + Math.floor((nowS - this.origin) / this.periodSeconds) * this.periodSeconds;
  }

  private saltAt(authKeyId: bigint, index: number): bigint {
    const first = this.initial.get(authKeyId);
    if (first && first.index === index) return first.salt;
    const h = createHash('sha256').update(this.secret).update(`${authKeyId}:${index}`).digest();
    return h.readBigInt64LE(0);
  }

  /** The salt of the current period for a key. */
  current(authKeyId: bigint): bigint {
    return this.saltAt(authKeyId, this.index(this.now() / 1000));
  }

  /**
   * Whether a message with `salt` is accepted now: the current salt, the previous one within the grace time
   * after the change, or the next one within the grace time before it (a client clock a little ahead switches
   * early; its time is only known to the second).
   */
  accepts(authKeyId: bigint, salt: bigint): boolean {
    const nowS = this.now() / 1000;
    const k = this.index(nowS);
    if (salt === this.saltAt(authKeyId, k)) return true;
    const start = this.periodStart(nowS);
    if (nowS - start < this.graceSeconds && salt === this.saltAt(authKeyId, k - 1)) return true;
    return start + this.periodSeconds - nowS < this.graceSeconds && salt === this.saltAt(authKeyId, k + 1);
  }

  /** The key exchange's salt: in force for the rest of the current period. */
  setInitial(authKeyId: bigint, salt: bigint): void {
    this.initial.set(authKeyId, { index: this.index(this.now() / 1000), salt });
    if (this.initial.size > 100_000) this.initial.delete(this.initial.keys().next().value as bigint);
  }

  /** `num` salts from the current one on, with the unix times they are valid between. */
  future(authKeyId: bigint, num: number): FutureSalt[] {
    const nowS = this.now() / 1000;
    const k = this.index(nowS);
    const start = this.periodStart(nowS);
    const out: FutureSalt[] = [];
    for (let i = 0; i < num; i++) {
      const since = start + i * this.periodSeconds;
      const until = start + (i + 1) * this.periodSeconds;
      out.push({ valid_since: Math.floor(since), valid_until: Math.floor(until), salt: this.saltAt(authKeyId, k + i) });
    }
    return out;
  }

  /** Every key gets a new salt now; the previous one stays accepted for the grace time. */
  rotate(): void {
    const nowS = this.now() / 1000;
    // a new period starts now: shift the origin so that now is a boundary, and count one more period
    this.bumps = this.index(nowS) + 1;
    this.origin = Math.floor(nowS);
  }
}
