// The seeded files' documented sha256 constants equal the bytes the sandbox serves, and those bytes are the
// documented recipe (AES-256-CTR keystream, key SHA-256("dclab-sandbox:<content>"), zero IV), recomputed here
// independently, 1 MiB at a time (the 64 MiB file is never held whole).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { SEED, StreamContent, PartsContent, contentSha256, photoSizeContentName } from '../../src/sandbox/seed';
import { FileStore } from '../../src/sandbox/files';

const MIB = 1048576;

/** The documented recipe, streamed. */
function recipeSha256(content: string, size: number): string {
  const key = createHash('sha256').update(`dclab-sandbox:${content}`, 'utf8').digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const h = createHash('sha256');
  const zeros = Buffer.alloc(MIB);
  for (let left = size; left > 0; left -= MIB) h.update(c.update(zeros.subarray(0, Math.min(MIB, left))));
  return h.digest('hex');
}

test('seeded documents and photo sizes: sha256 constants = recipe = served bytes', () => {
  const done = new Map<string, string>();
  for (const e of SEED) {
    if (e.kind === 'document') {
      const id = `${e.content}:${e.size}`;
      if (!done.has(id)) done.set(id, recipeSha256(e.content, e.size));
      assert.equal(e.sha256, done.get(id), e.key);
      if (e.size <= 4 * MIB) assert.equal(contentSha256(new StreamContent(e.content, e.size)), e.sha256, e.key);
    } else {
      for (const s of e.sizes) {
        assert.equal(recipeSha256(photoSizeContentName(e.key, s.type), s.size), s.sha256, `${e.key}:${s.type}`);
      }
    }
  }
  const big = SEED.find((e) => e.key === 'big-64m')!;
  assert.equal(big.kind === 'document' && big.size, 64 * MIB);
  assert.equal((SEED.find((e) => e.key === 'big-64m-cdn') as any).sha256, (big as any).sha256);
});

test('64 MiB file: the served bytes (StreamContent reads at random offsets, then all of it) hash to the constant', () => {
  const e = SEED.find((x) => x.key === 'big-64m')!;
  assert.ok(e.kind === 'document');
  const c = new StreamContent(e.content, e.size);
  // random-access reads agree with a sequential keystream
  const key = createHash('sha256').update('dclab-sandbox:big-64m', 'utf8').digest();
  const seq = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(3 * MIB));
  for (const [off, len] of [
    [0, 4096],
    [17, 100],
    [MIB - 5, 10],
    [2 * MIB + 12345, 65536],
  ] as const) {
    assert.deepEqual(Buffer.from(c.read(off, len)), seq.subarray(off, off + len));
  }
  assert.equal(c.read(e.size - 10, 4096).length, 10);
  assert.equal(c.read(e.size, 4096).length, 0);
  assert.equal(contentSha256(c), e.sha256);
});

test('FileStore.files(): keys, dc ids, sizes, sha256, location JSON', () => {
  const files = new FileStore().files();
  assert.deepEqual(
    files.map((f) => [f.key, f.dcId, f.cdn]),
    [
      ['small-dc1', 1, false],
      ['medium-dc3', 3, false],
      ['small-dc4', 4, false],
      ['photo-dc2', 2, false],
      ['big-64m', 4, false],
      ['cdn-small', 2, true],
      ['big-64m-cdn', 4, true],
    ],
  );
  const big = files.find((f) => f.key === 'big-64m')!;
  assert.equal(big.location._, 'inputDocumentFileLocation');
  assert.equal(big.location.id, big.id);
  assert.equal(typeof big.location.access_hash, 'string');
  assert.equal(Buffer.from(big.location.file_reference as string, 'base64').toString(), 'dclab:seed:big-64m');
  assert.equal(big.location.thumb_size, '');
  const photo = files.find((f) => f.key === 'photo-dc2')!;
  assert.deepEqual(
    photo.sizes!.map((s) => [s.type, s.size, s.location.thumb_size]),
    [
      ['s', 4000, 's'],
      ['m', 40000, 'm'],
      ['x', 200000, 'x'],
      ['y', 700000, 'y'],
    ],
  );
});

test('PartsContent reads across part boundaries', () => {
  const c = new PartsContent([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array([6])]);
  assert.equal(c.size, 6);
  assert.deepEqual([...c.read(2, 3)], [3, 4, 5]);
  assert.deepEqual([...c.read(0, 100)], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...c.read(6, 1)], []);
});
