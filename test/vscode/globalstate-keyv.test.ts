// The globalState keyv adapter against a fake Memento (no VS Code needed), and a ProfileStore on top of it with
// the SecretStorage adapter for secrets: plain values never reach the secret side and the other way round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Keyv from 'keyv';
import { GlobalStateKeyvAdapter, createGlobalStateKeyv, type MementoLike } from '../../src/vscode/globalstate-keyv';
import { ProfileStore, SecretStorageKeyvAdapter } from '../../src/storage';

class FakeMemento implements MementoLike {
  readonly map = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.map.keys()];
  }
  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    // VS Code stores JSON: a round trip shows what survives a restart
    if (value === undefined) this.map.delete(key);
    else this.map.set(key, JSON.parse(JSON.stringify(value)));
  }
}

class FakeSecrets {
  readonly map = new Map<string, string>();
  async get(k: string): Promise<string | undefined> {
    return this.map.get(k);
  }
  async store(k: string, v: string): Promise<void> {
    this.map.set(k, v);
  }
  async delete(k: string): Promise<void> {
    this.map.delete(k);
  }
}

test('get/set/delete/has through keyv, values survive a JSON round trip', async () => {
  const m = new FakeMemento();
  const kv = createGlobalStateKeyv(m);
  assert.equal(await kv.get('a'), undefined);
  await kv.set('a', { x: 1, s: 'two' });
  assert.deepEqual(await kv.get('a'), { x: 1, s: 'two' });
  assert.equal(await kv.has('a'), true);
  assert.ok([...m.map.keys()].every((k) => k.startsWith('dclab.keyv:dclab:')));
  assert.equal(await kv.delete('a'), true);
  assert.equal(await kv.get('a'), undefined);
  assert.equal(m.map.size, 0);
});

test('clear() removes only its own namespace and leaves other mementos keys alone', async () => {
  const m = new FakeMemento();
  await m.update('someone.else', 1);
  const a = createGlobalStateKeyv(m, 'dclab');
  const b = new Keyv({ store: new GlobalStateKeyvAdapter(m), namespace: 'other' });
  await a.set('k1', 1);
  await a.set('k2', 2);
  await b.set('k1', 3);
  await a.clear();
  assert.equal(await a.get('k1'), undefined);
  assert.equal(await b.get('k1'), 3);
  assert.equal(m.get('someone.else'), 1);
});

test('ProfileStore over globalState + SecretStorage: auth keys and api_hash only on the secret side', async () => {
  const m = new FakeMemento();
  const s = new FakeSecrets();
  const store = new ProfileStore(
    { plain: createGlobalStateKeyv(m), secrets: new Keyv({ store: new SecretStorageKeyvAdapter(s), namespace: 'dclab', throwOnErrors: true }) },
    'test',
  );
  const authKey = new Uint8Array(256).fill(7);
  await store.setDcKey({ dcId: 2, authKey, serverSalt: 5n, timeOffset: 1, createdAt: 1000 });
  await store.setApiHash('0123456789abcdef0123456789abcdef');
  await store.setHomeDc(2);
  await store.setApiId(12345);
  const rec = await store.getDcKey(2);
  assert.deepEqual(rec?.authKey, authKey);
  assert.equal(await store.getApiHash(), '0123456789abcdef0123456789abcdef');
  const plainText = JSON.stringify([...m.map.entries()]);
  assert.ok(!plainText.includes('0123456789abcdef0123456789abcdef'), 'api_hash in globalState');
  assert.ok(!plainText.includes(Buffer.from(authKey).toString('base64')), 'auth key in globalState');
  const secretText = JSON.stringify([...s.map.entries()]);
  assert.ok(!secretText.includes('homeDc') || !secretText.includes('12345'));
  // a new ProfileStore over the same mementos (a restart) sees everything
  const again = new ProfileStore(
    { plain: createGlobalStateKeyv(m), secrets: new Keyv({ store: new SecretStorageKeyvAdapter(s), namespace: 'dclab', throwOnErrors: true }) },
    'test',
  );
  assert.equal(await again.getHomeDc(), 2);
  assert.equal(await again.getApiId(), 12345);
  assert.deepEqual((await again.getDcKey(2))?.authKey, authKey);
});
