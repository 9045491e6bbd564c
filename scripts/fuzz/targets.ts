// The fuzz targets: every decoder that takes outside bytes or text, each with a corpus of valid inputs, the
// decoder's own documented error types (anything else it throws is a crash) and the memory one input may cost.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { TlDecodeError, TlReader, TlWriter } from '../../src/tl/binary';
import { TlCodec } from '../../src/tl/codec';
import { fullSchema } from '../../src/tl/bundled';
import { MTPROTO_SCHEMA_TL } from '../../src/tl/mtproto-schema';
import { parseTlSchema, TlParseError } from '../../src/tl/parser';
import { TlSchema } from '../../src/tl/schema';
import { analyzeTlFile, tlDefinitionAt, tlHoverAt } from '../../src/tl/tl-file';
import { tlToJson } from '../../src/tl/json';
import type { TlObject } from '../../src/tl/types';
import { createFrameCodec, detectServerTransport, TransportFramingError, transportTag, type FrameCodec, type TransportName } from '../../src/transport/codec';
import { AesCtr } from '../../src/crypto/aes-ctr';
import { aesIgeEncrypt } from '../../src/crypto/aes-ige';
import { sha1, sha256 } from '../../src/crypto/hash';
import { authKeyId, messageKeyIv, msgKey } from '../../src/crypto/kdf';
import { bigIntFromBytes, bigIntToBytes } from '../../src/crypto/bigint';
import { checkDhParams, checkDhValue, DhCheckError, TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { decryptMessage, MessageCheckError } from '../../src/mtproto/message-crypto';
import {
  decodeContainer,
  decodeFutureSalts,
  encodeContainer,
  encodeFutureSalts,
  encodeLongVectorMessage,
  encodeRpcError,
  encodeRpcResult,
  gunzipPacked,
  GzipPackedError,
  gzipPackedLimit,
  gzipPacketLimit,
  isClockNotification,
  MT,
  peekId,
  readLongVector,
  type ContainerItem,
} from '../../src/mtproto/service-messages';
import { decodePlainMessage, encodePlainMessage, PlainMessageError } from '../../src/mtproto/plain';
import { mtprotoCodec, openHashed } from '../../src/mtproto/handshake-client';
import { analyzeRequestFile, parseRequestFile, completeAt, hoverAt } from '../../src/reqfile/index';
import { validateWebviewMessage } from '../../src/ipc/validate';
import { IPC_FAULT_SPECS } from '../../src/ipc/models';
import { cliBackends } from '../../src/storage/backends';
import { StoreFileError } from '../../src/storage/file-store';
import { ProfileStore, type ProfileName } from '../../src/storage/profile';
import { hashBytes, Rng } from './prng';
import { declarationOf, TlValueGen } from './tl-values';

/** Thrown by a target's own output checks: the decoder produced more than its bound allows. */
export class FuzzBoundError extends Error {
  override readonly name = 'FuzzBoundError';
}

export interface FuzzTarget {
  name: string;
  /** Text input (UTF-8): the text mutators apply. */
  text?: boolean;
  tokens?: readonly string[];
  /** Largest input the mutators build. */
  maxSize: number;
  /** Valid inputs, built once per run from the run's seed. */
  corpus(rng: Rng): Uint8Array[] | Promise<Uint8Array[]>;
  /** Decodes one input; checks output bounds (throwing FuzzBoundError). `slot`: which of `concurrency` runs this is. */
  run(input: Uint8Array, slot?: number): void | Promise<void>;
  /** Inputs run at once (a target waiting on I/O); their memory is judged together. Default 1. */
  concurrency?: number;
  /** Whether `e` is the decoder's documented failure for bad input (anything else is a crash). */
  expected(e: unknown): boolean;
  /** Most bytes of ArrayBuffer memory one input may leave behind (measured coarsely around `run`). */
  allocBound(input: Uint8Array): number;
  /** Releases what `corpus` set up (temp files). */
  dispose?(): void;
  /**
   * Failures already reported to the owners of the code (counted as `known`, not failing the run): of this kind,
   * with a message matching `pattern` and an input for which `when` holds (each when given).
   */
  known?: readonly { kind: 'crash' | 'hang' | 'overAlloc'; pattern?: RegExp; when?: (input: Uint8Array) => boolean; note: string }[];
}

const MiB = 1 << 20;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });
const text = (u8: Uint8Array): string => dec.decode(u8);

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function errorIs(e: unknown, ...types: (abstract new (...args: never[]) => Error)[]): boolean {
  return types.some((t) => e instanceof t);
}

/** An Error thrown as itself (`throw new Error(...)`), not a TypeError/RangeError from a bug. */
function plainError(e: unknown): boolean {
  return e instanceof Error && Object.getPrototypeOf(e) === Error.prototype;
}

