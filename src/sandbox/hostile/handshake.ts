// The hostile DC's side of auth key creation (mtproto/auth_key), written by hand over the TL codec so that every
// field can be the wrong one: one HostileHandshake per connection, fed decoded plain messages, answering TL objects.
// In mode 'none' (and in every session/framing/transport mode) it is an honest server; a handshake mode changes
// exactly one thing. Keys the server believes agreed are reported with `refused: true` when the mode is one a
// correct client must refuse: an encrypted packet under such a key proves the client used it anyway.
import { checkPrimeSync, generatePrimeSync } from 'node:crypto';
import type { TlObject } from '../../tl/types';
import type { TlCodec } from '../../tl/codec';
import { randomBytes } from '../../crypto/random';
import { sha1 } from '../../crypto/hash';
import { bigIntFromBytes, bigIntToBytes, bigIntToMinBytes, modPow } from '../../crypto/bigint';
import { aesIgeDecrypt, aesIgeEncrypt } from '../../crypto/aes-ige';
import { rsaPadDecrypt, type RsaKeyPair } from '../../crypto/rsa';
import { generatePq } from '../../crypto/pq';
import { TELEGRAM_DH_PRIME, dhKeyPair } from '../../crypto/dh';
import { authKeyId as computeAuthKeyId, handshakeKeyIv, initialServerSalt } from '../../crypto/kdf';
import { authKeyAuxHash, mtprotoCodec, newNonceHash, openHashed, withHashAndPadding } from '../../mtproto/handshake-client';
import { groupOf, type HostileModeOrNone } from './modes';

export interface AgreedKey {
  authKey: Uint8Array;
  authKeyId: bigint;
  serverSalt: bigint;
  /** The server cheated while agreeing it: a correct client never uses this key. */
  refused: boolean;
}

export interface HostileAnswer {
  reply: TlObject;
  /** Send it with an even msg_id (mode plain-msg-id-even). */
  evenMsgId?: boolean;
  /** The server now believes a key agreed (dh_gen_ok sent, honest or not). */
  agreed?: AgreedKey;
}

/** Thrown for client input the hostile server cannot follow (it answers −404 and closes, as a DC would). */
export class HostileHandshakeError extends Error {
  override readonly name = 'HostileHandshakeError';
}

const TWO_1984 = 1n << 1984n;
const TWO_63 = 1n << 63n;

let nonSafePrimeCache: bigint | undefined;
/** A 2048-bit prime p ≡ 2 (mod 3) (g = 3 passes the residue rule) whose (p−1)/2 is composite. */
export function nonSafePrime(): bigint {
  if (nonSafePrimeCache !== undefined) return nonSafePrimeCache;
  for (;;) {
    const p = generatePrimeSync(2048, { bigint: true, add: 3n, rem: 2n }) as bigint;
    if (!checkPrimeSync((p - 1n) / 2n)) return (nonSafePrimeCache = p);
  }
}

function prime(bits: number): bigint {
  return generatePrimeSync(bits, { bigint: true }) as bigint;
}

function distinctPrimes(bits: number, n: number): bigint[] {
  const out = new Set<bigint>();
  while (out.size < n) out.add(prime(bits));
  return [...out];
}

function flipFirstByte(u8: Uint8Array): Uint8Array {
  const out = Uint8Array.from(u8);
  out[0] = out[0]! ^ 0xff;
  return out;
}

function bytesField(msg: TlObject, field: string): Uint8Array {
  const v = msg[field];
  if (!(v instanceof Uint8Array)) throw new HostileHandshakeError(`${msg._}.${field} is missing`);
  return v;
}

/** The pq the mode sends (always honest outside the pq modes). */
function pqFor(mode: HostileModeOrNone): bigint {
  switch (mode) {
    case 'pq-prime':
      return prime(62);
    case 'pq-three-factors':
      return distinctPrimes(20, 3).reduce((a, b) => a * b, 1n);
    case 'pq-square': {
      const p = prime(31);
      return p * p;
    }
    case 'pq-16-bytes': {
      const [p, q] = distinctPrimes(64, 2);
      return p! * q!;
    }
    case 'pq-above-2^63':
      for (;;) {
        const [p, q] = distinctPrimes(32, 2);
        if (p! * q! >= TWO_63) return p! * q!;
      }
    default:
      return generatePq().pq;
  }
}

