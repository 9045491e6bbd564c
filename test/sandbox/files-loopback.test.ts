// Sandbox files over loopback with our own client (src/mtproto/client.ts): a seeded file read on its DC after
// export/import of the authorization; the CDN path (redirect → key on DC 203 with the RSA key of help.getCdnConfig →
// reupload needed → reuploadCdnFile → getCdnFile → AES-CTR decrypt → hashes); connection drops and a listener restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, type OpenedSession } from '../../src/mtproto/client';
import { RpcError } from '../../src/mtproto/errors';
import { AesCtr } from '../../src/crypto/aes-ctr';
import { parseRsaPublicKeyPem, type RsaPublicKey } from '../../src/crypto/rsa';
import { tlFromJson } from '../../src/tl/json';
import { fullSchema } from '../../src/tl/bundled';
import type { TlObject } from '../../src/tl/types';
import { startSandbox, type Sandbox } from '../../src/sandbox/index';

const MIB = 1048576;
let dataDir: string;
let sb: Sandbox;
const logs: string[] = [];
const opened: OpenedSession[] = [];
const wire: { ctor: string; note?: string; dcId: number }[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dclab-files-test-'));
  sb = await startSandbox({
    basePort: 0,
    dataDir,
    infoFile: join(dataDir, 'info.json'),
    ipv6: false,
    log: (l) => void logs.push(l),
    onWire: (e) => void wire.push({ ctor: e.ctor, dcId: e.dcId, ...(e.note ? { note: e.note } : {}) }),
  });
});

after(async () => {
  for (const o of opened) o.session.close();
  await sb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function port(dcId: number): number {
  if (dcId === 203) return sb.info.cdn!.port;
  return sb.info.dcs.find((d) => d.id === dcId)!.port;
}

async function open(dcId: number, opts: { authKey?: Uint8Array; rsaKeys?: RsaPublicKey[] } = {}): Promise<OpenedSession> {
  const o = await openSession({
    host: '127.0.0.1',
    port: port(dcId),
    dcId,
    transport: 'intermediate',
    rsaKeys: opts.rsaKeys ?? [sb.rsaKey],
    callTimeoutMs: 10_000,
    ...(opts.authKey ? { authKey: opts.authKey } : {}),
  });
  opened.push(o);
  return o;
}

async function rejectsRpc(p: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.errorMessage, message);
    return true;
  });
}

const file = (key: string) => sb.files().find((f) => f.key === key)!;
const location = (key: string): TlObject => tlFromJson(fullSchema(), file(key).location, 'InputFileLocation') as TlObject;
const getFile = (loc: TlObject, offset: number, limit: number, extra: object = {}): TlObject => ({
  _: 'upload.getFile',
  location: loc,
  offset: BigInt(offset),
  limit,
  ...extra,
});

let home: OpenedSession; // DC 2, logged in as 9996621234

async function login(): Promise<OpenedSession> {
  if (home) return home;
  home = await open(2);
  const sent: any = await home.session.invoke({ _: 'auth.sendCode', phone_number: '9996621234', api_id: 1, api_hash: 'x', settings: { _: 'codeSettings' } });
  await home.session.invoke({ _: 'auth.signIn', phone_number: '9996621234', phone_code_hash: sent.phone_code_hash, phone_code: '22222' });
  return home;
}

async function importTo(dcId: number, authKey?: Uint8Array): Promise<OpenedSession> {
  const h = await login();
  const o = await open(dcId, authKey ? { authKey } : {});
  const exp: any = await h.session.invoke({ _: 'auth.exportAuthorization', dc_id: dcId });
  await o.session.invoke({ _: 'auth.importAuthorization', id: exp.id, bytes: exp.bytes });
  return o;
}

test('info file: the CDN DC (not in dcs) with its own persisted RSA key, and the seeded files', async () => {
  const info = JSON.parse(readFileSync(join(dataDir, 'info.json'), 'utf8'));
  assert.deepEqual(
    info.dcs.map((d: any) => d.id),
    [1, 2, 3, 4, 5],
  );
  assert.equal(info.cdn.id, 203);
  assert.equal(info.cdn.port, port(203));
  assert.notEqual(info.cdn.rsa.fingerprint, info.rsa.fingerprint);
  assert.equal(parseRsaPublicKeyPem(info.cdn.rsa.pem).fingerprint.toString(), info.cdn.rsa.fingerprint);
  assert.equal(statSync(join(dataDir, 'cdn-rsa-private.pem')).mode & 0o777, 0o600);
  assert.equal(info.files.length, 7);
  assert.equal(info.files.find((f: any) => f.key === 'big-64m').sha256, '62fb8aa9aeabc28485c76c64692d1e74e97c8f9b3ef31b7dfda901436183b3a9');
  // a second sandbox over the same data dir reuses both keys
  const again = await startSandbox({ basePort: 0, dataDir, ipv6: false });
  try {
    assert.equal(again.info.cdn!.rsa.fingerprint, info.cdn.rsa.fingerprint);
    assert.equal(again.info.rsa.fingerprint, info.rsa.fingerprint);
  } finally {
    await again.stop();
  }
});

