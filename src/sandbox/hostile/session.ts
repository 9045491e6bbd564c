// The hostile DC's encrypted side (mtproto/description, service_messages): after an honest key exchange it
// decrypts the client's packets, answers ping / ping_delay_disconnect / get_future_salts and API calls
// (help.getNearestDc for real, anything else with an rpc_error), and in a session mode gets exactly one thing
// wrong in the first answer of every connection. Messages are sealed by hand (sealServerMessage) so that msg_key,
// auth_key_id, the length field and the padding can each be the wrong one.
import { TlWriter } from '../../tl/binary';
import type { TlCodec } from '../../tl/codec';
import { AesIge } from '../../crypto/aes-ige';
import { messageKeyIv, msgKey as computeMsgKey } from '../../crypto/kdf';
import { randomBytes } from '../../crypto/random';
import { encodeTransportError } from '../../transport/codec';
import { decryptMessage, keyIdOf } from '../../mtproto/message-crypto';
import { MsgIdClock, SeqNo } from '../../mtproto/msg-id';
import { MT, decodeContainer, encodeFutureSalts, encodeRpcError, encodeRpcResult, peekId, randomLong } from '../../mtproto/service-messages';
import type { AgreedKey } from './handshake';
import { groupOf, type HostileModeOrNone } from './modes';

/** The salt the hostile DC slips in with a message the client must ignore: adopting it proves the check missing. */
export const FORGED_SALT = 0x4841_434b_4841_434bn;

/** What sealServerMessage can get wrong. */
export type SealFault = 'msg_key' | 'auth_key_id' | 'padding-short' | 'padding-long' | 'length-beyond-plaintext' | 'length-not-multiple-of-4';

export interface SealFields {
  salt: bigint;
  sessionId: bigint;
  msgId: bigint;
  seqno: number;
  body: Uint8Array;
}

/**
 * A server→client MTProto 2.0 packet (x = 8), honest unless `fault` names the one field to get wrong; msg_key is
 * always computed over the plaintext actually encrypted, so only the faulted check can catch the packet.
 */
export function sealServerMessage(authKey: Uint8Array, f: SealFields, fault?: SealFault): Uint8Array {
  const len = f.body.length;
  let pad = 12 + ((16 - ((32 + len + 12) % 16)) % 16);
  if (fault === 'padding-long') pad += 1024;
  const plain = new Uint8Array(32 + len + pad);
  const v = new DataView(plain.buffer);
  v.setBigInt64(0, BigInt.asIntN(64, f.salt), true);
  v.setBigInt64(8, BigInt.asIntN(64, f.sessionId), true);
  v.setBigInt64(16, BigInt.asIntN(64, f.msgId), true);
  v.setInt32(24, f.seqno, true);
  let lengthField = len;
  if (fault === 'padding-short') lengthField = len + pad - 4; // 4 bytes of padding left
  if (fault === 'length-beyond-plaintext') lengthField = len + pad + 16;
  if (fault === 'length-not-multiple-of-4') lengthField = len + 1;
  v.setInt32(28, lengthField, true);
  plain.set(f.body, 32);
  plain.set(randomBytes(pad), 32 + len);
  const mk = computeMsgKey(authKey, plain, 8);
  const { key, iv } = messageKeyIv(authKey, mk, 8);
  const cipher = new AesIge(key, iv).encrypt(plain);
  const out = new Uint8Array(24 + cipher.length);
  const keyId = fault === 'auth_key_id' ? keyIdOf(authKey) ^ 0x0101_0101n : keyIdOf(authKey);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, keyId), true);
  out.set(mk, 8);
  if (fault === 'msg_key') out[8] = out[8]! ^ 0x01;
  out.set(cipher, 24);
  return out;
}

/** The DC-wide state the connections share: agreed keys, and how the −404 modes have played so far. */
export interface HostileKeyRegistry {
  keys: Map<bigint, AgreedKey>;
  /** −404s sent, per auth_key_id. */
  minus404: Map<bigint, number>;
  sent404Once: boolean;
}

export interface HostileSessionStats {
  encryptedPackets: number;
  /** Encrypted packets under a key the client should have refused. */
  refusedKeyPackets: number;
  /** Answers sent with the mode's fault. */
  faultyAnswers: number;
  transportErrors: number;
}

interface Answer {
  body: Uint8Array;
  kind: 'response' | 'notification';
  contentRelated: boolean;
}

const SEAL_FAULTS: Partial<Record<HostileModeOrNone, SealFault>> = {
  msg_key: 'msg_key',
  auth_key_id: 'auth_key_id',
  'padding-short': 'padding-short',
  'padding-long': 'padding-long',
  'length-beyond-plaintext': 'length-beyond-plaintext',
  'length-not-multiple-of-4': 'length-not-multiple-of-4',
};

function pong(reqMsgId: bigint, pingId: bigint): Uint8Array {
  const w = new TlWriter(20);
  w.uint(MT.pong);
  w.long(reqMsgId);
  w.long(pingId);
  return w.finish();
}

function newSessionCreated(firstMsgId: bigint, salt: bigint): Uint8Array {
  const w = new TlWriter(28);
  w.uint(MT.new_session_created);
  w.long(firstMsgId);
  w.long(randomLong());
  w.long(salt);
  return w.finish();
}

/** A server msg_id `shiftSeconds` away from now (≡ 3 mod 4: a server-initiated message). */
function shiftedMsgId(shiftSeconds: number): bigint {
  const sec = BigInt(Math.floor(Date.now() / 1000) + shiftSeconds);
  return (sec << 32n) | (BigInt(Math.floor(Math.random() * 2 ** 30)) << 2n) | 3n;
}

