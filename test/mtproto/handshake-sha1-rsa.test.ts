// The server's handshake accepts both encryptions of p_q_inner_data, as Telegram does: RSA_PAD and the older
// SHA1(data) + data + random padding to 255 bytes raised to the RSA power (Telethon 1.x and others). Each key is
// created by a hand-driven client over loopback, step by step; a block of neither form is refused as before
// (transport error −404, check 'rsa_pad').
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../src/crypto/random';
import { sha1 } from '../../src/crypto/hash';
import { rsaPadEncrypt } from '../../src/crypto/rsa';
import { TELEGRAM_DH_PRIME, dhKeyPair, dhShared } from '../../src/crypto/dh';
import { aesIgeDecrypt, aesIgeEncrypt } from '../../src/crypto/aes-ige';
import { bigIntFromBytes, bigIntToBytes, bigIntToMinBytes, modPow } from '../../src/crypto/bigint';
import { authKeyId, handshakeKeyIv } from '../../src/crypto/kdf';
import { factorizePq } from '../../src/crypto/pq';
import { connectTcp, listenFrames, type FrameListener } from '../../src/transport/tcp';
import { encodeTransportError } from '../../src/transport/codec';
import { MsgIdClock } from '../../src/mtproto/msg-id';
import { decodePlainMessage, encodePlainMessage } from '../../src/mtproto/plain';
import { mtprotoCodec, openHashed, withHashAndPadding } from '../../src/mtproto/handshake-client';
import { ServerHandshake, serveHandshakeOnly, type ServerHandshakeDone, type ServerHandshakeError } from '../../src/mtproto/handshake-server';
import type { TlObject } from '../../src/tl/types';
import { rsa } from './session-helpers';

const HOST = '127.0.0.1';
const DC = 2;
const codec = mtprotoCodec();
const listeners: FrameListener[] = [];
after(async () => {
  await Promise.all(listeners.map((l) => l.close()));
});

type Encoding = 'sha1' | 'rsa_pad' | 'garbage';

/** The older encryption: SHA1(data) + data + random bytes (255 in all) as a big-endian number, to the power e mod n. */
function sha1RsaEncrypt(data: Uint8Array): Uint8Array {
  const block = new Uint8Array(255);
  block.set(sha1(data), 0);
  block.set(data, 20);
  block.set(randomBytes(255 - 20 - data.length), 20 + data.length);
  const { n, e } = rsa().publicKey;
  return bigIntToBytes(modPow(bigIntFromBytes(block, 'be'), e, n), 256, 'be');
}

async function startServer(): Promise<{ port: number; done: ServerHandshakeDone[]; errors: ServerHandshakeError[] }> {
  const state = { port: 0, done: [] as ServerHandshakeDone[], errors: [] as ServerHandshakeError[] };
  const listener = await listenFrames({ host: HOST, port: 0 }, (link) =>
    serveHandshakeOnly(link, () => new ServerHandshake({ dcId: DC, rsa: [rsa()], dhPrime: TELEGRAM_DH_PRIME, g: 3 }), {
      onDone: (d) => state.done.push(d),
      onError: (e) => state.errors.push(e),
    }),
  );
  listeners.push(listener);
  state.port = listener.port;
  return state;
}

