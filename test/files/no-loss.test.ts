// Downloads that lose nothing: an existing file is never replaced unless asked; two downloads to one path are refused
// (in one process and across processes); a failed datasync fails the download instead of being swallowed; free space
// is checked before a download of known size and watched during one of unknown size (the .part kept); a declared
// size is planned lazily and a size above the largest Telegram file is refused (also in the panel's validation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs, { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadFile, downloadBytes } from '../../src/files/download';
import { FileError } from '../../src/files/errors';
import { DISK_RESERVE, PartFile } from '../../src/files/part-file';
import { MAX_FILE_SIZE, planDownload, planDownloadLazy } from '../../src/files/plan';
import { MAX_DOWNLOAD_SIZE, validateWebviewMessage } from '../../src/ipc/validate';
import { partState, sha256File, startFilesLab, type FilesLab } from './helpers';

const loc = { _: 'inputDocumentFileLocation', id: 5n, access_hash: -7n, file_reference: new Uint8Array([1, 2, 3]), thumb_size: '' };
const dir = mkdtempSync(join(tmpdir(), 'dclab-files-noloss-'));
let lab: FilesLab;
before(async () => {
  lab = await startFilesLab();
});
after(async () => {
  await lab?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Replaces a method of every FileHandle (the class is not exported) for the length of `fn`. */
async function withFileHandlePatch<K extends 'datasync' | 'sync'>(
  name: K,
  impl: (orig: () => Promise<void>, calls: number) => Promise<void>,
  fn: () => Promise<void>,
): Promise<void> {
  const probe = await fs.promises.open(__filename, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<K, () => Promise<void>>;
  await probe.close();
  const orig = proto[name];
  let calls = 0;
  proto[name] = function (this: unknown) {
    return impl(() => orig.call(this), ++calls);
  };
  try {
    await fn();
  } finally {
    proto[name] = orig;
  }
}

async function withStatfs(fake: (path: string) => { bavail: number; bsize: number }, fn: () => Promise<void>): Promise<void> {
  const orig = fs.promises.statfs;
  (fs.promises as { statfs: unknown }).statfs = async (p: string) => ({ ...(await orig(p)), ...fake(p) });
  try {
    await fn();
  } finally {
    fs.promises.statfs = orig;
  }
}

test('an existing file is not replaced unless overwrite is asked; the error names the path', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('small-dc1');
  const out = join(dir, 'exists.bin');
  writeFileSync(out, 'precious');
  await assert.rejects(
    downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out }),
    (e: unknown) => e instanceof FileError && e.code === 'EXISTS' && e.message.includes(out),
  );
  assert.equal(readFileSync(out, 'utf8'), 'precious');
  assert.ok(!existsSync(`${out}.part`), 'refused before a .part was made');
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, overwrite: true });
  assert.equal(res.sha256, f.sha256);
  assert.equal(sha256File(out), f.sha256);
});

test('a file that appears at <out> during the download is not replaced either (the part is kept)', async () => {
  const out = join(dir, 'late.bin');
  const data = randomBytes(8192);
  const pf = await PartFile.open(out, { location: loc, dcId: 2, size: data.length, partSize: 4096 });
  await pf.write(0, data);
  pf.markDone({ offset: 0, length: data.length });
  writeFileSync(out, 'written by someone else meanwhile');
  await assert.rejects(pf.finish({ size: data.length }), (e: unknown) => e instanceof FileError && e.code === 'EXISTS' && e.message.includes(out));
  await pf.close();
  assert.equal(readFileSync(out, 'utf8'), 'written by someone else meanwhile');
  assert.ok(Buffer.from(readFileSync(`${out}.part`)).equals(data), 'the downloaded bytes are kept in .part');
});

test('two downloads to one path are refused: in one process, and from another process', async () => {
  const out = join(dir, 'twice.bin');
  const first = await PartFile.open(out, { location: loc, dcId: 2, size: 4096, partSize: 4096 });
  await assert.rejects(
    PartFile.open(out, { location: loc, dcId: 2, size: 4096, partSize: 4096 }),
    (e: unknown) => e instanceof FileError && e.code === 'BUSY' && e.message.includes(out),
  );
  await first.close();
  const again = await PartFile.open(out, { location: loc, dcId: 2, size: 4096, partSize: 4096 });
  await again.close();

  const other = join(dir, 'other-process.bin');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'fixtures', 'hold-part.ts'), other], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && res());
    child.on('exit', () => rej(new Error(`the child ended early: ${err}`)));
  });
  const { client } = await lab.login(2);
  const f = lab.seeded('small-dc1');
  await assert.rejects(
    downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: other }),
    (e: unknown) => e instanceof FileError && e.code === 'BUSY',
  );
  child.stdin!.end();
  assert.equal(await exited, 0, err);
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: other, resume: false });
  assert.equal(res.sha256, f.sha256, 'once the other process let go, the download runs');
});

