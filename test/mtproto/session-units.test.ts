// Unit tests of the session building blocks (msg_id clock, seqno, rpc error parsing, MTProto 2.0 message
// encryption and its checks) and of the client's incoming checks against a hand-written fake server.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { randomBytes } from '../../src/crypto/random';
import { aesIgeEncrypt } from '../../src/crypto/aes-ige';
import { messageKeyIv, msgKey } from '../../src/crypto/kdf';
import { TlWriter } from '../../src/tl/binary';
import type { TlObject } from '../../src/tl/types';
import { encodeTransportError } from '../../src/transport/codec';
import type { FrameLink } from '../../src/transport/tcp';
import { MsgIdClock, SeqNo } from '../../src/mtproto/msg-id';
import { RpcError, SessionClosedError, TransportError, parseRpcErrorMessage } from '../../src/mtproto/errors';
import { MessageCheckError, decryptMessage, encryptMessage, keyIdOf } from '../../src/mtproto/message-crypto';
import { MT, encodeContainer, encodeRpcResult } from '../../src/mtproto/service-messages';
import { closeAll, connectClient, once, startRaw, waitFor } from './session-helpers';

after(closeAll);

describe('MsgIdClock and SeqNo', () => {
  test('client ids are divisible by 4, strictly increasing, ≈ unixtime·2^32', () => {
    const c = new MsgIdClock();
    let last = 0n;
    for (let i = 0; i < 5000; i++) {
      const id = c.next();
      assert.equal(id % 4n, 0n);
      assert.ok(id > last);
      last = id;
    }
    assert.ok(Math.abs(Number(last >> 32n) - Date.now() / 1000) < 2);
  });

  test('server ids: answers ≡ 1, server-initiated ≡ 3 (mod 4), monotonic across both kinds', () => {
    const c = new MsgIdClock();
    let last = 0n;
    for (let i = 0; i < 1000; i++) {
      const kind = i % 3 === 0 ? 'notification' : 'response';
      const id = c.nextServer(kind);
      assert.equal(id % 4n, kind === 'response' ? 1n : 3n);
      assert.ok(id > last);
      last = id;
    }
  });

  test('timeOffset shifts ids; syncFromServerMsgId adopts the server time', () => {
    let now = 1_700_000_000_000;
    const c = new MsgIdClock({ timeOffset: 100, now: () => now });
    assert.equal(Number(c.next() >> 32n), 1_700_000_100);
    assert.equal(c.synced, false);
    c.syncFromServerMsgId((BigInt(1_700_000_000 - 3600) << 32n) | 1n);
    assert.equal(c.timeOffset, -3600);
    assert.equal(c.synced, true);
    now += 1000;
    assert.equal(Number(c.next() >> 32n), 1_700_000_001 - 3600, 'ids follow the corrected clock even though they are lower');
    assert.ok(Math.abs(c.skewOf(BigInt(1_700_000_001 - 3600) << 32n)) < 1);
  });

  test('seqno: 2·(content-related sent before) + 1 for content-related, even otherwise', () => {
    const s = new SeqNo();
    assert.deepEqual([s.next(true), s.next(false), s.next(true), s.next(true), s.next(false)], [1, 2, 3, 5, 6]);
  });
});

describe('rpc errors', () => {
  test('kind and value are parsed', () => {
    assert.deepEqual(parseRpcErrorMessage('PHONE_MIGRATE_4'), { kind: 'PHONE_MIGRATE', value: 4 });
    assert.deepEqual(parseRpcErrorMessage('FLOOD_WAIT_30'), { kind: 'FLOOD_WAIT', value: 30 });
    assert.deepEqual(parseRpcErrorMessage('FILE_PART_3_MISSING'), { kind: 'FILE_PART_X_MISSING', value: 3 });
    assert.deepEqual(parseRpcErrorMessage('AUTH_KEY_UNREGISTERED'), { kind: 'AUTH_KEY_UNREGISTERED' });
    const e = new RpcError(420, 'FLOOD_WAIT_30', 'auth.sendCode', 1);
    assert.equal(e.message, 'rpc_error 420 FLOOD_WAIT_30 from auth.sendCode on DC 1');
    assert.equal(e.kind, 'FLOOD_WAIT');
    assert.equal(e.value, 30);
    assert.match(new TransportError(-429, 3).message, /transport error -429 \(transport flood\) on DC 3/);
  });
});

