import type { TraceEvent, TraceWireKind } from './event';

/**
 * A wire-level trace line as the trace layer sees it. Structurally the same as the MTProto layer's WireEvent,
 * declared here because src/trace sits beside the protocol layers and may not import them.
 */
export interface WireTraceEvent {
  time: number;
  dir: 'in' | 'out' | 'local';
  dcId: number;
  connId: string;
  kind: TraceWireKind;
  msgId?: string;
  seqno?: number;
  ctor: string;
  size: number;
  containerId?: string;
  acked?: boolean;
  reqMsgId?: string;
  ackMsgIds?: string[];
  note?: string;
}

const ARROW: Record<WireTraceEvent['dir'], string> = { out: '→', in: '←', local: '•' };

/** Renders events as an aligned, human-readable timeline (times relative to the first event). */
export function formatTimeline(events: readonly WireTraceEvent[]): string {
  if (events.length === 0) return '(no events)';
  const t0 = events[0]!.time;
  return events
    .map((e) => {
      const t = `+${(e.time - t0).toFixed(0).padStart(5)}ms`;
      const where = `DC${e.dcId} ${e.connId}`.padEnd(12);
      const ids = [
        e.msgId ? `msg_id=${e.msgId}` : '',
        e.seqno !== undefined ? `seqno=${e.seqno}` : '',
        e.containerId ? `in container ${e.containerId}` : '',
        e.reqMsgId ? `req=${e.reqMsgId}` : '',
        e.acked ? 'acked' : '',
      ]
        .filter(Boolean)
        .join(' ');
      const note = e.note ? `  — ${e.note}` : '';
      return `${t} ${where} ${ARROW[e.dir]} ${e.kind.padEnd(11)} ${e.ctor.padEnd(34)} ${String(e.size).padStart(6)}B ${ids}${note}`;
    })
    .join('\n');
}

/** How one trace event reads inside a chain (`auth.sendCode @DC2`, `auth key DC4 (3 round trips)`, ...). */
export function traceEventLabel(e: TraceEvent): string {
  const dc = e.dcId !== undefined ? ` DC${e.dcId}` : '';
  switch (e.kind) {
    case 'call':
      return `${e.name}${e.dcId !== undefined ? ` @DC${e.dcId}` : ''}`;
    case 'result':
    case 'error':
      return e.name;
    case 'redirect':
      return e.name;
    case 'key': {
      const rt = e.roundTrips !== undefined ? ` (${e.roundTrips} round trip${e.roundTrips === 1 ? '' : 's'})` : '';
      return `${e.name || 'auth key'}${dc}${rt}`;
    }
    case 'transfer':
      return `${e.name && e.name !== 'transfer' ? `transfer ${e.name}` : 'transfer'}${dc}${e.targetDc !== undefined ? ` to DC${e.targetDc}` : ''}`;
    case 'state':
      if (e.from !== undefined || e.to !== undefined) return `${e.name}${dc}: ${e.from ?? '?'} ⇒ ${e.to ?? '?'}`;
      return `${e.name}${dc}`;
    case 'flood-wait':
      return `${e.name || 'FLOOD_WAIT'}${e.waitSeconds !== undefined ? ` (${e.waitSeconds} s)` : ''}`;
    case 'file':
      return `${e.name}${dc}`;
    case 'wire-out':
      return `→ ${e.name}${dc}`;
    case 'wire-in':
      return `← ${e.name}${dc}`;
    default:
      return e.name;
  }
}

const isWire = (e: TraceEvent): boolean => e.kind === 'wire-in' || e.kind === 'wire-out';

/**
 * Renders trace events as chains: each root (an event without a parent, or whose parent is not in `events`) and
 * its descendants read as one line `auth.sendCode @DC2 → PHONE_MIGRATE_4 → connect DC4 → auth key DC4 (3 round
 * trips) → auth.sendCode @DC4 → auth.sentCode`, followed (details) by the chain's events indented by depth.
 * Wire events are left out unless `wire` is set (they are many; `formatTimeline` is the wire view).
 */
function isMachineTransition(e: TraceEvent): boolean {
  return e.kind === 'state' && e.from !== undefined && e.to !== undefined;
}