/** One connection's encrypted side. `send` frames a payload; `close` ends the connection. */
export class HostileSessionConn {
  private readonly clock = new MsgIdClock();
  private readonly seq = new SeqNo();
  private answered = false;
  private readonly attacking: boolean;

  constructor(
    private readonly mode: HostileModeOrNone,
    private readonly dcId: number,
    private readonly registry: HostileKeyRegistry,
    private readonly stats: HostileSessionStats,
    private readonly api: TlCodec,
    private readonly send: (payload: Uint8Array) => void,
    private readonly close: (reason: string) => void,
  ) {
    this.attacking = groupOf(mode) === 'session';
  }

  onPacket(payload: Uint8Array): void {
    this.stats.encryptedPackets++;
    if (payload.length < 8) return this.close('short packet');
    const keyId = new DataView(payload.buffer, payload.byteOffset, 8).getBigInt64(0, true);
    const key = this.registry.keys.get(keyId);
    if (key?.refused) this.stats.refusedKeyPackets++;
    if (!key || key.refused) return this.transportError(keyId, 'unknown auth key');
    if (this.mode === 'transport-404-always' || (this.mode === 'transport-404-once' && !this.registry.sent404Once)) {
      this.registry.sent404Once = true;
      return this.transportError(keyId, this.mode);
    }
    let m;
    try {
      m = decryptMessage(key.authKey, payload, 0);
    } catch (e) {
      return this.close(`undecryptable packet: ${e instanceof Error ? e.message : String(e)}`);
    }
    const items = peekId(m.body) === MT.msg_container ? decodeContainer(m.body) : [{ msgId: m.msgId, seqno: m.seqno, body: m.body }];
    const answers: Answer[] = [];
    for (const it of items) {
      const a = this.answerFor(it.msgId, it.body);
      if (a) answers.push(a);
    }
    if (answers.length === 0) return;
    const first = !this.answered;
    this.answered = true;
    const salt = key.serverSalt;
    const seal = (a: Answer, fault?: SealFault, msgId?: bigint, sessionId = m.sessionId): void => {
      const id = msgId ?? this.clock.nextServer(a.kind);
      this.send(sealServerMessage(key.authKey, { salt, sessionId, msgId: id, seqno: this.seq.next(a.contentRelated), body: a.body }, fault));
    };
    if (!first || !this.attacking) {
      for (const a of answers) seal(a);
      return;
    }
    this.stats.faultyAnswers++;
    const forged: Answer = { body: newSessionCreated(m.msgId, FORGED_SALT), kind: 'notification', contentRelated: false };
    switch (this.mode) {
      case 'session_id':
        seal(answers[0]!, undefined, undefined, m.sessionId ^ 0x7777n);
        break;
      case 'msg_id-even':
        seal(answers[0]!, undefined, this.clock.nextServer('response') - 1n);
        break;
      case 'msg_id-past':
        seal(forged, undefined, shiftedMsgId(-400));
        break;
      case 'msg_id-future':
        seal(forged, undefined, shiftedMsgId(60));
        break;
      case 'msg_id-duplicate': {
        // the honest answers first, then the forged message under the last of their ids
        let last = 0n;
        for (const a of answers) {
          last = this.clock.nextServer(a.kind);
          seal(a, undefined, last);
        }
        seal(forged, undefined, last);
        return;
      }
      case 'garbage-frame-in-session': {
        for (const a of answers) seal(a);
        const junk = randomBytes(80);
        junk[0] = Number(BigInt.asUintN(64, keyId) & 0xffn) ^ 0xff; // never this key's id
        this.send(junk);
        return;
      }
      default:
        seal(answers[0]!, SEAL_FAULTS[this.mode]);
    }
    for (const a of answers.slice(this.mode === 'msg_id-past' || this.mode === 'msg_id-future' ? 0 : 1)) seal(a);
  }

  private transportError(keyId: bigint, why: string): void {
    this.stats.transportErrors++;
    this.registry.minus404.set(keyId, (this.registry.minus404.get(keyId) ?? 0) + 1);
    this.send(encodeTransportError(-404));
    this.close(`-404: ${why}`);
  }

  private answerFor(msgId: bigint, body: Uint8Array): Answer | undefined {
    const id = peekId(body);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    switch (id) {
      case MT.ping:
      case MT.ping_delay_disconnect:
        return { body: pong(msgId, view.getBigInt64(4, true)), kind: 'response', contentRelated: true };
      case MT.get_future_salts: {
        const now = Math.floor(Date.now() / 1000);
        return {
          body: encodeFutureSalts(msgId, now, [{ valid_since: now - 60, valid_until: now + 3600, salt: randomLong() }]),
          kind: 'response',
          contentRelated: true,
        };
      }
      case MT.msgs_ack:
      case MT.msgs_state_req:
      case MT.msgs_state_info:
      case MT.msg_resend_req:
        return undefined;
      default:
        break;
    }
    let call;
    try {
      call = this.api.innerQuery(this.api.decode(body));
    } catch {
      return undefined; // not something this DC understands: no answer (the client's deadline ends the wait)
    }
    const result =
      call._ === 'help.getNearestDc'
        ? this.api.encode({ _: 'nearestDc', country: 'ZZ', this_dc: this.dcId, nearest_dc: this.dcId })
        : encodeRpcError(400, 'HOSTILE_DC_METHOD_UNSUPPORTED');
    return { body: encodeRpcResult(msgId, result), kind: 'response', contentRelated: true };
  }
}
