import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceStore, TraceImportError, type TraceEvent } from '../../src/trace/index';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { startSandbox } from '../../src/sandbox/index';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient } from '../../src/lifecycle/client';

test('TraceStore: default bound is 100,000 — the 100,001st event evicts the first', () => {
  const s = new TraceStore();
  assert.equal(s.capacity, 100_000);
  for (let i = 0; i < 100_000; i++) s.add({ kind: 'state', name: 's' });
  assert.equal(s.size, 100_000);
  assert.equal(s.get(1)?.id, 1);
  const e = s.add({ kind: 'call', name: 'help.getConfig' });
  assert.equal(e.id, 100_001);
  assert.equal(s.size, 100_000);
  assert.equal(s.get(1), undefined, 'the first event is gone');
  assert.equal(s.events()[0]!.id, 2);
  assert.equal(s.events().at(-1)!.id, 100_001);
  assert.equal(s.get(100_001)?.name, 'help.getConfig');
});

test('TraceStore: ids are monotonic, time filled, since(), listeners and unsubscribe', () => {
  let now = 1000;
  const s = new TraceStore({ capacity: 3, now: () => now++ });
  const seen: number[] = [];
  const off = s.onEvent((e) => seen.push(e.id));
  s.onEvent(() => {
    throw new Error('a bad listener');
  });
  const ids = Array.from({ length: 5 }, () => s.add({ kind: 'state', name: 'x' }).id);
  assert.deepEqual(ids, [1, 2, 3, 4, 5]);
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    s.events().map((e) => e.time),
    [1002, 1003, 1004],
  );
  assert.equal(s.add({ kind: 'state', name: 'y', time: 5 }).time, 5, 'an explicit time is kept');
  assert.deepEqual(
    s.since(0).map((e) => e.id),
    [4, 5, 6],
  );
  assert.deepEqual(
    s.since(4).map((e) => e.id),
    [5, 6],
  );
  assert.deepEqual(s.since(6), []);
  off();
  s.add({ kind: 'state', name: 'z' });
  assert.equal(seen.length, 6);
  s.clear();
  assert.equal(s.size, 0);
  assert.equal(s.add({ kind: 'state', name: 'after clear' }).id, 8, 'ids keep increasing after clear()');
  assert.throws(() => s.add({ kind: 'bogus' as never, name: 'x' }), /unknown trace kind "bogus"/);
  assert.throws(() => new TraceStore({ capacity: 0 }), /positive integer/);
});

function migrateChain(s: TraceStore): { call: TraceEvent; repeat: TraceEvent } {
  s.add({ kind: 'call', name: 'help.getConfig', dcId: 2 }); // unrelated
  const call = s.add({
    kind: 'call',
    name: 'auth.sendCode',
    dcId: 2,
    payload: { _: 'auth.sendCode', phone_number: '9996641234', api_id: 1, api_hash: 'deadbeefdeadbeefdeadbeefdeadbeef' },
  });
  s.add({ kind: 'redirect', name: 'PHONE_MIGRATE_4', dcId: 2, targetDc: 4, parentId: call.id });
  s.add({ kind: 'state', name: 'connect', dcId: 4, parentId: call.id });
  s.add({ kind: 'call', name: 'users.getFullUser', dcId: 3 }); // interleaved, unrelated
  s.add({ kind: 'key', name: 'auth key', dcId: 4, roundTrips: 3, parentId: call.id });
  const repeat = s.add({ kind: 'call', name: 'auth.sendCode', dcId: 4, parentId: call.id });
  s.add({ kind: 'wire-out', name: 'auth.sendCode', dcId: 4, parentId: repeat.id });
  s.add({ kind: 'result', name: 'auth.sentCode', dcId: 4, parentId: repeat.id });
  return { call, repeat };
}

test('TraceStore: chainOf returns a call and all its descendants, nothing else', () => {
  const s = new TraceStore();
  const { call, repeat } = migrateChain(s);
  const chain = s.chainOf(call.id);
  assert.deepEqual(
    chain.map((e) => `${e.kind}:${e.name}`),
    ['call:auth.sendCode', 'redirect:PHONE_MIGRATE_4', 'state:connect', 'key:auth key', 'call:auth.sendCode', 'wire-out:auth.sendCode', 'result:auth.sentCode'],
  );
  assert.deepEqual(
    s.chainOf(repeat.id).map((e) => e.kind),
    ['call', 'wire-out', 'result'],
  );
  assert.deepEqual(s.chainOf(999), []);
  assert.equal(JSON.stringify(chain).includes('deadbeef'), false, 'add() redacts payloads');
  assert.equal((chain[0]!.payload as Record<string, unknown>).phone_number, '9996641234');
});

