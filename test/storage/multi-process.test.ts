// Two child processes and this one write the same data dir at once (different keys): every write of all three
// lands in state.json and secrets.json — also the profile's dcKeys index and authorized DCs, which are read-modify-
// writes of one value — and a reader polling the files meanwhile never sees one that does not parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cliBackends, ProfileStore } from '../../src/storage';
import { PROFILE_EVERY, writeOne } from './fixtures/store-writer';

const WRITER = resolve(__dirname, 'fixtures', 'store-writer.ts');
const COUNT = 100;

function startWriter(dir: string, id: number): { child: ChildProcess; ready: Promise<void>; exit: Promise<{ code: number | null; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(id), String(COUNT)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const ready = new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) res();
    });
    child.on('exit', () => rej(new Error(`writer ${id} exited before it was ready: ${err}`)));
  });
  const exit = new Promise<{ code: number | null; err: string }>((res) => child.on('exit', (code) => res({ code, err })));
  return { child, ready, exit };
}

test('data dir: two processes plus this one, 100 writes each, nothing lost and every file always parses', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-mp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const backends = cliBackends(dir);
  const store = new ProfileStore(backends, 'sandbox');
  const writers = [startWriter(dir, 1), startWriter(dir, 2)];
  await Promise.all(writers.map((w) => w.ready));

  // a reader that keeps parsing both files while everybody writes
  let reading = true;
  let reads = 0;
  const bad: string[] = [];
  const reader = (async () => {
    while (reading) {
      for (const f of ['state.json', 'secrets.json']) {
        let text: string;
        try {
          text = readFileSync(join(dir, f), 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // not written yet
          throw e;
        }
        try {
          JSON.parse(text);
          reads += 1;
        } catch {
          bad.push(`${f}: ${text.length} bytes did not parse`);
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();

  for (const w of writers) w.child.stdin!.end('go\n');
  for (let i = 0; i < COUNT; i++) await writeOne(backends, store, 3, i);
  const exits = await Promise.all(writers.map((w) => w.exit));
  reading = false;
  await reader;
  exits.forEach((x, i) => {
    assert.equal(x.code, 0, `writer ${i + 1}: ${x.err}`);
  });

  assert.deepEqual(bad, [], 'a reader saw a half-written file');
  assert.ok(reads > 0);
  const plain = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { entries: Record<string, unknown> };
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { entries: Record<string, unknown> };
  const fresh = cliBackends(dir);
  const missing: string[] = [];
  const wantDcs: number[] = [];
  for (const id of [1, 2, 3]) {
    for (let i = 0; i < COUNT; i++) {
      if (!(`dclab:w${id}:${i}` in plain.entries)) missing.push(`state.json w${id}:${i}`);
      if (!(`dclab:s${id}:${i}` in secrets.entries)) missing.push(`secrets.json s${id}:${i}`);
      if (i % PROFILE_EVERY === 0) wantDcs.push(id * 1000 + i);
    }
  }
  assert.deepEqual(missing, [], 'writes were lost');
  const check = new ProfileStore(fresh, 'sandbox');
  assert.deepEqual(await check.listDcKeys(), wantDcs, 'the dcKeys index keeps every DC key of all three processes');
  assert.deepEqual(await check.getAuthorizedDcs(), wantDcs, 'authorizedDcs keeps every DC of all three processes');
  for (const dcId of [1000, 2095, 3050]) assert.ok(await check.getDcKey(dcId), `DC ${dcId}'s key is readable`);
  assert.deepEqual(readdirSync(dir).sort(), ['secrets.json', 'state.json'], 'no lock or tmp files left behind');
});
