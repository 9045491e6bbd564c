// The on-disk writer: positioned writes into <out>.part, a sidecar with the finished ranges, resume, and <out> only
// after the size (and sha256) verified.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartFile, readSidecar } from '../../src/files/part-file';
import { FileError } from '../../src/files/errors';

const loc = { _: 'inputDocumentFileLocation', id: 5n, access_hash: -7n, file_reference: new Uint8Array([1, 2, 3]), thumb_size: '' };
const dir = mkdtempSync(join(tmpdir(), 'dclab-files-part-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('out-of-order positioned writes, finish verifies size + sha256 and renames', async () => {
  const out = join(dir, 'a.bin');
  const data = randomBytes(300_000);
  const pf = await PartFile.open(out, { location: loc, dcId: 4, size: data.length, partSize: 65536 });
  assert.ok(existsSync(`${out}.part`) && existsSync(`${out}.part.json`) && !existsSync(out));
  const offs = [];
  for (let o = 0; o < data.length; o += 65536) offs.push(o);
  for (const o of offs.reverse()) {
    await pf.write(o, data.subarray(o, o + 65536));
    pf.markDone({ offset: o, length: Math.min(65536, data.length - o) });
  }
  const sha = createHash('sha256').update(data).digest('hex');
  assert.equal(await pf.finish({ size: data.length, expectSha256: sha }), sha);
  assert.ok(existsSync(out) && !existsSync(`${out}.part`) && !existsSync(`${out}.part.json`));
  assert.ok(Buffer.from(readFileSync(out)).equals(data));
});

test('an unfinished file never becomes <out>; a wrong sha256 keeps the part', async () => {
  const out = join(dir, 'b.bin');
  const pf = await PartFile.open(out, { location: loc, dcId: 2, size: 8192, partSize: 4096 });
  await pf.write(0, new Uint8Array(4096).fill(1));
  pf.markDone({ offset: 0, length: 4096 });
  await assert.rejects(pf.finish({ size: 8192 }), (e: unknown) => e instanceof FileError && e.code === 'SIZE_MISMATCH');
  assert.ok(!existsSync(out));
  await pf.write(4096, new Uint8Array(4096).fill(2));
  pf.markDone({ offset: 4096, length: 4096 });
  await assert.rejects(pf.finish({ size: 8192, expectSha256: '00'.repeat(32) }), (e: unknown) => e instanceof FileError && e.code === 'HASH_MISMATCH');
  assert.ok(!existsSync(out) && existsSync(`${out}.part`) && existsSync(`${out}.part.json`));
});

test('close keeps .part + sidecar; open resumes the finished ranges of the same location, restarts for another', async () => {
  const out = join(dir, 'c.bin');
  const pf = await PartFile.open(out, { location: loc, dcId: 2, size: 3 * 4096, partSize: 4096 });
  await pf.write(4096, new Uint8Array(4096).fill(7));
  pf.markDone({ offset: 4096, length: 4096 });
  pf.setDcId(3);
  await pf.close();
  const sc = await readSidecar(out);
  assert.ok(sc);
  assert.deepEqual(sc.done, [{ offset: 4096, length: 4096 }]);
  assert.equal(sc.dcId, 3);
  assert.equal(sc.size, 3 * 4096);
  assert.deepEqual(sc.location, { _: 'inputDocumentFileLocation', id: '5', access_hash: '-7', file_reference: 'AQID', thumb_size: '' });
  // resume: same location → ranges kept, the sidecar's DC (after a FILE_MIGRATE) and part size win
  const again = await PartFile.open(out, { location: loc, dcId: 2, size: 3 * 4096, partSize: 65536 });
  assert.deepEqual(again.done, [{ offset: 4096, length: 4096 }]);
  assert.equal(again.resumedBytes, 4096);
  assert.equal(again.meta.dcId, 3);
  assert.equal(again.meta.partSize, 4096);
  assert.deepEqual([...(await again.read(4096, 4))], [7, 7, 7, 7]);
  await again.close();
  // another location (or resume: false) starts over
  const other = await PartFile.open(out, { location: { ...loc, id: 6n }, dcId: 2, size: 3 * 4096, partSize: 4096 });
  assert.deepEqual(other.done, []);
  await other.close();
  const fresh = await PartFile.open(out, { location: loc, dcId: 2, size: 3 * 4096, partSize: 4096 }, { resume: false });
  assert.deepEqual(fresh.done, []);
  await fresh.close();
});

test('a sidecar claiming more than the part file holds is clipped; a foreign sidecar is ignored', async () => {
  const out = join(dir, 'd.bin');
  writeFileSync(`${out}.part`, new Uint8Array(5000));
  writeFileSync(
    `${out}.part.json`,
    JSON.stringify({
      format: 'dclab-part',
      version: 1,
      location: { _: 'inputDocumentFileLocation', id: '5', access_hash: '-7', file_reference: 'AQID', thumb_size: '' },
      dcId: 2,
      size: 9000,
      partSize: 4096,
      done: [{ offset: 0, length: 9000 }],
      updatedAt: 0,
    }),
  );
  const pf = await PartFile.open(out, { location: loc, dcId: 2, size: 9000, partSize: 4096 });
  assert.deepEqual(pf.done, [{ offset: 0, length: 5000 }]);
  await pf.close();
  writeFileSync(`${out}.part.json`, '{"not":"ours"}');
  const pf2 = await PartFile.open(out, { location: loc, dcId: 2, size: 9000, partSize: 4096 });
  assert.deepEqual(pf2.done, []);
  await pf2.close();
  await assert.rejects(
    PartFile.open(join(dir, 'a.bin'), { location: loc, dcId: 2, partSize: 4096 }, { overwrite: false }),
    (e: unknown) => e instanceof FileError && e.code === 'EXISTS',
  );
});
