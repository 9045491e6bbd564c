// Framing attacks on the first answer of the key exchange: a length the server never fills, one above the
// transport's limit, a truncated frame, a one-byte-per-100-ms drip, garbage after a valid frame. The client must
// fail within its deadline with a HandshakeError saying what happened, and close the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_MODES, startHostileDc } from '../../src/sandbox/hostile';
import { runHostileMode } from '../../src/sandbox/hostile/run';
import { HandshakeError, createAuthKey } from '../../src/mtproto/handshake-client';
import { connectTcp } from '../../src/transport/tcp';
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
    assert.ok(o.ms < DEADLINE + 1000, `settled in ${o.ms} ms`);
    if (waits) assert.ok(o.ms >= DEADLINE - 50, `waited the deadline out (${o.ms} ms)`);
    else assert.ok(o.ms < 1000, `failed at once (${o.ms} ms)`);
    assert.ok(
      o.events.some((e) => e.kind === 'check-failed' && (e.note ?? '').includes(mode.check)),
      'a check-failed wire event names it',
    );
    assert.equal(o.stats.encryptedPackets, 0);
    if (mode.name === 'frame-length-over-limit') assert.match(o.thrown.message, /exceeds the 16777216-byte limit/);
    if (mode.name === 'frame-drip') assert.ok(o.stats.log.length > 0);
  });
}

// Known transport defect (src/transport/frames.ts, ByteQueue.reserve): a 4-byte header announcing 16 MiB makes the
// client allocate the 16 MiB at once, before a byte of it arrives. Kept as a todo until the transport's owner
// bounds the up-front reservation; it reports the numbers on every run.
test('a 16 MiB length header does not make the client allocate 16 MiB up front', {
  timeout: 10_000,
  todo: 'ByteQueue.reserve allocates the announced length on the header alone',
}, async () => {
  const dc = await startHostileDc({ mode: 'frame-length-16mib', rsa: sharedRsa() });
  try {
    const before = process.memoryUsage().arrayBuffers;
    const runs = [];
    for (let i = 0; i < 4; i++) {
      const link = await connectTcp({ host: dc.host, port: dc.port, transport: 'intermediate' });
      runs.push(createAuthKey(link, { dcId: dc.dcId, rsaKeys: [dc.rsa.publicKey], timeoutMs: 600 }).catch(() => undefined));
    }
    await new Promise((r) => setTimeout(r, 200));
    const grewMiB = (process.memoryUsage().arrayBuffers - before) / 2 ** 20;
    await Promise.all(runs);
    assert.ok(grewMiB < 16, `4 connections that got a 4-byte header each hold ${grewMiB.toFixed(0)} MiB`);
  } finally {
    await dc.close();
  }
});