/** Feeds `data` to `codec` in chunk sizes drawn from the input's own hash; returns the decoded payload bytes. */
function pushChunked(codec: FrameCodec, data: Uint8Array, salt: number): number {
  const rng = new Rng(hashBytes(data), salt);
  let total = 0;
  for (let i = 0; i < data.length; ) {
    const n = rng.chance(0.3) ? 1 + rng.below(4) : rng.chance(0.7) ? 1 + rng.below(300) : 1 + rng.below(70000);
    for (const f of codec.pushFrames(data.subarray(i, i + n))) if (f.kind === 'payload') total += f.payload.length;
    i += n;
  }
  return total;
}

// ---- tl --------------------------------------------------------------------------------------------------------

let schemaCache: TlSchema | undefined;
const schema = (): TlSchema => (schemaCache ??= fullSchema());
let strictCodec: TlCodec | undefined;
let lenientCodec: TlCodec | undefined;
const codec = (): TlCodec => (strictCodec ??= new TlCodec(schema()));
const lenient = (): TlCodec => (lenientCodec ??= new TlCodec(schema(), { lenient: true }));

/** Some entry of the schema with generated values, encoded (drawn again when the strict codec refuses the value). */
function encodeSome(c: TlCodec, gen: TlValueGen, rng: Rng): Uint8Array {
  for (;;) {
    try {
      return c.encode(gen.entryValue(rng.pick(schema().entries)));
    } catch {
      // e.g. a flag shared by two fields of which only one was generated
    }
  }
}

function tlCorpus(rng: Rng): Uint8Array[] {
  const gen = new TlValueGen(schema(), rng);
  const c = codec();
  const out: Uint8Array[] = [];
  for (const e of schema().entries) {
    try {
      out.push(c.encode(gen.entryValue(e)));
    } catch {
      // a generated value the strict codec refuses (e.g. a generic the generator cannot fill): skip it
    }
  }
  // service framings the schema cannot show by itself: gzip inside rpc_result, containers, nesting
  const user = out[rng.below(out.length)]!;
  out.push(c.encode({ _: 'rpc_result', req_msg_id: 5n, result: { _: 'gzip_packed', packed_data: gzipSync(user) } }));
  out.push(
    c.encode({
      _: 'msg_container',
      messages: [0, 1, 2].map((i) => ({ _: 'message', msg_id: BigInt(i * 4 + 1), seqno: i, body: encodeSome(c, gen, rng) })),
    }),
  );
  out.push(c.encode({ _: 'invokeWithLayer', layer: 227, query: { _: 'invokeAfterMsg', msg_id: 1n, query: { _: 'help.getConfig' } } }));
  // gzip_packed that inflates far beyond what it carries: a valid ping, then 20 MiB of zeros
  const padded = new Uint8Array(20 << 20);
  padded.set(c.encode({ _: 'ping', ping_id: 3n }));
  out.push(c.encode({ _: 'rpc_result', req_msg_id: 6n, result: { _: 'gzip_packed', packed_data: gzipSync(padded) } }));
  return out;
}

const tlTarget: FuzzTarget = {
  name: 'tl',
  maxSize: 256 * 1024,
  corpus: tlCorpus,
  run(input) {
    for (const c of [codec(), lenient()]) {
      try {
        c.decode(input);
      } catch (e) {
        if (!(e instanceof TlDecodeError)) throw e;
      }
    }
  },
  expected: (e) => e instanceof TlDecodeError,
  // two decodes, each with the inflate budget of one packet of this size
  allocBound: (input) => 2 * gzipPacketLimit(input.length) + 64 * input.length + MiB,
};

// ---- transports --------------------------------------------------------------------------------------------------

/** Padded intermediate frames with deterministic padding (the codec's own encoder draws it from crypto). */
function paddedFrame(rng: Rng, payload: Uint8Array, quickAck = false): Uint8Array {
  const pad = rng.below(16);
  const out = new Uint8Array(4 + payload.length + pad);
  const len = ((payload.length + pad) | (quickAck ? 0x80000000 : 0)) >>> 0;
  new DataView(out.buffer).setUint32(0, len, true);
  out.set(payload, 4);
  out.set(rng.bytes(pad), 4 + payload.length);
  return out;
}

function framePayloads(rng: Rng): Uint8Array[] {
  const sizes = [0, 4, 8, 24, 120, 124 * 4, 127 * 4, 1000, 2000];
  const out = sizes.map((n) => rng.bytes(n));
  if (rng.chance(0.3)) out.push(rng.bytes(70 * 1024));
  return out;
}

