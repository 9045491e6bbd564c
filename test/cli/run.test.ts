// `dclab run` against a real `dclab sandbox` child: login, then the example request file in a new process (its
// environment, a transfer to DC 2), --json, one request by number or title, schema errors (exit 2, FILE:LINE:COL
// lines, nothing sent) and an rpc error (exit 1). Secondary runs go in-process (dclabIn) to keep the suite fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { dclab, dclabIn, ROOT, startSandboxProcess, type SandboxChild } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'dclab-run-'));
const F = join(dir, 'sandbox-info.json');
const D = join(dir, 'data');
const A = ['--sandbox-info', F, '--data-dir', D];
const EXAMPLE = relative(ROOT, join(ROOT, 'examples', 'requests', 'sandbox.mtproto'));
let sandbox: SandboxChild;

test.before(async () => {
  sandbox = await startSandboxProcess(F, join(dir, 'sandbox'));
  const login = await dclabIn(['login', '--phone', '9996641234', ...A]);
  assert.equal(login.code, 0, login.stderr + login.stdout);
});
test.after(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the example file runs in a new process: headers, results, assignments and chains', { timeout: 60_000 }, async () => {
  const r = await dclab(['run', EXAMPLE, '--env', 'sandbox', ...A]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const headers = r.stdout.split('\n').filter((l) => l.startsWith('### '));
  assert.equal(headers.length, 5, r.stdout);
  assert.match(headers[0]!, /^### \[1\] users\.getUsers @DC4 → ok \(\d+ ms\) · Who am I$/);
  assert.match(headers[1]!, /^### \[2\] users\.getUsers @DC4 → ok \(\d+ ms\)/);
  assert.match(headers[2]!, /^### \[3\] users\.getFullUser @DC2 → ok \(\d+ ms\)/);
  assert.match(headers[3]!, /^### \[4\] messages\.getHistory @DC4 → ok/);
  assert.match(headers[4]!, /^### \[5\] help\.getNearestDc @DC4 → ok/);
  assert.match(r.stdout, /"id": "7000041234"/);
  assert.match(r.stdout, /"about": "A user of the MTProto DC Lab sandbox"/);
  assert.match(r.stderr, /@me = 7000041234/);
  assert.match(r.stderr, /@greeting = Hello, Sandbox User 41234/);
  assert.match(r.stderr, /users\.getFullUser @DC2 → transfer DC4 to DC2 → auth\.exportAuthorization @DC4/);
  assert.match(sandbox.log(), /authorized as user 7000041234 \(import/);

  // the run is part of the session trace
  const trace = await dclabIn(['trace', '--no-details', '--data-dir', D]);
  assert.match(trace.stdout, /dclab run/);
  assert.match(trace.stdout, /users\.getFullUser @DC2/);
});

test('--json: one array of results on stdout; --request N and --title pick one request', { timeout: 30_000 }, async () => {
  const json = await dclabIn(['run', EXAMPLE, '--env', 'sandbox', '--json', ...A]);
  assert.equal(json.code, 0, json.stderr);
  const results = JSON.parse(json.stdout) as {
    index: number;
    method: string;
    ok: boolean;
    dcId: number;
    result: unknown;
    assigned: Record<string, string>;
    traceId: string;
    chain: string;
  }[];
  assert.deepEqual(
    results.map((x) => [x.index, x.method, x.ok, x.dcId]),
    [
      [0, 'users.getUsers', true, 4],
      [1, 'users.getUsers', true, 4],
      [2, 'users.getFullUser', true, 2],
      [3, 'messages.getHistory', true, 4],
      [4, 'help.getNearestDc', true, 4],
    ],
  );
  assert.equal(results[0]!.assigned.me, '7000041234');
  assert.match(results[0]!.traceId, /^\d+$/);
  assert.deepEqual(results[4]!.result, { _: 'nearestDc', country: 'XX', this_dc: 4, nearest_dc: 2 });

  const one = await dclabIn(['run', EXAMPLE, '--env', 'sandbox', '--request', '5', ...A]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^### \[5\] help\.getNearestDc @DC4 → ok/);
  assert.equal(one.stdout.split('\n').filter((l) => l.startsWith('### ')).length, 1);
  // one request whose variables come from an earlier one: the error says which request to run first
  const alone = await dclabIn(['run', EXAMPLE, '--env', 'sandbox', '--title', 'same user', ...A]);
  assert.equal(alone.code, 2, alone.stderr);
  assert.match(alone.stdout, /### \[2\] users\.getUsers → UNDEFINED_VARIABLE/);
  assert.match(alone.stderr, /undefined variable `me` \(line 21\): run the request that assigns it first \(request #1\)/);
  const none = await dclabIn(['run', EXAMPLE, '--env', 'sandbox', '--request', '9', ...A]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--request 9: .* has 5 requests/);
});

test('schema errors: FILE:LINE:COL lines, exit 2 and nothing sent; a missing environment is an error too', { timeout: 30_000 }, async () => {
  const bad = join(dir, 'bad.mtproto');
  writeFileSync(bad, '### bad\nusers.getUsers\n{ "id": [{ "_": "inputPeerSelf" }], "limit": 5 }\n###\nmessages.getHistroy\n{}\n');
  const logBefore = sandbox.log();
  const r = await dclabIn(['run', bad, ...A]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(
    lines[0],
    `${bad}:3:17: error: id[0]._: "inputPeerSelf" is of type InputPeer, not InputUser; InputUser is one of: inputUserEmpty, inputUserSelf, inputUser, inputUserFromMessage`,
  );
  assert.equal(lines[1], `${bad}:3:37: error: unknown parameter "limit" of users.getUsers; its parameters: id`);
  assert.equal(lines[2], `${bad}:5:1: error: unknown method \`messages.getHistroy\` in layer 227; did you mean \`messages.getHistory\`?`);
  assert.match(lines[3]!, /dclab run: 3 errors in .*bad\.mtproto; nothing was sent/);
  assert.equal(r.stdout, '');
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(sandbox.log(), logBefore, 'no connection was made');

  // the example without --env: its environment variables are undefined
  const noEnv = await dclabIn(['run', EXAMPLE, ...A]);
  assert.equal(noEnv.code, 2);
  assert.match(noEnv.stderr, /sandbox\.mtproto:33:\d+: error: undefined variable `savedPeer`/);
  const unknownEnv = await dclabIn(['run', EXAMPLE, '--env', 'staging', ...A]);
  assert.equal(unknownEnv.code, 2);
  assert.match(unknownEnv.stderr, /no environment "staging" \(it has: sandbox, sandbox-all\)/);

  // --schema: a user's .tl replaces the bundled layer for the check (here one where users.getUsers takes a limit)
  const tl = join(dir, 'mine.tl');
  writeFileSync(
    tl,
    'inputUserSelf#f7c1b13f = InputUser;\nuser#12345678 id:long = User;\n---functions---\nusers.getUsers#0d91a548 id:Vector<InputUser> limit:int = Vector<User>;\n',
  );
  const withLimit = join(dir, 'limit.mtproto');
  writeFileSync(withLimit, 'users.getUsers\n{ "id": [{ "_": "inputUserSelf" }], "limit": "five" }\n');
  const mine = await dclabIn(['run', withLimit, '--schema', tl, ...A]);
  assert.equal(mine.code, 2, mine.stderr);
  assert.match(mine.stderr, /limit\.mtproto:2:46: error: limit: expected int \(32-bit integer\), got the string "five"/);
  const notTl = await dclabIn(['run', withLimit, '--schema', bad, ...A]);
  assert.equal(notTl.code, 2);
  assert.match(notTl.stderr, /--schema .*bad\.mtproto: /);
});

test('an rpc error: exit 1, the error code in the header, the message and chain on stderr; --continue-on-error', { timeout: 30_000 }, async () => {
  const file = join(dir, 'rpc.mtproto');
  writeFileSync(
    file,
    'users.getUsers\n{ "id": [{ "_": "inputUserSelf" }] }\n###\nusers.getFullUser\n{ "id": { "_": "inputUser", "user_id": "1", "access_hash": "0" } }\n###\nhelp.getNearestDc\n',
  );
  const r = await dclabIn(['run', file, ...A]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /### \[1\] users\.getUsers @DC4 → ok/);
  assert.match(r.stdout, /### \[2\] users\.getFullUser @DC4 → USER_ID_INVALID \(\d+ ms\)/);
  assert.ok(!r.stdout.includes('[3]'), 'stopped at the failure');
  assert.match(r.stderr, /users\.getFullUser @DC4 → USER_ID_INVALID/);
  assert.match(r.stderr, /dclab run: request #2 \(users\.getFullUser\): 400 USER_ID_INVALID from users\.getFullUser on DC4/);
  assert.match(r.stderr, /stopped after request #2 failed; 1 not run \(--continue-on-error runs them\)/);
  const all = await dclabIn(['run', file, '--continue-on-error', '--json', ...A]);
  assert.equal(all.code, 1);
  const results = JSON.parse(all.stdout) as { ok: boolean; error?: { code: string; dcId: number } }[];
  assert.deepEqual(
    results.map((x) => x.ok),
    [true, false, true],
  );
  assert.deepEqual(results[1]!.error, { code: 'USER_ID_INVALID', message: '400 USER_ID_INVALID from users.getFullUser on DC4', dcId: 4 });
});
