// The client facade against the real sandbox: the redirect chain in the trace, NETWORK_MIGRATE + sign-up with the
// inbox code, 2FA, USER_MIGRATE, transfer with one shared export, AUTH_BYTES_INVALID retry, DC_ID_INVALID,
// STATS_MIGRATE, FLOOD_WAIT, AUTH_KEY_UNREGISTERED, redirect bounds, persistence restart, pre-warming, −404.
// Error paths are reached with the sandbox's own scenario knobs (injectFault, moveUser, revokeAuthorizations,
// dropAuthKeys), never by patching sandbox internals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultRule } from '../../src/sandbox';
import { randomBytes } from '../../src/crypto/random';
import { RpcError } from '../../src/mtproto/errors';
import { ProfileStore, memoryBackends } from '../../src/storage';
import { TraceStore, formatTraceTimeline } from '../../src/trace';
import { LifecycleError } from '../../src/lifecycle/errors';
import { memoryLifecycleStore, type LifecycleStore } from '../../src/lifecycle/store';
import type { TlObject } from '../../src/tl/types';
import { startLab, chainOf, SANDBOX_PASSWORD, type Lab } from './helpers';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

const self = { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] };

/** Runs fn with the sandbox's fault knob set to these rules (sandbox.injectFault), cleared afterwards. */
async function withFaults(rules: FaultRule[], fn: () => Promise<void>): Promise<void> {
  for (const r of rules) lab.sandbox.injectFault(r);
  try {
    await fn();
  } finally {
    lab.sandbox.clearFaults();
  }
}

test('PHONE_MIGRATE: the trace holds sendCode @DC2 → PHONE_MIGRATE_4 → connect DC4 → auth key DC4 (3 round trips) → sendCode @DC4 → sentCode', async () => {
  const trace = new TraceStore();
  const { client, events } = lab.client({ trace });
  await client.start();
  const phone = '9996641234';
  const user = await client.login({ phone, code: async () => lab.code(phone) });
  assert.equal(user.id, 7_000_041_234n);
  const st = client.status();
  assert.equal(st.state, 'authorized');
  assert.equal(st.homeDc, 4);
  assert.deepEqual(st.authorizedDcs, [4]);
  const root = events.find((e) => e.kind === 'call' && e.name === 'auth.sendCode' && e.parentId === undefined)!;
  const chain = chainOf(events, root.id).filter((e) => e.kind !== 'state' || e.name === 'connect');
  const steps = chain.map((e) => `${e.kind}:${e.name}@${e.dcId}${e.roundTrips ? `/${e.roundTrips}` : ''}`);
  assert.deepEqual(steps, [
    'call:auth.sendCode@2',
    'redirect:PHONE_MIGRATE_4@2',
    'state:connect@4',
    'key:auth key@4/3',
    'call:auth.sendCode@4',
    'result:auth.sentCode@4',
  ]);
  // the same chain is in the TraceStore and renders as one line
  const line = formatTraceTimeline(trace.chainOf(root.id), { details: false });
  // (machine transitions, which carry from/to, are part of the chain too; the essential steps come in this order)
  assert.match(
    line,
    /auth\.sendCode @DC2 → (.* → )?PHONE_MIGRATE_4 → (.* → )?connect DC4 → (.* → )?auth key DC4 \(3 round trips\) → (.* → )?auth\.sendCode @DC4 → (.* → )?auth\.sentCode/,
  );
  // no secret reached the trace: no login code, no api_hash value
  const json = trace.exportJson();
  // as a whole number: msg_ids (19 digits) may hold the code's digits by chance
  assert.doesNotMatch(json, new RegExp(`(?<![0-9])${lab.code(phone)}(?![0-9])`));
  assert.equal(json.includes('"api_hash":"sandbox"'), false);
  // every client transition is a state event
  const states = events.filter((e) => e.kind === 'state' && e.name.startsWith('client: ')).map((e) => e.to);
  assert.deepEqual(states, ['connecting', 'fetchingConfig', 'unauthorized', 'sendingCode', 'awaitingCode', 'signingIn', 'authorized']);
});

