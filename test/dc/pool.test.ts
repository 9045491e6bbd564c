// DcPool against the real sandbox over loopback: reuse, one handshake in flight per DC, stored keys reused without a
// handshake, new keys persisted, −404 → new key, latency, pre-warming, topology from help.getConfig, close.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import type { WireEvent } from '../../src/mtproto/wire-event';
import { randomBytes } from '../../src/crypto/random';
import { DcPool, memoryKeyStore, type DcPoolEvent } from '../../src/dc/pool';
import { profileFromSandboxInfo, type Profile } from '../../src/dc/profile';
import { topologyFromConfig } from '../../src/dc/topology';
import { DcError } from '../../src/dc/errors';
import type { TlObject } from '../../src/tl/types';
import { listenFrames } from '../../src/transport/tcp';
import { serveMtprotoLink } from '../../src/mtproto/session-server';
import { ServerHandshake } from '../../src/mtproto/handshake-server';
import { defaultCodec } from '../../src/mtproto/session';
import { TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { generateRsaKeyPair } from '../../src/crypto/rsa';
import { customProfile } from '../../src/dc/profile';

let sandbox: Sandbox;
let profile: Profile;
const serverWire: WireEvent[] = [];
const handshakes = (dcId: number): number => serverWire.filter((e) => e.dir === 'in' && e.dcId === dcId && e.ctor === 'req_pq_multi').length;

before(async () => {
  sandbox = await startSandbox({
    basePort: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'dclab-pool-')),
    ipv6: false,
    log: () => {},
    onWire: (e) => void serverWire.push(e),
  });
  profile = profileFromSandboxInfo(sandbox.info);
});
after(async () => {
  await sandbox.stop();
});

test('concurrent get()s share one connect + handshake; the session is reused; the new key is persisted', async () => {
  const keys = memoryKeyStore();
  const events: DcPoolEvent[] = [];
  const pool = new DcPool({ profile, keys, onEvent: (e) => void events.push(e) });
  try {
    const before = handshakes(1);
    const sessions = await Promise.all([pool.get(1), pool.get(1), pool.get(1, { parentId: 7 })]);
    assert.equal(new Set(sessions).size, 1, 'one session for three concurrent gets');
    assert.equal(handshakes(1) - before, 1, 'the server saw exactly one handshake');
    assert.deepEqual(
      events.map((e) => e.type),
      ['connecting', 'connected', 'key-creating', 'key-created'],
    );
    assert.equal(events.find((e) => e.type === 'key-created')!.roundTrips, 3);
    assert.equal(await pool.get(1), sessions[0], 'reused afterwards');
    assert.equal(keys.size, 1);
    assert.equal(pool.hasKey(1), true);
    assert.equal(pool.isConnected(1), true);
    const cfg = await pool.invoke<TlObject>(1, { _: 'help.getConfig' });
    assert.equal(cfg.this_dc, 1);
  } finally {
    pool.close();
  }
});

test('a stored key is reused by a new pool with no handshake', async () => {
  const keys = memoryKeyStore();
  const first = new DcPool({ profile, keys });
  await first.invoke(3, { _: 'help.getNearestDc' });
  await first.persistSessions();
  first.close();
  const events: DcPoolEvent[] = [];
  const before = handshakes(3);
  const second = new DcPool({ profile, keys, onEvent: (e) => void events.push(e) });
  try {
    const near = await second.invoke<TlObject>(3, { _: 'help.getNearestDc' });
    assert.equal(near.this_dc, 3);
    assert.equal(handshakes(3), before, 'no handshake on the server');
    assert.ok(events.some((e) => e.type === 'key-reused'));
    assert.ok(!events.some((e) => e.type === 'key-creating' || e.type === 'key-created'));
  } finally {
    second.close();
  }
});

test('−404: a key the DC does not know is dropped, a new one is made and the call repeated', async () => {
  const keys = memoryKeyStore();
  await keys.saveKey(4, { authKey: randomBytes(256), serverSalt: 1n, timeOffset: 0 });
  const events: DcPoolEvent[] = [];
  const pool = new DcPool({ profile, keys, onEvent: (e) => void events.push(e) });
  try {
    const cfg = await pool.invoke<TlObject>(4, { _: 'help.getConfig' }, { parentId: 42 });
    assert.equal(cfg.this_dc, 4);
    const types = events.map((e) => e.type);
    assert.ok(types.indexOf('key-reused') < types.indexOf('key-dropped'), types.join(','));
    assert.ok(types.indexOf('key-dropped') < types.indexOf('key-created'), types.join(','));
    assert.equal(events.find((e) => e.type === 'key-dropped')!.parentId, 42);
    const stored = await keys.loadKey(4);
    assert.ok(stored && stored.authKey.length === 256);
  } finally {
    pool.close();
  }
});

