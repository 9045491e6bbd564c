// The error table (src/lifecycle/error-policy.ts) on its own, then each reaction carried out by ClientRuntime.call()
// against the real sandbox over loopback: the rpc_errors are injected with the sandbox's fault knob, and what the
// client did is read from its trace and from what the server received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultRule } from '../../src/sandbox';
import { RpcError } from '../../src/mtproto/errors';
import { LifecycleError } from '../../src/lifecycle/errors';
import {
  backoffMs,
  classifyRpcError,
  ERROR_TABLE,
  innermostMethod,
  isSafeToRepeat,
  repeatSafety,
  SERVER_RETRY,
  type ErrorReaction,
} from '../../src/lifecycle/error-policy';
import type { LifecycleEvent } from '../../src/lifecycle/runtime';
import type { DcClient } from '../../src/lifecycle/client';
import type { TlObject } from '../../src/tl/types';
import { startLab, chainOf, type Lab } from './helpers';

// ------------------------------------------------------------------ the table (pure)

test('table: every error of the API errors page and of the login page gets its reaction', () => {
  const cases: [number, string, ErrorReaction, number?][] = [
    [401, 'AUTH_KEY_UNREGISTERED', 'reauthorize'],
    [401, 'AUTH_KEY_INVALID', 'reauthorize'],
    [401, 'SESSION_EXPIRED', 'reauthorize'],
    [401, 'USER_DEACTIVATED', 'account-gone'],
    [401, 'USER_DEACTIVATED_BAN', 'account-gone'],
    [401, 'SESSION_REVOKED', 'account-gone'],
    [401, 'AUTH_KEY_PERM_EMPTY', 'temp-key-unbound'],
    // Telegram sends it as 401, the login page calls it 400: the text decides
    [401, 'SESSION_PASSWORD_NEEDED', 'password-needed'],
    [400, 'SESSION_PASSWORD_NEEDED', 'password-needed'],
    [406, 'AUTH_KEY_DUPLICATED', 'new-key'],
    [400, 'CONNECTION_NOT_INITED', 're-init'],
    [400, 'CONNECTION_LAYER_INVALID', 're-init'],
    [303, 'PHONE_MIGRATE_4', 'redirect', 4],
    [303, 'FILE_MIGRATE_5', 'redirect', 5],
    [420, 'FLOOD_WAIT_5', 'wait', 5],
    [420, 'FLOOD_WAIT_0', 'wait', 0],
    [420, 'FLOOD_PREMIUM_WAIT_5', 'wait', 5],
    [420, 'FLOOD_TEST_PHONE_WAIT_7', 'wait', 7],
    [400, 'FLOOD_TEST_PHONE_WAIT_7', 'wait', 7],
    [420, 'SLOWMODE_WAIT_10', 'wait', 10],
    [420, '2FA_CONFIRM_WAIT_604800', 'wait', 604800],
    [400, 'TAKEOUT_INIT_DELAY_3600', 'wait', 3600],
    [420, 'SOME_NEW_LIMIT_12', 'wait', 12],
    [500, 'INTERNAL', 'server-error'],
    [500, 'INTERNAL_SERVER_ERROR', 'server-error'],
    [500, 'RPC_CALL_FAIL', 'server-error'],
    [400, 'MSG_WAIT_TIMEOUT', 'server-error'],
    [500, 'SOMETHING_BROKE', 'server-error'],
    [-503, 'Timeout', 'server-error'],
    [502, 'BAD_GATEWAY', 'server-error'],
    [400, 'PHONE_NUMBER_INVALID', 'fail'],
    [400, 'PHONE_CODE_EXPIRED', 'fail'],
    [400, 'PHONE_CODE_INVALID', 'fail'],
    [400, 'PASSWORD_HASH_INVALID', 'fail'],
    [400, 'PEER_ID_INVALID', 'fail'],
    [403, 'CHAT_WRITE_FORBIDDEN', 'fail'],
    [406, 'UPDATE_APP_TO_LOGIN', 'fail'],
    // a number in the middle is not a wait, and a 400 ending in digits is not a wait either
    [400, 'FILE_PART_3_MISSING', 'fail'],
    [400, 'SOME_LIMIT_12', 'fail'],
    [303, 'UNKNOWN_MIGRATE_3', 'fail'],
  ];
  for (const [code, message, reaction, value] of cases) {
    const c = classifyRpcError(code, message);
    assert.equal(c.reaction, reaction, `${code} ${message} → ${c.rule.label}`);
    assert.equal(c.value, value, `${code} ${message}: value`);
  }
});

