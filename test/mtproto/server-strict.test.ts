// The server's checks on client messages, as Telegram makes them (mtproto/description,
// service_messages_about_messages, service_messages), driven by a raw client over loopback: hand-built encrypted
// messages with chosen msg_ids, seqnos and salts, and the server's answers decrypted and read field by field.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { TlReader, TlWriter } from '../../src/tl/binary';
import type { TlObject } from '../../src/tl/types';
import { MT, encodeContainer, encodeLongVectorMessage, peekId } from '../../src/mtproto/service-messages';
import { ServerSalts } from '../../src/mtproto/server-salts';
import {
  closeAll,
  defaultHandler,
  preShareKey,
  rawClient,
  rpcResultOf,
  serverCodec,
  sleep,
  startServer,
  waitFor,
  type Handler,
  type RawClient,
  type RawMsg,
} from './session-helpers';

after(closeAll);

const codec = serverCodec();
const nearestDc = (): Uint8Array => codec.encode({ _: 'help.getNearestDc' });
const getConfig = (): Uint8Array => codec.encode({ _: 'help.getConfig' });

function ping(id: bigint, delay?: number): Uint8Array {
  const w = new TlWriter(20);
  w.uint(delay === undefined ? MT.ping : MT.ping_delay_disconnect);
  w.long(id);
  if (delay !== undefined) w.int(delay);
  return w.finish();
}

function acks(ids: bigint[]): Uint8Array {
  return encodeLongVectorMessage(MT.msgs_ack, ids);
}

/** A handler whose help.getConfig waits for release() and answers rpc_error 400 GATE_OPENED; the rest as defaultHandler. */
function gated(): { handler: Handler; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    release,
    handler: async (call) => {
      if (call.method._ === 'help.getConfig') {
        await gate;
        throw { code: 400, message: 'GATE_OPENED' };
      }
      return defaultHandler(call);
    },
  };
}

function stateBytes(c: RawClient, reqMsgId: bigint): number[] {
  const m = c.all('msgs_state_info', reqMsgId)[0]!;
  const r = new TlReader(m.body, 4);
  r.long();
  return [...r.bytes()];
}

function resultCtor(m: RawMsg): string {
  const body = rpcResultOf(m).body;
  const id = peekId(body);
  if (id === MT.rpc_answer_unknown) return 'rpc_answer_unknown';
  if (id === MT.rpc_answer_dropped_running) return 'rpc_answer_dropped_running';
  if (id === MT.rpc_answer_dropped) return 'rpc_answer_dropped';
  if (id === MT.rpc_error) return 'rpc_error';
  return (codec.decodeValue('NearestDc', body) as TlObject)._;
}

