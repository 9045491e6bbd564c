// Connection-level scenario knobs: drop a DC's connections after it has sent N bytes (a download cut at some
// offset), or drop every live connection now. Links are wrapped as they are accepted (index.ts / cdn.ts).
import type { ServerFrameLink } from '../transport/tcp';

interface DropRule {
  every: number;
  left: number;
  sent: number;
}

export class ConnectionFaults {
  private readonly live = new Map<number, Set<ServerFrameLink>>();
  private readonly rules = new Map<number, DropRule>();
  constructor(private readonly log: (line: string) => void = () => {}) {}

  /** Tracks the link and makes its send() obey the drop rules of its DC. */
  wrap(dcId: number, link: ServerFrameLink): ServerFrameLink {
    let set = this.live.get(dcId);
    if (!set) this.live.set(dcId, (set = new Set()));
    set.add(link);
    link.once('close', () => set!.delete(link));
    const send = link.send.bind(link);
    link.send = (payload: Uint8Array): void => {
      const r = this.rules.get(dcId);
      if (r) {
        r.sent += payload.length;
        if (r.sent >= r.every) {
          r.sent = 0;
          if (--r.left <= 0) this.rules.delete(dcId);
          this.log(`DC${dcId}: fault: connection dropped after ${r.every} bytes`);
          link.close('fault: dropped');
          return;
        }
      }
      send(payload);
    };
    return link;
  }

  /** The connection that makes DC `dcId`'s sent-byte counter reach `bytes` is closed (frame unsent); `times` drops. */
  dropAfterBytes(dcId: number, bytes: number, times = 1): void {
    if (!(bytes > 0) || !(times > 0)) throw new RangeError('bytes and times must be positive');
    this.rules.set(dcId, { every: bytes, left: times, sent: 0 });
  }

  /** Closes the live connections of one DC (or of all DCs) now; returns how many. */
  dropAll(dcId?: number): number {
    let n = 0;
    for (const [dc, set] of this.live) {
      if (dcId !== undefined && dc !== dcId) continue;
      for (const l of [...set]) {
        l.close('fault: dropped');
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.rules.clear();
  }
}
