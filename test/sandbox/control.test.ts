// The sandbox's control channel over loopback: every action goes through HTTP with the client `dclab sandbox ctl`
// uses (callControl) and its effect is checked from outside with real connections (raw links and our client).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, type OpenedSession } from '../../src/mtproto/client';
import { mtprotoCodec } from '../../src/mtproto/handshake-client';
import { RpcError } from '../../src/mtproto/errors';
import { encodePlainMessage } from '../../src/mtproto/plain';
import type { TlObject } from '../../src/tl/types';
import { transportErrorCode } from '../../src/transport/codec';
import { connectTcp, type TcpLink } from '../../src/transport/tcp';
import { startSandbox, type Sandbox, type SandboxInfo, type SandboxStatus } from '../../src/sandbox/index';
import { callControl, ControlError, type ControlReply } from '../../src/sandbox/control-client';
import type { ControlArgs } from '../../src/sandbox/control';
import { getSelf, sendCode, signIn } from './helpers';

let dataDir: string;
let infoFile: string;
let sb: Sandbox;
const logs: string[] = [];
const opened: OpenedSession[] = [];
const links: TcpLink[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dclab-control-'));
  infoFile = join(dataDir, 'info.json');
  sb = await startSandbox({ basePort: 0, dataDir, infoFile, configExpiresSeconds: 600, log: (l) => void logs.push(l) });
});
after(async () => {
  for (const o of opened) o.session.close();
  for (const l of links) l.close();
  await sb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const ctl = (action: string, args: ControlArgs = {}): Promise<ControlReply> => callControl(sb.control!, action, args);
const dcOf = (dcId: number): SandboxInfo['dcs'][number] => sb.info.dcs.find((d) => d.id === dcId)!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function open(dcId: number, opts: { authKey?: Uint8Array; port?: number } = {}): Promise<OpenedSession> {
  const o = await openSession({
    host: '127.0.0.1',
    port: opts.port ?? dcOf(dcId).port,
    dcId,
    transport: 'intermediate',
    rsaKeys: [sb.rsaKey],
    callTimeoutMs: 5000,
    ...(opts.authKey ? { authKey: opts.authKey } : {}),
  });
  opened.push(o);
  return o;
}

async function rawLink(port: number, host = '127.0.0.1'): Promise<TcpLink> {
  const l = await connectTcp({ host, port, transport: 'intermediate', timeoutMs: 2000 });
  links.push(l);
  return l;
}

/** Sends a real req_pq_multi on a new connection: the first answer's transport error code (null: a normal answer) and whether the server then closed. */
async function firstAnswer(port: number): Promise<{ code: number | null; closed: boolean }> {
  const link = await rawLink(port);
  const closed = new Promise<void>((r) => link.once('close', () => r()));
  const frame = new Promise<Uint8Array>((r) => link.once('frame', (f: Uint8Array) => r(f)));
  const body = mtprotoCodec().encode({ _: 'req_pq_multi', nonce: new Uint8Array(randomBytes(16)) });
  link.send(encodePlainMessage(BigInt(Math.floor(Date.now() / 1000)) << 32n, body));
  const code = transportErrorCode(await frame);
  const didClose = code !== null && (await Promise.race([closed.then(() => true), sleep(1000).then(() => false)]));
  link.close();
  return { code, closed: didClose };
}

/** Whether a TCP connection to the port is refused. */
async function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    (await rawLink(port, host)).close();
    return false;
  } catch (e) {
    return /ECONNREFUSED/.test(String(e));
  }
}

async function loggedIn(dcId: number, phone: string, code: string): Promise<OpenedSession> {
  const o = await open(dcId);
  const sent = (await o.session.invoke(sendCode(phone))) as TlObject;
  await o.session.invoke(signIn(phone, sent.phone_code_hash as string, code));
  return o;
}

const selfId = async (o: OpenedSession): Promise<bigint> => ((await o.session.invoke(getSelf)) as TlObject[])[0]!.id as bigint;

