// Auth key creation, both sides, over real loopback TCP (src/transport/tcp) with real bytes.
// Keys are compared in asserts; messages name authKeyIds only, never key bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../src/crypto/random';
import { generateRsaKeyPair, TELEGRAM_PRODUCTION_KEYS, type RsaKeyPair } from '../../src/crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { authKeyId } from '../../src/crypto/kdf';
import { factorizePq } from '../../src/crypto/pq';
import { connectTcp, listenFrames, type FrameLink, type FrameListener } from '../../src/transport/tcp';
import { encodeTransportError, TRANSPORT_NAMES, type TransportName } from '../../src/transport/codec';
import { MsgIdClock } from '../../src/mtproto/msg-id';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { decodePlainMessage, encodePlainMessage, PlainMessageError } from '../../src/mtproto/plain';
import { createAuthKey, HandshakeError, mtprotoCodec, type AuthKeyResult, type CreateAuthKeyOptions } from '../../src/mtproto/handshake-client';
import {
  ServerHandshake,
  ServerHandshakeError,
  serveHandshakeOnly,
  type HostileMode,
  type ServerHandshakeDone,
  type ServerHandshakeOptions,
} from '../../src/mtproto/handshake-server';

const HOST = '127.0.0.1';
const DC = 2;

let rsa: RsaKeyPair;
const listeners: FrameListener[] = [];

before(() => {
  rsa = generateRsaKeyPair();
});

after(async () => {
  await Promise.all(listeners.map((l) => l.close()));
});

interface TestServer {
  port: number;
  done: ServerHandshakeDone[];
  errors: ServerHandshakeError[];
}

async function startServer(extra: Partial<ServerHandshakeOptions> = {}): Promise<TestServer> {
  const state: TestServer = { port: 0, done: [], errors: [] };
  const listener = await listenFrames({ host: HOST, port: 0 }, (link) => {
    serveHandshakeOnly(link, () => new ServerHandshake({ dcId: DC, rsa: [rsa], dhPrime: TELEGRAM_DH_PRIME, g: 3, ...extra }), {
      onDone: (d) => state.done.push(d),
      onError: (e) => state.errors.push(e),
    });
  });
  listeners.push(listener);
  state.port = listener.port;
  return state;
}

/** A server whose every answer is produced by `answer` (raw payloads), for misbehaviour the handshake class never shows. */
async function startRawServer(answer: (payload: Uint8Array, link: FrameLink) => void): Promise<number> {
  const listener = await listenFrames({ host: HOST, port: 0 }, (link) => link.on('frame', (p: Uint8Array) => answer(p, link)));
  listeners.push(listener);
  return listener.port;
}

async function runClient(
  port: number,
  opts: Partial<CreateAuthKeyOptions> = {},
  transport: TransportName = 'intermediate',
): Promise<{ result: AuthKeyResult; events: WireEvent[]; link: FrameLink }> {
  const link = await connectTcp({ host: HOST, port, transport });
  const events: WireEvent[] = [];
  try {
    const result = await createAuthKey(link, { dcId: DC, rsaKeys: [rsa.publicKey], onWire: (e) => events.push(e), timeoutMs: 10_000, ...opts });
    return { result, events, link };
  } finally {
    link.close();
  }
}

async function expectHandshakeError(p: Promise<unknown>): Promise<HandshakeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HandshakeError, `expected a HandshakeError, got ${String(e)}`);
    return e;
  }
  assert.fail('the handshake succeeded but should have failed');
}

function hex(u8: Uint8Array): string {
  return Buffer.from(u8).toString('hex');
}

function assertSameKey(client: AuthKeyResult, server: ServerHandshakeDone | undefined): void {
  assert.ok(server, 'the server reported no key');
  const ids = `client authKeyId ${client.authKeyId}, server authKeyId ${server.authKeyId}`;
  assert.equal(client.authKey.length, 256, 'auth key is 256 bytes');
  assert.ok(Buffer.from(client.authKey).equals(Buffer.from(server.authKey)), `auth keys differ (${ids})`);
  assert.equal(client.authKeyId, server.authKeyId, ids);
  assert.equal(client.authKeyId, authKeyId(client.authKey));
  assert.equal(client.serverSalt, server.serverSalt, 'initial server salt');
}

// ---------------------------------------------------------------------------------------------------------------
// plain.ts