function rawEncrypt(
  authKey: Uint8Array,
  header: { salt: bigint; sessionId: bigint; msgId: bigint; seqno: number },
  body: Uint8Array,
  declaredLen: number,
  pad: number,
  x: 0 | 8,
): Uint8Array {
  const plain = new Uint8Array(32 + body.length + pad);
  const v = new DataView(plain.buffer);
  v.setBigInt64(0, header.salt, true);
  v.setBigInt64(8, header.sessionId, true);
  v.setBigInt64(16, header.msgId, true);
  v.setInt32(24, header.seqno, true);
  v.setInt32(28, declaredLen, true);
  plain.set(body, 32);
  const mk = msgKey(authKey, plain, x);
  const { key, iv } = messageKeyIv(authKey, mk, x);
  const out = new Uint8Array(24 + plain.length);
  new DataView(out.buffer).setBigInt64(0, keyIdOf(authKey), true);
  out.set(mk, 8);
  out.set(aesIgeEncrypt(plain, key, iv), 24);
  return out;
}

describe('message encryption (MTProto 2.0)', () => {
  const key = randomBytes(256);
  const fields = { salt: -5n, sessionId: 0x0123456789abcdefn, msgId: 0x5f00000000000004n, seqno: 7, body: randomBytes(100) };

  test('round trip both directions; padding 12..1024 and a multiple of 16 in total', () => {
    for (const x of [0, 8] as const) {
      for (let i = 0; i < 50; i++) {
        const body = randomBytes(4 * i);
        const enc = encryptMessage(key, { ...fields, body }, x);
        assert.equal((enc.length - 24) % 16, 0);
        const pad = enc.length - 24 - 32 - body.length;
        assert.ok(pad >= 12 && pad <= 1024, `padding ${pad}`);
        const dec = decryptMessage(key, enc, x);
        assert.deepEqual({ ...dec, body: Buffer.from(dec.body) }, { ...fields, body: Buffer.from(body) });
      }
    }
  });

  const check = (fn: () => unknown, name: string): void =>
    assert.throws(fn, (e: unknown) => e instanceof MessageCheckError && e.check === name && !e.message.includes(Buffer.from(key).toString('hex').slice(0, 16)));

  test('every check names itself: auth_key_id, msg_key, direction, length, data_length, padding', () => {
    const enc = encryptMessage(key, fields, 0);
    check(() => decryptMessage(randomBytes(256), enc, 0), 'auth_key_id');
    const flipped = Uint8Array.from(enc);
    flipped[40]! ^= 1;
    check(() => decryptMessage(key, flipped, 0), 'msg_key');
    const badKey = Uint8Array.from(enc);
    badKey[10]! ^= 1;
    check(() => decryptMessage(key, badKey, 0), 'msg_key');
    check(() => decryptMessage(key, enc, 8), 'msg_key'); // wrong direction (x)
    check(() => decryptMessage(key, enc.subarray(0, 40), 0), 'length');
    const h = { salt: 1n, sessionId: 2n, msgId: 4n, seqno: 1 };
    check(() => decryptMessage(key, rawEncrypt(key, h, new Uint8Array(16), 64, 16, 0), 0), 'data_length'); // length beyond the data
    check(() => decryptMessage(key, rawEncrypt(key, h, new Uint8Array(16), 14, 16, 0), 0), 'data_length'); // not divisible by 4
    check(() => decryptMessage(key, rawEncrypt(key, h, new Uint8Array(28), 28, 4, 0), 0), 'padding'); // 4 < 12
    check(() => decryptMessage(key, rawEncrypt(key, h, new Uint8Array(16), 16, 1040, 0), 0), 'padding'); // > 1024
    // trailing bytes of the padded transport are tolerated
    const trailing = new Uint8Array([...enc, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(decryptMessage(key, trailing, 0).seqno, 7);
  });
});

// ------------------------------------------------------------------------------------------------------------------
// A fake server: decrypts the client's messages and answers whatever the test scripts.

interface Incoming {
  msgId: bigint;
  seqno: number;
  sessionId: bigint;
  salt: bigint;
  body: Uint8Array;
}

async function fakeServer(
  key: Uint8Array,
  script: (m: Incoming, reply: (msgId: bigint, seqno: number, body: Uint8Array, sessionId?: bigint) => void, link: FrameLink) => void,
): Promise<number> {
  return startRaw((payload, link) => {
    const m = decryptMessage(key, payload, 0);
    const reply = (msgId: bigint, seqno: number, body: Uint8Array, sessionId = m.sessionId): void =>
      link.send(encryptMessage(key, { salt: m.salt, sessionId, msgId, seqno, body }, 8));
    script(m, reply, link);
  });
}

let idCounter = 0;
function serverId(offsetSec = 0, residue = 1n, n = ++idCounter): bigint {
  const ms = Date.now() + offsetSec * 1000;
  return (BigInt(Math.floor(ms / 1000)) << 32n) | (BigInt(n) << 8n) | residue;
}

function nearestDcResult(reqMsgId: bigint): Uint8Array {
  const w = new TlWriter();
  w.uint(0x8e1a1775);
  w.string('NL');
  w.int(2);
  w.int(2);
  return encodeRpcResult(reqMsgId, w.finish());
}

/** The method call at the innermost level of a (possibly container) body: returns the msg_ids of content messages. */
function callIds(m: Incoming): bigint[] {
  const v = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
  if (v.getUint32(0, true) !== MT.msg_container) return m.seqno & 1 ? [m.msgId] : [];
  const n = v.getInt32(4, true);
  const out: bigint[] = [];
  let off = 8;
  for (let i = 0; i < n; i++) {
    const id = v.getBigInt64(off, true);
    const seq = v.getInt32(off + 8, true);
    const len = v.getInt32(off + 12, true);
    if (seq & 1) out.push(id);
    off += 16 + len;
  }
  return out;
}

describe('client incoming checks (fake server)', () => {
  const closing: { name: string; check: string; answer: (m: Incoming, reply: (id: bigint, seq: number, body: Uint8Array, sid?: bigint) => void) => void }[] = [
    { name: 'even server msg_id', check: 'msg_id_parity', answer: (m, reply) => reply(serverId(0, 0n), 1, nearestDcResult(callIds(m)[0]!)) },
    { name: 'wrong session_id', check: 'session_id', answer: (m, reply) => reply(serverId(), 1, nearestDcResult(callIds(m)[0]!), m.sessionId + 1n) },
  ];
  for (const c of closing) {
    test(`${c.name} → message dropped, 'check-failed' names ${c.check}, connection closed, call rejected`, async () => {
      const key = randomBytes(256);
      const port = await fakeServer(key, (m, reply) => {
        if (callIds(m).length) c.answer(m, reply);
      });
      const cl = await connectClient(port, key, { timeSynced: true });
      const closed = once<string>(cl.session, 'close');
      await assert.rejects(cl.session.invoke({ _: 'help.getNearestDc' }), SessionClosedError);
      assert.match(await closed, new RegExp(`failed the ${c.check} check`));
      const ev = cl.events.find((e) => e.kind === 'check-failed')!;
      assert.ok(ev, 'check-failed event');
      assert.match(ev.note!, new RegExp(c.check));
      assert.ok(cl.link.closed);
    });
  }

  // The guidelines ask to ignore these (a server re-sending an answer after a reconnect is normal): the message is
  // dropped with a wire event, the connection stays, and the real answer that follows is taken.
  const ignored: { name: string; note: RegExp; bad: (m: Incoming) => { id: bigint; seqno: number; body: Uint8Array }; before?: boolean }[] = [
    {
      name: 'a duplicate msg_id',
      note: /duplicate msg_id: message ignored/,
      bad: (m) => ({ id: -1n, seqno: 1, body: nearestDcResult(callIds(m)[0]!) }),
      before: true,
    },
    {
      name: 'a msg_id 400 s in the past (clock synced)',
      note: /in the past: message ignored/,
      bad: (m) => ({ id: serverId(-400), seqno: 1, body: nearestDcResult(callIds(m)[0]!) }),
    },
    {
      name: 'a msg_id 60 s in the future (clock synced)',
      note: /in the future: message ignored/,
      bad: (m) => ({ id: serverId(60), seqno: 1, body: nearestDcResult(callIds(m)[0]!) }),
    },
  ];
  for (const c of ignored) {
    test(`${c.name} → message ignored ('check-failed' says why), connection kept, the real answer taken`, async () => {
      const key = randomBytes(256);
      const port = await fakeServer(key, (m, reply) => {
        const ids = callIds(m);
        if (!ids.length) return;
        const bad = c.bad(m);
        const good = serverId();
        if (bad.id === -1n) {
          // the same id twice: first a msgs_ack (taken), then the answer under the same id (a duplicate)
          reply(good, 2, new Uint8Array([...new Uint8Array(new Uint32Array([0x62d6b459, MT.vector, 0]).buffer)]));
          reply(good, bad.seqno, bad.body);
          reply(serverId(), 1, nearestDcResult(ids[0]!));
          return;
        }
        reply(bad.id, bad.seqno, bad.body);
        reply(good, 1, nearestDcResult(ids[0]!));
      });
      const cl = await connectClient(port, key, { timeSynced: true });
      const r = (await cl.session.invoke({ _: 'help.getNearestDc' })) as TlObject;
      assert.equal(r._, 'nearestDc');
      const ev = cl.events.find((e) => e.kind === 'check-failed');
      assert.ok(ev, 'check-failed event');
      assert.match(ev.note!, c.note);
      assert.ok(!cl.link.closed, 'connection kept');
      assert.ok(!cl.session.closed);
      cl.session.close();
    });
  }

  test('a server message in a container, with gzip_packed result and an update, is unpacked', async () => {
    const key = randomBytes(256);
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      const w = new TlWriter();
      w.uint(MT.gzip_packed);
      w.bytes(gzipSync(nearestDcResult(ids[0]!).subarray(12)));
      const result = encodeRpcResult(ids[0]!, w.finish());
      const update = new Uint8Array(new Uint32Array([0xe317af7e]).buffer); // updatesTooLong
      const a = serverId(0, 1n);
      const b = serverId(0, 3n);
      reply(
        serverId(0, 1n),
        0,
        encodeContainer([
          { msgId: b, seqno: 1, body: update },
          { msgId: a, seqno: 3, body: result },
        ]),
      );
    });
    const cl = await connectClient(port, key, { timeSynced: true });
    const updates: TlObject[] = [];
    cl.session.on('update', (u: TlObject) => updates.push(u));
    const r = (await cl.session.invoke({ _: 'help.getNearestDc' })) as TlObject;
    assert.equal(r._, 'nearestDc');
    await waitFor(() => updates.length === 1);
    assert.equal(updates[0]!._, 'updatesTooLong');
    const inContainer = cl.events.filter((e) => e.dir === 'in' && e.containerId);
    assert.deepEqual(
      inContainer.map((e) => e.ctor),
      ['updatesTooLong', 'rpc_result:nearestDc'],
    );
    cl.session.close();
  });

  test('transport error −429 rejects every pending call naming the code and emits transport-error', async () => {
    const key = randomBytes(256);
    const port = await startRaw((_p, link) => link.send(encodeTransportError(-429)));
    const cl = await connectClient(port, key);
    const codes: number[] = [];
    cl.session.on('transport-error', (c: number) => codes.push(c));
    await assert.rejects(cl.session.invoke({ _: 'help.getNearestDc' }), /transport error -429/);
    assert.deepEqual(codes, [-429]);
    assert.ok(cl.session.closed);
  });

  test('bad_msg_notification 32 (seqno too low) starts a new session; the call is re-sent there and answered', async () => {
    const key = randomBytes(256);
    let seen = 0;
    const sessions: bigint[] = [];
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      seen += 1;
      sessions.push(m.sessionId);
      if (seen === 1) {
        const w = new TlWriter();
        w.uint(MT.bad_msg_notification);
        w.long(m.msgId);
        w.int(m.seqno);
        w.int(32);
        reply(serverId(), 2, w.finish());
        return;
      }
      reply(serverId(), 1, nearestDcResult(ids[0]!));
    });
    const cl = await connectClient(port, key, { timeSynced: true });
    const renewed = once<{ reason: string }>(cl.session, 'new-session');
    const firstSession = cl.session.sessionId;
    assert.equal(((await cl.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    assert.match((await renewed).reason, /bad_msg_notification 32/);
    const outs = cl.events.filter((e) => e.dir === 'out' && e.ctor === 'help.getNearestDc');
    assert.equal(outs.length, 2);
    assert.equal(outs[1]!.seqno, 1, 'the new session counts from 0');
    assert.notEqual(sessions[1], sessions[0]);
    assert.notEqual(cl.session.sessionId, firstSession);
    assert.ok(cl.events.some((e) => e.ctor === 'session_reset'));
    cl.session.close();
  });

  test('a bad_msg_notification about a msg_id the client never sent does not move its clock', async () => {
    const key = randomBytes(256);
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      const w = new TlWriter();
      w.uint(MT.bad_msg_notification);
      w.long(12345n * 4n);
      w.int(1);
      w.int(16);
      reply(serverId(-3000), 2, w.finish());
      setTimeout(() => reply(serverId(), 1, nearestDcResult(ids[0]!)), 20);
    });
    const cl = await connectClient(port, key);
    await cl.session.invoke({ _: 'help.getNearestDc' });
    assert.equal(cl.session.timeOffset, 0);
    cl.session.close();
  });

  test('new_session_created: queries sent before first_msg_id go out again with new ids; an updates gap is reported', async () => {
    const key = randomBytes(256);
    const seen: bigint[] = [];
    let announced = false;
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      seen.push(...ids);
      if (!announced && seen.length >= 2) {
        announced = true;
        // the server lost its session: it begins at the second query; the first one never reached it
        const w = new TlWriter();
        w.uint(MT.new_session_created);
        w.long(seen[1]!);
        w.long(1n);
        w.long(0x55n);
        reply(serverId(0, 3n), 1, w.finish());
        reply(serverId(), 1, nearestDcResult(seen[1]!));
        return;
      }
      if (announced) for (const id of ids) reply(serverId(), 1, nearestDcResult(id));
    });
    const cl = await connectClient(port, key, { timeSynced: true });
    const gap = once<{ firstMsgId: bigint; resent: number }>(cl.session, 'new-session');
    const first = cl.session.invoke({ _: 'help.getNearestDc' });
    await waitFor(() => seen.length === 1);
    const second = cl.session.invoke({ _: 'help.getNearestDc' });
    assert.equal(((await second) as TlObject)._, 'nearestDc');
    assert.equal(((await first) as TlObject)._, 'nearestDc');
    assert.equal((await gap).resent, 1);
    assert.equal(seen.length, 3, 'the first query went out a second time');
    assert.notEqual(seen[2], seen[0], 'with a new msg_id');
    assert.equal(cl.session.serverSalt, 0x55n, 'the salt of the new session');
    cl.session.close();
  });

  test('msg_resend_req: a pending query is sent again with its own msg_id (in a container); unknown ids get msgs_state_info', async () => {
    const key = randomBytes(256);
    const got: { ids: bigint[]; container: boolean; stateInfo: boolean }[] = [];
    let asked = false;
    const port = await fakeServer(key, (m, reply) => {
      const v = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      const container = v.getUint32(0, true) === MT.msg_container;
      got.push({ ids: callIds(m), container, stateInfo: container ? containsId(m.body, MT.msgs_state_info) : v.getUint32(0, true) === MT.msgs_state_info });
      const ids = callIds(m);
      if (!ids.length) return;
      if (!asked) {
        asked = true;
        const w = new TlWriter();
        w.uint(MT.msg_resend_req);
        w.uint(MT.vector);
        w.int(2);
        w.long(ids[0]!);
        w.long(4444n * 4n);
        reply(serverId(), 2, w.finish());
        return;
      }
      reply(serverId(), 1, nearestDcResult(ids[0]!));
    });
    const cl = await connectClient(port, key, { timeSynced: true });
    assert.equal(((await cl.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    const withCall = got.filter((g) => g.ids.length);
    assert.equal(withCall.length, 2);
    assert.deepEqual(withCall[1]!.ids, withCall[0]!.ids, 'the same msg_id');
    assert.ok(withCall[1]!.container, 'inside a container');
    assert.ok(
      got.some((g) => g.stateInfo),
      'msgs_state_info for the id we never sent',
    );
    cl.session.close();
  });

  test('a big call body travels gzip_packed when that is smaller', async () => {
    const key = randomBytes(256);
    let packed = false;
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      packed ||= containsId(m.body, MT.gzip_packed);
      reply(serverId(), 1, nearestDcResult(ids[0]!));
    });
    const cl = await connectClient(port, key, { timeSynced: true });
    // a long, repetitive message text: what a user pastes
    const text = 'hello MTProto '.repeat(400);
    // the fake server answers anything with nearestDc: only the request matters here
    await cl.session.invoke({ _: 'messages.sendMessage', peer: { _: 'inputPeerSelf' }, message: text, random_id: 1n }).catch(() => undefined);
    assert.ok(packed, 'gzip_packed on the wire');
    assert.ok(cl.events.some((e) => e.dir === 'out' && /gzip_packed \d+ → \d+ bytes/.test(e.note ?? '')));
    cl.session.close();
  });
});

