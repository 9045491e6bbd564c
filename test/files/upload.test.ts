// Uploads against the real sandbox: small (saveFilePart + md5) and big (saveBigFilePart) files, sent to Saved
// Messages, listed by getHistory with their dc_id, downloaded back byte-identical.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { uploadFile } from '../../src/files/upload';
import { downloadFile } from '../../src/files/download';
import { listSavedMedia, locationOf, sendUploadedMedia } from '../../src/files/media';
import { FileError } from '../../src/files/errors';
import { startFilesLab, chainOf, type FilesLab } from './helpers';

let lab: FilesLab;
before(async () => {
  lab = await startFilesLab();
});
after(async () => {
  await lab?.stop();
});

test('small file (saveFilePart, md5): upload → sendMedia → getHistory lists it on the home DC → download → same sha256', async () => {
  const { client, events } = await lab.login(3);
  const data = randomBytes(1_300_000);
  const src = lab.out('small-up.bin');
  writeFileSync(src, data);
  const progress: number[] = [];
  const up = await uploadFile(client, { path: src, parallel: 3, onProgress: (p) => progress.push(p.bytes) });
  assert.equal(up.big, false);
  assert.equal(up.inputFile._, 'inputFile');
  assert.equal(up.inputFile.parts, 3);
  assert.equal(up.inputFile.name, 'small-up.bin');
  assert.equal(up.inputFile.md5_checksum, createHash('md5').update(data).digest('hex'));
  assert.equal(up.sha256, createHash('sha256').update(data).digest('hex'));
  assert.equal(up.dcId, 3);
  assert.equal(progress[progress.length - 1], data.length);
  const parts = chainOf(events, up.traceId).filter((e) => e.kind === 'file' && e.name.startsWith('part '));
  assert.equal(parts.length, 3);
  const msg = await sendUploadedMedia(client, up, { mimeType: 'application/x-test' });
  const loc = locationOf(msg);
  assert.equal(loc.dcId, 3);
  assert.equal(loc.size, data.length);
  assert.equal(loc.name, 'small-up.bin');
  const listed = (await listSavedMedia(client)).find((m) => m.messageId === Number(msg.id));
  assert.ok(listed, 'getHistory lists the new message');
  assert.equal(listed.dcId, 3);
  assert.equal(listed.size, data.length);
  const res = await downloadFile(client, { location: listed.location, dcId: listed.dcId, size: listed.size, out: lab.out('small-down.bin'), partSize: 262144 });
  assert.equal(res.sha256, up.sha256);
});

test('big file (> 10 MiB, saveBigFilePart with file_total_parts) from memory, as a document; downloaded back with the expected sha256', async () => {
  const { client } = await lab.login(2);
  const data = randomBytes(10 * 1024 * 1024 + 300_000);
  const up = await uploadFile(client, { data, name: 'big-up.bin', parallel: 4 });
  assert.equal(up.big, true);
  assert.equal(up.inputFile._, 'inputFileBig');
  assert.equal(up.inputFile.parts, Math.ceil(data.length / 524288));
  assert.equal(up.md5, undefined);
  const msg = await sendUploadedMedia(client, up);
  const loc = locationOf(msg);
  assert.equal(loc.dcId, 2);
  const media = await listSavedMedia(client, { limit: 5 });
  assert.equal(media[0]!.messageId, Number(msg.id));
  const res = await downloadFile(client, { location: loc.location, dcId: loc.dcId, size: loc.size, out: lab.out('big-down.bin'), sha256: up.sha256 });
  assert.equal(res.sha256, up.sha256);
  assert.equal(res.bytes, data.length);
});

test('a photo upload: sizes come back with the photo on the home DC; the biggest downloads back', async () => {
  const { client } = await lab.login(2);
  const data = randomBytes(200_000);
  const up = await uploadFile(client, { data, name: 'p.jpg' });
  const msg = await sendUploadedMedia(client, up, { kind: 'photo' });
  const loc = locationOf(msg);
  assert.equal(loc.kind, 'photo');
  assert.equal(loc.dcId, 2);
  const res = await downloadFile(client, { location: loc.location, dcId: loc.dcId, size: loc.size, out: lab.out('p.jpg') });
  assert.equal(res.sha256, up.sha256);
});

test('abort stops an upload with FileError ABORTED; bad input is refused before any request', async () => {
  const { client } = await lab.login(2);
  const ac = new AbortController();
  const data = randomBytes(3 * 524288);
  await assert.rejects(
    uploadFile(client, { data, parallel: 1, signal: ac.signal, onProgress: () => ac.abort() }),
    (e: unknown) => e instanceof FileError && e.code === 'ABORTED',
  );
  await assert.rejects(uploadFile(client, { data: new Uint8Array(0) }), (e: unknown) => e instanceof FileError);
  await assert.rejects(uploadFile(client, {}), (e: unknown) => e instanceof FileError && e.code === 'BAD_LOCATION');
  await assert.rejects(uploadFile(client, { data, partSize: 1000 }), (e: unknown) => e instanceof FileError && e.code === 'BAD_PART_SIZE');
});
