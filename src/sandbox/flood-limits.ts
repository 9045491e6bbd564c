// Per-method flood limits as Telegram applies them to logins: too many codes asked for one number, too many wrong
// codes, too many wrong 2FA passwords within a window → 420 FLOOD_WAIT_X, X = seconds until the window frees.
// A successful sign-in clears the counts of that number (or user), so logging in again and again — what tests and
// normal use do — never hits a limit; only requests nobody completes (code spam, guessing) do.
import { SandboxRpcError } from './errors';

export interface FloodLimit {
  /** Events allowed within the window; the next one answers FLOOD_WAIT_X. */
  max: number;
  windowSeconds: number;
}

export interface FloodLimitConfig {
  /** auth.sendCode / auth.resendCode per phone number (codes delivered and not used to sign in). */
  codes: FloodLimit;
  /** auth.signIn with a wrong code, per phone number. */
  wrongCodes: FloodLimit;
  /** auth.checkPassword with a wrong password, per user. */
  wrongPasswords: FloodLimit;
}

export const DEFAULT_FLOOD_LIMITS: Readonly<FloodLimitConfig> = {
  codes: { max: 5, windowSeconds: 60 },
  wrongCodes: { max: 5, windowSeconds: 60 },
  wrongPasswords: { max: 5, windowSeconds: 60 },
};

/** Timestamps of events per subject within a sliding window. */
export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();
  constructor(
    readonly limit: FloodLimit,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(limit.max) || limit.max < 1) throw new RangeError(`flood limit max must be a positive integer, got ${limit.max}`);
    if (!(limit.windowSeconds > 0)) throw new RangeError(`flood limit windowSeconds must be positive, got ${limit.windowSeconds}`);
  }

  private live(subject: string): number[] {
    const from = this.now() - this.limit.windowSeconds * 1000;
    const list = (this.hits.get(subject) ?? []).filter((t) => t > from);
    if (list.length) this.hits.set(subject, list);
    else this.hits.delete(subject);
    return list;
  }

  /** Throws 420 FLOOD_WAIT_X while `subject` has used up the window. */
  check(subject: string): void {
    const list = this.live(subject);
    if (list.length < this.limit.max) return;
    const freesAt = list[list.length - this.limit.max]! + this.limit.windowSeconds * 1000;
    throw floodWait(freesAt - this.now());
  }

  record(subject: string): void {
    const list = this.live(subject);
    list.push(this.now());
    this.hits.set(subject, list);
  }

  clear(subject: string): void {
    this.hits.delete(subject);
  }
}

/** 420 FLOOD_WAIT_X for a wait of `ms` (X rounded up, at least 1). */
export function floodWait(ms: number): SandboxRpcError {
  return new SandboxRpcError(420, `FLOOD_WAIT_${Math.max(1, Math.ceil(ms / 1000))}`);
}

/** The login limits of one sandbox world. `off` turns every check into a no-op. */
export class FloodLimits {
  readonly codes: SlidingWindow;
  readonly wrongCodes: SlidingWindow;
  readonly wrongPasswords: SlidingWindow;
  readonly enabled: boolean;
  constructor(now: () => number, config: Partial<FloodLimitConfig> | false = {}) {
    const c = config === false ? DEFAULT_FLOOD_LIMITS : { ...DEFAULT_FLOOD_LIMITS, ...config };
    this.enabled = config !== false;
    this.codes = new SlidingWindow(c.codes, now);
    this.wrongCodes = new SlidingWindow(c.wrongCodes, now);
    this.wrongPasswords = new SlidingWindow(c.wrongPasswords, now);
  }

  /** Before a code is delivered to `phone`. */
  codeRequested(phone: string): void {
    if (!this.enabled) return;
    this.codes.check(phone);
    this.codes.record(phone);
  }

  /** Before a code is checked: FLOOD_WAIT while the number has too many wrong codes. */
  checkCodeAttempt(phone: string): void {
    if (this.enabled) this.wrongCodes.check(phone);
  }

  codeWrong(phone: string): void {
    if (this.enabled) this.wrongCodes.record(phone);
  }

  /** The right code was given: the number's counts start over. */
  codeAccepted(phone: string): void {
    this.codes.clear(phone);
    this.wrongCodes.clear(phone);
  }

  checkPasswordAttempt(userId: bigint): void {
    if (this.enabled) this.wrongPasswords.check(String(userId));
  }

  passwordWrong(userId: bigint): void {
    if (this.enabled) this.wrongPasswords.record(String(userId));
  }

  passwordAccepted(userId: bigint): void {
    this.wrongPasswords.clear(String(userId));
  }

  describe(): FloodLimitConfig & { enabled: boolean } {
    return { enabled: this.enabled, codes: this.codes.limit, wrongCodes: this.wrongCodes.limit, wrongPasswords: this.wrongPasswords.limit };
  }
}
