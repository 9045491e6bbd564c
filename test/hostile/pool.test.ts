// The hostile DC against the client's upper layers: the −404 modes through a real DcPool (one −404 is probed with
// a fresh connection and the key kept; −404 on fresh connections in a row drops the key, bounded), key-exchange
// modes through DcPool and createDcClient (nothing reaches the key store, the trace shows the failed check), and
// a session mode through createDcClient (the trace shows every dropped message; the call fails, bounded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORGED_SALT, startHostileDc, type HostileModeName } from '../../src/sandbox/hostile';
import { connectTcp } from '../../src/transport/tcp';
import { createAuthKey } from '../../src/mtproto/handshake-client';
import { countingKeyStore, runHostileMode, type PoolEventLike } from '../../src/sandbox/hostile/run';
import { DcPool } from '../../src/dc/pool';
import { DcError } from '../../src/dc/errors';
import { TransportError } from '../../src/mtproto/errors';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { createDcClient } from '../../src/lifecycle/client';
import { memoryLifecycleStore } from '../../src/lifecycle/store';
import { TraceStore } from '../../src/trace/store';
import { assertHeld, hostileProfile, poolDriver, sharedRsa } from './helpers';

const count = (evs: PoolEventLike[], type: string): number => evs.filter((e) => e.type === type).length;

test("hostile transport 'transport-404-once': probed on a fresh connection, key kept, call answered", { timeout: 10_000 }, async () => {
  const o = await runHostileMode('transport-404-once', { rsa: sharedRsa(), pool: poolDriver });
  assertHeld(o);
  assert.equal(o.stats.transportErrors, 1);
  assert.equal(count(o.poolEvents, 'transport-error'), 1);
  assert.equal(count(o.poolEvents, 'key-created'), 1);
  assert.equal(count(o.poolEvents, 'key-dropped'), 0, 'a single −404 never drops the key');
  assert.ok(count(o.poolEvents, 'reconnecting') >= 1, 'a fresh connection probed the key');
  assert.equal(o.keysStored, 1);
  assert.equal(o.stats.keysAgreed, 1, 'no second key exchange');
  assert.ok(o.ms < 2000, `${o.ms} ms`);
});

test("hostile transport 'transport-404-always': the key goes after two −404s in a row, the call fails with −404, bounded", { timeout: 10_000 }, async () => {
  const o = await runHostileMode('transport-404-always', { rsa: sharedRsa(), pool: poolDriver });
  assertHeld(o);
  assert.ok(o.thrown instanceof TransportError && o.thrown.code === -404, String(o.thrown));
  // the pool makes one new key and repeats the call once: two keys, each dropped after two −404s
  assert.equal(count(o.poolEvents, 'key-created'), 2);
  assert.equal(count(o.poolEvents, 'key-dropped'), 2);
  assert.equal(o.stats.transportErrors, 4);
  for (const e of o.poolEvents.filter((x) => x.type === 'key-dropped')) assert.match(e.reason ?? '', /-404 on 2 fresh connections in a row/);
  assert.equal(o.keysStored, 0);
  assert.ok(o.ms < 3000, `${o.ms} ms`);
});

