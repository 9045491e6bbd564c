// Encrypted-session attacks after an honest key exchange (openSession + ping over loopback). A message failing
// msg_key, auth_key_id, session_id, msg_id parity, length or padding is dropped with a check-failed wire event
// naming the check and the connection is closed (the pending ping fails naming it); a msg_id too old, too new or
// already seen is ignored — the forged salt change it carries is never adopted — and the session goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORGED_SALT, HOSTILE_MODES, sealServerMessage, type SealFault } from '../../src/sandbox/hostile';
import { runHostileMode } from '../../src/sandbox/hostile/run';
import { SessionClosedError } from '../../src/mtproto/errors';
import { MessageCheckError, decryptMessage } from '../../src/mtproto/message-crypto';
import { randomBytes } from '../../src/crypto/random';
import { assertHeld, sharedRsa } from './helpers';

for (const mode of HOSTILE_MODES.filter((m) => m.group === 'session')) {
  test(`hostile session '${mode.name}' (${mode.wrong}): ${mode.expect === 'ignore' ? 'ignored' : 'refused'}, check '${mode.check}'`, {
    timeout: 10_000,
  }, async () => {
    const o = await runHostileMode(mode.name, { rsa: sharedRsa(), callTimeoutMs: 2000 });
    assertHeld(o);
    assert.equal(o.stats.keysAgreed, 1, 'an honest key exchange came first');
    assert.equal(o.stats.faultyAnswers, 1, 'the DC sent its one faulty answer');
    const failed = o.events.filter((e) => e.kind === 'check-failed');
    assert.equal(failed.length, 1, `one check-failed event (${failed.map((e) => e.note).join(' | ')})`);
    if (mode.expect === 'ignore') {
      assert.match(failed[0]!.note ?? '', /(s in the past|s in the future|duplicate msg_id): message ignored/);
      assert.equal(o.thrown, undefined);
    } else {
      assert.equal(failed[0]!.note, `check failed: ${mode.check}; message dropped, connection closed`);
      if (mode.name !== 'garbage-frame-in-session') {
        assert.ok(o.thrown instanceof SessionClosedError, `the ping failed with the session: ${String(o.thrown)}`);
        assert.match(o.thrown.message, new RegExp(`failed the ${mode.check} check`));
      }
    }
    assert.ok(o.ms < 3000, `settled in ${o.ms} ms`);
  });
}

test('sealServerMessage: honest packets decrypt; each fault trips exactly its own check', () => {
  const key = randomBytes(256);
  const fields = { salt: 5n, sessionId: 7n, msgId: (BigInt(Math.floor(Date.now() / 1000)) << 32n) | 1n, seqno: 1, body: randomBytes(20) };
  const back = decryptMessage(key, sealServerMessage(key, fields), 8);
  assert.deepEqual([...back.body], [...fields.body]);
  assert.equal(back.sessionId, 7n);
  const expected: Record<SealFault, string> = {
    msg_key: 'msg_key',
    auth_key_id: 'auth_key_id',
    'padding-short': 'padding',
    'padding-long': 'padding',
    'length-beyond-plaintext': 'data_length',
    'length-not-multiple-of-4': 'data_length',
  };
  for (const [fault, check] of Object.entries(expected) as [SealFault, string][]) {
    for (const len of [0, 4, 20, 100]) {
      const packet = sealServerMessage(key, { ...fields, body: randomBytes(len) }, fault);
      assert.throws(
        () => decryptMessage(key, packet, 8),
        (e: unknown) => e instanceof MessageCheckError && e.check === check,
        `${fault} with a ${len}-byte body`,
      );
    }
  }
  assert.notEqual(FORGED_SALT, 5n);
});
