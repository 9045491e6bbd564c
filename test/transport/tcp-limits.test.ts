// Bounded memory in the TCP transport: input accounting per transport, the frame timeout (slow drip), the shared
// input budget, the per-link buffered cap, backpressure on reads (busy/ready and unread output) and the output
// caps on both sides.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { clientPreamble, createFrameCodec, type TransportName } from '../../src/transport/codec';
import { connectTcp, InputBudget, listenFrames, type ListenOptions, type ServerFrameLink, type TcpLink } from '../../src/transport/tcp';

function bytes(n: number, seed = 1): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 7 + seed * 3) & 0xff;
  return u;
}

// Whatever a test opened is torn down after it, also when an assertion failed halfway: no socket keeps the run alive.
const opened: { destroy(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)));
});

function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

function closeReason(link: { once(ev: 'close', f: (r: string) => void): unknown }): Promise<string> {
  return new Promise((resolve) => link.once('close', resolve));
}

async function server(opts: Partial<ListenOptions> = {}, onLink: (l: ServerFrameLink) => void = () => undefined) {
  const links: ServerFrameLink[] = [];
  /** Frames per link, in links' order. */
  const frames: Uint8Array[][] = [];
  /** Close reason per link (a promise made as the link is accepted, so an early close is not missed). */
  const closed: Promise<string>[] = [];
  const srv = await listenFrames({ host: '127.0.0.1', port: 0, ...opts }, (l) => {
    const mine: Uint8Array[] = [];
    links.push(l);
    frames.push(mine);
    closed.push(closeReason(l));
    l.on('frame', (p: Uint8Array) => mine.push(p));
    onLink(l);
  });
  servers.push(srv);
  return { srv, links, frames, closed };
}

async function dial(opts: Parameters<typeof connectTcp>[0]): Promise<TcpLink> {
  const link = await connectTcp(opts);
  opened.push({ destroy: () => link.cut('test over') });
  return link;
}

/** A raw socket that speaks intermediate by hand (for incomplete frames). */
function raw(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    opened.push(s);
    s.on('error', () => undefined);
  });
}

function lengthWord(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

const ALL: TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];

test('bufferedInput counts the bytes of the incomplete frame, per transport (plain and obfuscated), and is 0 between frames', { timeout: 20_000 }, async () => {
  const { srv, links, frames } = await server();
  try {
    for (const transport of ALL) {
      for (const obfuscated of transport === 'full' ? [false] : [false, true]) {
        const client = await dial({ host: '127.0.0.1', port: srv.port, transport, obfuscated });
        const n = links.length;
        const payloads = [bytes(8), bytes(600, 2), bytes(200 * 1024, 3), bytes(4, 4)];
        for (const p of payloads) client.send(p);
        await waitFor(() => links.length === n + 1, 3000, 'the link');
        const link = links[n]!;
        await waitFor(() => frames[n]!.length === payloads.length, 3000, `${transport} frames`);
        assert.equal(link.bufferedInput, 0, `${transport}${obfuscated ? ' obfuscated' : ''}: nothing held between frames`);
        // half a frame: the first half of a 1000-byte payload's frame is held
        const frame = createFrameCodec(transport, 'client').encode(bytes(1000, 5));
        if (!obfuscated) {
          (client as unknown as { writeRaw(d: Uint8Array): void }).writeRaw(frame.subarray(0, 300));
          await waitFor(() => link.bufferedInput === 300, 3000, `${transport}: 300 bytes held`);
        }
        client.close();
      }
    }
  } finally {
    await srv.close();
  }
});

test('a frame not completed within frameTimeoutMs (slow drip) closes the link; whole frames and silence do not', { timeout: 20_000 }, async () => {
  const { srv, links, closed } = await server({ frameTimeoutMs: 150 });
  try {
    const good = await dial({ host: '127.0.0.1', port: srv.port, transport: 'intermediate' });
    good.send(bytes(16));
    await waitFor(() => links.length === 1);
    const goodLink = links[0]!;
    const dripper = await raw(srv.port);
    dripper.write(Buffer.concat([Buffer.from(clientPreamble('intermediate')), lengthWord(4096), Buffer.alloc(10)]));
    const drip = setInterval(() => dripper.write(Buffer.alloc(1)), 20);
    await waitFor(() => links.length === 2);
    const reason = await closed[1]!;
    clearInterval(drip);
    assert.match(reason, /^timeout: a frame not completed within 150 ms \(\d+ bytes of it received\)$/);
    // the good link was silent longer than the frame timeout without holding a partial frame: still open
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(goodLink.closed, false);
    good.close();
    dripper.destroy();
  } finally {
    await srv.close();
  }
});

