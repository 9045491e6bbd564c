// Proof: the seeded 64 MiB file (`big-64m`, DC 4) downloaded from one sandbox by OUR client (direct path, no CDN)
// and by GramJS (unmodified, layer 198 served through extraSchemas, full transport) is byte-identical (sha256) to the
// sandbox's source. Both clients log in on DC 2 and follow the file's dc_id to DC 4 themselves (ours: authorization
// transfer through the lifecycle; GramJS: its exported sender). Each file is written to disk, hashed as a stream and
// removed before the next client starts: never more than one 64 MiB copy at a time, and none in memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bigInt from 'big-integer';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient, type DcClient } from '../../src/lifecycle/client';
import type { LifecycleEvent } from '../../src/lifecycle/runtime';
import { downloadFile, locationFromJson } from '../../src/files/index';
import { startInteropSandbox, withTimeout, codeOf, type InteropSandbox } from '../interop/helpers/sandbox';
import { Api, makeGramjsClient, gramjsStart } from '../interop/helpers/gramjs';

const SIZE = 64 * 1024 * 1024;
const TIMEOUT = 180_000;

interface Seeded {
  key: string;
  dcId: number;
  size: number;
  sha256: string;
  cdn: boolean;
  location: { _?: string; id: string; access_hash: string; file_reference: string; thumb_size: string };
}

let s: InteropSandbox;
let dir: string;
let big: Seeded;

before(async () => {
  s = await startInteropSandbox();
  dir = mkdtempSync(join(tmpdir(), 'dclab-big64-'));
  const f = s.sb.files().find((x: { key: string }) => x.key === 'big-64m') as unknown as Seeded | undefined;
  assert.ok(f, 'the sandbox seeds big-64m');
  big = f;
});
after(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function mbs(bytes: number, ms: number): string {
  return `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
}

test('the seeded big-64m: 64 MiB on DC 4, not marked for the CDN', () => {
  assert.equal(big.size, SIZE);
  assert.equal(big.dcId, 4);
  assert.equal(big.cdn, false);
  assert.match(big.sha256, /^[0-9a-f]{64}$/);
});

test('OUR client downloads big-64m through the direct path (DC 2 → transfer → DC 4): sha256 = the source', { timeout: TIMEOUT }, async () => {
  const events: LifecycleEvent[] = [];
  const client: DcClient = createDcClient({ profile: profileFromSandboxInfo(s.sb.info, { firstDc: 2 }), onEvent: (e) => void events.push(e) });
  const out = join(dir, 'ours.bin');
  try {
    await client.start();
    await client.login({ phone: '9996621234', code: async () => codeOf('9996621234') });
    const t0 = performance.now();
    const res = await downloadFile(client, { location: locationFromJson(big.location), dcId: big.dcId, size: big.size, out, cdn: false });
    const ms = performance.now() - t0;
    assert.equal(res.bytes, SIZE);
    assert.equal(res.cdn, false, 'no byte came from the CDN');
    assert.deepEqual(res.dcPath, [4], 'served by DC 4 only');
    assert.equal(res.sha256, big.sha256, 'the sha256 hashed on the way');
    assert.equal(statSync(out).size, SIZE);
    assert.equal(await sha256OfFile(out), big.sha256, 'the bytes on disk, hashed again as a stream');
    assert.ok(!existsSync(`${out}.part`) && !existsSync(`${out}.part.json`), 'no .part / sidecar left');
    assert.ok(
      events.some((e) => e.kind === 'transfer'),
      'the authorization was transferred to DC 4 first',
    );
    assert.deepEqual(client.status().authorizedDcs, [2, 4]);
    console.log(`# ours: 64 MiB in ${ms.toFixed(0)} ms (${mbs(SIZE, ms)}), ${res.parts} parts, DC ${res.dcPath.join(' → ')}`);
  } finally {
    await client.stop().catch(() => undefined);
    rmSync(out, { force: true });
  }
});

test('GramJS (unmodified, layer 198, full transport) downloads big-64m following dc_id 4: sha256 = the source', { timeout: TIMEOUT }, async () => {
  const phone = '9996621234'; // the seeded user of DC 2 (GramJS gets its own auth key and authorization)
  const h = makeGramjsClient(s, { transport: 'full', startDc: 2 });
  const diag = () => [...s.log.slice(-15), ...h.logs.slice(-25)].join('\n');
  const out = join(dir, 'gramjs.bin');
  try {
    await withTimeout(gramjsStart(h, phone, codeOf(phone)), 25_000, `GramJS start(${phone})`, diag);
    assert.deepEqual(h.authErrors, [], 'GramJS reported auth errors');
    assert.equal(h.session.dcId, 2, 'GramJS is home on DC 2');
    const location = new Api.InputDocumentFileLocation({
      id: bigInt(big.location.id),
      accessHash: bigInt(big.location.access_hash),
      fileReference: Buffer.from(big.location.file_reference, 'base64'),
      thumbSize: big.location.thumb_size,
    });
    const t0 = performance.now();
    await withTimeout(
      h.client.downloadFile(location, { dcId: big.dcId, fileSize: bigInt(big.size), outputFile: out }),
      TIMEOUT - 30_000,
      'GramJS downloadFile(big-64m)',
      diag,
    );
    const ms = performance.now() - t0;
    assert.equal(statSync(out).size, SIZE);
    assert.equal(await sha256OfFile(out), big.sha256, 'GramJS wrote the same bytes');
    assert.ok(
      h.dials.some((d) => d.dcId === 4),
      'GramJS dialled DC 4 itself',
    );
    console.log(`# gramjs: 64 MiB in ${ms.toFixed(0)} ms (${mbs(SIZE, ms)}), DCs dialled ${[...new Set(h.dials.map((d) => d.dcId))].join(', ')}`);
  } finally {
    await h.destroy();
    rmSync(out, { force: true });
  }
});
