// Sandbox files, handler level (no sockets): seeded history, upload.getFile rules, FILE_MIGRATE, AUTH_KEY_UNREGISTERED,
// location errors, uploads (small, big, missing parts), uploadMedia / sendMedia / getHistory, file hashes, and the
// master-DC + CDN-DC side of CDN downloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createCipheriv } from 'node:crypto';
import type { TlObject } from '../../src/tl/types';
import { SandboxApi, type SandboxCall } from '../../src/sandbox/api';
import { World } from '../../src/sandbox/world';
import { FileStore, fileMethods, CDN_DC_ID, documentLocation, photoLocation, type StoredDocument, type StoredPhoto } from '../../src/sandbox/files';
import { cdnHandler, cdnPartIv } from '../../src/sandbox/cdn';
import { StreamContent, SEED } from '../../src/sandbox/seed';
import { TOPOLOGY, rejectsRpc } from './helpers';

const MIB = 1048576;

function setup() {
  const clock = { now: 1_750_000_000_000 };
  const world = new World({ now: () => clock.now });
  const store = new FileStore();
  const api = new SandboxApi(world, {
    topology: () => TOPOLOGY,
    methods: fileMethods(store, { cdnEndpoint: () => ({ host: '127.0.0.1', port: 30203 }), cdnPublicPem: () => 'PEM' }),
  });
  const user = world.userByPhone('9996621234')!;
  const call = (dcId: number, key: bigint, method: TlObject): Promise<any> => {
    const c: SandboxCall = { method, layer: 227, dcId, authKeyId: key, sessionId: 1n, msgId: 2n };
    return api.handle(c);
  };
  // One authorized key per DC for the user of DC 2 (login on 2, "imported" elsewhere).
  const keys = new Map<number, bigint>();
  for (const dc of [1, 2, 3, 4, 5]) {
    const key = BigInt(1000 + dc);
    world.authorize(dc, key, user.id, dc === 2 ? 'login' : 'imported');
    keys.set(dc, key);
  }
  const cdn = cdnHandler(store);
  const cdnCall = (method: TlObject): Promise<any> => cdn({ method, layer: 227, dcId: CDN_DC_ID, authKeyId: 77n });
  return { world, store, api, user, call, key: (dc: number) => keys.get(dc)!, cdnCall, clock };
}

const doc = (store: FileStore, key: string) => store.media(key) as StoredDocument;
const getFile = (location: TlObject, offset: number, limit: number, extra: TlObject | object = {}): TlObject => ({
  _: 'upload.getFile',
  location,
  offset: BigInt(offset),
  limit,
  ...extra,
});