test('NETWORK_MIGRATE for a new number: code from the inbox, sign-up, then authorized on the nearest DC', async () => {
  const inspected = new Set<string>();
  const { client } = lab.client({
    firstDc: 5,
    inspect: (e) => {
      if (e.type === '@xstate.snapshot') inspected.add((e.actorRef as { id?: string }).id ?? '?');
    },
  });
  await client.start();
  const phone = `1555${String(Date.now()).slice(-7)}`;
  let asked = 0;
  const user = await client.login({
    phone,
    code: async () => lab.code(phone),
    signUp: async () => {
      asked += 1;
      return { firstName: 'New', lastName: 'User' };
    },
  });
  assert.equal(asked, 1);
  assert.equal(user.first_name, 'New');
  assert.equal(client.status().homeDc, 2, 'nearest DC of the sandbox');
  const sent = client.runtime;
  assert.equal(sent.homeDc, 2);
  assert.ok(lab.logs.some((l) => l.includes('NETWORK_MIGRATE_2')));
  // the caller's inspect sees the client actor and the session actors of both DCs
  for (const id of ['client', 'dc5', 'dc2']) assert.ok(inspected.has(id), `${id} in ${[...inspected].join(',')}`);
  assert.equal(client.status().dcs.find((d) => d.dcId === 5)!.session, 'ready');
});

test('2FA: SESSION_PASSWORD_NEEDED → awaitingPassword → SRP; a wrong password is answered again; no password in the trace', async () => {
  const trace = new TraceStore();
  const { client } = lab.client({ trace });
  await client.start();
  const phone = '9996639234';
  const tries: string[] = [];
  const user = await client.login({
    phone,
    code: async () => lab.code(phone),
    password: async () => {
      tries.push(tries.length === 0 ? 'wrong-password' : SANDBOX_PASSWORD);
      return tries[tries.length - 1]!;
    },
  });
  assert.deepEqual(tries, ['wrong-password', SANDBOX_PASSWORD]);
  assert.equal(user.id, 7_000_039_234n);
  assert.equal(client.status().homeDc, 3);
  const json = trace.exportJson();
  assert.equal(json.includes('wrong-password'), false);
  assert.ok(trace.events().some((e) => e.kind === 'error' && e.name === 'PASSWORD_HASH_INVALID'));
});

test('transfer: concurrent calls to a third DC share one export; later calls reuse it; AUTH_BYTES_INVALID is retried', async () => {
  const { client, events } = lab.client();
  await client.start();
  const phone = '9996611234';
  await client.login({ phone, code: async () => lab.code(phone) });
  assert.equal(client.status().homeDc, 1);
  const exportsBefore = lab.received('auth.exportAuthorization');
  const results = await Promise.all([1, 2, 3, 4].map(() => client.call<TlObject[]>(self, { dcId: 3 })));
  for (const r of results) assert.equal(r[0]!.id, 7_000_011_234n);
  assert.equal(lab.received('auth.exportAuthorization') - exportsBefore, 1, 'exactly one exportAuthorization for four concurrent calls');
  assert.equal(lab.received('auth.importAuthorization', 3), 1);
  await client.call(self, { dcId: 3 });
  assert.equal(lab.received('auth.exportAuthorization') - exportsBefore, 1, 'cached');
  assert.deepEqual(client.status().authorizedDcs, [1, 3]);
  const transfer = events.find((e) => e.kind === 'transfer' && e.targetDc === 3)!;
  assert.equal(transfer.dcId, 1);
  assert.equal(events.find((e) => e.id === transfer.parentId)!.name, 'users.getUsers');

  // AUTH_BYTES_INVALID once on DC5: a second export + import succeeds
  await withFaults([{ method: 'auth.importAuthorization', dcId: 5, error: 'AUTH_BYTES_INVALID', times: 1 }], async () => {
    const before5 = lab.received('auth.exportAuthorization');
    await client.call(self, { dcId: 5 });
    assert.equal(lab.received('auth.exportAuthorization') - before5, 2);
  });
  // always invalid: bounded (1 + 2 retries), then TRANSFER_FAILED
  await withFaults([{ method: 'auth.importAuthorization', error: 'AUTH_BYTES_INVALID', times: Infinity }], async () => {
    const before4 = lab.received('auth.exportAuthorization');
    await assert.rejects(
      client.call(self, { dcId: 4 }),
      (e: unknown) => e instanceof LifecycleError && e.code === 'TRANSFER_FAILED' && /AUTH_BYTES_INVALID/.test(e.message),
    );
    assert.equal(lab.received('auth.exportAuthorization') - before4, 3);
  });
});

