// Transport obfuscation ("obfuscated2", core.telegram.org/mtproto/mtproto-transports#transport-obfuscation):
// a 64-byte random header carries the AES-256-CTR keys of both directions and, encrypted, the inner transport's
// protocol tag (bytes 56..59) and the dc id (int16 LE at 60..61). Everything after it, in both directions, is the
// inner transport's byte stream run through AES-256-CTR.
//
// Client: key/iv = header[8..40] / header[40..56] encrypt; the same ranges of the byte-reversed header decrypt.
// With an MTProxy secret each key becomes SHA256(key ‖ secret). The header is sent as its first 56 bytes in clear
// followed by bytes 56..63 of its own encryption under the client's encrypting stream (which thereby has consumed
// 64 bytes before the first frame).
//
// The full transport has no protocol tag, so it cannot be obfuscated (clients in the wild do not do it either).
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { AesCtr } from '../crypto/aes-ctr';
import { sha256 } from '../crypto/hash';
import {
  createFrameCodec,
  isForbiddenObfuscatedStart,
  pushPayloads,
  readUint32le,
  transportFromTag,
  transportTag,
  type DecodedFrame,
  type EncodeOptions,
  type FrameCodec,
  type TransportName,
  type TransportSide,
} from './frames';

/** A byte-granular AES-256-CTR keystream (state carries over between calls), e.g. an AesCtr. */
export interface CtrStream {
  update(data: Uint8Array): Uint8Array;
}

/**
 * The 16 bytes of an MTProxy secret: 16 bytes as is; 17 bytes (a transport-selecting prefix such as 0xdd) without
 * its first byte. Fake-TLS (0xee…) secrets are not supported.
 */
export function normalizeProxySecret(secret: Uint8Array): Uint8Array {
  if (secret.length === 16) return secret;
  if (secret.length === 17) {
    if (secret[0] === 0xee) throw new RangeError('fake-TLS (0xee) MTProxy secrets are not supported');
    return secret.subarray(1);
  }
  throw new RangeError(`an MTProxy secret has 16 or 17 bytes, got ${secret.length}`);
}

function deriveKey(key: Uint8Array, secret: Uint8Array | undefined): Uint8Array {
  return secret ? sha256(key, secret) : key;
}

function reversed(u8: Uint8Array): Uint8Array {
  return Uint8Array.from(u8).reverse();
}

/** Wraps an inner codec: outgoing frames are encrypted, incoming bytes decrypted before the inner decoder sees them. */
export class ObfuscatedCodec implements FrameCodec {
  readonly obfuscated = true;
  onQuickAck?: (token: number) => void;
  onQuickAckRequest?: (payload: Uint8Array) => void;

  constructor(
    readonly inner: FrameCodec,
    private readonly encryptor: CtrStream,
    private readonly decryptor: CtrStream,
  ) {}

  get name(): TransportName {
    return this.inner.name;
  }

  get side(): TransportSide {
    return this.inner.side;
  }

  encode(payload: Uint8Array, opts?: EncodeOptions): Uint8Array {
    return this.encryptor.update(this.inner.encode(payload, opts));
  }

  encodeQuickAck(token: number): Uint8Array {
    return this.encryptor.update(this.inner.encodeQuickAck(token));
  }

  pushFrames(chunk: Uint8Array): DecodedFrame[] {
    return this.inner.pushFrames(this.decryptor.update(chunk));
  }

  push(chunk: Uint8Array): Uint8Array[] {
    return pushPayloads(this, chunk);
  }
}

export interface ObfuscatedClient {
  /** Send these 64 bytes first (instead of the transport preamble), then `codec.encode` output. */
  header: Uint8Array;
  codec: ObfuscatedCodec;
}

/**
 * A client's obfuscation header and codec. `dcId` goes into bytes 60..61 (int16 LE; +10000 for test DCs, negative
 * for media DCs; 0 leaves them random). `secret`: an MTProxy secret (16 bytes, or 17 with a transport prefix).
 */
export function createObfuscatedClient(inner: TransportName, dcId: number, secret?: Uint8Array): ObfuscatedClient {
  if (inner === 'full') throw new TypeError('obfuscated2 has no protocol tag for the full transport');
  if (!Number.isInteger(dcId) || dcId < -32768 || dcId > 32767) throw new RangeError(`dc id ${dcId} does not fit an int16`);
  const s = secret ? normalizeProxySecret(secret) : undefined;
  let init: Uint8Array;
  do {
    init = new Uint8Array(nodeRandomBytes(64));
  } while (isForbiddenObfuscatedStart(init));
  const tag = transportTag(inner);
  init[56] = init[57] = init[58] = init[59] = tag & 0xff; // all three tags are one byte repeated
  if (dcId !== 0) {
    init[60] = dcId & 0xff;
    init[61] = (dcId >> 8) & 0xff;
  }
  const rev = reversed(init);
  const encryptor = new AesCtr(deriveKey(init.subarray(8, 40), s), init.subarray(40, 56));
  const decryptor = new AesCtr(deriveKey(rev.subarray(8, 40), s), rev.subarray(40, 56));
  const encrypted = encryptor.update(init);
  const header = Uint8Array.from(init);
  header.set(encrypted.subarray(56, 64), 56);
  return { header, codec: new ObfuscatedCodec(createFrameCodec(inner, 'client'), encryptor, decryptor) };
}

export interface ObfuscatedServer {
  inner: Exclude<TransportName, 'full'>;
  /** Bytes 60..61 as int16 LE (meaningful only when the client set them, e.g. through an MTProxy). */
  dcId: number;
  /** The secret that decrypted the header (absent: none was needed). */
  secret?: Uint8Array;
  codec: ObfuscatedCodec;
}

/**
 * The server side: reads a client's 64-byte header. Tries no secret first, then each of `secrets`; returns null
 * when no attempt yields a known protocol tag (garbage, or a secret we do not have).
 */
export function parseObfuscatedHeader(header: Uint8Array, secrets?: Uint8Array[]): ObfuscatedServer | null {
  if (header.length < 64) return null;
  const h = header.subarray(0, 64);
  const rev = reversed(h);
  const candidates: (Uint8Array | undefined)[] = [undefined, ...(secrets ?? []).map(normalizeProxySecret)];
  for (const s of candidates) {
    const decryptor = new AesCtr(deriveKey(h.subarray(8, 40), s), h.subarray(40, 56));
    const plain = decryptor.update(h);
    const inner = transportFromTag(readUint32le(plain, 56));
    if (!inner) continue;
    const dcId = ((plain[60]! | (plain[61]! << 8)) << 16) >> 16;
    const encryptor = new AesCtr(deriveKey(rev.subarray(8, 40), s), rev.subarray(40, 56));
    const res: ObfuscatedServer = { inner, dcId, codec: new ObfuscatedCodec(createFrameCodec(inner, 'server'), encryptor, decryptor) };
    if (s) res.secret = s;
    return res;
  }
  return null;
}