/** A stream of frames from `from` to the opposite side, with quick-ack requests or tokens where the transport has them. */
function frameStream(rng: Rng, name: TransportName, from: 'client' | 'server'): Uint8Array {
  const c = createFrameCodec(name, from);
  const parts: Uint8Array[] = [];
  for (const p of framePayloads(rng)) {
    const ack = name !== 'full' && rng.chance(0.3);
    parts.push(name === 'padded' ? paddedFrame(rng, p, ack && from === 'client') : c.encode(p, { quickAck: ack }));
    if (ack && from === 'server') parts.push(c.encodeQuickAck(rng.u32()));
  }
  return concat(...parts);
}

function transportTarget(name: TransportName): FuzzTarget {
  return {
    name: `transport-${name}`,
    maxSize: 512 * 1024,
    corpus(rng) {
      const out: Uint8Array[] = [];
      for (let i = 0; i < 6; i++) out.push(concat(Uint8Array.of(i & 1), frameStream(rng, name, i & 1 ? 'server' : 'client')));
      return out;
    },
    run(input) {
      // first byte: which side decodes (0: the server decodes a client's stream; 1: the client a server's)
      if (input.length === 0) return;
      const side = input[0]! & 1 ? 'client' : 'server';
      const data = input.subarray(1);
      const got = pushChunked(createFrameCodec(name, side), data, 1);
      if (got > data.length) throw new FuzzBoundError(`${got} payload bytes out of ${data.length} input bytes`);
    },
    expected: (e) => e instanceof TransportFramingError,
    allocBound: (input) => 6 * input.length + 256 * 1024,
  };
}

// ---- obfuscated ------------------------------------------------------------------------------------------------

const PROXY_SECRET = Uint8Array.from({ length: 16 }, (_, i) => i * 17 + 3);

/** A client's obfuscated2 stream built like createObfuscatedClient, with the header drawn from `rng`. */
function obfuscatedStream(rng: Rng, inner: Exclude<TransportName, 'full'>, secret: Uint8Array | undefined): Uint8Array {
  let init: Uint8Array;
  for (;;) {
    init = rng.bytes(64);
    const w0 = new DataView(init.buffer).getUint32(0, true);
    const w1 = new DataView(init.buffer).getUint32(4, true);
    if (init[0] !== 0xef && w1 !== 0 && ![0x44414548, 0x54534f50, 0x20544547, 0x4954504f, 0x02010316, 0xdddddddd, 0xeeeeeeee].includes(w0)) break;
  }
  init.fill(transportTag(inner) & 0xff, 56, 60);
  const key = secret ? sha256(init.subarray(8, 40), secret) : init.subarray(8, 40);
  const encryptor = new AesCtr(key, init.subarray(40, 56));
  const encrypted = encryptor.update(init);
  const header = Uint8Array.from(init);
  header.set(encrypted.subarray(56, 64), 56);
  return concat(header, encryptor.update(frameStream(rng, inner, 'client')));
}

const obfuscatedTarget: FuzzTarget = {
  name: 'obfuscated',
  maxSize: 512 * 1024,
  corpus(rng) {
    const out: Uint8Array[] = [];
    for (const inner of ['abridged', 'intermediate', 'padded'] as const) {
      out.push(obfuscatedStream(rng, inner, undefined), obfuscatedStream(rng, inner, PROXY_SECRET));
      // plain preambles go through the same detection
      const pre = inner === 'abridged' ? Uint8Array.of(0xef) : new Uint8Array(4).fill(inner === 'intermediate' ? 0xee : 0xdd);
      out.push(concat(pre, frameStream(rng, inner, 'client')));
    }
    out.push(frameStream(rng, 'full', 'client'));
    return out;
  },
  run(input) {
    // as tcp.ts does: detect on what arrived so far, then the rest goes to the codec
    const head = input.subarray(0, Math.min(input.length, 64));
    const found = detectServerTransport(head, { secrets: [PROXY_SECRET] });
    if (typeof found === 'string') return;
    const rest = input.subarray(found.consumed);
    const got = pushChunked(found.codec, rest, 2);
    if (got > rest.length) throw new FuzzBoundError(`${got} payload bytes out of ${rest.length} input bytes`);
  },
  expected: (e) => e instanceof TransportFramingError,
  allocBound: (input) => 6 * input.length + 256 * 1024,
};

// ---- encrypted -------------------------------------------------------------------------------------------------

const AUTH_KEY = new Rng(0x5eed, 256).bytes(256);
const AUTH_KEY_ID = authKeyId(AUTH_KEY);

/** auth_key_id + msg_key + AES-IGE of `plain` (whole blocks; a tail that is not one stays as is, like transport padding). */
function seal(plain: Uint8Array, x: 0 | 8): Uint8Array {
  const whole = plain.length & ~15;
  const body = plain.subarray(0, whole);
  const mk = msgKey(AUTH_KEY, body, x);
  const { key, iv } = messageKeyIv(AUTH_KEY, mk, x);
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigInt64(0, AUTH_KEY_ID, true);
  return concat(head, mk, whole ? aesIgeEncrypt(body, key, iv) : new Uint8Array(0), plain.subarray(whole));
}