test('the control channel: the info file holds it (0600); bad token, unknown action, bad arguments and wrong paths are refused', async () => {
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as SandboxInfo;
  assert.deepEqual(info.control, sb.control);
  assert.equal(info.control!.host, '127.0.0.1');
  await assert.rejects(
    callControl({ ...sb.control!, token: 'not-the-token' }, 'status'),
    (e: unknown) => e instanceof ControlError && e.kind === 'token' && /bad token/.test(e.message),
  );
  await assert.rejects(ctl('explode'), (e: unknown) => e instanceof ControlError && e.kind === 'rejected' && /unknown action "explode"/.test(e.message));
  await assert.rejects(ctl('restart-dc'), (e: unknown) => e instanceof ControlError && /restart-dc: missing N/.test(e.message));
  await assert.rejects(
    ctl('latency', { dc: 2, ms: 'slow' }),
    (e: unknown) => e instanceof ControlError && /latency: MS needs milliseconds per answer \(an integer\), got "slow"/.test(e.message),
  );
  await assert.rejects(ctl('move-dc', { dc: 9 }), (e: unknown) => e instanceof ControlError && e.kind === 'rejected' && /unknown DC 9/.test(e.message));
  await assert.rejects(ctl('drop-connections', { dc: 2, extra: 1 }), (e: unknown) => e instanceof ControlError && /unknown argument "extra"/.test(e.message));
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(
      { host: sb.control!.host, port: sb.control!.port, path: '/other', method: 'POST', headers: { authorization: `Bearer ${sb.control!.token}` } },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
  assert.equal(status, 404);
  await assert.rejects(
    callControl({ host: '127.0.0.1', port: 1, token: 'x' }, 'status'),
    (e: unknown) => e instanceof ControlError && e.kind === 'unreachable' && /does not answer/.test(e.message),
  );
  assert.ok(!logs.some((l) => l.includes(sb.control!.token)), 'the token is never logged');
});

test('status: DCs with ports and live connection counts, salt period, limits, active faults', async () => {
  const o = await open(1);
  await o.session.invoke({ _: 'help.getNearestDc' });
  await ctl('rpc-error', { method: 'help.getNearestDc', error: 'PHONE_MIGRATE_3', count: 2, dc: 5 });
  const s = (await ctl('status')).data as SandboxStatus;
  assert.deepEqual(
    s.dcs.map((d) => [d.id, d.port]),
    sb.info.dcs.map((d) => [d.id, d.port]),
  );
  assert.ok(s.dcs.find((d) => d.id === 1)!.connections >= 1, 'the live session is counted');
  assert.equal(s.saltPeriodSeconds, 3600);
  assert.equal(s.idleTimeoutSeconds, 300);
  assert.equal(s.maxConnectionsPerAddress, 128);
  assert.equal(s.config.ttlSeconds, 600);
  assert.equal(s.floodLimits.enabled, true);
  assert.deepEqual(s.faults.rpcErrors, [{ method: 'help.getNearestDc', error: 'PHONE_MIGRATE_3', code: 303, dcId: 5, left: 2 }]);
  assert.equal((await ctl('clear-faults')).message, 'faults cleared');
  assert.deepEqual(((await ctl('status')).data as SandboxStatus).faults.rpcErrors, []);
});

test('drop-connections closes the connected links of that DC only; the auth key (and its login) still works on a new connection', async () => {
  const o = await loggedIn(2, '9996621234', '22222');
  const raw2 = await rawLink(dcOf(2).port);
  const raw3 = await rawLink(dcOf(3).port);
  const closed2 = new Promise<string>((r) => raw2.once('close', (why: string) => r(why)));
  let closed3 = false;
  raw3.once('close', () => (closed3 = true));
  await sleep(50); // the raw links are accepted (their preamble read)
  const r = await ctl('drop-connections', { dc: 2 });
  assert.match(r.message, /^dropped \d+ connection\(s\) of DC2$/);
  assert.ok((r.data as { dropped: number }).dropped >= 2);
  await closed2;
  await sleep(100);
  assert.equal(closed3, false, 'DC3 untouched');
  const again = await open(2, { authKey: o.authKey });
  assert.equal(await selfId(again), 7_000_021_234n);
});

test('restart-dc: the port refuses while down, then accepts; an existing auth key and its login still work', async () => {
  const o = await loggedIn(3, '9996631234', '33333');
  const { port, ipv6 } = dcOf(3);
  const gone = new Promise<void>((r) => o.session.once('close', () => r()).once('disconnected', () => r()));
  const restart = ctl('restart-dc', { dc: 3, downMs: 700 });
  await gone;
  await sleep(150);
  assert.equal(await refused(port), true, 'IPv4 port refuses while the DC is down');
  if (ipv6) assert.equal(await refused(ipv6.port, '::1'), true, 'IPv6 port refuses too');
  assert.match((await restart).message, /^DC3 restarted \(down 700 ms\)/);
  assert.equal(dcOf(3).port, port, 'same port');
  const again = await open(3, { authKey: o.authKey });
  assert.equal(again.created, false);
  assert.equal(await selfId(again), 7_000_031_234n);
  if (ipv6) assert.equal(await refused(ipv6.port, '::1'), false, 'IPv6 listens again');
});

test('move-dc: a new port, the old one refuses, help.getConfig announces it with a new expires, the info file shows it', async () => {
  const viaDc1 = await open(1);
  const before = (await viaDc1.session.invoke({ _: 'help.getConfig' })) as TlObject;
  assert.ok((before.expires as number) > (before.date as number), 'the config always expires after its date');
  assert.ok((before.expires as number) <= (before.date as number) + 600, '--config-expires 600');
  const old = dcOf(4).port;
  const worldId = sb.info.worldId;
  const r = await ctl('move-dc', { dc: 4 });
  const moved = r.data as { from: { port: number }; to: { port: number }; configExpires: number };
  assert.equal(moved.from.port, old);
  assert.notEqual(moved.to.port, old);
  assert.match(r.message, new RegExp(`^DC4 moved from port ${old} to port ${moved.to.port}`));
  assert.equal(await refused(old), true, 'the old port refuses');

  const fresh = await open(1);
  const after = (await fresh.session.invoke({ _: 'help.getConfig' })) as TlObject;
  const dc4 = (after.dc_options as TlObject[]).filter((d) => d.id === 4 && !d.ipv6 && !d.cdn);
  assert.deepEqual(
    dc4.map((d) => d.port),
    [moved.to.port],
  );
  assert.equal(after.expires, moved.configExpires);
  assert.notEqual(after.expires, before.expires, 'a new expires');
  assert.ok((after.expires as number) > (after.date as number) && (after.expires as number) <= (after.date as number) + 30, 'and a near one');

  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as SandboxInfo;
  assert.equal(info.dcs.find((d) => d.id === 4)!.port, moved.to.port);
  assert.equal(info.worldId, worldId, 'the same sandbox run');
  const onNew = await open(4, { port: moved.to.port });
  assert.equal(((await onNew.session.invoke({ _: 'help.getNearestDc' })) as TlObject).this_dc, 4);
});

test('transport-error 404 --count 1: the first new connection gets −404 and is closed, the second works; --dc limits it to one DC', async () => {
  assert.match((await ctl('transport-error', { code: 404, count: 1 })).message, /transport error -404/);
  const first = await firstAnswer(dcOf(5).port);
  assert.deepEqual(first, { code: -404, closed: true });
  const second = await firstAnswer(dcOf(5).port);
  assert.equal(second.code, null, 'a normal answer (resPQ)');

  await ctl('transport-error', { code: -429, dc: 2 });
  assert.equal((await firstAnswer(dcOf(5).port)).code, null, 'DC5 is not DC2');
  assert.equal((await firstAnswer(dcOf(2).port)).code, -429);
  assert.equal((await firstAnswer(dcOf(2).port)).code, null);
  await assert.rejects(ctl('transport-error', { code: 7 }), /transport error code must be 100\.\.999/);
});

test('rotate-salts: a new current salt on that DC (get_future_salts shows it); calls keep working', async () => {
  const o = await open(2);
  const s1 = (await o.session.getFutureSalts(1)).salts[0]!.salt;
  const other = await open(5);
  const o1 = (await other.session.getFutureSalts(1)).salts[0]!.salt;
  assert.equal((await ctl('rotate-salts', { dc: 2 })).message, 'server salts rotated on DC2');
  const s2 = (await o.session.getFutureSalts(1)).salts[0]!.salt;
  assert.notEqual(s2, s1);
  assert.equal((await other.session.getFutureSalts(1)).salts[0]!.salt, o1, 'DC5 keeps its salt');
  assert.equal(((await o.session.invoke({ _: 'help.getNearestDc' })) as TlObject).this_dc, 2);
});

test('latency DC MS delays that DC', async () => {
  const o = await open(4, { port: dcOf(4).port });
  await ctl('latency', { dc: 4, ms: 250 });
  const t0 = performance.now();
  await o.session.invoke({ _: 'help.getNearestDc' });
  assert.ok(performance.now() - t0 >= 240, 'delayed');
  await ctl('latency', { dc: 4, ms: 0 });
});

test('rpc-error METHOD ERROR --count K --dc N', async () => {
  const o = await open(1);
  await ctl('rpc-error', { method: 'help.getNearestDc', error: 'STATS_MIGRATE_3', count: 1, dc: 1 });
  await assert.rejects(
    o.session.invoke({ _: 'help.getNearestDc' }),
    (e: unknown) => e instanceof RpcError && e.code === 303 && e.errorMessage === 'STATS_MIGRATE_3',
  );
  assert.equal(((await o.session.invoke({ _: 'help.getNearestDc' })) as TlObject).this_dc, 1);
  await assert.rejects(ctl('rpc-error', { method: 'help.getNearestDc', error: 'lower case' }), /ERROR needs an rpc_error token/);
});

test('move-user PHONE DC: the login key on the old DC answers USER_MIGRATE_<DC>', async () => {
  const o = await loggedIn(1, '9996611234', '11111');
  assert.equal((await ctl('move-user', { phone: '9996611234', dc: 5 })).message, 'user +9996611234 moved to DC5');
  await assert.rejects(o.session.invoke(getSelf), (e: unknown) => e instanceof RpcError && e.errorMessage === 'USER_MIGRATE_5');
  await assert.rejects(ctl('move-user', { phone: '9990000001', dc: 5 }), /no sandbox user with phone 9990000001/);
});

test('flood METHOD SECONDS: FLOOD_WAIT_X with X decreasing, then the method works again', async () => {
  const o = await open(3);
  await ctl('flood', { method: 'help.getNearestDc', seconds: 3 });
  const wait = async (): Promise<number> => {
    try {
      await o.session.invoke({ _: 'help.getNearestDc' });
      return 0;
    } catch (e) {
      assert.ok(e instanceof RpcError && e.code === 420 && e.kind === 'FLOOD_WAIT', String(e));
      return e.value!;
    }
  };
  const first = await wait();
  assert.equal(first, 3);
  await sleep(1100);
  const second = await wait();
  assert.ok(second >= 1 && second < first, `${second} < ${first}`);
  await sleep(second * 1000 + 100);
  assert.equal(await wait(), 0, 'the flood is over');
});
