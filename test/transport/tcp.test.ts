import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type AddressInfo } from 'node:net';
import { clientPreamble, createFrameCodec, encodeTransportError, transportErrorCode, type TransportName } from '../../src/transport/codec';
import { connectTcp, listenFrames, type FrameLink, type ServerFrameLink } from '../../src/transport/tcp';

function bytes(n: number, seed = 1): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 7 + seed * 3) & 0xff;
  return u;
}

function collect(link: FrameLink, count: number, timeoutMs = 3000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const got: Uint8Array[] = [];
    const timer = setTimeout(() => reject(new Error(`timeout: ${got.length}/${count} frames`)), timeoutMs);
    const onFrame = (p: Uint8Array): void => {
      got.push(p);
      if (got.length === count) {
        clearTimeout(timer);
        link.off('frame', onFrame);
        link.off('close', onClose);
        resolve(got);
      }
    };
    const onClose = (r: string): void => {
      clearTimeout(timer);
      reject(new Error(`closed after ${got.length}/${count} frames: ${r}`));
    };
    link.on('frame', onFrame);
    link.once('close', onClose);
  });
}

function closeReason(link: FrameLink, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no close')), timeoutMs);
    link.once('close', (r: string) => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

/** Echo server: every frame comes back as is. */
async function echoServer(extra: { latencyMs?: () => number } = {}) {
  const links: ServerFrameLink[] = [];
  const srv = await listenFrames({ host: '127.0.0.1', port: 0, ...extra }, (link) => {
    links.push(link);
    link.on('frame', (p: Uint8Array) => link.send(p));
  });
  return { srv, links };
}

const ALL: TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];
const PAYLOADS = [bytes(4), bytes(40, 2), bytes(1024 * 1024 + 16, 3), bytes(8, 4), bytes(508, 5)];

for (const transport of ALL) {
  for (const obfuscated of transport === 'full' ? [false] : [false, true]) {
    test(`loopback echo through listenFrames: ${transport}${obfuscated ? ' (obfuscated)' : ''}`, async () => {
      const { srv, links } = await echoServer();
      try {
        const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport, obfuscated, timeoutMs: 2000 });
        assert.equal(client.remote, `127.0.0.1:${srv.port}`);
        assert.equal(client.transport, transport);
        const pending = collect(client, PAYLOADS.length);
        for (const p of PAYLOADS) client.send(p);
        const got = await pending;
        PAYLOADS.forEach((p, i) => {
          if (transport === 'padded') assert.ok(got[i]!.length >= p.length && got[i]!.length <= p.length + 30);
          else assert.equal(got[i]!.length, p.length);
          assert.deepEqual(got[i]!.subarray(0, p.length), p);
        });
        assert.equal(links.length, 1);
        assert.equal(links[0]!.transport, transport);
        assert.equal(links[0]!.obfuscated, obfuscated);
        assert.match(links[0]!.remote, /^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+$/);
        const serverClosed = closeReason(links[0]!);
        client.close();
        assert.equal(await serverClosed, 'peer closed');
      } finally {
        await srv.close();
      }
    });
  }
}

test('a garbage client is dropped while a good client on the same listener keeps being served', async () => {
  const { srv, links } = await echoServer();
  try {
    const good = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'intermediate' });
    const first = collect(good, 1);
    good.send(bytes(12));
    assert.deepEqual((await first)[0], bytes(12));

    const garbageClosed = new Promise<number>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: srv.port }, () => {
        const junk = new Uint8Array(80);
        for (let i = 0; i < junk.length; i++) junk[i] = (i * 37 + 11) & 0xff; // not a header of any transport
        s.write(junk);
      });
      const t0 = Date.now();
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - t0));
      s.resume();
    });
    const httpClosed = new Promise<void>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: srv.port }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('error', () => undefined);
      s.on('close', () => resolve());
      s.resume();
    });
    assert.ok((await garbageClosed) < 2000);
    await httpClosed;

    const second = collect(good, 2);
    good.send(bytes(16, 2));
    good.send(bytes(20, 3));
    assert.deepEqual(await second, [bytes(16, 2), bytes(20, 3)]);
    assert.equal(links.length, 1, 'onLink only for the good client');
    assert.equal(good.closed, false);
    good.close();
  } finally {
    await srv.close();
  }
});