test('plain messages: encode/decode round trip and layout', () => {
  const body = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const u8 = encodePlainMessage(0x5f00_0000_0000_0004n, body);
  assert.equal(u8.length, 28);
  assert.deepEqual([...u8.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0], 'auth_key_id = 0');
  assert.deepEqual([...u8.subarray(8, 16)], [4, 0, 0, 0, 0, 0, 0, 0x5f], 'msg_id little-endian');
  assert.deepEqual([...u8.subarray(16, 20)], [8, 0, 0, 0], 'length little-endian');
  const back = decodePlainMessage(u8);
  assert.equal(back.msgId, 0x5f00_0000_0000_0004n);
  assert.deepEqual([...back.body], [...body]);
  // padded intermediate leaves up to 15 random bytes behind
  const padded = new Uint8Array(u8.length + 15);
  padded.set(u8);
  assert.deepEqual([...decodePlainMessage(padded).body], [...body]);
});

test('plain messages: bounds checks', () => {
  const good = encodePlainMessage(4n, new Uint8Array(8));
  assert.throws(() => decodePlainMessage(good.subarray(0, 19)), PlainMessageError, 'shorter than the header');
  const withKey = Uint8Array.from(good);
  withKey[3] = 1;
  assert.throws(() => decodePlainMessage(withKey), /auth_key_id is not 0/);
  const tooLong = Uint8Array.from(good);
  tooLong[16] = 12;
  assert.throws(() => decodePlainMessage(tooLong), /exceeds/);
  const negative = Uint8Array.from(good);
  negative.set([0xfc, 0xff, 0xff, 0xff], 16);
  assert.throws(() => decodePlainMessage(negative), /negative/);
  const odd = Uint8Array.from(good);
  odd[16] = 6;
  assert.throws(() => decodePlainMessage(odd), /divisible by 4/);
  const trailing = new Uint8Array(good.length + 16);
  trailing.set(good);
  assert.throws(() => decodePlainMessage(trailing), /after the message body/);
});

// ---------------------------------------------------------------------------------------------------------------
// Full handshakes

for (const transport of TRANSPORT_NAMES) {
  test(`key creation over ${transport}: both sides derive the same key`, async () => {
    const server = await startServer();
    const { result, events } = await runClient(server.port, {}, transport);
    assertSameKey(result, server.done[0]);
    assert.equal(result.roundTrips, 3);
    assert.ok(Math.abs(result.timeOffset) <= 1, `time offset ${result.timeOffset}`);
    assert.equal(server.done[0]!.innerData, 'p_q_inner_data_dc');
    assert.equal(server.done[0]!.clientDc, DC);

    const plain = events.filter((e) => e.kind === 'plain').map((e) => `${e.dir} ${e.ctor}`);
    assert.deepEqual(plain, ['out req_pq_multi', 'in resPQ', 'out req_DH_params', 'in server_DH_params_ok', 'out set_client_DH_params', 'in dh_gen_ok']);
    for (const e of events.filter((x) => x.kind === 'plain')) {
      assert.ok(e.size >= 24 && e.msgId, `size and msgId on ${e.ctor}`);
      assert.equal(BigInt(e.msgId) % 4n, e.dir === 'out' ? 0n : 1n, `msg_id residue of ${e.dir} ${e.ctor}`);
      assert.equal(e.dcId, DC);
    }
    const key = events.at(-1)!;
    assert.equal(key.kind, 'key');
    assert.match(key.note ?? '', new RegExp(String(result.authKeyId)));
    const text = JSON.stringify(events);
    assert.ok(!text.includes(hex(result.authKey).slice(0, 32)), 'no key bytes in wire events');
    assert.ok(!text.includes(Buffer.from(result.authKey).toString('base64').slice(0, 24)), 'no key bytes in wire events');
  });
}

for (const transport of ['abridged', 'intermediate', 'padded'] as const) {
  test(`key creation over obfuscated ${transport}`, async () => {
    const server = await startServer();
    const link = await connectTcp({ host: HOST, port: server.port, transport, obfuscated: true, dcId: DC });
    try {
      const result = await createAuthKey(link, { dcId: DC, rsaKeys: [rsa.publicKey] });
      assertSameKey(result, server.done[0]);
    } finally {
      link.close();
    }
  });
}