test('table: a string row matches its own text, labels are unique, the last row takes everything', () => {
  const labels = ERROR_TABLE.map((r) => r.label);
  assert.equal(new Set(labels).size, labels.length);
  for (const r of ERROR_TABLE) {
    if (typeof r.match === 'string') assert.equal(classifyRpcError(400, r.match).rule, r, r.label);
    assert.ok(r.why.length > 0, r.label);
  }
  assert.equal(classifyRpcError(418, '').reaction, 'server-error', 'a code the page does not list is a 500');
  assert.equal(classifyRpcError(400, 'ANYTHING').rule, ERROR_TABLE[ERROR_TABLE.length - 1]);
});

test('safe to repeat: read-only methods by verb or namespace; nothing that sends or changes', () => {
  for (const m of [
    'help.getConfig',
    'help.getNearestDc',
    'users.getUsers',
    'users.getFullUser',
    'messages.getHistory',
    'messages.search',
    'messages.searchGlobal',
    'upload.getFile',
    'upload.getCdnFile',
    'contacts.getContacts',
    'contacts.resolveUsername',
    'account.getPassword',
    'account.checkUsername',
    'updates.getDifference',
    'channels.getParticipants',
    'photos.getUserPhotos',
    'langpack.getLangPack',
  ]) {
    assert.equal(isSafeToRepeat(m), true, m);
  }
  for (const m of [
    'auth.sendCode',
    'auth.signIn',
    'auth.logOut',
    'auth.checkPassword',
    'messages.sendMessage',
    'messages.sendMedia',
    'messages.getBotCallbackAnswer',
    'messages.getMessagesViews',
    'help.saveAppLog',
    'help.acceptTermsOfService',
    'account.updateProfile',
    'upload.saveFilePart',
    'messages.gettysburg',
  ]) {
    assert.equal(isSafeToRepeat(m), false, m);
  }
  assert.match(repeatSafety('auth.checkPassword').why, /SRP/);
  // a wrapped call is judged by the call inside
  assert.equal(innermostMethod({ _: 'invokeWithLayer', query: { _: 'initConnection', query: { _: 'users.getUsers' } } }), 'users.getUsers');
  assert.equal(innermostMethod({ _: 'messages.sendMessage' }), 'messages.sendMessage');
});

test('backoff: 0.5 s, 1 s, 2 s, each within ± the jitter', () => {
  assert.equal(SERVER_RETRY.retries, 3);
  assert.deepEqual(
    [0, 1, 2].map((i) => backoffMs(i, () => 0.5)),
    [500, 1000, 2000],
  );
  for (let i = 0; i < 3; i++) {
    const d = 500 * 2 ** i;
    assert.equal(
      backoffMs(i, () => 0),
      Math.round(d * (1 - SERVER_RETRY.jitter)),
    );
    assert.equal(
      backoffMs(i, () => 1),
      Math.round(d * (1 + SERVER_RETRY.jitter)),
    );
  }
});

// ------------------------------------------------------------------ the reactions against the sandbox

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

const self = { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] };
let phoneSeq = 0;

/** A fresh user of DC2 (99966 2 YYYY), logged in; every test its own number. */
async function loggedIn(o: Parameters<Lab['client']>[0] = {}): Promise<{ client: DcClient; events: LifecycleEvent[]; phone: string }> {
  const phone = `99966250${String(++phoneSeq).padStart(2, '0')}`;
  lab.sandbox.registerUser(phone, 'Policy', `User ${phoneSeq}`);
  const { client, events } = lab.client(o);
  await client.start();
  await client.login({ phone, code: async () => lab.code(phone) });
  assert.equal(client.status().homeDc, 2);
  return { client, events, phone };
}

