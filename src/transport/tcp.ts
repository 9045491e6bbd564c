// FrameLink: an MTProto transport connection over node:net, as a stream of whole payloads.
//
// Client: connectTcp() opens the socket, sends the transport preamble (or the obfuscated2 header) and frames
// payloads with the chosen codec. Server: listenFrames() accepts connections, detects per connection which
// transport the client speaks (abridged, intermediate, padded, full, each also obfuscated) and hands a FrameLink
// to the callback; connections that speak none of them are dropped without disturbing the others.
//
// Events: 'frame' (payload: Uint8Array, info: { quickAck: boolean }), 'quick-ack' (token: number, client side),
// 'close' (reason: string) exactly once: 'peer closed', 'framing error: …', 'timeout', 'timeout: …', 'socket
// error: …', 'server closed', 'output backlog: …', 'input budget: …', 'buffered: …', or the reason given to close()
// ('local close' by default). After close, send() is a no-op.
//
// Memory is bounded on both sides. Reading pauses while the consumer says it is busy() (until ready()) and, on the
// server, while the peer leaves more than outputHighWaterBytes of our output unread: a client that does not read
// its answers gets no more requests served. Unread output over maxOutputBytes closes the link (server and client:
// send() never buffers without limit). Server side, the bytes of an incomplete frame count against a budget shared
// by the listener's links (over it, the link whose frame has waited longest is closed), a frame must complete
// within frameTimeoutMs (a slow drip is closed), and input held plus output queued stays under maxBufferedBytes.
import { EventEmitter } from 'node:events';
import { connect as netConnect, createServer, isIPv6, type AddressInfo, type Socket } from 'node:net';
import {
  clientPreamble,
  createFrameCodec,
  detectServerTransport,
  MAX_FRAME_OVERHEAD,
  MAX_PAYLOAD_LENGTH,
  type DecodedFrame,
  type EncodeOptions,
  type FrameCodec,
  type TransportName,
} from './codec';
import { createObfuscatedClient } from './obfuscated';

export interface FrameInfo {
  /** Server side: the client asked for a quick ack of this frame (answer with sendQuickAck). */
  quickAck: boolean;
}

/**
 * The contract every layer above codes against (minimal, so in-memory fakes are easy to write). Links made by
 * connectTcp / listenFrames are `TcpLink`s, which add the transport name and quick-ack sending.
 */
export interface FrameLink extends EventEmitter {
  /** Frames and sends one payload; a no-op (never throws) once the link is closed. While open it throws a
   * TransportFramingError for a payload the transport cannot carry (over 16 MiB; abridged: length not %4). */
  send(payload: Uint8Array, opts?: EncodeOptions): void;
  /** Closes the link (frames still waiting for injected latency are written first). Idempotent. */
  close(reason?: string): void;
  readonly closed: boolean;
  /** "host:port" of the other end ("[v6addr]:port" for IPv6). */
  readonly remote: string;
  /** Server side: answers a quick-ack request with `token` (top bit set by the codec). No-op when closed. */
  sendQuickAck?(token: number): void;
  /**
   * Flow control from the consumer: stop reading from the peer (frames already decoded may still arrive) until
   * ready(). Links that cannot pause leave these out.
   */
  busy?(): void;
  ready?(): void;
}

export interface TcpLink extends FrameLink {
  readonly transport: TransportName;
  readonly obfuscated: boolean;
  sendQuickAck(token: number): void;
  /** Cuts the connection now, as a broken network would: frames still waiting (injected latency) are lost. */
  cut(reason: string): void;
  busy(): void;
  ready(): void;
  /** Bytes received that are not part of a whole frame yet. */
  readonly bufferedInput: number;
  /** Bytes we sent that the peer has not taken yet (socket buffer and frames held back by injected latency). */
  readonly bufferedOutput: number;
  /** Reading is paused (busy consumer, or the peer not reading our output). */
  readonly inputPaused: boolean;
}

export type ServerFrameLink = TcpLink;