test('test-DC (+10000) and media (negative) dc ids are accepted; another DC gets -444', async () => {
  const server = await startServer();
  await runClient(server.port, { dcId: 10000 + DC });
  await runClient(server.port, { dcId: -DC });
  assert.deepEqual(
    server.done.map((d) => d.clientDc),
    [10000 + DC, -DC],
  );
  const err = await expectHandshakeError(runClient(server.port, { dcId: 3 }));
  assert.equal(err.transportCode, -444);
  assert.equal(err.step, 'req_DH_params');
  assert.match(err.message, /-444/);
  assert.equal(server.errors.at(-1)?.check, 'dc');

  const strict = await startServer({ strictDc: true });
  const e2 = await expectHandshakeError(runClient(strict.port, { dcId: 10000 + DC }));
  assert.equal(e2.transportCode, -444);
});

test('old p_q_inner_data without dc (GramJS) and the temp forms are accepted', async () => {
  const server = await startServer();
  const plain = await runClient(server.port, { innerDataForm: 'no-dc' });
  assertSameKey(plain.result, server.done[0]);
  assert.equal(server.done[0]!.innerData, 'p_q_inner_data');
  assert.equal(server.done[0]!.clientDc, undefined);

  const temp = await runClient(server.port, { expiresIn: 3600 });
  assertSameKey(temp.result, server.done[1]);
  assert.equal(server.done[1]!.innerData, 'p_q_inner_data_temp_dc');
  assert.equal(server.done[1]!.expiresIn, 3600);
  assert.equal(temp.events.at(-1)!.ctor, 'temp_auth_key');

  const tempNoDc = await runClient(server.port, { expiresIn: 60, innerDataForm: 'no-dc' });
  assertSameKey(tempNoDc.result, server.done[2]);
  assert.equal(server.done[2]!.innerData, 'p_q_inner_data_temp');

  const strict = await startServer({ acceptNoDc: false });
  const err = await expectHandshakeError(runClient(strict.port, { innerDataForm: 'no-dc' }));
  assert.equal(err.transportCode, -404);
});

test('dh_gen_retry: the client retries with retry_id = auth_key_aux_hash and a new b', async () => {
  const server = await startServer({ retryOnce: true });
  const { result, events } = await runClient(server.port);
  assertSameKey(result, server.done[0]);
  assert.equal(result.roundTrips, 4);
  const ctors = events.filter((e) => e.kind === 'plain').map((e) => e.ctor);
  assert.deepEqual(ctors.slice(4), ['set_client_DH_params', 'dh_gen_retry', 'set_client_DH_params', 'dh_gen_ok']);
  assert.equal(server.errors.length, 0, 'the server accepted the retry_id');

  const err = await expectHandshakeError(runClient(server.port, { maxRetries: 0 }));
  assert.equal(err.reason, 'dh_gen_retry');
});

test('an auth_key_id already in use makes the server answer dh_gen_retry; always in use ends in dh_gen_fail', async () => {
  let calls = 0;
  const server = await startServer({ keyIdInUse: () => ++calls <= 2 });
  const { result } = await runClient(server.port);
  assertSameKey(result, server.done[0]);
  assert.equal(result.roundTrips, 5, 'two retries');
  const always = await startServer({ keyIdInUse: () => true });
  const err = await expectHandshakeError(runClient(always.port, { maxRetries: 10 }));
  assert.equal(err.reason, 'dh_gen_fail');
});

test('the handshake sets the time offset on the given clock from server_time', async () => {
  const server = await startServer({ now: () => Date.now() + 100_000 });
  const clock = new MsgIdClock();
  const { result } = await runClient(server.port, { clock });
  assert.ok(result.timeOffset >= 99 && result.timeOffset <= 101, `time offset ${result.timeOffset}`);
  assert.equal(clock.timeOffset, result.timeOffset);
  assert.equal(clock.synced, true);
});

// ---------------------------------------------------------------------------------------------------------------
// The client rejects a hostile server

const hostileChecks: [HostileMode, string, string][] = [
  ['non-safe-prime', 'p-safe', 'req_DH_params'],
  ['bad-g', 'g-residue', 'req_DH_params'],
  ['g_a-out-of-range', 'g_a-margin', 'req_DH_params'],
  ['bad-answer-hash', 'answer_hash', 'req_DH_params'],
  ['bad-nonce', 'nonce', 'req_DH_params'],
  ['bad-server-nonce', 'server_nonce', 'req_DH_params'],
  ['bad-new-nonce-hash', 'new_nonce_hash1', 'set_client_DH_params'],
  ['dh-gen-fail', 'dh_gen_fail', 'set_client_DH_params'],
];

