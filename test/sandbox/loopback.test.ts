// The sandbox over loopback with our own client (src/mtproto/client.ts): topology, PHONE_MIGRATE → new key on
// the home DC → sign-in → export/import to another DC, per-DC keys (−404), RSA persistence, hostile bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, type OpenedSession } from '../../src/mtproto/client';
import { RpcError } from '../../src/mtproto/errors';
import { fullSchema, schemaFromTlText } from '../../src/tl/bundled';
import { parseTlSchema } from '../../src/tl/parser';
import { TlCodec } from '../../src/tl/codec';
import type { TransportName } from '../../src/transport/codec';
import { startSandbox, type Sandbox } from '../../src/sandbox/index';
import { parseSandboxArgs } from '../../src/sandbox/command';

const require = createRequire(__filename);
const GRAMJS_TL: string = require('telegram/tl/apiTl.js');

let dataDir: string;
let sb: Sandbox;
const logs: string[] = [];
const opened: OpenedSession[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dclab-sandbox-test-'));
  sb = await startSandbox({
    basePort: 0,
    dataDir,
    infoFile: join(dataDir, 'info.json'),
    extraSchemas: [{ layer: 198, text: GRAMJS_TL }],
    log: (l) => void logs.push(l),
  });
});

after(async () => {
  for (const o of opened) o.session.close();
  await sb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function port(dcId: number): number {
  return sb.info.dcs.find((d) => d.id === dcId)!.port;
}

async function open(
  dcId: number,
  opts: { transport?: TransportName; authKey?: Uint8Array; obfuscated?: boolean; layer?: number; codec?: TlCodec } = {},
): Promise<OpenedSession> {
  const o = await openSession({
    host: '127.0.0.1',
    port: port(dcId),
    dcId,
    transport: opts.transport ?? 'intermediate',
    rsaKeys: [sb.rsaKey],
    callTimeoutMs: 10_000,
    ...(opts.authKey ? { authKey: opts.authKey } : {}),
    ...(opts.obfuscated ? { obfuscated: true } : {}),
    ...(opts.layer ? { layer: opts.layer } : {}),
    ...(opts.codec ? { codec: opts.codec } : {}),
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

const sendCode = (phone: string) => ({ _: 'auth.sendCode', phone_number: phone, api_id: 1, api_hash: 'x', settings: { _: 'codeSettings' } });
const getSelf = { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] };

test('info file and RSA key file', () => {
  const info = JSON.parse(readFileSync(join(dataDir, 'info.json'), 'utf8'));
  assert.deepEqual(Object.keys(info), ['worldId', 'dcs', 'rsa', 'cdn', 'files', 'control']);
  assert.equal(statSync(join(dataDir, 'info.json')).mode & 0o777, 0o600, 'the info file holds the control token');
  assert.match(info.worldId, /^[0-9a-f]{16}$/);
  assert.deepEqual(info.control, sb.control);
  assert.ok(!logs.some((l) => l.includes(info.control.token)), 'the control token is never logged');
  assert.deepEqual(
    info.dcs.map((d: any) => d.id),
    [1, 2, 3, 4, 5],
  );
  for (const d of info.dcs) {
    assert.equal(d.host, '127.0.0.1');
    assert.ok(Number.isInteger(d.port) && d.port > 0);
  }
  assert.equal(new Set(info.dcs.map((d: any) => d.port)).size, 5);
  assert.match(info.rsa.pem, /^-----BEGIN RSA PUBLIC KEY-----/);
  assert.equal(info.rsa.fingerprint, sb.rsaKey.fingerprint.toString());
  assert.match(info.rsa.fingerprint, /^-?\d+$/);
  assert.equal(statSync(join(dataDir, 'rsa-private.pem')).mode & 0o777, 0o600);
  assert.ok(
    logs.some((l) => l.includes(info.rsa.fingerprint)),
    'fingerprint printed',
  );
  assert.ok(!logs.some((l) => l.includes('PRIVATE KEY')), 'private key never printed');
});

test('help.getConfig on DC 2 lists the sandbox listeners, ipv6 and media_only entries, this_dc 2', async () => {
  const { session } = await open(2);
  const cfg: any = await session.invoke({ _: 'help.getConfig' });
  assert.equal(cfg.this_dc, 2);
  const v4 = cfg.dc_options.filter((o: any) => !o.ipv6 && !o.media_only && !o.cdn);
  assert.deepEqual(
    v4.map((o: any) => [o.id, o.ip_address, o.port]),
    sb.info.dcs.map((d) => [d.id, d.host, d.port]),
  );
  const media = cfg.dc_options.filter((o: any) => o.media_only);
  assert.deepEqual(
    media.map((o: any) => [o.id, o.port]),
    [[2, port(2)]],
  );
  const v6 = cfg.dc_options.filter((o: any) => o.ipv6);
  assert.deepEqual(
    v6.map((o: any) => [o.id, o.ip_address, o.port]),
    sb.info.dcs.filter((d) => d.ipv6).map((d) => [d.id, '::1', d.ipv6!.port]),
  );
  const near: any = await session.invoke({ _: 'help.getNearestDc' });
  assert.deepEqual([near.this_dc, near.nearest_dc], [2, 2]);
  await rejectsRpc(session.invoke(sendCode('9996611234')), 303, 'PHONE_MIGRATE_1');
  const sent: any = await session.invoke(sendCode('15550001234'));
  assert.equal(sent._, 'auth.sentCode');
  assert.equal(sb.inbox().at(-1)!.phone, '15550001234');
  session.close();
  const dc1 = await open(1);
  await rejectsRpc(dc1.session.invoke(sendCode('15550001234')), 303, 'NETWORK_MIGRATE_2');
  dc1.session.close();
});

test('PHONE_MIGRATE_4 → new key on DC 4 → signIn → export to DC 3 → import there; keys are per DC', async () => {
  const dc2 = await open(2);
  await rejectsRpc(dc2.session.invoke(sendCode('9996641234')), 303, 'PHONE_MIGRATE_4');
  await rejectsRpc(dc2.session.invoke(getSelf), 401, 'AUTH_KEY_UNREGISTERED');

  const dc4 = await open(4);
  assert.equal(dc4.created, true);
  assert.notEqual(dc4.session.authKeyId, dc2.session.authKeyId);
  const sent: any = await dc4.session.invoke(sendCode('9996641234'));
  assert.equal(sent.type.length, 5);
  const auth: any = await dc4.session.invoke({ _: 'auth.signIn', phone_number: '9996641234', phone_code_hash: sent.phone_code_hash, phone_code: '44444' });
  assert.equal(auth._, 'auth.authorization');
  const me: any[] = await dc4.session.invoke(getSelf);
  assert.equal(me[0].phone, '9996641234');
  assert.equal(me[0].self, true);

  await rejectsRpc(dc4.session.invoke({ _: 'auth.exportAuthorization', dc_id: 4 }), 400, 'DC_ID_INVALID');
  const exp: any = await dc4.session.invoke({ _: 'auth.exportAuthorization', dc_id: 3 });
  const dc3 = await open(3, { transport: 'abridged' });
  const imp: any = await dc3.session.invoke({ _: 'auth.importAuthorization', id: exp.id, bytes: exp.bytes });
  assert.equal(imp.user.id, me[0].id);
  const there: any[] = await dc3.session.invoke(getSelf);
  assert.equal(there[0].id, me[0].id);

  // DC 3 does not know DC 4's key: transport error −404 and the connection closes
  const stray = await open(3, { authKey: dc4.authKey });
  const codes: number[] = [];
  stray.session.on('transport-error', (c: number) => codes.push(c));
  await assert.rejects(stray.session.invoke({ _: 'help.getNearestDc' }, { timeoutMs: 5000 }));
  assert.deepEqual(codes, [-404]);

  // USER_MIGRATE after the user moves; exportAuthorization still answers on the old DC
  sb.moveUser('9996641234', 5);
  try {
    await rejectsRpc(dc4.session.invoke(getSelf), 303, 'USER_MIGRATE_5');
    const exp5: any = await dc4.session.invoke({ _: 'auth.exportAuthorization', dc_id: 5 });
    assert.equal(typeof exp5.id, 'bigint');
  } finally {
    sb.moveUser('9996641234', 4);
  }
  assert.equal(sb.world.keyCount(4), 1);
  assert.equal(sb.world.keyCount(3), 1, 'the stray DC 4 key made no key on DC 3');
  for (const o of [dc2, dc4, dc3]) o.session.close();
});

for (const [transport, obfuscated] of [
  ['abridged', false],
  ['padded', false],
  ['full', false],
  ['intermediate', true],
] as const) {
  test(`transport ${obfuscated ? 'obfuscated ' : ''}${transport}: key creation and a call`, async () => {
    const o = await open(1, { transport, obfuscated });
    assert.equal(o.created, true);
    const near: any = await o.session.invoke({ _: 'help.getNearestDc' });
    assert.equal(near.this_dc, 1);
    o.session.close();
  });
}

test('layer 198 (GramJS schema) and 227 are served at once, chosen by invokeWithLayer', async () => {
  const codec198 = new TlCodec(schemaFromTlText(GRAMJS_TL, 198));
  const old = await open(5, { layer: 198, codec: codec198 });
  const cfg: any = await old.session.invoke({ _: 'help.getConfig' });
  assert.equal(cfg.this_dc, 5);
  const sent: any = await old.session.invoke(sendCode('9996659234'));
  await rejectsRpc(
    old.session.invoke({ _: 'auth.signIn', phone_number: '9996659234', phone_code_hash: sent.phone_code_hash, phone_code: '55555' }),
    401,
    'SESSION_PASSWORD_NEEDED',
  );
  const pw: any = await old.session.invoke({ _: 'account.getPassword' });
  assert.equal(pw.has_password, true);
  assert.ok(
    logs.some((l) => l.includes('198')),
    'layer 198 announced in the log',
  );
  old.session.close();
});

test('IPv6 listeners on ::1 serve the same DCs (skipped when ::1 is unavailable)', async (t) => {
  const dc = sb.info.dcs.find((d) => d.id === 3)!;
  if (!dc.ipv6) {
    t.skip('no IPv6 on this machine');
    return;
  }
  const o = await openSession({ host: dc.ipv6.host, port: dc.ipv6.port, dcId: 3, transport: 'intermediate', rsaKeys: [sb.rsaKey], callTimeoutMs: 10_000 });
  opened.push(o);
  const near: any = await o.session.invoke({ _: 'help.getNearestDc' });
  assert.equal(near.this_dc, 3);
  o.session.close();
});

test('hostile bytes: garbage to a listener closes that socket, the next client is served', async () => {
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: port(2) }, () => s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4))));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    setTimeout(() => reject(new Error('garbage connection was not closed')), 5000).unref();
    s.resume();
  });
  // framed as intermediate, but the payload is nonsense with an unknown auth_key_id
  await new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: port(2) }, () => {
      const body = Buffer.alloc(64, 0x41);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(body.length);
      s.write(Buffer.concat([Buffer.from([0xee, 0xee, 0xee, 0xee]), len, body]));
    });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
  });
  // a known auth_key_id with a wrong msg_key: the connection is dropped without an answer
  const victim = await open(2);
  await victim.session.invoke({ _: 'help.getNearestDc' });
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: port(2) }, () => {
      const body = Buffer.concat([Buffer.alloc(8), Buffer.alloc(16, 0x5a), Buffer.alloc(64, 0x33)]);
      body.writeBigInt64LE(victim.session.authKeyId, 0);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(body.length);
      s.write(Buffer.concat([Buffer.from([0xee, 0xee, 0xee, 0xee]), len, body]));
    });
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', () => resolve());
    s.on('close', () => (Buffer.concat(got).length <= 8 ? resolve() : reject(new Error('the sandbox answered a forged message'))));
  });
  // an unknown method constructor: rpc_error, and the session goes on
  const fake = new TlCodec(fullSchema().extend(parseTlSchema('---functions---\nsandboxtest.poke#0badf00d x:int = Bool;').entries));
  const odd = await open(2, { codec: fake });
  await assert.rejects(
    odd.session.invoke({ _: 'sandboxtest.poke', x: 1 }),
    (e: unknown) => e instanceof RpcError && e.code === 400 && /^INPUT_METHOD_INVALID/.test(e.errorMessage),
  );
  assert.equal(((await odd.session.invoke({ _: 'help.getNearestDc' })) as any).this_dc, 2);
  odd.session.close();
  // the victim's own session was not disturbed, and new clients are served
  assert.equal(((await victim.session.invoke({ _: 'help.getNearestDc' })) as any).this_dc, 2);
  victim.session.close();
  const o = await open(2);
  const near: any = await o.session.invoke({ _: 'help.getNearestDc' });
  assert.equal(near.this_dc, 2);
  o.session.close();
});