async function withFaults(rules: FaultRule[], fn: () => Promise<void>): Promise<void> {
  for (const r of rules) lab.sandbox.injectFault(r);
  try {
    await fn();
  } finally {
    lab.sandbox.clearFaults();
  }
}

/** The root call event of the last call of `method` made by the test (no parent). */
function lastRoot(events: LifecycleEvent[], method: string): LifecycleEvent {
  const root = [...events].reverse().find((e) => e.kind === 'call' && e.name === method && e.parentId === undefined);
  assert.ok(root, `a root call of ${method}`);
  return root;
}

/** How many times the client sent the root call (the first send and its repeats), from the trace. */
function sends(events: LifecycleEvent[], root: LifecycleEvent): number {
  return chainOf(events, root.id).filter((e) => e.kind === 'call' && e.name === root.name).length;
}

const handshakes = (): number => lab.serverWire.filter((e) => e.dir === 'in' && e.ctor === 'req_pq_multi').length;

for (const error of ['SESSION_REVOKED', 'USER_DEACTIVATED', 'USER_DEACTIVATED_BAN', 'AUTH_KEY_INVALID', 'SESSION_EXPIRED']) {
  test(`401 ${error} on the home DC → loggedOut with the reason, the call not repeated`, async () => {
    const { client, events } = await loggedIn();
    const before2 = lab.received('users.getUsers', 2);
    await withFaults([{ method: 'users.getUsers', dcId: 2, error, times: Infinity }], async () => {
      await assert.rejects(client.call(self), (e: unknown) => e instanceof LifecycleError && e.code === 'LOGGED_OUT' && e.message.includes(error));
    });
    assert.equal(lab.received('users.getUsers', 2) - before2, 1, 'the server saw the call once');
    const root = lastRoot(events, 'users.getUsers');
    assert.equal(sends(events, root), 1);
    const st = client.status();
    assert.equal(st.state, 'loggedOut');
    assert.match(st.loggedOutReason ?? '', new RegExp(error));
    assert.deepEqual(st.authorizedDcs, []);
    const out = chainOf(events, root.id).find((e) => e.kind === 'state' && e.name === 'logged out');
    assert.ok(out, 'a logged-out event in the chain of the call');
    assert.match(out.note ?? '', new RegExp(error));
  });
}

test('401 SESSION_REVOKED on another DC ends the authorization everywhere, with no new transfer', async () => {
  const { client, events } = await loggedIn();
  await client.call(self, { dcId: 4 });
  assert.deepEqual(client.status().authorizedDcs, [2, 4]);
  const exports = lab.received('auth.exportAuthorization');
  await withFaults([{ method: 'users.getUsers', dcId: 4, error: 'SESSION_REVOKED', times: Infinity }], async () => {
    await assert.rejects(
      client.call(self, { dcId: 4 }),
      (e: unknown) => e instanceof LifecycleError && e.code === 'LOGGED_OUT' && /SESSION_REVOKED/.test(e.message),
    );
  });
  assert.equal(lab.received('auth.exportAuthorization'), exports, 'no transfer after SESSION_REVOKED');
  assert.equal(sends(events, lastRoot(events, 'users.getUsers')), 1);
  assert.equal(client.status().state, 'loggedOut');
  assert.deepEqual(client.status().authorizedDcs, []);
});

