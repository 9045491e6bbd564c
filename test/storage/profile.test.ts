import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cliBackends, memoryBackends, parseProfileName, ProfileStore, type DcKeyRecord } from '../../src/storage/index';

const b64 = (u8: Uint8Array): string => Buffer.from(u8).toString('base64');

function keyRecord(dcId: number): DcKeyRecord {
  return { dcId, authKey: new Uint8Array(randomBytes(256)), serverSalt: -0x7123456789abcdefn, timeOffset: -3, createdAt: 1_700_000_000_000 + dcId };
}

test('ProfileStore: round trip across a restart (file backends), bigint and Uint8Array intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-profile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const k2 = keyRecord(2);
  const k4 = keyRecord(4);
  {
    const p = new ProfileStore(cliBackends(dir), 'sandbox');
    await p.setHomeDc(4);
    await p.setUserId(9_007_199_254_740_993n); // > 2^53: must not go through a number
    await p.setDcKey(k4);
    await p.setDcKey(k2);
    await p.setAuthorizedDcs([4]);
    await p.addAuthorizedDc(2);
    await p.setDcOptions([{ _: 'dcOption', id: 2, ip_address: '127.0.0.1', port: 443, ipv6: true }]);
    await p.setApiId(12345);
    await p.setApiHash('0123456789abcdef0123456789abcdef');
  }
  const p = new ProfileStore(cliBackends(dir), 'sandbox'); // "restarted process"
  assert.equal(await p.getHomeDc(), 4);
  assert.equal(await p.getUserId(), 9_007_199_254_740_993n);
  assert.deepEqual(await p.listDcKeys(), [2, 4]);
  assert.deepEqual(await p.getDcKey(4), k4);
  assert.deepEqual(await p.getDcKey(2), k2);
  assert.equal(await p.getDcKey(5), undefined);
  assert.deepEqual(await p.getAuthorizedDcs(), [2, 4]);
  assert.deepEqual((await p.getDcOptions())?.options, [{ _: 'dcOption', id: 2, ip_address: '127.0.0.1', port: 443, ipv6: true }]);
  assert.equal(await p.getApiId(), 12345);
  assert.equal(await p.getApiHash(), '0123456789abcdef0123456789abcdef');

  await p.updateDcSession(4, { serverSalt: 77n });
  const after = await p.getDcKey(4);
  assert.equal(after?.serverSalt, 77n);
  assert.deepEqual(after?.authKey, k4.authKey);
  assert.equal(after?.timeOffset, -3);

  const snap = await p.snapshot();
  assert.deepEqual(snap, {
    profile: 'sandbox',
    homeDc: 4,
    userId: 9_007_199_254_740_993n,
    dcKeys: [
      { dcId: 2, createdAt: k2.createdAt },
      { dcId: 4, createdAt: k4.createdAt },
    ],
    authorizedDcs: [2, 4],
    apiId: 12345,
    hasApiHash: true,
    hasDcOptions: true,
    hasLastTrace: false,
  });

  // Secrets land only in secrets.json.
  const plainText = readFileSync(join(dir, 'state.json'), 'utf8');
  const secretText = readFileSync(join(dir, 'secrets.json'), 'utf8');
  for (const k of [k2, k4]) {
    assert.ok(!plainText.includes(b64(k.authKey)), 'auth key must not be in state.json');
    assert.ok(!plainText.includes(b64(k.authKey).slice(0, 24)), 'not even a prefix of it');
    assert.ok(secretText.includes(b64(k.authKey)), 'auth key is in secrets.json');
  }
  assert.ok(!plainText.includes('0123456789abcdef0123456789abcdef'), 'api_hash must not be in state.json');
  assert.ok(secretText.includes('0123456789abcdef0123456789abcdef'));
  assert.ok(plainText.includes('9007199254740993'), 'user id stored as a decimal string');
  assert.ok(!secretText.includes('9007199254740993'), 'plain values stay out of secrets');
});