test('a framing error closes only that link, with the error text as the reason', async () => {
  const { srv, links } = await echoServer();
  try {
    const victim = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'full' });
    const other = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'full' });
    const ok = collect(victim, 1);
    victim.send(bytes(8));
    await ok;
    const serverSide = links[0]!;
    const reason = closeReason(serverSide);
    const victimClosed = closeReason(victim);
    // Bypass the codec: a frame with a broken CRC.
    const frame = new Uint8Array(16);
    new DataView(frame.buffer).setUint32(0, 16, true);
    new DataView(frame.buffer).setUint32(4, 1, true);
    (victim as unknown as { writeRaw(d: Uint8Array): void }).writeRaw(frame);
    assert.match(await reason, /^framing error: full: CRC32 mismatch/);
    assert.equal(await victimClosed, 'peer closed');
    const echo = collect(other, 1);
    other.send(bytes(12, 7));
    assert.deepEqual((await echo)[0], bytes(12, 7));
    other.close();
  } finally {
    await srv.close();
  }
});

test('latency injection delays every outgoing frame and keeps their order', async () => {
  let n = 0;
  const delays = [120, 0, 60, 0, 90];
  const { srv } = await echoServer({ latencyMs: () => delays[n++ % delays.length]! });
  try {
    const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'abridged' });
    const got = collect(client, 5);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) client.send(bytes(8, i));
    const frames = await got;
    const elapsed = performance.now() - t0;
    assert.deepEqual(
      frames,
      [0, 1, 2, 3, 4].map((i) => bytes(8, i)),
      'order kept although later frames had less delay',
    );
    assert.ok(elapsed >= 115, `elapsed ${elapsed.toFixed(1)} ms < injected 120 ms`);
    // One round trip with a constant delay.
    n = 0;
    delays.splice(0, delays.length, 80);
    const one = collect(client, 1);
    const t1 = performance.now();
    client.send(bytes(4));
    await one;
    const rtt = performance.now() - t1;
    assert.ok(rtt >= 75, `rtt ${rtt.toFixed(1)} ms < injected 80 ms`);
    assert.ok(rtt < 1500, `rtt ${rtt.toFixed(1)} ms unreasonably long`);
    client.close();
  } finally {
    await srv.close();
  }
});

test('transport error frames reach the client; then the server closes', async () => {
  for (const transport of ['intermediate', 'padded', 'abridged', 'full'] as const) {
    const srv = await listenFrames({ host: '127.0.0.1', port: 0, latencyMs: () => 5 }, (link) => {
      link.on('frame', () => {
        link.send(encodeTransportError(-404));
        link.close('auth key unknown');
      });
    });
    try {
      const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport });
      const frames = collect(client, 1);
      const closed = new Promise<string>((resolve) => client.on('close', resolve));
      client.send(bytes(24));
      const [p] = await frames;
      assert.equal(transportErrorCode(p!), -404, transport);
      assert.equal(await closed, 'peer closed');
    } finally {
      await srv.close();
    }
  }
});

test('close: exactly one close event, send after close is a no-op, closed flag', async () => {
  const { srv, links } = await echoServer();
  try {
    const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'padded' });
    const reasons: string[] = [];
    client.on('close', (r: string) => reasons.push(r));
    const f = collect(client, 1);
    client.send(bytes(4));
    await f;
    client.close('done here');
    client.close('again');
    assert.equal(client.closed, true);
    assert.doesNotThrow(() => client.send(bytes(8)));
    assert.doesNotThrow(() => client.sendQuickAck(1));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(reasons, ['done here']);
    // The server side saw the peer go away; sending there is a no-op too.
    assert.equal(links[0]!.closed, true);
    assert.doesNotThrow(() => links[0]!.send(bytes(8)));
  } finally {
    await srv.close();
  }
});

