// Our real client (createAuthKey over loopback TCP) against the hostile DC, one test per key-exchange mode: it
// must fail with a HandshakeError naming the attacked check, leave a check-failed wire event, close the
// connection, never send an encrypted packet (with the key of the failed exchange or any other), and be quick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_MODES, nonSafePrime, startHostileDc } from '../../src/sandbox/hostile';
import { runHonestControl, runHostileMode } from '../../src/sandbox/hostile/run';
import { HandshakeError, createAuthKey } from '../../src/mtproto/handshake-client';
import { connectTcp } from '../../src/transport/tcp';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { assertHeld, sharedRsa } from './helpers';

test('control: against the same DC in honest mode the client makes a key and gets answers', { timeout: 10_000 }, async () => {
  const c = await runHonestControl({ rsa: sharedRsa() });
  assert.ok(c.ok, `the honest control failed: ${c.error}`);
  assert.equal(c.stats.keysAgreed, 1);
  assert.equal(c.stats.keysRefusable, 0);
  assert.ok(c.stats.encryptedPackets >= 2, 'ping and help.getNearestDc went out encrypted');
});

for (const mode of HOSTILE_MODES.filter((m) => m.group === 'handshake')) {
  test(`hostile handshake '${mode.name}' (${mode.wrong}): refused with check '${mode.check}'`, { timeout: 10_000 }, async () => {
    const o = await runHostileMode(mode.name, { rsa: sharedRsa(), handshakeTimeoutMs: 3000 });
    assertHeld(o);
    assert.ok(o.thrown instanceof HandshakeError, `a HandshakeError, got ${String(o.thrown)}`);
    assert.equal(o.thrown.check, mode.check);
    assert.match(o.thrown.message, new RegExp(mode.check.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const failed = o.events.filter((e) => e.kind === 'check-failed');
    assert.equal(failed.length, 1, 'one check-failed wire event');
    assert.ok(failed[0]!.note?.startsWith(`${mode.check}:`), `the event names the check: ${failed[0]!.note}`);
    assert.equal(o.stats.encryptedPackets, 0, 'nothing encrypted was sent');
    assert.ok(!o.events.some((e) => e.kind === 'key'), 'no key event: no key came out of it');
    assert.ok(o.ms < (mode.name === 'dh-prime-not-safe' ? 5000 : 3000), `settled in ${o.ms} ms`);
  });
}

// The defect behind 'pq-16-bytes': Brent's loop on a 128-bit pq held the event loop without bound. A timer that
// must fire while the client works proves the loop stays free.
test('a 16-byte pq is refused before factoring: the event loop is never held', { timeout: 10_000 }, async () => {
  const dc = await startHostileDc({ mode: 'pq-16-bytes', rsa: sharedRsa() });
  try {
    const link = await connectTcp({ host: dc.host, port: dc.port, transport: 'intermediate' });
    let ticks = 0;
    const t = setInterval(() => ticks++, 5);
    const started = Date.now();
    const err = await createAuthKey(link, { dcId: dc.dcId, rsaKeys: [dc.rsa.publicKey], timeoutMs: 3000 }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    await new Promise((r) => setTimeout(r, 30));
    clearInterval(t);
    assert.ok(err instanceof HandshakeError && err.check === 'pq' && /2\^63/.test(err.message), String(err));
    assert.ok(ms < 200, `refused in ${ms} ms`);
    assert.ok(ticks >= 3, 'timers kept running');
  } finally {
    await dc.close();
  }
});

test('dh_gen_retry for ever: the client follows at most 5 retries (6 attempts), each with a new g_b', { timeout: 10_000 }, async () => {
  const dc = await startHostileDc({ mode: 'dh-gen-retry-forever', rsa: sharedRsa() });
  try {
    const link = await connectTcp({ host: dc.host, port: dc.port, transport: 'intermediate' });
    const events: WireEvent[] = [];
    await assert.rejects(
      createAuthKey(link, { dcId: dc.dcId, rsaKeys: [dc.rsa.publicKey], onWire: (e) => events.push(e) }),
      (e: unknown) => e instanceof HandshakeError && e.check === 'dh_gen_retry',
    );
    const sets = events.filter((e) => e.dir === 'out' && e.ctor === 'set_client_DH_params');
    assert.equal(sets.length, 6);
    assert.equal(dc.stats.encryptedPackets, 0);
  } finally {
    await dc.close();
  }
});

// Proving a 2048-bit prime takes ≈100 ms: a DC sending a new (non-safe) prime on every exchange must not freeze
// everything else the process does meanwhile (the proofs run on the thread pool; test/crypto/dh-pq pins that down,
// this bound is loose because a loaded machine delays timers too).
test('a non-safe dh_prime is refused without holding the event loop while it is proven', { timeout: 15_000 }, async () => {
  const dc = await startHostileDc({ mode: 'dh-prime-not-safe', rsa: sharedRsa() });
  try {
    nonSafePrime(); // the DC's own prime generation is not what is measured
    const link = await connectTcp({ host: dc.host, port: dc.port, transport: 'intermediate' });
    // counted, not timed (a loaded machine delays timers too): the loop keeps turning while the prime is proven
    let ticks = 0;
    const t = setInterval(() => void ticks++, 1);
    const err = await createAuthKey(link, { dcId: dc.dcId, rsaKeys: [dc.rsa.publicKey], timeoutMs: 5000 }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    clearInterval(t);
    assert.ok(err instanceof HandshakeError && err.check === 'p-safe', String(err));
    assert.ok(ticks > 0, 'timers ran during the key exchange');
  } finally {
    await dc.close();
  }
});