test('ProfileStore: profiles are isolated; clear() removes one profile from both backends', async () => {
  const be = memoryBackends();
  const a = new ProfileStore(be, 'sandbox');
  const b = new ProfileStore(be, 'custom:lab-1');
  await a.setHomeDc(2);
  await a.setDcKey(keyRecord(2));
  await a.setApiHash('aaaa');
  await a.setLastTrace({ events: [] });
  await b.setHomeDc(5);
  await b.setDcKey(keyRecord(5));
  await b.setApiHash('bbbb');
  assert.equal(await a.getHomeDc(), 2);
  assert.equal(await b.getHomeDc(), 5);
  assert.deepEqual(await a.listDcKeys(), [2]);

  await a.clear();
  assert.equal(await a.getHomeDc(), undefined);
  assert.equal(await a.getDcKey(2), undefined);
  assert.equal(await a.getApiHash(), undefined);
  assert.equal(await a.getLastTrace(), undefined);
  assert.deepEqual(await a.listDcKeys(), []);
  assert.equal((be.plain.store as Map<string, unknown>).size > 0, true);
  for (const k of [...(be.plain.store as Map<string, unknown>).keys(), ...(be.secrets.store as Map<string, unknown>).keys()]) {
    assert.ok(!k.includes('sandbox:'), `left behind: ${k}`);
  }
  assert.equal(await b.getHomeDc(), 5);
  assert.equal(await b.getApiHash(), 'bbbb');
  assert.ok(await b.getDcKey(5));
});

test("ProfileStore: deleteDcKey drops the key and the DC's authorization; concurrent adds do not lose DCs", async () => {
  const be = memoryBackends();
  const p = new ProfileStore(be, 'test');
  const q = new ProfileStore(be, 'test'); // a second instance of the same profile shares the queue
  await Promise.all([1, 2, 3, 4, 5].map((d) => (d % 2 ? p : q).setDcKey(keyRecord(d))));
  await Promise.all([1, 2, 3, 4, 5].map((d) => (d % 2 ? q : p).addAuthorizedDc(d)));
  assert.deepEqual(await p.listDcKeys(), [1, 2, 3, 4, 5]);
  assert.deepEqual(await p.getAuthorizedDcs(), [1, 2, 3, 4, 5]);
  await p.deleteDcKey(3);
  assert.equal(await p.getDcKey(3), undefined);
  assert.deepEqual(await p.listDcKeys(), [1, 2, 4, 5]);
  assert.deepEqual(await p.getAuthorizedDcs(), [1, 2, 4, 5]);
  await assert.rejects(p.updateDcSession(3, { timeOffset: 1 }), /no auth key for DC 3/);
});

test('ProfileStore: a key whose secret half is missing reads as absent', async () => {
  const be = memoryBackends();
  const p = new ProfileStore(be, 'production');
  await p.setDcKey(keyRecord(1));
  await be.secrets.delete('production:dc:1:authKey');
  assert.equal(await p.getDcKey(1), undefined);
});

test('ProfileStore: lastTrace is bounded to the last N events; non-JSON values are rejected', async () => {
  const p = new ProfileStore(memoryBackends(), 'sandbox');
  const events = Array.from({ length: 6000 }, (_, i) => ({ id: i + 1, kind: 'call', name: 'x', time: i }));
  await p.setLastTrace({ events, format: 'dclab-trace', version: 1 } as { events: unknown[] });
  const got = await p.getLastTrace<{ events: { id: number }[]; format: string }>();
  assert.equal(got?.events.length, 5000);
  assert.equal(got?.events[0]?.id, 1001);
  assert.equal(got?.format, 'dclab-trace');
  await p.setLastTrace({ events: events.slice(0, 10) }, 3);
  assert.deepEqual(
    (await p.getLastTrace<{ events: { id: number }[] }>())?.events.map((e) => e.id),
    [8, 9, 10],
  );
  await assert.rejects(p.setDcOptions([{ id: 1n }]), /dcOptions\[0\]\.id: bigint is not JSON-ready/);
  await assert.rejects(p.setDcOptions({ secret: new Uint8Array(2) }), /Uint8Array/);
});

