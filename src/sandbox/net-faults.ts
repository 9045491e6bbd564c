// Connection-level scenario knobs: drop a DC's connections after it has sent N bytes (a download cut at some
// offset), drop every live connection now, answer the next new connections with a transport error, and refuse a
// connection beyond the per-address limit with −429 as Telegram does. Links pass admit() as they are accepted
// (index.ts / cdn.ts), which also keeps the live-connection counts.
import { encodeTransportError } from '../transport/codec';
import type { ServerFrameLink } from '../transport/tcp';

interface DropRule {
  every: number;
  left: number;
  sent: number;
}

interface TransportErrorRule {
  /** Negative, as on the wire (−404). */
  code: number;
  dcId?: number;
  left: number;
}

/** Transport error magnitudes the knob accepts (HTTP-like: 404, 429, 444, 403, ...). */
export const TRANSPORT_ERROR_RANGE = { min: 100, max: 999 } as const;

/** −404 from 404 or −404; a RangeError naming the value otherwise. */
export function transportErrorFrom(code: number): number {
  const abs = Math.abs(code);
  if (!Number.isInteger(code) || abs < TRANSPORT_ERROR_RANGE.min || abs > TRANSPORT_ERROR_RANGE.max) {
    throw new RangeError(
      `transport error code must be ${TRANSPORT_ERROR_RANGE.min}..${TRANSPORT_ERROR_RANGE.max} or its negative (e.g. 404, 429, 444), got ${code}`,
    );
  }
  return -abs;
}

/** The address part of a link's "host:port" / "[v6]:port". */
export function remoteAddress(remote: string): string {
  const v6 = /^\[(.*)\]:\d+$/.exec(remote);
  if (v6) return v6[1]!;
  const i = remote.lastIndexOf(':');
  return i > 0 ? remote.slice(0, i) : remote;
}

export interface ConnectionFaultsOptions {
  log?: (line: string) => void;
  /** Live connections one remote address may hold to one DC; the next one gets −429 (0 = no limit). */
  maxPerAddress?: number;
}

export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 128;
/** A refused connection that never sends a packet is closed after this long. */
const REFUSED_SILENCE_MS = 10_000;

export class ConnectionFaults {
  private readonly live = new Map<number, Set<ServerFrameLink>>();
  private readonly rules = new Map<number, DropRule>();
  private transportErrors: TransportErrorRule[] = [];
  private readonly log: (line: string) => void;
  readonly maxPerAddress: number;
  constructor(opts: ConnectionFaultsOptions = {}) {
    this.log = opts.log ?? (() => {});
    this.maxPerAddress = opts.maxPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    if (!Number.isInteger(this.maxPerAddress) || this.maxPerAddress < 0)
      throw new RangeError(`max connections per address must be an integer ≥ 0, got ${this.maxPerAddress}`);
  }

  /**
   * A new link of DC `dcId`: false when it is refused (a pending transport-error rule of main DCs, or the per-address
   * limit) — it then answers its first packet with the error and closes. Otherwise it is tracked and its send()
   * obeys the drop rules of its DC.
   */
  admit(dcId: number, link: ServerFrameLink, opts: { mainDc: boolean }): boolean {
    const rule = opts.mainDc ? this.transportErrors.find((r) => r.left > 0 && (r.dcId === undefined || r.dcId === dcId)) : undefined;
    if (rule) {
      rule.left--;
      this.transportErrors = this.transportErrors.filter((r) => r.left > 0);
      this.refuse(dcId, link, rule.code, `fault: transport error ${rule.code}`);
      return false;
    }
    if (this.maxPerAddress > 0) {
      const address = remoteAddress(link.remote);
      const from = [...(this.live.get(dcId) ?? [])].filter((l) => remoteAddress(l.remote) === address).length;
      if (from >= this.maxPerAddress) {
        this.refuse(dcId, link, -429, `${from} connections from ${address} already (limit ${this.maxPerAddress})`);
        return false;
      }
    }
    this.track(dcId, link);
    return true;
  }

  private refuse(dcId: number, link: ServerFrameLink, code: number, why: string): void {
    this.log(`DC${dcId}: connection from ${link.remote} refused with transport error ${code} (${why})`);
    // answered on the first packet: the client has written its request and reads the answer before the close
    const silent = setTimeout(() => link.close('refused: no packet'), REFUSED_SILENCE_MS);
    silent.unref();
    link.once('close', () => clearTimeout(silent));
    link.once('frame', () => {
      link.send(encodeTransportError(code));
      link.close(`refused: transport error ${code}`);
    });
  }

  private track(dcId: number, link: ServerFrameLink): void {
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
  }

  /** The connection that makes DC `dcId`'s sent-byte counter reach `bytes` is closed (frame unsent); `times` drops. */
  dropAfterBytes(dcId: number, bytes: number, times = 1): void {
    if (!(bytes > 0) || !(times > 0)) throw new RangeError('bytes and times must be positive');
    this.rules.set(dcId, { every: bytes, left: times, sent: 0 });
  }

  /** The next `count` new connections of DC `dcId` (or of any main DC) answer their first packet with `code`. */
  addTransportErrors(code: number, count: number, dcId?: number): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    this.transportErrors.push({ code: transportErrorFrom(code), left: count, ...(dcId === undefined ? {} : { dcId }) });
  }

  /** Closes the live connections of one DC (or of all DCs) now; returns how many. */
  dropAll(dcId?: number): number {
    let n = 0;
    for (const [dc, set] of this.live) {
      if (dcId !== undefined && dc !== dcId) continue;
      for (const l of [...set]) {
        // a cut, not a goodbye: answers still held back by injected latency are lost with the connection
        l.cut('fault: dropped');
        n++;
      }
    }
    return n;
  }

  /** Live connections of a DC. */
  count(dcId: number): number {
    return this.live.get(dcId)?.size ?? 0;
  }

  /** Pending knobs, for the control channel's status. */
  list(): { transportErrors: { code: number; dcId?: number; left: number }[]; dropAfterBytes: { dcId: number; bytes: number; left: number }[] } {
    return {
      transportErrors: this.transportErrors.map((r) => ({ code: r.code, ...(r.dcId === undefined ? {} : { dcId: r.dcId }), left: r.left })),
      dropAfterBytes: [...this.rules].map(([dcId, r]) => ({ dcId, bytes: r.every, left: r.left })),
    };
  }

  /** Removes the pending rules (byte drops and transport errors); live connections stay. */
  clear(): void {
    this.rules.clear();
    this.transportErrors = [];
  }
}
