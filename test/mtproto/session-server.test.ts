// serveMtprotoLink driven by a raw client (hand-built encrypted messages), for what MtprotoSession never sends:
// compressed queries, wrong msg_id bits, bad containers, msgs_state_req, destroy_session, session resumption.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { TlReader, TlWriter } from '../../src/tl/binary';
import type { TlObject } from '../../src/tl/types';
import { connectTcp, type FrameLink } from '../../src/transport/tcp';
import { decryptMessage, encryptMessage } from '../../src/mtproto/message-crypto';
import { MsgIdClock } from '../../src/mtproto/msg-id';
import { MT, decodeContainer, encodeContainer, encodeLongVectorMessage, peekId, randomLong, serviceName } from '../../src/mtproto/service-messages';
import { HOST, closeAll, connectClient, preShareKey, serverCodec, startServer, waitFor } from './session-helpers';

after(closeAll);

interface Msg {
  msgId: bigint;
  seqno: number;
  body: Uint8Array;
}

class RawClient {
  readonly inbox: Msg[] = [];
  readonly clock = new MsgIdClock();
  closed = false;
  constructor(
    readonly link: FrameLink,
    readonly key: Uint8Array,
    readonly salt: bigint,
    readonly sessionId = randomLong(),
  ) {
    link.on('frame', (p: Uint8Array) => {
      const m = decryptMessage(key, p, 8);
      const push = (x: Msg): void => {
        if (peekId(x.body) === MT.msg_container) for (const c of decodeContainer(x.body)) push(c);
        else this.inbox.push(x);
      };
      push(m);
    });
    link.on('close', () => (this.closed = true));
  }

  send(body: Uint8Array, seqno = 1, msgId = this.clock.next()): bigint {
    this.link.send(encryptMessage(this.key, { salt: this.salt, sessionId: this.sessionId, msgId, seqno, body }, 0));
    return msgId;
  }

  async waitFor(ctor: string, ms = 2000): Promise<Msg> {
    await waitFor(() => this.inbox.some((m) => serviceName(peekId(m.body)) === ctor), ms, ctor);
    return this.inbox.find((m) => serviceName(peekId(m.body)) === ctor)!;
  }

  names(): string[] {
    return this.inbox.map((m) => serviceName(peekId(m.body)) ?? '?');
  }
}

async function rawClient(port: number, key: Uint8Array, salt: bigint, sessionId?: bigint): Promise<RawClient> {
  const link = await connectTcp({ host: HOST, port, transport: 'intermediate' });
  return new RawClient(link, key, salt, sessionId);
}

function resultOf(m: Msg): { req: bigint; body: Uint8Array } {
  const r = new TlReader(m.body, 4);
  const req = r.long();
  return { req, body: r.raw(r.remaining) };
}

const codec = serverCodec();

