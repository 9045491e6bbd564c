// Downloads against the real sandbox: transfer to the file's DC, FILE_MIGRATE mid-download, dropped connections, a
// server restart, abort + resume, the CDN path (reupload, expired tokens), photos by their biggest size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { downloadFile, downloadBytes } from '../../src/files/download';
import { FileError } from '../../src/files/errors';
import { listSavedMedia, locationOf } from '../../src/files/media';
import { readSidecar } from '../../src/files/part-file';
import { createHash } from 'node:crypto';
import { startFilesLab, sha256File, partState, chainOf, type FilesLab } from './helpers';

let lab: FilesLab;
before(async () => {
  lab = await startFilesLab();
});
after(async () => {
  await lab?.stop();
});

test('a small file on another DC: transfer first, then the bytes; sha256 matches; the trace nests it all', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('small-dc1');
  assert.equal(f.dcId, 1);
  const out = lab.out('small-dc1.bin');
  const progress: number[] = [];
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, onProgress: (p) => progress.push(p.bytes) });
  assert.equal(res.sha256, f.sha256);
  assert.equal(sha256File(out), f.sha256);
  assert.equal(res.bytes, f.size);
  assert.deepEqual(res.dcPath, [1]);
  assert.equal(res.cdn, false);
  assert.deepEqual(partState(out), { final: true, part: false, sidecar: false });
  assert.deepEqual(progress, [f.size]);
  const chain = chainOf(events, res.traceId);
  const names = chain.map((e) => `${e.kind}:${e.name}`);
  assert.ok(names.includes('transfer:transfer'), names.join(' | '));
  assert.ok(names.includes('call:auth.exportAuthorization') && names.includes('call:auth.importAuthorization'));
  assert.ok(names.some((n) => n.startsWith('file:part 0+')));
  assert.ok(names.includes('file:downloaded'));
  // the transfer precedes the bytes
  const t = chain.find((e) => e.kind === 'transfer')!;
  const r = chain.find((e) => e.kind === 'result' && e.name === 'upload.file')!;
  assert.ok(t.id < r.id);
  assert.deepEqual(client.status().authorizedDcs, [1, 2]);
});

test('a file crossing the 1 MiB boundary, in 64 KiB parts, 3 in flight; in memory too', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const out = lab.out('medium-dc3.bin');
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 65536, parallel: 3 });
  assert.equal(res.sha256, f.sha256);
  assert.equal(res.parts, Math.ceil(f.size / 65536));
  const mem = await downloadBytes(client, { location: f.location, dcId: f.dcId, partSize: 262144 }); // size unknown: stops at the short answer
  assert.equal(mem.length, f.size);
  assert.equal(createHash('sha256').update(mem).digest('hex'), f.sha256);
});

test('connections: 3 spreads the parts over extra sessions with the same auth key (and survives drops)', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const out = lab.out('conns.bin');
  lab.sandbox.dropConnectionsAfterBytes(3, 400_000 + Math.floor(Math.random() * 600_000), 1);
  try {
    const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 65536, parallel: 6, connections: 3 });
    assert.equal(res.sha256, f.sha256);
    const extras = chainOf(events, res.traceId).filter((e) => e.kind === 'state' && e.name === 'connect' && /extra connection/.test(e.note ?? ''));
    assert.ok(extras.length >= 2, `extra connections opened: ${extras.length}`);
  } finally {
    lab.sandbox.clearConnectionFaults();
  }
});

test('Saved Messages list the seeded media with dc_id and location JSON; the photo downloads its biggest size', async () => {
  const { client } = await lab.login(3);
  const media = await listSavedMedia(client);
  const byId = new Map(media.map((m) => [m.messageId, m]));
  for (const info of lab.sandbox.files()) {
    const m = byId.get(info.messageId);
    assert.ok(m, `message ${info.messageId} (${info.key}) listed`);
    assert.equal(m.dcId, info.dcId);
    assert.equal(m.kind, info.kind);
    if (info.kind === 'document') {
      assert.equal(m.size, info.size);
      assert.deepEqual(m.locationJson, info.location);
    }
  }
  const photo = media.find((m) => m.kind === 'photo')!;
  const info = lab.sandbox.files().find((x) => x.kind === 'photo')!;
  const biggest = [...info.sizes!].sort((a, b) => b.size - a.size)[0]!;
  assert.equal(photo.thumb, biggest.type);
  assert.equal(photo.size, biggest.size);
  const out = lab.out('photo.jpg');
  const res = await downloadFile(client, { location: photo.location, dcId: photo.dcId, size: photo.size, out });
  assert.equal(res.sha256, biggest.sha256);
  // locationOf on a raw messageMediaPhoto picks a named size too
  assert.equal(
    locationOf({
      _: 'photo',
      id: 1n,
      access_hash: 2n,
      file_reference: new Uint8Array(),
      date: 0,
      dc_id: 2,
      sizes: [
        { _: 'photoStrippedSize', type: 'i', bytes: new Uint8Array(3) },
        { _: 'photoSize', type: 'm', w: 1, h: 1, size: 10 },
        { _: 'photoSizeProgressive', type: 'y', w: 1, h: 1, sizes: [5, 50, 500] },
      ],
    }).thumb,
    'y',
  );
});

