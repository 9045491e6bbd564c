// Shared fixtures of the session tests: a loopback MTProto server (serveMtprotoLink) with a pre-shared key store,
// a client over connectTcp, and a raw "fake server" for misbehaviour the real server never shows.
import { ServerSalts } from '../../src/mtproto/server-salts';
import { randomBytes } from '../../src/crypto/random';
import { authKeyId } from '../../src/crypto/kdf';
import { generateRsaKeyPair, type RsaKeyPair } from '../../src/crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { API_LAYER, fullSchema } from '../../src/tl/bundled';
import { TlCodec } from '../../src/tl/codec';
import type { TlObject } from '../../src/tl/types';
import { connectTcp, listenFrames, type FrameLink, type FrameListener, type ServerFrameLink } from '../../src/transport/tcp';
import type { TransportName } from '../../src/transport/codec';
import { ServerHandshake } from '../../src/mtproto/handshake-server';
import { serveMtprotoLink, type ServerCall, type ServerSession, type ServeMtprotoOptions } from '../../src/mtproto/session-server';
import { MtprotoSession, type MtprotoSessionOptions } from '../../src/mtproto/session';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { TlReader } from '../../src/tl/binary';
import { transportErrorCode } from '../../src/transport/codec';
import { decryptMessage, encryptMessage } from '../../src/mtproto/message-crypto';
import { MsgIdClock } from '../../src/mtproto/msg-id';
import { MT, decodeContainer, encodeContainer, peekId, randomLong, serviceName } from '../../src/mtproto/service-messages';

export const HOST = '127.0.0.1';
export const DC = 2;
export const INIT = {
  api_id: 4242,
  device_model: 'test-device',
  system_version: 'test-os',
  app_version: '1.0',
  system_lang_code: 'en',
  lang_pack: '',
  lang_code: 'en',
};

let rsaPair: RsaKeyPair | undefined;
export function rsa(): RsaKeyPair {
  return (rsaPair ??= generateRsaKeyPair());
}

let lenient: TlCodec | undefined;
export function serverCodec(): TlCodec {
  return (lenient ??= new TlCodec(fullSchema(), { lenient: true }));
}

export type Handler = (call: ServerCall) => Promise<unknown> | unknown;

export const defaultHandler: Handler = (call) => {
  const m = call.method;
  switch (m._) {
    case 'help.getNearestDc':
      return { _: 'nearestDc', country: 'NL', this_dc: call.dcId, nearest_dc: call.dcId };
    case 'auth.sendCode':
      throw { code: 303, message: 'PHONE_MIGRATE_4' };
    case 'help.getConfig':
      throw new Error('database password hunter2 leaked');
    case 'users.getUsers':
      return (m.id as unknown[]).map((_, i) => ({ _: 'user', id: BigInt(100 + i), first_name: `User ${i}`, access_hash: 7n }));
    case 'upload.getFile': {
      const limit = m.limit as number;
      const bytes = new Uint8Array(limit);
      for (let i = 0; i < limit; i++) bytes[i] = (i * 7) % 251 < 8 ? i & 0xff : 0;
      return { _: 'upload.file', type: { _: 'storage.fileUnknown' }, mtime: 1, bytes };
    }
    default:
      throw { code: 400, message: 'METHOD_NOT_SUPPORTED' };
  }
};

export interface TestServer {
  port: number;
  keys: Map<bigint, Uint8Array>;
  salts: ServerSalts;
  calls: ServerCall[];
  events: WireEvent[];
  logs: string[];
  conns: ServerSession[];
  close(): Promise<void>;
}

const listeners: FrameListener[] = [];
export async function closeAll(): Promise<void> {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
}

