// Server side of auth key creation (mtproto/auth_key), independent of sockets: one ServerHandshake per connection,
// fed decoded unencrypted messages, answering TL objects. Anything it cannot accept throws a ServerHandshakeError
// (whose transportCode the caller may send before dropping the connection); it never throws anything else for
// bad input. p_q_inner_data is accepted in both encryptions Telegram takes: RSA_PAD, and the older SHA1(data) + data
// + padding raised to the RSA power (Telethon 1.x and other clients in wide use send it).
//
// serveHandshakeOnly() wires one to a FrameLink (plain message framing, TL decoding, transport errors): the
// pattern a per-connection dispatcher follows, used by the tests.

import { constants, createPrivateKey, generatePrimeSync, privateDecrypt, type KeyObject } from 'node:crypto';
import type { TlObject } from '../tl/types';
import type { TlCodec } from '../tl/codec';
import { TlReader } from '../tl/binary';
import { randomBytes } from '../crypto/random';
import { bytesEqual, sha1 } from '../crypto/hash';
import { bigIntFromBytes, bigIntToBytes, bigIntToMinBytes, modPow } from '../crypto/bigint';
import { aesIgeDecrypt, aesIgeEncrypt } from '../crypto/aes-ige';
import { rsaPadDecrypt, type RsaKeyPair } from '../crypto/rsa';
import { generatePq } from '../crypto/pq';
import { DhCheckError, checkDhValue, dhKeyPair, dhShared } from '../crypto/dh';
import { authKeyId as computeAuthKeyId, handshakeKeyIv, initialServerSalt } from '../crypto/kdf';
import { encodeTransportError, transportErrorCode } from '../transport/codec';
import type { FrameLink } from '../transport/tcp';
import { ServerHandshakeError } from './handshake-errors';
import { authKeyAuxHash, mtprotoCodec, newNonceHash, openHashed, retryIdFromAuxHash, withHashAndPadding } from './handshake-client';
import { decodePlainMessage, encodePlainMessage } from './plain';
import { MsgIdClock } from './msg-id';

export { ServerHandshakeError } from './handshake-errors';

/** Misbehaviours for testing clients: each must make a correct client fail with a HandshakeError naming the check. */
export type HostileMode =
  | 'non-safe-prime' // a 2048-bit prime p ≡ 2 (mod 3) whose (p−1)/2 is not prime
  | 'bad-g' // g = 2 with a prime where 2 is no quadratic residue (p mod 8 ≠ 7)
  | 'g_a-out-of-range' // g_a = 2^1000, below the 2^(2048−64) margin
  | 'bad-answer-hash' // SHA1 of answer_with_hash altered
  | 'bad-nonce' // server_DH_inner_data.nonce altered
  | 'bad-server-nonce' // server_DH_inner_data.server_nonce altered
  | 'bad-new-nonce-hash' // dh_gen_ok.new_nonce_hash1 altered
  | 'dh-gen-fail'; // answers dh_gen_fail (with a correct new_nonce_hash3)

export interface ServerHandshakeOptions {
  /** This DC's id. p_q_inner_data_dc's dc must match it modulo the test (+10000) and media (negative) markers. */
  dcId: number;
  rsa: RsaKeyPair[];
  dhPrime: bigint;
  g: number;
  /** Require the dc of p_q_inner_data_dc to equal dcId exactly. */
  strictDc?: boolean;
  /** Accept the old p_q_inner_data / p_q_inner_data_temp without dc (default true: GramJS sends it). */
  acceptNoDc?: boolean;
  /** Answer dh_gen_retry to the first set_client_DH_params (tests the client's retry path). */
  retryOnce?: boolean;
  /**
   * Whether another key already has this auth_key_id: then the answer is dh_gen_retry, as the spec asks (the
   * client retries with a new b). Bounded: after 5 retries the key is refused with dh_gen_fail.
   */
  keyIdInUse?: (authKeyId: bigint) => boolean;
  hostile?: HostileMode;
  /** Clock for server_time (ms), default Date.now. */
  now?: () => number;
  codec?: TlCodec;
}