test('TraceStore: export/import round trip (object and JSON text), ids continue', () => {
  const s = new TraceStore();
  migrateChain(s);
  s.add({ kind: 'flood-wait', name: 'FLOOD_WAIT_3', waitSeconds: 3, payload: { big: 123n, raw: new Uint8Array([1, 2, 3]) } });
  const exp = s.export();
  assert.equal(exp.format, 'dclab-trace');
  assert.equal(exp.version, 1);
  assert.equal(exp.events.length, 10);
  assert.deepEqual(exp.events.at(-1)!.payload, { big: '123', raw: 'AQID' });
  const text = s.exportJson();
  for (const input of [exp, text, JSON.parse(text)]) {
    const back = TraceStore.import(input);
    assert.deepEqual(back.events(), s.events());
    assert.deepEqual(
      back.chainOf(2).map((e) => e.id),
      s.chainOf(2).map((e) => e.id),
    );
    assert.equal(back.add({ kind: 'state', name: 'next' }).id, 11);
  }
  assert.deepEqual(
    s.export({ last: 2 }).events.map((e) => e.id),
    [9, 10],
  );
  assert.deepEqual(
    TraceStore.import(s.export({ last: 2 }))
      .events()
      .map((e) => e.id),
    [9, 10],
  );
});

test('TraceStore.import: clear errors naming the path', () => {
  const ok = { format: 'dclab-trace', version: 1, exportedAt: 0, events: [{ id: 1, time: 1, kind: 'call', name: 'x' }] };
  const bad = (mut: (o: any) => void): unknown => {
    const o = structuredClone(ok);
    mut(o);
    return o;
  };
  const cases: [unknown, RegExp, string][] = [
    ['{not json', /not valid JSON/, ''],
    [[], /expected an object/, ''],
    [bad((o) => (o.format = 'x')), /format: expected "dclab-trace"/, 'format'],
    [bad((o) => (o.version = 2)), /unsupported version 2/, 'version'],
    [bad((o) => (o.events = {})), /events: expected an array/, 'events'],
    [bad((o) => (o.events[0] = 5)), /events\[0\]: expected an object/, 'events[0]'],
    [bad((o) => (o.events[0].id = 'a')), /events\[0\]\.id: expected an integer greater than 0/, 'events[0].id'],
    [bad((o) => o.events.push({ id: 1, time: 2, kind: 'call', name: 'y' })), /events\[1\]\.id: expected an integer greater than 1, got 1/, 'events[1].id'],
    [bad((o) => delete o.events[0].time), /events\[0\]\.time: expected a number, got nothing/, 'events[0].time'],
    [bad((o) => (o.events[0].kind = 'wire')), /events\[0\]\.kind: expected one of call/, 'events[0].kind'],
    [bad((o) => (o.events[0].name = 3)), /events\[0\]\.name: expected a string/, 'events[0].name'],
    [bad((o) => (o.events[0].dcId = 1.5)), /events\[0\]\.dcId: expected an integer/, 'events[0].dcId'],
    [bad((o) => (o.events[0].parentId = 1)), /events\[0\]\.parentId: a parent must come before its child/, 'events[0].parentId'],
    [bad((o) => (o.events[0].note = {})), /events\[0\]\.note: expected a string/, 'events[0].note'],
  ];
  for (const [input, re, path] of cases) {
    assert.throws(
      () => TraceStore.import(input),
      (e: unknown) => e instanceof TraceImportError && re.test(e.message) && e.path === path,
      `case ${path || String(input)}`,
    );
  }
  assert.equal(TraceStore.import(ok).size, 1);
});

test('TraceStore.import re-redacts payloads of a foreign file', () => {
  const t = TraceStore.import({
    format: 'dclab-trace',
    version: 1,
    exportedAt: 0,
    events: [{ id: 1, time: 1, kind: 'call', name: 'auth.signIn', payload: { phone_code: '12345' } }],
  });
  assert.deepEqual(t.events()[0]!.payload, { phone_code: '[redacted]' });
});