/** dh_prime and g of the mode (Telegram's prime with g = 3 when honest). */
function dhParamsFor(mode: HostileModeOrNone): { p: bigint; g: number } {
  const P = TELEGRAM_DH_PRIME;
  switch (mode) {
    case 'dh-prime-composite':
      return { p: P + 6n, g: 3 }; // ≡ P (mod 3): only primality can catch it
    case 'dh-prime-not-safe':
      return { p: nonSafePrime(), g: 3 };
    case 'dh-prime-2047-bits':
      return { p: (P - 1n) / 2n, g: 3 };
    case 'dh-prime-2049-bits':
      return { p: 2n * P + 1n, g: 3 };
    case 'g-out-of-range':
      return { p: P, g: 8 };
    case 'g-not-generator':
      return { p: P, g: 2 }; // P mod 8 = 3: 2 is no quadratic residue
    default:
      return { p: P, g: 3 };
  }
}

interface DhState {
  nonce: Uint8Array;
  serverNonce: Uint8Array;
  newNonce: Uint8Array;
  tmpKey: Uint8Array;
  tmpIv: Uint8Array;
  a: bigint;
  p: bigint;
}

export class HostileHandshake {
  private nonce: Uint8Array | undefined;
  private serverNonce: Uint8Array | undefined;
  private dh: DhState | undefined;
  private readonly codec: TlCodec;
  /** The mode concerns the key exchange (outside it the exchange is honest). */
  private readonly attacking: boolean;

  constructor(
    private readonly mode: HostileModeOrNone,
    private readonly rsa: RsaKeyPair,
    codec?: TlCodec,
  ) {
    this.codec = codec ?? mtprotoCodec();
    this.attacking = groupOf(mode) === 'handshake';
  }

  private is(mode: HostileModeOrNone): boolean {
    return this.attacking && this.mode === mode;
  }

  handle(msg: TlObject): HostileAnswer {
    switch (msg._) {
      case 'req_pq':
      case 'req_pq_multi':
        return this.onReqPq(msg);
      case 'req_DH_params':
        return this.onReqDhParams(msg);
      case 'set_client_DH_params':
        return this.onSetClientDhParams(msg);
      default:
        throw new HostileHandshakeError(`${msg._} is not a key exchange message`);
    }
  }

  private onReqPq(msg: TlObject): HostileAnswer {
    const nonce = bytesField(msg, 'nonce');
    this.nonce = nonce;
    this.serverNonce = randomBytes(16);
    this.dh = undefined;
    const pq = this.attacking ? pqFor(this.mode) : generatePq().pq;
    const fp = this.rsa.publicKey.fingerprint;
    return {
      reply: {
        _: 'resPQ',
        nonce: this.is('resPQ-nonce') ? flipFirstByte(nonce) : nonce,
        server_nonce: this.serverNonce,
        pq: bigIntToMinBytes(pq),
        server_public_key_fingerprints: [this.is('rsa-fingerprint-unknown') ? BigInt.asIntN(64, fp ^ 0x5a5a5a5an) : fp],
      },
      ...(this.is('plain-msg-id-even') ? { evenMsgId: true } : {}),
    };
  }

