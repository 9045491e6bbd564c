// The extension host's working state (src/vscode/lab.ts, no VS Code needed) against the embedded sandbox: login
// through PHONE_MIGRATE_4 with the code from the sandbox inbox, the topology the panel/tree show, the panel's
// query/run answers (result, validation error, RPC error), a download by dc_id, and no login code in the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryBackends, ProfileStore } from '../../src/storage';
import { LabSession, type LabSettings } from '../../src/vscode/lab';
import { runPanelQuery } from '../../src/vscode/query';
import { topologyOf } from '../../src/vscode/topology';
import type { IpcTraceEvent } from '../../src/ipc';

test('LabSession: sandbox login through PHONE_MIGRATE_4, topology, queries and a download by dc_id', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-lab-'));
  const lines: string[] = [];
  const settings: LabSettings = { profile: 'sandbox', apiId: 0, transport: 'intermediate', prewarm: false, floodWaitThreshold: 30, sandboxBasePort: 0 };
  const backends = memoryBackends();
  const lab = new LabSession(backends, () => settings, dir, {
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
    debug: (m) => lines.push(m),
  });
  try {
    let suggested: string | undefined;
    const user = await lab.login({
      phone: '9996641234',
      code: async (c) => {
        suggested = c.suggested;
        return c.suggested ?? '';
      },
      password: async () => 'unused',
      signUp: async () => ({ firstName: 'x' }),
    });
    assert.equal(suggested, '44444');
    assert.equal(user._, 'user');
    const st = lab.status()!;
    assert.equal(st.state, 'authorized');
    assert.equal(st.homeDc, 4);
    assert.ok(lab.events().some((e) => e.kind === 'redirect' && e.name === 'PHONE_MIGRATE_4' && e.dcId === 2 && e.targetDc === 4));

    const topo = topologyOf(lab, lab.events() as IpcTraceEvent[]);
    assert.equal(topo.profile, 'sandbox');
    assert.equal(topo.state, 'authorized');
    assert.equal(topo.homeDc, 4);
    assert.deepEqual(
      topo.nodes.filter((n) => n.home).map((n) => n.dcId),
      [4],
    );
    assert.equal(topo.nodes.find((n) => n.dcId === 4)?.state, 'home');
    assert.ok(
      topo.nodes.some((n) => n.dcId === 203 && n.endpoints.every((e) => e.cdn)),
      'the CDN DC from help.getConfig',
    );
    assert.deepEqual(
      topo.edges.map((e) => [e.kind, e.from, e.to, e.label]),
      [['redirect', 2, 4, 'PHONE_MIGRATE_4']],
    );

    const ok = await runPanelQuery(lab, { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, 1);
    assert.equal(ok.ok, true);
    if (ok.ok) {
      assert.equal((ok.result as { _: string }[])[0]!._, 'user');
      assert.equal(ok.dcId, 1);
    }
    assert.ok(lab.events().some((e) => e.kind === 'transfer' && e.targetDc === 1));
    const bad = await runPanelQuery(lab, { _: 'messages.getHistory', peer: { _: 'inputPeerSelf' }, limit: 'ten' }, undefined);
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.equal(bad.code, 'VALIDATION');
      assert.match(bad.path ?? '', /limit|offset_id/);
    }
    const rpc = await runPanelQuery(
      lab,
      {
        _: 'messages.getHistory',
        peer: { _: 'inputPeerChat', chat_id: '1' },
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 1,
        max_id: 0,
        min_id: 0,
        hash: '0',
      },
      undefined,
    );
    assert.equal(rpc.ok, false);

    const file = lab.sandbox!.files().find((f) => f.key === 'small-dc1')!;
    const res = await lab.download({ dcId: file.dcId, location: file.location, size: file.size, out: join(dir, 'small-dc1.bin'), sha256: file.sha256 });
    assert.equal(res.sha256, file.sha256);
    assert.equal(res.bytes, 5000);

    // what the store got: keys in secrets, the rest plain; the panel/tree never need more
    const snap = await new ProfileStore(backends, 'sandbox').snapshot();
    assert.equal(snap.homeDc, 4);
    assert.ok(snap.dcKeys.some((k) => k.dcId === 4));
    assert.ok(!lines.some((l) => /(?<![0-9])44444(?![0-9])/.test(l)), 'a login code reached the log');
  } finally {
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