test('401 AUTH_KEY_INVALID on another DC → that DC transferred again and the call repeated once', async () => {
  const { client, events } = await loggedIn();
  await client.call(self, { dcId: 5 });
  const exports = lab.received('auth.exportAuthorization');
  await withFaults([{ method: 'users.getUsers', dcId: 5, error: 'AUTH_KEY_INVALID', times: 1 }], async () => {
    const [me] = await client.call<TlObject[]>(self, { dcId: 5 });
    assert.equal(me!.first_name, 'Policy');
  });
  assert.equal(lab.received('auth.exportAuthorization') - exports, 1, 'one new transfer');
  const root = lastRoot(events, 'users.getUsers');
  const chain = chainOf(events, root.id);
  assert.equal(sends(events, root), 2);
  assert.ok(chain.some((e) => e.kind === 'error' && e.name === 'AUTH_KEY_INVALID' && /transferring again/.test(e.note ?? '')));
  assert.ok(chain.some((e) => e.kind === 'transfer' && e.targetDc === 5));
  assert.equal(client.status().state, 'authorized');
  // always invalid there: one new transfer, then the error reaches the caller and the login stays
  await withFaults([{ method: 'users.getUsers', dcId: 5, error: 'AUTH_KEY_INVALID', times: Infinity }], async () => {
    await assert.rejects(client.call(self, { dcId: 5 }), (e: unknown) => e instanceof RpcError && e.errorMessage === 'AUTH_KEY_INVALID');
  });
  assert.equal(sends(events, lastRoot(events, 'users.getUsers')), 2);
  assert.equal(client.status().state, 'authorized');
});

test('401 AUTH_KEY_PERM_EMPTY is not a logout: TEMP_KEY_UNBOUND says why, the login stays', async () => {
  const { client, events } = await loggedIn();
  await withFaults([{ method: 'users.getUsers', dcId: 2, error: 'AUTH_KEY_PERM_EMPTY' }], async () => {
    await assert.rejects(
      client.call(self),
      (e: unknown) => e instanceof LifecycleError && e.code === 'TEMP_KEY_UNBOUND' && /not a logout/.test(e.message) && /temporary keys/.test(e.message),
    );
  });
  const chain = chainOf(events, lastRoot(events, 'users.getUsers').id);
  assert.ok(chain.some((e) => e.kind === 'error' && e.name === 'AUTH_KEY_PERM_EMPTY' && /not a logout/.test(e.note ?? '')));
  assert.equal(
    chain.some((e) => e.name === 'logged out'),
    false,
  );
  assert.equal(client.status().state, 'authorized');
  assert.deepEqual(client.status().authorizedDcs, [2]);
});

test('SESSION_PASSWORD_NEEDED from auth.sendCode (a logout token) → the password step with no code; once authorized it is a plain error', async () => {
  const { client, events } = lab.client();
  await client.start();
  const phone = '9996628301';
  lab.sandbox.registerUser(phone, 'Token', 'User');
  let codesAsked = 0;
  let passwordsAsked = 0;
  await withFaults([{ method: 'auth.sendCode', error: 'SESSION_PASSWORD_NEEDED' }], async () => {
    await assert.rejects(
      client.login({
        phone,
        code: async () => {
          codesAsked += 1;
          return lab.code(phone);
        },
        password: async () => {
          passwordsAsked += 1;
          throw new Error('stop at the password step');
        },
      }),
      /stop at the password step/,
    );
  });
  assert.equal(codesAsked, 0);
  assert.equal(passwordsAsked, 1);
  const states = events.filter((e) => e.kind === 'state' && e.name.startsWith('client: ')).map((e) => e.to);
  assert.deepEqual(states.slice(states.indexOf('sendingCode')), ['sendingCode', 'awaitingPassword', 'unauthorized']);
  const root = lastRoot(events, 'auth.sendCode');
  assert.ok(chainOf(events, root.id).some((e) => e.kind === 'error' && e.name === 'SESSION_PASSWORD_NEEDED' && /password step/.test(e.note ?? '')));

  // authorized: the same answer to another call is just that call's error
  await client.login({ phone, code: async () => lab.code(phone) });
  await withFaults([{ method: 'users.getUsers', error: 'SESSION_PASSWORD_NEEDED' }], async () => {
    await assert.rejects(client.call(self), (e: unknown) => e instanceof RpcError && e.errorMessage === 'SESSION_PASSWORD_NEEDED');
  });
  assert.equal(client.status().state, 'authorized');
});

