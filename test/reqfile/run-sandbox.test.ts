// Real runs of request files against the real sandbox (loopback, in-process) through the routed client: a file
// that logs in itself (PHONE_MIGRATE followed) and chains response variables, the example file after a login
// (with its environment and a transfer to another DC), an rpc error, and validation that sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient, type DcClient } from '../../src/lifecycle/client';
import { analyzeRequestFile, clientRunCall, loadEnvironment, runRequests } from '../../src/reqfile';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { apiSchema } from '../../src/tl/bundled';
import { TraceStore } from '../../src/trace';

const schema = apiSchema();
const dataDir = mkdtempSync(join(tmpdir(), 'dclab-reqfile-'));
const EXAMPLE = resolve(__dirname, '..', '..', 'examples', 'requests', 'sandbox.mtproto');
let sandbox: Sandbox;
const clients: DcClient[] = [];

test.before(async () => {
  sandbox = await startSandbox({ basePort: 0, dataDir, ipv6: false, log: () => {} });
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function newClient(): { client: DcClient; trace: TraceStore } {
  const trace = new TraceStore();
  const client = createDcClient({ profile: profileFromSandboxInfo(sandbox.info, { firstDc: 2 }), trace });
  clients.push(client);
  return { client, trace };
}

test('a file that logs in itself (PHONE_MIGRATE_4 followed), then chains response variables into later requests', { timeout: 30_000 }, async () => {
  const { client, trace } = newClient();
  await client.start();
  // 99966X1234 is a seeded user of DC X whose code is X repeated (src/sandbox/phones.ts)
  const text = `@phone = 9996641234
### send the code (DC2 sends us to DC4)
auth.sendCode
{ "phone_number": "{{phone}}", "api_id": 1, "api_hash": "{{apiHash}}", "settings": { "_": "codeSettings" } }
@hash = {{response.phone_code_hash}}
### sign in
auth.signIn
{ "phone_number": "{{phone}}", "phone_code_hash": "{{hash}}", "phone_code": "44444" }
@me = {{response.user.id}}
@meHash = {{response.user.access_hash}}
### me by id
users.getUsers
{ "id": [{ "_": "inputUser", "user_id": "{{me}}", "access_hash": "{{meHash}}" }] }
@name = {{response[0].first_name}} ({{response[0].phone}})
### full
users.getFullUser
{ "id": { "_": "inputUser", "user_id": "{{me}}", "access_hash": "{{meHash}}" } }
`;
  assert.deepEqual(analyzeRequestFile(text, schema, { knownVariables: ['apiHash'] }), []);
  const seen: string[] = [];
  const out = await runRequests(text, {
    schema,
    call: clientRunCall(client, { trace, profile: 'sandbox' }),
    environment: { apiHash: '0123456789abcdef0123456789abcdef' },
    onResult: (r) => seen.push(`${r.index}:${r.ok}`),
  });
  assert.deepEqual(seen, ['0:true', '1:true', '2:true', '3:true'], JSON.stringify(out.results.map((r) => r.error)));
  const [sent, signIn, byId, full] = out.results as [(typeof out.results)[0], (typeof out.results)[0], (typeof out.results)[0], (typeof out.results)[0]];
  assert.equal(sent.title, 'send the code (DC2 sends us to DC4)');
  assert.equal(sent.dcId, 4, 'answered by DC4 after the redirect');
  assert.deepEqual(sent.hops, [{ dcId: 2, redirect: 'PHONE_MIGRATE_4' }, { dcId: 4 }]);
  assert.match(sent.chain!, /auth\.sendCode @DC2 → PHONE_MIGRATE_4 → connect DC4 → auth key DC4 \(3 round trips\) → auth\.sendCode @DC4 → auth\.sentCode/);
  assert.match(sent.assigned.hash!, /^[0-9a-f]+$/);
  assert.equal(signIn.dcId, 4);
  assert.deepEqual(signIn.assigned.me, '7000041234');
  assert.equal((signIn.result as { user: { id: string } }).user.id, '7000041234');
  assert.equal(byId.dcId, 4);
  const users = byId.result as { _: string; id: string; self?: boolean }[];
  assert.equal(users.length, 1);
  assert.equal(users[0]!.id, '7000041234');
  assert.equal(users[0]!.self, true);
  assert.equal(byId.assigned.name, 'Sandbox User 41234 (9996641234)');
  const fullUser = full.result as { _: string; full_user: { id: string; about: string } };
  assert.equal(fullUser._, 'users.userFull');
  assert.equal(fullUser.full_user.id, '7000041234');
  assert.ok(byId.traceId && trace.get(Number(byId.traceId))?.name === 'users.getUsers', 'traceId is the call in the client trace');
  // the login code went out but the trace keeps it redacted
  const signInCall = trace.events().find((e) => e.kind === 'call' && e.name === 'auth.signIn' && e.payload);
  assert.equal((signInCall!.payload as { phone_code: string }).phone_code, '[redacted]');
  assert.deepEqual(Object.keys(out.variables).sort(), ['hash', 'me', 'meHash', 'name']);
});

test('the example file after a login: environment values, @dc 2 transfers the authorization, all results check out', { timeout: 30_000 }, async () => {
  const { client, trace } = newClient();
  await client.start();
  const phone = '9996651234';
  await client.login({
    phone,
    code: async () =>
      sandbox
        .inbox()
        .filter((m) => m.phone === phone)
        .at(-1)!.code,
  });
  const text = readFileSync(EXAMPLE, 'utf8');
  const env = await loadEnvironment(EXAMPLE, 'sandbox');
  assert.equal(env.file, join(resolve(EXAMPLE, '..'), 'dclab.env.json'));
  assert.deepEqual(analyzeRequestFile(text, schema, { knownVariables: Object.keys(env.variables) }), []);
  const out = await runRequests(text, { schema, call: clientRunCall(client, { trace, profile: 'sandbox' }), environment: env.variables });
  assert.deepEqual(
    out.results.map((r) => [r.method, r.ok, r.dcId]),
    [
      ['users.getUsers', true, 5],
      ['users.getUsers', true, 5],
      ['users.getFullUser', true, 2],
      ['messages.getHistory', true, 5],
      ['help.getNearestDc', true, 5],
    ],
  );
  const [me, byId, full, history] = out.results;
  assert.deepEqual(me!.assigned, {
    me: '7000051234',
    meHash: (me!.result as { access_hash: string }[])[0]!.access_hash,
    greeting: 'Hello, Sandbox User 51234',
  });
  assert.deepEqual(byId!.result, me!.result, 'the same user by id and access_hash');
  assert.match(
    full!.chain!,
    /users\.getFullUser @DC2 → transfer DC5 to DC2 → auth\.exportAuthorization @DC5 .*auth\.importAuthorization @DC2 .*users\.userFull/,
  );
  assert.equal(full!.assigned.about, 'A user of the MTProto DC Lab sandbox');
  const messages = (history!.result as { messages: unknown[] }).messages;
  assert.equal(messages.length, 3, 'limit from the environment ($shared historyLimit = 3)');
});

test('an rpc error ends the run with its code, numeric code and DC; a validation error sends nothing', { timeout: 30_000 }, async () => {
  const { client, trace } = newClient();
  await client.start();
  const phone = '9996621234';
  await client.login({
    phone,
    code: async () =>
      sandbox
        .inbox()
        .filter((m) => m.phone === phone)
        .at(-1)!.code,
  });
  const text = `users.getUsers
{ "id": [{ "_": "inputUserSelf" }] }
###
users.getFullUser
{ "id": { "_": "inputUser", "user_id": "1", "access_hash": "0" } }
###
help.getNearestDc`;
  const out = await runRequests(text, { schema, call: clientRunCall(client, { trace }) });
  assert.deepEqual(
    out.results.map((r) => r.ok),
    [true, false],
    'stops at the failure',
  );
  const failed = out.results[1]!;
  assert.deepEqual(failed.error, { code: 'USER_ID_INVALID', message: '400 USER_ID_INVALID from users.getFullUser on DC2', dcId: 2 });
  assert.match(failed.chain!, /users\.getFullUser @DC2 → USER_ID_INVALID/);

  const calls = (): number => trace.events().filter((e) => e.kind === 'call').length;
  const before = calls();
  const bad = await runRequests('users.getUsers\n{ "id": [{ "_": "inputUser", "user_id": "{{x}}", "access_hash": "0" }] }', {
    schema,
    call: clientRunCall(client, { trace }),
    environment: { x: 'me' },
  });
  assert.equal(bad.results[0]!.error!.code, 'VALIDATION');
  assert.equal(bad.results[0]!.error!.path, 'id[0].user_id');
  assert.equal(calls(), before, 'nothing was sent');
  // a request meant for another profile is refused by the call
  const other = await runRequests('@profile production\nhelp.getNearestDc', { schema, call: clientRunCall(client, { trace, profile: 'sandbox' }) });
  assert.equal(other.results[0]!.error!.code, 'PROFILE_MISMATCH');
});