test('−404 on a live session: the DC forgot its keys (sandbox.dropAuthKeys); the key is dropped, a new one made, the call repeated', async () => {
  const keys = memoryKeyStore();
  const events: DcPoolEvent[] = [];
  const pool = new DcPool({ profile, keys, onEvent: (e) => void events.push(e) });
  try {
    await pool.invoke(5, { _: 'help.getNearestDc' });
    const firstKey = (await keys.loadKey(5))!.authKey;
    const before = handshakes(5);
    assert.ok(sandbox.dropAuthKeys(5) >= 1, 'DC5 held the key');
    const near = await pool.invoke<TlObject>(5, { _: 'help.getNearestDc' }, { parentId: 7 });
    assert.equal(near.this_dc, 5);
    assert.equal(handshakes(5), before + 1, 'one new handshake');
    const dropped = events.find((e) => e.type === 'key-dropped')!;
    assert.match(dropped.reason ?? '', /-404/);
    assert.equal(dropped.parentId, 7);
    const types = events.map((e) => e.type);
    assert.ok(types.indexOf('key-dropped') < types.lastIndexOf('key-created'), types.join(','));
    assert.notDeepEqual((await keys.loadKey(5))!.authKey, firstKey);
  } finally {
    pool.close();
  }
});

test('pre-warming creates keys in parallel (50 ms injected on DC5); ping measures latency', async () => {
  const keys = memoryKeyStore();
  const events: DcPoolEvent[] = [];
  const pool = new DcPool({ profile, keys, onEvent: (e) => void events.push(e) });
  try {
    const cfg = await pool.invoke<TlObject>(2, { _: 'help.getConfig' });
    pool.setTopology(topologyFromConfig(cfg));
    events.length = 0;
    sandbox.setLatency(5, 50);
    const t0 = Date.now();
    const res = await pool.prewarm([1, 3, 4, 5]);
    const took = Date.now() - t0;
    sandbox.setLatency(5, 0);
    assert.deepEqual([...res.values()], ['created', 'created', 'created', 'created']);
    assert.equal(keys.size, 5);
    // in parallel: all four handshakes had started before the first one finished (DC5 is 50 ms slower per packet)
    const order = events.filter((e) => e.type === 'key-creating' || e.type === 'key-created').map((e) => e.type);
    assert.deepEqual(order.slice(0, 4), ['key-creating', 'key-creating', 'key-creating', 'key-creating'], order.join(','));
    assert.equal(events.filter((e) => e.type === 'key-created').pop()!.dcId, 5, 'the slow DC finished last');
    assert.ok(took >= 150, `DC5's three round trips at 50 ms: ${took} ms`);
    sandbox.setLatency(3, 60);
    const ms = await pool.ping(3);
    sandbox.setLatency(3, 0);
    assert.ok(ms >= 55, `ping ${ms} ms with 60 ms injected`);
    assert.equal(pool.latency(3), ms);
    assert.ok(events.some((e) => e.type === 'latency' && e.dcId === 3));
    assert.deepEqual([...(await pool.prewarm([1, 3])).values()], ['reused', 'reused']);
  } finally {
    pool.close();
  }
  await assert.rejects(pool.get(1), (e: unknown) => e instanceof DcError && e.code === 'CLOSED');
});

test('an unreachable DC fails with CONNECT_FAILED naming the DC', async () => {
  const dead = { ...profile, dcs: profile.dcs.map((d) => (d.id === 1 ? { ...d, port: 1 } : d)) };
  const pool = new DcPool({ profile: dead, connectTimeoutMs: 2000 });
  await assert.rejects(pool.get(1), (e: unknown) => e instanceof DcError && e.code === 'CONNECT_FAILED' && /DC 1/.test(e.message));
  pool.close();
});

test('test mode writes dc + 10000 into p_q_inner_data_dc (a strict test-DC server built from the core accepts it; a production-mode client is refused)', async () => {
  const pair = generateRsaKeyPair();
  const clientDcs: (number | undefined)[] = [];
  const keys = new Map<bigint, Uint8Array>();
  const server = await listenFrames({ host: '127.0.0.1', port: 0 }, (link) => {
    void serveMtprotoLink(link, {
      dcId: 3,
      keyStore: { get: (id) => keys.get(id), set: (id, k) => void keys.set(id, k) },
      createHandshake: () => {
        const hs = new ServerHandshake({ dcId: 10003, strictDc: true, rsa: [pair], dhPrime: TELEGRAM_DH_PRIME, g: 3 });
        return {
          handle: async (msg) => {
            const r = await hs.handle(msg);
            if (r.done) clientDcs.push((r.done as { clientDc?: number }).clientDc);
            return r;
          },
        };
      },
      codecForLayer: () => defaultCodec(),
      defaultLayer: 227,
      handler: async () => ({ _: 'nearestDc', country: 'XX', this_dc: 3, nearest_dc: 3 }),
    });
  });
  try {
    const dcs = [{ id: 3, host: '127.0.0.1', port: server.port }];
    const testMode = new DcPool({ profile: customProfile({ dcs, rsaPem: pair.publicPem, testMode: true }) });
    const near = await testMode.invoke<TlObject>(3, { _: 'help.getNearestDc' });
    assert.equal(near.this_dc, 3);
    assert.deepEqual(clientDcs, [10003]);
    testMode.close();
    const prodMode = new DcPool({ profile: customProfile({ dcs, rsaPem: pair.publicPem }), handshakeTimeoutMs: 3000 });
    await assert.rejects(prodMode.get(3), (e: unknown) => e instanceof DcError && e.code === 'KEY_FAILED');
    prodMode.close();
  } finally {
    await server.close();
  }
});