test('getHistory(inputPeerSelf) lists the seeded media, newest first, with self in users', async () => {
  const s = setup();
  const r = await s.call(2, s.key(2), {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 50,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  assert.equal(r._, 'messages.messages');
  assert.deepEqual(
    r.messages.map((m: any) => m.id),
    [7, 6, 5, 4, 3, 2, 1],
  );
  assert.equal(r.users.length, 1);
  assert.equal(r.users[0].id, s.user.id);
  assert.equal(r.users[0].self, true);
  const byId = new Map(r.messages.map((m: any) => [m.id, m]));
  const big: any = byId.get(5);
  assert.equal(big.media._, 'messageMediaDocument');
  assert.equal(big.media.document.dc_id, 4);
  assert.equal(big.media.document.size, 64n * 1024n * 1024n);
  assert.equal(big.peer_id.user_id, s.user.id);
  const photo: any = byId.get(4);
  assert.equal(photo.media._, 'messageMediaPhoto');
  assert.deepEqual(
    photo.media.photo.sizes.map((x: any) => x.type),
    ['s', 'm', 'x', 'y'],
  );
  assert.equal(photo.media.photo.dc_id, 2);
  assert.deepEqual(
    [1, 2, 3].map((id) => (byId.get(id) as any).media.document.dc_id),
    [1, 3, 4],
  );
  // pagination
  const page = await s.call(2, s.key(2), {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 5,
    offset_date: 0,
    add_offset: 0,
    limit: 2,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  assert.deepEqual(
    page.messages.map((m: any) => m.id),
    [4, 3],
  );
  await rejectsRpc(
    s.call(2, s.key(2), {
      _: 'messages.getHistory',
      peer: { _: 'inputPeerChat', chat_id: 1n },
      offset_id: 0,
      offset_date: 0,
      add_offset: 0,
      limit: 1,
      max_id: 0,
      min_id: 0,
      hash: 0n,
    }),
    400,
    'PEER_ID_INVALID',
  );
});

test('upload.getFile part rules (accepted and rejected, incl. the 1 MiB boundary)', async () => {
  const s = setup();
  const d = doc(s.store, 'medium-dc3'); // 1 585 209 bytes on DC 3
  const loc = documentLocation(d);
  const src = new StreamContent('medium-dc3', d.content.size);
  const ok: [number, number, boolean][] = [
    [0, 4096, false],
    [0, MIB, false],
    [MIB - 4096, 4096, false],
    [512 * 1024, 512 * 1024, false],
    [MIB, MIB, false],
    [MIB + 8192, 8192, false],
    [1024, 1024, true],
    [MIB - 1024, 1024, true],
    [0, MIB, true],
    [MIB + 3072, 5120, true],
  ];
  for (const [offset, limit, precise] of ok) {
    const r = await s.call(3, s.key(3), getFile(loc, offset, limit, precise ? { precise: true } : {}));
    assert.equal(r._, 'upload.file', `${offset}+${limit}`);
    assert.equal(r.type._, 'storage.filePartial');
    assert.deepEqual(Buffer.from(r.bytes), Buffer.from(src.read(offset, limit)), `${offset}+${limit}`);
  }
  const bad: [number, number, boolean, string][] = [
    [1000, 4096, false, 'OFFSET_INVALID'],
    [1024, 4096, false, 'OFFSET_INVALID'],
    [0, 1000, false, 'LIMIT_INVALID'],
    [0, 1024, false, 'LIMIT_INVALID'],
    [0, 12288, false, 'LIMIT_INVALID'], // 4096-aligned but does not divide 1 MiB
    [0, 2 * MIB, false, 'LIMIT_INVALID'],
    [MIB - 4096, 8192, false, 'LIMIT_INVALID'], // crosses the 1 MiB boundary
    [512 * 1024 + 4096, 512 * 1024, false, 'LIMIT_INVALID'],
    [0, 0, false, 'LIMIT_INVALID'],
    [-4096, 4096, false, 'OFFSET_INVALID'],
    [512, 1024, true, 'OFFSET_INVALID'],
    [0, 1536, true, 'LIMIT_INVALID'],
    [0, MIB + 1024, true, 'LIMIT_INVALID'],
    [1024, MIB, true, 'LIMIT_INVALID'], // crosses
    [MIB - 1024, 2048, true, 'LIMIT_INVALID'], // crosses
  ];
  for (const [offset, limit, precise, err] of bad) {
    await rejectsRpc(s.call(3, s.key(3), getFile(loc, offset, limit, precise ? { precise: true } : {})), 400, err);
  }
});

test('upload.getFile reads at and past the end', async () => {
  const s = setup();
  const d = doc(s.store, 'small-dc1'); // 5000 bytes
  const src = new StreamContent('small-dc1', 5000);
  const a = await s.call(1, s.key(1), getFile(documentLocation(d), 0, 8192));
  assert.equal(a.bytes.length, 5000);
  assert.deepEqual(Buffer.from(a.bytes), Buffer.from(src.read(0, 5000)));
  const b = await s.call(1, s.key(1), getFile(documentLocation(d), 4096, 4096));
  assert.equal(b.bytes.length, 904);
  const c = await s.call(1, s.key(1), getFile(documentLocation(d), 8192, 4096));
  assert.equal(c.bytes.length, 0);
  assert.equal(c.mtime, d.date);
});

test('FILE_MIGRATE on the wrong DC, moveFile, AUTH_KEY_UNREGISTERED where not authorized', async () => {
  const s = setup();
  const loc = documentLocation(doc(s.store, 'small-dc4'));
  await rejectsRpc(s.call(2, s.key(2), getFile(loc, 0, 4096)), 303, 'FILE_MIGRATE_4');
  await rejectsRpc(s.call(2, s.key(2), { _: 'upload.getFileHashes', location: loc, offset: 0n }), 303, 'FILE_MIGRATE_4');
  assert.equal((await s.call(4, s.key(4), getFile(loc, 0, 4096))).bytes.length, 4096);
  await rejectsRpc(s.call(4, 999n, getFile(loc, 0, 4096)), 401, 'AUTH_KEY_UNREGISTERED');
  s.store.moveFile('small-dc4', 5);
  await rejectsRpc(s.call(4, s.key(4), getFile(loc, 0, 4096)), 303, 'FILE_MIGRATE_5');
  assert.equal((await s.call(5, s.key(5), getFile(loc, 0, 4096))).bytes.length, 4096);
  const info = s.store.files().find((f) => f.key === 'small-dc4')!;
  assert.equal(info.dcId, 5);
  const h = await s.call(2, s.key(2), {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 10,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  assert.equal(h.messages.find((m: any) => m.id === 3).media.document.dc_id, 5);
});

test('location errors: FILE_ID_INVALID, LOCATION_INVALID, FILE_REFERENCE_EMPTY / _EXPIRED; photo sizes', async () => {
  const s = setup();
  const d = doc(s.store, 'small-dc1');
  const loc = documentLocation(d);
  await rejectsRpc(s.call(1, s.key(1), getFile({ ...loc, id: 12345n }, 0, 4096)), 400, 'FILE_ID_INVALID');
  await rejectsRpc(s.call(1, s.key(1), getFile({ ...loc, access_hash: 1n }, 0, 4096)), 400, 'LOCATION_INVALID');
  await rejectsRpc(s.call(1, s.key(1), getFile({ ...loc, thumb_size: 'm' }, 0, 4096)), 400, 'LOCATION_INVALID');
  await rejectsRpc(s.call(1, s.key(1), getFile({ ...loc, file_reference: new Uint8Array(0) }, 0, 4096)), 400, 'FILE_REFERENCE_EMPTY');
  await rejectsRpc(s.call(1, s.key(1), getFile({ ...loc, file_reference: new Uint8Array([1, 2, 3]) }, 0, 4096)), 400, 'FILE_REFERENCE_EXPIRED');
  await rejectsRpc(
    s.call(1, s.key(1), getFile({ _: 'inputPeerPhotoFileLocation', peer: { _: 'inputPeerSelf' }, photo_id: 1n }, 0, 4096)),
    400,
    'LOCATION_INVALID',
  );
  const p = s.store.media('photo-dc2') as StoredPhoto;
  await rejectsRpc(s.call(2, s.key(2), getFile(photoLocation(p, 'z'), 0, 4096)), 400, 'LOCATION_INVALID');
  const seen = new Set<string>();
  for (const size of SEED.find((e) => e.key === 'photo-dc2')!.kind === 'photo' ? (SEED.find((e) => e.key === 'photo-dc2') as any).sizes : []) {
    const r = await s.call(2, s.key(2), getFile(photoLocation(p, size.type), 0, MIB));
    assert.equal(r.type._, 'storage.fileJpeg');
    assert.equal(r.bytes.length, size.size);
    assert.equal(createHash('sha256').update(r.bytes).digest('hex'), size.sha256);
    seen.add(Buffer.from(r.bytes.subarray(0, 64)).toString('hex'));
  }
  assert.equal(seen.size, 4);
});

test('upload.getFileHashes: SHA-256 of 128 KiB ranges, 8 per answer, a short last range', async () => {
  const s = setup();
  const d = doc(s.store, 'medium-dc3');
  const src = new StreamContent('medium-dc3', d.content.size);
  const r = await s.call(3, s.key(3), { _: 'upload.getFileHashes', location: documentLocation(d), offset: BigInt(MIB + 5) });
  // ranges from 1 MiB: 1048576.. the file ends at 1585209 → 5 ranges (last one short)
  assert.equal(r.length, 5);
  for (const h of r) {
    const off = Number(h.offset);
    assert.equal(h._, 'fileHash');
    assert.deepEqual(Buffer.from(h.hash), createHash('sha256').update(src.read(off, h.limit)).digest());
  }
  assert.equal(Number(r[0].offset), MIB);
  assert.equal(r[4].limit, 1_585_209 - (MIB + 4 * 131072));
  const first = await s.call(3, s.key(3), { _: 'upload.getFileHashes', location: documentLocation(d), offset: 0n });
  assert.equal(first.length, 8);
  assert.ok(first.every((h: any) => h.limit === 131072));
});

function partsOf(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

test('small upload (saveFilePart) → uploadMedia carries the DC of the parts; bytes read back', async () => {
  const s = setup();
  const data = new Uint8Array(createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16)).update(Buffer.alloc(300_000)));
  const parts = partsOf(data, 128 * 1024);
  for (const [i, p] of parts.entries()) assert.equal(await s.call(3, s.key(3), { _: 'upload.saveFilePart', file_id: 42n, file_part: i, bytes: p }), true);
  const md5 = createHash('md5').update(data).digest('hex');
  // uploadMedia asked on DC 2: the parts are on DC 3, so the document lives on DC 3
  const media = await s.call(2, s.key(2), {
    _: 'messages.uploadMedia',
    peer: { _: 'inputPeerSelf' },
    media: {
      _: 'inputMediaUploadedDocument',
      file: { _: 'inputFile', id: 42n, parts: parts.length, name: 'a.bin', md5_checksum: md5 },
      mime_type: 'application/x-test',
      attributes: [],
    },
  });
  assert.equal(media._, 'messageMediaDocument');
  const d = media.document;
  assert.equal(d.dc_id, 3);
  assert.equal(d.size, 300_000n);
  assert.equal(d.mime_type, 'application/x-test');
  assert.equal(d.attributes[0].file_name, 'a.bin');
  const loc = { _: 'inputDocumentFileLocation', id: d.id, access_hash: d.access_hash, file_reference: d.file_reference, thumb_size: '' };
  await rejectsRpc(s.call(2, s.key(2), getFile(loc, 0, MIB)), 303, 'FILE_MIGRATE_3');
  const r = await s.call(3, s.key(3), getFile(loc, 0, MIB));
  assert.deepEqual(Buffer.from(r.bytes), Buffer.from(data));
  // the parts were consumed
  await rejectsRpc(
    s.call(3, s.key(3), {
      _: 'messages.uploadMedia',
      peer: { _: 'inputPeerSelf' },
      media: { _: 'inputMediaUploadedDocument', file: { _: 'inputFile', id: 42n, parts: 3, name: 'a', md5_checksum: '' }, mime_type: '', attributes: [] },
    }),
    400,
    'FILE_PART_0_MISSING',
  );
});

test('big upload (saveBigFilePart) → sendMedia → getHistory shows it on top; missing part and part errors', async () => {
  const s = setup();
  const k = s.key(2);
  const data = new Uint8Array(createCipheriv('aes-256-ctr', Buffer.alloc(32, 9), Buffer.alloc(16)).update(Buffer.alloc(3 * 524288 + 1000)));
  const parts = partsOf(data, 524288);
  // part 2 missing first
  for (const i of [0, 1, 3]) await s.call(2, k, { _: 'upload.saveBigFilePart', file_id: 7n, file_part: i, file_total_parts: 4, bytes: parts[i] });
  const send = (random: bigint) =>
    s.call(2, k, {
      _: 'messages.sendMedia',
      peer: { _: 'inputPeerSelf' },
      media: {
        _: 'inputMediaUploadedDocument',
        file: { _: 'inputFileBig', id: 7n, parts: 4, name: 'big.bin' },
        mime_type: 'application/octet-stream',
        attributes: [{ _: 'documentAttributeFilename', file_name: 'big.bin' }],
      },
      message: 'caption',
      random_id: random,
    });
  await rejectsRpc(send(1n), 400, 'FILE_PART_2_MISSING');
  await s.call(2, k, { _: 'upload.saveBigFilePart', file_id: 7n, file_part: 2, file_total_parts: 4, bytes: parts[2] });
  const u = await send(99n);
  assert.equal(u._, 'updates');
  assert.deepEqual(
    u.updates.map((x: any) => x._),
    ['updateMessageID', 'updateNewMessage'],
  );
  assert.equal(u.updates[0].random_id, 99n);
  const msg = u.updates[1].message;
  assert.equal(msg.id, 1001);
  assert.equal(msg.message, 'caption');
  assert.equal(msg.media.document.dc_id, 2);
  assert.equal(msg.media.document.size, BigInt(data.length));
  const h = await s.call(2, k, {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 3,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  assert.deepEqual(
    h.messages.map((m: any) => m.id),
    [1001, 7, 6],
  );
  const d = h.messages[0].media.document;
  const loc = { _: 'inputDocumentFileLocation', id: d.id, access_hash: d.access_hash, file_reference: d.file_reference, thumb_size: '' };
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += MIB) chunks.push(Buffer.from((await s.call(2, k, getFile(loc, off, MIB))).bytes));
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
  // another user does not see it
  const other = s.world.userByPhone('9996631234')!;
  s.world.authorize(3, 555n, other.id, 'login');
  const h2 = await s.call(3, 555n, {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 3,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  assert.deepEqual(
    h2.messages.map((m: any) => m.id),
    [7, 6, 5],
  );

  // part errors at save time
  const big = (part: number, total: number, bytes: Uint8Array) =>
    s.call(2, k, { _: 'upload.saveBigFilePart', file_id: 8n, file_part: part, file_total_parts: total, bytes });
  await rejectsRpc(big(0, 4, new Uint8Array(0)), 400, 'FILE_PART_EMPTY');
  await rejectsRpc(big(0, 4, new Uint8Array(524288 + 1024)), 400, 'FILE_PART_TOO_BIG');
  await rejectsRpc(big(4, 4, new Uint8Array(1024)), 400, 'FILE_PART_INVALID');
  await rejectsRpc(big(0, 0, new Uint8Array(1024)), 400, 'FILE_PARTS_INVALID');
  await rejectsRpc(big(0, 8001, new Uint8Array(1024)), 400, 'FILE_PARTS_INVALID');
  await rejectsRpc(big(0, 4, new Uint8Array(1000)), 400, 'FILE_PART_SIZE_INVALID');
  await rejectsRpc(big(0, 4, new Uint8Array(3072)), 400, 'FILE_PART_SIZE_INVALID'); // 524288 % 3072 ≠ 0
  assert.equal(await big(0, 4, new Uint8Array(4096)), true);
  await rejectsRpc(big(1, 5, new Uint8Array(4096)), 400, 'FILE_PARTS_INVALID'); // total changed
  await rejectsRpc(s.call(2, k, { _: 'upload.saveFilePart', file_id: 9n, file_part: 4000, bytes: new Uint8Array(1024) }), 400, 'FILE_PART_INVALID');
  await rejectsRpc(s.call(2, k, { _: 'upload.saveFilePart', file_id: 9n, file_part: -1, bytes: new Uint8Array(1024) }), 400, 'FILE_PART_INVALID');
  await rejectsRpc(s.call(2, 4242n, { _: 'upload.saveFilePart', file_id: 9n, file_part: 0, bytes: new Uint8Array(1024) }), 401, 'AUTH_KEY_UNREGISTERED');
});

test('small-file rules at use time: size changes, bad sizes, md5, too many bytes for inputFile', async () => {
  const s = setup();
  const k = s.key(2);
  const save = (id: bigint, part: number, n: number) =>
    s.call(2, k, { _: 'upload.saveFilePart', file_id: id, file_part: part, bytes: new Uint8Array(n).fill(part + 1) });
  const use = (id: bigint, parts: number, md5 = '') =>
    s.call(2, k, {
      _: 'messages.uploadMedia',
      peer: { _: 'inputPeerSelf' },
      media: { _: 'inputMediaUploadedDocument', file: { _: 'inputFile', id, parts, name: 'x', md5_checksum: md5 }, mime_type: '', attributes: [] },
    });
  await save(1n, 0, 4096);
  await save(1n, 1, 8192);
  await save(1n, 2, 100);
  await rejectsRpc(use(1n, 3), 400, 'FILE_PART_SIZE_CHANGED');
  await save(2n, 0, 3000);
  await save(2n, 1, 100);
  await rejectsRpc(use(2n, 2), 400, 'FILE_PART_SIZE_INVALID');
  await save(3n, 0, 4096);
  await rejectsRpc(use(3n, 1, '00000000000000000000000000000000'), 400, 'MD5_CHECKSUM_INVALID');
  await rejectsRpc(use(3n, 0), 400, 'FILE_PARTS_INVALID');
  for (let i = 0; i < 21; i++) await save(4n, i, 524288);
  await rejectsRpc(use(4n, 21), 400, 'FILE_PARTS_INVALID'); // 10.5 MiB > 10 MiB for a small file
  // a single short part is fine
  await save(5n, 0, 10);
  const m = await use(5n, 1);
  assert.equal(m.document.size, 10n);
});

test('uploaded photo: sizes s, m, x are distinct prefixes', async () => {
  const s = setup();
  const k = s.key(4);
  const data = new Uint8Array(createCipheriv('aes-256-ctr', Buffer.alloc(32, 3), Buffer.alloc(16)).update(Buffer.alloc(100_000)));
  await s.call(4, k, { _: 'upload.saveFilePart', file_id: 5n, file_part: 0, bytes: data });
  const m = await s.call(4, k, {
    _: 'messages.uploadMedia',
    peer: { _: 'inputPeerSelf' },
    media: { _: 'inputMediaUploadedPhoto', file: { _: 'inputFile', id: 5n, parts: 1, name: 'p.jpg', md5_checksum: '' } },
  });
  assert.equal(m._, 'messageMediaPhoto');
  assert.equal(m.photo.dc_id, 4);
  assert.deepEqual(
    m.photo.sizes.map((x: any) => [x.type, x.size]),
    [
      ['s', 6250],
      ['m', 25_000],
      ['x', 100_000],
    ],
  );
  for (const size of m.photo.sizes) {
    const r = await s.call(
      4,
      k,
      getFile(
        { _: 'inputPhotoFileLocation', id: m.photo.id, access_hash: m.photo.access_hash, file_reference: m.photo.file_reference, thumb_size: size.type },
        0,
        MIB,
      ),
    );
    assert.deepEqual(Buffer.from(r.bytes), Buffer.from(data.subarray(0, size.size)));
  }
  // re-send the existing photo with inputMediaPhoto
  const u = await s.call(2, s.key(2), {
    _: 'messages.sendMedia',
    peer: { _: 'inputPeerSelf' },
    media: { _: 'inputMediaPhoto', id: { _: 'inputPhoto', id: m.photo.id, access_hash: m.photo.access_hash, file_reference: m.photo.file_reference } },
    message: '',
    random_id: 5n,
  });
  assert.equal(u.updates[1].message.media.photo.id, m.photo.id);
  await rejectsRpc(
    s.call(2, s.key(2), {
      _: 'messages.sendMedia',
      peer: { _: 'inputPeerSelf' },
      media: { _: 'inputMediaPhoto', id: { _: 'inputPhoto', id: m.photo.id, access_hash: 1n, file_reference: new Uint8Array(1) } },
      message: '',
      random_id: 6n,
    }),
    400,
    'MEDIA_INVALID',
  );
});

test('help.getConfig lists the CDN DC with the cdn flag; help.getCdnConfig works before authorization', async () => {
  const s = setup();
  const cfg = await s.call(2, 31337n, { _: 'help.getConfig' });
  const cdn = cfg.dc_options.filter((o: any) => o.cdn);
  assert.deepEqual(cdn, [{ _: 'dcOption', cdn: true, id: 203, ip_address: '127.0.0.1', port: 30203 }]);
  assert.equal(cfg.dc_options.filter((o: any) => o.id === 2 && !o.cdn && !o.ipv6 && !o.media_only).length, 1);
  const cc = await s.call(2, 31337n, { _: 'help.getCdnConfig' });
  assert.deepEqual(cc, { _: 'cdnConfig', public_keys: [{ _: 'cdnPublicKey', dc_id: 203, public_key: 'PEM' }] });
});

test('CDN: redirect, reupload needed until reuploadCdnFile, AES-CTR parts match the hashes, tokens expire', async () => {
  const s = setup();
  const d = doc(s.store, 'cdn-small'); // 2 500 000 bytes on DC 2
  const src = new StreamContent('cdn-small', d.content.size);
  const loc = documentLocation(d);
  // without cdn_supported: served by the master DC
  const plain = await s.call(2, s.key(2), getFile(loc, 0, 4096));
  assert.equal(plain._, 'upload.file');
  const red = await s.call(2, s.key(2), getFile(loc, 0, MIB, { cdn_supported: true }));
  assert.equal(red._, 'upload.fileCdnRedirect');
  assert.equal(red.dc_id, 203);
  assert.equal(red.encryption_key.length, 32);
  assert.equal(red.encryption_iv.length, 16);
  assert.equal(red.file_hashes.length, 8);
  // same token on a second redirect
  const red2 = await s.call(2, s.key(2), getFile(loc, MIB, MIB, { cdn_supported: true }));
  assert.deepEqual(red2.file_token, red.file_token);

  const cdnGet = (offset: number, limit: number) => s.cdnCall({ _: 'upload.getCdnFile', file_token: red.file_token, offset: BigInt(offset), limit });
  const need = await cdnGet(0, MIB);
  assert.equal(need._, 'upload.cdnFileReuploadNeeded');
  await rejectsRpc(
    s.call(2, s.key(2), { _: 'upload.reuploadCdnFile', file_token: new Uint8Array(32), request_token: need.request_token }),
    400,
    'FILE_TOKEN_INVALID',
  );
  await rejectsRpc(
    s.call(2, s.key(2), { _: 'upload.reuploadCdnFile', file_token: red.file_token, request_token: new Uint8Array(16) }),
    400,
    'REQUEST_TOKEN_INVALID',
  );
  const hashes = await s.call(2, s.key(2), { _: 'upload.reuploadCdnFile', file_token: red.file_token, request_token: need.request_token });
  assert.ok(hashes.length > 0 && hashes[0]._ === 'fileHash');
  await rejectsRpc(cdnGet(100, 4096), 400, 'OFFSET_INVALID');
  await rejectsRpc(cdnGet(0, 12288), 400, 'LIMIT_INVALID');

  const all: TlObject[] = [];
  for (let off = 0; off < d.content.size; off += MIB) {
    all.push(...(await s.call(2, s.key(2), { _: 'upload.getCdnFileHashes', file_token: red.file_token, offset: BigInt(off) })));
  }
  const out: Buffer[] = [];
  for (let off = 0; off < d.content.size; off += 256 * 1024) {
    const r = await cdnGet(off, 256 * 1024);
    assert.equal(r._, 'upload.cdnFile');
    const dec = createCipheriv('aes-256-ctr', red.encryption_key, cdnPartIv(red.encryption_iv, off)).update(r.bytes);
    out.push(dec);
  }
  const file = Buffer.concat(out);
  assert.deepEqual(file, Buffer.from(src.read(0, d.content.size)));
  assert.equal(all.length, Math.ceil(d.content.size / 131072));
  for (const h of all) {
    const off = Number(h.offset);
    assert.deepEqual(
      Buffer.from(h.hash as Uint8Array),
      createHash('sha256')
        .update(file.subarray(off, off + (h.limit as number)))
        .digest(),
    );
  }
  // the IV's last 4 bytes are offset/16 big-endian
  const iv = cdnPartIv(red.encryption_iv, 0x123450);
  assert.deepEqual([...iv.subarray(12)], [0x00, 0x01, 0x23, 0x45]);
  assert.deepEqual([...iv.subarray(0, 12)], [...red.encryption_iv.subarray(0, 12)]);

  // only getCdnFile on the CDN DC
  await rejectsRpc(s.cdnCall({ _: 'help.getConfig' }), 400, 'CDN_METHOD_INVALID');
  await rejectsRpc(s.cdnCall({ _: 'upload.getFile', location: loc, offset: 0n, limit: 4096 }), 400, 'CDN_METHOD_INVALID');
  // wrapped in invokeWithLayer(initConnection(...)) is fine
  const wrapped = await s.cdnCall({
    _: 'invokeWithLayer',
    layer: 227,
    query: { _: 'initConnection', query: { _: 'upload.getCdnFile', file_token: red.file_token, offset: 0n, limit: 4096 } },
  });
  assert.equal(wrapped._, 'upload.cdnFile');

  // knobs: reupload needed again, then tokens expire
  s.store.setCdnReuploadNeeded('cdn-small', true);
  assert.equal((await cdnGet(0, 4096))._, 'upload.cdnFileReuploadNeeded');
  s.store.expireFileTokens();
  await rejectsRpc(cdnGet(0, 4096), 400, 'FILE_TOKEN_INVALID');
  await rejectsRpc(s.call(2, s.key(2), { _: 'upload.getCdnFileHashes', file_token: red.file_token, offset: 0n }), 400, 'FILE_TOKEN_INVALID');
  const red3 = await s.call(2, s.key(2), getFile(loc, 0, MIB, { cdn_supported: true }));
  assert.notDeepEqual(Buffer.from(red3.file_token), Buffer.from(red.file_token));
  // a non-CDN file never redirects
  assert.equal((await s.call(1, s.key(1), getFile(documentLocation(doc(s.store, 'small-dc1')), 0, 4096, { cdn_supported: true })))._, 'upload.file');
});
