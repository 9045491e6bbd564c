// Scenario knob: make chosen calls answer a chosen rpc_error, so every error path of a client (FLOOD_WAIT,
// redirect loops, STATS_MIGRATE, AUTH_BYTES_INVALID, ...) can be reached on purpose against the real server.
import { SandboxRpcError } from './errors';

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

export class FaultInjector {
  private rules: (FaultRule & { left: number })[] = [];

  add(rule: FaultRule): void {
    if (!/^[A-Z0-9_]+$/.test(rule.error)) throw new TypeError(`fault error must be an uppercase token like FLOOD_WAIT_3, got "${rule.error}"`);
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault this call hits, consuming one use of the first matching rule, or undefined. */
  take(method: string, dcId: number): SandboxRpcError | undefined {
    const rule = this.rules.find((r) => r.left > 0 && (r.method === '*' || r.method === method) && (r.dcId === undefined || r.dcId === dcId));
    if (!rule) return undefined;
    rule.left--;
    return new SandboxRpcError(rule.code ?? errorCodeFor(rule.error), rule.error);
  }
}
