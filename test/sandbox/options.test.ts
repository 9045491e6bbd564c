// Sandbox options over loopback: the salt period (seen through get_future_salts), the idle timeout, the per-address
// connection limit (−429 as Telegram answers it), and how `dclab sandbox` parses them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, type OpenedSession } from '../../src/mtproto/client';
import { mtprotoCodec } from '../../src/mtproto/handshake-client';
import { encodePlainMessage } from '../../src/mtproto/plain';
import { transportErrorCode } from '../../src/transport/codec';
import { connectTcp, type TcpLink } from '../../src/transport/tcp';
import { startSandbox, type Sandbox } from '../../src/sandbox/index';
import { parseSandboxArgs } from '../../src/sandbox/command';

let dataDir: string;
let sb: Sandbox;
const logs: string[] = [];
const opened: OpenedSession[] = [];
const links: TcpLink[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dclab-options-'));
  sb = await startSandbox({
    basePort: 0,
    dataDir,
    ipv6: false,
    saltPeriodSeconds: 2,
    idleTimeoutSeconds: 1,
    maxConnectionsPerAddress: 2,
    log: (l) => void logs.push(l),
  });
});
after(async () => {
  for (const o of opened) o.session.close();
  for (const l of links) l.close();
  await sb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const port = (dcId: number): number => sb.info.dcs.find((d) => d.id === dcId)!.port;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rawLink(dcId: number): Promise<TcpLink> {
  const l = await connectTcp({ host: '127.0.0.1', port: port(dcId), transport: 'intermediate', timeoutMs: 2000 });
  links.push(l);
  return l;
}

/** The transport error code of the first answer to a req_pq_multi on `link` (null: a normal answer). */
async function answerCode(link: TcpLink): Promise<number | null> {
  const frame = new Promise<Uint8Array>((r) => link.once('frame', (f: Uint8Array) => r(f)));
  link.send(
    encodePlainMessage(BigInt(Math.floor(Date.now() / 1000)) << 32n, mtprotoCodec().encode({ _: 'req_pq_multi', nonce: new Uint8Array(randomBytes(16)) })),
  );
  return transportErrorCode(await frame);
}

test('--salt-period: future salts are valid for that many seconds each; status reports it', async () => {
  const o = await openSession({ host: '127.0.0.1', port: port(2), dcId: 2, transport: 'intermediate', rsaKeys: [sb.rsaKey], callTimeoutMs: 5000 });
  opened.push(o);
  const { salts } = await o.session.getFutureSalts(3);
  assert.equal(salts.length, 3);
  assert.equal(salts[1]!.valid_until - salts[1]!.valid_since, 2);
  assert.notEqual(salts[1]!.salt, salts[2]!.salt);
  assert.equal(sb.status().saltPeriodSeconds, 2);
});

test('--max-connections-per-address: the connection beyond N live ones from one address gets −429 and is closed', async () => {
  const a = await rawLink(1);
  await rawLink(1);
  await sleep(50);
  const third = await rawLink(1);
  const closed = new Promise<void>((r) => third.once('close', () => r()));
  assert.equal(await answerCode(third), -429);
  await closed;
  assert.ok(
    logs.some((l) => /DC1: connection from 127\.0\.0\.1:\d+ refused with transport error -429 \(2 connections from 127\.0\.0\.1 already \(limit 2\)\)/.test(l)),
  );
  assert.equal(await answerCode(await rawLink(3)), null, 'another DC counts apart');
  a.close();
  await sleep(100);
  assert.equal(await answerCode(await rawLink(1)), null, 'a free place again');
});

test('--idle-timeout: a connection without traffic is closed after that many seconds', async () => {
  const link = await rawLink(4);
  const t0 = Date.now();
  await new Promise<void>((r) => link.once('close', () => r()));
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 3000, `closed after ${took} ms`);
  assert.ok(logs.some((l) => /DC4: dc4-\d+ closed \(timeout\)/.test(l)));
});

test('dclab sandbox parses the new options and rejects bad values', () => {
  const a = parseSandboxArgs([
    '--salt-period',
    '60',
    '--idle-timeout',
    '0',
    '--max-connections-per-address',
    '4',
    '--config-expires',
    '90',
    '--no-flood-limits',
  ]);
  assert.equal(a.saltPeriodSeconds, 60);
  assert.equal(a.idleTimeoutSeconds, 0);
  assert.equal(a.maxConnectionsPerAddress, 4);
  assert.equal(a.configExpiresSeconds, 90);
  assert.equal(a.floodLimits, false);
  assert.throws(() => parseSandboxArgs(['--salt-period', '0']), /--salt-period must be 1\.\./);
  assert.throws(() => parseSandboxArgs(['--config-expires', 'soon']), /--config-expires needs an integer/);
});