describe('client msg_id rules', () => {
  test('duplicate msg_id: not executed again; a kept answer is re-sent (same msg_id), alone or in a new container; a running call answers once', async () => {
    const { handler, release } = gated();
    const server = await startServer(handler);
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);

    const a = c.send(nearestDc(), { seqno: 1 });
    const [first] = await c.waitFor('rpc_result', a);
    // the same message again, alone
    c.send(nearestDc(), { msgId: a, seqno: 1 });
    const again = await c.waitFor('rpc_result', a, 2);
    assert.equal(again[1]!.msgId, first!.msgId, 'the kept answer goes out with its own msg_id');
    assert.ok(again[1]!.containerId !== undefined, 'inside a fresh container');
    // the legal re-send: wrapped in a new container
    c.sendContainer([{ body: nearestDc(), msgId: a, seqno: 1 }]);
    await c.waitFor('rpc_result', a, 3);
    assert.equal(server.calls.length, 1, 'executed once');

    // a call still running: its duplicate is ignored, the answer comes once when ready
    const g = c.send(getConfig(), { seqno: 3 });
    await waitFor(() => server.calls.length === 2);
    c.sendContainer([{ body: getConfig(), msgId: g, seqno: 3 }]);
    c.send(getConfig(), { msgId: g, seqno: 3 });
    await sleep(100);
    assert.equal(c.all('rpc_result', g).length, 0);
    release();
    await c.waitFor('rpc_result', g);
    await sleep(100);
    assert.equal(c.all('rpc_result', g).length, 1);
    assert.equal(server.calls.length, 2);

    // acknowledged: the answer is forgotten, a duplicate is ignored
    c.send(acks([first!.msgId]), { seqno: 4 });
    await waitFor(() => server.events.some((e) => e.ctor === 'ack' && e.msgId === first!.msgId.toString()));
    c.sendContainer([{ body: nearestDc(), msgId: a, seqno: 1 }]);
    await sleep(150);
    assert.equal(c.all('rpc_result', a).length, 3);
    assert.equal(server.calls.length, 2);
    assert.deepEqual(c.badMsgs(), []);
    c.close();
  });

  test('a container id received before → 19; an id below the duplicate window → 20 (outer and in a container)', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const oldest = c.clock.next();
    // fill the window (2000 ids) with empty acks in two containers
    for (let k = 0; k < 2; k++) c.sendContainer(Array.from({ length: 1000 }, () => ({ body: acks([]), contentRelated: false })));
    const { containerId } = c.sendContainer([{ body: ping(1n), contentRelated: false }]);
    await c.waitFor('pong');
    c.send(encodeContainer([{ msgId: c.clock.next() - 8n, seqno: c.seq(false), body: ping(2n) }]), { msgId: containerId, seqno: c.seq(false) });
    assert.equal(await c.waitBadMsg(containerId), 19);

    c.send(nearestDc(), { msgId: oldest });
    assert.equal(await c.waitBadMsg(oldest), 20);
    const older = oldest - 4n;
    c.sendContainer([{ body: nearestDc(), msgId: older }]);
    assert.equal(await c.waitBadMsg(older), 20);
    assert.equal(server.calls.length, 0);
    c.close();
  });

  test('msg_id time window: 300 s in the past → 16, 30 s in the future → 17; a child of a fresh container may be older', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const now = c.clock.next();
    const past = now - (310n << 32n);
    const future = now + (40n << 32n);
    c.send(nearestDc(), { msgId: past });
    c.send(nearestDc(), { msgId: future });
    assert.equal(await c.waitBadMsg(past), 16);
    assert.equal(await c.waitBadMsg(future), 17);
    // a message that waited long on the client, re-sent in a container with a new id: accepted
    const waited = now - (200n << 32n);
    c.sendContainer([{ body: nearestDc(), msgId: waited }]);
    await c.waitFor('rpc_result', waited);
    c.close();
  });
});

test('new_session_created again, with the same unique_id, for a message with a msg_id below the first one', async () => {
  const server = await startServer();
  const key = preShareKey(server, 5n);
  const c = await rawClient(server.port, key, 5n);
  const early = c.clock.next();
  const between = c.clock.next();
  const b = c.send(nearestDc(), { seqno: 5 });
  await c.waitFor('rpc_result', b);
  const field = (m: RawMsg): { first: bigint; unique: bigint } => {
    const r = new TlReader(m.body, 4);
    return { first: r.long(), unique: r.long() };
  };
  const [created] = await c.waitFor('new_session_created');
  assert.equal(field(created!).first, b);
  c.sendContainer([{ body: nearestDc(), msgId: early, seqno: 1 }], { seqno: 6 });
  await c.waitFor('rpc_result', early);
  const [, again] = await c.waitFor('new_session_created', undefined, 2);
  assert.equal(field(again!).first, early);
  assert.equal(field(again!).unique, field(created!).unique);
  c.sendContainer([{ body: nearestDc(), msgId: between, seqno: 3 }], { seqno: 6 });
  await c.waitFor('rpc_result', between);
  await sleep(100);
  assert.equal(c.all('new_session_created').length, 2);
  c.close();
});

