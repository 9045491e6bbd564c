// The sandbox world forgets what expires, with a clock the test moves: login codes, exported authorizations and
// SRP challenges are deleted (not only refused) once expired, and capped; unfinished uploads are deleted after
// their TTL without a new part, and capped per user and in all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../src/sandbox/world';
import { FileStore } from '../../src/sandbox/files';
import { SandboxRpcError } from '../../src/sandbox/errors';
import { startSandbox } from '../../src/sandbox';

const MIN = 60_000;

function clock(start = 1_700_000_000_000): { now: () => number; t: number } {
  const c = { t: start, now: () => c.t };
  return c;
}

function rpcError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SandboxRpcError) return e.errorMessage;
    throw e;
  }
  return 'no error';
}

test('expired login codes, exported authorizations and SRP challenges are deleted by the sweep', () => {
  const c = clock();
  const w = new World({ now: c.now, seed: false, sweepMs: 0, floodLimits: false, codeTtlMs: 5 * MIN, exportTtlMs: 2 * MIN, srpTtlMs: 3 * MIN });
  const codes = ['9996621001', '9996621002', '9996621003'].map((p) => w.issueCode(p, 2));
  w.exportAuthorization(7n, 2, 4);
  w.addChallenge({ userId: 7n, dcId: 2, authKeyId: 9n, b: 5n, B: new Uint8Array(256), passwordVersion: 1 });
  assert.deepEqual(w.pendingCounts(), { codes: 3, exported: 1, challenges: 1 });

  c.t += 2 * MIN + 1;
  assert.deepEqual(w.sweep(), { codes: 0, exported: 1, challenges: 0 });
  c.t += MIN;
  assert.deepEqual(w.sweep(), { codes: 0, exported: 0, challenges: 1 });
  // a code still good is kept; one never looked up again is deleted once expired
  assert.equal(w.pendingCode(codes[0]!.hash, codes[0]!.phone, 2).code, codes[0]!.code);
  c.t += 2 * MIN;
  assert.deepEqual(w.sweep(), { codes: 3, exported: 0, challenges: 0 });
  assert.deepEqual(w.pendingCounts(), { codes: 0, exported: 0, challenges: 0 });
  assert.equal(
    rpcError(() => w.pendingCode(codes[1]!.hash, codes[1]!.phone, 2)),
    'PHONE_CODE_EXPIRED',
  );
  w.close();
});

test('pending codes, exports and challenges are capped (oldest first)', () => {
  const c = clock();
  const w = new World({ now: c.now, seed: false, sweepMs: 0, floodLimits: false, maxPending: 4 });
  const codes = Array.from({ length: 7 }, (_, i) => w.issueCode(`99966210${10 + i}`, 2));
  for (let i = 0; i < 6; i++) w.exportAuthorization(7n, 2, 4);
  for (let i = 0; i < 5; i++) w.addChallenge({ userId: 7n, dcId: 2, authKeyId: 9n, b: 5n, B: new Uint8Array(256), passwordVersion: 1 });
  assert.deepEqual(w.pendingCounts(), { codes: 4, exported: 4, challenges: 4 });
  assert.equal(
    rpcError(() => w.pendingCode(codes[2]!.hash, codes[2]!.phone, 2)),
    'PHONE_CODE_EXPIRED',
  );
  assert.equal(w.pendingCode(codes[3]!.hash, codes[3]!.phone, 2).code, codes[3]!.code);
  w.close();
});

test("the world sweeps on its own timer (unref'd)", async () => {
  const c = clock();
  const w = new World({ now: c.now, seed: false, sweepMs: 20, floodLimits: false });
  w.issueCode('9996621099', 2);
  c.t += 10 * MIN;
  const deadline = Date.now() + 5000;
  while (w.pendingCounts().codes > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(w.pendingCounts().codes, 0);
  w.close();
});

test('an upload with no new part for uploadTtlMs is deleted; one still written to is kept', () => {
  const c = clock();
  const f = new FileStore({ now: c.now, seed: false, sweepMs: 0, uploadTtlMs: 10 * MIN });
  const part = new Uint8Array(1024).fill(1);
  f.saveSmallPart(1n, 2, 100n, 0, part);
  c.t += 9 * MIN;
  f.saveSmallPart(1n, 2, 200n, 0, part);
  f.saveBigPart(1n, 2, 300n, 0, 3, part);
  c.t += 2 * MIN; // file 100: 11 min since its part; 200 and 300: 2 min
  assert.equal(f.sweepUploads(), 1);
  f.saveBigPart(1n, 2, 300n, 1, 3, part);
  assert.deepEqual(f.uploadsInProgress(), { count: 2, bytes: 3 * 1024 });
  assert.equal(
    rpcError(() => f.takeUpload(1n, 2, { _: 'inputFile', id: 100n, parts: 1, name: 'a', md5_checksum: '' })),
    'FILE_PART_0_MISSING',
  );
  assert.equal(f.takeUpload(1n, 2, { _: 'inputFile', id: 200n, parts: 1, name: 'b', md5_checksum: '' }).content.size, 1024);
  assert.deepEqual(f.uploadsInProgress(), { count: 1, bytes: 2 * 1024 });
  // no sweep call: a new part of any upload sweeps too (at most once a minute)
  c.t += 10 * MIN;
  f.saveSmallPart(2n, 2, 400n, 0, part);
  assert.deepEqual(f.uploadsInProgress(), { count: 1, bytes: 1024 });
  f.close();
});

test('uploads in progress are capped per user and in bytes; the upload being written is never the one dropped', () => {
  const c = clock();
  const f = new FileStore({ now: c.now, seed: false, sweepMs: 0, maxUploadsPerUser: 3, maxUploadBytes: 10 * 1024 });
  const part = new Uint8Array(1024).fill(2);
  for (let id = 1n; id <= 5n; id++) {
    f.saveSmallPart(1n, 2, id, 0, part);
    c.t += 1000;
  }
  assert.deepEqual(f.uploadsInProgress(), { count: 3, bytes: 3 * 1024 });
  assert.equal(
    rpcError(() => f.takeUpload(1n, 2, { _: 'inputFile', id: 2n, parts: 1, name: 'x', md5_checksum: '' })),
    'FILE_PART_0_MISSING',
  );
  // another user is not touched by user 1's cap
  f.saveSmallPart(2n, 2, 9n, 0, part);
  assert.equal(f.uploadsInProgress().count, 4);
  // bytes: a big upload of user 3 pushes the least recently written ones out, never itself
  for (let p = 0; p < 8; p++) f.saveBigPart(3n, 2, 50n, p, 20, part);
  assert.ok(f.uploadsInProgress().bytes <= 10 * 1024);
  assert.equal(
    rpcError(() => f.takeUpload(1n, 2, { _: 'inputFile', id: 3n, parts: 1, name: 'x', md5_checksum: '' })),
    'FILE_PART_0_MISSING',
  );
  assert.equal(
    rpcError(() => f.takeUpload(3n, 2, { _: 'inputFileBig', id: 50n, parts: 20, name: 'x' })),
    'FILE_PART_8_MISSING',
  );
  f.close();
});

test('startSandbox checks the memory options', async () => {
  await assert.rejects(startSandbox({ basePort: 0, control: false, cdn: false, ipv6: false, sessionIdleSeconds: -1 }), /session idle time/);
  await assert.rejects(startSandbox({ basePort: 0, control: false, cdn: false, ipv6: false, uploadTtlSeconds: 1.5 }), /upload TTL/);
  await assert.rejects(startSandbox({ basePort: 0, control: false, cdn: false, ipv6: false, inputBudgetBytes: 0 }), /input budget/);
});
