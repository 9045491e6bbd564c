// `dclab history`, `dclab download` and `dclab upload` as real processes against a real `dclab sandbox` child:
// login (home DC 2) → history lists the seeded media with their dc_ids and location JSON → download of medium-dc3
// from DC 3 (authorization transferred; sha256 = the seeded one; the chain in the saved trace) → upload --send of a
// temp file, history shows it, and its download returns the same sha256 → a bad --location exits 2 naming the field
// → Ctrl+C mid-download keeps FILE.part + sidecar and --resume finishes it. Secondary steps run in-process (dclabIn).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dclab, dclabIn, readJson, ROOT, startSandboxProcess, type SandboxChild } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'dclab-files-cli-'));
const F = join(dir, 'sandbox-info.json');
const D = join(dir, 'data');
const A = ['--sandbox-info', F, '--data-dir', D];
let sandbox: SandboxChild;

interface SeededInfo {
  key: string;
  messageId: number;
  kind: string;
  dcId: number;
  size: number;
  sha256: string;
  name?: string;
  location: Record<string, unknown>;
}
interface HistoryRow {
  messageId: number;
  kind: string;
  name: string | null;
  size: number;
  dcId: number;
  location: Record<string, unknown>;
}

const seeded = (): SeededInfo[] => (readJson(F).files as SeededInfo[]) ?? [];
const seed = (key: string): SeededInfo => {
  const f = seeded().find((x) => x.key === key);
  assert.ok(f, `the info file lists ${key}`);
  return f;
};
const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