/** A client driven by hand through the three round trips; returns the key, or the transport error it got. */
async function handshake(port: number, encoding: Encoding): Promise<{ authKey?: Uint8Array; transportError?: Uint8Array }> {
  const link = await connectTcp({ host: HOST, port, transport: 'intermediate' });
  const frames: Uint8Array[] = [];
  let closed = false;
  link.on('frame', (f: Uint8Array) => frames.push(f));
  link.on('close', () => (closed = true));
  const clock = new MsgIdClock();
  const exchange = async (msg: TlObject): Promise<Uint8Array> => {
    const have = frames.length;
    link.send(encodePlainMessage(clock.next(), codec.encode(msg)));
    while (frames.length === have) {
      if (closed) throw new Error('closed without an answer');
      await new Promise((r) => setTimeout(r, 5));
    }
    return frames[have]!;
  };
  const answer = (frame: Uint8Array): TlObject => codec.decode(decodePlainMessage(frame).body);
  try {
    const nonce = randomBytes(16);
    const resPq = answer(await exchange({ _: 'req_pq_multi', nonce }));
    const serverNonce = resPq.server_nonce as Uint8Array;
    const [p, q] = factorizePq(bigIntFromBytes(resPq.pq as Uint8Array, 'be'));
    const newNonce = randomBytes(32);
    const inner = codec.encode({
      _: 'p_q_inner_data_dc',
      pq: resPq.pq,
      p: bigIntToMinBytes(p),
      q: bigIntToMinBytes(q),
      nonce,
      server_nonce: serverNonce,
      new_nonce: newNonce,
      dc: DC,
    });
    let encrypted: Uint8Array;
    if (encoding === 'sha1') encrypted = sha1RsaEncrypt(inner);
    else if (encoding === 'rsa_pad') encrypted = rsaPadEncrypt(inner, rsa().publicKey);
    else {
      encrypted = randomBytes(256);
      encrypted[0] = 0; // below the modulus: the form checks are what refuses it
    }
    const dhFrame = await exchange({
      _: 'req_DH_params',
      nonce,
      server_nonce: serverNonce,
      p: bigIntToMinBytes(p),
      q: bigIntToMinBytes(q),
      public_key_fingerprint: rsa().publicKey.fingerprint,
      encrypted_data: encrypted,
    });
    if (dhFrame.length === 4) return { transportError: dhFrame };
    const dh = answer(dhFrame);
    assert.equal(dh._, 'server_DH_params_ok');
    const tmp = handshakeKeyIv(newNonce, serverNonce);
    const serverInner = openHashed(codec, aesIgeDecrypt(dh.encrypted_answer as Uint8Array, tmp.key, tmp.iv));
    assert.ok(serverInner, 'server_DH_inner_data with a valid hash');
    const dhPrime = bigIntFromBytes(serverInner.dh_prime as Uint8Array, 'be');
    const { secret: b, public: gB } = dhKeyPair(dhPrime, serverInner.g as number);
    const clientInner = codec.encode({ _: 'client_DH_inner_data', nonce, server_nonce: serverNonce, retry_id: 0n, g_b: bigIntToMinBytes(gB) });
    const result = answer(
      await exchange({
        _: 'set_client_DH_params',
        nonce,
        server_nonce: serverNonce,
        encrypted_data: aesIgeEncrypt(withHashAndPadding(clientInner), tmp.key, tmp.iv),
      }),
    );
    assert.equal(result._, 'dh_gen_ok');
    return { authKey: bigIntToBytes(dhShared(bigIntFromBytes(serverInner.g_a as Uint8Array, 'be'), b, dhPrime), 256, 'be') };
  } finally {
    link.close();
  }
}

test('p_q_inner_data encrypted the older way (SHA1 + data + padding, raw RSA) and with RSA_PAD: both make a key', async () => {
  const server = await startServer();
  const old = await handshake(server.port, 'sha1');
  assert.ok(old.authKey);
  assert.equal(server.done[0]!.innerEncryption, 'SHA1');
  assert.equal(server.done[0]!.authKeyId, authKeyId(old.authKey));
  assert.deepEqual([...server.done[0]!.authKey], [...old.authKey]);

  const pad = await handshake(server.port, 'rsa_pad');
  assert.ok(pad.authKey);
  assert.equal(server.done[1]!.innerEncryption, 'RSA_PAD');
  assert.equal(server.done[1]!.authKeyId, authKeyId(pad.authKey));
  assert.deepEqual(server.errors, []);
});

test('a block of neither form is refused as before: −404 and the check named rsa_pad', async () => {
  const server = await startServer();
  const res = await handshake(server.port, 'garbage');
  assert.deepEqual([...res.transportError!], [...encodeTransportError(-404)]);
  assert.equal(server.errors.length, 1);
  assert.equal(server.errors[0]!.check, 'rsa_pad');
  assert.equal(server.done.length, 0);
  // the server keeps serving
  const ok = await handshake(server.port, 'sha1');
  assert.ok(ok.authKey);
});
