// The download's on-the-way SHA-256: parts in any order within the bound give the file's hash; past the bound it
// gives up (finish() then reads the file back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { InOrderHasher } from '../../src/files/download';

test('InOrderHasher: shuffled parts within the hold bound hash like the whole file', () => {
  const data = randomBytes(10 * 4096 + 100);
  const want = createHash('sha256').update(data).digest('hex');
  const offs = Array.from({ length: 11 }, (_, i) => i * 4096);
  const order = [1, 0, 3, 2, 5, 4, 6, 8, 7, 10, 9];
  const h = new InOrderHasher(2 * 4096);
  for (const i of order) h.push(offs[i]!, data.subarray(offs[i]!, offs[i]! + 4096));
  assert.equal(h.digest(data.length), want);
  // past the bound: undefined (read back instead)
  const h2 = new InOrderHasher(4096);
  for (const i of [2, 1, 0]) h2.push(offs[i]!, data.subarray(offs[i]!, offs[i]! + 4096));
  assert.equal(h2.digest(3 * 4096), undefined);
  // a hole or a short total: undefined
  const h3 = new InOrderHasher(1 << 20);
  h3.push(0, data.subarray(0, 4096));
  h3.push(8192, data.subarray(8192, 12288));
  assert.equal(h3.digest(12288), undefined);
});