test.before(async () => {
  sandbox = await startSandboxProcess(F, join(dir, 'sandbox'));
});
test.after(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('login, then history lists the seeded media with their dc_ids and location JSON', { timeout: 60_000 }, async () => {
  const login = await dclab(['login', '--phone', '9996621234', ...A]);
  assert.equal(login.code, 0, login.stderr + login.stdout);

  const t0 = Date.now();
  const hist = await dclab(['history', '--json', ...A]);
  assert.equal(hist.code, 0, hist.stderr);
  const rows = JSON.parse(hist.stdout) as HistoryRow[];
  const byId = new Map(rows.map((r) => [r.messageId, r]));
  assert.ok(seeded().length >= 7, 'the sandbox seeds 7 media');
  for (const f of seeded()) {
    const r = byId.get(f.messageId);
    assert.ok(r, `history lists message ${f.messageId} (${f.key})`);
    assert.equal(r.dcId, f.dcId, `${f.key}: dc_id`);
    assert.equal(r.kind, f.kind, `${f.key}: kind`);
    assert.equal(r.size, f.size, `${f.key}: size`);
    assert.deepEqual(r.location, f.location, `${f.key}: the location JSON is the seeded one`);
    if (f.name) assert.equal(r.name, f.name);
  }
  // newest first
  assert.deepEqual(
    rows.map((r) => r.messageId),
    [...rows.map((r) => r.messageId)].sort((a, b) => b - a),
  );

  // the table: one row per media with dc_id and the pasteable JSON
  const table = await dclabIn(['history', ...A]);
  assert.equal(table.code, 0, table.stderr);
  const line = table.stdout.split('\n').find((l) => l.includes('medium-dc3.bin'));
  assert.ok(line, table.stdout);
  assert.match(line, /^\s*2\s+document\s+3\s+1585209\s+medium-dc3\.bin\s+\{/);
  assert.deepEqual(JSON.parse(line.slice(line.indexOf('{'))), seed('medium-dc3').location);
  console.log(`# history: ${Date.now() - t0} ms`);
});

test('download medium-dc3: transfer to DC 3, sha256 = the seeded one, the chain in the saved trace', { timeout: 60_000 }, async () => {
  const f = seed('medium-dc3');
  const out = join(dir, 'medium.bin');
  const t0 = Date.now();
  const r = await dclab(['download', '--dc', String(f.dcId), '--location', JSON.stringify(f.location), '--size', String(f.size), '--out', out, ...A]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(sha256(out), f.sha256);
  assert.ok(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`));
  const last = r.stdout.trim().split('\n').at(-1)!;
  assert.match(last, new RegExp(`^downloaded .*medium\\.bin: ${f.size} bytes, sha256 ${f.sha256}, DCs 3, \\d+ ms \\(\\d+\\.\\d MB/s\\)$`));
  assert.match(r.stderr, /transfer DC2 → DC3/);
  assert.match(r.stderr, /MB\/s\s+DC3/, 'progress with MB/s');
  console.log(`# download medium-dc3 (process): ${Date.now() - t0} ms — ${last}`);

  const trace = await dclabIn(['trace', '--no-details', ...A]);
  assert.equal(trace.code, 0, trace.stderr);
  assert.match(trace.stdout, /dclab download/);
  assert.match(trace.stdout, /auth\.importAuthorization @DC3/);
  assert.match(trace.stdout, /download/);
});

test('upload --send of a temp file: dc_id and location printed, history shows it, download gives the same sha256', { timeout: 60_000 }, async () => {
  const src = join(dir, 'hello upload.bin');
  writeFileSync(src, randomBytes(300_000));
  const want = sha256(src);
  const t0 = Date.now();
  const up = await dclab(['upload', src, '--send', ...A]);
  assert.equal(up.code, 0, up.stderr + up.stdout);
  assert.match(up.stdout, new RegExp(`uploaded .*: 300000 bytes as a small file .* to DC 2, sha256 ${want}`));
  const dcId = Number(/^dc_id: (\d+)$/m.exec(up.stdout)?.[1]);
  assert.equal(dcId, 2, 'the home DC stored it');
  const loc = JSON.parse(/^location: (.*)$/m.exec(up.stdout)![1]!) as Record<string, unknown>;
  assert.equal(loc._, 'inputDocumentFileLocation');
  const msgId = Number(/message (\d+)/.exec(up.stdout)?.[1]);
  assert.ok(msgId >= 1001, up.stdout);
  console.log(`# upload --send (process): ${Date.now() - t0} ms`);

  const hist = await dclabIn(['history', '--json', ...A]);
  const rows = JSON.parse(hist.stdout) as HistoryRow[];
  assert.equal(rows[0]!.messageId, msgId, 'newest first');
  assert.equal(rows[0]!.name, 'hello upload.bin');
  assert.equal(rows[0]!.size, 300_000);
  assert.equal(rows[0]!.dcId, 2);
  assert.deepEqual(rows[0]!.location, loc);

  const out = join(dir, 'back.bin');
  const dl = await dclabIn(['download', '--dc', String(dcId), '--location', JSON.stringify(loc), '--out', out, ...A]); // size unknown
  assert.equal(dl.code, 0, dl.stderr);
  assert.match(dl.stdout, new RegExp(`300000 bytes, sha256 ${want}, DCs 2`));
  assert.equal(sha256(out), want);
});

test('validation: a bad --location exits 2 naming the field; missing flags name the flag', { timeout: 30_000 }, async () => {
  const f = seed('medium-dc3');
  const bad = await dclab([
    'download',
    '--dc',
    '3',
    '--location',
    JSON.stringify({ ...f.location, access_hash: 'not-a-number' }),
    '--out',
    join(dir, 'x.bin'),
    ...A,
  ]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--location: field access_hash: .*expected/);
  assert.ok(!existsSync(join(dir, 'x.bin.part')), 'nothing written');

  const ctor = await dclabIn(['download', '--dc', '3', '--location', '{"_":"inputPeerSelf"}', '--out', join(dir, 'x.bin'), ...A]);
  assert.equal(ctor.code, 2);
  assert.match(ctor.stderr, /--location: field .*InputFileLocation/);
  const notJson = await dclabIn(['download', '--dc', '3', '--location', '{id:1}', '--out', join(dir, 'x.bin'), ...A]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /--location is not valid JSON/);
  const noDc = await dclabIn(['download', '--location', JSON.stringify(f.location), '--out', join(dir, 'x.bin'), ...A]);
  assert.equal(noDc.code, 2);
  assert.match(noDc.stderr, /--dc is required/);
  const badDc = await dclabIn(['download', '--dc', '9', '--location', JSON.stringify(f.location), '--out', join(dir, 'x.bin'), ...A]);
  assert.equal(badDc.code, 2);
  assert.match(badDc.stderr, /--dc 9: the sandbox has DCs 1\.\.5/);
  const badPar = await dclabIn(['download', '--dc', '3', '--parallel', '0', '--location', JSON.stringify(f.location), '--out', join(dir, 'x.bin'), ...A]);
  assert.equal(badPar.code, 2);
  assert.match(badPar.stderr, /--parallel needs requests in flight 1\.\.64, got 0/);
  const noFile = await dclabIn(['upload', join(dir, 'missing.bin'), ...A]);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /FILE .*missing\.bin: cannot read it \(ENOENT\)/);
  const help = await dclabIn(['download', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: dclab download --dc N --location 'JSON' --out FILE/);
});

test('Ctrl+C mid-download keeps FILE.part + sidecar (no FILE); --resume finishes it byte-identical', { timeout: 120_000 }, async () => {
  const f = seed('big-64m');
  const out = join(dir, 'big.bin');
  const args = [
    '--import',
    'tsx',
    resolve(ROOT, 'src/cli.ts'),
    'download',
    '--dc',
    '4',
    '--location',
    JSON.stringify(f.location),
    '--size',
    String(f.size),
    '--out',
    out,
    '--no-cdn',
    ...A,
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  let sent = false;
  child.stderr.on('data', (d) => {
    stderr += d;
    // interrupt once a few MiB are on disk
    if (!sent && /\b([4-9]|[1-5]\d)\.\d MiB \/ 64\.0 MiB/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.ok(sent, `progress seen before the end:\n${stderr}`);
  assert.equal(code, 130, stderr + stdout);
  assert.match(stderr, /interrupted/);
  assert.match(stderr, /\.part\.json kept — continue with the same command and --resume/);
  assert.ok(!existsSync(out), 'no FILE that looks complete');
  assert.ok(existsSync(`${out}.part`) && existsSync(`${out}.part.json`), 'FILE.part and its sidecar are kept');

  const t0 = Date.now();
  const again = await dclab(args.slice(3).concat('--resume'), { timeoutMs: 90_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`${f.size} bytes, sha256 ${f.sha256}, DCs 4, .*resumed after \\d+ bytes`));
  assert.ok(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`));
  console.log(`# resume of big-64m (process): ${Date.now() - t0} ms — ${again.stdout.trim()}`);
  rmSync(out, { force: true });
});
