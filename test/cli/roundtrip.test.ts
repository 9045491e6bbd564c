// The persistence round trip with real processes against a real `dclab sandbox` child: login (PHONE_MIGRATE to
// DC 4) → a new process `status` (no connection, no handshake, no write) → a new process `call` on DC 4 with no new
// login and no new key → a new process `trace` shows the chain; file modes and where the key lives; a restarted
// sandbox world. Secondary steps run in-process (dclabIn: the same runCli, captured output) to keep the suite fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dclab, dclabIn, readJson, startSandboxProcess, type SandboxChild } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'dclab-rt-'));
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

const count = (text: string, re: RegExp): number => (text.match(new RegExp(re.source, 'g')) ?? []).length;
const NEW_CONN = /: dc\d-\d+ from /;
const NEW_KEY = /: auth key -?\d+ created/;

test('login → status → call → trace across processes, no second login and no new key', { timeout: 60_000 }, async () => {
  // 1. login: DC2 answers PHONE_MIGRATE_4; the code of a test number is derived by rule (the inbox is in the other process)
  const login = await dclab(['login', '--phone', '9996641234', ...A]);
  assert.equal(login.code, 0, login.stderr + login.stdout);
  assert.match(login.stdout, /PHONE_MIGRATE_4: DC2 sends us to DC4/);
  assert.match(login.stdout, /auth key DC4 created \(3 round trips\)/);
  assert.match(login.stdout, /Logged in as user 7000041234 .*home DC 4/);
  assert.ok(!/44444/.test(login.stdout + login.stderr), 'the login code is never printed');
  assert.equal(count(sandbox.log(), /authorized as user 7000041234 \(login\)/), 1);

  // 2. status in a new process: the stored state, and no connection, no handshake, no write
  const stateBefore = readFileSync(join(D, 'state.json'));
  const secretsBefore = readFileSync(join(D, 'secrets.json'));
  const logBefore = sandbox.log();
  const status = await dclab(['status', '--json', ...A]);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  assert.equal(s.homeDc, 4);
  assert.equal(s.userId, '7000041234');
  assert.equal(s.loggedIn, true);
  assert.deepEqual(s.authorizedDcs, [4]);
  const keyed = s.dcs.filter((d: { key: boolean }) => d.key).map((d: { dcId: number }) => d.dcId);
  assert.deepEqual(keyed, [2, 4]);
  assert.ok(
    s.dcs.every((d: { connected?: boolean }) => d.connected === undefined),
    'status did not connect',
  );
  assert.equal(s.world.kind, 'attached');
  assert.equal(s.world.current, true);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sandbox.log(), logBefore, 'the sandbox saw no connection during status');
  assert.deepEqual(readFileSync(join(D, 'state.json')), stateBefore, 'status wrote nothing');
  assert.deepEqual(readFileSync(join(D, 'secrets.json')), secretsBefore);

  // 3. call in another new process: runs on DC 4 with the stored key, no new login, no new key
  const keysBefore = count(sandbox.log(), NEW_KEY);
  const call = await dclab(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', ...A]);
  assert.equal(call.code, 0, call.stderr);
  const users = JSON.parse(call.stdout);
  assert.equal(users[0]._, 'user');
  assert.equal(users[0].id, '7000041234');
  assert.equal(users[0].self, true);
  assert.match(call.stderr, /users\.getUsers @DC4 → Vector\(1\)/);
  assert.equal(count(sandbox.log(), NEW_KEY), keysBefore, 'no new auth key');
  assert.equal(count(sandbox.log(), /authorized as user 7000041234 \(login\)/), 1, 'no second login');
  assert.equal(count(sandbox.log().slice(logBefore.length), NEW_CONN), 1, 'one connection (DC4)');
  assert.match(sandbox.log().slice(logBefore.length), /DC4: dc4-\d+ from/);

  // 4. call on another DC: the authorization is transferred (export at 4, import at 3)
  const onDc3 = await dclabIn(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--dc', '3', '--json', ...A]);
  assert.equal(onDc3.code, 0, onDc3.stderr);
  assert.equal(JSON.parse(onDc3.stdout)[0].id, '7000041234');
  assert.match(onDc3.stderr, /users\.getUsers @DC3 → transfer DC4 to DC3 → auth\.exportAuthorization @DC4 .*auth\.importAuthorization @DC3/);

  // exported authorization bytes are never printed (the user's own data is)
  const exp3 = await dclabIn(['call', 'auth.exportAuthorization', '{"dc_id":5}', '--json', ...A]);
  assert.equal(exp3.code, 0, exp3.stderr);
  const ea = JSON.parse(exp3.stdout);
  assert.equal(ea._, 'auth.exportedAuthorization');
  assert.match(String(ea.id), /^-?\d+$/);
  assert.equal(ea.bytes, '[redacted 128 bytes]');

  // a second login is refused and leaves the session (and its trace) alone
  const again = await dclabIn(['login', '--phone', '9996641234', ...A]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already logged in as user 7000041234 on DC4; run `dclab logout` first/);

  // 5. the session trace: the login chain with PHONE_MIGRATE_4 and the later commands
  const trace = await dclab(['trace', '--data-dir', D]);
  assert.equal(trace.code, 0, trace.stderr);
  assert.match(
    trace.stdout,
    /chain #\d+: auth\.sendCode @DC2 → PHONE_MIGRATE_4 → .*connect DC4 → auth key DC4 \(3 round trips\) → auth\.sendCode @DC4 → auth\.sentCode/,
  );
  assert.match(trace.stdout, /dclab call/);
  assert.match(trace.stdout, /stored auth key DC4/);
  const full = JSON.parse((await dclabIn(['trace', '--json', '--data-dir', D])).stdout) as {
    events: { kind: string; name: string; payload?: Record<string, unknown> }[];
  };
  const signIn = full.events.find((e) => e.kind === 'call' && e.name === 'auth.signIn' && e.payload);
  assert.ok(signIn, 'the signIn call is in the trace');
  assert.equal(signIn.payload!.phone_code, '[redacted]', 'the code is redacted in the stored trace');
  const tj = await dclabIn(['trace', '--json', '--last', '5', '--data-dir', D]);
  assert.equal(tj.code, 0);
  const exp = JSON.parse(tj.stdout);
  assert.equal(exp.format, 'dclab-trace');
  assert.equal(exp.events.length, 5);

  // 6. status --ping: connects with the stored keys only
  const ping = await dclabIn(['status', '--json', '--ping', ...A]);
  assert.equal(ping.code, 0, ping.stderr);
  const ps = JSON.parse(ping.stdout);
  for (const d of ps.dcs.filter((x: { key: boolean }) => x.key)) {
    assert.equal(d.connected, true, `DC${d.dcId} pinged`);
    assert.equal(typeof d.latencyMs, 'number');
  }
  assert.equal(count(sandbox.log(), NEW_KEY), keysBefore + 1, 'only the DC3 transfer made a key');

  // 7. files: 0600; the auth keys live in secrets.json only
  for (const f of ['state.json', 'secrets.json']) assert.equal(statSync(join(D, f)).mode & 0o777, 0o600, f);
  const secrets = readJson(join(D, 'secrets.json')) as { entries: Record<string, unknown> };
  const state = readFileSync(join(D, 'state.json'), 'utf8');
  const keyEntries = Object.entries(secrets.entries).filter(([k]) => /dc:\d+:authKey/.test(k));
  assert.ok(
    keyEntries.some(([k]) => k.includes('dc:4:authKey')),
    'secrets.json holds the DC4 key',
  );
  assert.ok(!state.includes('authKey'), 'state.json has no auth key field');
  for (const [, v] of keyEntries) {
    const b64 = String(typeof v === 'object' && v && 'value' in v ? (v as { value: unknown }).value : v).replace(/^"|"$/g, '');
    assert.equal(Buffer.from(b64, 'base64').length, 256, 'a 2048-bit auth key');
    assert.ok(!state.includes(b64.slice(0, 40)), 'the key value is not in state.json');
    assert.ok(!(login.stdout + call.stdout + call.stderr + trace.stdout + tj.stdout).includes(b64.slice(0, 40)), 'the key is never printed');
  }
});

test('a forgotten --sandbox-info does not drop a live login; a restarted sandbox world is detected and dropped', { timeout: 60_000 }, async () => {
  // without --sandbox-info the command would use an embedded sandbox: refused, the stored login stays
  const forgot = await dclabIn(['call', 'help.getNearestDc', '--data-dir', D, '--sandbox-port', '0']);
  assert.equal(forgot.code, 1);
  assert.match(forgot.stderr, /belongs to the sandbox of .*sandbox-info\.json, which is still there: pass --sandbox-info/);
  let st = JSON.parse((await dclabIn(['status', '--json', ...A])).stdout);
  assert.equal(st.homeDc, 4);

  // restart the sandbox: a new world (keys and logins gone); status says so, the next connecting command drops it
  await sandbox.stop();
  await new Promise((r) => setTimeout(r, 20)); // a different mtime for the rewritten info file
  sandbox = await startSandboxProcess(F, join(dir, 'sandbox'));
  st = JSON.parse((await dclabIn(['status', '--json', ...A])).stdout);
  assert.equal(st.world.current, false);
  assert.match(st.world.note, /another sandbox world/);
  const call = await dclabIn(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', ...A]);
  assert.equal(call.code, 1);
  assert.match(call.stderr, /that world is gone, so it is dropped/);
  assert.match(call.stderr, /401 AUTH_KEY_UNREGISTERED from users\.getUsers on DC2 — log in first/);
  st = JSON.parse((await dclabIn(['status', '--json', ...A])).stdout);
  assert.equal(st.loggedIn, false);
  assert.equal(st.world.current, true);

  // 2FA test number with --sandbox-password, then logout
  const login = await dclabIn(['login', '--phone', '9996619234', '--sandbox-password', ...A]);
  assert.equal(login.code, 0, login.stderr + login.stdout);
  assert.match(login.stdout, /SESSION_PASSWORD_NEEDED/);
  assert.match(login.stdout, /PHONE_MIGRATE_1/);
  assert.match(login.stdout, /home DC 1/);
  assert.ok(!login.stdout.includes('sandbox"') && !/password: sandbox/.test(login.stdout));
  const out = await dclabIn(['logout', ...A]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /Logged out user 7000019234/);
  st = JSON.parse((await dclabIn(['status', '--json', ...A])).stdout);
  assert.equal(st.loggedIn, false);
  assert.deepEqual(
    st.dcs.filter((d: { key: boolean }) => d.key),
    [],
  );
});

test('2FA with --password-stdin: a wrong password fails (exit 1) without echoing it', { timeout: 30_000 }, async () => {
  const d = ['--sandbox-info', F, '--data-dir', join(dir, 'pw')];
  const r = await dclabIn(['login', '--phone', '9996629234', '--password-stdin', ...d], {
    input: 'hunter2-wrong\nhunter2-wrong\nhunter2-wrong\nhunter2-wrong\n',
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /PASSWORD_HASH_INVALID|wrong password/);
  assert.ok(!(r.stdout + r.stderr).includes('hunter2'));
  const wrongCode = await dclabIn(['login', '--phone', '9996629234', '--code', '13579', ...d]);
  assert.equal(wrongCode.code, 1);
  assert.match(wrongCode.stderr, /the login code was rejected \(PHONE_CODE_INVALID\) — check --code/);
  assert.ok(!(wrongCode.stdout + wrongCode.stderr).includes('13579'));
  const ok = await dclabIn(['login', '--phone', '9996629234', '--password-stdin', ...d], { input: 'sandbox\n' });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Logged in as user 7000029234/);
});

test('custom profile (pointed at the sandbox): definition stored, api_hash from DCLAB_API_HASH kept in secrets only', { timeout: 30_000 }, async () => {
  const info = readJson(F) as { dcs: { id: number; host: string; port: number }[]; rsa: { pem: string } };
  const pem = join(dir, 'sandbox.pem');
  writeFileSync(pem, info.rsa.pem);
  const C = join(dir, 'custom');
  const hash = 'c0ffee00c0ffee00c0ffee00c0ffee01';
  const def = [...info.dcs.flatMap((d) => ['--dc-address', `${d.id}=${d.host}:${d.port}`]), '--rsa-pem', pem];
  const login = await dclabIn(['login', '--profile', 'custom:lab', ...def, '--api-id', '4242', '--phone', '9996651234', '--code', '55555', '--data-dir', C], {
    env: { DCLAB_API_HASH: hash },
  });
  assert.equal(login.code, 0, login.stdout + login.stderr);
  assert.match(login.stdout, /PHONE_MIGRATE_5/);
  assert.match(login.stdout, /home DC 5/);
  // later commands need neither the definition nor the credentials again
  const call = await dclabIn(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--profile', 'custom:lab', '--data-dir', C], {
    env: { DCLAB_API_HASH: '' },
  });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout)[0].id, '7000051234');
  const st = JSON.parse((await dclabIn(['status', '--json', '--profile', 'custom:lab', '--data-dir', C])).stdout);
  assert.equal(st.apiId, 4242);
  assert.equal(st.hasApiHash, true);
  assert.equal(st.homeDc, 5);
  const secrets = readFileSync(join(C, 'secrets.json'), 'utf8');
  const state = readFileSync(join(C, 'state.json'), 'utf8');
  assert.ok(secrets.includes(hash), 'the api_hash is in secrets.json');
  assert.ok(!state.includes(hash), 'and not in state.json');
  assert.ok(!(login.stdout + login.stderr + call.stdout + call.stderr).includes(hash), 'never printed');
  // the sandbox profile in the same data dir is untouched
  const sb = JSON.parse((await dclabIn(['status', '--json', '--data-dir', C])).stdout);
  assert.equal(sb.loggedIn, false);
});