function plaintext(rng: Rng, body: Uint8Array): Uint8Array {
  const pad = 12 + ((16 - ((32 + body.length + 12) % 16)) % 16) + 16 * rng.below(4);
  const w = new TlWriter(32 + body.length + pad);
  w.long(BigInt(rng.u32()));
  w.long(BigInt(rng.u32()));
  w.long(BigInt(rng.u32()) * 4n + 1n);
  w.int(rng.below(100));
  w.int(body.length);
  w.raw(body);
  w.raw(rng.bytes(pad));
  return w.finish();
}

const encryptedTarget: FuzzTarget = {
  name: 'encrypted',
  maxSize: 256 * 1024,
  corpus(rng) {
    const out: Uint8Array[] = [];
    for (const n of [0, 4, 16, 100, 1000, 4096]) {
      const body = rng.bytes(n);
      out.push(concat(Uint8Array.of(1), plaintext(rng, body))); // sealed by run: reaches the checks after msg_key
      out.push(concat(Uint8Array.of(0), seal(plaintext(rng, body), 0))); // a packet as it comes off the wire
    }
    return out;
  },
  run(input) {
    // first byte: bit 0 = seal the rest as plaintext with a valid msg_key; bit 1 = x (0 client→server, 8 back)
    if (input.length === 0) return;
    const x = input[0]! & 2 ? 8 : 0;
    const packet = input[0]! & 1 ? seal(input.subarray(1), x) : input.subarray(1);
    for (const inPlace of [false, true]) {
      const m = decryptMessage(AUTH_KEY, inPlace ? Uint8Array.from(packet) : packet, x, { inPlace });
      if (m.body.length > packet.length) throw new FuzzBoundError(`body of ${m.body.length} bytes from a ${packet.length}-byte packet`);
    }
  },
  expected: (e) => e instanceof MessageCheckError,
  // the harness's own sealing and copies included: decryption itself allocates one plaintext per call
  allocBound: (input) => 8 * input.length + 64 * 1024,
};

// ---- service messages: containers, gzip_packed -----------------------------------------------------------------

function serviceBodies(rng: Rng): Uint8Array[] {
  const c = codec();
  const bodies = [
    encodeLongVectorMessage(MT.msgs_ack, [1n, 5n, BigInt(rng.u32())]),
    encodeLongVectorMessage(MT.msg_resend_req, [9n]),
    encodeLongVectorMessage(MT.msgs_state_req, []),
    encodeFutureSalts(7n, 1700000000, [
      { valid_since: 1, valid_until: 2, salt: 3n },
      { valid_since: 4, valid_until: 5, salt: -6n },
    ]),
    encodeRpcResult(11n, encodeRpcError(420, 'FLOOD_WAIT_3')),
    encodeRpcResult(13n, gzipPackedBody(c.encode({ _: 'pong', msg_id: 1n, ping_id: 2n }), 'gzip')),
    gzipPackedBody(c.encode({ _: 'ping', ping_id: 99n }), 'gzip'),
    gzipPackedBody(rng.bytes(64), 'deflate'),
    c.encode({ _: 'bad_server_salt', bad_msg_id: 1n, bad_msg_seqno: 2, error_code: 48, new_server_salt: 3n }),
    c.encode({ _: 'ping', ping_id: 1n }),
  ];
  return bodies;
}

function gzipPackedBody(data: Uint8Array, form: 'gzip' | 'zlib' | 'deflate'): Uint8Array {
  const packed = form === 'gzip' ? gzipSync(data) : form === 'zlib' ? deflateSync(data) : deflateRawSync(data);
  const w = new TlWriter(packed.length + 8);
  w.uint(MT.gzip_packed);
  w.bytes(packed);
  return w.finish();
}

const containerTarget: FuzzTarget = {
  name: 'container',
  maxSize: 256 * 1024,
  corpus(rng) {
    const bodies = serviceBodies(rng);
    const out: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) {
      const items: ContainerItem[] = [];
      const n = 1 + rng.below(6);
      for (let k = 0; k < n; k++) items.push({ msgId: BigInt(rng.u32()) * 4n, seqno: rng.below(50), body: rng.pick(bodies) });
      out.push(encodeContainer(items));
    }
    return out;
  },
  run(data) {
    const input = Uint8Array.from(data); // a packet of its own, as a decrypted one is (the gzip budget goes by buffer)
    isClockNotification(input);
    const items = decodeContainer(input);
    let inflated = 0;
    for (const it of items) {
      const id = peekId(it.body);
      try {
        if (id === MT.msgs_ack || id === MT.msg_resend_req || id === MT.msgs_state_req) readLongVector(new TlReader(it.body, 4));
        else if (id === MT.future_salts) decodeFutureSalts(it.body);
        else if (id === MT.gzip_packed) inflated += gunzipPacked(it.body).length;
      } catch (e) {
        if (!containerTarget.expected(e)) throw e;
      }
    }
    // one packet's gzip_packed share one budget: a container of many may not multiply it
    if (inflated > gzipPacketLimit(input.length)) throw new FuzzBoundError(`${inflated} bytes inflated from one ${input.length}-byte container`);
  },
  expected: (e) => plainError(e) || errorIs(e, TlDecodeError, GzipPackedError),
  allocBound: (input) => 2 * gzipPacketLimit(input.length) + 4 * input.length + MiB,
};

