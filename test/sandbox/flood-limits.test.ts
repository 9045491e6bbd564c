// Login flood limits (per number: unused codes, wrong codes; per user: wrong 2FA passwords), the flood timer of the
// faults knob, and help.getConfig's expiry — over the World with a clock the test moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { srpProof } from '../../src/crypto/srp';
import { ConfigExpiry } from '../../src/sandbox/config';
import type { TlObject } from '../../src/tl/types';
import { harness, rejectsRpc, sendCode, signIn, type Harness } from './helpers';

const sent = async (h: Harness, dc: number, key: bigint, phone: string): Promise<string> =>
  ((await h.call(dc, key, sendCode(phone))) as TlObject).phone_code_hash as string;

test('auth.sendCode: the 6th unused code for a number within 60 s answers FLOOD_WAIT_X until the window frees', async () => {
  const h = harness();
  const phone = '9996621555';
  for (let i = 0; i < 5; i++) {
    await sent(h, 2, 1n, phone);
    h.clock.now += 1000;
  }
  await rejectsRpc(h.call(2, 1n, sendCode(phone)), 420, 'FLOOD_WAIT_55');
  h.clock.now += 30_000;
  await rejectsRpc(h.call(2, 1n, sendCode(phone)), 420, 'FLOOD_WAIT_25');
  await sent(h, 2, 1n, '9996621556'); // another number is not limited
  h.clock.now += 25_000;
  await sent(h, 2, 1n, phone); // the first code left the window
  await rejectsRpc(h.call(2, 1n, sendCode(phone)), 420, 'FLOOD_WAIT_1');
  assert.equal(h.world.inbox().filter((m) => m.phone === phone).length, 6, 'no code was delivered for a refused request');
});

test('logging in again and again never hits the limit: the right code clears the number', async () => {
  const h = harness();
  for (let i = 0; i < 20; i++) {
    const hash = await sent(h, 2, BigInt(100 + i), '9996621234');
    assert.equal(((await h.call(2, BigInt(100 + i), signIn('9996621234', hash, '22222'))) as TlObject)._, 'auth.authorization');
  }
});

test('auth.signIn: 5 wrong codes within 60 s, then FLOOD_WAIT_X even for the right code; after the window it works', async () => {
  const h = harness();
  const phone = '9996631234';
  const hash = await sent(h, 3, 7n, phone);
  for (let i = 0; i < 5; i++) await rejectsRpc(h.call(3, 7n, signIn(phone, hash, '12345')), 400, 'PHONE_CODE_INVALID');
  await rejectsRpc(h.call(3, 7n, signIn(phone, hash, '33333')), 420, 'FLOOD_WAIT_60');
  h.clock.now += 60_000;
  assert.equal(((await h.call(3, 7n, signIn(phone, hash, '33333'))) as TlObject)._, 'auth.authorization');
});

test('auth.checkPassword: 5 wrong passwords within 60 s, then FLOOD_WAIT_X; the right one after the window', async () => {
  const h = harness();
  const phone = '9996629234';
  const hash = await sent(h, 2, 9n, phone);
  await rejectsRpc(h.call(2, 9n, signIn(phone, hash, '22222')), 401, 'SESSION_PASSWORD_NEEDED');
  const check = async (password: string): Promise<unknown> => {
    const pw = (await h.call(2, 9n, { _: 'account.getPassword' })) as TlObject;
    const algo = pw.current_algo as TlObject;
    const proof = srpProof({
      password,
      salt1: algo.salt1 as Uint8Array,
      salt2: algo.salt2 as Uint8Array,
      g: algo.g as number,
      p: algo.p as Uint8Array,
      srpB: pw.srp_B as Uint8Array,
    });
    return h.call(2, 9n, { _: 'auth.checkPassword', password: { _: 'inputCheckPasswordSRP', srp_id: pw.srp_id, A: proof.A, M1: proof.M1 } });
  };
  for (let i = 0; i < 5; i++) {
    await rejectsRpc(check('wrong'), 400, 'PASSWORD_HASH_INVALID');
    h.clock.now += 2000;
  }
  await rejectsRpc(check('sandbox'), 420, 'FLOOD_WAIT_50');
  h.clock.now += 50_000;
  assert.equal(((await check('sandbox')) as TlObject)._, 'auth.authorization');
});

test('floodLimits: false turns the limits off', async () => {
  const h = harness({ floodLimits: false });
  for (let i = 0; i < 10; i++) await sent(h, 2, 1n, '9996621555');
  assert.equal(h.world.limits.describe().enabled, false);
});

test('a flood timer: FLOOD_WAIT_<seconds left, rounded up> until it runs out, per DC when asked', async () => {
  const h = harness();
  const nearest = { _: 'help.getNearestDc' };
  h.api.faults.addFlood('help.getNearestDc', 10, 4);
  await rejectsRpc(h.call(4, 1n, nearest), 420, 'FLOOD_WAIT_10');
  assert.equal(((await h.call(3, 1n, nearest)) as TlObject)._, 'nearestDc', 'other DCs are not flooded');
  h.clock.now += 2500;
  await rejectsRpc(h.call(4, 1n, nearest), 420, 'FLOOD_WAIT_8');
  assert.deepEqual(h.api.faults.list().floods, [{ method: 'help.getNearestDc', dcId: 4, secondsLeft: 8 }]);
  h.clock.now += 7500;
  assert.equal(((await h.call(4, 1n, nearest)) as TlObject)._, 'nearestDc');
  assert.deepEqual(h.api.faults.list().floods, []);
});

test('ConfigExpiry: one expires until it passes, then now + ttl; soon() pulls it in', () => {
  const clock = { now: 1_750_000_000_000 };
  const e = new ConfigExpiry(3600, () => clock.now);
  const first = e.current();
  assert.equal(first, 1_750_000_000 + 3600);
  clock.now += 600_000;
  assert.equal(e.current(), first, 'the same config version');
  assert.equal(e.soon(), 1_750_000_600 + 30);
  clock.now += 31_000;
  assert.equal(e.current(), 1_750_000_631 + 3600);
  assert.throws(() => new ConfigExpiry(0), /positive number of seconds/);
});