export interface ServerHandshakeDone {
  authKey: Uint8Array;
  authKeyId: bigint;
  serverSalt: bigint;
  /** The dc the client wrote into the inner data, when it wrote one. */
  clientDc?: number;
  /** Set for temporary keys (p_q_inner_data_temp*): the lifetime the client asked for, seconds. */
  expiresIn?: number;
  /** Which inner data form the client used. */
  innerData: string;
  /**
   * How p_q_inner_data was encrypted: RSA_PAD, or the older SHA1(data) + data + padding to 255 bytes raised to the
   * RSA power (still accepted by Telegram).
   */
  innerEncryption: 'RSA_PAD' | 'SHA1';
}

type Phase =
  | { name: 'idle' }
  | { name: 'pq'; nonce: Uint8Array; serverNonce: Uint8Array; pq: bigint; p: bigint; q: bigint }
  | {
      name: 'dh';
      nonce: Uint8Array;
      serverNonce: Uint8Array;
      newNonce: Uint8Array;
      tmpKey: Uint8Array;
      tmpIv: Uint8Array;
      a: bigint;
      dhPrime: bigint;
      expectedRetryId: bigint;
      retried: boolean;
      retries: number;
      innerData: string;
      innerEncryption: 'RSA_PAD' | 'SHA1';
      clientDc?: number;
      expiresIn?: number;
    }
  | { name: 'done' };

const MAX_SERVER_RETRIES = 5;
const PQ_INNER_FORMS = new Set(['p_q_inner_data', 'p_q_inner_data_dc', 'p_q_inner_data_temp', 'p_q_inner_data_temp_dc']);

let nonSafePrimeCache: bigint | undefined;
/** A 2048-bit prime p with p ≡ 2 (mod 3) (so g = 3 passes the residue rule) that is not a safe prime. */
function nonSafePrime(): bigint {
  // A random prime is a safe prime with negligible probability (~1/1400 · density of primes), so none is checked for.
  return (nonSafePrimeCache ??= generatePrimeSync(2048, { bigint: true, add: 3n, rem: 2n }) as bigint);
}

function bytesField(msg: TlObject, field: string, length?: number): Uint8Array {
  const v = msg[field];
  if (!(v instanceof Uint8Array)) throw new ServerHandshakeError(field, `${msg._}.${field} is missing`);
  if (length !== undefined && v.length !== length) {
    throw new ServerHandshakeError(field, `${msg._}.${field} is ${v.length} bytes, expected ${length}`);
  }
  return v;
}

function flipFirstByte(u8: Uint8Array): Uint8Array {
  const out = Uint8Array.from(u8);
  out[0] = out[0]! ^ 0xff;
  return out;
}

export class ServerHandshake {
  private phase: Phase = { name: 'idle' };
  private readonly codec: TlCodec;

  constructor(private readonly opts: ServerHandshakeOptions) {
    this.codec = opts.codec ?? mtprotoCodec();
  }

  /** True once a key was agreed (the last answer was dh_gen_ok). */
  get done(): boolean {
    return this.phase.name === 'done';
  }

  /**
   * Answers one handshake message. Throws ServerHandshakeError for anything unacceptable (the handshake state is
   * then reset: the client has to start over with req_pq_multi).
   */
  async handle(msg: TlObject): Promise<{ reply: TlObject; done?: ServerHandshakeDone }> {
    try {
      switch (msg._) {
        case 'req_pq':
        case 'req_pq_multi':
          return { reply: this.onReqPq(msg) };
        case 'req_DH_params':
          return { reply: this.onReqDhParams(msg) };
        case 'set_client_DH_params':
          return this.onSetClientDhParams(msg);
        default:
          throw new ServerHandshakeError('unexpected message', `${msg._} is not a handshake message`);
      }
    } catch (e) {
      this.phase = { name: 'idle' };
      if (e instanceof ServerHandshakeError) throw e;
      // Defensive: malformed values the decoder let through end up here rather than crashing the server.
      throw new ServerHandshakeError('internal', e instanceof Error ? e.message : String(e));
    }
  }

