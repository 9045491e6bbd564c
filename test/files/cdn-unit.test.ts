// CDN pieces without a server: the IV rule (last 4 bytes = offset/16 big-endian) and the SHA-256 range checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { CdnHashes, cdnDecrypt, type FileHashEntry } from '../../src/files/cdn';

test('cdnDecrypt: any part decrypts on its own with iv[12..16] = offset/16', () => {
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const plain = randomBytes(3 * 131072 + 999);
  // the whole file encrypted as the CDN does it: per part, iv tail = offset/16
  const part = 131072;
  const enc = Buffer.alloc(plain.length);
  for (let off = 0; off < plain.length; off += part) {
    const ivp = Buffer.from(iv);
    ivp.writeUInt32BE(off / 16, 12);
    createCipheriv('aes-256-ctr', key, ivp)
      .update(plain.subarray(off, off + part))
      .copy(enc, off);
  }
  for (let off = 0; off < plain.length; off += part) {
    const got = cdnDecrypt(enc.subarray(off, off + part), key, iv, off);
    assert.ok(Buffer.from(got).equals(plain.subarray(off, off + part)), `part at ${off}`);
  }
  assert.throws(() => cdnDecrypt(enc, key, iv, 8));
});

test('CdnHashes: verifies ranges, fetches missing ones once, reports the first bad offset', async () => {
  const data = randomBytes(5 * 131072 + 100);
  const all: FileHashEntry[] = [];
  for (let off = 0; off < data.length; off += 131072) {
    const limit = Math.min(131072, data.length - off);
    all.push({
      offset: off,
      limit,
      hash: createHash('sha256')
        .update(data.subarray(off, off + limit))
        .digest(),
    });
  }
  const fetched: number[] = [];
  const h = new CdnHashes(async (offset) => {
    fetched.push(offset);
    return all.filter((x) => x.offset >= offset).slice(0, 2);
  });
  h.add(all.slice(0, 2));
  assert.equal(await h.verify(0, data.subarray(0, 262144)), undefined);
  assert.deepEqual(fetched, []);
  // parallel checks of the same missing range share one fetch
  const [a, b] = await Promise.all([h.verify(262144, data.subarray(262144, 524288)), h.verify(262144, data.subarray(262144, 524288))]);
  assert.equal(a, undefined);
  assert.equal(b, undefined);
  assert.deepEqual(fetched, [262144]);
  // the short tail
  assert.equal(await h.verify(524288, data.subarray(524288)), undefined);
  // tampering is found at its range
  const bad = Buffer.from(data.subarray(262144, 524288));
  bad[140000] ^= 1;
  assert.equal(await h.verify(262144, bad), 393216);
  // a truncated answer (range runs past the data) is a mismatch too
  assert.equal(await h.verify(0, data.subarray(0, 100000)), 0);
});
