// Encrypted sessions end to end over real loopback TCP: MtprotoSession (client) against serveMtprotoLink (server),
// real MTProto 2.0 encryption, keys pre-shared in the server's key store or created by a real handshake.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../src/crypto/random';
import { authKeyId } from '../../src/crypto/kdf';
import { parseTlSchema } from '../../src/tl/parser';
import { fullSchema } from '../../src/tl/bundled';
import { TlCodec } from '../../src/tl/codec';
import type { TlObject } from '../../src/tl/types';
import { connectTcp } from '../../src/transport/tcp';
import { encodeTransportError } from '../../src/transport/codec';
import { RpcError, SessionClosedError, TransportError } from '../../src/mtproto/errors';
import { openSession } from '../../src/mtproto/client';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { DC, HOST, INIT, closeAll, connectClient, isTl, once, preShareKey, rsa, startServer, waitFor } from './session-helpers';

after(closeAll);

function keyLeaks(events: WireEvent[], key: Uint8Array): string[] {
  const text = JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  const hex = Buffer.from(key).toString('hex');
  const b64 = Buffer.from(key).toString('base64');
  const out: string[] = [];
  // any 8-byte window of the key, hex or base64
  for (let i = 0; i + 8 <= key.length; i += 8) {
    if (text.includes(hex.slice(i * 2, i * 2 + 16))) out.push(`hex@${i}`);
  }
  if (text.includes(b64.slice(0, 16))) out.push('base64');
  for (const e of events) {
    for (const v of Object.values(e)) if (v instanceof Uint8Array) out.push(`bytes in ${e.ctor}`);
  }
  return out;
}