test('406 AUTH_KEY_DUPLICATED before login → the DC key is replaced and the call repeated once on the new key', async () => {
  const { client, events } = lab.client();
  await client.start();
  const hs = handshakes();
  await withFaults([{ method: 'help.getNearestDc', dcId: 2, error: 'AUTH_KEY_DUPLICATED', code: 406 }], async () => {
    const near = await client.call<TlObject>({ _: 'help.getNearestDc' });
    assert.equal(near.this_dc, 2);
  });
  assert.equal(handshakes() - hs, 1, 'one new key exchange on the server');
  const root = lastRoot(events, 'help.getNearestDc');
  const chain = chainOf(events, root.id);
  const names = chain.map((e) => `${e.kind}:${e.name}@${e.dcId}`);
  const dropped = names.indexOf('key:auth key dropped@2');
  const created = names.indexOf('key:auth key@2');
  assert.ok(dropped > 0 && created > dropped, names.join(', '));
  assert.equal(sends(events, root), 2);
});

test('406 AUTH_KEY_DUPLICATED on the home DC while logged in → new key and logged out with the reason', async () => {
  const { client, events } = await loggedIn();
  const hs = handshakes();
  await withFaults([{ method: 'users.getUsers', dcId: 2, error: 'AUTH_KEY_DUPLICATED', code: 406 }], async () => {
    await assert.rejects(client.call(self), (e: unknown) => e instanceof LifecycleError && e.code === 'LOGGED_OUT' && /AUTH_KEY_DUPLICATED/.test(e.message));
  });
  const st = client.status();
  assert.equal(st.state, 'loggedOut');
  assert.match(st.loggedOutReason ?? '', /AUTH_KEY_DUPLICATED/);
  const chain = chainOf(events, lastRoot(events, 'users.getUsers').id);
  assert.ok(chain.some((e) => e.kind === 'key' && e.name === 'auth key dropped' && e.dcId === 2));
  // the next call makes the new key
  await client.call({ _: 'help.getNearestDc' });
  assert.equal(handshakes() - hs, 1);
});

test('CONNECTION_NOT_INITED → initConnection sent again with the repeated call; CONNECTION_LAYER_INVALID repeated once only', async () => {
  const { client, events } = lab.client();
  await client.start();
  await client.call({ _: 'help.getNearestDc' });
  const wrapped = (): number =>
    lab.serverWire.filter((e) => e.dir === 'in' && e.ctor === 'help.getNearestDc' && e.dcId === 2 && /initConnection/.test(e.note ?? '')).length;
  const w0 = wrapped();
  const r0 = lab.received('help.getNearestDc', 2);
  await client.call({ _: 'help.getNearestDc' });
  assert.equal(wrapped(), w0, 'an initialized connection sends plain calls');
  await withFaults([{ method: 'help.getNearestDc', dcId: 2, error: 'CONNECTION_NOT_INITED' }], async () => {
    await client.call({ _: 'help.getNearestDc' });
  });
  assert.equal(lab.received('help.getNearestDc', 2) - r0, 3);
  assert.equal(wrapped() - w0, 1, 'the repeated call came in invokeWithLayer + initConnection');
  const root = lastRoot(events, 'help.getNearestDc');
  assert.ok(chainOf(events, root.id).some((e) => e.kind === 'error' && e.name === 'CONNECTION_NOT_INITED' && /initConnection again/.test(e.note ?? '')));
  assert.equal(sends(events, root), 2);

  await withFaults([{ method: 'help.getNearestDc', dcId: 2, error: 'CONNECTION_LAYER_INVALID', times: Infinity }], async () => {
    await assert.rejects(client.call({ _: 'help.getNearestDc' }), (e: unknown) => e instanceof RpcError && e.errorMessage === 'CONNECTION_LAYER_INVALID');
  });
  assert.equal(sends(events, lastRoot(events, 'help.getNearestDc')), 2);
});

test('FLOOD_PREMIUM_WAIT_1 and TAKEOUT_INIT_DELAY_1 are waited out with a countdown, then the call succeeds', async () => {
  const { client, events } = lab.client({ floodWaitThreshold: 5 });
  await client.start();
  for (const error of ['FLOOD_PREMIUM_WAIT_1', 'TAKEOUT_INIT_DELAY_1']) {
    await withFaults([{ method: 'help.getNearestDc', error }], async () => {
      const near = await client.call<TlObject>({ _: 'help.getNearestDc' });
      assert.equal(near.this_dc, 2);
    });
    const root = lastRoot(events, 'help.getNearestDc');
    const chain = chainOf(events, root.id);
    assert.deepEqual(
      chain.filter((e) => e.kind === 'flood-wait').map((e) => `${e.name}:${e.waitSeconds}`),
      [`${error}:1`, `${error}:0`],
    );
    assert.equal(sends(events, root), 2);
  }
});

