// The planner is pure: every planned request obeys the documented getFile rules, and the written windows cover the
// missing bytes exactly once (with the finished ranges: the whole file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIB,
  checkGetFileRequest,
  isValidPartSize,
  isValidUploadPartSize,
  mergeRanges,
  missingRanges,
  planDownload,
  planUpload,
  type Range,
} from '../../src/files/plan';
import { FileError } from '../../src/files/errors';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PART_SIZES = [4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, MIB];

test('checkGetFileRequest follows api/files', () => {
  assert.equal(checkGetFileRequest({ offset: 0, limit: MIB }), undefined);
  assert.equal(checkGetFileRequest({ offset: MIB, limit: 4096 }), undefined);
  assert.equal(checkGetFileRequest({ offset: 4096, limit: 4096 * 3 }), 'LIMIT_INVALID'); // 1 MiB % 12288 ≠ 0
  assert.equal(checkGetFileRequest({ offset: 1024, limit: 4096 }), 'OFFSET_INVALID');
  assert.equal(checkGetFileRequest({ offset: MIB - 4096, limit: 8192 }), 'OFFSET_INVALID'); // crosses 1 MiB
  assert.equal(checkGetFileRequest({ offset: 0, limit: 2 * MIB }), 'LIMIT_INVALID');
  assert.equal(checkGetFileRequest({ offset: 0, limit: 0 }), 'LIMIT_INVALID');
  assert.equal(checkGetFileRequest({ offset: -4096, limit: 4096 }), 'OFFSET_INVALID');
  // precise: 1 KiB granularity, ≤ 1 MiB, still one block
  assert.equal(checkGetFileRequest({ offset: 1024, limit: 3072, precise: true }), undefined);
  assert.equal(checkGetFileRequest({ offset: 1000, limit: 1024, precise: true }), 'OFFSET_INVALID');
  assert.equal(checkGetFileRequest({ offset: MIB - 1024, limit: 2048, precise: true }), 'OFFSET_INVALID');
  assert.equal(checkGetFileRequest({ offset: 0, limit: MIB + 1024, precise: true }), 'LIMIT_INVALID');
  for (const p of PART_SIZES) assert.ok(isValidPartSize(p), String(p));
  for (const p of [0, 1024, 12288, 3 * 4096, 2 * MIB, 4095]) assert.ok(!isValidPartSize(p), String(p));
});

test('mergeRanges / missingRanges', () => {
  assert.deepEqual(
    mergeRanges([
      { offset: 10, length: 5 },
      { offset: 0, length: 10 },
      { offset: 30, length: 0 },
      { offset: 12, length: 10 },
    ]),
    [{ offset: 0, length: 22 }],
  );
  assert.deepEqual(
    missingRanges(
      [
        { offset: 0, length: 10 },
        { offset: 20, length: 5 },
      ],
      30,
    ),
    [
      { offset: 10, length: 10 },
      { offset: 25, length: 5 },
    ],
  );
  assert.deepEqual(missingRanges([], 0), []);
  assert.deepEqual(missingRanges([{ offset: 0, length: 100 }], 50), []);
});

function checkPlan(size: number, partSize: number, done: Range[]): void {
  const plan = planDownload({ size, partSize, done });
  const covered = new Uint8Array(size);
  for (const r of mergeRanges(done)) covered.fill(1, r.offset, Math.min(size, r.offset + r.length));
  let prev = -1;
  for (const r of plan) {
    const bad = checkGetFileRequest(r);
    if (bad !== undefined) assert.fail(`illegal request ${JSON.stringify(r)}: ${bad}`);
    if (r.offset <= prev) assert.fail('requests in file order, no repeated offset');
    prev = r.offset;
    for (const w of r.writes) {
      if (!(w.offset >= r.offset && w.offset + w.length <= r.offset + r.limit && w.length > 0))
        assert.fail(`write window ${JSON.stringify(w)} outside the answer ${r.offset}+${r.limit}`);
      if (w.offset + w.length > size) assert.fail(`write past the end at ${w.offset + w.length}`);
      const twice = covered.subarray(w.offset, w.offset + w.length).indexOf(1);
      if (twice !== -1) assert.fail(`byte ${w.offset + twice} written twice (size ${size}, part ${partSize})`);
      covered.fill(1, w.offset, w.offset + w.length);
    }
  }
  assert.equal(covered.indexOf(0), -1, `byte ${covered.indexOf(0)} never written (size ${size}, part ${partSize})`);
}