test('profile names and input validation', async () => {
  assert.equal(parseProfileName('sandbox'), 'sandbox');
  assert.equal(parseProfileName('custom:my_dc.1'), 'custom:my_dc.1');
  assert.throws(() => parseProfileName('custom:'), /unknown profile/);
  assert.throws(() => parseProfileName('prod'), /unknown profile "prod"/);
  assert.throws(() => new ProfileStore(memoryBackends(), 'x' as never), /unknown profile/);
  const p = new ProfileStore(memoryBackends(), 'sandbox');
  await assert.rejects(p.setHomeDc(0), /invalid DC id/);
  await assert.rejects(p.setDcKey({ ...keyRecord(1), authKey: new Uint8Array() }), /authKey/);
  await assert.rejects(p.addAuthorizedDc(-1), /invalid DC id -1/);
});

test("ProfileStore satisfies the lifecycle's LifecycleStore seam (compile-time) and behaves like it", async () => {
  const { memoryLifecycleStore } = await import('../../src/lifecycle/store.js');
  type LifecycleStore = ReturnType<typeof memoryLifecycleStore>;
  const stores: LifecycleStore[] = [new ProfileStore(memoryBackends(), 'sandbox'), memoryLifecycleStore()];
  const results = [];
  for (const s of stores) {
    await s.setDcKey(keyRecord(2));
    await s.setAuthorizedDcs([2, 4]);
    await s.deleteDcKey(2);
    results.push({ keys: await s.listDcKeys(), auth: await s.getAuthorizedDcs() });
  }
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], { keys: [], auth: [4] });
});

test("ProfileStore: setAuthorizedDcs saves the caller's change, keeping DCs another store authorized meanwhile", async () => {
  const backends = memoryBackends();
  // two runtimes (two processes in real life): each read the list, then each saves its whole list
  const a = new ProfileStore(backends, 'sandbox');
  const b = new ProfileStore(backends, 'sandbox');
  await a.setAuthorizedDcs([2]);
  assert.deepEqual(await a.getAuthorizedDcs(), [2]);
  assert.deepEqual(await b.getAuthorizedDcs(), [2]);
  await a.setAuthorizedDcs([2, 3]);
  await b.setAuthorizedDcs([2, 4]);
  assert.deepEqual(await new ProfileStore(backends, 'sandbox').getAuthorizedDcs(), [2, 3, 4], 'b did not know DC 3 and must not drop it');
  // a DC the caller drops is dropped; one the other added stays
  await a.setAuthorizedDcs([2]);
  assert.deepEqual(await new ProfileStore(backends, 'sandbox').getAuthorizedDcs(), [2, 4]);
  // a log-out (empty list) drops everything the caller knew
  await b.setAuthorizedDcs([]);
  assert.deepEqual(await new ProfileStore(backends, 'sandbox').getAuthorizedDcs(), []);
  // without an earlier read the list replaces the stored one
  await new ProfileStore(backends, 'sandbox').setAuthorizedDcs([5]);
  assert.deepEqual(await new ProfileStore(backends, 'sandbox').getAuthorizedDcs(), [5]);
});

test('ProfileStore: a stored DC list that is not an array of ids is an error naming the entry, not a TypeError from deep inside', async () => {
  for (const [field, bad] of [
    ['dcKeys', {}],
    ['dcKeys', 5],
    ['authorizedDcs', 'two'],
    ['authorizedDcs', [2, 'x']],
  ] as const) {
    const backends = memoryBackends();
    await backends.plain.set(`sandbox:${field}`, bad);
    const p = new ProfileStore(backends, 'sandbox');
    await assert.rejects(p.snapshot(), new RegExp(`^TypeError: stored sandbox:${field}: expected an array of DC ids, got `));
  }
});