  private onReqPq(msg: TlObject): TlObject {
    const nonce = bytesField(msg, 'nonce', 16);
    const { pq, p, q } = generatePq();
    const serverNonce = randomBytes(16);
    this.phase = { name: 'pq', nonce, serverNonce, pq, p, q };
    return {
      _: 'resPQ',
      nonce,
      server_nonce: serverNonce,
      pq: bigIntToMinBytes(pq),
      server_public_key_fingerprints: this.opts.rsa.map((k) => k.publicKey.fingerprint),
    };
  }

  private onReqDhParams(msg: TlObject): TlObject {
    const st = this.phase;
    if (st.name !== 'pq') throw new ServerHandshakeError('state', `req_DH_params without a preceding req_pq_multi`);
    if (!bytesEqual(bytesField(msg, 'nonce', 16), st.nonce)) throw new ServerHandshakeError('nonce', 'req_DH_params.nonce differs');
    if (!bytesEqual(bytesField(msg, 'server_nonce', 16), st.serverNonce)) {
      throw new ServerHandshakeError('server_nonce', 'req_DH_params.server_nonce differs');
    }
    if (bigIntFromBytes(bytesField(msg, 'p'), 'be') !== st.p || bigIntFromBytes(bytesField(msg, 'q'), 'be') !== st.q) {
      throw new ServerHandshakeError('p, q', 'req_DH_params carries wrong factors of pq');
    }
    const fingerprint = msg.public_key_fingerprint;
    const pair = this.opts.rsa.find((k) => typeof fingerprint === 'bigint' && k.publicKey.fingerprint === fingerprint);
    if (!pair) throw new ServerHandshakeError('public_key_fingerprint', `no key with fingerprint ${String(fingerprint)}`);
    const encrypted = bytesField(msg, 'encrypted_data', 256);

    let inner: TlObject;
    let innerEncryption: 'RSA_PAD' | 'SHA1';
    let plain: Uint8Array | undefined;
    let padError = '';
    try {
      plain = rsaPadDecrypt(encrypted, pair);
    } catch (e) {
      padError = e instanceof Error ? e.message : String(e);
    }
    if (plain) {
      innerEncryption = 'RSA_PAD';
      try {
        inner = this.codec.decode(plain);
      } catch (e) {
        throw new ServerHandshakeError('inner data', `undecodable p_q_inner_data: ${(e as Error).message}`);
      }
    } else {
      // Telegram still takes the older form (Telethon 1.x and others send it); anything else fails as RSA_PAD did
      const old = openSha1RsaInnerData(this.codec, encrypted, pair);
      if (!old) throw new ServerHandshakeError('rsa_pad', padError);
      innerEncryption = 'SHA1';
      inner = old;
    }
    if (!PQ_INNER_FORMS.has(inner._)) throw new ServerHandshakeError('inner data', `${inner._} is not a p_q_inner_data form`);
    const withDc = inner._.endsWith('_dc');
    if (!withDc && this.opts.acceptNoDc === false) throw new ServerHandshakeError('inner data', `${inner._} without dc refused`);
    if (bigIntFromBytes(bytesField(inner, 'pq'), 'be') !== st.pq) throw new ServerHandshakeError('pq', 'inner pq differs');
    if (bigIntFromBytes(bytesField(inner, 'p'), 'be') !== st.p || bigIntFromBytes(bytesField(inner, 'q'), 'be') !== st.q) {
      throw new ServerHandshakeError('p, q', 'inner p, q differ');
    }
    if (!bytesEqual(bytesField(inner, 'nonce', 16), st.nonce)) throw new ServerHandshakeError('nonce', 'inner nonce differs');
    if (!bytesEqual(bytesField(inner, 'server_nonce', 16), st.serverNonce)) {
      throw new ServerHandshakeError('server_nonce', 'inner server_nonce differs');
    }
    const newNonce = bytesField(inner, 'new_nonce', 32);
    let clientDc: number | undefined;
    if (withDc) {
      clientDc = inner.dc as number;
      const ok = this.opts.strictDc ? clientDc === this.opts.dcId : Math.abs(clientDc) % 10000 === Math.abs(this.opts.dcId) % 10000;
      if (!ok) throw new ServerHandshakeError('dc', `client asked for dc ${clientDc}, this is dc ${this.opts.dcId}`, -444);
    }
    let expiresIn: number | undefined;
    if (inner._.startsWith('p_q_inner_data_temp')) {
      expiresIn = inner.expires_in as number;
      if (!Number.isInteger(expiresIn) || expiresIn <= 0) throw new ServerHandshakeError('expires_in', `bad expires_in ${expiresIn}`);
    }

    // server_DH_inner_data
    const hostile = this.opts.hostile;
    let dhPrime = this.opts.dhPrime;
    let g = this.opts.g;
    if (hostile === 'non-safe-prime') dhPrime = nonSafePrime();
    if (hostile === 'bad-g') g = 2;
    const { secret: a, public: computedGa } = g === this.opts.g && dhPrime === this.opts.dhPrime ? dhKeyPair(dhPrime, g) : hostileKeyPair(dhPrime, g);
    const gA = hostile === 'g_a-out-of-range' ? 2n ** 1000n : computedGa;
    const now = this.opts.now ?? Date.now;
    const answer = this.codec.encode({
      _: 'server_DH_inner_data',
      nonce: hostile === 'bad-nonce' ? flipFirstByte(st.nonce) : st.nonce,
      server_nonce: hostile === 'bad-server-nonce' ? flipFirstByte(st.serverNonce) : st.serverNonce,
      g,
      dh_prime: bigIntToBytes(dhPrime, 256, 'be'),
      g_a: bigIntToMinBytes(gA),
      server_time: Math.floor(now() / 1000),
    });
    let answerWithHash = withHashAndPadding(answer);
    if (hostile === 'bad-answer-hash') answerWithHash = flipFirstByte(answerWithHash);
    const { key: tmpKey, iv: tmpIv } = handshakeKeyIv(newNonce, st.serverNonce);
    this.phase = {
      name: 'dh',
      nonce: st.nonce,
      serverNonce: st.serverNonce,
      newNonce,
      tmpKey,
      tmpIv,
      a,
      dhPrime,
      expectedRetryId: 0n,
      retried: false,
      retries: 0,
      innerData: inner._,
      innerEncryption,
      ...(clientDc !== undefined ? { clientDc } : {}),
      ...(expiresIn !== undefined ? { expiresIn } : {}),
    };
    return {
      _: 'server_DH_params_ok',
      nonce: st.nonce,
      server_nonce: st.serverNonce,
      encrypted_answer: aesIgeEncrypt(answerWithHash, tmpKey, tmpIv),
    };
  }

