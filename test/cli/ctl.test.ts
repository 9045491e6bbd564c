// `dclab sandbox ctl` against a real `dclab sandbox` child: actions as separate processes and in-process, exit codes
// (0 done, 1 unreachable / bad token / unknown DC, 2 usage), a login that survives a moved DC (the world id of the
// info file), and `dclab status --json` with the auth_key_id of every stored key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROL_ACTIONS } from '../../src/sandbox/control';
import { dclab, dclabIn, startSandboxProcess, type SandboxChild } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'dclab-ctl-'));
const F = join(dir, 'sandbox-info.json');
const D = join(dir, 'data');
const A = ['--sandbox-info', F, '--data-dir', D];
let sandbox: SandboxChild;

test.before(async () => {
  sandbox = await startSandboxProcess(F, join(dir, 'sandbox'));
});
test.after(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ctl = (...args: string[]) => ['sandbox', 'ctl', '--sandbox-info', F, ...args];
const port = (dcId: number): number => (JSON.parse(readFileSync(F, 'utf8')) as { dcs: { id: number; port: number }[] }).dcs.find((d) => d.id === dcId)!.port;

test('dclab sandbox ctl as a process: status JSON, restart-dc, transport-error; one confirmation line each', { timeout: 60_000 }, async () => {
  const st = await dclab(ctl('status'));
  assert.equal(st.code, 0, st.stderr);
  const status = JSON.parse(st.stdout) as { dcs: { id: number; port: number; connections: number }[]; saltPeriodSeconds: number };
  assert.deepEqual(
    status.dcs.map((d) => d.id),
    [1, 2, 3, 4, 5],
  );
  assert.equal(status.dcs[1]!.port, port(2));
  assert.equal(status.saltPeriodSeconds, 3600);

  const restart = await dclab(ctl('restart-dc', '2', '--down-ms', '200'));
  assert.equal(restart.code, 0, restart.stderr);
  assert.equal(restart.stdout, 'DC2 restarted (down 200 ms), listening again on the same port(s)\n');
  assert.match(sandbox.log(), /DC2: down \(listeners closed\) for 200 ms/);

  const te = await dclab(ctl('transport-error', '-404', '--dc', '5', '--count', '2'));
  assert.equal(te.code, 0, te.stderr);
  assert.equal(te.stdout, 'the next 2 new connection(s) of DC5 get transport error -404\n');
  const cleared = await dclabIn(ctl('clear-faults'));
  assert.equal(cleared.stdout, 'faults cleared\n');
  const json = await dclabIn(ctl('rotate-salts', '--json'));
  assert.deepEqual(JSON.parse(json.stdout), { message: 'server salts rotated on every DC' });
});

test('errors: bad token, unknown DC and bad values exit 1 naming the problem; usage errors exit 2', async () => {
  const info = JSON.parse(readFileSync(F, 'utf8')) as { control: { token: string } };
  const forged = join(dir, 'forged.json');
  writeFileSync(forged, JSON.stringify({ ...info, control: { ...info.control, token: 'f'.repeat(48) } }));
  const bad = await dclabIn(['sandbox', 'ctl', '--sandbox-info', forged, 'status']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /refused the token \(bad token\)/);
  assert.ok(!bad.stderr.includes(info.control.token) && !bad.stderr.includes('f'.repeat(48)), 'no token in the message');

  const unknownDc = await dclabIn(ctl('restart-dc', '9'));
  assert.equal(unknownDc.code, 1);
  assert.match(unknownDc.stderr, /restart-dc: unknown DC 9: the sandbox's DCs are 1\.\.5/);
  const badCount = await dclabIn(ctl('rpc-error', 'auth.sendCode', 'FLOOD_WAIT_3', '--count', '0'));
  assert.equal(badCount.code, 1);
  assert.match(badCount.stderr, /rpc-error: --count needs how many \(default 1\): 1\.\.1000000, got 0/);

  for (const [args, re] of [
    [ctl(), /which action\?/],
    [ctl('explode'), /unknown action "explode"/],
    [ctl('move-dc'), /move-dc needs N \(a DC id\)/],
    [ctl('latency', '2', 'fast'), /latency: MS needs milliseconds per answer \(an integer\), got "fast"/],
    [ctl('drop-connections', '--count', '2'), /--count does not go with drop-connections/],
    [ctl('flood', 'auth.sendCode', '10', '--dc', 'x'), /--dc needs a DC id, got "x"/],
    [['sandbox', 'ctl', 'status'], /--sandbox-info F is required/],
  ] as const) {
    const r = await dclabIn([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const help = await dclabIn(['sandbox', 'ctl', '--help']);
  assert.equal(help.code, 0);
  for (const a of CONTROL_ACTIONS) assert.ok(help.stdout.includes(`  ${a.name}`), `help documents ${a.name}`);
});

test('a login survives move-dc (same world id), and status --json shows each stored key by its auth_key_id', { timeout: 60_000 }, async () => {
  const login = await dclabIn(['login', '--phone', '9996641234', ...A]);
  assert.equal(login.code, 0, login.stderr + login.stdout);
  const st = await dclabIn(['status', '--json', ...A]);
  assert.equal(st.code, 0, st.stderr);
  const report = JSON.parse(st.stdout) as { dcs: { dcId: number; key: boolean; authKeyId?: string }[] };
  const keyed = report.dcs.filter((d) => d.key);
  assert.deepEqual(
    keyed.map((d) => d.dcId),
    [2, 4],
  );
  const created = [...sandbox.log().matchAll(/DC(\d): dc\d-\d+: auth key (-?\d+) created/g)].map((m) => [Number(m[1]), m[2]]);
  for (const d of keyed) {
    assert.match(d.authKeyId!, /^-?\d+$/);
    assert.ok(
      created.some(([dc, id]) => dc === d.dcId && id === d.authKeyId),
      `DC${d.dcId}'s key id is the one the sandbox made`,
    );
  }
  assert.ok(report.dcs.filter((d) => !d.key).every((d) => d.authKeyId === undefined));
  const secrets = JSON.parse(readFileSync(join(D, 'secrets.json'), 'utf8')) as { entries: Record<string, unknown> };
  const keys = Object.entries(secrets.entries).filter(([k]) => /dc:\d+:authKey/.test(k));
  assert.equal(keys.length, 2);
  for (const [, v] of keys) {
    const b64 = String(typeof v === 'object' && v && 'value' in v ? (v as { value: unknown }).value : v).replace(/^"|"$/g, '');
    assert.equal(Buffer.from(b64, 'base64').length, 256, 'a 2048-bit auth key');
    assert.ok(!st.stdout.includes(b64.slice(0, 40)), 'the id, never the key');
  }
  const text = await dclabIn(['status', ...A]);
  assert.match(text.stdout, /DC\s+home\s+auth key\s+auth_key_id\s+authorized/);
  assert.ok(text.stdout.includes(keyed[1]!.authKeyId!));

  const old = port(4);
  const moved = await dclab(ctl('move-dc', '4'));
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, new RegExp(`^DC4 moved from port ${old} to port ${port(4)}; help\\.getConfig expires at \\d+\\n$`));
  assert.notEqual(port(4), old);
  const call = await dclabIn(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--json', ...A]);
  assert.equal(call.code, 0, call.stderr);
  assert.doesNotMatch(call.stderr, /that world is gone/);
  assert.equal(JSON.parse(call.stdout)[0].id, '7000041234');
});

test('an unreachable sandbox: exit 1 with the address', { timeout: 30_000 }, async () => {
  await sandbox.stop();
  const r = await dclabIn(ctl('status'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the sandbox control channel at 127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\) — is the sandbox still running\?/);
});