for (const mode of ['answer-hash', 'g-not-generator', 'new-nonce-hash1', 'dh-gen-fail', 'pq-16-bytes'] as HostileModeName[]) {
  test(`DcPool against '${mode}': the call fails naming the check, no key saved, nothing encrypted sent`, { timeout: 10_000 }, async () => {
    const dc = await startHostileDc({ mode, rsa: sharedRsa() });
    const keys = countingKeyStore();
    const events: PoolEventLike[] = [];
    const wire: WireEvent[] = [];
    const pool = new DcPool({
      profile: hostileProfile(dc.host, dc.port, dc.dcId, dc.rsa.publicKey),
      keys,
      onEvent: (e) => events.push(e),
      onWire: (e) => wire.push(e),
      handshakeTimeoutMs: 3000,
      callTimeoutMs: 3000,
    });
    try {
      const err = await pool.invoke(dc.dcId, { _: 'help.getNearestDc' }).then(
        () => assert.fail('the call succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DcError && err.code === 'KEY_FAILED', String(err));
      const check =
        mode === 'pq-16-bytes'
          ? 'pq'
          : mode === 'new-nonce-hash1'
            ? 'new_nonce_hash1'
            : mode === 'dh-gen-fail'
              ? 'dh_gen_fail'
              : mode === 'answer-hash'
                ? 'answer_hash'
                : 'g-residue';
      assert.match(err.message, new RegExp(`: ${check} \\(`));
      assert.equal(keys.saves, 0, 'no key saved');
      assert.equal(keys.size, 0);
      assert.equal(count(events, 'key-created'), 0);
      assert.equal(wire.filter((e) => e.kind === 'check-failed').length, 1);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(dc.stats.encryptedPackets, 0, 'nothing encrypted reached the DC');
      assert.equal(dc.stats.handshakes, 1, 'the key exchange is not retried in a loop');
    } finally {
      pool.close();
      await dc.close();
    }
  });
}

test("createDcClient against 'new-nonce-hash1': start fails naming the check, the trace shows it, the store holds no key", { timeout: 10_000 }, async () => {
  const dc = await startHostileDc({ mode: 'new-nonce-hash1', rsa: sharedRsa() });
  const trace = new TraceStore();
  const store = memoryLifecycleStore();
  const client = createDcClient({
    profile: hostileProfile(dc.host, dc.port, dc.dcId, dc.rsa.publicKey),
    store,
    trace,
    onWire: (w) => trace.addWire(w),
    callTimeoutMs: 3000,
  });
  try {
    await assert.rejects(client.start(), /new_nonce_hash1/);
    const events = trace.events();
    const failed = events.filter((e) => e.kind === 'state' && e.name === 'dh_gen_ok' && /check-failed/.test(e.note ?? ''));
    assert.equal(failed.length, 1, 'the failed check is in the trace, on the answer that failed it');
    assert.match(failed[0]!.note ?? '', /new_nonce_hash1: dh_gen_ok.new_nonce_hash1 does not match/);
    assert.ok(
      events.some((e) => e.kind === 'state' && e.name === 'client: failed'),
      'the client machine failed',
    );
    // the DC session actor retries the whole exchange with backoff (the guidelines allow it), at most 6 times
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(dc.stats.handshakes <= 7, `${dc.stats.handshakes} key exchanges`);
    assert.ok(!events.some((e) => e.kind === 'key'), 'no key event');
    assert.deepEqual(await store.listDcKeys(), []);
    assert.ok(dc.stats.keysRefusable >= 1, 'the DC believes a key agreed…');
    assert.equal(dc.stats.refusedKeyPackets, 0, '…and never sees it used');
  } finally {
    await client.stop();
    await dc.close();
  }
});

test("createDcClient against 'msg_key': every faulty answer is dropped with its check in the trace, the call fails, bounded", { timeout: 15_000 }, async () => {
  const dc = await startHostileDc({ mode: 'msg_key', rsa: sharedRsa() });
  const trace = new TraceStore();
  const store = memoryLifecycleStore();
  const client = createDcClient({
    profile: hostileProfile(dc.host, dc.port, dc.dcId, dc.rsa.publicKey),
    store,
    trace,
    onWire: (w) => trace.addWire(w),
    callTimeoutMs: 2500,
  });
  const started = Date.now();
  try {
    await assert.rejects(client.start());
    const ms = Date.now() - started;
    assert.ok(ms < 8000, `failed after ${ms} ms`);
    const drops = trace.events().filter((e) => e.kind === 'wire-in' && /check-failed/.test(e.note ?? '') && /check failed: msg_key/.test(e.note ?? ''));
    assert.ok(drops.length >= 1, 'the dropped message is in the trace');
    assert.equal(drops.length, dc.stats.faultyAnswers, 'every faulty answer was dropped (one per connection)');
    assert.ok(dc.stats.connections >= 2, 'the client reconnected after each drop');
    // the key itself was fine (honest exchange): it is kept
    assert.deepEqual(await store.listDcKeys(), [dc.dcId]);
  } finally {
    await client.stop();
    await dc.close();
  }
});

// With a stored key (every restart of the CLI or the extension) the offset is from an earlier run: the session
// sets its clock from the first server message (a new session_id: it cannot be a replay) and applies the window
// from then on (session-units: 'a stored offset 100 s off is corrected…'). Here the hostile message IS the first
// one, so it sets the clock: kept as a todo until the hostile DC can send it second.
for (const mode of ['msg_id-past', 'msg_id-future'] as HostileModeName[]) {
  test(`a resumed session (stored key) ignores '${mode}' too`, { timeout: 10_000, todo: 'the first message of a resumed session sets its clock' }, async () => {
    const dc = await startHostileDc({ mode, rsa: sharedRsa() });
    const keys = countingKeyStore();
    const link = await connectTcp({ host: dc.host, port: dc.port, transport: 'intermediate' });
    const made = await createAuthKey(link, { dcId: dc.dcId, rsaKeys: [dc.rsa.publicKey] });
    link.close();
    await keys.saveKey(dc.dcId, { authKey: made.authKey, serverSalt: made.serverSalt, timeOffset: made.timeOffset });
    const wire: WireEvent[] = [];
    const pool = new DcPool({ profile: hostileProfile(dc.host, dc.port, dc.dcId, dc.rsa.publicKey), keys, onWire: (e) => wire.push(e), callTimeoutMs: 3000 });
    try {
      await pool.invoke(dc.dcId, { _: 'help.getNearestDc' });
      const s = await pool.get(dc.dcId);
      assert.equal(dc.stats.faultyAnswers, 1);
      assert.notEqual(s.serverSalt, FORGED_SALT, 'the salt from a message outside the time window was adopted');
      assert.ok(wire.some((e) => e.kind === 'check-failed' && /message ignored/.test(e.note ?? '')));
    } finally {
      pool.close();
      await dc.close();
    }
  });
}
