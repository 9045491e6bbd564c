// FrameLink: an MTProto transport connection over node:net, as a stream of whole payloads.
//
// Client: connectTcp() opens the socket, sends the transport preamble (or the obfuscated2 header) and frames
// payloads with the chosen codec. Server: listenFrames() accepts connections, detects per connection which
// transport the client speaks (abridged, intermediate, padded, full, each also obfuscated) and hands a FrameLink
// to the callback; connections that speak none of them are dropped without disturbing the others.
//
// Events: 'frame' (payload: Uint8Array, info: { quickAck: boolean }), 'quick-ack' (token: number, client side),
// 'close' (reason: string) exactly once: 'peer closed', 'framing error: …', 'timeout', 'socket error: …',
// 'server closed', or the reason given to close() ('local close' by default). After close, send() is a no-op.
import { EventEmitter } from 'node:events';
import { connect as netConnect, createServer, isIPv6, type AddressInfo, type Socket } from 'node:net';
import { clientPreamble, createFrameCodec, detectServerTransport, type EncodeOptions, type FrameCodec, type TransportName } from './codec';
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
}

export interface TcpLink extends FrameLink {
  readonly transport: TransportName;
  readonly obfuscated: boolean;
  sendQuickAck(token: number): void;
  /** Cuts the connection now, as a broken network would: frames still waiting (injected latency) are lost. */
  cut(reason: string): void;
}

export type ServerFrameLink = TcpLink;

export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface LinkOptions {
  transport: TransportName;
  obfuscated: boolean;
  remote: string;
  latencyMs?: () => number;
  idleTimeoutMs?: number;
}

class TcpFrameLink extends EventEmitter implements TcpLink {
  readonly transport: TransportName;
  readonly obfuscated: boolean;
  readonly remote: string;
  private isClosed = false;
  private readonly latencyMs: (() => number) | undefined;
  private readonly pending: { due: number; data: Uint8Array }[] = [];
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly codec: FrameCodec,
    opts: LinkOptions,
  ) {
    super();
    this.transport = opts.transport;
    this.obfuscated = opts.obfuscated;
    this.remote = opts.remote;
    this.latencyMs = opts.latencyMs;
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('end', () => this.finish('peer closed'));
    socket.on('close', () => this.finish('peer closed'));
    socket.on('error', (e) => this.finish(`socket error: ${e.message}`));
    if (opts.idleTimeoutMs && opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs, () => this.finish('timeout'));
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal Feeds received bytes (also used for the bytes that followed the preamble during detection). */
  feed(chunk: Uint8Array): void {
    if (this.isClosed || chunk.length === 0) return;
    let frames;
    try {
      frames = this.codec.pushFrames(chunk);
    } catch (e) {
      this.finish(`framing error: ${errorText(e)}`);
      return;
    }
    for (const f of frames) {
      if (this.isClosed) return;
      if (f.kind === 'quick-ack') this.emit('quick-ack', f.token);
      else this.emit('frame', f.payload, { quickAck: f.quickAck } satisfies FrameInfo);
    }
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
      return;
    }
    const due = Math.max(performance.now() + lat, this.lastDue);
    this.lastDue = due;
    this.pending.push({ due, data });
    this.schedule();
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
      if (!this.socket.destroyed) this.socket.write(this.pending.shift()!.data);
      else this.pending.shift();
    }
    if (this.pending.length) this.schedule();
    else if (this.ending) this.endSocket();
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
    if (this.pending.length) this.ending = true;
    else this.endSocket();
    this.emit('close', reason);
  }

  cut(reason: string): void {
    this.finish(reason);
  }

  /** Closed from below (peer, error, timeout) or torn down: drop whatever is pending, destroy the socket. */
  finish(reason: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.length = 0;
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
      const linkOpts: LinkOptions = { transport: opts.transport, obfuscated: !!opts.obfuscated, remote };
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
