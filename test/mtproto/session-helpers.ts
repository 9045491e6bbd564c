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
