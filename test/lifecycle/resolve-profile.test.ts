// resolveProfile: the one profile resolution of the CLI and the extension — credentials asked only where needed,
// a missing piece named with the front end's own way to supply it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveProfile, type ProfileSources } from '../../src/lifecycle';

function sources(over: Partial<ProfileSources> = {}): ProfileSources {
  return {
    sandbox: async () => assert.fail('the sandbox is not needed'),
    apiId: async () => 12345,
    apiHash: async () => '0123456789abcdef0123456789abcdef',
    customServer: async () => undefined,
    howToSet: { apiId: 'pass --api-id N', apiHash: 'pass the hash', customServer: 'define it' },
    ...over,
  };
}

test('test and production take the credentials and the transport; sandbox asks for none', async () => {
  const t = await resolveProfile('test', sources({ transport: 'abridged' }));
  assert.equal(t.name, 'test');
  assert.equal(t.apiId, 12345);
  assert.equal(t.transport, 'abridged');
  const p = await resolveProfile('production', sources());
  assert.equal(p.name, 'production');
  await assert.rejects(resolveProfile('sandbox', sources({ sandbox: async () => Promise.reject(new Error('no sandbox here')) })), /no sandbox here/);
});

test('a missing api_id, api_hash or custom server is named with how to supply it', async () => {
  await assert.rejects(
    resolveProfile('test', sources({ apiId: async () => undefined })),
    /the test profile needs an api_id \(from my\.telegram\.org\): pass --api-id N/,
  );
  await assert.rejects(resolveProfile('production', sources({ apiHash: async () => undefined })), /the production profile needs an api_hash: pass the hash/);
  await assert.rejects(resolveProfile('custom:lab', sources()), /profile custom:lab is not defined: define it/);
});
