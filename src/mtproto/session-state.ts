// The client session state that outlives any one connection (mtproto/description "Session", "Server Salt"):
// session_id, the msg_id clock, the seqno counter, the server salt with the future salts, and the window of
// server msg_ids already seen. A reconnect keeps all of it; bad_msg_notification 32/33 (or a server that lost
// the session) starts a new session: new session_id, seqno from 0, an empty window.
import { type MsgIdClock, SeqNo } from './msg-id';
import { RecentIds, randomLong, type FutureSalt } from './service-messages';

/** Switch to an announced salt this long after its valid_since. */
const SALT_SWITCH_MARGIN_SECONDS = 1;

export interface SessionStateOptions {
  serverSalt: bigint;
  clock: MsgIdClock;
  sessionId?: bigint;
}

export class SessionState {
  readonly clock: MsgIdClock;
  private id: bigint;
  private seqNo = new SeqNo();
  private recentIds = new RecentIds(1000);
  private salt: bigint;
  private future: FutureSalt[] = [];
  /** Server time (s) when the server last told us the salt: announced salts from before it do not override it. */
  private setAt = 0;
  private readonly earlier: bigint[] = [];

  constructor(opts: SessionStateOptions) {
    this.clock = opts.clock;
    this.id = opts.sessionId ?? randomLong();
    this.salt = opts.serverSalt;
  }

  get sessionId(): bigint {
    return this.id;
  }
  get seq(): SeqNo {
    return this.seqNo;
  }
  get recent(): RecentIds {
    return this.recentIds;
  }
  /** Salts announced by the last future_salts, soonest first. */
  get futureSalts(): readonly FutureSalt[] {
    return this.future;
  }

  /**
   * The salt to send with now: an announced salt in force for a second already (servers keep the previous salt
   * for a while, and our idea of their time is only right to the second), else the last one the server told us.
   */
  get serverSalt(): bigint {
    const now = this.clock.serverNowMs() / 1000 - SALT_SWITCH_MARGIN_SECONDS;
    let pick: FutureSalt | undefined;
    for (const f of this.future) if (f.valid_since <= now && now < f.valid_until && (!pick || f.valid_since > pick.valid_since)) pick = f;
    if (pick && pick.valid_since > this.setAt) this.salt = pick.salt;
    return this.salt;
  }

  /** A salt the server told us (bad_server_salt, new_session_created): in force until the next announced one. */
  setSalt(salt: bigint): void {
    this.salt = salt;
    this.setAt = this.clock.serverNowMs() / 1000 - SALT_SWITCH_MARGIN_SECONDS;
    // a salt the announcements do not know: they are stale, ask again
    if (this.future.length && !this.future.some((f) => f.salt === salt)) this.future = [];
  }

  setFutureSalts(salts: FutureSalt[]): void {
    this.future = [...salts].sort((a, b) => a.valid_since - b.valid_since).slice(0, 64);
  }

  /** Seconds of server time the known salts still cover (0 when none is known beyond the current one). */
  saltCoverSeconds(): number {
    const now = this.clock.serverNowMs() / 1000;
    let until = 0;
    for (const f of this.future) if (f.valid_until > until) until = f.valid_until;
    return Math.max(0, until - now);
  }

  /** Whether `id` is a session this state left for a new one (late answers to it are not an attack). */
  wasEarlierSession(id: bigint): boolean {
    return this.earlier.includes(id);
  }

  /** A new session: new session_id, seqno from 0, no remembered server msg_ids (the salt is the key's, kept). */
  renew(): void {
    this.earlier.push(this.id);
    if (this.earlier.length > 4) this.earlier.shift();
    this.id = randomLong();
    this.seqNo = new SeqNo();
    this.recentIds = new RecentIds(1000);
  }
}
