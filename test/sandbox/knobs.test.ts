// Scenario knobs of the sandbox beyond faults: dropAuthKeys(dcId) (a DC that lost its key store → −404) and
// revokeAuthorizations(phone, dcId?) (terminated sessions → 401 AUTH_KEY_UNREGISTERED), over the World and over
// loopback with our own client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, type OpenedSession } from '../../src/mtproto/client';
import { RpcError, TransportError } from '../../src/mtproto/errors';
import { startSandbox, type Sandbox } from '../../src/sandbox/index';
import { getSelf, harness, login, rejectsRpc, sendCode, signIn } from './helpers';

const KEY = new Uint8Array(256).fill(7);

test('World.dropAuthKeys: the DC forgets its keys and their authorizations; other DCs keep theirs', async () => {
  const h = harness();
  h.world.keyStore(2).set(21n, KEY);
  h.world.keyStore(2).set(22n, KEY);
  h.world.keyStore(3).set(31n, KEY);
  await login(h, 2, 21n, '9996621234', '22222');
  h.world.authorize(3, 31n, h.world.userByPhone('9996621234')!.id, 'imported');
  assert.equal((await h.call(2, 21n, getSelf))[0].id, 7_000_021_234n);

  assert.equal(h.world.dropAuthKeys(2), 2);
  assert.equal(h.world.keyCount(2), 0);
  assert.equal(h.world.keyStore(2).get(21n), undefined);
  assert.equal(h.world.authorization(2, 21n), undefined);
  assert.equal(h.world.keyCount(3), 1);
  assert.ok(h.world.authorization(3, 31n), 'DC3 keeps its key and authorization');
  assert.ok(h.logs.some((l) => l.includes('DC2: 2 auth key(s) forgotten')));
  assert.equal(h.world.dropAuthKeys(2), 0, 'nothing left to forget');
  assert.throws(() => h.world.dropAuthKeys(9), /DC must be 1\.\.5/);
});

test('World.dropAuthKeys also ends a 2FA step of those keys', async () => {
  const h = harness();
  h.world.keyStore(3).set(39n, KEY);
  const sent = await h.call(3, 39n, sendCode('9996639234'));
  await rejectsRpc(h.call(3, 39n, signIn('9996639234', sent.phone_code_hash, '33333')), 401, 'SESSION_PASSWORD_NEEDED');
  assert.equal(h.world.passwordPendingUser(3, 39n), 7_000_039_234n);
  h.world.dropAuthKeys(3);
  assert.equal(h.world.passwordPendingUser(3, 39n), undefined);
});

test('World.revokeAuthorizations: every DC, or only one; the keys stay known and answer AUTH_KEY_UNREGISTERED', async () => {
  const h = harness();
  await login(h, 1, 11n, '9996611234', '11111');
  const user = h.world.userByPhone('9996611234')!;
  h.world.authorize(4, 41n, user.id, 'imported');
  h.world.authorize(5, 51n, user.id, 'imported');

  assert.equal(h.world.revokeAuthorizations('9996611234', 4), 1);
  await rejectsRpc(h.call(4, 41n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
  assert.equal((await h.call(5, 51n, getSelf))[0].id, user.id, 'DC5 untouched');
  assert.equal((await h.call(1, 11n, getSelf))[0].id, user.id, 'DC1 untouched');

  assert.equal(h.world.revokeAuthorizations('+999 661 1234'), 2);
  await rejectsRpc(h.call(1, 11n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
  await rejectsRpc(h.call(5, 51n, getSelf), 401, 'AUTH_KEY_UNREGISTERED');
  assert.equal(h.world.revokeAuthorizations('9996611234'), 0);
  assert.throws(() => h.world.revokeAuthorizations('9990000000'), /no sandbox user/);
});

let dataDir: string;
let sb: Sandbox;
const opened: OpenedSession[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dclab-knobs-'));
  sb = await startSandbox({ basePort: 0, dataDir, ipv6: false, log: () => {} });
});
after(async () => {
  for (const o of opened) o.session.close();
  await sb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(dcId: number, authKey?: Uint8Array): Promise<OpenedSession> {
  const port = sb.info.dcs.find((d) => d.id === dcId)!.port;
  const o = await openSession({
    host: '127.0.0.1',
    port,
    dcId,
    transport: 'intermediate',
    rsaKeys: [sb.rsaKey],
    callTimeoutMs: 5000,
    ...(authKey ? { authKey } : {}),
  });
  opened.push(o);
  return o;
}

test('sandbox.dropAuthKeys over loopback: the live session and a reconnect with the old key get −404; a new key works', async () => {
  const dc2 = await open(2);
  const dc3 = await open(3);
  const sent: any = await dc2.session.invoke(sendCode('9996621234'));
  await dc2.session.invoke(signIn('9996621234', sent.phone_code_hash, '22222'));
  assert.equal(((await dc2.session.invoke(getSelf)) as any[])[0].id, 7_000_021_234n);

  assert.equal(sb.dropAuthKeys(2), 1, 'DC2 held one key');
  const codes: number[] = [];
  dc2.session.on('transport-error', (c: number) => codes.push(c));
  await assert.rejects(dc2.session.invoke({ _: 'help.getNearestDc' }), (e: unknown) => e instanceof TransportError && e.code === -404);
  assert.deepEqual(codes, [-404]);
  assert.equal(dc2.session.closed, true, 'the DC closed the connection');

  const again = await open(2, dc2.authKey);
  await assert.rejects(again.session.invoke({ _: 'help.getNearestDc' }), (e: unknown) => e instanceof TransportError && e.code === -404);

  // a new key on DC2 works, but it is not logged in: the authorization went with the old key
  const fresh = await open(2);
  assert.equal(fresh.created, true);
  assert.equal(((await fresh.session.invoke({ _: 'help.getNearestDc' })) as any).this_dc, 2);
  await assert.rejects(fresh.session.invoke(getSelf), (e: unknown) => e instanceof RpcError && e.errorMessage === 'AUTH_KEY_UNREGISTERED');
  // DC3's key is untouched
  assert.equal(((await dc3.session.invoke({ _: 'help.getNearestDc' })) as any).this_dc, 3);
});

test('sandbox.revokeAuthorizations over loopback: the next call on that key answers 401 AUTH_KEY_UNREGISTERED, the key still works', async () => {
  const dc5 = await open(5);
  const sent: any = await dc5.session.invoke(sendCode('9996651234'));
  await dc5.session.invoke(signIn('9996651234', sent.phone_code_hash, '55555'));
  assert.equal(((await dc5.session.invoke(getSelf)) as any[])[0].id, 7_000_051_234n);
  assert.equal(sb.revokeAuthorizations('9996651234', 5), 1);
  await assert.rejects(dc5.session.invoke(getSelf), (e: unknown) => e instanceof RpcError && e.code === 401 && e.errorMessage === 'AUTH_KEY_UNREGISTERED');
  assert.equal(((await dc5.session.invoke({ _: 'help.getNearestDc' })) as any).this_dc, 5);
});
