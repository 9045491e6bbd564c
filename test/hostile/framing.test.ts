// Framing attacks on the first answer of the key exchange: a length the server never fills, one above the
// transport's limit, a truncated frame, a one-byte-per-100-ms drip, garbage after a valid frame. The client must
// fail within its deadline with a HandshakeError saying what happened, and close the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_MODES } from '../../src/sandbox/hostile';
import { runHostileMode } from '../../src/sandbox/hostile/run';
import { HandshakeError } from '../../src/mtproto/handshake-client';
import { assertHeld, sharedRsa } from './helpers';

const DEADLINE = 1200;

for (const mode of HOSTILE_MODES.filter((m) => m.group === 'framing')) {
  test(`hostile framing '${mode.name}' (${mode.wrong}): '${mode.check}' within the deadline`, { timeout: 10_000 }, async () => {
    const o = await runHostileMode(mode.name, { rsa: sharedRsa(), handshakeTimeoutMs: DEADLINE });
    assertHeld(o);
    assert.ok(o.thrown instanceof HandshakeError);
    assert.equal(o.thrown.reason, mode.check);
    // waiting modes end at the deadline, not later; the others at once
    const waits = mode.check === 'timeout';
    assert.ok(o.ms < DEADLINE + 500, `settled in ${o.ms} ms`);
    if (waits) assert.ok(o.ms >= DEADLINE - 50, `waited the deadline out (${o.ms} ms)`);
    else assert.ok(o.ms < 500, `failed at once (${o.ms} ms)`);
    assert.ok(o.events.some((e) => e.kind === 'check-failed' && (e.note ?? '').includes(mode.check)), 'a check-failed wire event names it');
    assert.equal(o.stats.encryptedPackets, 0);
    if (mode.name === 'frame-length-over-limit') assert.match(o.thrown.message, /exceeds the 16777216-byte limit/);
    if (mode.name === 'frame-drip') assert.ok(o.stats.log.length > 0);
  });
}
