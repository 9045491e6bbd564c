// The runner at unit level with a fake `call` (ordering, variable resolution, validation before sending, error
// mapping, redaction) and environment files in temporary folders. Real runs are in run-sandbox.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachCallTrace, EnvironmentError, loadEnvironment, runRequests, RunCallError, type RequestRunResult, type RunCall } from '../../src/reqfile';
import { LifecycleError } from '../../src/lifecycle/errors';
import { RpcError } from '../../src/mtproto/errors';
import { apiSchema } from '../../src/tl/bundled';
import type { TlObject } from '../../src/tl/types';

const schema = apiSchema();

interface Sent {
  method: TlObject;
  dcId?: number;
  profile?: string;
}

/** A fake server: records what is sent and answers from a table by method name. */
function fake(answers: Record<string, (m: TlObject) => unknown>): { call: RunCall; sent: Sent[] } {
  const sent: Sent[] = [];
  const call: RunCall = async (method, opts) => {
    sent.push({ method, ...(opts.dcId !== undefined ? { dcId: opts.dcId } : {}), ...(opts.profile !== undefined ? { profile: opts.profile } : {}) });
    const answer = answers[method._];
    if (!answer) throw new Error(`no fake answer for ${method._}`);
    return { result: answer(method), dcId: opts.dcId ?? 4, traceId: String(sent.length), chain: `${method._} @DC${opts.dcId ?? 4} → ok` };
  };
  return { call, sent };
}

const user = (id: bigint): TlObject => ({ _: 'user', id, access_hash: 99n, first_name: 'Ann', self: true });

test('requests run in order; assignments feed later bodies as raw text; results are tlToJson + redacted', async () => {
  const text = `@self = {"_":"inputUserSelf"}
### me
users.getUsers
{ "id": [ {{self}} ] }
@me = {{response[0].id}}
@who = user-{{response[0].id}}/{{response[0].first_name}}
@raw = {{response[0]}}
###
@dc 3
users.getFullUser
{ "id": { "_": "inputUser", "user_id": "{{me}}", "access_hash": "{{hash}}" } }
###
auth.exportAuthorization
{ "dc_id": 5 }`;
  const { call, sent } = fake({
    'users.getUsers': () => [user(7000041234n)],
    'users.getFullUser': (m) => ({ _: 'users.userFull', full_user: { _: 'userFull', id: (m.id as TlObject).user_id }, chats: [], users: [] }),
    'auth.exportAuthorization': () => ({ _: 'auth.exportedAuthorization', id: 1n, bytes: new Uint8Array(128) }),
  });
  const seen: number[] = [];
  const out = await runRequests(text, { schema, call, environment: { hash: '42' }, onResult: (r) => seen.push(r.index) });
  assert.deepEqual(seen, [0, 1, 2]);
  assert.deepEqual(
    out.results.map((r) => [r.index, r.ok, r.dcId, r.title]),
    [
      [0, true, 4, 'me'],
      [1, true, 3, undefined],
      [2, true, 4, undefined],
    ],
  );
  assert.deepEqual(sent[0]!.method, { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] });
  assert.deepEqual(sent[1]!.method, { _: 'users.getFullUser', id: { _: 'inputUser', user_id: 7000041234n, access_hash: 42n } });
  assert.equal(sent[1]!.dcId, 3);
  const first = out.results[0]!;
  assert.deepEqual(first.result, [{ _: 'user', id: '7000041234', access_hash: '99', first_name: 'Ann', self: true }]);
  assert.deepEqual(first.assigned, {
    me: '7000041234',
    who: 'user-7000041234/Ann',
    raw: '{"_":"user","id":"7000041234","access_hash":"99","first_name":"Ann","self":true}',
  });
  assert.equal(first.traceId, '1');
  assert.equal(first.chain, 'users.getUsers @DC4 → ok');
  assert.deepEqual((out.results[1]!.result as { full_user: unknown }).full_user, { _: 'userFull', id: '7000041234' });
  assert.deepEqual(out.results[2]!.result, { _: 'auth.exportedAuthorization', id: '1', bytes: '[redacted 128 bytes]' }, 'secrets never come back');
  assert.deepEqual(out.variables, { me: '7000041234', who: 'user-7000041234/Ann', raw: first.assigned.raw });
});

