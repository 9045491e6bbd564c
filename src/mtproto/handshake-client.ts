// Client side of auth key creation (mtproto/auth_key, mtproto/security_guidelines):
//   req_pq_multi → resPQ → (pick RSA key, factorize pq) → req_DH_params(RSA_PAD(p_q_inner_data_dc))
//   → server_DH_params_ok (AES-IGE with the tmp key/iv) → checks → set_client_DH_params(client_DH_inner_data)
//   → dh_gen_ok | dh_gen_retry (bounded) | dh_gen_fail.
// Every check of the security guidelines is done; any failure is a HandshakeError naming the step and the check,
// a 'check-failed' wire event is emitted and the link is closed (the guidelines ask to drop the connection).
//
// Measured on loopback (test/mtproto/handshake.test.ts, "timing": median of 7 key creations, client and server in
// one Node 20 process, 2 cores): 20–32 ms on a quiet machine (min 17 ms); 65–105 ms while other suites loaded both
// cores (load average ≈ 10). A dh_prime not seen before costs ≈ 0.2–0.4 s more: proving it a safe prime, on the
// thread pool (checkDhParamsAsync caches it afterwards).

import type { TlObject } from '../tl/types';
import { TlReader } from '../tl/binary';
import { TlCodec } from '../tl/codec';
import { mtprotoSchema } from '../tl/bundled';
import { randomBytes } from '../crypto/random';
import { bytesEqual, sha1 } from '../crypto/hash';
import { bigIntFromBytes, bigIntToBytes, bigIntToMinBytes } from '../crypto/bigint';
import { aesIgeDecrypt, aesIgeEncrypt } from '../crypto/aes-ige';
import { rsaPadEncrypt, type RsaPublicKey } from '../crypto/rsa';
import { PQ_LIMIT, PqError, factorizePq } from '../crypto/pq';
import { DhCheckError, checkDhParamsAsync, checkDhValue, dhKeyPair, dhShared } from '../crypto/dh';
import { authKeyId as computeAuthKeyId, handshakeKeyIv, initialServerSalt } from '../crypto/kdf';
import { transportErrorCode } from '../transport/codec';
import type { FrameLink } from '../transport/tcp';
import { emitWire, type WireEvent } from './wire-event';
import { MsgIdClock } from './msg-id';
import { HandshakeError } from './handshake-errors';
import { PlainMessageError, decodePlainMessage, encodePlainMessage } from './plain';

export { HandshakeError } from './handshake-errors';

export interface CreateAuthKeyOptions {
  /** DC id as written into p_q_inner_data_dc: +10000 for test DCs, negative for media-only DCs. */
  dcId: number;
  /** Trusted server keys; the first whose fingerprint the server offers is used. */
  rsaKeys: RsaPublicKey[];
  /** msg_id source; its timeOffset is set from server_time (and marked synced). A fresh one otherwise. */
  clock?: MsgIdClock;
  onWire?: (e: WireEvent) => void;
  connId?: string;
  /** Whole-handshake deadline, default 20 s. */
  timeoutMs?: number;
  /** How many dh_gen_retry answers are followed before giving up, default 5. */
  maxRetries?: number;
  /** Create a temporary key (p_q_inner_data_temp_dc) valid for this many seconds (api/pfs). */
  expiresIn?: number;
  /**
   * Which inner data form to send: 'dc' (default, p_q_inner_data_dc / _temp_dc) or 'no-dc' (the old
   * p_q_inner_data / _temp, as GramJS sends; kept for testing servers).
   */
  innerDataForm?: 'dc' | 'no-dc';
  codec?: TlCodec;
}

