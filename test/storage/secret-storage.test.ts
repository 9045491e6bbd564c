import { test } from 'node:test';
import assert from 'node:assert/strict';
import Keyv from 'keyv';
import { createMemoryKeyv, ProfileStore, SecretStorageKeyvAdapter, type SecretStorageLike } from '../../src/storage/index';

/** An in-memory stand-in for vscode.SecretStorage (async like the real one). */
class FakeSecretStorage implements SecretStorageLike {
  readonly data = new Map<string, string>();
  calls = 0;
  async get(key: string): Promise<string | undefined> {
    this.calls++;
    await new Promise((r) => setImmediate(r));
    return this.data.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    if (typeof value !== 'string') throw new TypeError('SecretStorage stores strings');
    await new Promise((r) => setImmediate(r));
    this.data.set(key, value);
  }
  async delete(key: string): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.data.delete(key);
  }
}

test('SecretStorageKeyvAdapter: keyv get/set/delete through SecretStorage strings, with an index for clear()', async () => {
  const ss = new FakeSecretStorage();
  const kv = new Keyv({ store: new SecretStorageKeyvAdapter(ss), namespace: 'dclab', throwOnErrors: true });
  await kv.set('a', { n: 1 });
  await kv.set('b', 'text');
  assert.deepEqual(await kv.get('a'), { n: 1 });
  assert.equal(await kv.get('b'), 'text');
  assert.equal(typeof ss.data.get('dclab:a'), 'string');
  assert.deepEqual(JSON.parse(ss.data.get('dclab.keyv-index')!), ['dclab:a', 'dclab:b']);
  assert.equal(await kv.delete('a'), true);
  assert.equal(await kv.delete('a'), false);
  assert.deepEqual(JSON.parse(ss.data.get('dclab.keyv-index')!), ['dclab:b']);

  ss.data.set('unrelated', 'keep me'); // not ours: clear() must not touch it
  const other = new Keyv({ store: new SecretStorageKeyvAdapter(ss), namespace: 'other', throwOnErrors: true });
  await other.set('x', 1);
  await kv.clear();
  assert.equal(await kv.get('b'), undefined);
  assert.equal(ss.data.get('unrelated'), 'keep me');
  assert.equal(await other.get('x'), 1, 'another namespace survives clear()');
  assert.deepEqual(JSON.parse(ss.data.get('dclab.keyv-index')!), ['other:x']);
  await other.clear();
  assert.equal(ss.data.has('dclab.keyv-index'), false, 'an empty index is removed');
});

test('SecretStorageKeyvAdapter: concurrent sets keep a complete index', async () => {
  const ss = new FakeSecretStorage();
  const kv = new Keyv({ store: new SecretStorageKeyvAdapter(ss), namespace: 'dclab', throwOnErrors: true });
  await Promise.all(Array.from({ length: 20 }, (_, i) => kv.set(`k${i}`, i)));
  assert.equal(JSON.parse(ss.data.get('dclab.keyv-index')!).length, 20);
  await kv.clear();
  assert.deepEqual([...ss.data.keys()], []);
});

test('SecretStorageKeyvAdapter: the index key is reserved; a corrupt index is an error', async () => {
  const ss = new FakeSecretStorage();
  const adapter = new SecretStorageKeyvAdapter(ss, { indexKey: 'idx' });
  await assert.rejects(adapter.set('idx', 'x'), /reserved/);
  ss.data.set('idx', 'not json');
  await assert.rejects(adapter.set('k', '"v"'), /index "idx" is corrupt/);
});

test('ProfileStore over SecretStorage: auth key and api_hash go only to SecretStorage', async () => {
  const ss = new FakeSecretStorage();
  const secrets = new Keyv({ store: new SecretStorageKeyvAdapter(ss), namespace: 'dclab', throwOnErrors: true });
  const plain = createMemoryKeyv();
  const p = new ProfileStore({ plain, secrets }, 'sandbox');
  const authKey = new Uint8Array(256).map((_, i) => (i * 7 + 3) & 0xff);
  await p.setDcKey({ dcId: 2, authKey, serverSalt: 5n, timeOffset: 0, createdAt: 1 });
  await p.setApiHash('feedfacefeedfacefeedfacefeedface');
  const keyB64 = Buffer.from(authKey).toString('base64');
  const plainDump = JSON.stringify([...(plain.store as Map<string, unknown>).entries()]);
  assert.ok(!plainDump.includes(keyB64) && !plainDump.includes('feedface'));
  assert.ok([...ss.data.values()].some((v) => v.includes(keyB64)));
  assert.deepEqual((await p.getDcKey(2))?.authKey, authKey);
  assert.equal(await p.getApiHash(), 'feedfacefeedfacefeedfacefeedface');
  await p.clear();
  assert.deepEqual([...ss.data.keys()], [], 'clear() removes the secrets and the emptied index');
});
