// GramJS (layer 198) and mtcute (layer 227) against ONE sandbox at the same time: both log in concurrently through
// PHONE_MIGRATE_4, then read users.getUsers(self) concurrently. Each library can only decode the answers if the
// sandbox encodes them with the layer that connection asked for in invokeWithLayer, so this proves the two layers
// are served side by side from one world (same user id, phone and name seen through both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInteropSandbox, withTimeout, tails, explained, seededUser } from './helpers/sandbox';
import { makeGramjsClient, gramjsStart, gramjsGetSelf, rpcErrorText } from './helpers/gramjs';
import { makeMtcuteClient, mtcuteStart, mtcuteGetSelfRaw, mtcutePrimaryDc } from './helpers/mtcute';

test('GramJS (layer 198) and mtcute (layer 227) log in to the same sandbox at once and see the same user', { timeout: 60_000 }, async () => {
  const s = await startInteropSandbox();
  const g = makeGramjsClient(s, { transport: 'full' });
  let m: Awaited<ReturnType<typeof makeMtcuteClient>> | undefined;
  const diag = () => tails({ sandbox: s.log, gramjs: g.logs, mtcute: m?.logs ?? [] });
  try {
    m = await makeMtcuteClient(s, { transport: 'intermediate' });
    const mt = m;
    await explained(async () => {
      const phone = '9996641234';
      await withTimeout(
        Promise.all([gramjsStart(g, phone, '44444'), mtcuteStart(mt, phone, '44444')]),
        30_000,
        'concurrent GramJS + mtcute login',
        diag,
      );
      assert.deepEqual(g.authErrors.map((e) => rpcErrorText(e) ?? e.message), []);
      assert.equal(g.session.dcId, 4, 'GramJS migrated to DC 4');
      assert.equal((await mtcutePrimaryDc(mt)).id, 4, 'mtcute migrated to DC 4');
      assert.equal(g.dials[0]?.dcId, 2);
      assert.equal(mt.dials[0]?.dcId, 2);

      // Interleave the two layers' calls on the same DC.
      const rounds = 3;
      const results = await withTimeout(
        Promise.all(Array.from({ length: rounds }, () => Promise.all([gramjsGetSelf(g), mtcuteGetSelfRaw(mt)]))),
        20_000,
        'concurrent users.getUsers(self)',
        diag,
      );
      const seeded = seededUser(s, phone);
      assert.ok(s.sb.layers.includes(198) && s.sb.layers.includes(227), `sandbox serves layers 198 and 227 (serves ${s.sb.layers.join(', ')})`);
      for (const [gu, mu] of results) {
        assert.equal(mu._, 'user');
        if (mu._ !== 'user') continue;
        assert.equal(gu.id.toString(), seeded.id, 'GramJS reads the seeded user id');
        assert.equal(String(mu.id), seeded.id, 'mtcute reads the seeded user id');
        assert.equal(gu.phone, phone);
        assert.equal(mu.phone, phone);
        assert.equal(gu.firstName, mu.firstName, 'same first name through both layers');
        assert.equal(gu.self, true);
        assert.equal(mu.self, true);
      }
    }, diag);
  } finally {
    await g.destroy();
    await m?.destroy();
    await s.stop();
  }
});