test('the shared input budget closes the link whose incomplete frame began first, across listeners', { timeout: 20_000 }, async () => {
  const budget = new InputBudget(1024 * 1024, { holdBack: false }); // eviction alone
  const frames: Uint8Array[] = [];
  const a = await server({ inputBudget: budget });
  const firstClosed = a.closed;
  const b = await server({ inputBudget: budget }, (l) => l.on('frame', (p: Uint8Array) => frames.push(p)));
  try {
    const first = await raw(a.srv.port);
    first.write(Buffer.concat([Buffer.from(clientPreamble('intermediate')), lengthWord(1024 * 1024), Buffer.alloc(600 * 1024)]));
    await waitFor(() => a.links.length === 1 && a.links[0]!.bufferedInput === 600 * 1024 + 4, 3000, 'first partial');
    assert.equal(budget.held, 600 * 1024 + 4, 'the header counts too');
    const second = await dial({ host: '127.0.0.1', port: b.srv.port, transport: 'intermediate' });
    second.send(bytes(700 * 1024, 9));
    assert.match(await firstClosed[0]!, /^input budget: 614404 bytes of an incomplete frame for [\d.]+ s while all connections held \d+ \(limit 1048576\)$/);
    await waitFor(() => frames.length === 1, 3000, 'the second frame');
    assert.deepEqual(frames[0], bytes(700 * 1024, 9));
    assert.equal(b.links[0]!.closed, false);
    assert.equal(budget.held, 0);
    second.close();
    first.destroy();
  } finally {
    await a.srv.close();
    await b.srv.close();
  }
});

test('maxBufferedBytes: input held over the per-link cap closes the link', { timeout: 20_000 }, async () => {
  const { srv, links, closed } = await server({ maxBufferedBytes: 256 * 1024 });
  try {
    const s = await raw(srv.port);
    s.write(Buffer.concat([Buffer.from(clientPreamble('intermediate')), lengthWord(1024 * 1024), Buffer.alloc(300 * 1024)]));
    await waitFor(() => links.length === 1);
    assert.match(await closed[0]!, /^buffered: \d+ bytes of input and 0 of output exceed the 262144-byte limit$/);
    s.destroy();
  } finally {
    await srv.close();
  }
});

test('busy(): the server stops reading until ready(); then every frame arrives in order', { timeout: 20_000 }, async () => {
  const got: Uint8Array[] = [];
  const { srv, links } = await server({}, (l) => {
    l.on('frame', (p: Uint8Array) => {
      got.push(p);
      if (got.length === 1) l.busy();
    });
  });
  try {
    const client = await dial({ host: '127.0.0.1', port: srv.port, transport: 'intermediate' });
    const count = 400;
    for (let i = 0; i < count; i++) client.send(bytes(64 * 1024, i));
    // the kernel's buffers fill up and then the client's own: proof that the server no longer reads
    await waitFor(() => client.bufferedOutput > 0 && links.length === 1 && links[0]!.inputPaused, 5000, 'backpressure at the client');
    const seen = got.length;
    assert.ok(seen < count, `${seen} of ${count} frames read while busy`);
    links[0]!.ready();
    assert.equal(links[0]!.inputPaused, false);
    await waitFor(() => got.length === count, 10000, 'every frame');
    for (let i = 0; i < count; i += 37) assert.deepEqual(got[i], bytes(64 * 1024, i));
    client.close();
  } finally {
    await srv.close();
  }
});

test('server: a peer that does not read pauses our reading at the high-water mark; reading resumes once it reads', { timeout: 20_000 }, async () => {
  const received: number[] = [];
  const { srv, links } = await server({ outputHighWaterBytes: 1024 * 1024, maxOutputBytes: 64 * 1024 * 1024 }, (l) => {
    l.on('frame', (p: Uint8Array) => {
      received.push(p.length);
      l.send(bytes(256 * 1024, received.length)); // every request is answered with 256 KiB
    });
  });
  try {
    const s = await raw(srv.port);
    s.pause(); // the client does not read
    const req = Buffer.concat([lengthWord(16), Buffer.alloc(16)]);
    s.write(Buffer.from(clientPreamble('intermediate')));
    const total = 200; // 200 × 256 KiB = 50 MiB of answers if all were served
    // one request at a time until the server pauses (frames decoded from one chunk are all delivered), then the rest
    let written = 0;
    while (written < total && !(links.length === 1 && links[0]!.inputPaused)) {
      s.write(req);
      written++;
      await waitFor(() => received.length === written || (links.length === 1 && links[0]!.inputPaused), 5000, `request ${written}`);
    }
    assert.ok(written < total, 'the server paused');
    while (written < total) {
      s.write(req);
      written++;
    }
    await new Promise((r) => setTimeout(r, 100));
    const served = received.length;
    assert.ok(served < total, `${served} of ${total} requests served while the client read nothing`);
    assert.equal(links[0]!.closed, false);
    s.resume(); // the client reads now: the rest is served
    await waitFor(() => received.length === total, 10000, 'every request');
    assert.equal(links[0]!.closed, false);
    s.destroy();
  } finally {
    await srv.close();
  }
});