test("resolution order: this run's assignments > carried variables > file variables > environment", async () => {
  const text = `@a = file-a
@b = file-b
@c = {{b}}+{{d}}
help.getNearestDc
@a = {{response.country}}
###
help.getConfig
{ }
@x = {{a}}|{{b}}|{{c}}|{{e}}`;
  const { call } = fake({
    'help.getNearestDc': () => ({ _: 'nearestDc', country: 'XX', this_dc: 2, nearest_dc: 2 }),
    'help.getConfig': () => ({ _: 'config' }),
  });
  const out = await runRequests(text, { schema, call, variables: { b: 'carried-b', a: 'carried-a' }, environment: { a: 'env-a', d: 'env-d', e: 'env-e' } });
  assert.deepEqual(
    out.results.map((r) => r.ok),
    [true, true],
  );
  // a: assigned in this run; b: carried; c: a file variable expanded with b (carried) and d (env); e: env
  assert.equal(out.variables.x, 'XX|carried-b|carried-b+env-d|env-e');
});

test('a single request (only) uses carried variables; without them the error names the variable and the request', async () => {
  const text = `users.getUsers
{"id":[{"_":"inputUserSelf"}]}
@me = {{response[0].id}}
###
users.getUsers
{ "id": [{ "_": "inputUser", "user_id": "{{me}}", "access_hash": "0" }] }`;
  const { call, sent } = fake({ 'users.getUsers': () => [user(5n)] });
  const alone = await runRequests(text, { schema, call, only: 1 });
  assert.equal(alone.results.length, 1);
  const r = alone.results[0]!;
  assert.equal(r.ok, false);
  assert.equal(r.error!.code, 'UNDEFINED_VARIABLE');
  assert.equal(r.error!.message, 'undefined variable `me` (line 6): run the request that assigns it first (request #1)');
  assert.equal(sent.length, 0, 'nothing sent');
  // run #1 alone, then #2 alone with the variables carried over
  const one = await runRequests(text, { schema, call, only: 0 });
  const two = await runRequests(text, { schema, call, only: 1, variables: one.variables });
  assert.equal(two.results[0]!.ok, true);
  assert.deepEqual(
    sent.map((s) => s.method),
    [
      { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] },
      { _: 'users.getUsers', id: [{ _: 'inputUser', user_id: 5n, access_hash: 0n }] },
    ],
  );
  await assert.rejects(runRequests(text, { schema, call, only: 7 }), /there is no request #8: the file has 2 requests/);
});

