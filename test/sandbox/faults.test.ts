// The fault-injection knob: chosen calls answer chosen rpc_errors, spent after `times` uses, filtered by DC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeFor } from '../../src/sandbox/faults';
import { harness, login, rejectsRpc } from './helpers';

const nearest = { _: 'help.getNearestDc' };

test('errorCodeFor derives the class of an error token', () => {
  assert.equal(errorCodeFor('FLOOD_WAIT_3'), 420);
  assert.equal(errorCodeFor('PHONE_MIGRATE_3'), 303);
  assert.equal(errorCodeFor('STATS_MIGRATE_5'), 303);
  assert.equal(errorCodeFor('AUTH_KEY_UNREGISTERED'), 401);
  assert.equal(errorCodeFor('AUTH_BYTES_INVALID'), 400);
});

test('an injected fault hits matching calls the given number of times, then the method works again', async () => {
  const h = harness();
  h.api.faults.add({ method: 'help.getNearestDc', error: 'FLOOD_WAIT_3', times: 2 });
  await rejectsRpc(h.call(2, 11n, nearest), 420, 'FLOOD_WAIT_3');
  await rejectsRpc(h.call(2, 11n, nearest), 420, 'FLOOD_WAIT_3');
  const ok = await h.call(2, 11n, nearest);
  assert.equal(ok._, 'nearestDc');
});

test('a fault limited to one DC leaves the other DCs alone; clear() removes every rule', async () => {
  const h = harness();
  h.api.faults.add({ method: '*', error: 'PHONE_MIGRATE_3', dcId: 4, times: Infinity });
  assert.equal((await h.call(2, 11n, nearest))._, 'nearestDc');
  await rejectsRpc(h.call(4, 12n, nearest), 303, 'PHONE_MIGRATE_3');
  await rejectsRpc(h.call(4, 12n, nearest), 303, 'PHONE_MIGRATE_3');
  h.api.faults.clear();
  assert.equal((await h.call(4, 12n, nearest))._, 'nearestDc');
});

test('a fault token must be an uppercase rpc_error token', () => {
  const h = harness();
  assert.throws(() => h.api.faults.add({ method: '*', error: 'flood wait' }), /uppercase token/);
});

test('updates.getDifference answers an empty difference to an authorized user', async () => {
  const h = harness();
  const diff = { _: 'updates.getDifference', pts: 1, date: 0, qts: 0 };
  await rejectsRpc(h.call(2, 77n, diff), 401, 'AUTH_KEY_UNREGISTERED');
  await login(h, 2, 77n, '9996621234', '22222');
  const d = await h.call(2, 77n, diff);
  assert.equal(d._, 'updates.differenceEmpty');
});