describe('seqno rules', () => {
  test('32: a lower msg_id has a higher (or equal odd) seqno; 33: a higher msg_id has a lower one; not executed', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const early = c.clock.next();
    const a = c.send(nearestDc(), { seqno: 5 });
    await c.waitFor('rpc_result', a);
    const low = c.send(nearestDc(), { seqno: 3 });
    assert.equal(await c.waitBadMsg(low), 32);
    const same = c.send(nearestDc(), { seqno: 5 });
    assert.equal(await c.waitBadMsg(same), 32, 'the same odd seqno twice');
    c.send(nearestDc(), { msgId: early, seqno: 7 });
    assert.equal(await c.waitBadMsg(early), 33);
    // a well-ordered message goes through; even seqnos may repeat
    const ok = c.send(nearestDc(), { seqno: 7 });
    await c.waitFor('rpc_result', ok);
    c.send(ping(1n), { seqno: 8 });
    c.send(ping(2n), { seqno: 8 });
    await c.waitFor('pong', undefined, 2);
    assert.equal(server.calls.length, 2);
    assert.equal(c.badMsgs().length, 3);
    c.close();
  });

  test('a client that restarts its seqno on a known session gets 32 (the session remembers)', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const a = await rawClient(server.port, key, 5n);
    for (let i = 0; i < 3; i++) await a.waitFor('rpc_result', a.send(nearestDc()));
    a.close();
    const b = await rawClient(server.port, key, 5n, a.sessionId);
    const id = b.send(nearestDc());
    assert.equal(await b.waitBadMsg(id), 32);
    b.close();
  });

  test('34: odd seqno on a msg_container; 35: even seqno on an API call; ambiguous service messages are not flagged', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const call = c.send(nearestDc(), { seqno: 2 });
    assert.equal(await c.waitBadMsg(call), 35);
    const { containerId } = c.sendContainer([{ body: ping(1n), seqno: 2 }], { seqno: 3 });
    assert.equal(await c.waitBadMsg(containerId), 34);
    // ping, get_future_salts, msgs_state_req with either parity; msgs_ack sent content-related (as mtcute does)
    const w = new TlWriter(8);
    w.uint(MT.get_future_salts);
    w.int(2);
    c.send(ping(2n), { seqno: 4 });
    c.send(ping(3n), { seqno: 5 });
    c.send(w.finish(), { seqno: 6 });
    c.send(encodeLongVectorMessage(MT.msgs_state_req, [call]), { seqno: 7 });
    c.send(acks([]), { seqno: 9 });
    await c.waitFor('pong', undefined, 2);
    await c.waitFor('future_salts');
    await c.waitFor('msgs_state_info');
    await sleep(100);
    assert.deepEqual(
      c.badMsgs().map((b) => b.code),
      [35, 34],
    );
    assert.equal(server.calls.length, 0);
    c.close();
  });

  test('strictAckSeqno: an odd msgs_ack → 34', async () => {
    const server = await startServer(defaultHandler, { strictAckSeqno: true });
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const odd = c.send(acks([]), { seqno: 1 });
    assert.equal(await c.waitBadMsg(odd), 34);
    const even = c.send(acks([]), { seqno: 2 });
    await sleep(100);
    assert.ok(!c.badMsgs().some((b) => b.id === even));
    c.close();
  });
});

describe('container rules', () => {
  test('64 for nesting, a child id not below the container, over 1020 messages, over 1 MiB, bad framing; nothing in it runs, the connection stays', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const expect64 = async (containerId: bigint, what: string): Promise<void> => {
      assert.equal(await c.waitBadMsg(containerId), 64, what);
    };

    // nested
    const innerId = c.clock.next();
    const inner = encodeContainer([{ msgId: innerId - 4n, seqno: c.seq(true), body: nearestDc() }]);
    await expect64(c.sendContainer([{ body: inner, msgId: innerId, seqno: c.seq(false) }]).containerId, 'nested');
    // a child id above the container's
    const cid = c.clock.next();
    const above = c.clock.next();
    c.send(encodeContainer([{ msgId: above, seqno: c.seq(true), body: nearestDc() }]), { msgId: cid, seqno: c.seq(false) });
    await expect64(cid, 'child id above');
    // 1021 messages (acks do not count: 1020 pings + acks pass)
    await expect64(c.sendContainer(Array.from({ length: 1021 }, (_, i) => ({ body: ping(BigInt(i)), contentRelated: false }))).containerId, '1021 messages');
    const okBig = c.sendContainer([
      ...Array.from({ length: 1020 }, (_, i) => ({ body: ping(BigInt(i)), contentRelated: false })),
      { body: acks([]), contentRelated: false },
    ]);
    await c.waitFor('pong', undefined, 1020, 10_000);
    assert.ok(!c.badMsgs().some((b) => b.id === okBig.containerId));
    // over 1 MiB
    const huge = encodeLongVectorMessage(
      MT.msgs_ack,
      Array.from({ length: 131_072 }, (_, i) => BigInt(i)),
    );
    await expect64(c.sendContainer([{ body: huge, contentRelated: false }]).containerId, 'over 1 MiB');
    // framing: says 3 messages, carries 1
    const framed = encodeContainer([{ msgId: c.clock.next(), seqno: c.seq(true), body: nearestDc() }]);
    new DataView(framed.buffer, framed.byteOffset).setInt32(4, 3, true);
    const bad = c.clock.next();
    c.send(framed, { msgId: bad, seqno: c.seq(false) });
    await expect64(bad, 'framing');
    // a gzip_packed container inside a container: that child is refused
    const packed = new TlWriter();
    packed.uint(MT.gzip_packed);
    packed.bytes(gzipSync(encodeContainer([{ msgId: c.clock.next(), seqno: c.seq(true), body: nearestDc() }])));
    const { ids } = c.sendContainer([{ body: packed.finish(), contentRelated: false }]);
    await expect64(ids[0]!, 'packed container');
    assert.equal(server.calls.length, 0);
    assert.equal(c.closed, false);
    const after = c.send(nearestDc());
    await c.waitFor('rpc_result', after);
    c.close();
  });
});

