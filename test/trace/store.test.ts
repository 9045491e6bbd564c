import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceStore, TraceImportError, type TraceEvent } from '../../src/trace/index';

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