test('FILE_MIGRATE in the middle: the rest moves to the new DC (after a transfer), finished parts kept, byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const out = lab.out('migrate.bin');
  let moved = false;
  const res = await downloadFile(client, {
    location: f.location,
    dcId: f.dcId,
    size: f.size,
    out,
    partSize: 65536,
    parallel: 2,
    onProgress: (p) => {
      if (!moved && p.bytes >= 4 * 65536) {
        moved = true;
        lab.sandbox.moveFile('medium-dc3', 5);
      }
    },
  });
  try {
    assert.equal(res.sha256, f.sha256);
    assert.deepEqual(res.dcPath, [3, 5]);
    const chain = chainOf(events, res.traceId);
    const redirect = chain.find((e) => e.kind === 'redirect' && e.name === 'FILE_MIGRATE_5');
    assert.ok(redirect, 'a FILE_MIGRATE_5 redirect event under the download');
    const transfers = chain.filter((e) => e.kind === 'transfer');
    assert.deepEqual(
      transfers.map((e) => e.targetDc),
      [3, 5],
    );
    assert.ok(transfers[1]!.id > redirect.id, 'the transfer to DC5 follows the redirect');
    // parts before the move came from DC3, after it from DC5
    const results = chain.filter((e) => e.kind === 'result' && e.name === 'upload.file').map((e) => e.dcId);
    assert.ok(results.includes(3) && results.includes(5));
  } finally {
    lab.sandbox.moveFile('medium-dc3', 3);
  }
});

test('connections dropped at random offsets mid-download: retried, byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  // warm up DC3 (transfer) so the drops hit the data
  await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('warm.bin') });
  for (let round = 0; round < 3; round++) {
    const at = 50_000 + Math.floor(Math.random() * 1_200_000);
    lab.sandbox.dropConnectionsAfterBytes(3, at, 2);
    try {
      const out = lab.out(`drops-${round}.bin`);
      const before = events.length;
      const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 131072, parallel: 2 });
      assert.equal(res.sha256, f.sha256, `drops after ${at} bytes`);
      assert.equal(sha256File(out), f.sha256);
      // the session reconnects and re-sends the parts in flight; a part that still failed is retried by the download
      const retries = chainOf(events, res.traceId).filter((e) => e.kind === 'error' && /retry/.test(e.note ?? ''));
      const reconnects = events.slice(before).filter((e) => e.name === 'reconnect' && e.dcId === 3);
      assert.ok(retries.length + reconnects.length >= 1, `the drop at ${at} was recovered from (reconnect or part retry)`);
    } finally {
      lab.sandbox.clearConnectionFaults();
    }
  }
});

test('a fault that does not go away ends in a clear error and no file that looks complete', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('warm2.bin') });
  // every connection to DC3 dies after a few bytes of each answer: retries run out
  lab.sandbox.dropConnectionsAfterBytes(3, 70_000, 1000);
  const out = lab.out('never.bin');
  try {
    await assert.rejects(
      downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 131072, retries: 2 }),
      (e: unknown) => e instanceof FileError && e.code === 'RETRIES_EXHAUSTED' && /failed 3 times/.test(e.message),
    );
  } finally {
    lab.sandbox.clearConnectionFaults();
  }
  assert.equal(partState(out).final, false);
  assert.equal(partState(out).part, true);
  // a location the DC rejects: the RpcError itself, nothing at <out>
  const bad = { ...f.location, access_hash: 12345n };
  const out2 = lab.out('bad.bin');
  await assert.rejects(downloadFile(client, { location: bad, dcId: f.dcId, size: f.size, out: out2 }), /LOCATION_INVALID/);
  assert.equal(partState(out2).final, false);
  // a wrong expected sha256: the bytes stay in <out>.part
  const out3 = lab.out('wrong-sha.bin');
  await assert.rejects(
    downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: out3, sha256: '0'.repeat(64) }),
    (e: unknown) => e instanceof FileError && e.code === 'HASH_MISMATCH',
  );
  assert.deepEqual(partState(out3), { final: false, part: true, sidecar: true });
});