test('server: unread output over maxOutputBytes closes the link with the reason', { timeout: 20_000 }, async () => {
  const { srv, links } = await server({ maxOutputBytes: 4 * 1024 * 1024, outputHighWaterBytes: 1024 * 1024 });
  try {
    const s = await raw(srv.port);
    s.pause();
    s.write(Buffer.concat([Buffer.from(clientPreamble('intermediate')), lengthWord(4), Buffer.alloc(4)]));
    await waitFor(() => links.length === 1);
    const link = links[0]!;
    const reason = closeReason(link);
    // one request may produce much (a dozen file parts): the cap holds whatever the high-water mark let in
    const timer = setInterval(() => {
      for (let i = 0; i < 8 && !link.closed; i++) link.send(bytes(1024 * 1024, i));
    }, 5);
    assert.match(await reason, /^output backlog: \d+ bytes the peer has not read \(limit 4194304\)$/);
    clearInterval(timer);
    assert.equal(link.bufferedOutput, 0, 'what was queued is dropped');
    s.destroy();
  } finally {
    await srv.close();
  }
});

test('client: send() to a server that does not read fails the link once maxOutputBytes are queued', { timeout: 20_000 }, async () => {
  const held: Socket[] = [];
  const srv = createServer((s) => {
    s.pause(); // never reads
    held.push(s);
    opened.push(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push({ close: () => new Promise<void>((r) => srv.close(() => r())) });
  const port = (srv.address() as AddressInfo).port;
  try {
    const client: TcpLink = await dial({ host: '127.0.0.1', port, transport: 'intermediate', maxOutputBytes: 2 * 1024 * 1024 });
    const reason = closeReason(client);
    let sent = 0;
    while (!client.closed && sent < 256) {
      client.send(bytes(512 * 1024, sent));
      sent++;
      if (sent % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.match(await reason, /^output backlog: \d+ bytes the peer has not read \(limit 2097152\)$/);
    assert.ok(sent < 256, 'stopped well before everything was buffered');
    assert.doesNotThrow(() => client.send(bytes(8)));
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('over half the budget a big incomplete frame is not read further, until the total is down to a quarter', { timeout: 20_000 }, async () => {
  assert.equal(new InputBudget(64 * 1024 * 1024).bigPartial, 2 * 1024 * 1024);
  const budget = new InputBudget(1024 * 1024);
  assert.equal(budget.bigPartial, 64 * 1024);
  const { srv, links, frames } = await server({ inputBudget: budget });
  const a = await raw(srv.port);
  a.write(Buffer.concat([Buffer.from(clientPreamble('intermediate')), lengthWord(2 * 1024 * 1024), Buffer.alloc(400 * 1024)]));
  await waitFor(() => links.length === 1 && links[0]!.bufferedInput === 400 * 1024 + 4, 3000, 'a: 400 KiB held');
  assert.equal(links[0]!.inputPaused, false, 'under half the budget nothing is held back');
  const b = await raw(srv.port);
  b.write(Buffer.concat([Buffer.from(clientPreamble('intermediate')), lengthWord(300 * 1024), Buffer.alloc(200 * 1024)]));
  await waitFor(() => links.length === 2 && links[1]!.inputPaused, 3000, 'b held back');
  assert.equal(budget.parkedLinks, 1);
  a.destroy(); // the total falls to b's 200 KiB, under a quarter: b is read again and its frame completes
  await waitFor(() => links[0]!.closed && !links[1]!.inputPaused, 3000, 'b read again');
  b.write(Buffer.alloc(100 * 1024));
  await waitFor(() => frames[1]!.length === 1, 3000, "b's frame");
  assert.equal(frames[1]![0]!.length, 300 * 1024);
  assert.equal(budget.held, 0);
  assert.equal(budget.parkedLinks, 0);
});