for (const [hostile, check, step] of hostileChecks) {
  test(`hostile server '${hostile}' is rejected with check ${check}`, async () => {
    const server = await startServer({ hostile });
    const link = await connectTcp({ host: HOST, port: server.port, transport: 'abridged' });
    const events: WireEvent[] = [];
    const err = await expectHandshakeError(createAuthKey(link, { dcId: DC, rsaKeys: [rsa.publicKey], onWire: (e) => events.push(e) }));
    assert.equal(err.reason, check, err.message);
    assert.equal(err.check, check);
    assert.equal(err.step, step);
    assert.ok(err.message.includes(check), err.message);
    assert.ok(link.closed, 'the client drops the connection after a failed check');
    const failed = events.find((e) => e.kind === 'check-failed');
    assert.ok(failed?.note?.startsWith(check), `check-failed event: ${JSON.stringify(failed)}`);
    assert.ok(!events.some((e) => e.kind === 'key'));
  });
}

test('no RSA key matching the server fingerprints: the error lists them', async () => {
  const server = await startServer();
  const err = await expectHandshakeError(runClient(server.port, { rsaKeys: TELEGRAM_PRODUCTION_KEYS }));
  assert.equal(err.step, 'req_pq_multi');
  assert.equal(err.reason, 'rsa key');
  const serverFp = BigInt.asUintN(64, rsa.publicKey.fingerprint).toString(16).padStart(16, '0');
  const ourFp = BigInt.asUintN(64, TELEGRAM_PRODUCTION_KEYS[0]!.fingerprint).toString(16).padStart(16, '0');
  assert.ok(err.message.includes(serverFp), `server fingerprint ${serverFp} named in: ${err.message}`);
  assert.ok(err.message.includes(ourFp), `our fingerprint named in: ${err.message}`);
});

// ---------------------------------------------------------------------------------------------------------------
// Robustness

test('the server survives garbage (random req_DH_params.encrypted_data, random frames) and keeps serving', async () => {
  const server = await startServer();
  const codec = mtprotoCodec();

  // A hand-driven client: honest req_pq_multi, then random bytes in place of RSA_PAD(p_q_inner_data_dc).
  const link = await connectTcp({ host: HOST, port: server.port, transport: 'intermediate' });
  const frames: Uint8Array[] = [];
  const closed = new Promise<string>((r) => link.once('close', r));
  link.on('frame', (f: Uint8Array) => frames.push(f));
  const nonce = randomBytes(16);
  link.send(encodePlainMessage(new MsgIdClock().next(), codec.encode({ _: 'req_pq_multi', nonce })));
  while (frames.length === 0) await new Promise((r) => setTimeout(r, 5));
  const resPq = codec.decode(decodePlainMessage(frames[0]!).body);
  assert.equal(resPq._, 'resPQ');
  const garbage = randomBytes(256);
  garbage[0] = 0; // stay below any modulus: exercise the RSA_PAD hash check, not the range check
  link.send(
    encodePlainMessage(
      new MsgIdClock().next(),
      codec.encode({
        _: 'req_DH_params',
        nonce,
        server_nonce: resPq.server_nonce,
        p: Uint8Array.of(1),
        q: Uint8Array.of(1),
        public_key_fingerprint: rsa.publicKey.fingerprint,
        encrypted_data: garbage,
      }),
    ),
  );
  await closed;
  assert.deepEqual([...frames[1]!], [...encodeTransportError(-404)], 'the server answers -404 and closes');

  // The same with correct p and q so the RSA_PAD check itself is reached.
  const link2 = await connectTcp({ host: HOST, port: server.port, transport: 'full' });
  const frames2: Uint8Array[] = [];
  const closed2 = new Promise<string>((r) => link2.once('close', r));
  link2.on('frame', (f: Uint8Array) => frames2.push(f));
  const nonce2 = randomBytes(16);
  link2.send(encodePlainMessage(new MsgIdClock().next(), codec.encode({ _: 'req_pq_multi', nonce: nonce2 })));
  while (frames2.length === 0) await new Promise((r) => setTimeout(r, 5));
  const res2 = codec.decode(decodePlainMessage(frames2[0]!).body);

  const [p, q] = factorizePq(BigInt(`0x${hex(res2.pq as Uint8Array)}`));
  const toBytes = (n: bigint): Uint8Array => Uint8Array.from(Buffer.from(n.toString(16).padStart(8, '0'), 'hex'));
  link2.send(
    encodePlainMessage(
      new MsgIdClock().next(),
      codec.encode({
        _: 'req_DH_params',
        nonce: nonce2,
        server_nonce: res2.server_nonce,
        p: toBytes(p),
        q: toBytes(q),
        public_key_fingerprint: rsa.publicKey.fingerprint,
        encrypted_data: garbage,
      }),
    ),
  );
  await closed2;
  assert.equal(server.errors.at(-1)?.check, 'rsa_pad');

  // Random frames that are not even MTProto messages.
  const link3 = await connectTcp({ host: HOST, port: server.port, transport: 'abridged' });
  const closed3 = new Promise<string>((r) => link3.once('close', r));
  link3.send(randomBytes(64));
  await closed3;

  const { result } = await runClient(server.port);
  assertSameKey(result, server.done[0]);
  assert.equal(server.errors.length, 3, server.errors.map((e) => e.check).join(', '));
});