export async function startServer(handler: Handler = defaultHandler, extra: Partial<ServeMtprotoOptions> = {}): Promise<TestServer> {
  const keys = new Map<bigint, Uint8Array>();
  const salts = extra.salts ?? new ServerSalts();
  const state: TestServer = { port: 0, keys, salts, calls: [], events: [], logs: [], conns: [], close: async () => {} };
  const listener = await listenFrames({ host: HOST, port: 0 }, (link: ServerFrameLink) => {
    state.conns.push(
      serveMtprotoLink(link, {
        dcId: DC,
        keyStore: keys,
        salts,
        createHandshake: () => new ServerHandshake({ dcId: DC, rsa: [rsa()], dhPrime: TELEGRAM_DH_PRIME, g: 3 }),
        codecForLayer: () => serverCodec(),
        defaultLayer: API_LAYER,
        handler: async (call) => {
          state.calls.push(call);
          return handler(call);
        },
        onWire: (e) => state.events.push(e),
        log: (l) => state.logs.push(l),
        ...extra,
      }),
    );
  });
  listeners.push(listener);
  state.port = listener.port;
  state.close = () => listener.close();
  return state;
}

/** A random 256-byte key registered in the server's key store (and its salt). */
export function preShareKey(server: TestServer, salt = 0x1122334455667788n): Uint8Array {
  const key = randomBytes(256);
  server.keys.set(authKeyId(key), key);
  server.salts.setInitial(authKeyId(key), salt);
  return key;
}

export interface TestClient {
  session: MtprotoSession;
  link: FrameLink;
  events: WireEvent[];
}

export async function connectClient(
  port: number,
  key: Uint8Array,
  opts: Partial<MtprotoSessionOptions> = {},
  transport: TransportName = 'intermediate',
): Promise<TestClient> {
  const link = await connectTcp({ host: HOST, port, transport });
  const events: WireEvent[] = [];
  const session = new MtprotoSession(link, {
    dcId: DC,
    authKey: key,
    serverSalt: 0x1122334455667788n,
    initConnection: INIT,
    onWire: (e) => events.push(e),
    ackDelayMs: 20,
    timeoutMs: 5000,
    ...opts,
  });
  return { session, link, events };
}

export function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

export function once<T = unknown>(emitter: { once(ev: string, f: (v: T) => void): unknown }, ev: string): Promise<T> {
  return new Promise((resolve) => emitter.once(ev, resolve));
}

/** A raw listener: every frame goes to `onFrame` (for a fake server written by hand). */
export async function startRaw(onFrame: (payload: Uint8Array, link: FrameLink) => void): Promise<number> {
  const listener = await listenFrames({ host: HOST, port: 0 }, (link) => link.on('frame', (p: Uint8Array) => onFrame(p, link)));
  listeners.push(listener);
  return listener.port;
}

export function isTl(v: unknown): v is TlObject {
  return !!v && typeof v === 'object' && typeof (v as TlObject)._ === 'string';
}

// ---------------------------------------------------------------------------------------------------------------
// A raw client for the server's checks: hand-built encrypted messages with chosen msg_ids, seqnos and salts.

export interface RawMsg {
  msgId: bigint;
  seqno: number;
  body: Uint8Array;
  /** The container it came in (server → client). */
  containerId?: bigint;
}

export interface RawItem {
  body: Uint8Array;
  contentRelated?: boolean;
  msgId?: bigint;
  seqno?: number;
}

export class RawClient {
  /** Every server message, container children flattened (with their containerId). */
  readonly inbox: RawMsg[] = [];
  /** Outer server messages as they came (containers included). */
  readonly packets: RawMsg[] = [];
  readonly quickAcks: number[] = [];
  readonly transportErrors: number[] = [];
  readonly clock = new MsgIdClock();
  private contentCount = 0;
  closed = false;
  closeReason = '';

  constructor(
    readonly link: FrameLink,
    readonly key: Uint8Array,
    public salt: bigint,
    readonly sessionId = randomLong(),
  ) {
    link.on('frame', (p: Uint8Array) => {
      const code = transportErrorCode(p);
      if (code !== null) {
        this.transportErrors.push(code);
        return;
      }
      const m = decryptMessage(key, p, 8);
      this.packets.push(m);
      if (peekId(m.body) === MT.msg_container) for (const c of decodeContainer(m.body)) this.inbox.push({ ...c, containerId: m.msgId });
      else this.inbox.push(m);
    });
    link.on('quick-ack', (token: number) => this.quickAcks.push(token));
    link.on('close', (reason: string) => {
      this.closed = true;
      this.closeReason = reason;
    });
  }