test('FLOOD_WAIT_0 is repeated once at once; a second FLOOD_WAIT_0 fails', async () => {
  const { client, events } = lab.client();
  await client.start();
  await withFaults([{ method: 'help.getNearestDc', error: 'FLOOD_WAIT_0' }], async () => {
    await client.call({ _: 'help.getNearestDc' });
  });
  let root = lastRoot(events, 'help.getNearestDc');
  assert.deepEqual(
    chainOf(events, root.id)
      .filter((e) => e.kind === 'flood-wait')
      .map((e) => e.waitSeconds),
    [0],
  );
  assert.equal(sends(events, root), 2);
  await withFaults([{ method: 'help.getNearestDc', error: 'FLOOD_WAIT_0', times: Infinity }], async () => {
    await assert.rejects(
      client.call({ _: 'help.getNearestDc' }),
      (e: unknown) => e instanceof LifecycleError && e.code === 'FLOOD_WAIT' && e.waitSeconds === 0,
    );
  });
  root = lastRoot(events, 'help.getNearestDc');
  assert.equal(sends(events, root), 2);
});

test('FLOOD_WAIT_99 over the threshold fails fast naming the error, X and the threshold', async () => {
  const { client, events } = lab.client();
  await client.start();
  const r0 = lab.received('help.getNearestDc');
  await withFaults([{ method: 'help.getNearestDc', error: 'FLOOD_WAIT_99', times: Infinity }], async () => {
    await assert.rejects(client.call({ _: 'help.getNearestDc' }), (e: unknown) => {
      assert.ok(e instanceof LifecycleError && e.code === 'FLOOD_WAIT', String(e));
      assert.equal(e.waitSeconds, 99);
      assert.match(e.message, /FLOOD_WAIT_99/);
      assert.match(e.message, /threshold 30 s/);
      return true;
    });
  });
  assert.equal(lab.received('help.getNearestDc') - r0, 1);
  const fw = chainOf(events, lastRoot(events, 'help.getNearestDc').id).filter((e) => e.kind === 'flood-wait');
  assert.equal(fw.length, 1);
  assert.match(fw[0]!.note ?? '', /threshold: failing/);
});

test('500 INTERNAL on users.getUsers (safe to repeat) is retried with backoff and succeeds', async () => {
  const { client, events } = await loggedIn();
  const r0 = lab.received('users.getUsers', 2);
  await withFaults([{ method: 'users.getUsers', dcId: 2, error: 'INTERNAL', times: 2 }], async () => {
    const [me] = await client.call<TlObject[]>(self);
    assert.equal(me!.first_name, 'Policy');
  });
  assert.equal(lab.received('users.getUsers', 2) - r0, 3);
  const root = lastRoot(events, 'users.getUsers');
  const notes = chainOf(events, root.id)
    .filter((e) => e.kind === 'error' && e.name === 'INTERNAL')
    .map((e) => e.note ?? '');
  assert.equal(notes.length, 2);
  assert.match(notes[0]!, /^retry 1\/3 in \d+ ms/);
  assert.match(notes[1]!, /^retry 2\/3 in \d+ ms/);
  assert.equal(sends(events, root), 3);
});

test('500 INTERNAL on messages.sendMessage (not safe to repeat) fails at once', async () => {
  const { client, events } = await loggedIn();
  const r0 = lab.received('messages.sendMessage', 2);
  await withFaults([{ method: 'messages.sendMessage', dcId: 2, error: 'INTERNAL', times: Infinity }], async () => {
    await assert.rejects(
      client.call({ _: 'messages.sendMessage', peer: { _: 'inputPeerSelf' }, message: 'once', random_id: 77n }),
      (e: unknown) => e instanceof RpcError && e.errorMessage === 'INTERNAL',
    );
  });
  assert.equal(lab.received('messages.sendMessage', 2) - r0, 1);
  const root = lastRoot(events, 'messages.sendMessage');
  assert.equal(sends(events, root), 1);
  const err = chainOf(events, root.id).find((e) => e.kind === 'error' && e.name === 'INTERNAL');
  assert.match(err?.note ?? '', /not retried: not safe to repeat/);
});