describe('encrypted session over loopback TCP (pre-shared key)', () => {
  test('round trip: first call wrapped in invokeWithLayer(initConnection), later calls bare', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    const r1 = (await c.session.invoke({ _: 'help.getNearestDc' })) as TlObject;
    assert.equal(r1._, 'nearestDc');
    assert.equal(r1.this_dc, DC);
    assert.equal(r1.country, 'NL');
    const first = server.calls[0]!;
    assert.equal(first.method._, 'help.getNearestDc');
    assert.equal(first.layer, 227);
    assert.deepEqual(first.wrappers, ['invokeWithLayer', 'initConnection']);
    assert.equal(first.initConnection?.api_id, INIT.api_id);
    assert.equal(first.initConnection?.device_model, 'test-device');
    assert.equal(first.authKeyId, authKeyId(key));
    assert.equal(first.sessionId, c.session.sessionId);
    assert.equal(first.msgId % 4n, 0n);
    assert.equal(first.connection.transport, 'intermediate');

    await c.session.invoke({ _: 'help.getNearestDc' });
    const second = server.calls[1]!;
    assert.deepEqual(second.wrappers, []);
    assert.equal(second.layer, 227, 'the connection keeps its layer');
    assert.equal(second.initConnection?.api_id, INIT.api_id, 'initConnection is remembered for the connection');

    // the server announced the session, the client saw it; wire events carry ids and sizes
    assert.ok(c.events.some((e) => e.ctor === 'new_session_created' && e.dir === 'in'));
    const out = c.events.find((e) => e.dir === 'out' && e.ctor === 'help.getNearestDc')!;
    assert.match(out.msgId!, /^\d+$/);
    assert.equal(BigInt(out.msgId!) % 4n, 0n);
    assert.equal(out.seqno! % 2, 1);
    assert.ok(out.size > 0);
    assert.match(out.note ?? '', /invokeWithLayer\(227\)/);
    const res = c.events.find((e) => e.dir === 'in' && e.ctor === 'rpc_result:nearestDc')!;
    assert.ok(res, 'rpc_result wire event names the result constructor');
    assert.equal(res.reqMsgId, out.msgId);
    assert.equal(BigInt(res.msgId!) % 2n, 1n);
    assert.deepEqual(keyLeaks(c.events, key), []);
    assert.deepEqual(keyLeaks(server.events, key), []);
    c.session.close();
  });

  test('rpc_error becomes RpcError with parsed kind and value; other throws become 500 INTERNAL without details', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    await assert.rejects(
      c.session.invoke({ _: 'auth.sendCode', phone_number: '+999', api_id: 1, api_hash: 'h', settings: { _: 'codeSettings' } }),
      (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.code, 303);
        assert.equal(e.errorMessage, 'PHONE_MIGRATE_4');
        assert.equal(e.kind, 'PHONE_MIGRATE');
        assert.equal(e.value, 4);
        assert.equal(e.method, 'auth.sendCode');
        assert.equal(e.dcId, DC);
        assert.equal(e.message, 'rpc_error 303 PHONE_MIGRATE_4 from auth.sendCode on DC 2');
        return true;
      },
    );
    await assert.rejects(c.session.invoke({ _: 'help.getConfig' }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, 500);
      assert.equal(e.errorMessage, 'INTERNAL');
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
    assert.ok(!c.events.some((e) => JSON.stringify(e).includes('hunter2')));
    // the session survives errors
    assert.equal(((await c.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    c.session.close();
  });

  test('bad_server_salt: the client adopts the new salt and re-sends with a new msg_id', async () => {
    const server = await startServer();
    const key = preShareKey(server, 0x0badc0ffeen);
    const c = await connectClient(server.port, key, { serverSalt: 42n });
    const r = (await c.session.invoke({ _: 'help.getNearestDc' })) as TlObject;
    assert.equal(r._, 'nearestDc');
    assert.equal(c.session.serverSalt, 0x0badc0ffeen);
    const bad = c.events.find((e) => e.ctor === 'bad_server_salt')!;
    assert.ok(bad, 'bad_server_salt seen');
    const outs = c.events.filter((e) => e.dir === 'out' && e.ctor === 'help.getNearestDc');
    assert.equal(outs.length, 2, 'sent twice');
    assert.equal(bad.reqMsgId, outs[0]!.msgId);
    assert.notEqual(outs[0]!.msgId, outs[1]!.msgId);
    assert.equal(server.calls.length, 1, 'the handler ran once');
    assert.deepEqual(server.calls[0]!.wrappers, ['invokeWithLayer', 'initConnection'], 'the re-sent call is still wrapped');
    c.session.close();
  });

  for (const skew of [3600, -3600]) {
    test(`client clock skewed by ${skew > 0 ? '+' : ''}${skew / 3600} h: bad_msg_notification ${skew > 0 ? 17 : 16} corrects timeOffset`, async () => {
      const server = await startServer();
      const key = preShareKey(server);
      const c = await connectClient(server.port, key, { now: () => Date.now() + skew * 1000 });
      const r = (await c.session.invoke({ _: 'help.getNearestDc' })) as TlObject;
      assert.equal(r._, 'nearestDc');
      const note = c.events.find((e) => e.ctor === 'bad_msg_notification')!;
      assert.ok(note);
      assert.equal(note.note, `error ${skew > 0 ? 17 : 16}`);
      assert.ok(Math.abs(c.session.timeOffset + skew) <= 2, `timeOffset ${c.session.timeOffset} ≈ ${-skew}`);
      assert.ok(c.session.clock.synced);
      // later calls go straight through
      await c.session.invoke({ _: 'help.getNearestDc' });
      assert.equal(c.events.filter((e) => e.ctor === 'bad_msg_notification').length, 1);
      c.session.close();
    });
  }

  test('concurrent calls travel in one msg_container with the pending acks; all answers match their calls', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key, { ackDelayMs: 10_000 });
    await c.session.invoke({ _: 'help.getNearestDc' });
    const calls = [1, 2, 3, 4, 5].map((n) => c.session.invoke({ _: 'users.getUsers', id: Array.from({ length: n }, () => ({ _: 'inputUserSelf' })) }));
    const results = (await Promise.all(calls)) as TlObject[][];
    results.forEach((r, i) => {
      assert.equal(r.length, i + 1);
    });
    const container = c.events.find((e) => e.dir === 'out' && e.ctor === 'msg_container')!;
    assert.ok(container, 'a container went out');
    const inside = c.events.filter((e) => e.dir === 'out' && e.containerId === container.msgId);
    assert.equal(inside.filter((e) => e.ctor === 'users.getUsers').length, 5);
    assert.ok(
      inside.some((e) => e.ctor === 'msgs_ack'),
      'the pending ack rode along (piggybacked)',
    );
    for (const e of inside) assert.ok(BigInt(e.msgId!) < BigInt(container.msgId!), 'inner ids below the container id');
    assert.ok(server.events.some((e) => e.dir === 'in' && e.ctor === 'msg_container' && e.note === '6 messages'));
    c.session.close();
  });

  test('a result over 64 KiB arrives gzip_packed and decodes; file bytes are never gzipped', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    const count = 3000;
    const users = (await c.session.invoke({ _: 'users.getUsers', id: Array.from({ length: count }, () => ({ _: 'inputUserSelf' })) })) as TlObject[];
    assert.equal(users.length, count);
    assert.equal(users[count - 1]!.first_name, `User ${count - 1}`);
    const srvUsers = server.events.find((e) => e.dir === 'out' && e.ctor.startsWith('rpc_result:') && /gzip_packed/.test(e.note ?? ''));
    assert.ok(srvUsers, 'the Vector<User> result went out gzip_packed');
    assert.match(srvUsers.note ?? '', /^gzip_packed \d+ → \d+ bytes$/);

    // upload.file: compressible bytes here, but media in practice — sent as is (and decrypted on a worker: > 64 KiB)
    const limit = 128 * 1024;
    const r = (await c.session.invoke({
      _: 'upload.getFile',
      location: { _: 'inputFileLocation', volume_id: 1n, local_id: 2, secret: 3n, file_reference: new Uint8Array(0) },
      offset: 0n,
      limit,
    })) as TlObject;
    assert.equal(r._, 'upload.file');
    const bytes = r.bytes as Uint8Array;
    assert.equal(bytes.length, limit);
    for (let i = 0; i < limit; i += 997) assert.equal(bytes[i], (i * 7) % 251 < 8 ? i & 0xff : 0);
    const srv = server.events.find((e) => e.dir === 'out' && e.ctor === 'rpc_result:upload.file')!;
    assert.match(srv.note ?? '', /^\d+ bytes$/);
    assert.ok(srv.size > limit, 'the packet carries the raw bytes');
    c.session.close();
  });

  test('a Vector<User> result decodes through the method return type', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    const users = (await c.session.invoke({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }, { _: 'inputUserSelf' }, { _: 'inputUserSelf' }] })) as TlObject[];
    assert.ok(Array.isArray(users));
    assert.deepEqual(
      users.map((u) => [u._, u.id, u.first_name, u.access_hash]),
      [
        ['user', 100n, 'User 0', 7n],
        ['user', 101n, 'User 1', 7n],
        ['user', 102n, 'User 2', 7n],
      ],
    );
    assert.ok(c.events.some((e) => e.ctor === 'rpc_result:Vector<User>'));
    c.session.close();
  });

  test('the client acknowledges content-related server messages (server sees msgs_ack with the rpc_result id)', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key, { ackDelayMs: 20 });
    await c.session.invoke({ _: 'help.getNearestDc' });
    const result = c.events.find((e) => e.dir === 'in' && e.ctor === 'rpc_result:nearestDc')!;
    await waitFor(() => server.events.some((e) => e.dir === 'in' && e.ctor === 'msgs_ack'), 2000, 'msgs_ack at the server');
    const acked = server.events.filter((e) => e.dir === 'local' && e.acked).map((e) => e.msgId);
    assert.ok(acked.includes(result.msgId), 'the rpc_result was acknowledged');
    const nsc = c.events.find((e) => e.dir === 'in' && e.ctor === 'new_session_created')!;
    assert.ok(acked.includes(nsc.msgId), 'new_session_created was acknowledged');
    // fast answers are their own acknowledgment: the server sent no msgs_ack
    assert.ok(!c.events.some((e) => e.dir === 'in' && e.ctor === 'msgs_ack'));
    c.session.close();
  });

  test('a slow call is acknowledged by the server (msgs_ack) before its answer arrives', async () => {
    const server = await startServer(
      async () => {
        await new Promise((r) => setTimeout(r, 300));
        return { _: 'nearestDc', country: 'X', this_dc: 2, nearest_dc: 2 };
      },
      { ackDelayMs: 50 },
    );
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    await c.session.invoke({ _: 'help.getNearestDc' });
    const out = c.events.find((e) => e.dir === 'out' && e.ctor === 'help.getNearestDc')!;
    // the quick ack (transport) usually comes first; the server's msgs_ack must come before the answer too
    const ackIdx = c.events.findIndex((e) => e.acked && e.msgId === out.msgId);
    const msgsAckIdx = c.events.findIndex((e) => e.dir === 'in' && e.ctor === 'msgs_ack');
    const resIdx = c.events.findIndex((e) => e.dir === 'in' && e.ctor === 'rpc_result:nearestDc');
    assert.ok(ackIdx >= 0, 'acknowledged');
    assert.ok(ackIdx < resIdx, 'ack before the answer');
    assert.ok(msgsAckIdx >= 0 && msgsAckIdx < resIdx, 'msgs_ack before the answer');
    c.session.close();
  });

  test('ping → pong, get_future_salts, and server-pushed updates arrive as "update"', async () => {
    const server = await startServer();
    const key = preShareKey(server, 777n);
    const c = await connectClient(server.port, key, { serverSalt: 777n });
    const rtt = await c.session.ping();
    assert.ok(rtt >= 0 && rtt < 2000);
    const fs = await c.session.getFutureSalts(3);
    assert.equal(fs.salts.length, 3);
    assert.equal(fs.salts[0]!.salt, 777n);
    assert.ok(fs.salts[0]!.valid_until > fs.now);
    await c.session.invoke({ _: 'help.getNearestDc' });
    const updates: TlObject[] = [];
    c.session.on('update', (u: TlObject) => updates.push(u));
    assert.ok(server.conns[0]!.push({ _: 'updatesTooLong' }));
    await waitFor(() => updates.length === 1, 2000, 'update');
    assert.equal(updates[0]!._, 'updatesTooLong');
    const ev = c.events.find((e) => e.ctor === 'updatesTooLong')!;
    assert.equal(BigInt(ev.msgId!) % 4n, 3n, 'server-initiated ids are ≡ 3 mod 4');
    c.session.close();
  });

  test('an unknown method id gets rpc_error 400 INPUT_METHOD_INVALID_<id>', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const custom = fullSchema().extend(parseTlSchema('---functions---\ncustom.foo#12345678 x:int = Bool;').entries);
    const c = await connectClient(server.port, key, { codec: new TlCodec(custom) });
    await assert.rejects(c.session.invoke({ _: 'custom.foo', x: 1 }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, 400);
      assert.equal(e.errorMessage, `INPUT_METHOD_INVALID_${0x12345678}`);
      assert.equal(e.kind, 'INPUT_METHOD_INVALID');
      assert.equal(e.value, 0x12345678);
      return true;
    });
    assert.ok(server.logs.some((l) => l.includes('0x12345678')));
    assert.equal(server.calls.length, 0);
    c.session.close();
  });

  test('unknown auth key: transport error −404, every pending call rejected naming 404', async () => {
    const server = await startServer();
    const c = await connectClient(server.port, randomBytes(256));
    const codes: number[] = [];
    c.session.on('transport-error', (code: number) => codes.push(code));
    const closed = once<string>(c.session, 'close');
    const calls = [c.session.invoke({ _: 'help.getNearestDc' }), c.session.invoke({ _: 'help.getNearestDc' })];
    for (const p of calls) {
      await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.code, -404);
        assert.match(e.message, /404/);
        return true;
      });
    }
    assert.deepEqual(codes, [-404]);
    assert.match(await closed, /transport error -404/);
    assert.ok(c.events.some((e) => e.kind === 'transport-error' && e.note === 'transport error -404'));
    assert.ok(server.logs.some((l) => /unknown auth_key_id/.test(l)));
    await assert.rejects(c.session.invoke({ _: 'help.getNearestDc' }), SessionClosedError);
  });

  test('tampered ciphertext: the server drops the connection (logged), a fresh client is still served', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    await c.session.invoke({ _: 'help.getNearestDc' });
    const send = c.link.send.bind(c.link);
    c.link.send = (payload: Uint8Array) => {
      const copy = Uint8Array.from(payload);
      copy[copy.length - 5]! ^= 0x01;
      send(copy);
    };
    const closed = once<string>(c.session, 'close');
    await assert.rejects(c.session.invoke({ _: 'help.getNearestDc' }), SessionClosedError);
    assert.match(await closed, /connection closed/);
    assert.ok(
      server.logs.some((l) => /failed the msg_key check/.test(l)),
      server.logs.join('\n'),
    );
    assert.ok(server.events.some((e) => e.kind === 'check-failed'));
    const fresh = await connectClient(server.port, key);
    assert.equal(((await fresh.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    fresh.session.close();
  });

  test('hostile bytes never crash the server', async () => {
    const server = await startServer();
    const key = preShareKey(server);
    const keyId = new Uint8Array(8);
    new DataView(keyId.buffer).setBigInt64(0, authKeyId(key), true);
    const payloads: Uint8Array[] = [
      randomBytes(3).subarray(0, 3),
      new Uint8Array([...keyId, ...randomBytes(40)]), // bad length
      new Uint8Array([...keyId, ...randomBytes(16 + 64)]), // bad msg_key
      new Uint8Array(20 + 4), // plain, zero body
      encodeTransportError(-404),
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, ...randomBytes(60)]),
    ];
    for (const p of payloads) {
      const link = await connectTcp({ host: HOST, port: server.port, transport: 'abridged' });
      const closed = once(link, 'close');
      link.send(p.length % 4 === 0 ? p : new Uint8Array([...p, ...new Uint8Array(4 - (p.length % 4))]));
      await closed;
    }
    const c = await connectClient(server.port, key);
    assert.equal(((await c.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    c.session.close();
  });

  test('invoke timeout and AbortSignal reject the call and leave the session usable', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await startServer(async (call) => {
      if (call.method._ === 'help.getConfig') await gate;
      return { _: 'nearestDc', country: 'X', this_dc: 2, nearest_dc: 2 };
    });
    const key = preShareKey(server);
    const c = await connectClient(server.port, key);
    await assert.rejects(c.session.invoke({ _: 'help.getConfig' }, { timeoutMs: 100 }), /timed out after 100 ms/);
    const ac = new AbortController();
    const p = c.session.invoke({ _: 'help.getConfig' }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, /aborted/);
    assert.equal(((await c.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    assert.equal(c.session.pendingCount, 0);
    release();
    c.session.close();
  });
});

describe('openSession (real handshake)', () => {
  test('creates an auth key, calls, then a stored key is reused without a handshake', async () => {
    const server = await startServer();
    const events: WireEvent[] = [];
    const opened = await openSession({
      host: HOST,
      port: server.port,
      dcId: DC,
      transport: 'padded',
      rsaKeys: [rsa().publicKey],
      onWire: (e) => events.push(e),
      initConnection: { api_id: 99 },
    });
    assert.equal(opened.created, true);
    assert.equal(opened.authKey.length, 256);
    assert.ok(server.keys.has(authKeyId(opened.authKey)));
    const r = (await opened.session.invoke({ _: 'help.getNearestDc' })) as TlObject;
    assert.equal(r._, 'nearestDc');
    assert.equal(server.calls[0]!.initConnection?.api_id, 99);
    assert.equal(server.calls[0]!.layer, 227);
    assert.ok(
      events.some((e) => e.kind === 'plain'),
      'handshake messages seen',
    );
    assert.ok(!events.some((e) => e.ctor === 'bad_server_salt'), 'the handshake salt is right');
    assert.ok(opened.session.clock.synced);
    assert.deepEqual(keyLeaks(events, opened.authKey), []);
    assert.deepEqual(keyLeaks(server.events, opened.authKey), []);
    opened.session.close();

    const events2: WireEvent[] = [];
    const again = await openSession({
      host: HOST,
      port: server.port,
      dcId: DC,
      transport: 'abridged',
      rsaKeys: [rsa().publicKey],
      authKey: opened.authKey,
      onWire: (e) => events2.push(e),
    });
    assert.equal(again.created, false);
    assert.equal(((await again.session.invoke({ _: 'help.getNearestDc' })) as TlObject)._, 'nearestDc');
    assert.ok(!events2.some((e) => e.kind === 'plain'), 'no handshake');
    assert.ok(
      events2.some((e) => e.ctor === 'bad_server_salt'),
      'unknown salt corrected by the server',
    );
    again.session.close();
    assert.ok(isTl(r));
  });
});