test('a failed datasync fails the download (not swallowed); no file appears at <out>', async (t) => {
  // PartFile directly: the sidecar is never written for bytes that did not reach the disk
  const out = join(dir, 'sync.bin');
  await withFileHandlePatch(
    'datasync',
    async (orig, n) => {
      if (n > 1) throw Object.assign(new Error('EIO: i/o error, datasync'), { code: 'EIO' });
      return orig();
    },
    async () => {
      const pf = await PartFile.open(out, { location: loc, dcId: 2, size: 8192, partSize: 4096 });
      await pf.write(0, new Uint8Array(4096).fill(1));
      pf.markDone({ offset: 0, length: 4096 });
      await assert.rejects(pf.flushSidecar(), /datasync of .*sync\.bin\.part failed: EIO/);
      await assert.rejects(pf.write(4096, new Uint8Array(4096)), /datasync .* failed/, 'later writes fail with it');
      pf.markDone({ offset: 4096, length: 4096 });
      await assert.rejects(pf.finish({ size: 8192 }), /datasync .* failed/);
      await assert.rejects(pf.close(), /datasync .* failed|EIO/).catch(() => undefined);
      await pf.close();
    },
  );
  assert.equal(existsSync(out), false);
  const sc = JSON.parse(readFileSync(`${out}.part.json`, 'utf8')) as { done: unknown[] };
  assert.deepEqual(sc.done, [], 'the sidecar never claimed the bytes whose datasync failed');

  // a whole download: the failure mid-way ends it with that error
  const { client } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const dl = join(dir, 'sync-download.bin');
  lab.sandbox.setLatency(3, 30); // long enough for the sidecar to be flushed while parts arrive
  t.after(() => lab.sandbox.setLatency(3, 0));
  await withFileHandlePatch(
    'datasync',
    async (orig, n) => {
      if (n > 1) throw Object.assign(new Error('EIO: i/o error, datasync'), { code: 'EIO' });
      return orig();
    },
    async () => {
      await assert.rejects(
        downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: dl, partSize: 65536, parallel: 2 }),
        /datasync of .*sync-download\.bin\.part failed/,
      );
    },
  );
  assert.equal(existsSync(dl), false, 'nothing at <out>');
});

test('a failed fsync before the rename fails the download', async () => {
  const out = join(dir, 'fsync.bin');
  const pf = await PartFile.open(out, { location: loc, dcId: 2, size: 4096, partSize: 4096 });
  await pf.write(0, new Uint8Array(4096).fill(3));
  pf.markDone({ offset: 0, length: 4096 });
  await withFileHandlePatch(
    'sync',
    async () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    },
    async () => {
      await assert.rejects(pf.finish({ size: 4096 }), /fsync of .*fsync\.bin\.part failed/);
    },
  );
  await pf.close().catch(() => undefined);
  assert.equal(existsSync(out), false);
});

test('free space: a known size that does not fit is refused before any request; an unknown size stops before the disk is full', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const out = join(dir, 'space.bin');
  await withStatfs(
    () => ({ bavail: Math.floor((f.size + DISK_RESERVE) / 4096) - 1, bsize: 4096 }),
    async () => {
      await assert.rejects(
        downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out }),
        (e: unknown) => e instanceof FileError && e.code === 'NO_SPACE' && /not enough free space/.test(e.message) && e.message.includes(out),
      );
    },
  );
  assert.equal(existsSync(out), false);

  // unknown size: the free space shrinks as we write; the download stops with the reserve still free
  const out2 = join(dir, 'space-unknown.bin');
  let written = 0;
  const start = DISK_RESERVE + 200_000;
  await withFileHandlePatch(
    'datasync',
    (orig) => orig(),
    async () => {
      await withStatfs(
        () => {
          const st = partState(out2).part ? fs.statSync(`${out2}.part`).size : 0;
          written = st;
          return { bavail: Math.max(0, Math.floor((start - st) / 1024)), bsize: 1024 };
        },
        async () => {
          await assert.rejects(
            downloadFile(client, { location: f.location, dcId: f.dcId, out: out2, partSize: 65536, parallel: 1 }),
            (e: unknown) => e instanceof FileError && e.code === 'NO_SPACE' && /nearly full/.test(e.message),
          );
        },
      );
    },
  );
  assert.deepEqual(partState(out2), { final: false, part: true, sidecar: true }, 'the .part is kept for a resume');
  assert.ok(written <= 200_000, `stopped before eating the reserve (${written} bytes written)`);
  // with room again it resumes and finishes
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, out: out2, partSize: 65536, resume: true });
  assert.equal(res.sha256, f.sha256);
});

test('a huge declared size: planned lazily, refused above the largest Telegram file (API and panel validation)', async () => {
  const it = planDownloadLazy({ size: Number.MAX_SAFE_INTEGER, partSize: 1024 * 1024 });
  const first = [it.next().value, it.next().value];
  assert.deepEqual(
    first.map((r) => r?.offset),
    [0, 1024 * 1024],
    'the first requests come at once, nothing built up front',
  );
  assert.equal(planDownload({ size: 3 * 1024 * 1024 + 5 }).length, 4, 'the eager form is the lazy one, collected');

  const { client } = await lab.login(2);
  const f = lab.seeded('small-dc1');
  for (const size of [2 ** 53 - 1, MAX_FILE_SIZE + 1]) {
    await assert.rejects(
      downloadFile(client, { location: f.location, dcId: f.dcId, size, out: join(dir, 'huge.bin') }),
      (e: unknown) => e instanceof FileError && e.code === 'FILE_TOO_BIG',
    );
    await assert.rejects(
      downloadBytes(client, { location: f.location, dcId: f.dcId, size }),
      (e: unknown) => e instanceof FileError && e.code === 'FILE_TOO_BIG',
    );
  }
  assert.equal(existsSync(join(dir, 'huge.bin.part')), false);

  const msg = (size: number): unknown => ({
    type: 'request',
    id: 1,
    method: 'download/start',
    params: { location: { _: 'inputDocumentFileLocation' }, dcId: 2, size },
  });
  const bad = validateWebviewMessage(msg(2 ** 53 - 1));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.error, /params\.size/);
  assert.equal(validateWebviewMessage(msg(MAX_FILE_SIZE)).ok, true);
  assert.equal(MAX_DOWNLOAD_SIZE, MAX_FILE_SIZE, 'the panel and src/files agree on the largest file');
});