export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Default cap of unread output per link (server and client). */
export const DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
/** Server: reading pauses while the peer has this much of our output unread. */
export const DEFAULT_OUTPUT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Server: a frame that has begun must be whole within this time. */
export const DEFAULT_FRAME_TIMEOUT_MS = 60_000;
/** Server: input held (an incomplete frame) plus output queued, per link. */
export const DEFAULT_MAX_BUFFERED_BYTES = MAX_PAYLOAD_LENGTH + MAX_FRAME_OVERHEAD + DEFAULT_MAX_OUTPUT_BYTES;
/** Server: incomplete frames of all the links of one listener together (when no budget is shared). */
export const DEFAULT_INPUT_BUDGET_BYTES = 256 * 1024 * 1024;

/**
 * Bytes of incomplete frames that a set of server links may hold together (one listener's, or several listeners'
 * when they share it). Over the limit, the link whose incomplete frame began first is closed, then the next, until
 * the total fits: a peer that opens many connections and never finishes its frames loses them oldest first, while
 * frames that are arriving right now (young) keep going. Over half the limit, a link whose incomplete frame passes
 * its share (half the limit over the links holding input, within 64 KiB..bigPartial) is not read further until the
 * total is down to a quarter: a flood then waits in the kernel's socket buffers instead of in ours, and fewer
 * closed links leave garbage behind. Such a link's frame timer keeps running: under a flood, a big frame may wait
 * until the flood's frames time out.
 */
export class InputBudget {
  private total = 0;
  private readonly holders = new Map<TcpFrameLink, number>();
  private readonly parked = new Set<TcpFrameLink>();
  /** The most a link's share can be under pressure (default limit/32 within 64 KiB..2 MiB). */
  readonly bigPartial: number;
  private readonly holdBack: boolean;
  constructor(
    readonly limit: number,
    opts: { bigPartial?: number /** false: no link is held back, eviction alone keeps the limit */; holdBack?: boolean } = {},
  ) {
    if (!(limit > 0)) throw new RangeError(`input budget must be > 0 bytes, got ${limit}`);
    this.bigPartial = opts.bigPartial ?? Math.max(64 * 1024, Math.min(2 * 1024 * 1024, Math.floor(limit / 32)));
    this.holdBack = opts.holdBack ?? true;
  }

  get held(): number {
    return this.total;
  }

  /** Links not read while the budget is under pressure. */
  get parkedLinks(): number {
    return this.parked.size;
  }

  /** Under pressure, what one link may hold before it is not read further: a fair part of half the budget. */
  private share(): number {
    return Math.max(64 * 1024, Math.min(this.bigPartial, this.limit / 2 / Math.max(1, this.holders.size)));
  }

  /** @internal A link now holds `bytes` of incomplete frames (0: none). */
  set(link: TcpFrameLink, bytes: number): void {
    const before = this.holders.get(link) ?? 0;
    if (bytes > 0) this.holders.set(link, bytes);
    else {
      this.holders.delete(link);
      this.parked.delete(link);
    }
    this.total += bytes - before;
    if (bytes <= before) {
      if (this.parked.size && this.total <= this.limit / 4) {
        const resume = [...this.parked];
        this.parked.clear();
        for (const l of resume) l.park(false);
      }
      return;
    }
    if (this.holdBack && this.total > this.limit / 2 && bytes > this.share() && !this.parked.has(link)) {
      this.parked.add(link);
      link.park(true);
    }
    while (this.total > this.limit) {
      let oldest: TcpFrameLink | undefined;
      for (const l of this.holders.keys()) if (!oldest || l.partialSince < oldest.partialSince) oldest = l;
      if (!oldest) break;
      const mine = this.holders.get(oldest) ?? 0;
      const waited = ((performance.now() - oldest.partialSince) / 1000).toFixed(1);
      // finish() comes back here with 0, so the loop sees the new total
      oldest.finish(`input budget: ${mine} bytes of an incomplete frame for ${waited} s while all connections held ${this.total} (limit ${this.limit})`);
    }
  }
}

