// openSession options: handshakeDcId is the dc written into p_q_inner_data_dc (default: dcId). A strict test-DC
// server (ServerHandshake with strictDc, dcId 10002) accepts a test-mode client that passes 10002 and refuses the
// plain 2 that the default sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateRsaKeyPair, type RsaKeyPair } from '../../src/crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../../src/crypto/dh';
import { listenFrames, type FrameListener } from '../../src/transport/tcp';
import { serveMtprotoLink } from '../../src/mtproto/session-server';
import { ServerHandshake } from '../../src/mtproto/handshake-server';
import { defaultCodec } from '../../src/mtproto/session';
import { openSession } from '../../src/mtproto/client';
import { HandshakeError } from '../../src/mtproto/handshake-client';
import type { TlObject } from '../../src/tl/types';

interface StrictServer {
  listener: FrameListener;
  /** p_q_inner_data_dc.dc of every completed handshake. */
  clientDcs: (number | undefined)[];
}

let pair: RsaKeyPair;
const servers: StrictServer[] = [];

before(() => {
  pair = generateRsaKeyPair();
});
after(async () => {
  await Promise.all(servers.map((s) => s.listener.close()));
});

/** DC 2 of a test environment: its handshake only takes dc = `handshakeDc` exactly. */
async function strictServer(handshakeDc: number): Promise<StrictServer> {
  const clientDcs: (number | undefined)[] = [];
  const keys = new Map<bigint, Uint8Array>();
  const listener = await listenFrames({ host: '127.0.0.1', port: 0 }, (link) => {
    void serveMtprotoLink(link, {
      dcId: 2,
      keyStore: { get: (id) => keys.get(id), set: (id, k) => void keys.set(id, k) },
      createHandshake: () => {
        const hs = new ServerHandshake({ dcId: handshakeDc, strictDc: true, rsa: [pair], dhPrime: TELEGRAM_DH_PRIME, g: 3 });
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
      handler: async () => ({ _: 'nearestDc', country: 'XX', this_dc: 2, nearest_dc: 2 }),
    });
  });
  const s = { listener, clientDcs };
  servers.push(s);
  return s;
}

const base = (port: number) => ({
  host: '127.0.0.1',
  port,
  dcId: 2,
  transport: 'intermediate' as const,
  rsaKeys: [pair.publicKey],
  handshakeTimeoutMs: 5000,
  callTimeoutMs: 5000,
});

test('handshakeDcId 10002: a strict test DC accepts the key, and the session runs with dcId 2', async () => {
  const server = await strictServer(10002);
  const o = await openSession({ ...base(server.listener.port), handshakeDcId: 10002 });
  try {
    assert.equal(o.created, true);
    assert.deepEqual(server.clientDcs, [10002]);
    assert.equal(o.session.dcId, 2);
    const near = await o.session.invoke<TlObject>({ _: 'help.getNearestDc' });
    assert.equal(near.this_dc, 2);
  } finally {
    o.session.close();
  }
});

test('without handshakeDcId the plain dcId is sent: the strict test DC refuses 2 with −444, a strict DC 2 takes it', async () => {
  const testDc = await strictServer(10002);
  await assert.rejects(openSession(base(testDc.listener.port)), (e: unknown) => {
    assert.ok(e instanceof HandshakeError, String(e));
    assert.equal(e.transportCode, -444);
    return true;
  });
  assert.deepEqual(testDc.clientDcs, []);

  const prodDc = await strictServer(2);
  const o = await openSession(base(prodDc.listener.port));
  try {
    assert.deepEqual(prodDc.clientDcs, [2]);
  } finally {
    o.session.close();
  }
});
