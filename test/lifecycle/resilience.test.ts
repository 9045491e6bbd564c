// The client on real DCs' terms, against the strict sandbox with faults on demand (the same knobs
// `dclab sandbox ctl` drives): lost connections, a spurious −404, a DC that moves, silence, salt rotation, cancel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../src/crypto/random';
import type { WireEvent } from '../../src/mtproto/wire-event';
import type { TlObject } from '../../src/tl/types';
import { locationFromJson } from '../../src/files/media';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { DcPool } from '../../src/dc/pool';
import { startLab, type Lab } from './helpers';

const PHONE = '9996621234'; // a user of DC 2, the first DC: no redirect needed

async function loggedIn(lab: Lab, extra: Parameters<Lab['client']>[0] = {}) {
  const wire: WireEvent[] = [];
  const made = lab.client({ onWire: (e) => void wire.push(e), ...extra });
  await made.client.start();
  await made.client.login({ phone: PHONE, code: async () => lab.code(PHONE) });
  return { ...made, wire };
}

function randomId(): bigint {
  return new DataView(randomBytes(8).buffer).getBigInt64(0, true);
}

async function savedTexts(call: (m: TlObject) => Promise<unknown>): Promise<string[]> {
  const h = (await call({
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 100,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  })) as TlObject;
  return ((h.messages as TlObject[]) ?? []).map((m) => String(m.message ?? ''));
}

test('a sendMessage in flight across dropped connections: answered once, exactly one message, the same session', async () => {
  const lab = await startLab();
  try {
    const { client, wire } = await loggedIn(lab);
    const sessionBefore = client.pool.get(2).then((s) => s.sessionId);
    // the answer is held back 400 ms on the wire: the connection is cut while the call waits
    lab.sandbox.setLatency(2, 400);
    const text = `in flight ${Date.now()}`;
    const sent = client.call<TlObject>({ _: 'messages.sendMessage', peer: { _: 'inputPeerSelf' }, message: text, random_id: randomId() });
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(lab.sandbox.dropConnections(2) >= 1);
    const res = await sent;
    assert.ok(res._.startsWith('update'), res._);
    lab.sandbox.setLatency(2, 0);
    assert.deepEqual(
      (await savedTexts((m) => client.call(m))).filter((t) => t === text),
      [text],
      'exactly one message',
    );
    assert.equal((await client.pool.get(2)).sessionId, await sessionBefore, 'the session survived the connection');
    const resent = wire.filter((e) => e.dir === 'out' && e.ctor === 'messages.sendMessage');
    assert.equal(resent.length, 2, 'sent, then re-sent once on the new connection');
    assert.match(resent[1]!.note ?? '', /same msg_id/);
    assert.equal(resent[1]!.msgId, resent[0]!.msgId);
  } finally {
    await lab.stop();
  }
});

test('restart of the home DC while a call waits: the call is answered once, no error, the same key', async () => {
  const lab = await startLab();
  try {
    const { client } = await loggedIn(lab);
    const keyBefore = (await client.pool.get(2)).authKeyId;
    lab.sandbox.setLatency(2, 300);
    const call = client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
    await new Promise((r) => setTimeout(r, 100));
    await lab.sandbox.restartDc(2, 300);
    lab.sandbox.setLatency(2, 0);
    const users = await call;
    assert.equal(users.length, 1);
    assert.equal((await client.pool.get(2)).authKeyId, keyBefore);
    assert.equal(client.status().state, 'authorized');
  } finally {
    await lab.stop();
  }
});

test('one transport error −404 on a new connection is noise: the same key, still logged in; the trace says what it did', async () => {
  const lab = await startLab();
  try {
    const { client, events } = await loggedIn(lab);
    const keyBefore = (await client.pool.get(2)).authKeyId;
    lab.sandbox.injectTransportError(-404, { dcId: 2, count: 1 });
    lab.sandbox.dropConnections(2);
    const users = await client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
    assert.equal(users.length, 1);
    assert.equal((await client.pool.get(2)).authKeyId, keyBefore, 'the key was kept');
    assert.equal(client.status().state, 'authorized');
    assert.ok(!events.some((e) => e.name === 'auth key dropped'));
    const te = events.find((e) => e.name === 'transport error -404');
    assert.ok(te, 'the −404 is a trace event');
    assert.match(te!.note ?? '', /probing with a fresh connection/);
  } finally {
    await lab.stop();
  }
});