test('validation before sending: JSON after substitution and TlJsonError → VALIDATION with path and expected', async () => {
  const text = `@bad = [1,
users.getUsers
{ "id": {{bad}} }
###
users.getUsers
{ "id": [{ "_": "inputUser", "user_id": "{{name}}", "access_hash": "0" }] }
###
messages.getHistory
{ "peer": {"_": "inputPeerSelf"}, "limit": "{{n}}" }
###
inputUserSelf`;
  const { call, sent } = fake({});
  const out = await runRequests(text, { schema, call, stopOnError: false, environment: { name: 'not-a-number', n: '5' } });
  assert.equal(sent.length, 0, 'nothing reached the server');
  const errors = out.results.map((r) => r.error!);
  assert.deepEqual(
    errors.map((e) => e.code),
    ['VALIDATION', 'VALIDATION', 'VALIDATION', 'VALIDATION'],
  );
  assert.match(errors[0]!.message, /the body of request #1 \(users\.getUsers\) is not valid JSON after substituting variables/);
  assert.equal(errors[1]!.path, 'id[0].user_id');
  assert.equal(errors[1]!.expected, 'long (decimal string or integer)');
  assert.equal(errors[2]!.path, 'offset_id', 'the first missing or wrong field in schema order');
  assert.match(errors[3]!.message, /unknown method `inputUserSelf` in layer 227 \(that is a constructor\)/);
});

test('stopOnError (default) stops at the first failure; rpc, lifecycle, own and plain errors are mapped', async () => {
  const text = 'help.getNearestDc\n###\nhelp.getConfig\n###\nhelp.getCdnConfig\n###\nupdates.getState\n###\nhelp.getNearestDc';
  const errors: Record<string, unknown> = {
    'help.getConfig': attachCallTrace(new RpcError(400, 'PHONE_NUMBER_INVALID', 'help.getConfig', 4), {
      chain: 'help.getConfig @DC4 → PHONE_NUMBER_INVALID',
      traceId: '9',
    }),
    'help.getCdnConfig': new LifecycleError('FLOOD_WAIT', 'FLOOD_WAIT_60 on DC2 is longer than the threshold', { dcId: 2 }),
    'updates.getState': new RunCallError('PROFILE_MISMATCH', 'wrong profile'),
  };
  let n = 0;
  const call: RunCall = async (m) => {
    n++;
    if (errors[m._]) throw errors[m._];
    if (m._ === 'help.getNearestDc' && n > 1) throw new Error('socket hang up');
    return { result: { _: 'nearestDc', country: 'XX', this_dc: 2, nearest_dc: 2 } };
  };
  const stopped = await runRequests(text, { schema, call });
  assert.deepEqual(
    stopped.results.map((r) => r.ok),
    [true, false],
  );
  const rpc = stopped.results[1]!;
  assert.deepEqual(rpc.error, { code: 'PHONE_NUMBER_INVALID', message: '400 PHONE_NUMBER_INVALID from help.getConfig on DC4', dcId: 4 });
  assert.equal(rpc.dcId, 4);
  assert.equal(rpc.chain, 'help.getConfig @DC4 → PHONE_NUMBER_INVALID');
  assert.equal(rpc.traceId, '9');
  n = 0;
  const all = await runRequests(text, { schema, call, stopOnError: false });
  assert.deepEqual(
    all.results.map((r) => r.error?.code ?? 'ok'),
    ['ok', 'PHONE_NUMBER_INVALID', 'FLOOD_WAIT', 'PROFILE_MISMATCH', 'ERROR'],
  );
  assert.equal(all.results[2]!.dcId, 2);
  assert.equal(all.results[4]!.error!.message, 'socket hang up');
});

test('dcOverride beats @dc; @profile reaches the call; an aborted signal stops before the next request', async () => {
  const text = '@dc 2\n@profile test\nhelp.getNearestDc\n###\n@dc 3\nhelp.getNearestDc';
  const { call, sent } = fake({ 'help.getNearestDc': () => ({ _: 'nearestDc', country: 'XX', this_dc: 1, nearest_dc: 1 }) });
  await runRequests(text, { schema, call, dcOverride: 5 });
  assert.deepEqual(
    sent.map((s) => [s.dcId, s.profile]),
    [
      [5, 'test'],
      [5, undefined],
    ],
  );
  const ac = new AbortController();
  const results: RequestRunResult[] = [];
  await runRequests(text, {
    schema,
    call,
    signal: ac.signal,
    onResult: (r) => {
      results.push(r);
      ac.abort();
    },
  });
  assert.equal(results.length, 1);
});

test('assignment failures name the path, what is there and the request; later users say which request failed', async () => {
  const text =
    'users.getUsers\n{"id":[{"_":"inputUserSelf"}]}\n@me = {{response[1].id}}\n###\nusers.getUsers\n{"id":[{"_":"inputUser","user_id":"{{me}}","access_hash":"0"}]}\n###\nhelp.getNearestDc\n@x = {{response.missing}}';
  const { call } = fake({ 'users.getUsers': () => [user(1n)], 'help.getNearestDc': () => ({ _: 'nearestDc', country: 'XX', this_dc: 1, nearest_dc: 1 }) });
  const out = await runRequests(text, { schema, call, stopOnError: false });
  const [a, b, c] = out.results;
  assert.equal(a!.ok, false);
  assert.equal(a!.error!.code, 'ASSIGNMENT');
  assert.equal(a!.error!.message, 'request #1 (users.getUsers), @me (line 3): `response[1].id` does not resolve: `response` has 1 element');
  assert.equal(a!.error!.path, 'response[1].id');
  assert.ok(a!.result, 'the result is still there');
  assert.equal(b!.error!.message, 'undefined variable `me` (line 6): request #1, which assigns it, failed');
  assert.match(c!.error!.message, /`response\.missing` does not resolve: `response` is an object nearestDc with country, this_dc, nearest_dc/);
});

test('environment files: nearest dclab.env.json upwards, $shared + selected, JSON values as text, errors', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dclab-env-'));
  try {
    const deep = join(root, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const file = join(deep, 'x.mtproto');
    writeFileSync(file, 'help.getNearestDc\n');
    // no env file anywhere up to / (tmpdir normally has none): no variables, but a named env is an error
    assert.deepEqual(await loadEnvironment(file), { variables: {} });
    await assert.rejects(
      loadEnvironment(file, 'dev'),
      (e: unknown) => e instanceof EnvironmentError && /environment "dev": no dclab\.env\.json in .*a\/b or any parent folder/.test((e as Error).message),
    );

    writeFileSync(join(root, 'dclab.env.json'), JSON.stringify({ $shared: { who: 'root' } }));
    writeFileSync(
      join(root, 'a', 'dclab.env.json'),
      JSON.stringify({ $shared: { limit: 5, peer: { _: 'inputPeerSelf' }, name: 'shared' }, dev: { name: 'dev', flag: true, nothing: null }, prod: {} }),
    );
    const dev = await loadEnvironment(file, 'dev');
    assert.equal(dev.file, join(root, 'a', 'dclab.env.json'), 'the nearest one wins');
    assert.deepEqual(dev.variables, { limit: '5', peer: '{"_":"inputPeerSelf"}', name: 'dev', flag: 'true', nothing: 'null' });
    assert.deepEqual((await loadEnvironment(file)).variables, { limit: '5', peer: '{"_":"inputPeerSelf"}', name: 'shared' });
    await assert.rejects(loadEnvironment(file, 'staging'), /no environment "staging" \(it has: dev, prod\)/);
    await assert.rejects(loadEnvironment(file, '$shared'), /no environment "\$shared"/);
    writeFileSync(join(root, 'a', 'dclab.env.json'), '{ "dev": [1] }');
    await assert.rejects(loadEnvironment(file, 'dev'), /"dev" must be an object of variables/);
    writeFileSync(join(root, 'a', 'dclab.env.json'), '{ nope');
    await assert.rejects(loadEnvironment(file), /not valid JSON/);

    // the environment feeds the runner (lowest priority)
    writeFileSync(join(root, 'a', 'dclab.env.json'), JSON.stringify({ $shared: { peer: { _: 'inputPeerSelf' }, n: 2 } }));
    const env = await loadEnvironment(file);
    const { call, sent } = fake({ 'messages.getHistory': () => ({ _: 'messages.messages', messages: [], chats: [], users: [] }) });
    const out = await runRequests(
      'messages.getHistory\n{ "peer": {{peer}}, "offset_id": 0, "offset_date": 0, "add_offset": 0, "limit": {{n}}, "max_id": 0, "min_id": 0, "hash": "0" }',
      {
        schema,
        call,
        environment: env.variables,
      },
    );
    assert.equal(out.results[0]!.ok, true, JSON.stringify(out.results[0]!.error));
    assert.deepEqual(sent[0]!.method.peer, { _: 'inputPeerSelf' });
    assert.equal(sent[0]!.method.limit, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