describe('salts', () => {
  test('a refused salt → bad_server_salt 48 with the current salt; a future salt is accepted in its period, the previous one during the grace only', async () => {
    let offset = 0;
    const salts = new ServerSalts({ periodSeconds: 2, now: () => Date.now() + offset });
    const server = await startServer(defaultHandler, { salts });
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const wrong = c.send(nearestDc(), { salt: 6n });
    const [bad] = await c.waitFor('bad_server_salt');
    const br = new TlReader(bad!.body, 4);
    assert.equal(br.long(), wrong);
    br.int();
    assert.equal(br.int(), 48);
    assert.equal(br.long(), 5n, 'the current salt');

    const w = new TlWriter(8);
    w.uint(MT.get_future_salts);
    w.int(3);
    const req = c.send(w.finish(), { contentRelated: false });
    const [fs] = await c.waitFor('future_salts', req);
    const fr = new TlReader(fs!.body, 4);
    fr.long();
    fr.int();
    const n = fr.int();
    const future = Array.from({ length: n }, () => ({ since: fr.int(), until: fr.int(), salt: fr.long() }));
    assert.equal(future.length, 3);
    assert.equal(future[0]!.salt, 5n);
    assert.equal(future[1]!.since, future[0]!.until);

    const accepted = async (salt: bigint): Promise<boolean> => {
      const id = c.send(nearestDc(), { salt });
      await waitFor(() => c.all('rpc_result', id).length > 0 || c.all('bad_server_salt').some((m) => new TlReader(m.body, 4).long() === id));
      return c.all('rpc_result', id).length > 0;
    };
    // the next salt: refused early in the current period (a clock a little ahead may use it within the grace)
    offset = future[0]!.since * 1000 + 300 - Date.now();
    assert.equal(await accepted(future[1]!.salt), false, 'not before its period');
    // into the next period, within the grace (1 s)
    offset = future[1]!.since * 1000 + 200 - Date.now();
    assert.equal(await accepted(future[1]!.salt), true, 'the next salt in its period');
    assert.equal(await accepted(5n), true, 'the previous salt during the grace');
    offset = future[1]!.since * 1000 + 1500 - Date.now();
    assert.equal(await accepted(5n), false, 'the previous salt after the grace');
    const last = c.all('bad_server_salt').at(-1)!;
    const lr = new TlReader(last.body, 4);
    lr.long();
    lr.int();
    lr.int();
    assert.equal(lr.long(), future[1]!.salt);
    c.close();
  });
});