export interface AuthKeyResult {
  authKey: Uint8Array;
  authKeyId: bigint;
  serverSalt: bigint;
  /** server_time − local time, seconds. */
  timeOffset: number;
  /** Request/answer pairs used: 3, one more per dh_gen_retry. */
  roundTrips: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
/** 2020-01-01T00:00:00Z: no DC answers with an earlier server_time. */
export const MIN_SERVER_TIME = 1_577_836_800;
const DEFAULT_MAX_RETRIES = 5;

let sharedCodec: TlCodec | undefined;
/** The codec of the service (mtproto) schema, created once. */
export function mtprotoCodec(): TlCodec {
  return (sharedCodec ??= new TlCodec(mtprotoSchema()));
}

/** SHA1(data) + data + 0–15 random bytes so the length is a multiple of 16 (answer_with_hash / data_with_hash). */
export function withHashAndPadding(data: Uint8Array): Uint8Array {
  const hash = sha1(data);
  const len = 20 + data.length;
  const pad = (16 - (len % 16)) % 16;
  const out = new Uint8Array(len + pad);
  out.set(hash, 0);
  out.set(data, 20);
  if (pad) out.set(randomBytes(pad), len);
  return out;
}

/**
 * Splits a decrypted `SHA1(x) + x + padding` buffer: decodes the boxed object after the hash, checks the hash over
 * exactly the bytes it occupied and that at most 15 bytes of padding follow. Returns null when any of that fails.
 */
export function openHashed(codec: TlCodec, plain: Uint8Array): TlObject | null {
  if (plain.length < 20 + 4) return null;
  const reader = new TlReader(plain, 20);
  let obj: TlObject;
  try {
    obj = codec.decode(reader);
  } catch {
    return null;
  }
  const end = reader.offset;
  if (plain.length - end > 15) return null;
  if (!bytesEqual(sha1(plain.subarray(20, end)), plain.subarray(0, 20))) return null;
  return obj;
}

/** new_nonce_hashN: the 128 lower-order bits of SHA1(new_nonce + byte N + auth_key_aux_hash). */
export function newNonceHash(newNonce: Uint8Array, n: 1 | 2 | 3, authKeyAuxHash: Uint8Array): Uint8Array {
  return sha1(newNonce, Uint8Array.of(n), authKeyAuxHash).subarray(4, 20);
}

/** auth_key_aux_hash: the 64 higher-order bits (first 8 bytes) of SHA1(auth_key). */
export function authKeyAuxHash(authKey: Uint8Array): Uint8Array {
  return sha1(authKey).subarray(0, 8);
}

/** The retry_id long whose serialization is auth_key_aux_hash. */
export function retryIdFromAuxHash(aux: Uint8Array): bigint {
  return BigInt.asIntN(64, bigIntFromBytes(aux, 'le'));
}

/** The link closed under a step: a broken byte stream is named as such, anything else is a close. */
function closedError(step: string, reason: string): HandshakeError {
  return new HandshakeError(step, reason.startsWith('framing error') ? 'framing error' : 'connection closed', reason);
}

/** Frames of a link as an awaitable queue; transport errors and closes become HandshakeErrors. */
class FrameQueue {
  private readonly frames: Uint8Array[] = [];
  private waiter: { resolve: (f: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  private closedReason: string | undefined;
  private readonly onFrame = (payload: Uint8Array): void => {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(payload);
    } else this.frames.push(payload);
  };
  private readonly onClose = (reason: string): void => {
    this.closedReason = reason || 'closed';
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(new Error(this.closedReason));
    }
  };

  constructor(private readonly link: FrameLink) {
    link.on('frame', this.onFrame);
    link.on('close', this.onClose);
    if (link.closed) this.closedReason = 'closed';
  }

  next(deadline: number, step: string): Promise<Uint8Array> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedReason !== undefined) {
      return Promise.reject(closedError(step, this.closedReason));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const ms = deadline - Date.now();
      const timer = setTimeout(
        () => {
          this.waiter = undefined;
          reject(new HandshakeError(step, 'timeout', `no answer within the handshake deadline`));
        },
        Math.max(0, ms),
      );
      this.waiter = {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(closedError(step, e.message));
        },
      };
    });
  }

  dispose(): void {
    this.link.off('frame', this.onFrame);
    this.link.off('close', this.onClose);
  }
}

/**
 * Creates a permanent (or, with `expiresIn`, temporary) auth key over `link`, which must carry nothing else
 * meanwhile. On failure the link is closed and a `HandshakeError { step, reason }` is thrown.
 */