  private onReqDhParams(msg: TlObject): HostileAnswer {
    const nonce = this.nonce;
    const serverNonce = this.serverNonce;
    if (!nonce || !serverNonce) throw new HostileHandshakeError('req_DH_params before req_pq_multi');
    const inner = this.codec.decode(rsaPadDecrypt(bytesField(msg, 'encrypted_data'), this.rsa));
    const newNonce = bytesField(inner, 'new_nonce');
    if (this.is('server-dh-params-fail')) {
      return { reply: { _: 'server_DH_params_fail', nonce, server_nonce: serverNonce, new_nonce_hash: sha1(newNonce).subarray(4, 20) } };
    }
    const { p, g } = this.attacking ? dhParamsFor(this.mode) : { p: TELEGRAM_DH_PRIME, g: 3 };
    let a: bigint;
    let gA: bigint;
    if (p === TELEGRAM_DH_PRIME && g === 3) ({ secret: a, public: gA } = dhKeyPair(p, g));
    else {
      // parameters dhKeyPair would refuse: computed by hand, the client must refuse them before using g_a
      a = (bigIntFromBytes(randomBytes(256)) % (p - 3n)) + 2n;
      gA = modPow(BigInt(g), a, p);
    }
    if (this.is('g_a-one')) gA = 1n;
    if (this.is('g_a-p-minus-1')) gA = p - 1n;
    if (this.is('g_a-below-margin')) gA = TWO_1984 - 1n;
    if (this.is('g_a-above-margin')) gA = p - TWO_1984 + 1n;
    const answer = this.codec.encode({
      _: 'server_DH_inner_data',
      nonce: this.is('nonce-in-inner-data') ? flipFirstByte(nonce) : nonce,
      server_nonce: this.is('server_nonce-in-inner-data') ? flipFirstByte(serverNonce) : serverNonce,
      g,
      dh_prime: bigIntToMinBytes(p),
      g_a: bigIntToMinBytes(gA),
      server_time: this.is('server-time-absurd') ? 0 : Math.floor(Date.now() / 1000),
    });
    let withHash = withHashAndPadding(answer);
    if (this.is('answer-hash')) withHash = flipFirstByte(withHash);
    const { key: tmpKey, iv: tmpIv } = handshakeKeyIv(newNonce, serverNonce);
    this.dh = { nonce, serverNonce, newNonce, tmpKey, tmpIv, a, p };
    return {
      reply: {
        _: 'server_DH_params_ok',
        nonce,
        server_nonce: this.is('server_nonce-in-dh-params') ? flipFirstByte(serverNonce) : serverNonce,
        encrypted_answer: aesIgeEncrypt(withHash, tmpKey, tmpIv),
      },
    };
  }

  private onSetClientDhParams(msg: TlObject): HostileAnswer {
    const st = this.dh;
    if (!st) throw new HostileHandshakeError('set_client_DH_params before req_DH_params');
    const inner = openHashed(this.codec, aesIgeDecrypt(bytesField(msg, 'encrypted_data'), st.tmpKey, st.tmpIv));
    if (inner?._ !== 'client_DH_inner_data') throw new HostileHandshakeError('client_DH_inner_data does not open');
    const gB = bigIntFromBytes(bytesField(inner, 'g_b'));
    const authKey = bigIntToBytes(modPow(gB, st.a, st.p), 256);
    const aux = authKeyAuxHash(authKey);
    const base = { nonce: st.nonce, server_nonce: st.serverNonce };
    if (this.is('dh-gen-retry-forever')) return { reply: { _: 'dh_gen_retry', ...base, new_nonce_hash2: newNonceHash(st.newNonce, 2, aux) } };
    if (this.is('dh-gen-fail')) return { reply: { _: 'dh_gen_fail', ...base, new_nonce_hash3: newNonceHash(st.newNonce, 3, aux) } };
    let hash1 = newNonceHash(st.newNonce, 1, aux);
    if (this.is('new-nonce-hash1')) hash1 = flipFirstByte(hash1);
    const agreed: AgreedKey = {
      authKey,
      authKeyId: computeAuthKeyId(authKey),
      serverSalt: initialServerSalt(st.newNonce, st.serverNonce),
      // every handshake mode that gets this far cheated somewhere a correct client has noticed by now
      refused: this.attacking,
    };
    this.dh = undefined;
    return {
      reply: {
        _: 'dh_gen_ok',
        nonce: st.nonce,
        server_nonce: this.is('server_nonce-in-dh-gen-ok') ? flipFirstByte(st.serverNonce) : st.serverNonce,
        new_nonce_hash1: hash1,
      },
      agreed,
    };
  }
}