  private onSetClientDhParams(msg: TlObject): { reply: TlObject; done?: ServerHandshakeDone } {
    const st = this.phase;
    if (st.name !== 'dh') throw new ServerHandshakeError('state', 'set_client_DH_params without a preceding req_DH_params');
    if (!bytesEqual(bytesField(msg, 'nonce', 16), st.nonce)) throw new ServerHandshakeError('nonce', 'set_client_DH_params.nonce differs');
    if (!bytesEqual(bytesField(msg, 'server_nonce', 16), st.serverNonce)) {
      throw new ServerHandshakeError('server_nonce', 'set_client_DH_params.server_nonce differs');
    }
    const encrypted = bytesField(msg, 'encrypted_data');
    if (encrypted.length % 16 !== 0 || encrypted.length < 32) {
      throw new ServerHandshakeError('encrypted_data', `${encrypted.length} bytes is not whole AES blocks`);
    }
    const inner = openHashed(this.codec, aesIgeDecrypt(encrypted, st.tmpKey, st.tmpIv));
    if (!inner) throw new ServerHandshakeError('data_hash', 'SHA1 of client_DH_inner_data does not match (or it does not parse)');
    if (inner._ !== 'client_DH_inner_data') throw new ServerHandshakeError('inner data', `${inner._} instead of client_DH_inner_data`);
    if (!bytesEqual(bytesField(inner, 'nonce', 16), st.nonce)) throw new ServerHandshakeError('nonce', 'inner nonce differs');
    if (!bytesEqual(bytesField(inner, 'server_nonce', 16), st.serverNonce)) {
      throw new ServerHandshakeError('server_nonce', 'inner server_nonce differs');
    }
    if (inner.retry_id !== st.expectedRetryId) {
      throw new ServerHandshakeError('retry_id', `retry_id ${String(inner.retry_id)}, expected ${st.expectedRetryId}`);
    }
    const gB = bigIntFromBytes(bytesField(inner, 'g_b'), 'be');
    try {
      checkDhValue(gB, st.dhPrime, 'g_b');
    } catch (e) {
      if (e instanceof DhCheckError) throw new ServerHandshakeError(e.check, e.message);
      throw e;
    }
    const authKey = bigIntToBytes(dhShared(gB, st.a, st.dhPrime), 256, 'be');
    const aux = authKeyAuxHash(authKey);
    const base = { nonce: st.nonce, server_nonce: st.serverNonce };

    const keyId = computeAuthKeyId(authKey);
    const taken = this.opts.keyIdInUse?.(keyId) ?? false;
    if ((this.opts.retryOnce && !st.retried) || (taken && st.retries < MAX_SERVER_RETRIES)) {
      st.retried = true;
      st.retries++;
      st.expectedRetryId = retryIdFromAuxHash(aux);
      return { reply: { _: 'dh_gen_retry', ...base, new_nonce_hash2: newNonceHash(st.newNonce, 2, aux) } };
    }
    if (this.opts.hostile === 'dh-gen-fail' || taken) {
      this.phase = { name: 'idle' };
      return { reply: { _: 'dh_gen_fail', ...base, new_nonce_hash3: newNonceHash(st.newNonce, 3, aux) } };
    }
    let hash1 = newNonceHash(st.newNonce, 1, aux);
    if (this.opts.hostile === 'bad-new-nonce-hash') hash1 = flipFirstByte(hash1);
    this.phase = { name: 'done' };
    const done: ServerHandshakeDone = {
      authKey,
      authKeyId: keyId,
      serverSalt: initialServerSalt(st.newNonce, st.serverNonce),
      innerData: st.innerData,
      innerEncryption: st.innerEncryption,
      ...(st.clientDc !== undefined ? { clientDc: st.clientDc } : {}),
      ...(st.expiresIn !== undefined ? { expiresIn: st.expiresIn } : {}),
    };
    return { reply: { _: 'dh_gen_ok', ...base, new_nonce_hash1: hash1 }, done };
  }
}