const gzipTarget: FuzzTarget = {
  name: 'gzip',
  maxSize: 256 * 1024,
  corpus(rng) {
    const c = codec();
    const gen = new TlValueGen(schema(), rng);
    const out: Uint8Array[] = [];
    for (const form of ['gzip', 'zlib', 'deflate'] as const) {
      for (let i = 0; i < 4; i++) out.push(gzipPackedBody(encodeSome(c, gen, rng), form));
      out.push(gzipPackedBody(new Uint8Array(256 * 1024), form)); // compresses about 1000:1
      out.push(gzipPackedBody(rng.bytes(3000), form));
    }
    out.push(gzipPackedBody(new Uint8Array(40 * MiB), 'gzip')); // a bomb: 40 MiB of zeros in ~40 KiB
    return out;
  },
  run(data) {
    const input = Uint8Array.from(data); // a packet of its own (the gzip budget goes by buffer)
    const out = gunzipPacked(input);
    const packedLength = Math.max(0, input.length - 4);
    if (out.length > gzipPackedLimit(packedLength)) throw new FuzzBoundError(`${out.length} bytes inflated from ${packedLength}`);
  },
  expected: (e) => errorIs(e, GzipPackedError, TlDecodeError),
  allocBound: (input) => 2 * gzipPackedLimit(input.length) + MiB,
};

// ---- handshake answers -----------------------------------------------------------------------------------------

/** The client's own codec of the handshake (the service schema). */
const mtCodec = (): TlCodec => mtprotoCodec();

const handshakeTarget: FuzzTarget = {
  name: 'handshake',
  maxSize: 64 * 1024,
  corpus(rng) {
    const c = mtCodec();
    const nonce = rng.bytes(16);
    const serverNonce = rng.bytes(16);
    const msgId = (): bigint => (BigInt(1700000000) << 32n) | BigInt(rng.u32() | 1);
    const inner = c.encode({
      _: 'server_DH_inner_data',
      nonce,
      server_nonce: serverNonce,
      g: 3,
      dh_prime: bigIntToBytes(TELEGRAM_DH_PRIME, 256, 'be'),
      g_a: rng.bytes(256),
      server_time: 1700000000,
    });
    const answers: TlObject[] = [
      {
        _: 'resPQ',
        nonce,
        server_nonce: serverNonce,
        pq: Uint8Array.of(0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81),
        server_public_key_fingerprints: [BigInt.asIntN(64, 0xc3b42b026ce86b21n), 5n],
      },
      { _: 'server_DH_params_ok', nonce, server_nonce: serverNonce, encrypted_answer: rng.bytes(592) },
      { _: 'server_DH_params_fail', nonce, server_nonce: serverNonce, new_nonce_hash: rng.bytes(16) },
      { _: 'dh_gen_ok', nonce, server_nonce: serverNonce, new_nonce_hash1: rng.bytes(16) },
      { _: 'dh_gen_retry', nonce, server_nonce: serverNonce, new_nonce_hash2: rng.bytes(16) },
      { _: 'dh_gen_fail', nonce, server_nonce: serverNonce, new_nonce_hash3: rng.bytes(16) },
    ];
    const out = answers.map((a) => concat(Uint8Array.of(0), encodePlainMessage(msgId(), c.encode(a))));
    // answer_with_hash as the client decrypts it; mode 2 hashes the data itself, so mutations get past the SHA1
    const pad = rng.bytes((16 - ((20 + inner.length) % 16)) % 16);
    out.push(concat(Uint8Array.of(1), sha1(inner), inner, pad));
    out.push(concat(Uint8Array.of(2, pad.length), inner, pad));
    return out;
  },
  run(input) {
    if (input.length === 0) return;
    const mode = input[0]! % 3;
    const c = mtCodec();
    if (mode === 0) {
      const { body } = decodePlainMessage(input.subarray(1));
      const answer = c.decode(body);
      if (answer._ === 'resPQ') bigIntFromBytes(answer.pq as Uint8Array, 'be');
      return;
    }
    let plain: Uint8Array;
    if (mode === 1) plain = input.subarray(1);
    else {
      const padLength = input.length > 1 ? input[1]! & 15 : 0;
      const data = input.subarray(2);
      const hashed = data.subarray(0, Math.max(0, data.length - padLength));
      plain = concat(sha1(hashed), data);
    }
    const answer = openHashed(c, plain);
    if (answer?._ === 'server_DH_inner_data') {
      const p = bigIntFromBytes(answer.dh_prime as Uint8Array, 'be');
      checkDhParams(p, answer.g as number);
      checkDhValue(bigIntFromBytes(answer.g_a as Uint8Array, 'be'), p, 'g_a');
    }
  },
  expected: (e) => errorIs(e, PlainMessageError, TlDecodeError, DhCheckError),
  allocBound: (input) => 16 * input.length + MiB,
};

