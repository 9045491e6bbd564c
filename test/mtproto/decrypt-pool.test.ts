// The worker-thread decryption of big incoming messages (src/mtproto/decrypt-pool.ts): same fields as decrypting
// on the main thread, failed checks reported by name, packets owned or not, several messages in flight at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../src/crypto/random';
import { DecryptPool, sharedDecryptPool } from '../../src/mtproto/decrypt-pool';
import { decryptMessage, encryptMessage, MessageCheckError } from '../../src/mtproto/message-crypto';

function packet(authKey: Uint8Array, bodyLen: number, msgId: bigint): { pkt: Uint8Array; body: Uint8Array } {
  const body = randomBytes(bodyLen);
  return { pkt: encryptMessage(authKey, { salt: 11n, sessionId: 22n, msgId, seqno: 7, body }, 8), body };
}

test('the shared pool decrypts like the main thread, many messages in flight, owned and borrowed packets', async () => {
  const pool = sharedDecryptPool();
  assert.ok(pool, 'the worker script is found next to the module (tsx) or the bundle');
  const authKey = randomBytes(256);
  const inputs = Array.from({ length: 12 }, (_, i) => packet(authKey, 64 * 1024 + 16 * i, BigInt(1001 + 2 * i)));
  const results = await Promise.all(
    inputs.map(({ pkt }, i) => {
      // odd ones: a view into a bigger buffer (must be copied, not transferred away from its owner)
      if (i % 2 === 0) return pool.decrypt(authKey, pkt.slice(), 8);
      const host = new Uint8Array(pkt.length + 32);
      host.set(pkt, 16);
      const view = host.subarray(16, 16 + pkt.length);
      return pool.decrypt(authKey, view, 8).then((m) => {
        assert.equal(host.byteLength, pkt.length + 32, 'the borrowed buffer is not detached');
        assert.deepEqual(view, pkt, 'the borrowed bytes are left as they were');
        return m;
      });
    }),
  );
  results.forEach((m, i) => {
    const ref = decryptMessage(authKey, inputs[i]!.pkt, 8);
    assert.equal(m.msgId, BigInt(1001 + 2 * i));
    assert.equal(m.salt, ref.salt);
    assert.equal(m.sessionId, ref.sessionId);
    assert.equal(m.seqno, ref.seqno);
    assert.deepEqual(m.body, inputs[i]!.body);
  });
});

test('failed checks come back as MessageCheckError naming the check; the pool keeps working', async () => {
  const pool = sharedDecryptPool()!;
  const authKey = randomBytes(256);
  const { pkt } = packet(authKey, 70_000, 5n);
  const tampered = pkt.slice();
  tampered[100] ^= 1;
  await assert.rejects(pool.decrypt(authKey, tampered, 8), (e: unknown) => e instanceof MessageCheckError && e.check === 'msg_key');
  await assert.rejects(pool.decrypt(randomBytes(256), pkt.slice(), 8), (e: unknown) => e instanceof MessageCheckError && e.check === 'auth_key_id');
  await assert.rejects(pool.decrypt(authKey, pkt.slice(), 0), (e: unknown) => e instanceof MessageCheckError && e.check === 'msg_key', 'wrong direction');
  const ok = await pool.decrypt(authKey, pkt.slice(), 8);
  assert.equal(ok.msgId, 5n);
});

test('a closed pool rejects new work with a clear reason', async () => {
  const pool = new DecryptPool(1, require.resolve('../../src/mtproto/decrypt-worker.ts'));
  const authKey = randomBytes(256);
  const { pkt } = packet(authKey, 70_000, 9n);
  assert.equal((await pool.decrypt(authKey, pkt.slice(), 8)).msgId, 9n);
  await pool.close();
  assert.match(pool.unavailable ?? '', /closed/);
  await assert.rejects(pool.decrypt(authKey, pkt.slice(), 8), /decrypt pool unavailable: closed/);
});