interface LinkOptions {
  transport: TransportName;
  obfuscated: boolean;
  remote: string;
  latencyMs?: () => number;
  idleTimeoutMs?: number;
  maxOutputBytes: number;
  /** Server side only (a client reading less because the server reads less could deadlock both). */
  outputHighWaterBytes?: number;
  frameTimeoutMs?: number;
  maxBufferedBytes?: number;
  budget?: InputBudget;
}

/** Bytes a decoded unit took on the wire (header + payload), by the transport's own rules. */
function wireSize(transport: TransportName, f: DecodedFrame): number {
  if (f.kind === 'quick-ack') return 4;
  const n = f.payload.length;
  switch (transport) {
    case 'abridged':
      return n / 4 < 0x7f ? 1 + n : 4 + n;
    case 'full':
      return 12 + n;
    default:
      return 4 + n; // intermediate; padded: the payload includes its padding
  }
}

class TcpFrameLink extends EventEmitter implements TcpLink {
  readonly transport: TransportName;
  readonly obfuscated: boolean;
  readonly remote: string;
  private isClosed = false;
  private readonly latencyMs: (() => number) | undefined;
  private readonly pending: { due: number; data: Uint8Array }[] = [];
  private pendingBytes = 0;
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private ending = false;
  private readonly opts: LinkOptions;
  private inHeld = 0;
  /** When the incomplete frame held now began (performance.now()); read by InputBudget. */
  partialSince = 0;
  private frameTimer: NodeJS.Timeout | undefined;
  private consumerBusy = false;
  private outputBlocked = false;
  /** Held back by the input budget (not our consumer's wait: the frame timer keeps running). */
  private parked = false;
  private paused = false;
  private timerStopped = false;

  constructor(
    private readonly socket: Socket,
    private readonly codec: FrameCodec,
    opts: LinkOptions,
  ) {
    super();
    this.opts = opts;
    this.transport = opts.transport;
    this.obfuscated = opts.obfuscated;
    this.remote = opts.remote;
    this.latencyMs = opts.latencyMs;
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('end', () => this.finish('peer closed'));
    socket.on('close', () => this.finish('peer closed'));
    socket.on('error', (e) => this.finish(`socket error: ${e.message}`));
    socket.on('drain', () => this.checkOutput());
    if (opts.idleTimeoutMs && opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs, () => this.finish('timeout'));
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get bufferedInput(): number {
    return this.inHeld;
  }

  get bufferedOutput(): number {
    return (this.socket.destroyed ? 0 : this.socket.writableLength) + this.pendingBytes;
  }

  get inputPaused(): boolean {
    return this.paused;
  }

  busy(): void {
    if (this.consumerBusy) return;
    this.consumerBusy = true;
    this.updatePause();
  }

  ready(): void {
    if (!this.consumerBusy) return;
    this.consumerBusy = false;
    this.updatePause();
  }

  /**
   * @internal The input budget holds this link back (true) or lets it go on (false). The frame keeps its start:
   * a flood that is held back and let go again still dies at its frame timeout.
   */
  park(on: boolean): void {
    if (this.parked === on) return;
    this.parked = on;
    this.updatePause();
  }

  private updatePause(): void {
    if (this.isClosed) return;
    const ours = this.consumerBusy || this.outputBlocked;
    if (ours !== this.timerStopped) {
      this.timerStopped = ours;
      if (ours) this.clearFrameTimer();
      else {
        // the wait was ours: an incomplete frame gets a fresh window
        if (this.inHeld > 0) this.partialSince = performance.now();
        this.armFrameTimer();
      }
    }
    const pause = ours || this.parked;
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /** @internal Feeds received bytes (also used for the bytes that followed the preamble during detection). */
  feed(chunk: Uint8Array): void {
    if (this.isClosed || chunk.length === 0) return;
    let frames: DecodedFrame[];
    const heldBefore = this.inHeld;
    try {
      frames = this.codec.pushFrames(chunk);
    } catch (e) {
      this.finish(`framing error: ${errorText(e)}`);
      return;
    }
    let held = heldBefore + chunk.length;
    for (const f of frames) held -= wireSize(this.transport, f);
    this.setHeld(Math.max(0, held), frames.length > 0 || heldBefore === 0);
    if (this.isClosed) return;
    for (const f of frames) {
      if (this.isClosed) return;
      if (f.kind === 'quick-ack') this.emit('quick-ack', f.token);
      else this.emit('frame', f.payload, { quickAck: f.quickAck } satisfies FrameInfo);
    }
  }

  /** Bookkeeping of the incomplete frame: its start (a new one when `fresh`), the budget, the caps, the timer. */
  private setHeld(held: number, fresh: boolean): void {
    this.inHeld = held;
    if (held === 0) {
      this.clearFrameTimer();
      this.opts.budget?.set(this, 0);
      return;
    }
    if (fresh) {
      this.partialSince = performance.now();
      this.clearFrameTimer();
    }
    this.armFrameTimer();
    const cap = this.opts.maxBufferedBytes;
    if (cap !== undefined && held + this.bufferedOutput > cap) {
      this.finish(`buffered: ${held} bytes of input and ${this.bufferedOutput} of output exceed the ${cap}-byte limit`);
      return;
    }
    this.opts.budget?.set(this, held);
  }

  private armFrameTimer(): void {
    const ms = this.opts.frameTimeoutMs ?? 0;
    if (!(ms > 0) || this.frameTimer || this.inHeld === 0 || this.timerStopped || this.isClosed) return;
    const left = Math.max(1, Math.ceil(this.partialSince + ms - performance.now()));
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (this.inHeld === 0 || this.timerStopped) return;
      const waited = performance.now() - this.partialSince;
      if (waited + 1 < ms) return this.armFrameTimer();
      this.finish(`timeout: a frame not completed within ${ms} ms (${this.inHeld} bytes of it received)`);
    }, left);
    this.frameTimer.unref?.();
  }