test('the server restarts mid-download: reconnect, byte-identical', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const out = lab.out('restart.bin');
  let restarted: Promise<void> | undefined;
  lab.sandbox.setLatency(3, 20);
  try {
    const res = await downloadFile(client, {
      location: f.location,
      dcId: f.dcId,
      size: f.size,
      out,
      partSize: 65536,
      parallel: 2,
      onProgress: (p) => {
        if (!restarted && p.bytes >= 3 * 65536) restarted = lab.sandbox.restartListeners();
      },
    });
    await restarted;
    assert.ok(restarted, 'the restart happened during the download');
    assert.equal(res.sha256, f.sha256);
  } finally {
    lab.sandbox.setLatency(3, 0);
  }
});

test('the DC forgets its auth keys mid-download (−404): new key, new transfer, byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  let dropped = 0;
  const res = await downloadFile(client, {
    location: f.location,
    dcId: f.dcId,
    size: f.size,
    out: lab.out('keys-dropped.bin'),
    partSize: 65536,
    parallel: 2,
    onProgress: (p) => {
      if (!dropped && p.bytes >= 4 * 65536) dropped = lab.sandbox.dropAuthKeys(3);
    },
  });
  assert.ok(dropped > 0);
  assert.equal(res.sha256, f.sha256);
  const chain = chainOf(events, res.traceId);
  assert.ok(
    chain.some((e) => e.kind === 'key' && e.name === 'auth key dropped' && e.dcId === 3),
    'the −404 dropped the key',
  );
  assert.equal(chain.filter((e) => e.kind === 'transfer' && e.targetDc === 3).length, 2, 'a second transfer after the new key');
});

test('abort stops promptly and leaves only <out>.part + sidecar; resume finishes the file', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('medium-dc3');
  const out = lab.out('abort.bin');
  const ac = new AbortController();
  lab.sandbox.setLatency(3, 30);
  let abortedAt = 0;
  try {
    await assert.rejects(
      downloadFile(client, {
        location: f.location,
        dcId: f.dcId,
        size: f.size,
        out,
        partSize: 65536,
        parallel: 2,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes >= 5 * 65536 && !ac.signal.aborted) {
            abortedAt = Date.now();
            ac.abort();
          }
        },
      }),
      (e: unknown) => e instanceof FileError && e.code === 'ABORTED',
    );
  } finally {
    lab.sandbox.setLatency(3, 0);
  }
  assert.ok(Date.now() - abortedAt < 2000, `stopped ${Date.now() - abortedAt} ms after the abort`);
  assert.deepEqual(partState(out), { final: false, part: true, sidecar: true });
  const sc = await readSidecar(out);
  assert.ok(sc && sc.done.length > 0 && sc.size === f.size);
  const doneBytes = sc.done.reduce((n, r) => n + r.length, 0);
  assert.ok(doneBytes >= 5 * 65536 && doneBytes < f.size);
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 65536, sha256: f.sha256 });
  assert.equal(res.resumedBytes, doneBytes);
  assert.equal(res.sha256, f.sha256);
  assert.equal(res.parts, Math.ceil(f.size / 65536) - Math.floor(doneBytes / 65536));
  assert.deepEqual(partState(out), { final: true, part: false, sidecar: false });
});

test('CDN: fileCdnRedirect → CDN DC 203 (its own RSA key), AES-256-CTR parts checked against SHA-256 ranges; reupload first', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  assert.ok(f.cdn);
  lab.sandbox.setCdnReuploadNeeded('cdn-small', true);
  const out = lab.out('cdn-small.bin');
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 524288 });
  assert.equal(res.sha256, f.sha256);
  assert.equal(res.cdn, true);
  assert.deepEqual(res.dcPath, [f.dcId, 203]);
  const chain = chainOf(events, res.traceId);
  const names = chain.map((e) => `${e.kind}:${e.name}@${e.dcId}`);
  assert.ok(names.includes(`redirect:fileCdnRedirect@${f.dcId}`), names.join(' | '));
  assert.ok(names.includes(`call:help.getCdnConfig@${f.dcId}`));
  assert.ok(names.includes('key:auth key@203'));
  assert.ok(names.some((n) => n.startsWith('file:upload.reuploadCdnFile@')));
  assert.ok(
    names.some((n) => n.startsWith('file:upload.getCdnFileHashes@')),
    'missing hash ranges fetched from the master',
  );
  assert.ok(chain.filter((e) => e.kind === 'result' && e.name === 'upload.cdnFile' && e.dcId === 203).length >= 4);
});