// ---- request files ---------------------------------------------------------------------------------------------

const REQ_TOKENS = [
  '"__proto__"',
  '"constructor"',
  'constructor',
  'toString',
  '{{__proto__}}',
  '@constructor = 1',
  '###',
  '\n###\n',
  '@',
  '@dc ',
  '@dc 99999',
  '@profile ',
  '@x = ',
  '{{',
  '}}',
  '{{response',
  '{{response[0].id}}',
  '{{x}}',
  '.',
  '[0]',
  '"_"',
  '": ',
  '//',
  '#',
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  'null',
  'true',
  '"\\u0000"',
  '\\',
  'users.getUsers\n',
  'help.getConfig\n',
];

function reqCorpus(rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  const examples = join(dirname(require.resolve('./targets.ts')), '..', '..', 'examples', 'requests');
  if (existsSync(examples)) for (const f of readdirSync(examples)) if (f.endsWith('.mtproto')) out.push(readFileSync(join(examples, f)));
  const gen = new TlValueGen(schema(), rng);
  const methods = schema().entries.filter((e) => e.kind === 'method');
  for (let i = 0; i < 12; i++) {
    const blocks: string[] = ['@self = {"_": "inputUserSelf"}', ''];
    for (let k = 0; k < 1 + rng.below(4); k++) {
      const m = rng.pick(methods);
      let json: Record<string, unknown>;
      try {
        json = tlToJson(gen.entryValue(m), schema()) as Record<string, unknown>;
      } catch {
        continue;
      }
      delete json._;
      blocks.push(`### request ${k}`);
      if (rng.chance(0.3)) blocks.push(`@dc ${1 + rng.below(5)}`);
      blocks.push(m.name);
      if (Object.keys(json).length) blocks.push(JSON.stringify(json, null, rng.chance(0.5) ? 2 : undefined));
      if (rng.chance(0.5)) blocks.push(`@v${k} = {{response${rng.chance(0.5) ? '[0]' : ''}.id}}`);
      blocks.push('');
    }
    out.push(enc.encode(blocks.join('\n')));
  }
  return out;
}

const reqfileTarget: FuzzTarget = {
  name: 'reqfile',
  text: true,
  tokens: REQ_TOKENS,
  // nesting and quadratic scans show well within 8 KiB
  maxSize: 8 * 1024,
  corpus: reqCorpus,
  run(input) {
    const t = text(input);
    parseRequestFile(t);
    analyzeRequestFile(t, schema(), { knownVariables: ['savedPeer', 'historyLimit'] });
    const at = hashBytes(input) % (t.length + 1);
    completeAt(t, at, schema());
    hoverAt(t, at, schema());
  },
  expected: () => false, // documented never to throw
  allocBound: (input) => 64 * input.length + 4 * MiB,
};

// ---- .tl text --------------------------------------------------------------------------------------------------

const TL_TOKENS = [
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  '---functions---',
  '---types---',
  '// LAYER 1',
  '/*',
  '*/',
  '//',
  ';',
  '#',
  '#ffffffff',
  '#0',
  ':',
  '?',
  'flags.0?',
  'flags.31?',
  'flags.99?',
  'flags2.3?true',
  '#',
  '{X:Type}',
  '!X',
  '%',
  'Vector<',
  '>',
  'vector<%Message>',
  ' = ',
  'int',
  'long',
  'bytes',
  'string',
  'true',
  'Bool',
  '\n',
  '{',
  '}',
  '<',
  '.',
];

