// The embedded sandbox (no --sandbox-info): login answers the code from the in-process inbox; its world ends with
// the process, which status reports and the next connecting command acts on. And `dclab demo` end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { dclab, dclabIn } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'dclab-emb-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('embedded sandbox: login via the inbox, then status reports the ended world and the next call drops it', { timeout: 40_000 }, async () => {
  const E = ['--data-dir', join(dir, 'e'), '--sandbox-port', '0'];
  const login = await dclab(['login', '--phone', '9996631234', ...E]);
  assert.equal(login.code, 0, login.stdout + login.stderr);
  assert.match(login.stdout, /PHONE_MIGRATE_3/);
  assert.match(login.stdout, /code: read from the embedded sandbox inbox \(not shown\)/);
  assert.match(login.stdout, /home DC 3/);
  assert.match(login.stdout, /the embedded sandbox stops with this command/);
  assert.ok(!login.stdout.includes('33333'));
  assert.ok(existsSync(join(dir, 'e', 'sandbox', 'rsa-private.pem')), 'the embedded sandbox keeps its RSA key under D/sandbox');

  const st = await dclabIn(['status', '--json', '--data-dir', join(dir, 'e')]);
  assert.equal(st.code, 0);
  const s = JSON.parse(st.stdout);
  assert.equal(s.homeDc, 3);
  assert.equal(s.world.kind, 'embedded');
  assert.equal(s.world.current, false);
  const ping = await dclabIn(['status', '--ping', '--data-dir', join(dir, 'e')]);
  assert.equal(ping.code, 1);
  assert.match(ping.stderr, /embedded sandbox of an earlier command is gone/);

  const call = await dclabIn(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', ...E]);
  assert.equal(call.code, 1);
  assert.match(call.stderr, /belonged to an embedded sandbox that has ended/);
  // a call that needs no login still works on the fresh world
  const near = await dclabIn(['call', 'help.getNearestDc', ...E]);
  assert.equal(near.code, 0, near.stderr);
  assert.equal(JSON.parse(near.stdout)._, 'nearestDc');
});

test('dclab demo: PHONE_MIGRATE, transfer (export/import), USER_MIGRATE and recovery, timeline and status', { timeout: 30_000 }, async () => {
  const r = await dclab(['demo']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /PHONE_MIGRATE_4: DC2 sends us to DC4/);
  assert.match(r.stdout, /auth\.exportAuthorization @DC4 → auth\.exportedAuthorization → auth\.importAuthorization @DC1/);
  assert.match(r.stdout, /USER_MIGRATE_5/);
  assert.match(r.stdout, /home DC is now 5/);
  assert.match(r.stdout, /Trace timeline/);
  assert.match(r.stdout, /chain #\d+: users\.getUsers @DC4 → USER_MIGRATE_5 → transfer DC4 to DC5 .* → users\.getUsers @DC5 → Vector\(1\)/);
  assert.match(r.stdout, /DC5 +\* +yes +yes +yes/);
  assert.doesNotMatch(r.stdout, /(?<![0-9])44444(?![0-9])/, 'the code is not printed (as a whole number: ids may hold its digits)');
  assert.ok(!/Wire-level trace/.test(r.stdout));

  const w = await dclabIn(['demo', '--wire', '--phone', '9996619234']);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, /PHONE_MIGRATE_1/);
  assert.match(w.stdout, /SESSION_PASSWORD_NEEDED/);
  assert.match(w.stdout, /Wire-level trace/);
  assert.match(w.stdout, /rpc_result/);

  const bad = await dclabIn(['demo', '--phone', '123']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--phone needs a sandbox test number 99966XYYYY/);
});

test('embedded sandbox on ports in use: exit 1 naming the ports and pointing to --sandbox-info / --sandbox-port', { timeout: 20_000 }, async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    const base = port - 1; // DC1 would listen on base + 1 = the taken port
    const r = await dclabIn(['call', 'help.getNearestDc', '--data-dir', join(dir, 'busy'), '--sandbox-port', String(base)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot start the embedded sandbox on ports ${base + 1}\\.\\.${base + 5}: EADDRINUSE`));
    assert.match(r.stderr, /--sandbox-info FILE/);
  } finally {
    srv.close();
  }
});