test('CDN: tokens expire mid-download → FILE_TOKEN_INVALID → back to upload.getFile on the master, byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const out = lab.out('cdn-expire.bin');
  let expired = false;
  const res = await downloadFile(client, {
    location: f.location,
    dcId: f.dcId,
    size: f.size,
    out,
    partSize: 131072,
    parallel: 2,
    onProgress: (p) => {
      if (!expired && p.cdn && p.bytes >= 3 * 131072) {
        expired = true;
        lab.sandbox.expireFileTokens();
      }
    },
  });
  assert.ok(expired);
  assert.equal(res.sha256, f.sha256);
  const chain = chainOf(events, res.traceId);
  assert.ok(chain.some((e) => e.kind === 'error' && e.name === 'FILE_TOKEN_INVALID'));
  const after = chain.filter((e) => e.kind === 'result' && e.name === 'upload.file' && e.dcId === f.dcId);
  assert.ok(after.length >= 1, 'parts served by the master after the fallback');
});

test('CDN: connections to DC 203 dropped mid-download: the CDN link reconnects (stored CDN key), byte-identical', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  lab.sandbox.dropConnectionsAfterBytes(203, 200_000 + Math.floor(Math.random() * 1_500_000), 2);
  try {
    const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('cdn-drops.bin'), partSize: 262144, parallel: 3 });
    assert.equal(res.sha256, f.sha256);
    assert.equal(res.cdn, true);
    const chain = chainOf(events, res.traceId);
    assert.ok(
      chain.some((e) => e.kind === 'error' && e.dcId === 203 && /retry/.test(e.note ?? '')),
      'a CDN part was retried',
    );
    assert.ok(chain.filter((e) => e.kind === 'state' && e.name === 'connect' && e.dcId === 203).length >= 2, 'the CDN link reconnected');
  } finally {
    lab.sandbox.clearConnectionFaults();
  }
});

test('CDN: a CDN key that help.getCdnConfig does not list is never trusted: the master serves the file', async () => {
  const { client, events } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  // this client hears another key for DC 203 (the main DCs' key) than the one the CDN presents
  const rt = client.runtime;
  const call = rt.call.bind(rt);
  rt.call = (async (method: { _: string }, opts?: object) => {
    if (method._ === 'help.getCdnConfig') return { _: 'cdnConfig', public_keys: [{ _: 'cdnPublicKey', dc_id: 203, public_key: lab.sandbox.info.rsa.pem }] };
    return call(method as never, opts as never);
  }) as typeof rt.call;
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('cdn-untrusted.bin') });
  assert.equal(res.sha256, f.sha256);
  assert.equal(res.cdn, false, 'no byte came from the CDN');
  const chain = chainOf(events, res.traceId);
  assert.ok(chain.some((e) => e.kind === 'error' && e.name === 'CDN_KEY_UNTRUSTED' && e.dcId === 203));
  assert.ok(!chain.some((e) => e.kind === 'result' && e.name === 'upload.cdnFile'));
});

test('cdn: false never asks for the CDN', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('cdn-small');
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out: lab.out('nocdn.bin'), cdn: false });
  assert.equal(res.cdn, false);
  assert.equal(res.sha256, f.sha256);
  assert.deepEqual(res.dcPath, [f.dcId]);
});

test('the seeded 64 MiB file through the CDN path is byte-identical (sha256)', async () => {
  const { client } = await lab.login(2);
  const f = lab.seeded('big-64m-cdn');
  assert.equal(f.size, 64 * 1024 * 1024);
  const out = lab.out('big-64m-cdn.bin');
  const res = await downloadFile(client, { location: f.location, dcId: f.dcId, size: f.size, out, sha256: f.sha256 });
  assert.equal(res.sha256, f.sha256);
  assert.equal(res.cdn, true);
  assert.equal(sha256File(out), lab.seeded('big-64m').sha256);
  process.stderr.write(
    `[files] 64 MiB via CDN: ${res.ms} ms, ${(f.size / 1e6 / (res.ms / 1000)).toFixed(1)} MB/s, ${res.parts} parts, DC ${res.dcPath.join(' → ')}\n`,
  );
  void readFileSync;
});
