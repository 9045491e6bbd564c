// `dclab sandbox` as a process: prints listeners and fingerprint, writes the info file, stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

test('dclab sandbox runs until SIGTERM, printing listeners and the RSA fingerprint', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-cmd-'));
  try {
    const info = join(dir, 'info.json');
    const script = `require(${JSON.stringify(resolve('src/sandbox/command.ts'))}).runSandboxCommand(process.argv.slice(1))`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', script, '--', '--base-port', '0', '--data-dir', dir, '--info-file', info, '--latency', '3:5', '--no-ipv6'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 20_000;
    while (!out.includes('sandbox ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes('sandbox ready'), `not ready:\n${out}\n${err}`);
    const parsed = JSON.parse(readFileSync(info, 'utf8'));
    assert.equal(parsed.dcs.length, 5);
    for (const d of parsed.dcs) assert.ok(out.includes(`DC${d.id}: listening on 127.0.0.1:${d.port}`), `DC${d.id} printed`);
    assert.ok(out.includes(`RSA fingerprint ${parsed.rsa.fingerprint}`));
    assert.ok(out.includes('BEGIN RSA PUBLIC KEY'));
    assert.ok(!out.includes('PRIVATE KEY'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(out.includes('sandbox stopped'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dclab sandbox rejects bad arguments with exit code 2', { timeout: 30_000 }, async () => {
  const script = `require(${JSON.stringify(resolve('src/sandbox/command.ts'))}).runSandboxCommand(process.argv.slice(1))`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, '--', '--nearest-dc', '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 2);
  assert.match(err, /--nearest-dc must be 1\.\.5/);
  assert.match(err, /usage: dclab sandbox/);
});