  private clearFrameTimer(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
  }

  send(payload: Uint8Array, opts?: EncodeOptions): void {
    if (this.isClosed) return;
    this.write(this.codec.encode(payload, opts));
  }

  sendQuickAck(token: number): void {
    if (this.isClosed) return;
    this.write(this.codec.encodeQuickAck(token));
  }

  /** @internal Writes raw bytes (preamble / header) ahead of any frame. */
  writeRaw(data: Uint8Array): void {
    if (data.length) this.socket.write(data);
  }

  private write(data: Uint8Array): void {
    // Encoding happens now (seqnos and CTR state follow call order); only the write is delayed, in order.
    const lat = this.latencyMs ? Math.max(0, this.latencyMs()) : 0;
    if (lat === 0 && this.pending.length === 0) {
      this.socket.write(data);
    } else {
      const due = Math.max(performance.now() + lat, this.lastDue);
      this.lastDue = due;
      this.pending.push({ due, data });
      this.pendingBytes += data.length;
      this.schedule();
    }
    this.checkOutput();
  }

  /** Unread output: over the cap the link fails; over the high-water mark (server) reading pauses until it drains. */
  private checkOutput(): void {
    if (this.isClosed) return;
    const out = this.bufferedOutput;
    if (out > this.opts.maxOutputBytes) {
      this.finish(`output backlog: ${out} bytes the peer has not read (limit ${this.opts.maxOutputBytes})`);
      return;
    }
    const cap = this.opts.maxBufferedBytes;
    if (cap !== undefined && out + this.inHeld > cap) {
      this.finish(`buffered: ${this.inHeld} bytes of input and ${out} of output exceed the ${cap}-byte limit`);
      return;
    }
    const high = this.opts.outputHighWaterBytes;
    if (high === undefined) return;
    // resume only once the backlog is well down (half the mark): no pause/resume flapping around the mark
    const blocked = this.outputBlocked ? out > high / 2 : out > high;
    if (blocked !== this.outputBlocked) {
      this.outputBlocked = blocked;
      this.updatePause();
    }
  }

