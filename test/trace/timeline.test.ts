import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTimeline, formatTraceTimeline, TraceStore, type WireTraceEvent } from '../../src/trace/index';

function loginTrace(): TraceStore {
  let now = 10_000;
  const s = new TraceStore({ now: () => (now += 10) });
  s.add({ kind: 'state', name: 'client', from: 'disconnected', to: 'connecting', dcId: 2 });
  const call = s.add({ kind: 'call', name: 'auth.sendCode', dcId: 2 });
  s.add({ kind: 'wire-out', name: 'auth.sendCode', dcId: 2, parentId: call.id });
  s.add({ kind: 'redirect', name: 'PHONE_MIGRATE_4', dcId: 2, targetDc: 4, parentId: call.id });
  s.add({ kind: 'call', name: 'help.getNearestDc', dcId: 3 }); // a concurrent, separate chain
  s.add({ kind: 'state', name: 'connect', dcId: 4, parentId: call.id });
  s.add({ kind: 'key', name: 'auth key', dcId: 4, roundTrips: 3, parentId: call.id, durationMs: 41 });
  const repeat = s.add({ kind: 'call', name: 'auth.sendCode', dcId: 4, parentId: call.id });
  s.add({ kind: 'result', name: 'auth.sentCode', dcId: 4, parentId: repeat.id });
  const t = s.add({ kind: 'transfer', name: 'transfer', dcId: 4, targetDc: 5 });
  s.add({ kind: 'call', name: 'auth.exportAuthorization', dcId: 4, parentId: t.id });
  s.add({ kind: 'call', name: 'auth.importAuthorization', dcId: 5, parentId: t.id });
  s.add({ kind: 'flood-wait', name: 'FLOOD_WAIT_2', waitSeconds: 2 });
  return s;
}

test('formatTraceTimeline: a call and its descendants read as one chain', () => {
  const text = formatTraceTimeline(loginTrace().events());
  const lines = text.split('\n');
  assert.ok(
    lines.some((l) =>
      l.includes('chain #2: auth.sendCode @DC2 → PHONE_MIGRATE_4 → connect DC4 → auth key DC4 (3 round trips) → auth.sendCode @DC4 → auth.sentCode'),
    ),
    text,
  );
  assert.ok(
    lines.some((l) => l.includes('transfer DC4 to DC5 → auth.exportAuthorization @DC4 → auth.importAuthorization @DC5')),
    text,
  );
  assert.ok(
    lines.some((l) => /\+\s+0ms\s+state\s+client DC2: disconnected ⇒ connecting/.test(l)),
    text,
  );
  assert.ok(
    lines.some((l) => /flood-wait\s+FLOOD_WAIT_2 \(2 s\)/.test(l)),
    text,
  );
  // the separate call is its own line, not part of the sendCode chain
  const chainLine = lines.find((l) => l.includes('chain #2'))!;
  assert.ok(!chainLine.includes('getNearestDc'));
  // details: the repeat's result is indented deeper than the repeat, which is deeper than the root call
  const indent = (needle: string): number => {
    const l = lines.find((x) => x.includes(needle))!;
    return l.length - l.trimStart().length;
  };
  assert.ok(indent('result     auth.sentCode') > indent('call       auth.sendCode @DC4'));
  assert.ok(indent('call       auth.sendCode @DC4') > indent('call       auth.sendCode @DC2'));
  assert.ok(text.includes('redirect   PHONE_MIGRATE_4  — to DC4'));
  assert.ok(!text.includes('wire-out'), 'wire events hidden by default');
  assert.ok(formatTraceTimeline(loginTrace().events(), { wire: true }).includes('→ auth.sendCode DC2'));
  const compact = formatTraceTimeline(loginTrace().events(), { details: false });
  assert.equal(compact.split('\n').length, 5, compact);
});

test('formatTraceTimeline: an orphan (parent evicted) becomes a root; empty input', () => {
  const s = loginTrace();
  const text = formatTraceTimeline(s.since(5));
  assert.ok(text.split('\n')[0]!.includes('connect DC4'), text);
  assert.equal(formatTraceTimeline([]), '(no events)');
});

test('formatTimeline (wire view) still renders WireTraceEvents', () => {
  const ev: WireTraceEvent[] = [
    { time: 100, dir: 'out', dcId: 2, connId: 'c1', kind: 'plain', msgId: '5', ctor: 'req_pq_multi', size: 40 },
    { time: 112, dir: 'in', dcId: 2, connId: 'c1', kind: 'plain', ctor: 'resPQ', size: 84, note: 'pq found' },
  ];
  const out = formatTimeline(ev).split('\n');
  assert.equal(out.length, 2);
  assert.match(out[0]!, /\+\s+0ms DC2 c1\s+→ plain\s+req_pq_multi\s+40B msg_id=5/);
  assert.match(out[1]!, /\+\s+12ms .*← plain\s+resPQ.*— pq found/);
});

test('formatTraceTimeline: a download folds its parts into one step; the redirect and transfer stay visible', () => {
  let now = 0;
  const s = new TraceStore({ now: () => (now += 5) });
  const dl = s.add({ kind: 'file', name: 'download', dcId: 2 });
  const first = s.add({ kind: 'file', name: 'part 0+1048576', dcId: 2, parentId: dl.id });
  s.add({ kind: 'redirect', name: 'FILE_MIGRATE_4', dcId: 2, targetDc: 4, parentId: first.id });
  s.add({ kind: 'transfer', name: 'transfer', dcId: 2, targetDc: 4, parentId: dl.id });
  for (let i = 0; i < 5; i++) {
    const part = s.add({ kind: 'file', name: `part ${i * 1048576}+1048576`, dcId: 4, parentId: dl.id });
    if (i === 2) s.add({ kind: 'error', name: 'FLOOD_WAIT_1', dcId: 4, parentId: part.id });
    s.add({ kind: 'result', name: 'upload.file', dcId: 4, parentId: part.id });
  }
  s.add({ kind: 'file', name: 'downloaded', dcId: 4, parentId: dl.id });
  const text = formatTraceTimeline(s.events());
  const chain = text.split('\n').find((l) => l.includes(`chain #${dl.id}`))!;
  assert.match(chain, /download DC2 → part 0\+1048576 DC2 → FILE_MIGRATE_4 → transfer DC2 to DC4 → 5 parts DC4 \(1 failed\) → downloaded DC4/);
  assert.equal((text.match(/part 3145728\+1048576/g) ?? []).length, 1, 'the details still list every part');
});