test('listener close ends open links with "server closed"', async () => {
  const { srv, links } = await echoServer();
  const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'intermediate' });
  const f = collect(client, 1);
  client.send(bytes(4));
  await f;
  const reason = closeReason(client);
  const serverReason = closeReason(links[0]!);
  await srv.close();
  assert.equal(await serverReason, 'server closed');
  assert.equal(await reason, 'peer closed');
});

test('idle timeout closes with "timeout"', async () => {
  const { srv } = await echoServer();
  try {
    const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'abridged', idleTimeoutMs: 80 });
    assert.equal(await closeReason(client), 'timeout');
  } finally {
    await srv.close();
  }
});

test('connect failures reject with the address in the message', async () => {
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  const port = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  await assert.rejects(connectTcp({ host: '127.0.0.1', port, transport: 'abridged', timeoutMs: 1000 }), new RegExp(`127\\.0\\.0\\.1:${port}`));
  await assert.rejects(connectTcp({ host: '127.0.0.1', port, transport: 'full', obfuscated: true }), /full transport/);
});

test('quick ack over TCP (intermediate): request bit seen by the server, token delivered to the client', async () => {
  const srv = await listenFrames({ host: '127.0.0.1', port: 0 }, (link) => {
    link.on('frame', (p: Uint8Array, info: { quickAck: boolean }) => {
      if (info.quickAck) link.sendQuickAck(0x01020304);
      link.send(p);
    });
  });
  try {
    const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'intermediate' });
    const token = new Promise<number>((r) => client.once('quick-ack', r));
    const f = collect(client, 1);
    client.send(bytes(8), { quickAck: true });
    assert.equal(await token, 0x81020304);
    assert.deepEqual((await f)[0], bytes(8));
    client.close();
  } finally {
    await srv.close();
  }
});

test('IPv6 loopback listener (skipped when ::1 is unavailable)', async (t) => {
  let srv;
  try {
    srv = await listenFrames({ host: '::1', port: 0 }, (link) => link.on('frame', (p: Uint8Array) => link.send(p)));
  } catch (e) {
    t.skip(`no IPv6 loopback: ${(e as Error).message}`);
    return;
  }
  try {
    const client = await connectTcp({ host: '::1', port: srv.port, transport: 'intermediate', obfuscated: true });
    assert.equal(client.remote, `[::1]:${srv.port}`);
    const f = collect(client, 1);
    client.send(bytes(16));
    assert.deepEqual((await f)[0], bytes(16));
    client.close();
  } finally {
    await srv.close();
  }
});

test('detection across TCP fragments: preamble and first frame written a few bytes at a time', async () => {
  const { srv, links } = await echoServer();
  try {
    for (const transport of ALL) {
      const codec = createFrameCodec(transport, 'client');
      const wire = new Uint8Array([...clientPreamble(transport), ...codec.encode(bytes(24, 9))]);
      const echoed = await new Promise<Uint8Array[]>((resolve, reject) => {
        const s = netConnect({ host: '127.0.0.1', port: srv.port }, async () => {
          s.setNoDelay(true);
          for (let i = 0; i < wire.length; i += 3) {
            s.write(wire.subarray(i, i + 3));
            await new Promise((r) => setTimeout(r, 1));
          }
        });
        const out: Uint8Array[] = [];
        s.on('data', (d: Buffer) => {
          out.push(...codec.push(d));
          if (out.length) {
            s.destroy();
            resolve(out);
          }
        });
        s.on('error', reject);
      });
      assert.deepEqual(echoed[0]!.subarray(0, 24), bytes(24, 9), transport);
      assert.equal(links.at(-1)!.transport, transport);
    }
  } finally {
    await srv.close();
  }
});

test('a client that never completes its header is dropped after detectTimeoutMs', async () => {
  let linked = 0;
  const srv = await listenFrames({ host: '127.0.0.1', port: 0, detectTimeoutMs: 100 }, () => linked++);
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: srv.port }, () => s.write(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
      s.on('error', () => undefined);
      s.on('close', () => resolve());
      s.resume();
    });
    const dt = performance.now() - t0;
    assert.ok(dt >= 90 && dt < 2000, `dropped after ${dt.toFixed(0)} ms`);
    assert.equal(linked, 0);
  } finally {
    await srv.close();
  }
});
