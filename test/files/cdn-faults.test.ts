// CDN faults against the real sandbox: parts whose bytes fail their SHA-256 FileHash (the corruptCdnParts knob) and
// a CDN DC that forgets its auth keys mid-download (dropAuthKeys(203) → −404 → a new key made with the CDN's RSA key
// from help.getCdnConfig). cdn.html: a part that does not match its hash is discarded before it is saved; the client
// stops trusting the CDN for that file and continues with upload.getFile on the master DC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { downloadFile } from '../../src/files/download';
import { readSidecar } from '../../src/files/part-file';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { CDN_DC_ID } from '../../src/sandbox';
import { startFilesLab, sha256File, partState, chainOf, type FilesLab } from './helpers';

const PART = 131072;
let lab: FilesLab;
const wire: WireEvent[] = [];

before(async () => {
  lab = await startFilesLab({
    // only what the CDN DC does with keys: handshakes done and −404s sent
    onWire: (e) => {
      if (e.dcId === CDN_DC_ID && (e.kind === 'key' || e.kind === 'transport-error')) wire.push(e);
    },
  });
});
after(async () => {
  await lab?.stop();
});

test('the CDN DC id is 203 (info file) and cdn-small is CDN-marked', () => {
  assert.equal(CDN_DC_ID, 203);
  assert.equal(lab.sandbox.info.cdn?.id, 203);
  assert.ok(lab.seeded('cdn-small').cdn);
});

test('one corrupted CDN part: discarded (never written), the CDN is dropped for the file, the master serves the rest; byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const out = lab.out('cdn-corrupt-one.bin');
  lab.sandbox.corruptCdnParts(1);
  try {
    const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: PART, parallel: 2 });
    assert.equal(res.sha256, f.sha256);
    assert.equal(sha256File(out), f.sha256);
    assert.deepEqual(partState(out), { final: true, part: false, sidecar: false });
    assert.deepEqual(res.dcPath, [f.dcId, 203]);
    const chain = chainOf(events, res.traceId);
    const mismatch = chain.filter((e) => e.kind === 'error' && e.name === 'CDN_HASH_MISMATCH');
    assert.equal(mismatch.length, 1, 'the hash failure is reported once');
    const m = mismatch[0]!;
    assert.equal(m.dcId, 203);
    assert.match(m.note ?? '', /CDN DC 203: the bytes at \d+ .*do not match the master's SHA-256; discarded; back to upload\.getFile on DC 2/);
    // the failing part and every later one came from the master, without cdn_supported
    const masterParts = chain.filter((e) => e.kind === 'result' && e.name === 'upload.file' && e.dcId === f.dcId);
    assert.ok(masterParts.length >= 1 && masterParts.every((e) => e.id > m.id), 'master parts after the fallback');
    const cdnParts = chain.filter((e) => e.kind === 'result' && e.name === 'upload.cdnFile');
    assert.ok(cdnParts.length + masterParts.length === res.parts, `${cdnParts.length} CDN + ${masterParts.length} master parts = ${res.parts}`);
    assert.equal(res.parts, Math.ceil(f.size / PART), 'no part answered twice (the discarded one is not counted)');
    assert.ok(!chain.some((e) => e.kind === 'redirect' && e.name === 'fileCdnRedirect' && e.id > m.id), 'no second CDN redirect for this file');
  } finally {
    lab.sandbox.corruptCdnParts(0);
  }
});

test('every CDN part corrupted: nothing from the CDN is accepted, the master serves the file; byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const out = lab.out('cdn-corrupt-all.bin');
  lab.sandbox.corruptCdnParts(Infinity);
  try {
    const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: PART, parallel: 3, sha256: f.sha256 });
    assert.equal(res.sha256, f.sha256);
    assert.equal(sha256File(out), f.sha256);
    assert.equal(res.cdn, false, 'no byte came from the CDN');
    const chain = chainOf(events, res.traceId);
    assert.equal(chain.filter((e) => e.kind === 'error' && e.name === 'CDN_HASH_MISMATCH').length, 1);
    assert.ok(!chain.some((e) => e.kind === 'result' && e.name === 'upload.cdnFile'));
    assert.equal(chain.filter((e) => e.kind === 'result' && e.name === 'upload.file' && e.dcId === f.dcId).length, Math.ceil(f.size / PART));
  } finally {
    lab.sandbox.corruptCdnParts(0);
  }
  // the knob is off again: the next download uses the CDN
  const { client: c2 } = await lab.login(2);
  const again = await downloadFile(c2, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('cdn-after-corrupt.bin'), partSize: 524288 });
  assert.equal(again.sha256, f.sha256);
  assert.equal(again.cdn, true);
});

