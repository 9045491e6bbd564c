import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHash } from 'node:crypto';
import { detectServerTransport, isForbiddenObfuscatedStart, type TransportName } from '../../src/transport/codec';
import { createObfuscatedClient, normalizeProxySecret, parseObfuscatedHeader } from '../../src/transport/obfuscated';
import { connectTcp, listenFrames, type FrameLink, type ServerFrameLink } from '../../src/transport/tcp';

const INNER = ['abridged', 'intermediate', 'padded'] as const;
const TAG: Record<(typeof INNER)[number], number[]> = {
  abridged: [0xef, 0xef, 0xef, 0xef],
  intermediate: [0xee, 0xee, 0xee, 0xee],
  padded: [0xdd, 0xdd, 0xdd, 0xdd],
};

function bytes(n: number, seed = 1): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 13 + seed * 101) & 0xff;
  return u;
}

/** The spec's recipe, written independently of the module: decrypt with AES-256-CTR(key = h[8..40], iv = h[40..56]). */
function specDecrypt(header: Uint8Array, data: Uint8Array, reverse: boolean, secret?: Uint8Array, skip = 0): Uint8Array {
  const h = reverse ? Uint8Array.from(header).reverse() : header;
  let key: Uint8Array = h.subarray(8, 40);
  if (secret) key = createHash('sha256').update(key).update(secret).digest();
  const d = createDecipheriv('aes-256-ctr', key, h.subarray(40, 56));
  if (skip) d.update(new Uint8Array(skip));
  return new Uint8Array(d.update(data));
}

test('obfuscated header: 64 bytes, never a forbidden start, tag and dc id at 56..61 under encryption', () => {
  for (let i = 0; i < 300; i++) {
    const { header } = createObfuscatedClient('padded', -4);
    assert.equal(header.length, 64);
    assert.equal(isForbiddenObfuscatedStart(header), false);
  }
  for (const inner of INNER) {
    const { header } = createObfuscatedClient(inner, 10002);
    const plain = specDecrypt(header, header, false);
    assert.deepEqual([...plain.subarray(56, 60)], TAG[inner]);
    assert.equal(new DataView(plain.buffer).getInt16(60, true), 10002);
  }
  const { header } = createObfuscatedClient('abridged', -4);
  assert.equal(new DataView(specDecrypt(header, header, false).buffer).getInt16(60, true), -4);
});

test('obfuscated client codec: frames encrypted after the header, replies decrypted with the reversed key', () => {
  const { header, codec } = createObfuscatedClient('intermediate', 2);
  const wire = codec.encode(bytes(16));
  // The client's stream has consumed the 64 header bytes: the frame is at keystream offset 64.
  const plain = specDecrypt(header, wire, false, undefined, 64);
  assert.deepEqual(plain.subarray(0, 4), Uint8Array.of(16, 0, 0, 0));
  assert.deepEqual(plain.subarray(4), bytes(16));
  // Server→client direction: reversed header key/iv, offset 0.
  const server = parseObfuscatedHeader(header);
  assert.ok(server);
  const reply = server.codec.encode(bytes(8, 3));
  assert.deepEqual(specDecrypt(header, reply, true).subarray(4), bytes(8, 3));
  assert.deepEqual(codec.push(reply), [bytes(8, 3)]);
});

for (const inner of INNER) {
  test(`obfuscated ${inner}: server parses the header and both directions decode (byte-wise)`, () => {
    const { header, codec } = createObfuscatedClient(inner, 3);
    const server = parseObfuscatedHeader(header);
    assert.ok(server);
    assert.equal(server.inner, inner);
    assert.equal(server.dcId, 3);
    const payloads = [bytes(4), bytes(1024, 2), bytes(600, 3)];
    const wire = payloads.map((p) => codec.encode(p));
    const got: Uint8Array[] = [];
    for (const w of wire) for (let i = 0; i < w.length; i++) got.push(...server.codec.push(w.subarray(i, i + 1)));
    assert.equal(got.length, 3);
    payloads.forEach((p, i) => {
      assert.deepEqual(got[i]!.subarray(0, p.length), p);
    });
    const back = codec.push(server.codec.encode(bytes(40, 9)));
    assert.deepEqual(back[0]!.subarray(0, 40), bytes(40, 9));
    // detectServerTransport finds the same thing, with the first frame in the same chunk.
    const c2 = createObfuscatedClient(inner, 1);
    const first = c2.codec.encode(bytes(28, 4));
    const all = new Uint8Array(64 + first.length);
    all.set(c2.header);
    all.set(first, 64);
    assert.equal(detectServerTransport(all.subarray(0, 63)), 'need-more');
    const d = detectServerTransport(all);
    assert.ok(typeof d === 'object');
    assert.equal(d.name, inner);
    assert.equal(d.obfuscated, true);
    assert.equal(d.consumed, 64);
    assert.deepEqual(d.codec.push(all.subarray(64))[0]!.subarray(0, 28), bytes(28, 4));
  });
}