describe('kept answers', () => {
  test('unacknowledged answers are re-sent when the session shows up on a new connection, also one finished while it had none; msgs_ack forgets them', async () => {
    const { handler, release } = gated();
    const server = await startServer(handler);
    const key = preShareKey(server, 5n);
    const a = await rawClient(server.port, key, 5n);
    const q = a.send(nearestDc());
    const [answer] = await a.waitFor('rpc_result', q);
    const [created] = await a.waitFor('new_session_created');
    const slow = a.send(getConfig());
    await waitFor(() => server.calls.length === 2);
    a.close();
    await waitFor(() => server.conns[0]!.closed);
    release();
    await sleep(50);

    const b = await rawClient(server.port, key, 5n, a.sessionId);
    b.send(ping(1n), { seqno: 4 });
    await b.waitFor('pong');
    const [again] = await b.waitFor('rpc_result', q);
    const [slowAnswer] = await b.waitFor('rpc_result', slow);
    assert.equal(again!.msgId, answer!.msgId);
    assert.equal(again!.seqno, answer!.seqno);
    assert.equal(b.all('new_session_created')[0]?.msgId, created!.msgId);
    assert.equal(resultCtor(slowAnswer!), 'rpc_error');
    assert.ok(Buffer.from(slowAnswer!.body).includes('GATE_OPENED'));
    b.send(acks([answer!.msgId, created!.msgId, slowAnswer!.msgId]), { seqno: 4 });
    await waitFor(() => server.events.filter((e) => e.ctor === 'ack' && e.note === 'acknowledged by the client').length === 3);
    b.close();

    const c = await rawClient(server.port, key, 5n, a.sessionId);
    c.send(ping(2n), { seqno: 4 });
    await c.waitFor('pong');
    await sleep(100);
    assert.equal(c.all('rpc_result').length, 0);
    assert.equal(c.all('new_session_created').length, 0);
    assert.equal(server.calls.length, 2);
    c.close();
  });

  test('a resumed session that repeats its query in the first packet gets the kept answer once', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const a = await rawClient(server.port, key, 5n);
    const q = a.send(nearestDc(), { seqno: 1 });
    const [answer] = await a.waitFor('rpc_result', q);
    a.close();
    await waitFor(() => server.conns[0]!.closed);
    const b = await rawClient(server.port, key, 5n, a.sessionId);
    b.sendContainer([{ body: nearestDc(), msgId: q, seqno: 1 }], { seqno: 2 });
    const [again] = await b.waitFor('rpc_result', q);
    assert.equal(again!.msgId, answer!.msgId);
    await sleep(150);
    assert.equal(b.all('rpc_result', q).length, 1);
    assert.equal(server.calls.length, 1);
    b.close();
  });

  test('msg_resend_req, msg_resend_ans_req, msgs_state_req flags, msgs_all_info', async () => {
    const { handler, release } = gated();
    const server = await startServer(handler);
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const q = c.send(nearestDc());
    const [answer] = await c.waitFor('rpc_result', q);
    const running = c.send(getConfig());
    const pinged = c.send(ping(1n), { contentRelated: false });
    await c.waitFor('pong');

    // msg_resend_req: kept → re-sent, no state info
    const r1 = c.send(encodeLongVectorMessage(MT.msg_resend_req, [answer!.msgId]), { contentRelated: false });
    await c.waitFor('rpc_result', q, 2);
    await sleep(50);
    assert.equal(c.all('msgs_state_info', r1).length, 0);
    // one id not kept → msgs_state_info for all of them, as msgs_state_req
    const bogus = answer!.msgId + (1n << 36n);
    const r2 = c.send(encodeLongVectorMessage(MT.msg_resend_req, [answer!.msgId, bogus]), { contentRelated: false });
    await c.waitFor('msgs_state_info', r2);
    await c.waitFor('rpc_result', q, 3);
    assert.equal(stateBytes(c, r2).length, 2);
    // msg_resend_ans_req: the answer to the query, and msgs_state_info
    const r3 = c.send(encodeLongVectorMessage(MT.msg_resend_ans_req, [q]), { contentRelated: false });
    await c.waitFor('rpc_result', q, 4);
    assert.deepEqual(stateBytes(c, r3), [4 | 32 | 64]);

    // msgs_state_req: answered query, running query, a service message with even seqno, ids below / inside / above
    const below = q - (1n << 32n);
    const inside = q + 1n;
    const above = c.clock.next() + (1n << 36n);
    const r4 = c.send(encodeLongVectorMessage(MT.msgs_state_req, [q, running, pinged, below, inside, above]), { contentRelated: false });
    await c.waitFor('msgs_state_info', r4);
    assert.deepEqual(stateBytes(c, r4), [4 | 32 | 64, 4 | 32, 4 | 16, 1, 2, 3]);

    // msgs_all_info: ids reported received count as acknowledged
    const w = new TlWriter();
    w.uint(MT.msgs_all_info);
    w.uint(MT.vector);
    w.int(1);
    w.long(answer!.msgId);
    w.bytes(Uint8Array.of(4));
    c.send(w.finish(), { contentRelated: false });
    await waitFor(() => server.events.some((e) => e.dir === 'in' && e.ctor === 'msgs_all_info'));
    const r5 = c.send(encodeLongVectorMessage(MT.msg_resend_req, [answer!.msgId]), { contentRelated: false });
    await c.waitFor('msgs_state_info', r5);
    assert.equal(c.all('rpc_result', q).length, 4, 'no longer kept');
    release();
    await c.waitFor('rpc_result', running);
    c.close();
  });

  test('rpc_drop_answer: unknown, dropped_running (the query then answers the same), dropped (msg_id, seq_no, bytes; never re-sent)', async () => {
    const { handler, release } = gated();
    const server = await startServer(handler);
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const drop = (req: bigint): bigint => {
      const w = new TlWriter(12);
      w.uint(MT.rpc_drop_answer);
      w.long(req);
      return c.send(w.finish());
    };

    const d1 = drop(12345n);
    const [u] = await c.waitFor('rpc_result', d1);
    assert.equal(resultCtor(u!), 'rpc_answer_unknown');

    const g = c.send(getConfig());
    await waitFor(() => server.calls.length === 1);
    const d2 = drop(g);
    const [running] = await c.waitFor('rpc_result', d2);
    assert.equal(resultCtor(running!), 'rpc_answer_dropped_running');
    release();
    const [gAnswer] = await c.waitFor('rpc_result', g);
    assert.equal(resultCtor(gAnswer!), 'rpc_answer_dropped_running', 'the real answer is never sent');

    const q = c.send(nearestDc());
    const [answer] = await c.waitFor('rpc_result', q);
    const d3 = drop(q);
    const [dropped] = await c.waitFor('rpc_result', d3);
    assert.equal(resultCtor(dropped!), 'rpc_answer_dropped');
    const r = new TlReader(rpcResultOf(dropped!).body, 4);
    assert.equal(r.long(), answer!.msgId);
    assert.equal(r.int(), answer!.seqno);
    assert.equal(r.int(), answer!.body.length);
    // dropped: neither a duplicate query nor msg_resend_req brings it back
    c.sendContainer([{ body: nearestDc(), msgId: q, seqno: 1 }]);
    const rr = c.send(encodeLongVectorMessage(MT.msg_resend_req, [answer!.msgId]), { contentRelated: false });
    await c.waitFor('msgs_state_info', rr);
    assert.equal(c.all('rpc_result', q).length, 1);
    const d4 = drop(q);
    const [again] = await c.waitFor('rpc_result', d4);
    assert.equal(resultCtor(again!), 'rpc_answer_unknown');
    c.close();
  });
});