/** A file part (download or upload) or the answer to one: a 64 MiB download has 64 of each. */
function isPartStep(e: TraceEvent, byId: ReadonlyMap<number, TraceEvent>): boolean {
  if (e.kind === 'file') return e.name.startsWith('part ');
  const parent = e.parentId !== undefined ? byId.get(e.parentId) : undefined;
  return (e.kind === 'result' || e.kind === 'error') && parent !== undefined && parent.kind === 'file' && parent.name.startsWith('part ');
}

/**
 * The chain's labels, with runs of file parts folded into one step (`64 parts DC4 (3 failed)`), so a download's
 * line shows its redirects and transfers instead of a hundred parts; the details below still list each part.
 */
function storyLabels(story: readonly TraceEvent[], byId: ReadonlyMap<number, TraceEvent>): string[] {
  const out: string[] = [];
  let run: TraceEvent[] = [];
  const flush = (): void => {
    const parts = run.filter((e) => e.kind === 'file');
    if (parts.length >= 3) {
      const dcs = [...new Set(parts.map((e) => e.dcId).filter((d): d is number => d !== undefined))];
      const failed = run.filter((e) => e.kind === 'error').length;
      out.push(`${parts.length} parts${dcs.length ? ` ${dcs.map((d) => `DC${d}`).join('/')}` : ''}${failed ? ` (${failed} failed)` : ''}`);
    } else out.push(...run.map(traceEventLabel));
    run = [];
  };
  for (const e of story) {
    if (isPartStep(e, byId)) {
      run.push(e);
      continue;
    }
    flush();
    out.push(traceEventLabel(e));
  }
  flush();
  return out;
}

export function formatTraceTimeline(events: readonly TraceEvent[], opts: { details?: boolean; wire?: boolean } = {}): string {
  const details = opts.details ?? true;
  const shown = events
    .filter((e) => opts.wire || !isWire(e))
    .slice()
    .sort((a, b) => a.id - b.id);
  if (shown.length === 0) return '(no events)';
  const byId = new Map(shown.map((e) => [e.id, e]));
  const children = new Map<number, TraceEvent[]>();
  const roots: TraceEvent[] = [];
  for (const e of shown) {
    if (e.parentId !== undefined && byId.has(e.parentId)) {
      const list = children.get(e.parentId) ?? [];
      list.push(e);
      children.set(e.parentId, list);
    } else roots.push(e);
  }
  const t0 = shown[0]!.time;
  const rel = (t: number): string => `+${String(Math.round(t - t0)).padStart(6)}ms`;
  const lines: string[] = [];
  for (const root of roots) {
    const chain: { e: TraceEvent; depth: number }[] = [];
    const visit = (e: TraceEvent, depth: number): void => {
      chain.push({ e, depth });
      for (const c of children.get(e.id) ?? []) visit(c, depth + 1);
    };
    visit(root, 0);
    if (chain.length === 1) {
      lines.push(`${rel(root.time)}  ${root.kind.padEnd(10)} ${traceEventLabel(root)}${suffix(root)}`);
      continue;
    }
    // The summary follows id order (the order things happened), not tree order.
    // Machine transitions (state events with from/to) stay in the details: in the summary they drown the story.
    const ordered = chain.map((c) => c.e).sort((a, b) => a.id - b.id);
    const last = ordered[ordered.length - 1]!;
    const span = Math.round(last.time - root.time);
    const story = ordered.filter((e) => e === root || !isMachineTransition(e));
    lines.push(`${rel(root.time)}  chain #${root.id}: ${storyLabels(story, byId).join(' → ')}  (${span} ms)`);
    if (details) {
      for (const { e, depth } of chain) {
        lines.push(`${' '.repeat(11)}${'  '.repeat(depth + 1)}${rel(e.time)} #${e.id} ${e.kind.padEnd(10)} ${traceEventLabel(e)}${suffix(e)}`);
      }
    }
  }
  return lines.join('\n');
}

function suffix(e: TraceEvent): string {
  const parts: string[] = [];
  if (e.kind === 'redirect' && e.targetDc !== undefined) parts.push(`to DC${e.targetDc}`);
  if (e.durationMs !== undefined) parts.push(`${Math.round(e.durationMs)} ms`);
  if (e.msgId) parts.push(`msg_id=${e.msgId}`);
  if (e.note) parts.push(e.note);
  return parts.length ? `  — ${parts.join(', ')}` : '';
}
