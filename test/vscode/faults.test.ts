// The host's fault dispatch (src/vscode/faults.ts, no VS Code needed) against the real embedded sandbox of a
// LabSession: the same function the panel's sandbox/fault request and the "Sandbox Fault…" command call. Each fault
// is checked in the sandbox's status() and in what the client does next, as the topology shows it (connect order,
// endpoint in use, reconnects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryBackends } from '../../src/storage';
import { LabSession, type LabSettings } from '../../src/vscode/lab';
import { faultsState, runSandboxFault } from '../../src/vscode/faults';
import { topologyOf } from '../../src/vscode/topology';

function newLab(dir: string, settings: LabSettings): LabSession {
  const quiet = (): void => undefined;
  return new LabSession(memoryBackends(), () => settings, dir, { info: quiet, warn: quiet, error: quiet, debug: quiet });
}

test('sandbox faults: refused with the reason when the sandbox is not the running profile', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-faults-'));
  const settings: LabSettings = { profile: 'test', apiId: 0, transport: 'intermediate', prewarm: false, floodWaitThreshold: 30, sandboxBasePort: 0 };
  const lab = newLab(dir, settings);
  try {
    assert.deepEqual(faultsState(lab), { available: false, reason: 'the active profile is test, not the sandbox', dcs: [] });
    await assert.rejects(runSandboxFault(lab, { action: 'status' }), /the active profile is test, not the sandbox/);
    settings.profile = 'sandbox';
    assert.match(faultsState(lab).reason ?? '', /^the sandbox is not running/);
    await assert.rejects(runSandboxFault(lab, { action: 'restart-dc', dcId: 2 }), /the sandbox is not running/);
    assert.equal(topologyOf(lab, []).faults?.available, false);
    // running, but the profile is another one: still refused
    await lab.startSandbox();
    assert.equal(faultsState(lab).available, true);
    settings.profile = 'production';
    assert.equal(faultsState(lab).available, false);
    assert.deepEqual(faultsState(lab).dcs, [1, 2, 3, 4, 5], 'the running sandbox DCs are still listed');
  } finally {
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sandbox faults: restart-dc, transport-error 404, move-dc and bad values through the panel dispatch', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-faults-'));
  const settings: LabSettings = { profile: 'sandbox', apiId: 0, transport: 'intermediate', prewarm: false, floodWaitThreshold: 30, sandboxBasePort: 0 };
  const lab = newLab(dir, settings);
  try {
    await lab.connect();
    const sb = lab.sandbox!;
    const client = lab.client!;
    const node = (dcId: number) => topologyOf(lab, []).nodes.find((n) => n.dcId === dcId)!;

    // the topology: DC2's endpoints in order with the one in use, its connection, the config's age
    const topo = topologyOf(lab, []);
    assert.deepEqual(topo.faults, { available: true, dcs: [1, 2, 3, 4, 5], cdnDc: 203 });
    assert.ok(topo.configFetchedAt !== undefined && Math.abs(topo.configFetchedAt - Date.now()) < 60_000, `configFetchedAt ${topo.configFetchedAt}`);
    assert.ok(topo.configExpires !== undefined && topo.configExpires > Date.now() / 1000, `configExpires ${topo.configExpires}`);
    const port2 = sb.status().dcs.find((d) => d.id === 2)!.port;
    const dc2 = node(2);
    assert.deepEqual(dc2.connection, { state: 'ready', reconnects: 0, endpoint: `127.0.0.1:${port2}` });
    assert.deepEqual(dc2.connectOrder?.[0], { host: '127.0.0.1', port: port2, ipv6: false, obfuscated: false, source: 'config', inUse: true });
    assert.equal(dc2.connectOrder?.filter((e) => e.inUse).length, 1);
    assert.equal(node(1).connection, undefined, 'DC1 never used');
    assert.ok(node(1).connectOrder?.length, 'DC1 still lists where it would connect');
    assert.equal(node(203).connectOrder, undefined, 'the CDN DC is not dialled for calls');

    // restart-dc 2: the sandbox restarts DC2 on the same port, the trace notes it, the client reconnects
    const restarted = await runSandboxFault(lab, { action: 'restart-dc', dcId: 2, downMs: 100 });
    assert.equal(restarted.action, 'restart-dc');
    assert.match(restarted.message, /^DC2 restarted \(down 100 ms\)/);
    assert.ok(lab.events().some((e) => e.kind === 'state' && e.name === 'sandbox fault: restart-dc' && e.dcId === 2));
    await lab.runQuery('help.getNearestDc', {});
    const after = sb.status().dcs.find((d) => d.id === 2)!;
    assert.equal(after.port, port2, 'same port after the restart');
    assert.ok(after.connections >= 1, 'the client is connected again');
    assert.equal(node(2).connection?.state, 'ready');
    assert.ok((node(2).connection?.reconnects ?? 0) >= 1, `reconnects ${JSON.stringify(node(2).connection)}`);

    // transport-error 404 on DC2: pending in status(); a dropped connection meets it once, the key survives
    const injected = await runSandboxFault(lab, { action: 'transport-error', code: 404, dcId: 2 });
    assert.match(injected.message, /the next 1 new connection\(s\) of DC2 get transport error -404/);
    assert.deepEqual(injected.status.faults.transportErrors, [{ code: -404, dcId: 2, left: 1 }]);
    assert.deepEqual(sb.status().faults.transportErrors, [{ code: -404, dcId: 2, left: 1 }]);
    const dropped = await runSandboxFault(lab, { action: 'drop-connections', dcId: 2 });
    assert.match(dropped.message, /^dropped [1-9]\d* connection\(s\) of DC2/);
    await lab.runQuery('help.getNearestDc', {});
    assert.deepEqual(sb.status().faults.transportErrors, [], 'the -404 was met');
    assert.equal(client.status().dcs.find((d) => d.dcId === 2)?.hasKey, true, 'one -404 keeps the key');

    // move-dc 3: a new port announced by help.getConfig; the client finds it and marks it in use
    const oldPort3 = sb.status().dcs.find((d) => d.id === 3)!.port;
    const moved = await runSandboxFault(lab, { action: 'move-dc', dcId: 3 });
    const newPort3 = moved.status.dcs.find((d) => d.id === 3)!.port;
    assert.notEqual(newPort3, oldPort3);
    assert.match(moved.message, new RegExp(`^DC3 moved from port ${oldPort3} to port ${newPort3}`));
    await lab.runQuery('help.getConfig', {}, 3);
    const dc3 = node(3);
    assert.equal(dc3.connection?.state, 'ready');
    assert.equal(dc3.connection?.endpoint, `127.0.0.1:${newPort3}`);
    assert.deepEqual(
      dc3.connectOrder?.filter((e) => e.inUse).map((e) => e.port),
      [newPort3],
    );

    // rpc-error and status, then clear-faults
    const rpc = await runSandboxFault(lab, { action: 'rpc-error', method: 'help.getConfig', error: 'FLOOD_WAIT_3', dcId: 3, count: 2 });
    assert.deepEqual(rpc.status.faults.rpcErrors, [{ method: 'help.getConfig', error: 'FLOOD_WAIT_3', code: 420, dcId: 3, left: 2 }]);
    const status = await runSandboxFault(lab, { action: 'status' });
    assert.match(status.message, /^live connections: DC1 \d+, DC2 \d+, DC3 \d+, DC4 \d+, DC5 \d+; 1 pending fault rule\(s\)$/);
    await runSandboxFault(lab, { action: 'clear-faults' });
    assert.deepEqual(sb.status().faults.rpcErrors, []);

    // bad values: named, nothing changed
    await assert.rejects(runSandboxFault(lab, { action: 'restart-dc', dcId: 7 }), /^RangeError: restart-dc: DC must be 1\.\.5 or 203 \(the CDN DC\), got 7$/);
    await assert.rejects(runSandboxFault(lab, { action: 'latency', dcId: 203, ms: 5 }), /latency: DC must be 1\.\.5, got 203$/);
    await assert.rejects(runSandboxFault(lab, { action: 'transport-error', code: 42 }), /transport-error: transport error code must be 100\.\.999/);
    await assert.rejects(runSandboxFault(lab, { action: 'move-user', phone: '5550000', dcId: 3 }), /move-user: /);
    assert.deepEqual(sb.status().faults.transportErrors, []);
  } finally {
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