describe('destroy_auth_key', () => {
  const destroyKey = (): Uint8Array => {
    const w = new TlWriter(4);
    w.uint(MT.destroy_auth_key);
    return w.finish();
  };

  test('ok: the key leaves the key store, onAuthKeyDestroyed is called, the next message gets -404', async () => {
    const destroyed: bigint[] = [];
    const server = await startServer(defaultHandler, { onAuthKeyDestroyed: (id) => destroyed.push(id) });
    const key = preShareKey(server, 5n);
    const keyId = [...server.keys.keys()][0]!;
    const c = await rawClient(server.port, key, 5n);
    await c.waitFor('rpc_result', c.send(nearestDc()));
    c.send(destroyKey());
    await c.waitFor('destroy_auth_key_ok');
    assert.deepEqual(destroyed, [keyId]);
    assert.equal(server.keys.has(keyId), false);
    c.send(nearestDc());
    await waitFor(() => c.closed);
    assert.deepEqual(c.transportErrors, [-404]);
  });

  test('fail when the key store cannot delete; none when the key is already gone', async () => {
    const keys = new Map<bigint, Uint8Array>();
    const noDelete = { get: (id: bigint) => keys.get(id), set: (id: bigint, k: Uint8Array) => void keys.set(id, k) };
    const server = await startServer(defaultHandler, { keyStore: noDelete });
    const key = preShareKey(server, 5n);
    keys.set([...server.keys.keys()][0]!, key);
    const c = await rawClient(server.port, key, 5n);
    c.send(destroyKey());
    await c.waitFor('destroy_auth_key_fail');
    assert.equal(keys.size, 1);
    c.close();

    // the key vanishes between the message's decryption and its handling (another connection destroyed it)
    const keys2 = new Map<bigint, Uint8Array>();
    let reads = 0;
    const vanishing = {
      get: (id: bigint) => (++reads === 1 ? keys2.get(id) : undefined),
      set: (id: bigint, k: Uint8Array) => void keys2.set(id, k),
      delete: (id: bigint) => void keys2.delete(id),
    };
    const server2 = await startServer(defaultHandler, { keyStore: vanishing });
    const key2 = preShareKey(server2, 5n);
    keys2.set([...server2.keys.keys()][0]!, key2);
    const c2 = await rawClient(server2.port, key2, 5n);
    c2.send(destroyKey());
    await c2.waitFor('destroy_auth_key_none');
    c2.close();
  });
});

