// GramJS (layer 198) and mtcute (layer 227) against ONE sandbox at the same time: both log in concurrently through
// PHONE_MIGRATE_4, then read users.getUsers(self) concurrently. Each library can only decode the answers if the
// sandbox encodes them with the layer that connection asked for in invokeWithLayer, so this proves the two layers
// are served side by side from one world (same user id, phone and name seen through both).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInteropSandbox, withTimeout, tails, explained, seededUser, type InteropSandbox } from './helpers/sandbox';
import { makeGramjsClient, gramjsStart, gramjsGetSelf, rpcErrorText, Api } from './helpers/gramjs';
import { makeMtcuteClient, mtcuteStart, mtcuteGetSelfRaw, mtcutePrimaryDc } from './helpers/mtcute';

let s: InteropSandbox;
before(async () => {
  s = await startInteropSandbox();
});
after(async () => {
  await s?.stop();
});

test('GramJS (layer 198) and mtcute (layer 227) log in to the same sandbox at once and see the same user', { timeout: 60_000 }, async () => {
  const g = makeGramjsClient(s, { transport: 'full' });
  let m: Awaited<ReturnType<typeof makeMtcuteClient>> | undefined;
  const diag = () => tails({ sandbox: s.log, gramjs: g.logs, mtcute: m?.logs ?? [] });
  try {
    m = await makeMtcuteClient(s, { transport: 'intermediate' });
    const mt = m;
    await explained(async () => {
      const phone = '9996641234';
      await withTimeout(Promise.all([gramjsStart(g, phone, '44444'), mtcuteStart(mt, phone, '44444')]), 30_000, 'concurrent GramJS + mtcute login', diag);
      assert.deepEqual(
        g.authErrors.map((e) => rpcErrorText(e) ?? e.message),
        [],
      );
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
  }
});

/** What a help.getConfig answer must say about the sandbox, whatever the layer it was encoded in. */
interface DcOpt {
  id: number;
  ipAddress: string;
  port: number;
  ipv6: boolean;
  mediaOnly: boolean;
}
function checkConfig(layer: string, thisDc: number, opts: DcOpt[], expectedThisDc: number): void {
  assert.equal(thisDc, expectedThisDc, `${layer}: config.this_dc`);
  for (const dc of s.sb.info.dcs) {
    assert.ok(
      opts.some((o) => o.id === dc.id && !o.ipv6 && !o.mediaOnly && o.ipAddress === dc.host && o.port === dc.port),
      `${layer}: an IPv4 dc_option for DC ${dc.id} at ${dc.host}:${dc.port}`,
    );
    if (dc.ipv6) {
      const v6 = dc.ipv6;
      assert.ok(
        opts.some((o) => o.id === dc.id && o.ipv6 && o.ipAddress === v6.host && o.port === v6.port),
        `${layer}: an IPv6 dc_option for DC ${dc.id} at [${v6.host}]:${v6.port}`,
      );
    }
  }
  const media = opts.filter((o) => o.mediaOnly);
  assert.ok(media.length > 0, `${layer}: at least one media_only dc_option`);
  const listening = new Set([...s.sb.info.dcs.flatMap((d) => [d.port, ...(d.ipv6 ? [d.ipv6.port] : [])]), ...(s.sb.info.cdn ? [s.sb.info.cdn.port] : [])]);
  for (const o of opts) assert.ok(listening.has(o.port), `${layer}: dc_option ${o.id} ${o.ipAddress}:${o.port} is a sandbox listener`);
}

test('help.getConfig and help.getNearestDc read the same sandbox topology through layers 198 (GramJS) and 227 (mtcute)', { timeout: 60_000 }, async () => {
  const g = makeGramjsClient(s, { transport: 'abridged' });
  const m = await makeMtcuteClient(s, { transport: 'intermediate' });
  const diag = () => tails({ sandbox: s.log, gramjs: g.logs, mtcute: m.logs });
  try {
    await explained(async () => {
      await withTimeout(Promise.all([gramjsStart(g, '9996641234', '44444'), mtcuteStart(m, '9996649234', '44444', 'sandbox')]), 30_000, 'logins', diag);
      const gc = await g.client.invoke(new Api.help.GetConfig());
      checkConfig(
        'layer 198',
        gc.thisDc,
        gc.dcOptions.map((o) => ({ id: o.id, ipAddress: o.ipAddress, port: o.port, ipv6: !!o.ipv6, mediaOnly: !!o.mediaOnly })),
        4,
      );
      const mc = await m.tg.call({ _: 'help.getConfig' });
      checkConfig(
        'layer 227',
        mc.thisDc,
        mc.dcOptions.map((o) => ({ id: o.id, ipAddress: o.ipAddress, port: o.port, ipv6: !!o.ipv6, mediaOnly: !!o.mediaOnly })),
        4,
      );
      const gn = await g.client.invoke(new Api.help.GetNearestDc());
      assert.equal(gn.thisDc, 4);
      assert.equal(gn.nearestDc, 2, 'the sandbox default nearest DC');
      const mn = await m.tg.call({ _: 'help.getNearestDc' });
      assert.equal(mn.thisDc, 4);
      assert.equal(mn.nearestDc, 2);
    }, diag);
  } finally {
    await g.destroy();
    await m.destroy();
  }
});

test('all 10 seeded users log in at once through GramJS (3 transports) and mtcute (3 transports), 20 clients on one sandbox', { timeout: 60_000 }, async () => {
  const phones = [1, 2, 3, 4, 5].flatMap((x) => [`99966${x}1234`, `99966${x}9234`]);
  const code = (p: string) => p[5]!.repeat(5);
  const password = (p: string) => (p[6] === '9' ? 'sandbox' : undefined);
  const gs = phones.map((p, i) => ({ p, h: makeGramjsClient(s, { transport: (['full', 'abridged', 'obfuscated'] as const)[i % 3] }) }));
  const ms: { p: string; h: Awaited<ReturnType<typeof makeMtcuteClient>> }[] = [];
  const diag = () => tails({ sandbox: s.log }, 60);
  try {
    for (const [i, p] of phones.entries())
      ms.push({ p, h: await makeMtcuteClient(s, { transport: (['intermediate', 'padded', 'obfuscated'] as const)[i % 3] }) });
    const results = await withTimeout(
      Promise.allSettled([
        ...gs.map(async ({ p, h }) => {
          await gramjsStart(h, p, code(p), password(p));
          const u = await gramjsGetSelf(h);
          return { p, id: u.id.toString(), dc: h.session.dcId };
        }),
        ...ms.map(async ({ p, h }) => {
          await mtcuteStart(h, p, code(p), password(p));
          const u = await mtcuteGetSelfRaw(h);
          return { p, id: String(u.id), dc: (await mtcutePrimaryDc(h)).id };
        }),
      ]),
      45_000,
      '20 concurrent logins',
      diag,
    );
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${i < 10 ? 'gramjs' : 'mtcute'} ${phones[i % 10]}: ${String(r.reason).split('\n')[0]}`] : [],
    );
    assert.deepEqual(failures, [], `concurrent logins failed\n${diag()}`);
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      const { p, id, dc } = r.value;
      assert.equal(id, seededUser(s, p).id, `${p}: seeded user id`);
      assert.equal(dc, Number(p[5]), `${p}: ended on its home DC`);
    }
  } finally {
    await Promise.all([...gs.map((x) => x.h.destroy()), ...ms.map((x) => x.h.destroy())]);
  }
});