  private schedule(): void {
    if (this.timer || this.pending.length === 0) return;
    const wait = Math.max(0, Math.ceil(this.pending[0]!.due - performance.now()));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.pending.length && this.pending[0]!.due <= now + 0.5) {
      const { data } = this.pending.shift()!;
      this.pendingBytes -= data.length;
      if (!this.socket.destroyed) this.socket.write(data);
    }
    if (this.pending.length) this.schedule();
    else if (this.ending) this.endSocket();
    this.checkOutput();
  }

  private endSocket(): void {
    this.socket.end();
    // A peer that never closes its side must not keep the socket (and a test runner) alive.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  close(reason = 'local close'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.setTimeout(0);
    this.release();
    if (this.paused) this.socket.resume(); // let 'end' / 'close' arrive
    if (this.pending.length) this.ending = true;
    else this.endSocket();
    this.emit('close', reason);
  }

  cut(reason: string): void {
    this.finish(reason);
  }

  private release(): void {
    this.clearFrameTimer();
    this.inHeld = 0;
    this.opts.budget?.set(this, 0);
  }

  /** Closed from below (peer, error, timeout, a limit) or torn down: drop whatever is pending, destroy the socket. */
  finish(reason: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.release();
    if (!this.socket.destroyed) this.socket.destroy();
    if (this.isClosed) return;
    this.isClosed = true;
    this.emit('close', reason);
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  transport: TransportName;
  /** true, or { secret } for an MTProxy (16- or 17-byte secret). */
  obfuscated?: boolean | { secret?: Uint8Array };
  /** Written into the obfuscated header (int16; +10000 test, negative media). 0 / absent: left random. */
  dcId?: number;
  /** Connect timeout (default 10 s): the promise rejects with an Error naming the address. */
  timeoutMs?: number;
  /** Close the link with reason 'timeout' after this long without traffic either way (default: never). */
  idleTimeoutMs?: number;
  /** send() fails the link ('output backlog: …') when the server leaves more than this unread (default 32 MiB). */
  maxOutputBytes?: number;
}