test('TraceStore.addWire maps an MTProto wire event', () => {
  const s = new TraceStore();
  const call = s.add({ kind: 'call', name: 'ping', dcId: 1 });
  const e = s.addWire({ time: 5, dir: 'out', dcId: 1, connId: 'c1', kind: 'encrypted', msgId: '77', seqno: 3, ctor: 'ping', size: 40 }, call.id);
  assert.equal(e.kind, 'wire-out');
  assert.equal(e.parentId, call.id);
  assert.equal(e.msgId, '77');
  assert.match(e.note!, /encrypted 40B seqno=3/);
  assert.equal(s.addWire({ time: 6, dir: 'in', dcId: 1, connId: 'c1', kind: 'encrypted', ctor: 'pong', size: 40 }).kind, 'wire-in');
  assert.equal(s.addWire({ time: 7, dir: 'local', dcId: 1, connId: 'c1', kind: 'service', ctor: 'time_sync', size: 0 }).kind, 'state');
});

/** What addWire must carry over from a wire event, under the trace's names. */
function wireOf(w: WireEvent): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      kind: w.kind,
      ctor: w.ctor,
      bytes: w.size,
      msgId: w.msgId,
      seqno: w.seqno,
      containerMsgId: w.containerId,
      reqMsgId: w.reqMsgId,
      ackMsgIds: w.ackMsgIds,
      acked: w.acked || undefined,
    }).filter(([, v]) => v !== undefined),
  );
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('TraceStore.addWire: real sandbox traffic carries its wire fields as data, through export and import', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-trace-wire-'));
  const serverPairs: [WireEvent, TraceEvent][] = [];
  const serverStore = new TraceStore();
  const sandbox = await startSandbox({
    basePort: 0,
    dataDir: dir,
    ipv6: false,
    log: () => {},
    onWire: (w) => void serverPairs.push([w, serverStore.addWire(w)]),
  });
  const store = new TraceStore();
  const pairs: [WireEvent, TraceEvent][] = [];
  const client = createDcClient({
    profile: profileFromSandboxInfo(sandbox.info, { firstDc: 2 }),
    trace: store,
    onWire: (w) => void pairs.push([w, store.addWire(w)]),
  });
  try {
    const phone = '9996621234'; // a user of DC 2, the first DC
    await client.start();
    await client.login({
      phone,
      code: async () =>
        sandbox
          .inbox()
          .filter((m) => m.phone === phone)
          .at(-1)!.code,
    });
    // Calls queued in one tick travel in one msg_container; their answers get acknowledged with msgs_ack.
    await Promise.all([client.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }), client.call({ _: 'help.getNearestDc' })]);
    await until(() => pairs.some(([w]) => w.dir === 'out' && w.ctor === 'msgs_ack'), 'a msgs_ack from the client');
    await client.ping(2);
    await until(() => serverPairs.some(([w]) => w.dir === 'in' && w.ctor === 'msgs_ack'), 'the sandbox to receive a msgs_ack');

    // Every wire event of either side is one trace event whose `wire` holds the event's fields; the note stays.
    for (const [w, e] of [...pairs, ...serverPairs]) {
      assert.equal(e.kind, w.dir === 'out' ? 'wire-out' : w.dir === 'in' ? 'wire-in' : 'state');
      assert.deepEqual(e.wire, wireOf(w), `wire of #${e.id} ${e.name}`);
      assert.ok(e.note?.startsWith(`${w.kind} ${w.size}B`), e.note);
      if (w.seqno !== undefined) assert.ok(e.note!.includes(`seqno=${w.seqno}`), e.note);
    }
    const wires = store.events().filter((e) => e.wire);
    const connWire = (e: TraceEvent) => wires.filter((x) => x.connId === e.connId);

    // An answer names its request: the rpc_result of users.getUsers points at the msg_id the call went out with.
    const callOut = wires.find((e) => e.kind === 'wire-out' && e.wire!.ctor === 'users.getUsers')!;
    assert.ok(callOut.wire!.msgId && callOut.wire!.seqno !== undefined, 'the call went out with a msg_id and a seqno');
    const answer = connWire(callOut).find((e) => e.kind === 'wire-in' && e.wire!.reqMsgId === callOut.wire!.msgId);
    assert.ok(answer, 'an answer with req_msg_id = the call');
    assert.match(answer.wire!.ctor, /^rpc_result:/);
    assert.equal(answer.wire!.kind, 'encrypted');

    // The two calls of one tick went out in a container: a msg_container event whose msg_id they both name.
    const inContainer = wires.filter((e) => e.kind === 'wire-out' && e.wire!.containerMsgId !== undefined);
    assert.ok(inContainer.length >= 2, 'messages sent in a container');
    for (const m of inContainer) {
      const container = connWire(m).find((e) => e.kind === 'wire-out' && e.wire!.ctor === 'msg_container' && e.wire!.msgId === m.wire!.containerMsgId);
      assert.ok(container, `the container of #${m.id} ${m.name} is in the trace`);
      assert.equal(container.wire!.kind, 'service');
    }
    assert.ok(
      inContainer.some((e) => e.wire!.ctor === 'help.getNearestDc') && inContainer.some((e) => e.wire!.ctor === 'users.getUsers'),
      'both calls of the tick in a container',
    );

    // The client's msgs_ack names the answers it acknowledges, and the sandbox receives those very ids.
    const ackOut = wires.find((e) => e.kind === 'wire-out' && e.wire!.ctor === 'msgs_ack')!;
    assert.ok(ackOut.wire!.ackMsgIds?.length, 'msgs_ack lists its msg_ids');
    const received = new Set(
      connWire(ackOut)
        .filter((e) => e.kind === 'wire-in')
        .map((e) => e.wire!.msgId),
    );
    for (const id of ackOut.wire!.ackMsgIds!) assert.ok(received.has(id), `acknowledged ${id} was received`);
    const ackIn = serverStore.events().find((e) => e.kind === 'wire-in' && e.wire?.ctor === 'msgs_ack' && e.wire.msgId === ackOut.wire!.msgId);
    assert.ok(ackIn, 'the sandbox saw the same msgs_ack');
    assert.deepEqual(ackIn.wire!.ackMsgIds, ackOut.wire!.ackMsgIds);

    // Export and import keep `wire` as it is, on both sides.
    for (const s of [store, serverStore]) {
      const back = TraceStore.import(s.exportJson());
      assert.deepEqual(back.events(), s.events());
    }

    // A foreign file's `wire` is checked field by field (errors name the path); unknown fields are dropped.
    const exp = store.export();
    const at = exp.events.findIndex((e) => e.id === ackOut.id);
    const bad = (mut: (w: any) => void): unknown => {
      const o = structuredClone(exp);
      mut(o.events[at]!.wire);
      return o;
    };
    const cases: [unknown, RegExp, string][] = [
      [bad((w) => (w.kind = 'rpc')), /expected one of plain, encrypted/, 'kind'],
      [bad((w) => (w.ctor = 7)), /expected a string/, 'ctor'],
      [bad((w) => (w.bytes = -1)), /expected a non-negative integer/, 'bytes'],
      [bad((w) => (w.msgId = 123)), /expected a decimal msg_id string/, 'msgId'],
      [bad((w) => (w.seqno = 1.5)), /expected a non-negative integer/, 'seqno'],
      [bad((w) => (w.containerMsgId = 'abc')), /expected a decimal msg_id string/, 'containerMsgId'],
      [bad((w) => (w.ackMsgIds = w.ackMsgIds.join(','))), /expected an array/, 'ackMsgIds'],
      [bad((w) => w.ackMsgIds.push(null)), /expected a decimal msg_id string, got null/, `ackMsgIds[${ackOut.wire!.ackMsgIds!.length}]`],
      [bad((w) => (w.acked = 'yes')), /expected a boolean/, 'acked'],
    ];
    for (const [input, re, field] of cases) {
      const path = `events[${at}].wire.${field}`;
      assert.throws(
        () => TraceStore.import(input),
        (e: unknown) => e instanceof TraceImportError && re.test(e.message) && e.path === path,
        `case ${path}`,
      );
    }
    const notObject = structuredClone(exp);
    (notObject.events[at] as any).wire = 'msgs_ack';
    assert.throws(
      () => TraceStore.import(notObject),
      (e: unknown) => e instanceof TraceImportError && e.path === `events[${at}].wire` && /expected an object/.test(e.message),
    );
    const extra = structuredClone(exp);
    (extra.events[at]!.wire as any).html = '<img src=x>';
    assert.deepEqual(TraceStore.import(extra).get(ackOut.id)!.wire, ackOut.wire);
  } finally {
    await client.stop().catch(() => undefined);
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