const privateKeys = new WeakMap<RsaKeyPair, KeyObject>();

/**
 * The older encryption of p_q_inner_data (mtproto/auth_key before RSA_PAD): data_with_hash = SHA1(data) + data +
 * random bytes, 255 bytes in all, raised to the RSA power without any padding scheme. Returns the inner object, or
 * undefined when the block is not of that form (its SHA1 does not match).
 */
function openSha1RsaInnerData(codec: TlCodec, encrypted: Uint8Array, pair: RsaKeyPair): TlObject | undefined {
  if (encrypted.length !== 256 || bigIntFromBytes(encrypted, 'be') >= pair.publicKey.n) return undefined;
  let block: Uint8Array;
  try {
    let key = privateKeys.get(pair);
    if (!key) {
      key = createPrivateKey(pair.privatePem);
      privateKeys.set(pair, key);
    }
    const raw = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, encrypted);
    block = new Uint8Array(256);
    block.set(raw, 256 - raw.length);
  } catch {
    return undefined;
  }
  // 255 bytes below a 2048-bit modulus: the first byte of the 256-byte block is zero
  if (block[0] !== 0) return undefined;
  const reader = new TlReader(block, 21);
  let obj: TlObject;
  try {
    obj = codec.decode(reader);
  } catch {
    return undefined;
  }
  if (!bytesEqual(sha1(block.subarray(21, reader.offset)), block.subarray(1, 21))) return undefined;
  return obj;
}

