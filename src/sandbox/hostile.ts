// A hostile DC on loopback: a fake MTProto server that attacks a client with one check of
// mtproto/security_guidelines at a time (hostile/modes.ts lists the modes). It speaks every plain transport
// (detected per connection), runs an honest key exchange and encrypted session except for the one thing its mode
// gets wrong, and counts what the client did — above all every encrypted packet sent under a key a correct client
// had to refuse. Framing modes write raw bytes and assume a non-obfuscated transport.
//
// Not part of the sandbox proper: a harness for tests (test/hostile) and `npm run hostile` (hostile/run.ts).
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { TlCodec } from '../tl/codec';
import { fullSchema } from '../tl/bundled';
import type { TlObject } from '../tl/types';
import { generateRsaKeyPair, type RsaKeyPair } from '../crypto/rsa';
import { randomBytes } from '../crypto/random';
import { detectServerTransport, encodeTransportError, MAX_PAYLOAD_LENGTH, transportErrorCode, type FrameCodec, type TransportName } from '../transport/codec';
import { mtprotoCodec } from '../mtproto/handshake-client';
import { decodePlainMessage, encodePlainMessage } from '../mtproto/plain';
import { MsgIdClock } from '../mtproto/msg-id';
import { HostileHandshake, HostileHandshakeError } from './hostile/handshake';
import { HostileSessionConn, type HostileKeyRegistry, type HostileSessionStats } from './hostile/session';
import { groupOf, type HostileModeOrNone } from './hostile/modes';

export * from './hostile/modes';
export { FORGED_SALT, sealServerMessage, type SealFault } from './hostile/session';
export { nonSafePrime, type AgreedKey } from './hostile/handshake';

export interface HostileDcOptions {
  mode: HostileModeOrNone;
  host?: string;
  /** 0 (default): an ephemeral port. */
  port?: number;
  dcId?: number;
  /** The server's RSA key (default: a new one; pass one to save the 50–200 ms of generating it). */
  rsa?: RsaKeyPair;
  /** Delay between the bytes of 'frame-drip' (default 100 ms). */
  dripMs?: number;
}

export interface HostileDcStats extends HostileSessionStats {
  connections: number;
  /** req_pq / req_pq_multi received. */
  handshakes: number;
  /** Keys the server believes agreed (dh_gen_ok sent, honest or not). */
  keysAgreed: number;
  /** Of those, keys a correct client refuses. */
  keysRefusable: number;
  /** Short notes of what happened, oldest first (bounded). */
  log: string[];
}

export interface HostileDc {
  readonly mode: HostileModeOrNone;
  readonly host: string;
  readonly port: number;
  readonly dcId: number;
  readonly rsa: RsaKeyPair;
  readonly stats: HostileDcStats;
  /** Stops listening, cuts every connection, stops every timer. */
  close(): Promise<void>;
}

let sharedApiCodec: TlCodec | undefined;
function apiCodec(): TlCodec {
  return (sharedApiCodec ??= new TlCodec(fullSchema()));
}

function writeUint32le(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return out;
}

/** A frame header announcing `length` payload bytes in the transport's own form (for the framing modes). */
function lengthHeader(transport: TransportName, length: number): Uint8Array {
  switch (transport) {
    case 'abridged': {
      const words = Math.ceil(length / 4);
      return Uint8Array.of(0x7f, words & 0xff, (words >>> 8) & 0xff, (words >>> 16) & 0xff);
    }
    case 'full':
      return Uint8Array.from([...writeUint32le(length + 12), 0, 0, 0, 0]);
    default:
      return writeUint32le(length);
  }
}

