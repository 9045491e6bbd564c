// Lifecycle events as one-line progress messages (the redirect chain "as it happens"). Events never carry secrets
// (src/lifecycle redacts payloads), and these lines print no payloads at all.
import type { LifecycleEvent } from '../lifecycle';
import type { TraceEvent } from '../trace';

export function progressLine(e: LifecycleEvent): string | undefined {
  const dc = e.dcId !== undefined ? `DC${e.dcId}` : '';
  switch (e.kind) {
    case 'call':
      if (e.note?.startsWith('repeated')) return `  ${e.name} @${dc} (${e.note})`;
      return e.parentId === undefined ? `  ${e.name} @${dc}` : undefined;
    case 'redirect':
      return `  ← ${e.name}: ${dc} sends us to DC${e.targetDc ?? '?'}`;
    case 'key':
      if (e.name === 'auth key') return `  auth key ${dc} created${e.roundTrips !== undefined ? ` (${e.roundTrips} round trips)` : ''}`;
      return `  ${e.name} ${dc}${e.note ? ` (${e.note})` : ''}`;
    case 'transfer':
      return `  transfer ${dc} → DC${e.targetDc ?? '?'}: auth.exportAuthorization / auth.importAuthorization`;
    case 'flood-wait':
      return `  ${e.name} on ${dc}: ${e.note ?? ''}`;
    case 'error':
      if (e.name === 'SESSION_PASSWORD_NEEDED') return `  ← SESSION_PASSWORD_NEEDED: the account has a 2FA password`;
      return `  ✗ ${e.name}${dc ? ` @${dc}` : ''}${e.note && e.note !== e.name ? `: ${e.note}` : ''}`;
    case 'state':
      if (e.name === 'connect') return `  connect ${dc}${e.note ? ` (${e.note})` : ''}`;
      if (e.name === 'stored auth key') return `  ${dc}: stored auth key (no handshake)`;
      if (e.name === 'home DC') return `  home DC: ${e.from ?? '?'} ⇒ ${e.to ?? '?'}${e.note ? ` (${e.note})` : ''}`;
      if (e.name === 'authorized') return `  ${dc} authorized${e.note ? ` (${e.note})` : ''}`;
      if (e.name === 'logged out') return `  logged out${e.note ? ` (${e.note})` : ''}`;
      return undefined;
    default:
      return undefined;
  }
}

/** True for the XState transitions of the client and session actors ('client: …', 'DC4 session: …'). */
export function isMachineTransition(e: TraceEvent): boolean {
  return e.kind === 'state' && /^(client|DC\d+ session): /.test(e.name);
}

/**
 * Drops machine transitions for a readable timeline. Their children (none in practice) would become roots, so
 * the parent links of what is kept are untouched.
 */
export function withoutMachineTransitions(events: readonly TraceEvent[]): TraceEvent[] {
  return events.filter((e) => !isMachineTransition(e));
}