/** Key pair for the hostile parameter sets (dhKeyPair may refuse parameters that fail its own checks). */
function hostileKeyPair(p: bigint, g: number): { secret: bigint; public: bigint } {
  const secret = (bigIntFromBytes(randomBytes(256), 'be') % (p - 2n)) + 1n;
  return { secret, public: modPow(BigInt(g), secret, p) };
}

export interface ServeHandshakeOptions {
  codec?: TlCodec;
  /** Called with each agreed key (tests compare it with the client's). */
  onDone?: (done: ServerHandshakeDone, link: FrameLink) => void;
  /** Called with each rejection before the transport error is sent and the link closed. */
  onError?: (err: ServerHandshakeError, link: FrameLink) => void;
}

/**
 * Serves only auth key creation on `link`: decodes unencrypted messages, passes them to a ServerHandshake from
 * `handshakeFactory`, answers with server msg_ids (≡ 1 mod 4). On any rejection — undecodable frame, encrypted
 * message, ServerHandshakeError — sends the transport error (−404, or −444 for a wrong dc) and closes the link.
 * Several handshakes in a row on one link are allowed (a new req_pq_multi restarts).
 */
export function serveHandshakeOnly(link: FrameLink, handshakeFactory: (link: FrameLink) => ServerHandshake, opts: ServeHandshakeOptions = {}): void {
  const codec = opts.codec ?? mtprotoCodec();
  const handshake = handshakeFactory(link);
  const msgIds = new MsgIdClock();
  let chain: Promise<void> = Promise.resolve();

  const reject = (err: ServerHandshakeError): void => {
    try {
      opts.onError?.(err, link);
    } catch {
      // an observer must not keep the link open
    }
    if (!link.closed) {
      link.send(encodeTransportError(err.transportCode));
      link.close(`handshake rejected: ${err.check}`);
    }
  };

  const process = async (payload: Uint8Array): Promise<void> => {
    if (link.closed) return;
    if (transportErrorCode(payload) !== null) throw new ServerHandshakeError('transport', 'client sent a transport error code');
    let body: Uint8Array;
    try {
      ({ body } = decodePlainMessage(payload));
    } catch (e) {
      throw new ServerHandshakeError('unencrypted message', (e as Error).message);
    }
    let msg: TlObject;
    try {
      msg = codec.decode(body);
    } catch (e) {
      throw new ServerHandshakeError('decoding', (e as Error).message);
    }
    const { reply, done } = await handshake.handle(msg);
    link.send(encodePlainMessage(msgIds.nextServer('response'), codec.encode(reply)));
    if (done) opts.onDone?.(done, link);
  };

  link.on('frame', (payload: Uint8Array) => {
    chain = chain
      .then(() => process(payload))
      .catch((e: unknown) => {
        reject(e instanceof ServerHandshakeError ? e : new ServerHandshakeError('internal', e instanceof Error ? e.message : String(e)));
      });
  });
}