test('planDownload: legal requests covering the file exactly once (fixed cases)', () => {
  for (const partSize of PART_SIZES) {
    for (const size of [0, 1, 4095, 4096, 4097, 5000, MIB - 1, MIB, MIB + 1, 1_585_209, 3 * MIB + 12345]) checkPlan(size, partSize, []);
  }
  // a 64 MiB file in 1 MiB parts: 64 requests of exactly 1 MiB
  const p = planDownload({ size: 64 * MIB });
  assert.equal(p.length, 64);
  assert.ok(p.every((r, i) => r.offset === i * MIB && r.limit === MIB && !r.precise));
  // the tail asks a full part and writes only what exists
  const t = planDownload({ size: 1_585_209 });
  assert.deepEqual(t[1], { offset: MIB, limit: MIB, precise: false, writes: [{ offset: MIB, length: 1_585_209 - MIB }] });
});

test('planDownload: random sizes, part sizes and finished ranges (resume)', () => {
  const r = rng(42);
  for (let n = 0; n < 120; n++) {
    const size = Math.floor(r() * 5 * MIB);
    const partSize = PART_SIZES[Math.floor(r() * PART_SIZES.length)]!;
    const done: Range[] = [];
    const k = Math.floor(r() * 5);
    for (let i = 0; i < k; i++) {
      const offset = Math.floor(r() * size);
      done.push({ offset, length: Math.floor(r() * (size - offset + 1)) });
    }
    checkPlan(size, partSize, done);
  }
});

test('planDownload: finished parts are not asked again; unknown size continues after the finished prefix', () => {
  const plan = planDownload({
    size: 4 * MIB,
    done: [
      { offset: 0, length: MIB },
      { offset: 2 * MIB, length: MIB },
    ],
  });
  assert.deepEqual(
    plan.map((p) => p.offset),
    [MIB, 3 * MIB],
  );
  assert.deepEqual(planDownload({ size: 4 * MIB, done: [{ offset: 0, length: 4 * MIB }] }), []);
  const u = planDownload({ partSize: 65536, done: [{ offset: 0, length: 200_000 }], maxRequests: 3 });
  assert.deepEqual(
    u.map((p) => p.offset),
    [196608, 262144, 327680],
  );
  assert.throws(
    () => planDownload({ size: 10, partSize: 12288 }),
    (e: unknown) => e instanceof FileError && e.code === 'BAD_PART_SIZE',
  );
});

test('planUpload: small vs big, part size rules, 4000 parts', () => {
  assert.deepEqual(planUpload(1), { big: false, partSize: 524288, totalParts: 1 });
  assert.deepEqual(planUpload(10 * MIB), { big: false, partSize: 524288, totalParts: 20 });
  assert.deepEqual(planUpload(10 * MIB + 1), { big: true, partSize: 524288, totalParts: 21 });
  assert.deepEqual(planUpload(64 * MIB), { big: true, partSize: 524288, totalParts: 128 });
  assert.deepEqual(planUpload(5000, { partSize: 1024 }), { big: false, partSize: 1024, totalParts: 5 });
  assert.ok(isValidUploadPartSize(1024) && isValidUploadPartSize(524288) && !isValidUploadPartSize(3072) && !isValidUploadPartSize(1048576));
  assert.throws(
    () => planUpload(100, { partSize: 1000 }),
    (e: unknown) => e instanceof FileError && e.code === 'BAD_PART_SIZE',
  );
  assert.throws(
    () => planUpload(4001 * 524288),
    (e: unknown) => e instanceof FileError && e.code === 'FILE_TOO_BIG',
  );
  assert.equal(planUpload(4000 * 524288).totalParts, 4000);
});