class HostileConnection {
  private codec: FrameCodec | undefined;
  private transport: TransportName = 'intermediate';
  private buffered = new Uint8Array(0);
  private readonly handshake: HostileHandshake;
  private readonly session: HostileSessionConn;
  private readonly plainIds = new MsgIdClock();
  private plainAnswers = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly dc: {
      mode: HostileModeOrNone;
      dcId: number;
      rsa: RsaKeyPair;
      stats: HostileDcStats;
      registry: HostileKeyRegistry;
      dripMs: number;
      note: (s: string) => void;
    },
  ) {
    this.handshake = new HostileHandshake(dc.mode, dc.rsa);
    this.session = new HostileSessionConn(
      dc.mode,
      dc.dcId,
      dc.registry,
      dc.stats,
      apiCodec(),
      (p) => this.sendFrame(p),
      (r) => this.end(r),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.cleanup());
  }

  cleanup(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t); // clears intervals too
    this.timers.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private end(reason: string): void {
    this.dc.note(`connection closed: ${reason}`);
    this.closed = true;
    this.socket.end();
    const t = setTimeout(() => this.cleanup(), 500);
    t.unref();
    this.timers.add(t);
  }

  private write(bytes: Uint8Array): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  private sendFrame(payload: Uint8Array): void {
    if (this.codec) this.write(this.codec.encode(payload));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let data: Uint8Array = new Uint8Array(chunk);
    if (!this.codec) {
      const all = new Uint8Array(this.buffered.length + data.length);
      all.set(this.buffered);
      all.set(data, this.buffered.length);
      const d = detectServerTransport(all);
      if (d === 'need-more') {
        this.buffered = all;
        return;
      }
      if (d === 'unknown') return this.cleanup();
      this.codec = d.codec;
      this.transport = d.name;
      data = all.subarray(d.consumed);
    }
    let frames: Uint8Array[];
    try {
      frames = this.codec.push(data);
    } catch {
      return this.cleanup();
    }
    for (const f of frames) {
      if (this.closed) return;
      this.onFrame(f);
    }
  }

  private onFrame(payload: Uint8Array): void {
    if (transportErrorCode(payload) !== null) return;
    if (payload.length >= 8 && new DataView(payload.buffer, payload.byteOffset, 8).getBigInt64(0, true) !== 0n) {
      this.session.onPacket(payload);
      return;
    }
    let msg: TlObject;
    try {
      msg = mtprotoCodec().decode(decodePlainMessage(payload).body);
    } catch {
      return this.reject('undecodable plain message');
    }
    if (msg._ === 'req_pq' || msg._ === 'req_pq_multi') this.dc.stats.handshakes++;
    let answer;
    try {
      answer = this.handshake.handle(msg);
    } catch (e) {
      return this.reject(e instanceof HostileHandshakeError ? e.message : `cannot follow: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (answer.agreed) {
      this.dc.registry.keys.set(answer.agreed.authKeyId, answer.agreed);
      this.dc.stats.keysAgreed++;
      if (answer.agreed.refused) this.dc.stats.keysRefusable++;
    }
    let msgId = this.plainIds.nextServer('response');
    if (answer.evenMsgId) msgId -= 1n;
    const plain = encodePlainMessage(msgId, mtprotoCodec().encode(answer.reply));
    this.dc.note(`${msg._} → ${answer.reply._}`);
    if (this.plainAnswers++ === 0 && groupOf(this.dc.mode) === 'framing') this.framingAttack(plain);
    else this.sendFrame(plain);
  }

  private reject(why: string): void {
    this.dc.note(`handshake refused: ${why}`);
    this.sendFrame(encodeTransportError(-404));
    this.end(why);
  }

  /** The first answer of the key exchange, framed wrongly. */
  private framingAttack(plain: Uint8Array): void {
    const frame = this.codec!.encode(plain);
    switch (this.dc.mode) {
      case 'frame-length-16mib':
        this.write(lengthHeader(this.transport, MAX_PAYLOAD_LENGTH));
        return;
      case 'frame-length-over-limit':
        this.write(lengthHeader(this.transport, MAX_PAYLOAD_LENGTH + 16));
        return;
      case 'frame-truncated':
        this.write(frame.subarray(0, frame.length >> 1));
        this.end('truncated frame sent');
        return;
      case 'frame-drip': {
        let i = 0;
        const t = setInterval(() => {
          if (this.closed || i >= frame.length) {
            clearInterval(t);
            this.timers.delete(t);
            return;
          }
          this.write(frame.subarray(i, i + 1));
          i++;
        }, this.dc.dripMs);
        t.unref();
        this.timers.add(t);
        return;
      }
      case 'frame-garbage-after': {
        const junk = randomBytes(40);
        junk[0] = 0xa5; // a non-zero auth_key_id: not an unencrypted message
        this.write(frame);
        this.write(this.codec!.encode(junk));
        return;
      }
      default:
        this.write(frame);
    }
  }
}

/** Starts a hostile DC listening on loopback (or `host`). */
export async function startHostileDc(opts: HostileDcOptions): Promise<HostileDc> {
  const host = opts.host ?? '127.0.0.1';
  const dcId = opts.dcId ?? 2;
  const rsa = opts.rsa ?? generateRsaKeyPair();
  const stats: HostileDcStats = {
    connections: 0,
    handshakes: 0,
    keysAgreed: 0,
    keysRefusable: 0,
    encryptedPackets: 0,
    refusedKeyPackets: 0,
    faultyAnswers: 0,
    transportErrors: 0,
    log: [],
  };
  const registry: HostileKeyRegistry = { keys: new Map(), minus404: new Map(), sent404Once: false };
  const note = (s: string): void => {
    stats.log.push(s);
    if (stats.log.length > 200) stats.log.shift();
  };
  const conns = new Set<HostileConnection>();
  const dc = { mode: opts.mode, dcId, rsa, stats, registry, dripMs: opts.dripMs ?? 100, note };
  const server = createServer((socket) => {
    stats.connections++;
    const c = new HostileConnection(socket, dc);
    conns.add(c);
    socket.on('close', () => conns.delete(c));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    mode: opts.mode,
    host,
    port,
    dcId,
    rsa,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.cleanup();
        conns.clear();
        server.close(() => resolve());
      }),
  };
}
