// Four `dclab call --dc N` processes at once on one data dir (N = 1, 3, 4, 5) after one login with home DC 2: all
// succeed, and the stored state keeps all four new auth keys and all four authorizations (each process saved its own
// key and transfer while the others were saving theirs). Then `dclab download` on that data dir: an existing file is
// kept without --force, and of two downloads to one path at once only one runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dclab, startSandboxProcess, type SandboxChild } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'dclab-data-dir-'));
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

interface Status {
  homeDc?: number;
  loggedIn: boolean;
  authorizedDcs: number[];
  dcs: { dcId: number; key: boolean; authorized: boolean }[];
}

test('four `dclab call --dc N` at once on one data dir all succeed and the store keeps all 4 keys and authorizations', { timeout: 120_000 }, async () => {
  const login = await dclab(['login', '--phone', '9996621234', ...A], { timeoutMs: 60_000 });
  assert.equal(login.code, 0, login.stderr + login.stdout);

  const dcs = [1, 3, 4, 5];
  const runs = await Promise.all(
    dcs.map((n) => dclab(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--dc', String(n), ...A], { timeoutMs: 90_000 })),
  );
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, `call --dc ${dcs[i]}: ${r.stderr}${r.stdout}`);
  });
  runs.forEach((r, i) => {
    assert.match(r.stdout, /"_": ?"user"/, `call --dc ${dcs[i]} printed the user`);
  });

  const st = await dclab(['status', '--json', ...A]);
  assert.equal(st.code, 0, st.stderr);
  const s = JSON.parse(st.stdout) as Status;
  assert.equal(s.homeDc, 2);
  assert.equal(s.loggedIn, true);
  assert.deepEqual(
    s.dcs.filter((d) => d.key).map((d) => d.dcId),
    [1, 2, 3, 4, 5],
    'an auth key for every DC',
  );
  assert.deepEqual(s.authorizedDcs, [1, 2, 3, 4, 5], 'every DC authorized');
  // the secrets file holds the five keys too (not just the index in state.json)
  const secrets = JSON.parse(readFileSync(join(D, 'secrets.json'), 'utf8')) as { entries: Record<string, unknown> };
  for (const n of [1, 2, 3, 4, 5]) assert.ok(`dclab:sandbox:dc:${n}:authKey` in secrets.entries, `secrets.json has DC ${n}'s key`);
});

test('dclab download does not replace an existing file without --force; two at once to one path: one is refused', { timeout: 120_000 }, async () => {
  const info = JSON.parse(readFileSync(F, 'utf8')) as { files: { key: string; dcId: number; size: number; sha256: string; location: unknown }[] };
  const f = info.files.find((x) => x.key === 'medium-dc3')!;
  const out = join(dir, 'kept.bin');
  writeFileSync(out, 'precious');
  const args = ['download', '--dc', String(f.dcId), '--location', JSON.stringify(f.location), '--size', String(f.size), '--out', out, ...A];
  const refused = await dclab(args);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} already exists; not replaced — pass --force`));
  assert.equal(readFileSync(out, 'utf8'), 'precious');
  const forced = await dclab([...args, '--force'], { timeoutMs: 60_000 });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), f.sha256);

  // two processes downloading to one new path at once: exactly one gets it, the other is refused by the lock
  const both = join(dir, 'both.bin');
  const two = await Promise.all(
    [0, 1].map(() =>
      dclab(['download', '--dc', String(f.dcId), '--location', JSON.stringify(f.location), '--size', String(f.size), '--out', both, ...A], {
        timeoutMs: 60_000,
      }),
    ),
  );
  const codes = two.map((r) => r.code).sort();
  // the second may also start after the first finished: then the file exists and it is refused for that reason
  assert.deepEqual(codes, [0, 1], two.map((r) => r.stderr).join('\n---\n'));
  const loser = two.find((r) => r.code === 1)!;
  assert.match(loser.stderr, /another download to .*both\.bin is running|already exists; not replaced/);
  assert.equal(createHash('sha256').update(readFileSync(both)).digest('hex'), f.sha256);
});