describe('connection', () => {
  test('idleTimeoutMs closes a silent connection, not while a ping_delay_disconnect is in force', async () => {
    const server = await startServer(defaultHandler, { idleTimeoutMs: 200 });
    const key = preShareKey(server, 5n);
    const silent = await rawClient(server.port, key, 5n);
    const t0 = Date.now();
    await waitFor(() => silent.closed, 2000, 'idle close');
    assert.ok(Date.now() - t0 >= 150);
    assert.ok(server.logs.some((l) => /no packet from the client/.test(l)));

    const pinger = await rawClient(server.port, key, 5n);
    pinger.send(ping(1n, 1), { contentRelated: false });
    await pinger.waitFor('pong');
    await sleep(600);
    assert.equal(pinger.closed, false, 'the ping_delay_disconnect deadline (1 s) rules');
    await waitFor(() => pinger.closed, 2000, 'close after the ping delay');
  });

  test('quick ack: a frame with the quick-ack bit gets the first 32 bits of the msg_key SHA-256 (top bit set); others get none', async () => {
    const { createHash } = await import('node:crypto');
    const { messageKeyIv } = await import('../../src/crypto/kdf.js');
    const { aesIgeDecrypt } = await import('../../src/crypto/aes-ige.js');
    const server = await startServer();
    const key = preShareKey(server, 5n);
    for (const transport of ['intermediate', 'abridged', 'padded'] as const) {
      const c = await rawClient(server.port, key, 5n, undefined, transport);
      const msgId = c.clock.next();
      const packet = c.packet(msgId, c.seq(true), nearestDc());
      const { key: k, iv } = messageKeyIv(key, packet.subarray(8, 24), 0);
      const plain = aesIgeDecrypt(packet.subarray(24), k, iv);
      const h = createHash('sha256').update(key.subarray(88, 120)).update(plain).digest();
      const expected = (h.readUInt32LE(0) | 0x80000000) >>> 0;
      c.link.send(packet, { quickAck: true });
      await waitFor(() => c.quickAcks.length === 1, 2000, `quick ack over ${transport}`);
      assert.equal(c.quickAcks[0], expected, transport);
      await c.waitFor('rpc_result', msgId);
      await c.waitFor('rpc_result', c.send(nearestDc()));
      assert.equal(c.quickAcks.length, 1);
      c.close();
    }
  });
});

test('hostile encrypted bodies (service constructors with random tails, random containers) never crash the server', async () => {
  const { randomBytes } = await import('../../src/crypto/random.js');
  const server = await startServer();
  const key = preShareKey(server, 5n);
  // destroy_auth_key would (rightly) take the key away from the client that checks the server afterwards
  const ids = (Object.values(MT) as number[]).filter((id) => id !== MT.destroy_auth_key);
  const body = (): Uint8Array => {
    const tail = randomBytes(4 * Math.floor(Math.random() * 12));
    const w = new TlWriter(8 + tail.length);
    w.uint(ids[Math.floor(Math.random() * ids.length)]!);
    if (Math.random() < 0.5) w.uint(MT.vector);
    w.raw(tail);
    return w.finish();
  };
  let c = await rawClient(server.port, key, 5n);
  for (let i = 0; i < 300; i++) {
    if (c.closed) c = await rawClient(server.port, key, 5n);
    const seqno = Math.floor(Math.random() * 8);
    if (i % 5 === 0) c.sendContainer([{ body: body() }, { body: body(), seqno }]);
    else c.send(body(), { seqno });
    if (i % 50 === 0) await sleep(10);
  }
  await sleep(100);
  const fresh = await rawClient(server.port, key, 5n);
  await fresh.waitFor('rpc_result', fresh.send(nearestDc()));
  fresh.close();
  c.close();
});
