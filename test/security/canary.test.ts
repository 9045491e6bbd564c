// The secret canary: a run with known values for the api_hash, the login code (a wrong one and the right one), the
// 2FA password (a wrong one and the right one) and — read back after the run — the auth keys, through login with 2FA, calls on other DCs, error
// answers to calls that carry a code or a password, a download, the trace export, the CLI's stdout/stderr, the
// extension's LabSession (log, saved trace, panel query answers) and the panel's saved state. Then every file
// written under the temp dirs and every captured stream is searched for each canary as text, hex and base64:
// nothing anywhere, except secrets.json (auth keys and api_hash, which must be there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { cliBackends } from '../../src/storage';
import { redactPanelState } from '../../src/ipc/index';
import { LabSession, type LabSettings } from '../../src/vscode/lab';
import { runPanelQuery } from '../../src/vscode/query';
import { dclabIn, type RunResult } from '../cli/helpers';

const root = mkdtempSync(join(tmpdir(), 'dclab-canary-'));
const PHONE = '9996629234'; // DC 2, a 2FA number; its password is replaced by the canary
const LAB_PHONE = '9996639234';
const API_HASH = randomBytes(16).toString('hex');
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(9).toString('base64url')}`;
const WRONG_CODE = String(randomInt(1_000_000_000, 9_999_999_999)); // 10 digits: distinctive
const WRONG_CODE_2 = String(randomInt(1_000_000_000, 9_999_999_999));
const CODE = '22222'; // the sandbox's code for 99966 2 YYYY (searched as a whole token)
const LAB_CODE = '33333';

let sandbox: Sandbox;
const streams: { name: string; text: string }[] = [];

before(async () => {
  sandbox = await startSandbox({ basePort: 0, dataDir: join(root, 'sandbox'), ipv6: false, control: false, log: () => {} });
  sandbox.setPassword(PHONE, PASSWORD);
});
after(async () => {
  await sandbox?.stop();
  rmSync(root, { recursive: true, force: true });
});

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

interface Canary {
  name: string;
  /** The secret's bytes (text canaries: their UTF-8). */
  bytes: Buffer;
  /** Matched as a whole token only (a short code would otherwise match inside any long number). */
  token?: boolean;
}

/** The forms a canary is looked for in: text, hex (both cases), base64 and base64url. */
function needles(c: Canary): { form: string; re: RegExp }[] {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const forms: [string, string][] = [
    ['text', c.bytes.toString('utf8')],
    ['hex', c.bytes.toString('hex')],
    ['base64', c.bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', c.bytes.toString('base64url')],
  ];
  return forms.map(([form, s]) => ({
    form,
    re: c.token && form === 'text' ? new RegExp(`(?<![0-9A-Za-z])${esc(s)}(?![0-9A-Za-z])`, 'i') : new RegExp(esc(s), 'i'),
  }));
}

function hits(c: Canary, where: string, data: Buffer): string[] {
  const out: string[] = [];
  if (c.bytes.length >= 8 && data.includes(c.bytes)) out.push(`${where}: ${c.name} as raw bytes`);
  const text = data.toString('latin1');
  for (const n of needles(c)) if (n.re.test(text)) out.push(`${where}: ${c.name} as ${n.form}`);
  return out;
}

function _sandboxInfoFile(): string {
  const f = join(root, 'sandbox-info.json');
  writeFileSync(f, JSON.stringify(sandbox.info));
  return f;
}

async function cli(name: string, args: string[], input?: string): Promise<RunResult> {
  const r = await dclabIn(args, input !== undefined ? { input } : {});
  streams.push({ name: `dclab ${name} stdout`, text: r.stdout }, { name: `dclab ${name} stderr`, text: r.stderr });
  return r;
}

test('secret canary: api_hash, login codes, 2FA password and auth keys appear nowhere but secrets.json', { timeout: 180_000 }, async () => {
  // ---------------------------------------------------------------- the CLI on a custom profile (api_id + api_hash)
  const data = join(root, 'cli-data');
  const pem = join(root, 'server.pem');
  writeFileSync(pem, sandbox.info.rsa.pem);
  const custom = [
    '--profile',
    'custom:canary',
    '--data-dir',
    data,
    ...sandbox.info.dcs.flatMap((d) => ['--dc-address', `${d.id}=${d.host}:${d.port}`]),
    '--rsa-pem',
    pem,
  ];
  const P = ['--profile', 'custom:canary', '--data-dir', data];

  const wrong = await cli(
    'login (wrong code)',
    ['login', '--phone', PHONE, '--code', WRONG_CODE, '--api-id', '12345', '--api-hash-stdin', ...custom],
    `${API_HASH}\n`,
  );
  assert.equal(wrong.code, 1, wrong.stderr + wrong.stdout);
  assert.match(wrong.stderr, /PHONE_CODE_INVALID/, 'the wrong code was answered PHONE_CODE_INVALID');

  const badPw = await cli('login (wrong password)', ['login', '--phone', PHONE, '--code', CODE, '--password-stdin', ...P], `${WRONG_PASSWORD}\n`);
  assert.equal(badPw.code, 1, badPw.stderr + badPw.stdout);
  // rejected, then asked again: stdin has no second line
  assert.match(badPw.stderr, /password/i);

  const login = await cli('login', ['login', '--phone', PHONE, '--code', CODE, '--password-stdin', ...P], `${PASSWORD}\n`);
  assert.equal(login.code, 0, login.stderr + login.stdout);

  const call = await cli('call --dc 3', ['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--dc', '3', ...P]);
  assert.equal(call.code, 0, call.stderr);
  // answers to calls that carry a code or a password: the error must not echo them
  const signIn = await cli('call auth.signIn', [
    'call',
    'auth.signIn',
    JSON.stringify({ phone_number: PHONE, phone_code_hash: 'abc', phone_code: WRONG_CODE_2 }),
    ...P,
  ]);
  assert.equal(signIn.code, 1, signIn.stderr + signIn.stdout);
  const checkPw = await cli('call auth.checkPassword', [
    'call',
    'auth.checkPassword',
    JSON.stringify({
      password: { _: 'inputCheckPasswordSRP', srp_id: '1', A: Buffer.from(PASSWORD).toString('base64'), M1: Buffer.from(PASSWORD).toString('base64') },
    }),
    ...P,
  ]);
  assert.equal(checkPw.code, 1, checkPw.stderr + checkPw.stdout);

  const hist = await cli('history', ['history', '--json', ...P]);
  assert.equal(hist.code, 0, hist.stderr);
  const f = sandbox.files().find((x) => x.key === 'small-dc1')!;
  mkdirSync(join(root, 'downloads'));
  const dl = await cli('download', [
    'download',
    '--dc',
    String(f.dcId),
    '--location',
    JSON.stringify(f.location),
    '--size',
    String(f.size),
    '--out',
    join(root, 'downloads', 'small.bin'),
    ...P,
  ]);
  assert.equal(dl.code, 0, dl.stderr);
  const trace = await cli('trace --json', ['trace', '--json', ...P]);
  assert.equal(trace.code, 0, trace.stderr);
  writeFileSync(join(root, 'trace-export.json'), trace.stdout);
  assert.ok(trace.stdout.includes('auth.sendCode') && trace.stdout.includes('auth.checkPassword'), 'the export has the login calls');
  const timeline = await cli('trace', ['trace', ...P]);
  assert.equal(timeline.code, 0, timeline.stderr);
  const status = await cli('status', ['status', '--json', ...P]);
  assert.equal(status.code, 0, status.stderr);

  // ---------------------------------------------------------------- the extension's LabSession on a file store
  const labDir = join(root, 'lab');
  mkdirSync(labDir, { recursive: true });
  const labBackends = cliBackends(join(labDir, 'store'));
  const settings: LabSettings = { profile: 'sandbox', apiId: 0, transport: 'intermediate', prewarm: false, floodWaitThreshold: 30, sandboxBasePort: 0 };
  const log: string[] = [];
  const lab = new LabSession(labBackends, () => settings, labDir, {
    info: (m) => log.push(m),
    warn: (m) => log.push(m),
    error: (m) => log.push(m),
    debug: (m) => log.push(m),
  });
  try {
    const sb = await lab.startSandbox();
    sb.setPassword(LAB_PHONE, PASSWORD);
    let codes = 0;
    let passwords = 0;
    await lab.login({
      phone: LAB_PHONE,
      code: async () => (++codes === 1 ? WRONG_CODE : LAB_CODE),
      password: async () => (++passwords === 1 ? WRONG_PASSWORD : PASSWORD),
      signUp: async () => ({ firstName: 'x' }),
    });
    assert.equal(codes, 2, 'the wrong code was asked again');
    assert.equal(passwords, 2, 'the wrong password was asked again');
    const answers = [
      await runPanelQuery(lab, { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, 4),
      await runPanelQuery(lab, { _: 'auth.signIn', phone_number: LAB_PHONE, phone_code_hash: 'abc', phone_code: WRONG_CODE_2 }, undefined),
      await runPanelQuery(
        lab,
        { _: 'auth.checkPassword', password: { _: 'inputCheckPasswordSRP', srp_id: '1', A: Buffer.from(PASSWORD).toString('base64'), M1: 'AAAA' } },
        undefined,
      ),
    ];
    assert.equal(answers[0]!.ok, true);
    assert.equal(answers[1]!.ok, false);
    streams.push({ name: 'panel query answers', text: JSON.stringify(answers) });
    mkdirSync(join(labDir, 'downloads'));
    const lf = sb.files().find((x) => x.key === 'small-dc1')!;
    await lab.download({ dcId: lf.dcId, location: lf.location, size: lf.size, out: join(labDir, 'downloads', 'small.bin') });
    writeFileSync(join(labDir, 'trace-export.json'), JSON.stringify(lab.exportTrace()));
    await lab.saveTrace();
    // what the panel keeps (VS Code writes a webview's state to disk): the query being typed and the history
    const panelState = redactPanelState({
      version: 1,
      tab: 'query',
      query: { method: 'auth.signIn', json: `{"phone_number":"${LAB_PHONE}","phone_code":"${WRONG_CODE_2}","phone_code_hash":"abc"}` },
      history: [
        { query: { _: 'auth.checkPassword', password: PASSWORD }, time: 1, ok: false },
        { query: { _: 'auth.signIn', phone_number: LAB_PHONE, phone_code: LAB_CODE, phone_code_hash: 'x' }, time: 2, ok: false },
      ],
    });
    writeFileSync(join(labDir, 'panel-state.json'), JSON.stringify(panelState));
    // typing in progress (not JSON yet) is redacted too
    streams.push({
      name: 'panel state (typing)',
      text: JSON.stringify(redactPanelState({ version: 1, tab: 'query', query: { json: `{"password": "${PASSWORD}", "phone_code": ${WRONG_CODE_2}` } })),
    });
  } finally {
    await lab.dispose();
  }
  streams.push({ name: 'LabSession log', text: log.join('\n') });

  // ---------------------------------------------------------------- the auth keys, read back from secrets.json
  const secretsFiles = [join(data, 'secrets.json'), join(labDir, 'store', 'secrets.json')];
  const keys: Canary[] = [];
  for (const sf of secretsFiles) {
    const entries = (JSON.parse(readFileSync(sf, 'utf8')) as { entries: Record<string, unknown> }).entries;
    for (const [k, v] of Object.entries(entries)) {
      const m = /:dc:(\d+):authKey$/.exec(k);
      // keyv keeps { value, expires }; the value is the key's base64 (as a JSON string)
      const raw = (v as { value?: unknown }).value;
      if (m && typeof raw === 'string') keys.push({ name: `auth key of DC ${m[1]} (${relative(root, sf)})`, bytes: Buffer.from(raw, 'base64') });
    }
  }
  assert.ok(keys.length >= 4, `auth keys were stored (${keys.length})`);
  assert.ok(keys.every((k) => k.bytes.length === 256));

  const canaries: Canary[] = [
    { name: 'api_hash', bytes: Buffer.from(API_HASH) },
    { name: '2FA password', bytes: Buffer.from(PASSWORD) },
    { name: 'wrong 2FA password', bytes: Buffer.from(WRONG_PASSWORD) },
    { name: 'wrong login code', bytes: Buffer.from(WRONG_CODE) },
    { name: 'wrong login code 2', bytes: Buffer.from(WRONG_CODE_2) },
    { name: 'login code', bytes: Buffer.from(CODE), token: true },
    { name: 'lab login code', bytes: Buffer.from(LAB_CODE), token: true },
    ...keys,
  ];
  const mayHold = (file: string, c: Canary): boolean => secretsFiles.includes(file) && (c.name === 'api_hash' || c.name.startsWith('auth key'));

  const found: string[] = [];
  const written = files(root).filter((p) => !p.startsWith(join(root, 'sandbox')) && !p.startsWith(join(labDir, 'sandbox')));
  assert.ok(written.length >= 8, `files written: ${written.map((p) => relative(root, p)).join(', ')}`);
  for (const file of written) {
    const bytes = readFileSync(file);
    for (const c of canaries) if (!mayHold(file, c)) found.push(...hits(c, relative(root, file), bytes));
  }
  for (const s of streams) for (const c of canaries) found.push(...hits(c, s.name, Buffer.from(s.text)));
  assert.deepEqual(found, [], 'a secret leaked');

  // the one place each secret must live: secrets.json holds the CLI's api_hash and every auth key
  const cliSecrets = readFileSync(join(data, 'secrets.json'));
  assert.ok(cliSecrets.includes(Buffer.from(API_HASH)), 'the api_hash is in secrets.json');
  for (const k of keys) {
    const holder = secretsFiles.find((sf) => k.name.includes(relative(root, sf)))!;
    assert.ok(readFileSync(holder).includes(Buffer.from(k.bytes.toString('base64'))), `${k.name} is in its secrets.json`);
  }
});

// A parameter of the wrong type under a secret field is described by its type and length only (src/tl/json.ts):
// `dclab call` prints validation errors and the panel's query answer carries them.
test('secret canary: a password or code of the wrong type is not quoted in validation errors', { timeout: 60_000 }, async () => {
  const data = join(root, 'validation');
  const texts: string[] = [];
  for (const params of [{ password: PASSWORD }, { phone_number: PHONE, phone_code_hash: 'x', phone_code: Number(WRONG_CODE) }]) {
    const method = 'password' in params ? 'auth.checkPassword' : 'auth.signIn';
    const r = await dclabIn(['call', method, JSON.stringify(params), '--data-dir', data]);
    assert.equal(r.code, 2, r.stderr);
    texts.push(r.stdout, r.stderr);
  }
  const lab = new LabSession(
    cliBackends(join(root, 'validation-lab')),
    () => ({ profile: 'sandbox', apiId: 0, transport: 'intermediate', prewarm: false, floodWaitThreshold: 30, sandboxBasePort: 0 }),
    join(root, 'validation-lab'),
    { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
  );
  try {
    texts.push(JSON.stringify(await runPanelQuery(lab, { _: 'auth.checkPassword', password: PASSWORD }, undefined)));
  } finally {
    await lab.dispose();
  }
  const found: string[] = [];
  for (const c of [
    { name: '2FA password', bytes: Buffer.from(PASSWORD) },
    { name: 'wrong login code', bytes: Buffer.from(WRONG_CODE) },
  ]) {
    texts.forEach((t, i) => {
      found.push(...hits(c, `output ${i}`, Buffer.from(t)));
    });
  }
  assert.deepEqual(found, [], 'a validation error quoted a secret');
});
