// routedCall against the real sandbox: the DC that answered and the hops come from the router itself — a real
// FILE_MIGRATE (a moved file), STATS_MIGRATE and PHONE_MIGRATE — and a failed call keeps its route; describeCallError
// words every kind of failure once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { locationFromJson } from '../../src/files';
import { CallFailure, describeCallError, formatHops, LifecycleError, routedCall } from '../../src/lifecycle';
import { RpcError } from '../../src/mtproto/errors';
import type { FaultRule } from '../../src/sandbox/faults';
import { TlJsonError } from '../../src/tl/json';
import type { TlObject } from '../../src/tl/types';
import { TraceStore } from '../../src/trace';
import { startLab, type Lab } from './helpers';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

async function withFaults(rules: FaultRule[], fn: () => Promise<void>): Promise<void> {
  for (const r of rules) lab.sandbox.injectFault(r);
  try {
    await fn();
  } finally {
    lab.sandbox.clearFaults();
  }
}

test('PHONE_MIGRATE before login: answered by DC4, hops DC2 → PHONE_MIGRATE_4 → DC4, traceId is the root call', async () => {
  const trace = new TraceStore();
  const { client } = lab.client({ trace });
  await client.start();
  const sendCode = { _: 'auth.sendCode', phone_number: '9996641234', api_id: 1, api_hash: '0123456789abcdef', settings: { _: 'codeSettings' } };
  const answer = await routedCall<TlObject>(client, { method: sendCode });
  assert.equal(answer.result._, 'auth.sentCode');
  assert.equal(answer.answeredDc, 4);
  assert.deepEqual(answer.hops, [{ dcId: 2, redirect: 'PHONE_MIGRATE_4' }, { dcId: 4 }]);
  assert.equal(formatHops(answer.hops), 'DC2 → PHONE_MIGRATE_4 → DC4');
  const root = trace.get(answer.traceId);
  assert.equal(root?.kind, 'call');
  assert.equal(root?.name, 'auth.sendCode');
  assert.equal(root?.parentId, undefined);
  assert.ok(answer.ms >= 0);
});

test('FILE_MIGRATE of a moved file and STATS_MIGRATE: the DC that answered is the one the router went to', async () => {
  const { client } = lab.client();
  await client.start();
  const phone = '9996621234';
  await client.login({ phone, code: async () => lab.code(phone) });

  const file = lab.sandbox.files().find((f) => f.key === 'small-dc1')!;
  lab.sandbox.moveFile(file.key, 3);
  const getFile = { _: 'upload.getFile', location: locationFromJson(file.location), offset: 0n, limit: 4096 };
  const part = await routedCall<TlObject>(client, { method: getFile, dcId: 1 });
  assert.equal(part.result._, 'upload.file');
  assert.equal(part.answeredDc, 3);
  assert.deepEqual(part.hops, [{ dcId: 1, redirect: 'FILE_MIGRATE_3' }, { dcId: 3 }]);
  assert.equal(client.status().homeDc, 2, 'a file redirect does not move home');

  await withFaults([{ method: 'users.getFullUser', dcId: 2, error: 'STATS_MIGRATE_5', times: Infinity }], async () => {
    const full = await routedCall(client, { method: { _: 'users.getFullUser', id: { _: 'inputUserSelf' } } });
    assert.equal(full.answeredDc, 5);
    assert.deepEqual(full.hops, [{ dcId: 2, redirect: 'STATS_MIGRATE_5' }, { dcId: 5 }]);
  });

  // no redirect: one hop, the DC asked
  const here = await routedCall(client, { method: { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, dcId: 4 });
  assert.equal(here.answeredDc, 4);
  assert.deepEqual(here.hops, [{ dcId: 4 }]);
});

test('a failed call is a CallFailure with its route; describeCallError names the code, the method and the DC', async () => {
  const trace = new TraceStore();
  const { client } = lab.client({ trace });
  await client.start();
  const phone = '9996651234';
  await client.login({ phone, code: async () => lab.code(phone) });
  const bad = { _: 'users.getFullUser', id: { _: 'inputUser', user_id: 1n, access_hash: 0n } };
  await withFaults([{ method: 'users.getFullUser', dcId: 5, error: 'STATS_MIGRATE_1', times: 1 }], async () => {
    const failure = await routedCall(client, { method: bad }).then(
      () => assert.fail('the call should fail'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof CallFailure);
    assert.ok(failure.cause instanceof RpcError);
    assert.deepEqual(failure.hops, [{ dcId: 5, redirect: 'STATS_MIGRATE_1' }, { dcId: 1 }]);
    assert.equal(failure.lastDc, 1);
    assert.equal(trace.get(failure.traceId!)?.name, 'users.getFullUser');
    assert.deepEqual(describeCallError(failure), { code: 'USER_ID_INVALID', message: '400 USER_ID_INVALID from users.getFullUser on DC1', dcId: 1 });
  });

  // a redirect loop: the lifecycle's error, with the DC it would have gone to
  await withFaults(
    [
      { method: 'help.getNearestDc', dcId: 5, error: 'STATS_MIGRATE_3', times: Infinity },
      { method: 'help.getNearestDc', dcId: 3, error: 'STATS_MIGRATE_5', times: Infinity },
    ],
    async () => {
      const e = await routedCall(client, { method: { _: 'help.getNearestDc' } }).then(
        () => assert.fail('the loop should fail'),
        (x: unknown) => x,
      );
      assert.ok(e instanceof CallFailure && e.cause instanceof LifecycleError);
      assert.deepEqual(e.hops, [
        { dcId: 5, redirect: 'STATS_MIGRATE_3' },
        { dcId: 3, redirect: 'STATS_MIGRATE_5' },
      ]);
      const d = describeCallError(e);
      assert.equal(d.code, 'REDIRECT_LOOP');
      assert.match(d.message, /redirect loop for help\.getNearestDc/);
    },
  );

  // aborted before it is sent: nothing reaches the server
  const before = lab.received('help.getConfig');
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(routedCall(client, { method: { _: 'help.getConfig' }, signal: abort.signal }), (e: unknown) => describeCallError(e).code === 'ABORTED');
  assert.equal(lab.received('help.getConfig'), before);
});

test('describeCallError: validation names the field and the expected type; other errors keep their code', () => {
  assert.deepEqual(describeCallError(new TlJsonError('id[0].user_id', 'long', 'not a number'), 'users.getUsers'), {
    code: 'VALIDATION',
    message: 'users.getUsers: id[0].user_id: not a number; expected long',
    path: 'id[0].user_id',
    expected: 'long',
  });
  assert.deepEqual(describeCallError(new LifecycleError('FLOOD_WAIT', 'FLOOD_WAIT_60 on DC2', { dcId: 2 })), {
    code: 'FLOOD_WAIT',
    message: 'FLOOD_WAIT_60 on DC2',
    dcId: 2,
  });
  assert.deepEqual(describeCallError(new Error('socket hang up')), { code: 'ERROR', message: 'socket hang up' });
});