test('a hash failure and then a master that refuses: a clear error, the good bytes kept in <out>.part, nothing at <out>', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const out = lab.out('cdn-corrupt-then-fail.bin');
  let armed = false;
  const root = client.runtime.emit({ kind: 'file', name: 'test: corrupt then refuse' });
  try {
    await assert.rejects(
      downloadFile(client, {
        location: f.location,
        dcId: f.dcId,
        size: f.size,
        out,
        partSize: PART,
        parallel: 1,
        parentId: root,
        onProgress: (p) => {
          // after the first good CDN part: every CDN answer corrupted, and the master refuses getFile
          if (!armed && p.cdn) {
            armed = true;
            lab.sandbox.corruptCdnParts(Infinity);
            lab.sandbox.injectFault({ method: 'upload.getFile', dcId: f.dcId, error: 'FILE_REFERENCE_EXPIRED', times: Infinity });
          }
        },
      }),
      (e: unknown) => e instanceof Error && /FILE_REFERENCE_EXPIRED/.test(e.message),
    );
  } finally {
    lab.sandbox.clearFaults();
    lab.sandbox.corruptCdnParts(0);
  }
  assert.ok(armed);
  assert.deepEqual(partState(out), { final: false, part: true, sidecar: true });
  const sc = await readSidecar(out);
  assert.deepEqual(sc?.done, [{ offset: 0, length: PART }], 'only the verified CDN part is recorded as done');
  const chain = chainOf(events, root);
  const m = chain.find((e) => e.kind === 'error' && e.name === 'CDN_HASH_MISMATCH');
  assert.ok(m, 'the hash failure is in the trace');
  assert.match(m.note ?? '', new RegExp(`the bytes at ${PART} `));
  assert.ok(chain.some((e) => e.name === 'download failed' && /FILE_REFERENCE_EXPIRED/.test(e.note ?? '')));
});

test('dropAuthKeys(203) after the first CDN part: −404, a new CDN key (CDN RSA key), the download continues on the CDN; byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const out = lab.out('cdn-keys-dropped.bin');
  const wireFrom = wire.length;
  let dropped = -1;
  const res = await downloadFile(client, {
    location: f.location,
    dcId: f.dcId,
    size: f.size,
    out,
    partSize: PART,
    parallel: 2,
    onProgress: (p) => {
      if (dropped < 0 && p.cdn) dropped = lab.sandbox.dropAuthKeys(CDN_DC_ID);
    },
  });
  assert.ok(dropped >= 1, `the CDN DC forgot ${dropped} key(s)`);
  assert.equal(res.sha256, f.sha256);
  assert.equal(sha256File(out), f.sha256);
  assert.equal(res.cdn, true);
  const chain = chainOf(events, res.traceId);
  assert.ok(!chain.some((e) => e.kind === 'error' && /back to upload\.getFile/.test(e.note ?? '')), 'no fallback to the master');
  const keys = chain.filter((e) => e.dcId === 203 && e.kind === 'key').map((e) => e.name);
  assert.deepEqual(keys, ['auth key', 'auth key dropped', 'auth key'], 'key made, dropped on −404, made again');
  const made = chain.filter((e) => e.dcId === 203 && e.kind === 'key' && e.name === 'auth key');
  assert.ok(
    made.every((e) => /checked against help\.getCdnConfig/.test(e.note ?? '')),
    'both keys made with the getCdnConfig RSA key',
  );
  assert.ok(
    chain.some((e) => e.kind === 'error' && e.dcId === 203 && /retry 1\//.test(e.note ?? '')),
    'the part that met the −404 was retried',
  );
  const dropAt = chain.find((e) => e.name === 'auth key dropped')!.id;
  assert.ok(
    chain.some((e) => e.kind === 'result' && e.name === 'upload.cdnFile' && e.id > dropAt),
    'CDN parts after the new key',
  );
  assert.equal(chain.filter((e) => e.kind === 'result' && e.name === 'upload.file').length, 0, 'no part from the master');
  // the server side: two handshakes on DC 203 during this download, a −404 between them
  const w = wire.slice(wireFrom);
  assert.equal(w.filter((e) => e.kind === 'key').length, 2, w.map((e) => `${e.kind}:${e.note}`).join(' | '));
  assert.ok(w.some((e) => e.kind === 'transport-error' && /^-404/.test(e.note ?? '')));
  assert.equal(lab.sandbox.world.keyCount(CDN_DC_ID), 1, 'only the new key is known to the CDN DC');
});

test('dropAuthKeys(203) between two downloads: the kept CDN key gets −404, a new one is made, byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const first = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('cdn-k1.bin'), partSize: 524288 });
  assert.equal(first.sha256, f.sha256);
  assert.ok(lab.sandbox.dropAuthKeys(CDN_DC_ID) >= 1);
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('cdn-k2.bin'), partSize: 524288 });
  assert.equal(res.sha256, f.sha256);
  assert.equal(res.cdn, true);
  const names = chainOf(events, res.traceId)
    .filter((e) => e.dcId === 203 && (e.kind === 'key' || e.name === 'stored auth key'))
    .map((e) => e.name);
  assert.deepEqual(names, ['stored auth key', 'auth key dropped', 'auth key']);
});
