// msg_id and seqno bookkeeping (mtproto/description: "Message Identifier (msg_id)", "Message Sequence Number").
// msg_id ≈ unixtime * 2^32 (sub-second fraction in the low half); client ids ≡ 0 mod 4, server answers ≡ 1 mod 4,
// server-initiated messages ≡ 3 mod 4; strictly increasing within one clock.

export type MsgIdKind = 'client' | 'response' | 'notification';
const RESIDUE: Record<MsgIdKind, bigint> = { client: 0n, response: 1n, notification: 3n };

export class MsgIdClock {
  /** Seconds to add to the local clock to get the server's time (integer). */
  timeOffset: number;
  /** True once the offset came from the server (a server msg_id or the handshake's server_time). */
  synced: boolean;
  private last = 0n;
  private readonly now: () => number;

  constructor(opts: { timeOffset?: number; synced?: boolean; now?: () => number } = {}) {
    this.timeOffset = opts.timeOffset ?? 0;
    this.synced = opts.synced ?? false;
    this.now = opts.now ?? Date.now;
  }

  /** The server's current time in milliseconds as this clock believes it. */
  serverNowMs(): number {
    return this.now() + this.timeOffset * 1000;
  }

  /** Next client msg_id (divisible by 4). */
  next(): bigint {
    return this.nextOf('client');
  }

  /** Server side: next id for an answer (≡ 1 mod 4) or a server-initiated message (≡ 3 mod 4). */
  nextServer(kind: 'response' | 'notification' = 'response'): bigint {
    return this.nextOf(kind);
  }

  private nextOf(kind: MsgIdKind): bigint {
    const ms = this.serverNowMs();
    const sec = Math.floor(ms / 1000);
    const frac = BigInt(Math.floor(((ms - sec * 1000) / 1000) * 2 ** 32)) & 0xfffffffcn;
    let base = (BigInt(sec) << 32n) | frac;
    const lastBase = this.last & ~3n;
    if (base <= lastBase) base = lastBase + 4n;
    // the lower 32 bits (the fraction of a second) are never all zero: servers read zero as a badly made id
    if ((base & 0xffffffffn) === 0n) base += 4n;
    const id = base | RESIDUE[kind];
    this.last = id;
    return id;
  }

  /** Adopts the server's time from one of its msg_ids (after bad_msg_notification 16/17). */
  syncFromServerMsgId(id: bigint): void {
    const serverMs = Number(id >> 32n) * 1000 + Math.floor((Number(id & 0xffffffffn) / 2 ** 32) * 1000);
    this.timeOffset = Math.round((serverMs - this.now()) / 1000);
    this.synced = true;
    // Ids already handed out must stay below the next ones only within the same time base; when the clock moves
    // back, restart the monotonic floor (the server forgets ids of rejected messages).
    this.last = 0n;
  }

  /** Seconds between a peer msg_id's time and this clock's server time (positive: the id is in the future). */
  skewOf(id: bigint): number {
    const idMs = Number(id >> 32n) * 1000 + (Number(id & 0xffffffffn) / 2 ** 32) * 1000;
    return (idMs - this.serverNowMs()) / 1000;
  }
}

/** Unix time (seconds) encoded in a msg_id. */
export function msgIdTime(id: bigint): number {
  return Number(id >> 32n);
}

/** seqno: twice the number of content-related messages sent before, plus one for a content-related message. */
export class SeqNo {
  private count = 0;

  next(contentRelated: boolean): number {
    if (!contentRelated) return this.count * 2;
    const s = this.count * 2 + 1;
    this.count += 1;
    return s;
  }

  /** Number of content-related messages counted so far. */
  get contentCount(): number {
    return this.count;
  }

  /** Moves the counter (bad_msg_notification 32/33 recovery); never below 0. */
  shift(by: number): void {
    this.count = Math.max(0, this.count + by);
  }

  reset(): void {
    this.count = 0;
  }
}
