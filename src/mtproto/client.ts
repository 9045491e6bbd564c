// openSession: connect to a DC, create an auth key when none is given (the handshake of ./handshake-client), then
// start an encrypted MtprotoSession on the same connection. A stored key is reused as is (no handshake); a wrong
// stored salt is corrected by the first bad_server_salt.
import type { RsaPublicKey } from '../crypto/rsa';
import type { TlCodec } from '../tl/codec';
import type { TransportName } from '../transport/codec';
import { connectTcp } from '../transport/tcp';
import { createAuthKey } from './handshake-client';
import { MsgIdClock } from './msg-id';
import { MtprotoSession, type InitConnectionParams } from './session';
import { randomLong } from './service-messages';
import { newConnId, type WireEvent } from './wire-event';

export interface OpenSessionOptions {
  host: string;
  port: number;
  dcId: number;
  /**
   * The dc written into p_q_inner_data_dc when a new key is made (default dcId). A test-mode client passes
   * 10000 + dcId (a test DC refuses the plain id); media DCs use the negative id.
   */
  handshakeDcId?: number;
  transport: TransportName;
  rsaKeys: RsaPublicKey[];
  authKey?: Uint8Array;
  serverSalt?: bigint;
  timeOffset?: number;
  onWire?: (e: WireEvent) => void;
  initConnection?: Partial<InitConnectionParams>;
  obfuscated?: boolean | { secret?: Uint8Array };
  layer?: number;
  codec?: TlCodec;
  connId?: string;
  /** Connect timeout (default 10 s) and handshake timeout (default 20 s). */
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** Default invoke() timeout of the session. */
  callTimeoutMs?: number;
}

export interface OpenedSession {
  session: MtprotoSession;
  authKey: Uint8Array;
  /** True when a new auth key was created on this connection. */
  created: boolean;
  serverSalt: bigint;
  timeOffset: number;
}

export const DEFAULT_INIT_CONNECTION: InitConnectionParams = {
  api_id: 0,
  device_model: 'MTProto DC Lab',
  system_version: `Node.js ${process.versions.node}`,
  app_version: '0.1.0',
  system_lang_code: 'en',
  lang_pack: '',
  lang_code: 'en',
};

export async function openSession(opts: OpenSessionOptions): Promise<OpenedSession> {
  const connId = opts.connId ?? newConnId(opts.dcId);
  const link = await connectTcp({
    host: opts.host,
    port: opts.port,
    transport: opts.transport,
    ...(opts.obfuscated ? { obfuscated: opts.obfuscated, dcId: opts.dcId } : {}),
    ...(opts.connectTimeoutMs ? { timeoutMs: opts.connectTimeoutMs } : {}),
  });
  try {
    const clock = new MsgIdClock({ timeOffset: opts.timeOffset ?? 0 });
    let authKey = opts.authKey;
    let serverSalt = opts.serverSalt;
    let created = false;
    if (!authKey) {
      const res = await createAuthKey(link, {
        dcId: opts.handshakeDcId ?? opts.dcId,
        rsaKeys: opts.rsaKeys,
        clock,
        connId,
        ...(opts.onWire ? { onWire: opts.onWire } : {}),
        ...(opts.handshakeTimeoutMs ? { timeoutMs: opts.handshakeTimeoutMs } : {}),
      });
      authKey = res.authKey;
      serverSalt = res.serverSalt;
      clock.timeOffset = res.timeOffset;
      clock.synced = true;
      created = true;
    }
    const session = new MtprotoSession(link, {
      dcId: opts.dcId,
      authKey,
      // unknown salt: any value works, the server answers bad_server_salt with the right one
      serverSalt: serverSalt ?? randomLong(),
      clock,
      initConnection: { ...DEFAULT_INIT_CONNECTION, ...opts.initConnection },
      connId,
      ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
      ...(opts.codec ? { codec: opts.codec } : {}),
      ...(opts.onWire ? { onWire: opts.onWire } : {}),
      ...(opts.callTimeoutMs !== undefined ? { timeoutMs: opts.callTimeoutMs } : {}),
    });
    return { session, authKey, created, serverSalt: session.serverSalt, timeOffset: clock.timeOffset };
  } catch (e) {
    link.close(`session setup failed: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}