test('latency knob delays a DC', async () => {
  const o = await open(1);
  await o.session.invoke({ _: 'help.getNearestDc' });
  sb.setLatency(1, 150);
  try {
    const t = Date.now();
    await o.session.invoke({ _: 'help.getNearestDc' });
    assert.ok(Date.now() - t >= 140, `took ${Date.now() - t} ms`);
  } finally {
    sb.setLatency(1, 0);
  }
  o.session.close();
});

test('the RSA key persists in dataDir across restarts; a taken port fails cleanly', async () => {
  const again = await startSandbox({ basePort: 0, dataDir, ipv6: false });
  try {
    assert.equal(again.info.rsa.fingerprint, sb.info.rsa.fingerprint);
    assert.equal(again.info.dcs[0]!.ipv6, undefined);
  } finally {
    await again.stop();
  }
  // DC 1 of a sandbox whose base port is (DC 2's port − 2) collides with the running DC 2... unless that fails
  const clash = port(1) - 1;
  await assert.rejects(startSandbox({ basePort: clash, dataDir, ipv6: false }));
});

test('bad start options fail before anything listens', async () => {
  const other = mkdtempSync(join(tmpdir(), 'dclab-sandbox-bad-'));
  try {
    await assert.rejects(startSandbox({ basePort: 0, dataDir: other, nearestDc: 7 }), /nearestDc/);
    await assert.rejects(startSandbox({ basePort: 0, dataDir: other, extraSchemas: [{ layer: -1, text: '' }] }), /layer/);
    writeFileSync(join(other, 'rsa-private.pem'), 'not a key');
    await assert.rejects(startSandbox({ basePort: 0, dataDir: other }), /rsa-private\.pem is unreadable/);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('dclab sandbox arguments', () => {
  const a = parseSandboxArgs([
    '--host',
    '0.0.0.0',
    '--base-port',
    '0',
    '--latency',
    '2:50',
    '--latency=4:10',
    '--schema',
    '198:/x.tl',
    '--nearest-dc',
    '3',
    '--no-ipv6',
  ]);
  assert.equal(a.host, '0.0.0.0');
  assert.equal(a.basePort, 0);
  assert.deepEqual(a.latencyMs, { 2: 50, 4: 10 });
  assert.deepEqual(a.schemaFiles, [{ layer: 198, file: '/x.tl' }]);
  assert.equal(a.nearestDc, 3);
  assert.equal(a.ipv6, false);
  assert.throws(() => parseSandboxArgs(['--latency', '9:10']));
  assert.throws(() => parseSandboxArgs(['--schema', 'x']));
  assert.throws(() => parseSandboxArgs(['--bogus']));
});