test('−404 twice in a row: the key really is gone — dropped with the reason, a new key made, the call repeated', async () => {
  const lab = await startLab();
  try {
    const { client, events } = await loggedIn(lab);
    const keyBefore = (await client.pool.get(2)).authKeyId;
    assert.ok(lab.sandbox.dropAuthKeys(2) >= 1);
    // the DC forgot the key: every connection with it answers −404
    const near = await client.call<TlObject>({ _: 'help.getNearestDc' });
    assert.equal(near._, 'nearestDc');
    assert.notEqual((await client.pool.get(2)).authKeyId, keyBefore);
    const dropped = events.find((e) => e.name === 'auth key dropped');
    assert.match(dropped?.note ?? '', /-404 on 2 fresh connections in a row/);
  } finally {
    await lab.stop();
  }
});

test('the home DC moves to a new port: the next call finds it through help.getConfig on another DC (stale bootstrap address)', async () => {
  const lab = await startLab();
  try {
    const { client, events } = await loggedIn(lab);
    await client.call({ _: 'help.getConfig' });
    const oldPort = lab.sandbox.info.dcs.find((d) => d.id === 2)!.port;
    const moved = await lab.sandbox.moveDc(2);
    assert.notEqual(moved.to.port, oldPort);
    // the client's profile still lists the old address, and so does the config it read
    const users = await client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
    assert.equal(users.length, 1);
    assert.equal(client.status().state, 'authorized');
    assert.ok(events.some((e) => e.name === 'endpoint failed' && (e.note ?? '').includes(`:${oldPort}`)));
    assert.ok(events.some((e) => e.name === 'config' && /changed/.test(e.note ?? '')));
    assert.match(client.pool.connectionInfo(2)?.endpoint ?? '', new RegExp(`:${moved.to.port}`));
  } finally {
    await lab.stop();
  }
});

test('silence: a connection that stops answering is closed by the read deadline and the call completes on a new one', async () => {
  const lab = await startLab();
  try {
    const { client, wire } = await loggedIn(lab, { readTimeoutMs: 400 });
    lab.sandbox.setLatency(2, 5000);
    const call = client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
    const started = Date.now();
    while (!wire.some((e) => e.ctor === 'read_timeout')) {
      assert.ok(Date.now() - started < 5000, 'the read deadline fired');
      await new Promise((r) => setTimeout(r, 50));
    }
    lab.sandbox.setLatency(2, 0);
    assert.equal((await call).length, 1);
  } finally {
    await lab.stop();
  }
});

test('keepalive: ping_delay_disconnect on a timer while connected', async () => {
  const lab = await startLab();
  try {
    const { wire } = await loggedIn(lab, { pingIntervalMs: 150 });
    await new Promise((r) => setTimeout(r, 700));
    const pings = wire.filter((e) => e.dir === 'out' && e.ctor === 'ping_delay_disconnect');
    assert.ok(pings.length >= 2, `${pings.length} keepalive pings`);
    assert.ok(wire.some((e) => e.dir === 'in' && e.ctor === 'pong'));
  } finally {
    await lab.stop();
  }
});