test('DC_ID_INVALID from exportAuthorization is understood; STATS_MIGRATE routes one call to X without moving home', async () => {
  const base = lab.client();
  const profile = { ...base.client.runtime.profile, dcs: [...base.client.runtime.profile.dcs, { ...base.client.runtime.profile.dcs[0]!, id: 7 }] };
  await base.client.stop();
  const { client } = lab.client({ profile });
  await client.start();
  const phone = '9996621234';
  await client.login({ phone, code: async () => lab.code(phone) });
  await assert.rejects(client.call(self, { dcId: 7 }), (e: unknown) => e instanceof LifecycleError && e.code === 'DC_ID_INVALID' && /DC 7/.test(e.message));
  // exporting to the DC you are on: the server's DC_ID_INVALID reaches the caller of a raw call
  await assert.rejects(client.call({ _: 'auth.exportAuthorization', dc_id: 2 }), (e: unknown) => e instanceof RpcError && e.errorMessage === 'DC_ID_INVALID');

  // the home DC answers STATS_MIGRATE_5 to this call (fault knob); DC5 has no fault and serves it
  await withFaults([{ method: 'users.getFullUser', dcId: 2, error: 'STATS_MIGRATE_5', times: Infinity }], async () => {
    const [on2, on5] = [lab.received('users.getFullUser', 2), lab.received('users.getFullUser', 5)];
    const full = await client.call<TlObject>({ _: 'users.getFullUser', id: { _: 'inputUserSelf' } });
    assert.equal((full.users as TlObject[])[0]!.id, 7_000_021_234n);
    assert.equal(lab.received('users.getFullUser', 2) - on2, 1, 'asked at home once');
    assert.equal(lab.received('users.getFullUser', 5) - on5, 1, 'served by DC5');
    assert.equal(client.status().homeDc, 2, 'home unchanged');
    assert.ok(client.status().authorizedDcs.includes(5), 'DC5 was authorized by transfer first');
  });
});

test('USER_MIGRATE: export at the old home, import at X, query repeated, new home persisted', async () => {
  const store = memoryLifecycleStore();
  const { client, events } = lab.client({ store });
  await client.start();
  const phone = '9996651234';
  await client.login({ phone, code: async () => lab.code(phone) });
  assert.equal(client.status().homeDc, 5);
  lab.sandbox.moveUser(phone, 1);
  try {
    const [me] = await client.call<TlObject[]>(self);
    assert.equal(me!.id, 7_000_051_234n);
    assert.equal(client.status().homeDc, 1);
    assert.equal(await store.getHomeDc(), 1);
    assert.ok((await store.getAuthorizedDcs()).includes(1));
    const root = [...events].reverse().find((e) => e.kind === 'call' && e.name === 'users.getUsers' && e.parentId === undefined)!;
    const names = chainOf(events, root.id).map((e) => `${e.kind}:${e.name}`);
    for (const n of [
      'redirect:USER_MIGRATE_1',
      'transfer:transfer',
      'call:auth.exportAuthorization',
      'call:auth.importAuthorization',
      'state:home DC',
      'result:Vector(1)',
    ]) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
  } finally {
    lab.sandbox.moveUser(phone, 5);
  }
});

test('FLOOD_WAIT: under the threshold → countdown then success; over it → the call fails with the wait time', async () => {
  const { client, events } = lab.client({ floodWaitThreshold: 5 });
  await client.start();
  await withFaults([{ method: 'auth.sendCode', error: 'FLOOD_WAIT_1', times: 1 }], async () => {
    const phone = '9996621235';
    const t0 = Date.now();
    const out = await client.runtime.sendCode(phone);
    assert.ok(Date.now() - t0 >= 900, 'waited about a second');
    assert.equal(typeof out.phoneCodeHash, 'string');
    const countdown = events.filter((e) => e.kind === 'flood-wait').map((e) => e.waitSeconds);
    assert.deepEqual(countdown, [1, 0]);
  });
  await withFaults([{ method: 'auth.sendCode', error: 'FLOOD_WAIT_100', times: Infinity }], async () => {
    await assert.rejects(
      client.runtime.sendCode('9996621236'),
      (e: unknown) => e instanceof LifecycleError && e.code === 'FLOOD_WAIT' && e.waitSeconds === 100,
    );
  });
});

