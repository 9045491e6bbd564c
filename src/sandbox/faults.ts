// Scenario knob: make chosen calls answer a chosen rpc_error, so every error path of a client (FLOOD_WAIT,
// redirect loops, STATS_MIGRATE, AUTH_BYTES_INVALID, ...) can be reached on purpose against the real server.
// A flood timer is the time-based kind: until it runs out, every call of the method answers FLOOD_WAIT_<seconds left>.
import { SandboxRpcError } from './errors';
import { floodWait } from './flood-limits';

export interface FaultRule {
  /** Method name (`auth.sendCode`) or `*` for every method. */
  method: string;
  /** The rpc_error text, e.g. `FLOOD_WAIT_3`, `PHONE_MIGRATE_3`, `AUTH_BYTES_INVALID`. */
  error: string;
  /** HTTP-like class; derived from the text when absent (303 *_MIGRATE_X, 420 FLOOD_WAIT_X, 401 AUTH_/SESSION_, else 400). */
  code?: number;
  /** Only on this DC. */
  dcId?: number;
  /** How many calls it hits before it is spent (default 1; Infinity for a permanent fault). */
  times?: number;
}

export function errorCodeFor(error: string): number {
  if (/_MIGRATE_\d+$/.test(error)) return 303;
  if (/^(FLOOD_WAIT|FLOOD_PREMIUM_WAIT|SLOWMODE_WAIT)_\d+$/.test(error)) return 420;
  if (/^(AUTH_KEY_|SESSION_|USER_DEACTIVATED)/.test(error)) return 401;
  if (/^(INTERNAL|RPC_CALL_FAIL|.*_TIMEOUT$)/.test(error)) return 500;
  return 400;
}

export interface FloodTimer {
  /** Method name or `*`. */
  method: string;
  dcId?: number;
  /** When it runs out (ms, the World's clock). */
  until: number;
}

/** What `list()` reports (the control channel's status). */
export interface ActiveFaults {
  rpcErrors: { method: string; error: string; code: number; dcId?: number; left: number | 'unlimited' }[];
  floods: { method: string; dcId?: number; secondsLeft: number }[];
}

const matches = (r: { method: string; dcId?: number }, method: string, dcId: number): boolean =>
  (r.method === '*' || r.method === method) && (r.dcId === undefined || r.dcId === dcId);

export class FaultInjector {
  private rules: (FaultRule & { left: number })[] = [];
  private floods: FloodTimer[] = [];
  constructor(private readonly now: () => number = Date.now) {}

  add(rule: FaultRule): void {
    if (!/^[A-Z0-9_]+$/.test(rule.error)) throw new TypeError(`fault error must be an uppercase token like FLOOD_WAIT_3, got "${rule.error}"`);
    const times = rule.times ?? 1;
    if (!(times >= 1)) throw new RangeError(`fault times must be at least 1, got ${times}`);
    this.rules.push({ ...rule, left: times });
  }

  /** Every call of `method` (on `dcId`, or any DC) answers FLOOD_WAIT_<seconds left> for the next `seconds`. */
  addFlood(method: string, seconds: number, dcId?: number): FloodTimer {
    if (!(seconds > 0) || !Number.isFinite(seconds)) throw new RangeError(`flood seconds must be a positive number, got ${seconds}`);
    const timer: FloodTimer = { method, until: this.now() + seconds * 1000, ...(dcId === undefined ? {} : { dcId }) };
    this.floods = this.floods.filter((f) => !(f.method === method && f.dcId === dcId));
    this.floods.push(timer);
    return timer;
  }

  clear(): void {
    this.rules = [];
    this.floods = [];
  }

  /** The fault this call hits (a running flood timer, else one use of the first matching rule), or undefined. */
  take(method: string, dcId: number): SandboxRpcError | undefined {
    const now = this.now();
    this.floods = this.floods.filter((f) => f.until > now);
    const flood = this.floods.find((f) => matches(f, method, dcId));
    if (flood) return floodWait(flood.until - now);
    const rule = this.rules.find((r) => r.left > 0 && matches(r, method, dcId));
    if (!rule) return undefined;
    rule.left--;
    this.rules = this.rules.filter((r) => r.left > 0);
    return new SandboxRpcError(rule.code ?? errorCodeFor(rule.error), rule.error);
  }

  list(): ActiveFaults {
    const now = this.now();
    return {
      rpcErrors: this.rules
        .filter((r) => r.left > 0)
        .map((r) => ({
          method: r.method,
          error: r.error,
          code: r.code ?? errorCodeFor(r.error),
          ...(r.dcId === undefined ? {} : { dcId: r.dcId }),
          left: Number.isFinite(r.left) ? r.left : 'unlimited',
        })),
      floods: this.floods
        .filter((f) => f.until > now)
        .map((f) => ({ method: f.method, ...(f.dcId === undefined ? {} : { dcId: f.dcId }), secondsLeft: Math.ceil((f.until - now) / 1000) })),
    };
  }
}