/** Opens a client connection and sends the preamble / obfuscation header. */
export function connectTcp(opts: ConnectOptions): Promise<TcpLink> {
  const remote = formatHostPort(opts.host, opts.port);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Build the codec first: bad options (obfuscated full, dc id out of range) fail before any socket exists.
  let codec: FrameCodec;
  let first: Uint8Array;
  try {
    if (opts.obfuscated) {
      const secret = typeof opts.obfuscated === 'object' ? opts.obfuscated.secret : undefined;
      const c = createObfuscatedClient(opts.transport, opts.dcId ?? 0, secret);
      codec = c.codec;
      first = c.header;
    } else {
      codec = createFrameCodec(opts.transport, 'client');
      first = clientPreamble(opts.transport);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise<TcpLink>((resolve, reject) => {
    const socket = netConnect({ host: opts.host, port: opts.port });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`connect to ${remote}: timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`connect to ${remote}: ${e.message}`));
    });
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.setNoDelay(true);
      const linkOpts: LinkOptions = {
        transport: opts.transport,
        obfuscated: !!opts.obfuscated,
        remote,
        maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      };
      if (opts.idleTimeoutMs) linkOpts.idleTimeoutMs = opts.idleTimeoutMs;
      const link = new TcpFrameLink(socket, codec, linkOpts);
      link.writeRaw(first);
      resolve(link);
    });
  });
}

export interface ListenOptions {
  /** '127.0.0.1', '::1', '0.0.0.0', … (an IPv6 address listens on IPv6). */
  host: string;
  /** 0: an ephemeral port (the returned `port` is the real one). */
  port: number;
  /** Per outgoing frame: delay it by this many ms (order kept). For latency injection in benchmarks. */
  latencyMs?: () => number;
  /** MTProxy secrets accepted on obfuscated connections (besides none). */
  secrets?: Uint8Array[];
  /** Drop a connection that has not told its transport within this time (default 10 s). */
  detectTimeoutMs?: number;
  /** Passed to every link: close with 'timeout' after this long without traffic. */
  idleTimeoutMs?: number;
  /** A frame that has begun must be whole within this time, else 'timeout: …' (default 60 s; 0 = no limit). */
  frameTimeoutMs?: number;
  /** Unread output that closes a link ('output backlog: …'; default 32 MiB). */
  maxOutputBytes?: number;
  /** Reading pauses while a peer has this much output unread, and resumes at half (default 4 MiB). */
  outputHighWaterBytes?: number;
  /** Input held (an incomplete frame) plus output queued per link (default 16 MiB + 32 B + maxOutputBytes's default). */
  maxBufferedBytes?: number;
  /** Incomplete frames of all links together; share one between listeners (default: one of 256 MiB per listener). */
  inputBudget?: InputBudget;
}

export interface FrameListener {
  port: number;
  host: string;
  /** Stops accepting, closes every open link ('server closed') and resolves when the server is down. */
  close(): Promise<void>;
}

/** Accepts MTProto transport connections; calls onLink once per connection whose transport was recognised. */
export function listenFrames(opts: ListenOptions, onLink: (link: ServerFrameLink) => void): Promise<FrameListener> {
  const links = new Set<TcpFrameLink>();
  const undetected = new Set<Socket>();
  const detectTimeoutMs = opts.detectTimeoutMs ?? 10_000;
  const budget = opts.inputBudget ?? new InputBudget(DEFAULT_INPUT_BUDGET_BYTES);
  const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const limits = {
    maxOutputBytes,
    outputHighWaterBytes: Math.min(opts.outputHighWaterBytes ?? DEFAULT_OUTPUT_HIGH_WATER_BYTES, maxOutputBytes),
    frameTimeoutMs: opts.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS,
    maxBufferedBytes: opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    budget,
  };

  const server = createServer((socket) => {
    socket.setNoDelay(true);
    undetected.add(socket);
    let buffered = new Uint8Array(0);
    const drop = (): void => {
      undetected.delete(socket);
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(drop, detectTimeoutMs);
    const onGone = (): void => drop();
    socket.on('error', onGone);
    socket.on('close', onGone);
    const onData = (chunk: Buffer): void => {
      const next = new Uint8Array(buffered.length + chunk.length);
      next.set(buffered);
      next.set(chunk, buffered.length);
      buffered = next;
      const d = detectServerTransport(buffered, opts.secrets ? { secrets: opts.secrets } : undefined);
      if (d === 'need-more') return;
      if (d === 'unknown') {
        drop();
        return;
      }
      undetected.delete(socket);
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onGone);
      socket.off('close', onGone);
      const host = socket.remoteAddress ?? '?';
      const linkOpts: LinkOptions = {
        transport: d.name,
        obfuscated: d.obfuscated,
        remote: formatHostPort(host, socket.remotePort ?? 0),
        ...limits,
      };
      if (opts.latencyMs) linkOpts.latencyMs = opts.latencyMs;
      if (opts.idleTimeoutMs) linkOpts.idleTimeoutMs = opts.idleTimeoutMs;
      const link = new TcpFrameLink(socket, d.codec, linkOpts);
      links.add(link);
      link.once('close', () => links.delete(link));
      try {
        onLink(link);
      } catch (e) {
        link.close(`onLink failed: ${errorText(e)}`);
        return;
      }
      link.feed(buffered.subarray(d.consumed));
    };
    socket.on('data', onData);
  });

  return new Promise<FrameListener>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        host: opts.host,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of undetected) s.destroy();
            undetected.clear();
            for (const l of [...links]) l.finish('server closed');
          }),
      });
    });
  });
}