test('FLOOD_WAIT on exportAuthorization during a transfer is waited out too', async () => {
  const { client, events } = lab.client({ floodWaitThreshold: 5 });
  await client.start();
  const phone = '9996621241';
  lab.sandbox.registerUser(phone, 'Flood', 'Export');
  await client.login({ phone, code: async () => lab.code(phone) });
  await withFaults([{ method: 'auth.exportAuthorization', error: 'FLOOD_WAIT_1', times: 1 }], async () => {
    const [me] = await client.call<TlObject[]>(self, { dcId: 1 });
    assert.equal(me!.first_name, 'Flood');
  });
  const fw = events.filter((e) => e.kind === 'flood-wait');
  assert.deepEqual(
    fw.map((e) => e.waitSeconds),
    [1, 0],
  );
  assert.equal(events.find((e) => e.id === fw[0]!.parentId)!.name, 'auth.exportAuthorization');
});

test('stop() during a flood wait ends the wait with STOPPED', async () => {
  const { client, events } = lab.client({ floodWaitThreshold: 10 });
  await client.start();
  await withFaults([{ method: 'auth.sendCode', error: 'FLOOD_WAIT_5', times: Infinity }], async () => {
    const p = client.runtime.sendCode('9996621240');
    while (!events.some((e) => e.kind === 'flood-wait')) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await client.stop();
    await assert.rejects(p, (e: unknown) => e instanceof LifecycleError && e.code === 'STOPPED');
    assert.ok(Date.now() - t0 < 1000);
  });
});

test('redirects are bounded: a loop and more than maxRedirects hops end in errors naming the chain', async () => {
  const { client } = lab.client({ maxRedirects: 2 });
  await client.start();
  // DC2 sends auth.sendCode to DC4 and DC4 sends it back to DC2
  const loop: FaultRule[] = [
    { method: 'auth.sendCode', dcId: 2, error: 'PHONE_MIGRATE_4', times: Infinity },
    { method: 'auth.sendCode', dcId: 4, error: 'PHONE_MIGRATE_2', times: Infinity },
  ];
  await withFaults(loop, async () => {
    await assert.rejects(client.runtime.sendCode('9996621237'), (e: unknown) => {
      assert.ok(e instanceof LifecycleError && e.code === 'REDIRECT_LOOP', String(e));
      assert.deepEqual(e.chain, ['auth.sendCode @DC2', 'PHONE_MIGRATE_4 → DC4', 'PHONE_MIGRATE_2 → DC2']);
      assert.match(e.message, /auth\.sendCode @DC2 → PHONE_MIGRATE_4 → DC4 → PHONE_MIGRATE_2 → DC2/);
      return true;
    });
  });
  // every DC below 5 sends it one DC further: 2 → 3 → 4 → 5
  const hops: FaultRule[] = [1, 2, 3, 4].map((dcId) => ({ method: 'auth.sendCode', dcId, error: `PHONE_MIGRATE_${dcId + 1}`, times: Infinity }));
  await withFaults(hops, async () => {
    await assert.rejects(
      client.runtime.sendCode('9996621238'),
      (e: unknown) => e instanceof LifecycleError && e.code === 'TOO_MANY_REDIRECTS' && e.chain!.length === 4,
    );
  });
});

test('AUTH_KEY_UNREGISTERED on the home DC → loggedOut with the reason', async () => {
  const { client, store } = lab.client();
  await client.start();
  const phone = '9996621239';
  lab.sandbox.registerUser(phone, 'Revoked', 'User');
  await client.login({ phone, code: async () => lab.code(phone) });
  // the user's sessions on DC2 are terminated (revocation knob): the key stays known, its calls answer 401
  assert.equal(lab.sandbox.revokeAuthorizations(phone, 2), 1);
  await assert.rejects(client.call(self), (e: unknown) => e instanceof LifecycleError && e.code === 'LOGGED_OUT');
  const st = client.status();
  assert.equal(st.state, 'loggedOut');
  assert.match(st.loggedOutReason ?? '', /AUTH_KEY_UNREGISTERED/);
  assert.deepEqual(st.authorizedDcs, []);
  assert.deepEqual(await store.getAuthorizedDcs(), []);
});