const tlFileTarget: FuzzTarget = {
  name: 'tl-file',
  text: true,
  tokens: TL_TOKENS,
  // a quadratic scan shows within 32 KiB (16000 lines); the analysis costs about 1 µs a byte
  maxSize: 32 * 1024,
  corpus(rng) {
    const out: Uint8Array[] = [enc.encode(MTPROTO_SCHEMA_TL)];
    const entries = schema().entries;
    for (let i = 0; i < 12; i++) {
      const start = rng.below(entries.length);
      const slice = entries.slice(start, start + 3 + rng.below(20));
      const ctors = slice.filter((e) => e.kind === 'constructor').map(declarationOf);
      const methods = slice.filter((e) => e.kind === 'method').map(declarationOf);
      out.push(enc.encode(['// LAYER 227', ...ctors, '', '---functions---', '', ...methods, ''].join('\n')));
    }
    return out;
  },
  run(input) {
    const t = text(input);
    const analysis = analyzeTlFile(t, { knownTypes: ['Bool', 'True', 'Object'] });
    const at = hashBytes(input) % (t.length + 1);
    const hover = tlHoverAt(analysis, t, at);
    // a name looked up in a plain object shows what Object.prototype holds
    if (hover && /native code|\[object Object\]/.test(hover.markdown)) throw new Error(`hover shows a JavaScript value: ${hover.markdown.slice(0, 120)}`);
    tlDefinitionAt(analysis, t, at);
    const parsed = parseTlSchema(t);
    new TlSchema(parsed.entries, parsed.layer ?? 0);
  },
  expected: (e) => e instanceof TlParseError,
  allocBound: (input) => 64 * input.length + 4 * MiB,
};

// ---- IPC -------------------------------------------------------------------------------------------------------

