// The per-DC session actor with createActor over a real DcPool and the real sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, waitFor } from 'xstate';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { DcPool, memoryKeyStore } from '../../src/dc/pool';
import { profileFromSandboxInfo, type Profile } from '../../src/dc/profile';
import { dcSessionMachine, sessionStateName } from '../../src/lifecycle/session-machine';
import { sessionEventOf } from '../../src/lifecycle/client-machine';

let sandbox: Sandbox;
let profile: Profile;
before(async () => {
  sandbox = await startSandbox({ basePort: 0, dataDir: mkdtempSync(join(tmpdir(), 'dclab-sess-')), ipv6: false, log: () => {} });
  profile = profileFromSandboxInfo(sandbox.info);
});
after(() => sandbox.stop());

function track(actor: { subscribe(fn: (s: { value: unknown }) => void): unknown }): string[] {
  const seen: string[] = [];
  actor.subscribe((s) => {
    const n = sessionStateName(s.value);
    if (seen[seen.length - 1] !== n) seen.push(n);
  });
  return seen;
}

test('CONNECT: disconnected → connecting → creatingKey → ready; PING reports latency; LOST → reconnecting → ready', async () => {
  let actorRef: ReturnType<typeof createActor<typeof dcSessionMachine>> | undefined;
  const pool = new DcPool({
    profile,
    keys: memoryKeyStore(),
    onEvent: (e) => {
      const ev = sessionEventOf(e);
      if (ev && actorRef) actorRef.send(ev);
    },
  });
  const actor = createActor(dcSessionMachine, { input: { dcId: 3, pool, maxBackoffMs: 100 } });
  actorRef = actor;
  const seen = track(actor);
  actor.start();
  assert.equal(sessionStateName(actor.getSnapshot().value), 'disconnected');
  actor.send({ type: 'CONNECT' });
  await waitFor(actor, (s) => s.matches('ready'), { timeout: 10_000 });
  assert.deepEqual(seen, ['disconnected', 'connecting', 'creatingKey', 'ready']);
  assert.equal(actor.getSnapshot().context.keyCreated, true);

  sandbox.setLatency(3, 40);
  actor.send({ type: 'PING' });
  await waitFor(actor, (s) => s.context.latencyMs !== undefined && s.matches({ ready: 'idle' }), { timeout: 10_000 });
  sandbox.setLatency(3, 0);
  assert.ok(actor.getSnapshot().context.latencyMs! >= 35, `latency ${actor.getSnapshot().context.latencyMs}`);

  // the connection drops (server side closes it): the actor reconnects with the stored key, no new handshake
  const s = await pool.get(3);
  s.close('simulated network loss');
  await waitFor(actor, (x) => x.matches('reconnecting'), { timeout: 5000 });
  await waitFor(actor, (x) => x.matches('ready'), { timeout: 10_000 });
  assert.equal(actor.getSnapshot().context.keyCreated, false, 'the reconnect reused the key');
  assert.ok(seen.includes('reconnecting'));
  assert.notEqual(await pool.get(3), s, 'a new connection');
  actor.stop();
  pool.close();
});

test('KEY_INVALID (−404) in ready: connecting again makes a new key', async () => {
  const keys = memoryKeyStore();
  let ref: ReturnType<typeof createActor<typeof dcSessionMachine>> | undefined;
  const pool = new DcPool({
    profile,
    keys,
    onEvent: (e) => {
      const ev = sessionEventOf(e);
      if (ev && ref) ref.send(ev);
    },
  });
  const actor = createActor(dcSessionMachine, { input: { dcId: 5, pool } });
  ref = actor;
  const seen = track(actor);
  actor.start();
  actor.send({ type: 'CONNECT' });
  await waitFor(actor, (s) => s.matches('ready'), { timeout: 10_000 });
  const firstKey = (await keys.loadKey(5))!.authKey;
  await pool.dropKey(5, 'test: −404');
  await waitFor(actor, (s) => s.matches('ready') && s.context.keyCreated && seen.filter((x) => x === 'creatingKey').length === 2, { timeout: 10_000 });
  const secondKey = (await keys.loadKey(5))!.authKey;
  assert.notDeepEqual(secondKey, firstKey);
  console.log(seen);
  assert.deepEqual(seen, ['disconnected', 'connecting', 'creatingKey', 'ready', 'connecting', 'creatingKey', 'ready']);
  actor.stop();
  pool.close();
});

test('a real −404 in ready (the DC forgot its keys: sandbox.dropAuthKeys): the next call drops the key, a new one is made, ready again', async () => {
  const keys = memoryKeyStore();
  let ref: ReturnType<typeof createActor<typeof dcSessionMachine>> | undefined;
  const pool = new DcPool({
    profile,
    keys,
    onEvent: (e) => {
      const ev = sessionEventOf(e);
      if (ev && ref) ref.send(ev);
    },
  });
  const actor = createActor(dcSessionMachine, { input: { dcId: 4, pool, maxBackoffMs: 100 } });
  ref = actor;
  const seen = track(actor);
  actor.start();
  actor.send({ type: 'CONNECT' });
  await waitFor(actor, (s) => s.matches('ready'), { timeout: 10_000 });
  const firstKey = (await keys.loadKey(4))!.authKey;
  assert.ok(sandbox.dropAuthKeys(4) >= 1);
  const near = await pool.invoke<{ this_dc: number }>(4, { _: 'help.getNearestDc' });
  assert.equal(near.this_dc, 4);
  await waitFor(actor, (s) => s.matches('ready') && s.context.keyCreated && seen.filter((x) => x === 'creatingKey').length === 2, { timeout: 10_000 });
  const secondKey = (await keys.loadKey(4))!.authKey;
  assert.notDeepEqual(secondKey, firstKey);
  assert.equal(actor.getSnapshot().context.keyCreated, true);
  // One −404 is not proof (DCs send it while restarting): the connection is lost (reconnecting), a fresh one probes
  // the key, and only the second −404 in a row drops it: then a new key is made.
  assert.deepEqual(seen, [
    'disconnected',
    'connecting',
    'creatingKey',
    'ready',
    'reconnecting',
    'connecting',
    'ready',
    'reconnecting',
    'connecting',
    'creatingKey',
    'ready',
  ]);
  assert.equal(actor.getSnapshot().context.attempts, 0);
  actor.stop();
  pool.close();
});

test('an unreachable DC: reconnecting with growing backoff, then disconnected with the error', async () => {
  const dead = { ...profile, dcs: profile.dcs.map((d) => (d.id === 1 ? { ...d, port: 1 } : d)) };
  const pool = new DcPool({ profile: dead });
  const actor = createActor(dcSessionMachine, { input: { dcId: 1, pool, maxAttempts: 3, maxBackoffMs: 400 } });
  const times: number[] = [];
  actor.subscribe((s) => {
    if (s.matches('reconnecting') && times.length < 10) times.push(Date.now());
  });
  actor.start();
  const t0 = Date.now();
  actor.send({ type: 'CONNECT' });
  const end = await waitFor(actor, (s) => s.matches('disconnected') && s.context.attempts > 0, { timeout: 10_000 });
  assert.equal(end.context.attempts, 3);
  assert.match(end.context.lastError ?? '', /DC 1/);
  // backoff 250 + 500 (capped at 400) → at least 650 ms before giving up
  assert.ok(Date.now() - t0 >= 600, `gave up after ${Date.now() - t0} ms`);
  actor.stop();
  pool.close();
});