test('MTProxy secret: SHA256(key ‖ secret); 17-byte secrets drop their first byte; wrong secret is not detected', () => {
  const secret16 = bytes(16, 77);
  const secret17 = new Uint8Array(17);
  secret17[0] = 0xdd;
  secret17.set(secret16, 1);
  assert.deepEqual(normalizeProxySecret(secret17), secret16);
  assert.throws(() => normalizeProxySecret(new Uint8Array(5)), RangeError);
  const { header, codec } = createObfuscatedClient('padded', -2, secret17);
  const plain = specDecrypt(header, header, false, secret16);
  assert.deepEqual([...plain.subarray(56, 60)], TAG.padded);
  assert.equal(parseObfuscatedHeader(header), null);
  assert.equal(parseObfuscatedHeader(header, [bytes(16, 1)]), null);
  const s = parseObfuscatedHeader(header, [bytes(16, 1), secret16]);
  assert.ok(s);
  assert.deepEqual(s.secret, secret16);
  assert.equal(s.dcId, -2);
  assert.deepEqual(s.codec.push(codec.encode(bytes(8)))[0]!.subarray(0, 8), bytes(8));
  const d = detectServerTransport(header, { secrets: [secret16] });
  assert.ok(typeof d === 'object' && d.obfuscated && d.name === 'padded');
});

test('obfuscated full transport and out-of-range dc ids are refused', () => {
  assert.throws(() => createObfuscatedClient('full', 2), /full transport/);
  assert.throws(() => createObfuscatedClient('abridged', 40000), RangeError);
});

function nextFrame(link: FrameLink, timeoutMs = 3000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      link.off('frame', onFrame);
      link.off('close', onClose);
      link.close('test timeout');
      reject(new Error('timeout waiting for a frame'));
    }, timeoutMs);
    const onFrame = (p: Uint8Array): void => {
      clearTimeout(timer);
      link.off('close', onClose);
      resolve(p);
    };
    const onClose = (r: string): void => {
      clearTimeout(timer);
      link.off('frame', onFrame);
      reject(new Error(`closed: ${r}`));
    };
    link.once('frame', onFrame);
    link.once('close', onClose);
  });
}

for (const inner of INNER) {
  test(`obfuscated ${inner} over a real loopback connection`, async () => {
    const seen: { transport: TransportName; obfuscated: boolean }[] = [];
    const srv = await listenFrames({ host: '127.0.0.1', port: 0 }, (link: ServerFrameLink) => {
      seen.push({ transport: link.transport, obfuscated: link.obfuscated });
      link.on('frame', (p: Uint8Array) => link.send(p));
    });
    try {
      const client = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: inner, obfuscated: true, dcId: 2 });
      for (const n of [4, 64, 4096, 300_000]) {
        const p = bytes(n, n);
        const got = nextFrame(client);
        client.send(p);
        const r = await got;
        // Padded: the echo carries the client's padding plus the server's (0..15 each).
        if (inner === 'padded') assert.ok(r.length >= n && r.length <= n + 30);
        else assert.equal(r.length, n);
        assert.deepEqual(r.subarray(0, n), p);
      }
      client.close();
      assert.deepEqual(seen, [{ transport: inner, obfuscated: true }]);
    } finally {
      await srv.close();
    }
  });
}

test('obfuscated with an MTProxy secret over loopback; a client with the wrong secret is dropped', async () => {
  const secret = bytes(16, 5);
  const srv = await listenFrames({ host: '127.0.0.1', port: 0, secrets: [secret] }, (link) => {
    link.on('frame', (p: Uint8Array) => link.send(p));
  });
  try {
    const good = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'intermediate', obfuscated: { secret } });
    const f = nextFrame(good);
    good.send(bytes(32));
    assert.deepEqual(await f, bytes(32));
    const bad = await connectTcp({ host: '127.0.0.1', port: srv.port, transport: 'intermediate', obfuscated: { secret: bytes(16, 6) } });
    bad.send(bytes(32));
    await assert.rejects(nextFrame(bad), /closed: peer closed/);
    good.close();
  } finally {
    await srv.close();
  }
});