test('ServerHandshake never throws anything but ServerHandshakeError on nonsense input', async () => {
  const hs = new ServerHandshake({ dcId: DC, rsa: [rsa], dhPrime: TELEGRAM_DH_PRIME, g: 3 });
  const nonsense = [
    { _: 'req_DH_params', nonce: randomBytes(16) },
    { _: 'set_client_DH_params', nonce: randomBytes(16), server_nonce: randomBytes(16), encrypted_data: randomBytes(48) },
    { _: 'ping', ping_id: 1n },
    { _: 'req_pq_multi', nonce: randomBytes(15) },
    { _: 'req_pq_multi' },
  ];
  for (const msg of nonsense) {
    await assert.rejects(hs.handle(msg), ServerHandshakeError, msg._);
  }
  const ok = await hs.handle({ _: 'req_pq', nonce: randomBytes(16) });
  assert.equal(ok.reply._, 'resPQ', 'the old req_pq is answered too');
  await assert.rejects(
    hs.handle({
      _: 'req_DH_params',
      nonce: ok.reply.nonce,
      server_nonce: ok.reply.server_nonce,
      p: 'x',
      q: null,
      public_key_fingerprint: 1n,
      encrypted_data: 7,
    }),
    ServerHandshakeError,
  );
});

test('a transport error (-404) during the handshake is a HandshakeError naming the code', async () => {
  const port = await startRawServer((_p, link) => link.send(encodeTransportError(-404)));
  const events: WireEvent[] = [];
  const err = await expectHandshakeError(runClient(port, { onWire: (e) => events.push(e) }));
  assert.equal(err.transportCode, -404);
  assert.equal(err.step, 'req_pq_multi');
  assert.match(err.message, /404/);
  assert.ok(events.some((e) => e.kind === 'transport-error' && e.dir === 'in'));
});

test('an undecodable answer is a HandshakeError naming the step', async () => {
  const port = await startRawServer((_p, link) => link.send(encodePlainMessage(5n, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))));
  const err = await expectHandshakeError(runClient(port));
  assert.equal(err.step, 'req_pq_multi');
  assert.equal(err.reason, 'answer decoding');

  const port2 = await startRawServer((_p, link) => link.send(randomBytes(40)));
  const err2 = await expectHandshakeError(runClient(port2));
  assert.equal(err2.step, 'req_pq_multi');
  assert.equal(err2.reason, 'unencrypted message');
});

test('timeout and a closed connection are HandshakeErrors', async () => {
  const silent = await startRawServer(() => undefined);
  const started = Date.now();
  const err = await expectHandshakeError(runClient(silent, { timeoutMs: 300 }));
  assert.equal(err.reason, 'timeout');
  assert.ok(Date.now() - started < 3000);

  const closer = await startRawServer((_p, link) => link.close('bye'));
  const err2 = await expectHandshakeError(runClient(closer));
  assert.equal(err2.reason, 'connection closed');
});

test('timing: median of a few key creations on loopback', async (t) => {
  const server = await startServer();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await runClient(server.port);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  t.diagnostic(`auth key creation on loopback: median ${median.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)})`);
  assert.equal(server.done.length, 7);
  assert.ok(median < 2000, `median ${median} ms`);
});