export async function createAuthKey(link: FrameLink, opts: CreateAuthKeyOptions): Promise<AuthKeyResult> {
  const codec = opts.codec ?? mtprotoCodec();
  const clock = opts.clock ?? new MsgIdClock();
  const connId = opts.connId ?? link.remote;
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
  const queue = new FrameQueue(link);
  let roundTrips = 0;

  const emit = (e: Omit<WireEvent, 'time' | 'dcId' | 'connId'>): void => {
    emitWire(opts.onWire, { time: Date.now(), dcId: opts.dcId, connId, ...e });
  };

  // Explicitly typed so that calls narrow like `throw` does.
  const fail: (step: string, check: string, detail: string, ctor?: string) => never = (step, check, detail, ctor = step) => {
    emit({ dir: 'local', kind: 'check-failed', ctor, size: 0, note: `${check}: ${detail}` });
    throw new HandshakeError(step, check, detail, { check });
  };

  const send = (obj: TlObject): void => {
    const msgId = clock.next();
    const message = encodePlainMessage(msgId, codec.encode(obj));
    emit({ dir: 'out', kind: 'plain', ctor: obj._, size: message.length, msgId: msgId.toString() });
    link.send(message);
  };

  /** One round trip: send `request`, wait for the answer, check that it is one of `expected`. */
  const exchange = async (request: TlObject, expected: string[]): Promise<TlObject> => {
    const step = request._;
    send(request);
    const payload = await queue.next(deadline, step);
    roundTrips++;
    const code = transportErrorCode(payload);
    if (code !== null) {
      emit({ dir: 'in', kind: 'transport-error', ctor: `transport error ${code}`, size: payload.length });
      throw new HandshakeError(step, `transport error ${code}`, transportErrorHint(code), { transportCode: code });
    }
    let msgId: bigint;
    let body: Uint8Array;
    try {
      ({ msgId, body } = decodePlainMessage(payload));
    } catch (e) {
      const detail = e instanceof PlainMessageError ? e.message : String(e);
      return fail(step, 'unencrypted message', detail, 'unknown');
    }
    let answer: TlObject;
    try {
      answer = codec.decode(body);
    } catch (e) {
      return fail(step, 'answer decoding', (e as Error).message, 'unknown');
    }
    emit({ dir: 'in', kind: 'plain', ctor: answer._, size: payload.length, msgId: msgId.toString() });
    if ((msgId & 1n) !== 1n) fail(step, 'msg_id', `server msg_id ${msgId} is not odd`, answer._);
    if (!expected.includes(answer._)) fail(step, 'answer type', `expected ${expected.join(' or ')}, got ${answer._}`, answer._);
    return answer;
  };

  try {
    // 1. req_pq_multi → resPQ
    const nonce = randomBytes(16);
    const resPq = await exchange({ _: 'req_pq_multi', nonce }, ['resPQ']);
    if (!bytesEqual(resPq.nonce as Uint8Array, nonce)) fail('req_pq_multi', 'nonce', 'resPQ.nonce differs from ours', 'resPQ');
    const serverNonce = resPq.server_nonce as Uint8Array;
    const fingerprints = resPq.server_public_key_fingerprints as bigint[];
    const key = opts.rsaKeys.find((k) => fingerprints.some((f) => BigInt.asIntN(64, f) === BigInt.asIntN(64, k.fingerprint)));
    if (!key) {
      const hex = (f: bigint): string => `${BigInt.asUintN(64, f).toString(16).padStart(16, '0')} (${BigInt.asIntN(64, f)})`;
      fail(
        'req_pq_multi',
        'rsa key',
        `none of our ${opts.rsaKeys.length} RSA keys matches the server's fingerprints [${fingerprints.map(hex).join(', ')}]` +
          ` (ours: [${opts.rsaKeys.map((k) => hex(k.fingerprint)).join(', ')}])`,
        'resPQ',
      );
    }

    // 2. factorize pq: Telegram's is below 2^63; a bigger one is refused before any factoring (it could hold the
    // event loop for ever), and factoring itself runs on a budget
    const pqBytes = resPq.pq as Uint8Array;
    const pq = bigIntFromBytes(pqBytes, 'be');
    if (pqBytes.length > 8 || pq >= PQ_LIMIT) {
      fail('req_pq_multi', 'pq', `pq of ${pqBytes.length} bytes is not below 2^63 (Telegram's always is): refused without factoring`, 'resPQ');
    }
    if (pq < 6n) fail('req_pq_multi', 'pq', `pq ${pq} is not a usable product`, 'resPQ');
    let p: bigint;
    let q: bigint;
    try {
      [p, q] = factorizePq(pq);
    } catch (e) {
      if (e instanceof PqError) return fail('req_pq_multi', 'pq', `${e.message} (${e.check})`, 'resPQ');
      throw e;
    }
    if (p * q !== pq || p <= 2n || q <= p) fail('req_pq_multi', 'pq', 'pq is not the product of two distinct odd primes', 'resPQ');

    // 3. req_DH_params with RSA_PAD(p_q_inner_data_dc)
    const newNonce = randomBytes(32);
    const common = {
      pq: pqBytes,
      p: bigIntToMinBytes(p),
      q: bigIntToMinBytes(q),
      nonce,
      server_nonce: serverNonce,
      new_nonce: newNonce,
    };
    const withDc = (opts.innerDataForm ?? 'dc') === 'dc';
    let inner: TlObject;
    if (opts.expiresIn !== undefined) {
      inner = withDc
        ? { _: 'p_q_inner_data_temp_dc', ...common, dc: opts.dcId, expires_in: opts.expiresIn }
        : { _: 'p_q_inner_data_temp', ...common, expires_in: opts.expiresIn };
    } else {
      inner = withDc ? { _: 'p_q_inner_data_dc', ...common, dc: opts.dcId } : { _: 'p_q_inner_data', ...common };
    }
    const innerBytes = codec.encode(inner);
    if (innerBytes.length > 144) fail('req_DH_params', 'inner data', `${inner._} is ${innerBytes.length} bytes, RSA_PAD takes at most 144`);
    const dhParams = await exchange(
      {
        _: 'req_DH_params',
        nonce,
        server_nonce: serverNonce,
        p: common.p,
        q: common.q,
        public_key_fingerprint: key.fingerprint,
        encrypted_data: rsaPadEncrypt(innerBytes, key),
      },
      ['server_DH_params_ok', 'server_DH_params_fail'],
    );
    const step2 = 'req_DH_params';
    if (!bytesEqual(dhParams.nonce as Uint8Array, nonce)) fail(step2, 'nonce', `${dhParams._}.nonce differs from ours`, dhParams._);
    if (!bytesEqual(dhParams.server_nonce as Uint8Array, serverNonce)) {
      fail(step2, 'server_nonce', `${dhParams._}.server_nonce differs from resPQ's`, dhParams._);
    }
    if (dhParams._ === 'server_DH_params_fail') {
      const expectedHash = sha1(newNonce).subarray(4, 20);
      const genuine = bytesEqual(dhParams.new_nonce_hash as Uint8Array, expectedHash);
      fail(step2, 'server_DH_params_fail', genuine ? 'the server refused the DH parameters request' : 'with a wrong new_nonce_hash', dhParams._);
    }

    // 4. decrypt and check server_DH_inner_data
    const encryptedAnswer = dhParams.encrypted_answer as Uint8Array;
    if (encryptedAnswer.length % 16 !== 0 || encryptedAnswer.length < 32) {
      fail(step2, 'answer_hash', `encrypted_answer of ${encryptedAnswer.length} bytes is not whole AES blocks`, dhParams._);
    }
    const tmp = handshakeKeyIv(newNonce, serverNonce);
    const dhInner = openHashed(codec, aesIgeDecrypt(encryptedAnswer, tmp.key, tmp.iv));
    if (!dhInner) fail(step2, 'answer_hash', 'SHA1 of the decrypted answer does not match (or it does not parse)', dhParams._);
    const answer = dhInner;
    if (answer._ !== 'server_DH_inner_data') fail(step2, 'answer type', `encrypted answer is ${answer._}`, answer._);
    if (!bytesEqual(answer.nonce as Uint8Array, nonce)) fail(step2, 'nonce', 'server_DH_inner_data.nonce differs from ours', answer._);
    if (!bytesEqual(answer.server_nonce as Uint8Array, serverNonce)) {
      fail(step2, 'server_nonce', "server_DH_inner_data.server_nonce differs from resPQ's", answer._);
    }
    const g = answer.g as number;
    const dhPrime = bigIntFromBytes(answer.dh_prime as Uint8Array, 'be');
    const gA = bigIntFromBytes(answer.g_a as Uint8Array, 'be');
    try {
      await checkDhParamsAsync(dhPrime, g);
      checkDhValue(gA, dhPrime, 'g_a');
    } catch (e) {
      if (e instanceof DhCheckError) fail(step2, e.check, e.message, answer._);
      throw e;
    }
    // server_time becomes our clock: a time before any real DC could answer would make every msg_id absurd
    const serverTime = answer.server_time as number;
    if (!(serverTime >= MIN_SERVER_TIME)) {
      fail(
        step2,
        'server_time',
        `server_time ${serverTime} (${new Date(serverTime * 1000).toISOString()}) is before ${new Date(MIN_SERVER_TIME * 1000).toISOString().slice(0, 10)}`,
        answer._,
      );
    }
    const timeOffset = serverTime - Math.floor(Date.now() / 1000);
    clock.timeOffset = timeOffset;
    clock.synced = true;

    // 5. set_client_DH_params, retried on dh_gen_retry
    const step3 = 'set_client_DH_params';
    let retryId = 0n;
    for (let attempt = 0; ; attempt++) {
      const pair = dhKeyPair(dhPrime, g);
      try {
        checkDhValue(pair.public, dhPrime, 'g_b');
      } catch (e) {
        if (e instanceof DhCheckError) fail(step3, e.check, e.message, 'client_DH_inner_data');
        throw e;
      }
      const authKey = bigIntToBytes(dhShared(gA, pair.secret, dhPrime), 256, 'be');
      const aux = authKeyAuxHash(authKey);
      const clientInner = codec.encode({
        _: 'client_DH_inner_data',
        nonce,
        server_nonce: serverNonce,
        retry_id: retryId,
        g_b: bigIntToMinBytes(pair.public),
      });
      const result = await exchange(
        { _: step3, nonce, server_nonce: serverNonce, encrypted_data: aesIgeEncrypt(withHashAndPadding(clientInner), tmp.key, tmp.iv) },
        ['dh_gen_ok', 'dh_gen_retry', 'dh_gen_fail'],
      );
      if (!bytesEqual(result.nonce as Uint8Array, nonce)) fail(step3, 'nonce', `${result._}.nonce differs from ours`, result._);
      if (!bytesEqual(result.server_nonce as Uint8Array, serverNonce)) {
        fail(step3, 'server_nonce', `${result._}.server_nonce differs from resPQ's`, result._);
      }
      const n = result._ === 'dh_gen_ok' ? 1 : result._ === 'dh_gen_retry' ? 2 : 3;
      const field = `new_nonce_hash${n}`;
      if (!bytesEqual(result[field] as Uint8Array, newNonceHash(newNonce, n, aux))) {
        fail(step3, field, `${result._}.${field} does not match our new_nonce and auth key`, result._);
      }
      if (result._ === 'dh_gen_fail') fail(step3, 'dh_gen_fail', 'the server refused the key', result._);
      if (result._ === 'dh_gen_retry') {
        if (attempt >= maxRetries) fail(step3, 'dh_gen_retry', `still asked to retry after ${maxRetries} retries`, result._);
        retryId = retryIdFromAuxHash(aux);
        continue;
      }
      const keyId = computeAuthKeyId(authKey);
      const serverSalt = initialServerSalt(newNonce, serverNonce);
      emit({
        dir: 'local',
        kind: 'key',
        ctor: opts.expiresIn !== undefined ? 'temp_auth_key' : 'auth_key',
        size: authKey.length,
        note: `auth_key_id ${keyId} after ${roundTrips} round trips, time offset ${timeOffset} s`,
      });
      return { authKey, authKeyId: keyId, serverSalt, timeOffset, roundTrips };
    }
  } catch (e) {
    const err = e instanceof HandshakeError ? e : new HandshakeError('internal', (e as Error)?.message ?? String(e), undefined, { cause: e });
    // failed checks and transport errors have their event already; a deadline, a close or a bug gets one here
    if (err.check === undefined && err.transportCode === undefined) {
      emit({ dir: 'local', kind: 'check-failed', ctor: err.step, size: 0, note: err.message });
    }
    if (!link.closed) link.close(`auth key creation failed: ${err.reason}`);
    throw err;
  } finally {
    queue.dispose();
  }
}

function transportErrorHint(code: number): string {
  switch (code) {
    case -404:
      return 'the server rejected the query (-404: invalid request or unknown auth key); start over';
    case -444:
      return 'invalid DC id (-444)';
    case -429:
      return 'transport flood (-429): back off';
    case -403:
      return 'forbidden (-403)';
    default:
      return `transport error code ${code}`;
  }
}