describe('server side (raw client)', () => {
  test('gzip- and zlib-packed queries are inflated; the call is answered', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const query = codec.encode({ _: 'help.getNearestDc' });
    let seqno = 1;
    for (const pack of [gzipSync, deflateSync]) {
      const w = new TlWriter();
      w.uint(MT.gzip_packed);
      w.bytes(pack(query));
      c.send(w.finish(), seqno);
      seqno += 2;
    }
    await waitFor(() => c.inbox.filter((m) => peekId(m.body) === MT.rpc_result).length === 2);
    for (const m of c.inbox.filter((x) => peekId(x.body) === MT.rpc_result)) {
      assert.equal((codec.decodeValue('NearestDc', resultOf(m).body) as TlObject)._, 'nearestDc');
    }
    assert.equal(server.calls.length, 2);
    c.link.close();
  });

  test('msg_id not divisible by 4 → bad_msg_notification 18; container id not above its children → 64', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const bad = c.clock.next() + 2n;
    c.send(codec.encode({ _: 'help.getNearestDc' }), 1, bad);
    const n = await c.waitFor('bad_msg_notification');
    const r = new TlReader(n.body, 4);
    assert.equal(r.long(), bad);
    r.int();
    assert.equal(r.int(), 18);
    assert.equal(n.seqno % 2, 0, 'notifications are not content-related');

    const inner = c.clock.next() + 400n;
    const cid = inner - 200n;
    c.send(encodeContainer([{ msgId: inner, seqno: 1, body: codec.encode({ _: 'help.getNearestDc' }) }]), 2, cid);
    await waitFor(() => c.inbox.filter((m) => peekId(m.body) === MT.bad_msg_notification).length === 2);
    const n2 = c.inbox.filter((m) => peekId(m.body) === MT.bad_msg_notification)[1]!;
    const r2 = new TlReader(n2.body, 4);
    assert.equal(r2.long(), cid);
    r2.int();
    assert.equal(r2.int(), 64);
    assert.equal(server.calls.length, 0);
    c.link.close();
  });

  test('msgs_state_req, destroy_session, ping_delay_disconnect, msgs_ack', async () => {
    const server = await startServer();
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const callId = c.send(codec.encode({ _: 'help.getNearestDc' }));
    await c.waitFor('rpc_result');
    const below = callId - (1n << 32n);
    const above = c.clock.next() + (1n << 36n);
    c.send(encodeLongVectorMessage(MT.msgs_state_req, [callId, below, above]), 3);
    const info = await c.waitFor('msgs_state_info');
    const ir = new TlReader(info.body, 4);
    ir.long();
    const states = ir.bytes();
    assert.equal(states[0]! & 4, 4, 'the call was received');
    assert.equal(states[1], 1, 'nothing known about an id below every id kept');
    assert.equal(states[2], 3, 'an id above every id kept was not received yet');

    const w = new TlWriter();
    w.uint(MT.destroy_session);
    w.long(12345n);
    c.send(w.finish(), 5);
    const d = await c.waitFor('destroy_session_none');
    assert.equal(new TlReader(d.body, 4).long(), 12345n);

    const ack = c.send(encodeLongVectorMessage(MT.msgs_ack, [c.inbox[0]!.msgId]), 6);
    await waitFor(() => server.events.some((e) => e.dir === 'in' && e.ctor === 'msgs_ack' && e.msgId === ack.toString()));

    const p = new TlWriter();
    p.uint(MT.ping_delay_disconnect);
    p.long(77n);
    p.int(1);
    c.send(p.finish(), 7);
    const pong = await c.waitFor('pong');
    const pr = new TlReader(pong.body, 4);
    pr.long();
    assert.equal(pr.long(), 77n);
    await waitFor(() => c.closed, 3000, 'disconnect after ping_delay_disconnect');
    assert.ok(server.logs.some((l) => /ping_delay_disconnect/.test(l)));
  });

  test('a client resuming its session on a new connection gets no second new_session_created', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const a = await connectClient(server.port, key, { survivesDisconnect: true, pingIntervalMs: 0 });
    await a.session.invoke({ _: 'help.getNearestDc' });
    const sid = a.session.sessionId;
    // the client acknowledges new_session_created and the answer; unacknowledged ones would be re-sent
    await waitFor(() => server.events.filter((e) => e.dir === 'local' && e.ctor === 'ack' && e.note === 'acknowledged by the client').length >= 2);
    a.link.close();
    await waitFor(() => server.conns[0]!.closed);
    a.session.attach(await connectTcp({ host: HOST, port: server.port, transport: 'intermediate' }));
    await a.session.invoke({ _: 'help.getNearestDc' });
    assert.equal(a.session.sessionId, sid);
    assert.equal(a.events.filter((e) => e.dir === 'in' && e.ctor === 'new_session_created').length, 1);
    assert.equal(server.events.filter((e) => e.dir === 'out' && e.ctor === 'new_session_created').length, 1);
    // a new session on the same key is announced
    const c = await connectClient(server.port, key);
    await c.session.invoke({ _: 'help.getNearestDc' });
    assert.equal(c.events.filter((e) => e.ctor === 'new_session_created').length, 1);
    a.session.close();
    c.session.close();
  });

  test('invokeAfterMsg waits for the earlier call; invokeWithoutUpdates is flagged', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await startServer(async (call) => {
      if (call.method._ === 'help.getConfig') {
        await gate;
        order.push('first');
        return { _: 'nearestDc', country: 'A', this_dc: 2, nearest_dc: 2 };
      }
      order.push(`second${call.withoutUpdates ? ' (no updates)' : ''}`);
      return { _: 'nearestDc', country: 'B', this_dc: 2, nearest_dc: 2 };
    });
    const key = preShareKey(server, 5n);
    const c = await rawClient(server.port, key, 5n);
    const first = c.send(codec.encode({ _: 'help.getConfig' }));
    c.send(codec.encode({ _: 'invokeAfterMsg', msg_id: first, query: { _: 'invokeWithoutUpdates', query: { _: 'help.getNearestDc' } } }), 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(order, []);
    release();
    await waitFor(() => order.length === 2);
    assert.deepEqual(order, ['first', 'second (no updates)']);
    assert.deepEqual(server.calls[1]!.wrappers, ['invokeAfterMsg', 'invokeWithoutUpdates']);
    c.link.close();
  });
});
