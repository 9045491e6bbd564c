// Hostile connections for the soak: raw sockets that speak the intermediate transport badly on purpose.
//   push     a 16 MiB frame header, then 8 MiB of it, then silence (the frame never ends)
//   header   a 16 MiB frame header and nothing after it
//   drip     a 4 KiB frame, one byte every dripMs (a slow drip)
//   garbage  random bytes (no transport, or a framing error)
//   oversize a frame length over the transport's 16 MiB limit
// Each slot records when the server closed it; with `reopen` a slot dials again after a close, so K connections
// stay hostile for the whole phase.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export type HostileKind = 'push' | 'header' | 'drip' | 'garbage' | 'oversize';
export const HOSTILE_KINDS: HostileKind[] = ['push', 'header', 'drip', 'garbage', 'oversize'];

export interface HostileOptions {
  host: string;
  ports: number[];
  /** Spread over this many loopback source addresses 127.0.0.2.. (0: the default address). */
  sources?: number;
  reopen?: boolean;
  /** Bytes a push slot sends into its never-ending frame (default 8 MiB). */
  pushBytes?: number;
  dripMs?: number;
  /** PRNG for the choices (the soak's seeded one). */
  random?: () => number;
}

export interface HostileStats {
  opened: number;
  /** Closed by the server (not by us), per kind. */
  closedByServer: Record<HostileKind, number>;
  /** ms from open to the server's close, per kind (all samples). */
  lifetimes: Record<HostileKind, number[]>;
  bytesSent: number;
  live: number;
}

const INTERMEDIATE = Buffer.from([0xee, 0xee, 0xee, 0xee]);

function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(length >>> 0);
  return b;
}

export class HostileSwarm {
  readonly stats: HostileStats;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private pushBuf: Buffer | undefined;

  constructor(private readonly opts: HostileOptions) {
    const zero = (): Record<HostileKind, number> => ({ push: 0, header: 0, drip: 0, garbage: 0, oversize: 0 });
    this.stats = { opened: 0, closedByServer: zero(), lifetimes: { push: [], header: [], drip: [], garbage: [], oversize: [] }, bytesSent: 0, live: 0 };
  }

  /** Opens `count` slots of `kind`, spread over the ports. */
  open(kind: HostileKind, count: number): void {
    for (let i = 0; i < count; i++) this.slot(kind, this.stats.opened + i);
  }

  private rand(): number {
    return this.opts.random ? this.opts.random() : Math.random();
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  private slot(kind: HostileKind, n: number): void {
    if (this.stopped) return;
    const ports = this.opts.ports;
    const port = ports[n % ports.length]!;
    const sources = this.opts.sources ?? 0;
    const localAddress = sources > 0 ? `127.0.0.${2 + (n % Math.min(sources, 250))}` : undefined;
    const s = connect({ host: this.opts.host, port, ...(localAddress ? { localAddress } : {}) });
    this.stats.opened++;
    this.stats.live++;
    this.sockets.add(s);
    const opened = performance.now();
    let drip: NodeJS.Timeout | undefined;
    s.on('error', () => undefined);
    s.on('data', () => undefined); // transport errors (−429) or anything else: read and ignore
    s.once('close', () => {
      this.sockets.delete(s);
      this.stats.live--;
      if (drip) clearInterval(drip);
      if (!this.stopped) {
        this.stats.closedByServer[kind]++;
        this.stats.lifetimes[kind].push(performance.now() - opened);
      }
      if (this.opts.reopen && !this.stopped) this.later(100 + Math.floor(this.rand() * 400), () => this.slot(kind, n));
    });
    const write = (b: Buffer): void => {
      if (s.destroyed) return;
      this.stats.bytesSent += b.length;
      s.write(b);
    };
    s.once('connect', () => {
      switch (kind) {
        case 'push': {
          const n8 = this.opts.pushBytes ?? 8 * 1024 * 1024;
          this.pushBuf ??= randomBytes(n8);
          write(Buffer.concat([INTERMEDIATE, header(16 * 1024 * 1024)]));
          write(this.pushBuf.subarray(0, n8));
          break;
        }
        case 'header':
          write(Buffer.concat([INTERMEDIATE, header(16 * 1024 * 1024)]));
          break;
        case 'drip': {
          write(Buffer.concat([INTERMEDIATE, header(4096)]));
          drip = setInterval(() => write(randomBytes(1)), this.opts.dripMs ?? 1000);
          break;
        }
        case 'garbage': {
          // not 0xef / 0xee… / 0xdd… first: random bytes, mostly "unknown transport", sometimes a framing error
          const g = randomBytes(256 + Math.floor(this.rand() * 4096));
          write(g);
          break;
        }
        case 'oversize':
          write(Buffer.concat([INTERMEDIATE, header(64 * 1024 * 1024)]));
          break;
      }
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