function ipcCorpus(): Uint8Array[] {
  const msgs: unknown[] = [
    { type: 'command', method: 'ready', params: { version: 1 } },
    { type: 'command', method: 'download/cancel', params: { downloadId: 'd1' } },
    { type: 'command', method: 'download/open', params: { downloadId: 'd1' } },
    { type: 'command', method: 'trace/clear', params: {} },
    {
      type: 'command',
      method: 'state/changed',
      params: {
        state: {
          version: 1,
          tab: 'query',
          traceFilter: { dcId: 2, text: 'x', errorsOnly: true },
          query: { method: 'help.getConfig', json: '{}', dcId: 1 },
          history: [{ query: { _: 'help.getConfig' }, time: 1, ok: true }],
        },
      },
    },
    { type: 'command', method: 'log', params: { level: 'warn', message: 'hello' } },
    { type: 'request', id: 1, method: 'topology/get', params: {} },
    { type: 'request', id: 2, method: 'trace/get', params: { sinceId: 3, limit: 100 } },
    { type: 'request', id: 3, method: 'trace/export', params: {} },
    { type: 'request', id: 4, method: 'trace/import', params: {} },
    { type: 'request', id: 5, method: 'schema/methods', params: {} },
    { type: 'request', id: 6, method: 'schema/constructorsOfType', params: { types: ['User', 'InputPeer'] } },
    { type: 'request', id: 7, method: 'query/run', params: { query: { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, dcId: 2 } },
    {
      type: 'request',
      id: 8,
      method: 'download/start',
      params: {
        location: { _: 'inputDocumentFileLocation', id: '1', access_hash: '2', file_reference: '', thumb_size: '' },
        dcId: 4,
        size: 1000,
        name: 'f.bin',
      },
    },
  ];
  for (const [action, spec] of Object.entries(IPC_FAULT_SPECS)) {
    const params: Record<string, unknown> = { action };
    for (const f of spec.fields) {
      if (f.optional) continue;
      params[f.name] = f.kind === 'text' ? (f.placeholder ?? f.initial ?? 'X') : f.kind === 'dc' ? 2 : Number(f.initial ?? f.min ?? 1);
    }
    msgs.push({ type: 'request', id: 9, method: 'sandbox/fault', params });
  }
  return msgs.map((m) => enc.encode(JSON.stringify(m)));
}

const ipcTarget: FuzzTarget = {
  name: 'ipc',
  text: true,
  tokens: [
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    'null',
    'true',
    '1e999',
    '-0',
    '"__proto__"',
    '"constructor"',
    '"toString"',
    '"hasOwnProperty"',
    '"params"',
    '"id"',
    '"method"',
    '"type"',
    '"request"',
    '"command"',
    '"_"',
  ],
  maxSize: 128 * 1024,
  corpus: ipcCorpus,
  run(input) {
    let msg: unknown;
    try {
      msg = JSON.parse(text(input));
    } catch {
      return; // the webview posts structured data: text that is no JSON never reaches the validator
    }
    validateWebviewMessage(msg);
  },
  expected: () => false, // returns { ok: false, error } for every bad message
  allocBound: (input) => 16 * input.length + MiB,
};

// ---- stored state ----------------------------------------------------------------------------------------------

const PROFILES: ProfileName[] = ['sandbox', 'test', 'custom:lab'];

async function stateCorpus(rng: Rng): Promise<Uint8Array[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-fuzz-state-'));
  try {
    const b = cliBackends(dir);
    for (const p of PROFILES) {
      const s = new ProfileStore(b, p);
      await s.setHomeDc(1 + rng.below(5));
      await s.setUserId(BigInt(rng.u32()) * 1000n);
      for (const dc of [1, 2, 4])
        await s.setDcKey({
          dcId: dc,
          authKey: rng.bytes(256),
          serverSalt: BigInt.asIntN(64, BigInt(rng.u32()) << 33n),
          timeOffset: rng.int(-5, 5),
          createdAt: 1700000000000,
        });
      await s.setAuthorizedDcs([2, 4]);
      await s.setApiId(12345);
      await s.setApiHash('0123456789abcdef0123456789abcdef');
      await s.setDcOptions([{ _: 'dcOption', id: 2, ip_address: '127.0.0.1', port: 20442 }]);
      await s.setLastTrace({ events: [{ id: 1, kind: 'call', name: 'help.getConfig' }] });
    }
    // first byte: which file the rest replaces ('s': secrets.json, else state.json); the save time made fixed,
    // so the corpus depends on the seed alone
    const read = (name: string): Uint8Array => enc.encode(readFileSync(join(dir, name), 'utf8').replace(/"savedAt": \d+/g, '"savedAt": 1700000000000'));
    return [concat(enc.encode('p'), read('state.json')), concat(enc.encode('s'), read('secrets.json'))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One directory of store files per concurrent run, read through the same backends every time (like a CLI that reads again after another process wrote the files). */
interface StateSlot {
  dir: string;
  backends: ReturnType<typeof cliBackends>;
  lastMutated?: 'plain' | 'secrets';
}

let stateRoot: string | undefined;
const stateSlots: StateSlot[] = [];
let stateClock = 1_000_000_000;
let validState: { plain: Uint8Array; secrets: Uint8Array } | undefined;

function stateSlot(i: number): StateSlot {
  stateRoot ??= mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dclab-fuzz-state-'));
  let s = stateSlots[i];
  if (!s) {
    const dir = join(stateRoot, String(i));
    s = stateSlots[i] = { dir, backends: cliBackends(dir) };
  }
  return s;
}

const stateTarget: FuzzTarget = {
  name: 'state',
  text: true,
  tokens: [
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    'null',
    '"dclab:sandbox:dcKeys"',
    '"dclab:sandbox:homeDc"',
    '"value"',
    '"expires"',
    '"format"',
    '"version"',
    '"entries"',
    '"dclab-store"',
    '2',
    '-1',
    '1e400',
    '"__proto__"',
    '\\"',
    '"{\\"value\\":1}"',
  ],
  maxSize: 16 * 1024,
  // every read of the store stats its file: several inputs at once keep the event loop busy meanwhile
  concurrency: 8,
  async corpus(rng) {
    const c = await stateCorpus(rng);
    validState = { plain: c[0]!.subarray(1), secrets: c[1]!.subarray(1) };
    return c;
  },
  async run(input, slot = 0) {
    if (input.length === 0) return;
    const st = stateSlot(slot);
    const valid = validState ?? { plain: enc.encode(''), secrets: enc.encode('') };
    const secretsMutated = input[0] === 0x73;
    // the mutated file, and the other one only when the last input had mutated it; each written file gets a
    // fresh mtime (the store caches by mtime, size and inode)
    const t = ++stateClock;
    const write = (name: string, data: Uint8Array): void => {
      const path = join(st.dir, name);
      writeFileSync(path, data);
      utimesSync(path, t, t);
    };
    if (secretsMutated) {
      write('secrets.json', input.subarray(1));
      if (st.lastMutated !== 'secrets') write('state.json', valid.plain);
    } else {
      write('state.json', input.subarray(1));
      if (st.lastMutated !== 'plain') write('secrets.json', valid.secrets);
    }
    st.lastMutated = secretsMutated ? 'secrets' : 'plain';
    const s = new ProfileStore(st.backends, PROFILES[hashBytes(input) % PROFILES.length]!);
    // snapshot reads (and decodes) every plain value; the keys and api_hash come from the secrets file
    await s.snapshot();
    await Promise.all([...(await s.listDcKeys()).map((dc) => s.getDcKey(dc)), s.getApiHash()]);
  },
  expected: (e) =>
    e instanceof StoreFileError ||
    (e instanceof TypeError && /^(expected a (decimal integer|base64) string|stored \S+: expected an array of DC ids, got .+)$/.test(e.message)) ||
    (e instanceof RangeError && /^invalid DC id/.test(e.message)),
  allocBound: (input) => 64 * input.length + 4 * MiB,
  dispose() {
    if (stateRoot) rmSync(stateRoot, { recursive: true, force: true });
    stateRoot = undefined;
    stateSlots.length = 0;
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  tlTarget,
  transportTarget('abridged'),
  transportTarget('intermediate'),
  transportTarget('padded'),
  transportTarget('full'),
  obfuscatedTarget,
  encryptedTarget,
  containerTarget,
  gzipTarget,
  handshakeTarget,
  reqfileTarget,
  tlFileTarget,
  ipcTarget,
  stateTarget,
];

export function targetByName(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target ${name} (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
