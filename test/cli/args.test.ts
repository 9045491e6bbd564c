// Argument parsing and validation of the dclab commands, in-process (no network): exit codes, messages that name
// the flag / field and the expected value, per-command --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs, UsageError } from '../../src/cli/args';
import { buildMethodCall } from '../../src/cli/call';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { normalizePhone, testNumberDc, isTestPasswordNumber } from '../../src/cli/login';

function io(): CliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    out(t: string) {
      o.stdout += t;
    },
    err(t: string) {
      o.stderr += t;
    },
    stdin: new PassThrough(),
    env: {},
    interactive: false,
  };
  return o;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const i = io();
  const code = await runCli(args, i);
  return { code, stdout: i.stdout, stderr: i.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'dclab-args-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const D = ['--data-dir', join(dir, 'data')];

test('parseArgs: --flag value, --flag=value, booleans, lists, -- and positionals', () => {
  const p = parseArgs('x', ['A', '--n', '3', '--s=v', '--b', '--l', 'one', '--l=two', '--', '--not-a-flag'], {
    '--n': { kind: 'int', min: 1, max: 5 },
    '--s': { kind: 'string' },
    '--b': { kind: 'boolean' },
    '--l': { kind: 'list' },
  });
  assert.deepEqual(p.positionals, ['A', '--not-a-flag']);
  assert.equal(p.flags.get('--n'), 3);
  assert.equal(p.flags.get('--s'), 'v');
  assert.equal(p.flags.get('--b'), true);
  assert.deepEqual(p.flags.get('--l'), ['one', 'two']);
});

test('parseArgs: errors name the flag and the expected value', () => {
  const specs = {
    '--dc': { kind: 'int' as const, value: 'a DC id 1..65535', min: 1, max: 65535 },
    '--name': { kind: 'string' as const, value: 'a name' },
    '--b': { kind: 'boolean' as const },
  };
  assert.throws(
    () => parseArgs('x', ['--dc', 'four'], specs),
    (e: unknown) => e instanceof UsageError && e.message === '--dc needs a DC id 1..65535, got "four"',
  );
  assert.throws(() => parseArgs('x', ['--dc', '0'], specs), /--dc needs a DC id 1\.\.65535, got 0/);
  assert.throws(() => parseArgs('x', ['--name'], specs), /--name needs a name$/);
  assert.throws(() => parseArgs('x', ['--name', '--b'], specs), /--name needs a name$/);
  assert.throws(() => parseArgs('x', ['--b=yes'], specs), /--b takes no value/);
  assert.throws(() => parseArgs('x', ['--nmae', 'x'], specs), /unknown option --nmae/);
  assert.throws(() => parseArgs('x', ['--dc', '1', '--dc', '2'], specs), /--dc given twice/);
  assert.throws(() => parseArgs('x', ['a', 'b'], specs, { maxPositionals: 1 }), /unexpected argument: "b"/);
});

test('exit code 2 with the flag named: bad --profile, --sandbox-port, --data-dir without value, unknown option', async () => {
  let r = await run(['status', ...D, '--profile', 'staging']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--profile needs sandbox, test, production or custom:<name>.*got "staging"/);
  r = await run(['status', ...D, '--sandbox-port', 'abc']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sandbox-port needs a base port 0\.\.65530 \(0 = ephemeral\), got "abc"/);
  r = await run(['trace', '--data-dir']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--data-dir needs a directory/);
  r = await run(['status', ...D, '--jsn']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option --jsn/);
  assert.match(r.stderr, /see dclab status --help/);
  r = await run(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  r = await run([]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Commands:/);
});

test('exit code 2 for flags that do not fit the profile', async () => {
  let r = await run(['status', ...D, '--profile', 'test', '--sandbox-info', '/nonexistent.json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sandbox-info only goes with --profile sandbox \(profile is test\)/);
  r = await run(['status', ...D, '--dc-address', '2=1.2.3.4:443']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dc-address, --rsa-pem and --test-mode only go with --profile custom:<name>/);
  r = await run(['status', ...D, '--profile', 'custom:lab', '--dc-address', '2=1.2.3.4']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dc-address needs ID=HOST:PORT/);
  r = await run(['login', ...D, '--sandbox-info', 'a.json', '--sandbox-port', '0', '--phone', '9996641234']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sandbox-port is for the embedded sandbox/);
});

test('login: --phone is required and must be digits; bad --code is rejected without echoing it', async () => {
  let r = await run(['login', ...D]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--phone is required/);
  r = await run(['login', ...D, '--phone', 'abc']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--phone needs a phone number of 5\.\.15 digits, got "abc"/);
  r = await run(['login', ...D, '--phone', '9996641234', '--code', 'x9s8d7']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--code needs 3\.\.10 digits \(value not shown\)/);
  assert.ok(!r.stderr.includes('x9s8d7'));
  assert.equal(normalizePhone('+999 66-4 (1234)'), '9996641234');
  assert.equal(testNumberDc('9996641234'), 4);
  assert.equal(testNumberDc('9996601234'), undefined);
  assert.equal(isTestPasswordNumber('9996619234'), true);
  assert.equal(isTestPasswordNumber('9996611234'), false);
});

test('call: the JSON validation error names the field path and the expected type (exit 2, before any connection)', async () => {
  let r = await run(['call', ...D, 'users.getUsers', '{"id":[5]}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid parameters for users\.getUsers: field id\[0\]: got number 5; expected InputUser/);
  r = await run(['call', ...D, 'messages.getDialogs', '{"offset_date":"yesterday","offset_id":0,"offset_peer":{"_":"inputPeerEmpty"},"limit":10,"hash":"0"}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /field offset_date: got the string "yesterday"; expected int \(32-bit integer\)/);
  r = await run(['call', ...D, 'users.getUsers', '{"id":[{"_":"inputUser","user_id":"12","access_hash":"x"}]}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /field id\[0\]\.access_hash: got the string "x"; expected long/);
  r = await run(['call', ...D, 'users.getUsers', '{}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /field id: missing required field; expected Vector<InputUser>/);
  r = await run(['call', ...D, 'users.getUsers', '{"id":[], "ids":1}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /field ids: unknown field "ids"; expected one of the fields of users\.getUsers: id/);
  r = await run(['call', ...D, 'users.getUsers', '{"id":[']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the parameters of users\.getUsers are not valid JSON/);
  r = await run(['call', ...D, 'users.getuser']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown method "users\.getuser".*did you mean users\.getUsers/);
  r = await run(['call', ...D, 'user', '{}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /that is a constructor, not a method/);
  r = await run(['call', ...D]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /METHOD is required/);
  r = await run(['call', ...D, 'help.getConfig', '--dc', '9']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dc 9: the sandbox has DCs 1\.\.5/);
});

test('buildMethodCall maps JSON to TL values (long → bigint, flags as present fields)', () => {
  const m = buildMethodCall('users.getUsers', '{"id":[{"_":"inputUser","user_id":"7000041234","access_hash":"-5"}]}');
  assert.deepEqual(m, { _: 'users.getUsers', id: [{ _: 'inputUser', user_id: 7000041234n, access_hash: -5n }] });
  assert.deepEqual(buildMethodCall('help.getConfig', undefined), { _: 'help.getConfig' });
  assert.throws(() => buildMethodCall('help.getConfig', '[1]'), /must be a JSON object/);
  assert.throws(() => buildMethodCall('help.getConfig', '{"_":"help.getNearestDc"}'), /"_": "help\.getNearestDc", but the method is help\.getConfig/);
});

test('--help per command prints its usage and exits 0', async () => {
  for (const [cmd, needle] of [
    ['login', /usage: dclab login --phone P/],
    ['call', /usage: dclab call METHOD/],
    ['status', /usage: dclab status/],
    ['trace', /usage: dclab trace/],
    ['logout', /usage: dclab logout/],
    ['demo', /usage: dclab demo/],
  ] as const) {
    const r = await run([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, needle);
    if (cmd !== 'demo') assert.match(r.stdout, /Attached \(--sandbox-info F\)/);
  }
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Exit codes: 0 ok, 1 failure, 2 usage error/);
});

test('trace on an empty data dir: exit 1 with a hint; status works offline', async () => {
  const d = ['--data-dir', join(dir, 'empty')];
  let r = await run(['trace', ...d]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no trace stored for profile sandbox/);
  r = await run(['status', '--json', ...d]);
  assert.equal(r.code, 0);
  const s = JSON.parse(r.stdout);
  assert.equal(s.loggedIn, false);
  assert.deepEqual(s.dcs, []);
  // status made no sandbox (it never starts one)
  assert.ok(!existsSync(join(dir, 'empty', 'sandbox')));
});

test('test profile: missing credentials fail with exit 1 naming what to pass; a malformed api_hash is not echoed', async () => {
  const d = ['--data-dir', join(dir, 'tp')];
  const r = await run(['call', ...d, '--profile', 'test', 'help.getConfig']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /needs an api_id .*--api-id N/);
  const i = io();
  i.env = { DCLAB_API_HASH: 'not-a-hash-SECRET' };
  const code = await runCli(['call', ...d, '--profile', 'test', '--api-id', '12345', 'help.getConfig'], i);
  assert.equal(code, 1);
  assert.match(i.stderr, /api_hash must be 32 hex digits \(value not shown\)/);
  assert.ok(!i.stderr.includes('SECRET'));
});