  /** The next seqno as a well-behaved client counts it. */
  seq(contentRelated: boolean): number {
    if (!contentRelated) return this.contentCount * 2;
    return this.contentCount++ * 2 + 1;
  }

  /** Encrypts one message (an API call by default: content-related). Returns its msg_id. */
  send(body: Uint8Array, opts: { seqno?: number; msgId?: bigint; salt?: bigint; contentRelated?: boolean; quickAck?: boolean } = {}): bigint {
    const msgId = opts.msgId ?? this.clock.next();
    const seqno = opts.seqno ?? this.seq(opts.contentRelated ?? true);
    // a chosen seqno moves the count on, so the next counted one stays in order after it
    if (opts.seqno !== undefined) this.contentCount = Math.max(this.contentCount, Math.ceil(opts.seqno / 2));
    this.link.send(this.packet(msgId, seqno, body, opts.salt), opts.quickAck ? { quickAck: true } : undefined);
    return msgId;
  }

  packet(msgId: bigint, seqno: number, body: Uint8Array, salt = this.salt): Uint8Array {
    return encryptMessage(this.key, { salt, sessionId: this.sessionId, msgId, seqno, body }, 0);
  }

  /** Sends a msg_container of `items` (ids and seqnos given or counted); returns the container's id and the items' ids. */
  sendContainer(items: RawItem[], opts: { msgId?: bigint; seqno?: number } = {}): { containerId: bigint; ids: bigint[] } {
    const stamped = items.map((i) => ({ msgId: i.msgId ?? this.clock.next(), seqno: i.seqno ?? this.seq(i.contentRelated ?? true), body: i.body }));
    const containerId = opts.msgId ?? this.clock.next();
    this.send(encodeContainer(stamped), { msgId: containerId, seqno: opts.seqno ?? this.seq(false) });
    return { containerId, ids: stamped.map((s) => s.msgId) };
  }

  /** Server messages of one constructor (rpc_result: optionally for one query). */
  all(ctor: string, reqMsgId?: bigint): RawMsg[] {
    return this.inbox.filter((m) => serviceName(peekId(m.body)) === ctor && (reqMsgId === undefined || new TlReader(m.body, 4).long() === reqMsgId));
  }

  async waitFor(ctor: string, reqMsgId?: bigint, count = 1, ms = 3000): Promise<RawMsg[]> {
    await waitFor(() => this.all(ctor, reqMsgId).length >= count, ms, `${count} × ${ctor}${reqMsgId !== undefined ? ` for ${reqMsgId}` : ''}`);
    return this.all(ctor, reqMsgId);
  }

  /** bad_msg_notifications received: [bad_msg_id, seqno, code]. */
  badMsgs(): { id: bigint; seqno: number; code: number }[] {
    return this.all('bad_msg_notification').map((m) => {
      const r = new TlReader(m.body, 4);
      return { id: r.long(), seqno: r.int(), code: r.int() };
    });
  }

  async waitBadMsg(id: bigint, ms = 3000): Promise<number> {
    await waitFor(() => this.badMsgs().some((b) => b.id === id), ms, `bad_msg_notification for ${id}`);
    return this.badMsgs().find((b) => b.id === id)!.code;
  }

  close(): void {
    this.link.close();
  }
}

export async function rawClient(
  port: number,
  key: Uint8Array,
  salt: bigint,
  sessionId?: bigint,
  transport: TransportName = 'intermediate',
): Promise<RawClient> {
  const link = await connectTcp({ host: HOST, port, transport });
  return new RawClient(link, key, salt, sessionId);
}

/** req_msg_id and result bytes of an rpc_result body. */
export function rpcResultOf(m: RawMsg): { req: bigint; body: Uint8Array } {
  const r = new TlReader(m.body, 4);
  const req = r.long();
  return { req, body: r.raw(r.remaining) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