test('persistence (src/storage ProfileStore): a restarted client resumes authorized on the same home DC with no key event', async () => {
  // src/storage's ProfileStore is a LifecycleStore as it is (checked by the compiler here)
  const store: LifecycleStore = new ProfileStore(memoryBackends(), 'sandbox');
  const first = lab.client({ store });
  await first.client.start();
  const phone = '9996631234';
  await first.client.login({ phone, code: async () => lab.code(phone) });
  await first.client.call(self, { dcId: 5 });
  await first.client.stop();
  assert.equal(await store.getHomeDc(), 3);
  assert.deepEqual(await store.listDcKeys(), [2, 3, 5]);

  const handshakesBefore = lab.serverWire.filter((e) => e.dir === 'in' && e.ctor === 'req_pq_multi').length;
  const second = lab.client({ store });
  const st = await second.client.start();
  assert.equal(st.state, 'authorized');
  assert.equal(st.homeDc, 3);
  assert.equal(st.userId, '7000031234');
  const [me] = await second.client.call<TlObject[]>(self);
  assert.equal(me!.id, 7_000_031_234n);
  await second.client.call(self, { dcId: 5 });
  assert.equal(second.events.filter((e) => e.kind === 'key').length, 0, 'no key event');
  assert.equal(lab.serverWire.filter((e) => e.dir === 'in' && e.ctor === 'req_pq_multi').length, handshakesBefore, 'no handshake on the server');
  assert.equal(lab.received('auth.exportAuthorization') >= 1, true);
  assert.deepEqual(second.client.status().authorizedDcs, [3, 5]);
});

test('pre-warming after getConfig creates keys for the other DCs; a later PHONE_MIGRATE then needs no handshake', async () => {
  const { client, events, store } = lab.client({ prewarm: true });
  await client.start();
  await client.prewarmed();
  assert.deepEqual(await store.listDcKeys(), [1, 2, 3, 4, 5]);
  assert.equal(events.filter((e) => e.kind === 'key').length, 5);
  const phone = '9996641235';
  lab.sandbox.registerUser(phone, 'Warm', 'User');
  const keysBefore = events.filter((e) => e.kind === 'key').length;
  await client.login({ phone, code: async () => lab.code(phone) });
  assert.equal(client.status().homeDc, 4);
  assert.equal(events.filter((e) => e.kind === 'key').length, keysBefore, 'no new key during the redirected login');
});

test('−404 at start: a stored key the DC does not know is dropped and replaced', async () => {
  const store = memoryLifecycleStore();
  await store.setDcKey({ dcId: 2, authKey: randomBytes(256), serverSalt: 5n, timeOffset: 0, createdAt: Date.now() });
  const { client, events } = lab.client({ store });
  const st = await client.start();
  assert.equal(st.state, 'unauthorized');
  assert.ok(events.some((e) => e.kind === 'key' && e.name === 'auth key dropped' && e.dcId === 2));
  assert.ok(events.some((e) => e.kind === 'key' && e.name === 'auth key' && e.dcId === 2));
});

test('−404 mid-session: the DC forgets its keys (sandbox.dropAuthKeys); the next call drops the key, makes a new one and is repeated', async () => {
  const { client, events } = lab.client();
  const st = await client.start();
  assert.equal(st.state, 'unauthorized');
  const keysBefore = events.filter((e) => e.kind === 'key' && e.name === 'auth key' && e.dcId === 2).length;
  assert.ok(lab.sandbox.dropAuthKeys(2) >= 1, 'DC2 held the client key');
  const near = await client.call<TlObject>({ _: 'help.getNearestDc' });
  assert.equal(near.this_dc, 2);
  assert.ok(events.some((e) => e.kind === 'key' && e.name === 'auth key dropped' && e.dcId === 2));
  assert.equal(events.filter((e) => e.kind === 'key' && e.name === 'auth key' && e.dcId === 2).length, keysBefore + 1, 'a new key on DC2');
});
