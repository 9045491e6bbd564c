/**
 * A wire-level trace line as the trace layer sees it. Structurally the same as the MTProto layer's WireEvent,
 * declared here because src/trace sits beside the protocol layers and may not import them.
 */
export interface WireTraceEvent {
  time: number;
  dir: 'in' | 'out' | 'local';
  dcId: number;
  connId: string;
  kind: string;
  msgId?: string;
  seqno?: number;
  ctor: string;
  size: number;
  containerId?: string;
  acked?: boolean;
  reqMsgId?: string;
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
