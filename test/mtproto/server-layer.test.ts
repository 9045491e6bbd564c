// The API layer belongs to the auth key, as on Telegram: a client that reconnects (GramJS does, without repeating
// invokeWithLayer) keeps getting answers in the layer it asked for; another key is not affected.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { API_LAYER } from '../../src/tl/bundled';
import { closeAll, INIT, preShareKey, rawClient, serverCodec, startServer, waitFor } from './session-helpers';

after(closeAll);

const codec = serverCodec();
const nearestDc = { _: 'help.getNearestDc' };

test('a new connection of the same key keeps the layer its invokeWithLayer set; another key has the default', { timeout: 20_000 }, async () => {
  const server = await startServer();
  const key = preShareKey(server, 5n);
  const a = await rawClient(server.port, key, 5n);
  const q1 = a.send(codec.encode({ _: 'invokeWithLayer', layer: 198, query: { _: 'initConnection', ...INIT, query: nearestDc } }));
  await a.waitFor('rpc_result', q1);
  assert.equal(server.calls[0]!.layer, 198);
  a.close();
  await waitFor(() => server.conns[0]!.closed);

  // a new connection and a new session: the first call is bare
  const b = await rawClient(server.port, key, 5n);
  const q2 = b.send(codec.encode(nearestDc));
  await b.waitFor('rpc_result', q2);
  assert.equal(server.calls[1]!.layer, 198, "the key's layer");
  assert.deepEqual(server.calls[1]!.wrappers, []);

  const other = preShareKey(server, 6n);
  const c = await rawClient(server.port, other, 6n);
  const q3 = c.send(codec.encode(nearestDc));
  await c.waitFor('rpc_result', q3);
  assert.equal(server.calls[2]!.layer, API_LAYER, 'another key: the default layer');
  b.close();
  c.close();
});