/** Whether a constructor id appears at a message boundary of a body (the body itself or a container child). */
function containsId(body: Uint8Array, id: number): boolean {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (v.getUint32(0, true) === id) return true;
  if (v.getUint32(0, true) !== MT.msg_container) return false;
  const n = v.getInt32(4, true);
  let off = 8;
  for (let i = 0; i < n; i++) {
    const len = v.getInt32(off + 12, true);
    if (v.getUint32(off + 16, true) === id) return true;
    off += 16 + len;
  }
  return false;
}

describe('msg_id', () => {
  test('the lower 32 bits of a client msg_id are never all zero', () => {
    const clock = new MsgIdClock({ now: () => 1_750_000_000_000 });
    for (let i = 0; i < 3; i++) assert.notEqual(clock.next() & 0xffffffffn, 0n);
  });
});

describe('notifications about a container', () => {
  test('bad_server_salt for a container re-sends every query inside it with the new salt', async () => {
    const key = randomBytes(256);
    const salts: bigint[] = [];
    let rejected = false;
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      salts.push(m.salt);
      if (!rejected) {
        rejected = true;
        const w = new TlWriter();
        w.uint(MT.bad_server_salt);
        w.long(m.msgId);
        w.int(m.seqno);
        w.int(48);
        w.long(0x7777n);
        reply(serverId(), 2, w.finish());
        return;
      }
      for (const id of ids) reply(serverId(), 1, nearestDcResult(id));
    });
    const cl = await connectClient(port, key, { timeSynced: true });
    const [a, b] = await Promise.all([cl.session.invoke({ _: 'help.getNearestDc' }), cl.session.invoke({ _: 'help.getNearestDc' })]);
    assert.equal((a as TlObject)._, 'nearestDc');
    assert.equal((b as TlObject)._, 'nearestDc');
    assert.equal(salts.at(-1), 0x7777n);
    cl.session.close();
  });
});

describe('clock of a resumed session', () => {
  test('a stored offset 100 s off is corrected by the first server message; after that the time window applies', async () => {
    const key = randomBytes(256);
    let n = 0;
    const port = await fakeServer(key, (m, reply) => {
      const ids = callIds(m);
      if (!ids.length) return;
      n += 1;
      if (n === 2) reply(serverId(-400), 1, nearestDcResult(ids[0]!)); // stale: must be ignored now
      reply(serverId(), 1, nearestDcResult(ids[0]!));
    });
    // the offset stored by an earlier run says the server is 100 s behind: wrong
    const cl = await connectClient(port, key, { timeOffset: -100 });
    assert.equal(((await cl.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    assert.ok(Math.abs(cl.session.timeOffset) <= 1, `offset corrected (${cl.session.timeOffset})`);
    assert.ok(cl.events.some((e) => e.ctor === 'time_sync' && /stored offset was/.test(e.note ?? '')));
    assert.equal(((await cl.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    assert.ok(cl.events.some((e) => e.kind === 'check-failed' && /in the past: message ignored/.test(e.note ?? '')));
    cl.session.close();
  });
});