test('salts rotate every 2 s: future salts are fetched and used on time, no bad_server_salt in the steady state; a forced rotation costs one', async () => {
  const lab = await startLab({ sandbox: { saltPeriodSeconds: 2 } });
  try {
    const { client, wire } = await loggedIn(lab);
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      await client.call({ _: 'help.getNearestDc' });
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      wire.some((e) => e.dir === 'in' && e.ctor.includes('future_salts')),
      'future salts fetched',
    );
    // the very first message may carry the handshake's salt from an earlier period; after that, none
    const bad = wire.filter((e) => e.dir === 'in' && e.ctor === 'bad_server_salt');
    assert.ok(bad.length <= 1, `${bad.length} bad_server_salt in 5 s over 2 rotations`);
    const before = bad.length;
    lab.sandbox.rotateSalts(2);
    // rotated out of schedule: the known future salts are wrong now; one bad_server_salt corrects it
    await new Promise((r) => setTimeout(r, 1100)); // past the grace of the previous salt
    await client.call({ _: 'help.getNearestDc' });
    const after = wire.filter((e) => e.dir === 'in' && e.ctor === 'bad_server_salt').length;
    assert.ok(after - before <= 1);
  } finally {
    await lab.stop();
  }
});

test('cancel really cancels: an aborted call sends rpc_drop_answer and the trace has the server answer', async () => {
  const lab = await startLab();
  try {
    const { client, wire } = await loggedIn(lab);
    lab.sandbox.setLatency(2, 300);
    const ac = new AbortController();
    const call = client.pool.invoke(2, { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await assert.rejects(call, /aborted/);
    await new Promise((r) => setTimeout(r, 50));
    const drop = wire.find((e) => e.dir === 'out' && e.ctor === 'rpc_drop_answer');
    assert.ok(drop, 'rpc_drop_answer sent');
    assert.match(drop!.note ?? '', /users.getUsers aborted/);
    lab.sandbox.setLatency(2, 0);
    const started = Date.now();
    while (!wire.some((e) => e.dir === 'in' && /rpc_result:rpc_answer/.test(e.ctor))) {
      assert.ok(Date.now() - started < 3000, 'the rpc_drop_answer was answered');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await lab.stop();
  }
});

test('containers stay small: parallel file requests travel one per container', async () => {
  const lab = await startLab();
  try {
    const { client, wire } = await loggedIn(lab);
    const file = lab.sandbox.files().find((f) => f.dcId === 2 && f.size >= 3 * 4096 && !f.cdn) ?? lab.sandbox.files().find((f) => f.size >= 3 * 4096)!;
    const location = locationFromJson(file.location);
    const dc = file.dcId;
    await Promise.all([0, 1, 2].map((i) => client.call({ _: 'upload.getFile', location, offset: BigInt(i * 4096), limit: 4096 }, { dcId: dc })));
    const parts = wire.filter((e) => e.dir === 'out' && e.ctor === 'upload.getFile');
    assert.equal(parts.length, 3);
    const containers = parts.map((e) => e.containerId).filter((c): c is string => c !== undefined);
    assert.equal(new Set(containers).size, containers.length, 'no container holds two file requests');
  } finally {
    await lab.stop();
  }
});

test('quick acks: a call packet asks for one on the intermediate transport and the trace shows it came', async () => {
  const lab = await startLab();
  try {
    const { client, wire } = await loggedIn(lab);
    lab.sandbox.setLatency(2, 0);
    await client.call({ _: 'help.getNearestDc' });
    const started = Date.now();
    while (!wire.some((e) => e.ctor === 'quick_ack' && e.acked)) {
      assert.ok(Date.now() - started < 3000, 'a quick ack arrived');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(wire.find((e) => e.ctor === 'quick_ack' && e.acked)!.note ?? '', /received by the server/);
  } finally {
    await lab.stop();
  }
});

test('forget keys: destroy_auth_key on every DC with a key; the DC forgets it, the client drops it and is logged out', async () => {
  const lab = await startLab();
  try {
    const { client, store } = await loggedIn(lab);
    await client.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, { dcId: 3 });
    const keyDcs = await store.listDcKeys();
    assert.deepEqual(keyDcs, [2, 3]);
    const before = lab.sandbox.world.keyCount(2);
    const answers = await client.forgetKeys();
    assert.deepEqual([...answers.keys()], [2, 3]);
    assert.equal(answers.get(2), 'destroy_auth_key_ok');
    assert.equal(lab.sandbox.world.keyCount(2), before - 1, 'DC 2 forgot the key');
    assert.deepEqual(await store.listDcKeys(), []);
    assert.equal(client.status().state, 'loggedOut');
  } finally {
    await lab.stop();
  }
});

test('−429 on a new connection: the client backs off before the next one and the call succeeds', async () => {
  const lab = await startLab();
  try {
    const { client, events } = await loggedIn(lab);
    lab.sandbox.injectTransportError(-429, { dcId: 2, count: 1 });
    lab.sandbox.dropConnections(2);
    const users = await client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
    assert.equal(users.length, 1);
    const backoff = events.find((e) => e.name === 'reconnect' && /after transport error -429/.test(e.note ?? ''));
    assert.ok(backoff, 'a reconnect after −429');
    const ms = Number(/in (\d+) ms/.exec(backoff!.note ?? '')?.[1]);
    assert.ok(ms >= 500, `backed off ${ms} ms (not at once)`);
    assert.equal(client.status().state, 'authorized');
  } finally {
    await lab.stop();
  }
});

test('endpoints in order: a dead IPv6 endpoint (preferred) falls back to IPv4; a tcpo_only endpoint is dialled obfuscated', async () => {
  const lab = await startLab();
  try {
    const profile = profileFromSandboxInfo(lab.sandbox.info, { preferIpv6: true });
    profile.dcs = profile.dcs.map((d) => ({ ...d, ipv6: { host: '::1', port: 1 } }));
    const wire: WireEvent[] = [];
    const pool = new DcPool({ profile, onWire: (e) => void wire.push(e) });
    const events: string[] = [];
    const tapped = new DcPool({ profile, onEvent: (e) => void events.push(`${e.type} ${e.address ?? ''}`) });
    try {
      await tapped.invoke(2, { _: 'help.getNearestDc' });
      const dc2 = lab.sandbox.info.dcs.find((d) => d.id === 2)!;
      assert.deepEqual(events.filter((e) => /^(connecting|endpoint-failed|connected)/.test(e)).slice(0, 4), [
        'connecting [::1]:1',
        'endpoint-failed [::1]:1',
        `connecting 127.0.0.1:${dc2.port}`,
        `connected 127.0.0.1:${dc2.port}`,
      ]);
      // a config endpoint marked tcpo_only: obfuscated2 on the wire (the sandbox detects it and answers)
      pool.setTopology({
        thisDc: 2,
        date: 0,
        testMode: false,
        endpoints: [
          {
            id: 3,
            host: '127.0.0.1',
            port: lab.sandbox.info.dcs.find((d) => d.id === 3)!.port,
            ipv6: false,
            mediaOnly: false,
            tcpoOnly: true,
            cdn: false,
            static: false,
            thisPortOnly: false,
            hasSecret: false,
          },
        ],
      });
      await pool.invoke(3, { _: 'help.getNearestDc' });
      assert.match(pool.connectionInfo(3)?.endpoint ?? '', /\(obfuscated\)$/);
      assert.ok(
        lab.logs.some((l) => /DC3: .* from .*\(obfuscated /.test(l)),
        'the sandbox saw an obfuscated connection',
      );
    } finally {
      pool.close();
      tapped.close();
    }
  } finally {
    await lab.stop();
  }
});

test('the config is read again once it expires (help.getConfig in the background, calls do not wait)', async () => {
  const lab = await startLab({ sandbox: { configExpiresSeconds: 1 } });
  try {
    const { client, events } = await loggedIn(lab);
    await client.call({ _: 'help.getConfig' });
    await new Promise((r) => setTimeout(r, 2100));
    await client.call({ _: 'help.getNearestDc' });
    const started = Date.now();
    while (!events.some((e) => e.name === 'config refresh' && /expired/.test(e.note ?? ''))) {
      assert.ok(Date.now() - started < 3000, 'a refresh after expiry');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await lab.stop();
  }
});