test('a seeded file on DC 4: FILE_MIGRATE_4 at home, AUTH_KEY_UNREGISTERED before import, byte-identical after', async () => {
  const h = await login();
  const loc = location('small-dc4');
  await rejectsRpc(h.session.invoke(getFile(loc, 0, 131072)), 303, 'FILE_MIGRATE_4');
  const hist: any = await h.session.invoke({
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
  assert.deepEqual(
    hist.messages.map((m: any) => m.id),
    [7, 6, 5, 4, 3, 2, 1],
  );
  assert.equal(hist.messages.find((m: any) => m.id === 3).media.document.dc_id, 4);

  const bare = await open(4);
  await rejectsRpc(bare.session.invoke(getFile(loc, 0, 131072)), 401, 'AUTH_KEY_UNREGISTERED');
  const dc4 = await importTo(4, bare.authKey);
  bare.session.close();
  const parts: Uint8Array[] = await Promise.all([0, 1, 2].map(async (i) => ((await dc4.session.invoke(getFile(loc, i * 131072, 131072))) as any).bytes));
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  assert.equal(all.length, 300_000);
  assert.equal(createHash('sha256').update(all).digest('hex'), file('small-dc4').sha256);
  dc4.session.close();
  // file parts are never gzip_packed (random bytes; Telegram does not either), other big results still are
  const fileAnswers = wire.filter((w) => w.ctor === 'rpc_result:upload.file');
  assert.ok(fileAnswers.length >= 3, JSON.stringify(wire.slice(-5)));
  assert.ok(
    fileAnswers.every((w) => !w.note?.includes('gzip_packed')),
    JSON.stringify(fileAnswers),
  );
});

test('CDN: redirect → auth key on DC 203 with the help.getCdnConfig key → reupload → getCdnFile → decrypt → hashes', async () => {
  const h = await login();
  const cfg: any = await h.session.invoke({ _: 'help.getConfig' });
  const cdnOpt = cfg.dc_options.find((o: any) => o.cdn);
  assert.equal(cdnOpt.id, 203);
  assert.equal(cdnOpt.port, port(203));
  const cc: any = await h.session.invoke({ _: 'help.getCdnConfig' });
  assert.equal(cc.public_keys[0].dc_id, 203);
  const cdnKey = parseRsaPublicKeyPem(cc.public_keys[0].public_key);
  assert.equal(cdnKey.fingerprint.toString(), sb.info.cdn!.rsa.fingerprint);

  const info = file('cdn-small');
  const red: any = await h.session.invoke(getFile(location('cdn-small'), 0, MIB, { cdn_supported: true }));
  assert.equal(red._, 'upload.fileCdnRedirect');
  assert.equal(red.dc_id, 203);

  // the main key does not open the CDN DC's handshake: only the CDN key does
  const cdn = await open(203, { rsaKeys: [cdnKey] });
  await rejectsRpc(cdn.session.invoke({ _: 'help.getConfig' }), 400, 'CDN_METHOD_INVALID');
  const first: any = await cdn.session.invoke({ _: 'upload.getCdnFile', file_token: red.file_token, offset: 0n, limit: MIB });
  assert.equal(first._, 'upload.cdnFileReuploadNeeded');
  const reHashes: any[] = await h.session.invoke({ _: 'upload.reuploadCdnFile', file_token: red.file_token, request_token: first.request_token });
  const hashes = new Map<number, Uint8Array>();
  for (const fh of [...red.file_hashes, ...reHashes]) hashes.set(Number(fh.offset), fh.hash);

  const chunk = 512 * 1024;
  const out: Buffer[] = [];
  for (let off = 0; off < info.size; off += chunk) {
    const r: any = await cdn.session.invoke({ _: 'upload.getCdnFile', file_token: red.file_token, offset: BigInt(off), limit: chunk });
    assert.equal(r._, 'upload.cdnFile');
    const iv = new Uint8Array(red.encryption_iv);
    new DataView(iv.buffer).setUint32(12, off / 16, false);
    const plain = Buffer.from(new AesCtr(red.encryption_key, iv).update(r.bytes));
    for (let h0 = off; h0 < off + plain.length; h0 += 131072) {
      if (!hashes.has(h0)) {
        const more: any[] = await h.session.invoke({ _: 'upload.getCdnFileHashes', file_token: red.file_token, offset: BigInt(h0) });
        for (const fh of more) hashes.set(Number(fh.offset), fh.hash);
      }
      const range = plain.subarray(h0 - off, h0 - off + 131072);
      assert.deepEqual(createHash('sha256').update(range).digest(), Buffer.from(hashes.get(h0)!), `range at ${h0}`);
    }
    out.push(plain);
  }
  assert.equal(createHash('sha256').update(Buffer.concat(out)).digest('hex'), info.sha256);

  sb.expireFileTokens();
  await rejectsRpc(cdn.session.invoke({ _: 'upload.getCdnFile', file_token: red.file_token, offset: 0n, limit: 4096 }), 400, 'FILE_TOKEN_INVALID');
  cdn.session.close();
});

test('faults: a connection dropped after N bytes, then listeners restarted; keys and authorization survive', async () => {
  const h = await login();
  const loc = location('cdn-small'); // on DC 2, read without cdn_supported
  sb.dropConnectionsAfterBytes(2, 300_000);
  const closed = new Promise<string>((resolve) => h.session.once('close', (r: string) => resolve(String(r))));
  await assert.rejects(h.session.invoke(getFile(loc, 0, 262144)).then(() => h.session.invoke(getFile(loc, 262144, 262144))));
  await closed;
  // same key, new connection: still authorized, the read goes on
  const again = await open(2, { authKey: h.authKey });
  const r: any = await again.session.invoke(getFile(loc, 262144, 262144));
  assert.equal(r.bytes.length, 262144);

  const closed2 = new Promise<void>((resolve) => again.session.once('close', () => resolve()));
  await sb.restartListeners();
  await closed2;
  const third = await open(2, { authKey: h.authKey });
  const r2: any = await third.session.invoke(getFile(loc, 0, 4096));
  assert.equal(r2.bytes.length, 4096);
  assert.ok(logs.some((l) => l.includes('listeners restarted')));
  const closed3 = new Promise<void>((resolve) => third.session.once('close', () => resolve()));
  assert.ok(sb.dropConnections(2) >= 1);
  await closed3;
  assert.equal(sb.dropConnections(5), 0);
});
