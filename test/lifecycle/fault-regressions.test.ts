// What the seeded fault runner (npm run faults) found in the client, each pinned against the real sandbox:
// −429 during a new DC's key exchange, PHONE_MIGRATE on a logged-in call, and redirect chains that move home.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultRule } from '../../src/sandbox';
import { LifecycleError } from '../../src/lifecycle/errors';
import type { TlObject } from '../../src/tl/types';
import { locationFromJson } from '../../src/files/media';
import { startLab, type Lab } from './helpers';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

const self: TlObject = { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] };
let phones = 0;

async function loggedIn() {
  const phone = `999662${String(5000 + phones++)}`;
  lab.sandbox.registerUser(phone, 'Regression', 'User');
  const made = lab.client();
  await made.client.start();
  await made.client.login({ phone, code: async () => lab.code(phone) });
  return { ...made, phone };
}

async function withFaults(rules: FaultRule[], fn: () => Promise<void>): Promise<void> {
  for (const r of rules) lab.sandbox.injectFault(r);
  try {
    await fn();
  } finally {
    lab.sandbox.clearFaults();
  }
}

test('−429 on the first connection to a DC (during its key exchange): backs off, makes the key on a fresh connection, the call succeeds', async () => {
  const { client, events } = await loggedIn();
  lab.sandbox.injectTransportError(429, { dcId: 3, count: 2 });
  try {
    const users = await client.call<TlObject[]>(self, { dcId: 3 });
    assert.equal(users.length, 1);
  } finally {
    lab.sandbox.clearConnectionFaults();
  }
  assert.equal(events.filter((e) => e.name === 'transport error -429' && e.dcId === 3).length, 2);
  const backoffs = events.filter((e) => e.name === 'reconnect' && e.dcId === 3 && /after transport error -429/.test(e.note ?? ''));
  assert.equal(backoffs.length, 2);
  for (const b of backoffs) assert.ok(Number(/in (\d+) ms/.exec(b.note ?? '')?.[1]) >= 500, b.note);
  assert.equal(events.filter((e) => e.name === 'auth key' && e.dcId === 3).length, 1, 'one key made for DC3');
  assert.equal(client.status().state, 'authorized');
});

test('a key exchange that fails a check is not retried: KEY_FAILED at once', async () => {
  const { client } = await loggedIn();
  // −444 (invalid DC) is no flood: nothing to wait for
  lab.sandbox.injectTransportError(444, { dcId: 4, count: 1 });
  try {
    await assert.rejects(client.call(self, { dcId: 4 }), (e: unknown) => e instanceof Error && /auth key creation on DC 4 failed: .*-444/.test(e.message));
  } finally {
    lab.sandbox.clearConnectionFaults();
  }
  assert.equal((await client.call<TlObject[]>(self, { dcId: 4 })).length, 1);
});

test('a logged-in call answered PHONE_MIGRATE_X: home moves to X with the authorization, still logged in', async () => {
  const { client, events } = await loggedIn();
  await withFaults([{ method: 'users.getUsers', dcId: 2, error: 'PHONE_MIGRATE_3' }], async () => {
    assert.equal((await client.call<TlObject[]>(self)).length, 1);
  });
  assert.equal(client.runtime.homeDc, 3);
  assert.equal(client.status().state, 'authorized');
  assert.ok(
    events.some((e) => e.kind === 'transfer' && e.targetDc === 3),
    'the authorization was transferred to DC3 first',
  );
  assert.equal((await client.call<TlObject[]>(self)).length, 1);
});

test('a redirect loop whose first hop moved home (PHONE_MIGRATE, then USER_MIGRATE back): REDIRECT_LOOP, home restored, still logged in', async () => {
  const { client } = await loggedIn();
  await withFaults(
    [
      { method: 'users.getUsers', dcId: 2, error: 'PHONE_MIGRATE_4' },
      { method: 'users.getUsers', dcId: 4, error: 'USER_MIGRATE_2' },
    ],
    async () => {
      await assert.rejects(client.call(self), (e: unknown) => e instanceof LifecycleError && e.code === 'REDIRECT_LOOP');
    },
  );
  assert.equal(client.runtime.homeDc, 2);
  assert.equal((await client.call<TlObject[]>(self)).length, 1);
  assert.equal(client.status().state, 'authorized');
});

test('a chain that routed through a DC without the login (STATS_MIGRATE) and then moved home: the export comes from home', async () => {
  const { client } = await loggedIn();
  await withFaults(
    [
      { method: 'help.getNearestDc', dcId: 2, error: 'STATS_MIGRATE_4' },
      { method: 'help.getNearestDc', dcId: 4, error: 'PHONE_MIGRATE_5' },
    ],
    async () => {
      const near = await client.call<TlObject>({ _: 'help.getNearestDc' });
      assert.equal(near._, 'nearestDc');
    },
  );
  assert.equal(client.runtime.homeDc, 5);
  assert.equal((await client.call<TlObject[]>(self)).length, 1);
  assert.equal(client.status().state, 'authorized');
});

test('USER_MIGRATE_X answering a call meant for its DC (a file part there): home moves to X, the call still runs on its DC with a key authorized by transfer', async () => {
  const phone = `999663${String(5000 + phones++)}`;
  lab.sandbox.registerUser(phone, 'Regression', 'User');
  const { client, events } = lab.client({ firstDc: 3 });
  await client.start();
  await client.login({ phone, code: async () => lab.code(phone) });
  assert.equal(client.runtime.homeDc, 3);
  const file = lab.sandbox.files().find((f) => f.key === 'medium-dc3')!;
  const location = locationFromJson(file.location);
  const part = { _: 'upload.getFile', location, offset: 0n, limit: 4096 };
  lab.sandbox.moveUser(phone, 5);
  // two parts in flight on the old key: one replacement serves both
  const got = await Promise.all([client.call<TlObject>(part, { dcId: 3 }), client.call<TlObject>({ ...part, offset: 8192n }, { dcId: 3 })]);
  for (const g of got) {
    assert.equal(g._, 'upload.file');
    assert.equal((g.bytes as Uint8Array).length, 4096);
  }
  assert.equal(events.filter((e) => e.name === 'auth key dropped' && e.dcId === 3).length, 1, 'one key replaced on DC3');
  assert.equal(client.runtime.homeDc, 5);
  assert.equal(client.status().state, 'authorized');
  assert.deepEqual(client.status().authorizedDcs, [3, 5]);
  // a call without a DC goes to the new home; DC3 keeps serving the file
  assert.equal((await client.call<TlObject[]>(self)).length, 1);
  assert.equal((await client.call<TlObject>({ ...part, offset: 4096n }, { dcId: 3 }))._, 'upload.file');
});
