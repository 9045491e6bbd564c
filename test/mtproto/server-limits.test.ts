// The server's memory over time: idle sessions expire with what they kept (a moved clock, and the sweep timer),
// and a connection whose calls pile up stops being read until they are worked off.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TlReader, TlWriter } from '../../src/tl/binary';
import { MT } from '../../src/mtproto/service-messages';
import { sessionCount, sweepIdleSessions } from '../../src/mtproto/session-server';
import { closeAll, defaultHandler, preShareKey, rawClient, serverCodec, startServer, waitFor, type Handler } from './session-helpers';

after(closeAll);

const codec = serverCodec();
const nearestDc = (): Uint8Array => codec.encode({ _: 'help.getNearestDc' });
const getConfig = (): Uint8Array => codec.encode({ _: 'help.getConfig' });
const MIN = 60_000;

function ping(id: bigint): Uint8Array {
  const w = new TlWriter(12);
  w.uint(MT.ping);
  w.long(id);
  return w.finish();
}

/** new_session_created's unique_id. */
function uniqueIdOf(body: Uint8Array): bigint {
  const r = new TlReader(body, 4);
  r.long();
  return r.long();
}

test('a session idle for longer than sessionIdleMs is dropped with its kept answers; a shorter absence resumes it', { timeout: 30_000 }, async () => {
  let offset = 0;
  const server = await startServer(defaultHandler, { now: () => Date.now() + offset, sessionIdleMs: 30 * MIN });
  const key = preShareKey(server, 5n);
  const keys = server.keys;

  const a = await rawClient(server.port, key, 5n);
  const q = a.send(nearestDc());
  const [answer] = await a.waitFor('rpc_result', q);
  const [created] = await a.waitFor('new_session_created');
  a.close(); // the answer is never acknowledged: the session keeps it
  await waitFor(() => server.conns[0]!.closed);
  assert.equal(sessionCount(keys), 1);

  // 29 minutes later: the same session, its kept messages re-sent, no new announcement
  offset = 29 * MIN;
  const b = await rawClient(server.port, key, 5n, a.sessionId);
  b.clock.timeOffset = offset / 1000;
  b.send(ping(1n), { seqno: 4 });
  await b.waitFor('pong');
  const [again] = await b.waitFor('rpc_result', q);
  assert.equal(again!.msgId, answer!.msgId);
  // only the kept copy of the first announcement (same msg_id), not a new one
  assert.deepEqual(
    b.all('new_session_created').map((m) => m.msgId),
    [created!.msgId],
  );
  b.close();
  await waitFor(() => server.conns[1]!.closed);

  // 31 minutes after that: the session is gone; the same session_id starts a new one (new unique_id), nothing re-sent
  offset += 31 * MIN;
  const c = await rawClient(server.port, key, 5n, a.sessionId);
  c.clock.timeOffset = offset / 1000;
  c.send(ping(2n), { seqno: 0 });
  await c.waitFor('pong');
  const [fresh] = await c.waitFor('new_session_created');
  assert.notEqual(uniqueIdOf(fresh!.body), uniqueIdOf(created!.body));
  assert.equal(c.all('rpc_result', q).length, 0, 'the kept answer went with the session');
  assert.equal(sessionCount(keys), 1);
  c.close();
});

test("the sweep drops idle sessions without any new connection (sweepIdleSessions, and the unref'd timer)", { timeout: 30_000 }, async () => {
  let offset = 0;
  const server = await startServer(defaultHandler, { now: () => Date.now() + offset, sessionIdleMs: 1500 });
  const key = preShareKey(server, 5n);
  const clients = await Promise.all([0, 1, 2].map(() => rawClient(server.port, key, 5n)));
  for (const [i, c] of clients.entries()) c.send(ping(BigInt(10 + i)), { seqno: 0 });
  await Promise.all(clients.map((c) => c.waitFor('pong')));
  assert.equal(sessionCount(server.keys), 3);
  // a live connection keeps its session whatever the clock says
  offset = 10 * MIN;
  assert.equal(sweepIdleSessions(server.keys), 0);
  clients[0]!.close();
  await waitFor(() => server.conns[0]!.closed);
  assert.equal(sweepIdleSessions(server.keys), 1);
  assert.equal(sessionCount(server.keys), 2);
  // the timer: the other two, once their connections are gone (real time: the sweep runs every ~1 s here)
  offset = 0;
  clients[1]!.close();
  clients[2]!.close();
  await waitFor(() => sessionCount(server.keys) === 0, 10_000, 'the sweep timer');
});

test('calls piling up on one connection pause its reading until they are answered; every call is answered once', { timeout: 60_000 }, async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const handler: Handler = async (call) => {
    if (call.method._ === 'help.getConfig') {
      started++;
      await gate;
      throw { code: 400, message: 'GATE_OPENED' };
    }
    return defaultHandler(call);
  };
  const server = await startServer(handler);
  const key = preShareKey(server, 5n);
  const a = await rawClient(server.port, key, 5n);
  const total = 3000;
  const ids: bigint[] = [];
  for (let i = 0; i < total; i++) ids.push(a.send(getConfig()));
  await waitFor(() => server.conns.length === 1 && server.conns[0]!.holdingInput, 10_000, 'the server holding input');
  const whileHeld = started;
  assert.ok(whileHeld < total, `${whileHeld} of ${total} calls started while the server held its input`);
  release();
  await waitFor(() => a.all('rpc_result').length >= total, 40_000, 'every answer');
  assert.equal(started, total);
  assert.equal(new Set(a.all('rpc_result').map((m) => new TlReader(m.body, 4).long())).size, total);
  assert.equal(server.conns[0]!.holdingInput, false);
  a.close();
});