test('−503 (Timeout) on help.getConfig is retried; a server error that stays is given up after 3 retries', async () => {
  const { client, events } = lab.client();
  await client.start();
  const r0 = lab.received('help.getConfig', 2);
  await withFaults([{ method: 'help.getConfig', dcId: 2, error: 'TIMEOUT', code: -503 }], async () => {
    const config = await client.call<TlObject>({ _: 'help.getConfig' });
    assert.equal(config.this_dc, 2);
  });
  assert.equal(lab.received('help.getConfig', 2) - r0, 2);
  assert.equal(sends(events, lastRoot(events, 'help.getConfig')), 2);

  const r1 = lab.received('help.getNearestDc', 2);
  await withFaults([{ method: 'help.getNearestDc', dcId: 2, error: 'INTERNAL', times: Infinity }], async () => {
    await assert.rejects(client.call({ _: 'help.getNearestDc' }), (e: unknown) => e instanceof RpcError && e.errorMessage === 'INTERNAL');
  });
  assert.equal(lab.received('help.getNearestDc', 2) - r1, 1 + SERVER_RETRY.retries);
  const last = chainOf(events, lastRoot(events, 'help.getNearestDc').id)
    .filter((e) => e.kind === 'error')
    .pop();
  assert.match(last?.note ?? '', /3 retries spent/);
});

test('stop() during the pause before a server-error retry ends the call with STOPPED', async () => {
  const { client, events } = lab.client();
  await client.start();
  await withFaults([{ method: 'help.getNearestDc', dcId: 2, error: 'INTERNAL', times: Infinity }], async () => {
    const p = client.call({ _: 'help.getNearestDc' });
    while (!events.some((e) => e.kind === 'error' && e.name === 'INTERNAL' && /^retry 1\/3/.test(e.note ?? ''))) await new Promise((r) => setTimeout(r, 5));
    await client.stop();
    await assert.rejects(p, (e: unknown) => e instanceof LifecycleError && e.code === 'STOPPED');
  });
});

test('logOut sends auth.logOut to every authorized DC (a failure is noted, not thrown), then clears the login', async () => {
  const { client, events } = await loggedIn();
  await client.call(self, { dcId: 1 });
  await client.call(self, { dcId: 5 });
  assert.deepEqual(client.status().authorizedDcs, [1, 2, 5]);
  const before = [1, 2, 5].map((dc) => lab.received('auth.logOut', dc));
  await withFaults([{ method: 'auth.logOut', dcId: 5, error: 'INTERNAL' }], async () => {
    await client.logOut();
  });
  assert.deepEqual(
    [1, 2, 5].map((dc, i) => lab.received('auth.logOut', dc) - before[i]!),
    [1, 1, 1],
  );
  assert.equal(lab.received('auth.logOut', 3) + lab.received('auth.logOut', 4), 0);
  const st = client.status();
  assert.equal(st.state, 'loggedOut');
  assert.deepEqual(st.authorizedDcs, []);
  const root = [...events].reverse().find((e) => e.kind === 'state' && e.name === 'log out')!;
  const chain = chainOf(events, root.id);
  assert.deepEqual(
    chain.filter((e) => e.kind === 'call' && e.name === 'auth.logOut').map((e) => e.dcId),
    [1, 5, 2],
  );
  assert.ok(chain.some((e) => e.name === 'log out failed' && e.dcId === 5 && /INTERNAL/.test(e.note ?? '')));
  assert.match(chain.find((e) => e.name === 'logged out')?.note ?? '', /not confirmed by DC5/);
  // the server really ended the others: DC1's key is no longer logged in
  await assert.rejects(client.call(self, { dcId: 1 }), (e: unknown) => e instanceof RpcError && e.errorMessage === 'AUTH_KEY_UNREGISTERED');
});
