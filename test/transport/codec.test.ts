import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  clientPreamble,
  createFrameCodec,
  detectServerTransport,
  encodeTransportError,
  isForbiddenObfuscatedStart,
  transportErrorCode,
  TransportFramingError,
  type FrameCodec,
  type TransportName,
} from '../../src/transport/codec';
import { crc32 } from '../../src/tl/crc32';
import { getHeapStatistics } from 'node:v8';

const ALL: TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];

function bytes(n: number, seed = 1): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 31 + seed * 7) & 0xff;
  return u;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function pushInPieces(codec: FrameCodec, data: Uint8Array, piece: (i: number) => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; ) {
    const n = Math.max(1, piece(i));
    out.push(...codec.push(data.subarray(i, i + n)));
    i += n;
  }
  return out;
}

/** Padded intermediate returns payload + 0..15 padding bytes; the others the payload exactly. */
function assertPayloads(name: TransportName, got: Uint8Array[], want: Uint8Array[]): void {
  assert.equal(got.length, want.length, `${name}: frame count`);
  for (let i = 0; i < want.length; i++) {
    if (name === 'padded') {
      assert.ok(got[i]!.length >= want[i]!.length && got[i]!.length <= want[i]!.length + 15, `${name}: padded length of frame ${i}`);
      assert.deepEqual(got[i]!.subarray(0, want[i]!.length), want[i]);
    } else {
      assert.deepEqual(got[i], want[i], `${name}: frame ${i}`);
    }
  }
}

const PAYLOADS = [bytes(4, 1), bytes(8, 2), bytes(124 * 4, 3), bytes(126 * 4, 4), bytes(127 * 4, 5), bytes(2000, 6), new Uint8Array(0)];

for (const name of ALL) {
  test(`${name}: client→server and server→client round trip, 1-byte fragmentation`, () => {
    for (const [from, to] of [
      ['client', 'server'],
      ['server', 'client'],
    ] as const) {
      const enc = createFrameCodec(name, from);
      const dec = createFrameCodec(name, to);
      const wire = concat(PAYLOADS.map((p) => enc.encode(p)));
      assertPayloads(
        name,
        pushInPieces(dec, wire, () => 1),
        PAYLOADS,
      );
    }
  });

  test(`${name}: several frames in one chunk, and random fragmentation`, () => {
    const enc = createFrameCodec(name, 'client');
    const dec = createFrameCodec(name, 'server');
    assertPayloads(name, dec.push(concat(PAYLOADS.map((p) => enc.encode(p)))), PAYLOADS);
    // Continue on the same codecs (full: seqnos continue) with random splits that straddle frame boundaries.
    const wire = concat(PAYLOADS.map((p) => enc.encode(p)));
    const sizes = randomBytes(wire.length);
    assertPayloads(
      name,
      pushInPieces(dec, wire, (i) => sizes[i]! % 200),
      PAYLOADS,
    );
    assert.deepEqual(dec.push(new Uint8Array(0)), []);
  });

  test(`${name}: large frame (1 MiB + 12 bytes)`, () => {
    const big = bytes(1024 * 1024 + 12, 9);
    const enc = createFrameCodec(name, 'client');
    const dec = createFrameCodec(name, 'server');
    const wire = enc.encode(big);
    assertPayloads(
      name,
      pushInPieces(dec, wire, () => 65536 + 3),
      [big],
    );
  });
}

test('abridged: length byte forms (0x7e in one byte, 0x7f + 3 bytes LE from 127 words)', () => {
  const c = createFrameCodec('abridged', 'client');
  assert.deepEqual(c.encode(bytes(126 * 4)).subarray(0, 1), Uint8Array.of(0x7e));
  assert.deepEqual(c.encode(bytes(127 * 4)).subarray(0, 4), Uint8Array.of(0x7f, 0x7f, 0, 0));
  const big = bytes(1024 * 1024 + 4);
  const words = big.length / 4; // 0x040001
  const wire = c.encode(big);
  assert.deepEqual(wire.subarray(0, 4), Uint8Array.of(0x7f, words & 0xff, (words >> 8) & 0xff, words >> 16));
  assert.equal(wire.length, big.length + 4);
  // The 1 MiB frame fed one byte at a time.
  const dec = createFrameCodec('abridged', 'server');
  const got = pushInPieces(dec, wire, () => 1);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], big);
});

test('abridged: payload length must be a multiple of 4', () => {
  assert.throws(() => createFrameCodec('abridged', 'client').encode(bytes(6)), TransportFramingError);
});

test('intermediate / padded: 4-byte LE length, preamble bytes', () => {
  const w = createFrameCodec('intermediate', 'client').encode(bytes(300));
  assert.deepEqual(w.subarray(0, 4), Uint8Array.of(44, 1, 0, 0));
  for (let i = 0; i < 50; i++) {
    const p = createFrameCodec('padded', 'client').encode(bytes(40));
    const len = p[0]! | (p[1]! << 8);
    assert.equal(len, p.length - 4);
    assert.ok(len >= 40 && len <= 55);
  }
  assert.deepEqual(clientPreamble('abridged'), Uint8Array.of(0xef));
  assert.deepEqual(clientPreamble('intermediate'), Uint8Array.of(0xee, 0xee, 0xee, 0xee));
  assert.deepEqual(clientPreamble('padded'), Uint8Array.of(0xdd, 0xdd, 0xdd, 0xdd));
  assert.equal(clientPreamble('full').length, 0);
});

test('padded: padding is random 0..15 bytes (several lengths seen)', () => {
  const seen = new Set<number>();
  const c = createFrameCodec('padded', 'client');
  for (let i = 0; i < 200; i++) seen.add(c.encode(bytes(8)).length);
  assert.ok(seen.size >= 8, `only ${seen.size} distinct lengths`);
  assert.ok([...seen].every((l) => l >= 12 && l <= 27));
});

test('full: layout (length incl. 12 bytes, seqno from 0, CRC32 of length+seqno+payload)', () => {
  const c = createFrameCodec('full', 'client');
  const p = bytes(20);
  const f0 = c.encode(p);
  const f1 = c.encode(p);
  const dv = new DataView(f1.buffer, f1.byteOffset, f1.byteLength);
  assert.equal(dv.getUint32(0, true), 32);
  assert.equal(new DataView(f0.buffer).getUint32(4, true), 0);
  assert.equal(dv.getUint32(4, true), 1);
  assert.equal(dv.getUint32(28, true), crc32(f1.subarray(0, 28)));
});

test('full: CRC mismatch is a TransportFramingError naming the CRC', () => {
  const c = createFrameCodec('full', 'client');
  const wire = c.encode(bytes(40));
  wire[10] ^= 0x01;
  const dec = createFrameCodec('full', 'server');
  assert.throws(
    () => dec.push(wire),
    (e: unknown) => e instanceof TransportFramingError && /CRC32 mismatch/.test(e.message),
  );
  // The stream is desynchronised: later bytes fail too.
  assert.throws(() => dec.push(new Uint8Array(4)), TransportFramingError);
});

test('full: a skipped or repeated seqno is a TransportFramingError', () => {
  const c = createFrameCodec('full', 'client');
  c.encode(bytes(8)); // seqno 0 never delivered
  const f1 = c.encode(bytes(8));
  assert.throws(
    () => createFrameCodec('full', 'server').push(f1),
    (e: unknown) => e instanceof TransportFramingError && /seqno 1, expected 0/.test(e.message),
  );
  const c2 = createFrameCodec('full', 'client');
  const g0 = c2.encode(bytes(8));
  const dec = createFrameCodec('full', 'server');
  assert.equal(dec.push(g0).length, 1);
  assert.throws(() => dec.push(g0), /seqno 0, expected 1/);
});

test('frame length sanity bound: absurd lengths fail immediately instead of buffering', () => {
  assert.throws(() => createFrameCodec('intermediate', 'server').push(Uint8Array.of(0xff, 0xff, 0xff, 0x7f)), TransportFramingError);
  assert.throws(() => createFrameCodec('padded', 'server').push(Uint8Array.of(0, 0, 0, 0x10)), TransportFramingError);
  assert.throws(() => createFrameCodec('abridged', 'server').push(Uint8Array.of(0x7f, 0xff, 0xff, 0xff)), /exceeds/);
  assert.throws(() => createFrameCodec('full', 'server').push(Uint8Array.of(8, 0, 0, 0)), /below the 12-byte minimum/);
  assert.throws(() => createFrameCodec('full', 'server').push(Uint8Array.of(0, 0, 0, 0x40)), /exceeds/);
  // Just under the bound is buffered, not rejected.
  assert.deepEqual(createFrameCodec('intermediate', 'server').push(Uint8Array.of(0, 0, 0, 1)), []);
  assert.throws(() => createFrameCodec('intermediate', 'client').encode(new Uint8Array(16 * 1024 * 1024 + 4)), TransportFramingError);
});

for (const name of ['abridged', 'intermediate', 'padded'] as const) {
  test(`${name}: quick ack request bit and quick-ack token`, () => {
    const client = createFrameCodec(name, 'client');
    const server = createFrameCodec(name, 'server');
    const wire = concat([client.encode(bytes(16), { quickAck: true }), client.encode(bytes(8))]);
    const frames = server.pushFrames(wire);
    assert.equal(frames.length, 2);
    assert.ok(frames[0]!.kind === 'payload' && frames[0]!.quickAck);
    assert.ok(frames[1]!.kind === 'payload' && !frames[1]!.quickAck);
    assert.deepEqual(frames[0]!.kind === 'payload' && frames[0]!.payload.subarray(0, 16), bytes(16));
    // Server answers with a token; the client reports it and does not return it as a payload.
    const requests: Uint8Array[] = [];
    const server2 = createFrameCodec(name, 'server');
    server2.onQuickAckRequest = (p) => requests.push(p);
    assert.equal(server2.push(client.encode(bytes(4), { quickAck: true })).length, 1);
    assert.equal(requests.length, 1);
    const tokens: number[] = [];
    client.onQuickAck = (t) => tokens.push(t);
    const ackWire = server.encodeQuickAck(0x12345678);
    if (name === 'abridged') assert.deepEqual(ackWire, Uint8Array.of(0x92, 0x34, 0x56, 0x78));
    else assert.deepEqual(ackWire, Uint8Array.of(0x78, 0x56, 0x34, 0x92));
    const got = pushInPieces(client, concat([ackWire, server.encode(bytes(12))]), () => 1);
    assert.deepEqual(tokens, [0x92345678]);
    assertPayloads(name, got, [bytes(12)]);
  });
}

test('full: no quick-ack form', () => {
  assert.throws(() => createFrameCodec('full', 'server').encodeQuickAck(1), TransportFramingError);
});

test('transport error payloads', () => {
  assert.deepEqual(encodeTransportError(404), Uint8Array.of(0x6c, 0xfe, 0xff, 0xff));
  assert.deepEqual(encodeTransportError(-429), encodeTransportError(429));
  assert.equal(transportErrorCode(encodeTransportError(404)), -404);
  assert.equal(transportErrorCode(encodeTransportError(444)), -444);
  assert.equal(transportErrorCode(Uint8Array.of(1, 0, 0, 0)), null);
  assert.equal(transportErrorCode(new Uint8Array(3)), null);
  assert.equal(transportErrorCode(concat([encodeTransportError(404), new Uint8Array(20)])), null); // a real message
  assert.throws(() => encodeTransportError(0), RangeError);
  // Through every codec (padded: the error comes back with its padding and is still recognised).
  for (const name of ALL) {
    const got = createFrameCodec(name, 'client').push(createFrameCodec(name, 'server').encode(encodeTransportError(-404)));
    assert.equal(got.length, 1);
    assert.equal(transportErrorCode(got[0]!), -404, name);
  }
});

function detectGrowing(wire: Uint8Array): { decidedAt: number; result: ReturnType<typeof detectServerTransport> } {
  for (let n = 0; n <= wire.length; n++) {
    const r = detectServerTransport(wire.subarray(0, n));
    if (r !== 'need-more') return { decidedAt: n, result: r };
  }
  return { decidedAt: -1, result: 'need-more' };
}

for (const [name, decideAt] of [
  ['abridged', 1],
  ['intermediate', 4],
  ['padded', 4],
  ['full', 8],
] as const) {
  test(`detectServerTransport: ${name} preamble, decided after ${decideAt} bytes, codec continues`, () => {
    const client = createFrameCodec(name, 'client');
    const payloads = [bytes(40, 1), bytes(8, 2)];
    const wire = concat([clientPreamble(name), ...payloads.map((p) => client.encode(p))]);
    const { decidedAt, result } = detectGrowing(wire);
    assert.equal(decidedAt, decideAt);
    assert.ok(typeof result === 'object');
    assert.equal(result.name, name);
    assert.equal(result.obfuscated, false);
    assert.equal(result.consumed, clientPreamble(name).length);
    assertPayloads(name, result.codec.push(wire.subarray(result.consumed)), payloads);
  });
}

test('detectServerTransport: garbage, HTTP and TLS are unknown', () => {
  const enc = new TextEncoder();
  assert.equal(detectServerTransport(enc.encode('GET / HTTP/1.1\r\n')), 'unknown');
  assert.equal(detectServerTransport(enc.encode('POST')), 'unknown');
  assert.equal(detectServerTransport(enc.encode('HEAD')), 'unknown');
  assert.equal(detectServerTransport(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0, 0, 0, 0)), 'unknown');
  // Seqno 0 but an implausible full length.
  assert.equal(detectServerTransport(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0)), 'unknown');
  assert.equal(detectServerTransport(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)), 'unknown');
  // 64 bytes that are no obfuscated header (need-more until then).
  const junk = bytes(80, 42);
  assert.equal(detectServerTransport(junk.subarray(0, 63)), 'need-more');
  assert.equal(detectServerTransport(junk), 'unknown');
  assert.equal(detectServerTransport(new Uint8Array(0)), 'need-more');
  assert.equal(detectServerTransport(Uint8Array.of(0xee, 0xee)), 'need-more');
});

test('forbidden obfuscated starts (spec list)', () => {
  const base = bytes(64, 5);
  base[0] = 1;
  base[4] = 1;
  assert.equal(isForbiddenObfuscatedStart(base), false);
  const withFirst = (w: number[]): Uint8Array => {
    const h = Uint8Array.from(base);
    h.set(w, 0);
    return h;
  };
  assert.ok(isForbiddenObfuscatedStart(withFirst([0xef])));
  for (const word of ['HEAD', 'POST', 'GET ', 'OPTI']) assert.ok(isForbiddenObfuscatedStart(withFirst([...new TextEncoder().encode(word)])), word);
  assert.ok(isForbiddenObfuscatedStart(withFirst([0x16, 0x03, 0x01, 0x02])));
  assert.ok(isForbiddenObfuscatedStart(withFirst([0xdd, 0xdd, 0xdd, 0xdd])));
  assert.ok(isForbiddenObfuscatedStart(withFirst([0xee, 0xee, 0xee, 0xee])));
  const zeroSeq = Uint8Array.from(base);
  zeroSeq.set([0, 0, 0, 0], 4);
  assert.ok(isForbiddenObfuscatedStart(zeroSeq));
});

test('a length header alone allocates nothing: the buffer grows with the bytes that arrive, not with what the header claims', () => {
  const heap = (): number => getHeapStatistics().external_memory;
  const headers: [TransportName, Uint8Array][] = [
    ['abridged', Uint8Array.of(0x7f, 0xff, 0xff, 0x3f)], // 0x3fffff words: just under 16 MiB
    ['intermediate', Uint8Array.of(0xf0, 0xff, 0xff, 0x00)],
    ['padded', Uint8Array.of(0xf0, 0xff, 0xff, 0x00)],
    ['full', Uint8Array.of(0xf0, 0xff, 0xff, 0x00, 0, 0, 0, 0)],
  ];
  const codecs: FrameCodec[] = [];
  const before = heap();
  for (let i = 0; i < 10; i++) {
    for (const [name, header] of headers) {
      const c = createFrameCodec(name, 'server');
      assert.deepEqual(c.push(header), []);
      assert.deepEqual(c.push(new Uint8Array(100)), []);
      codecs.push(c);
    }
  }
  const grown = heap() - before;
  assert.ok(grown < 8 << 20, `${codecs.length} codecs waiting for 16 MiB frames hold ${grown} bytes`);
});

test('a frame over the limit is a framing error naming its length', () => {
  for (const [name, header, length] of [
    ['abridged', Uint8Array.of(0x7f, 0x01, 0x00, 0x40), 0x400001 * 4],
    ['intermediate', Uint8Array.of(0x01, 0x00, 0x00, 0x01), 0x1000001],
    ['full', Uint8Array.of(0x0d, 0x00, 0x00, 0x01), 0x100000d],
  ] as const) {
    assert.throws(
      () => createFrameCodec(name, 'server').push(header),
      (e: unknown) => e instanceof TransportFramingError && e.message.includes(`frame length ${length} exceeds`),
      name,
    );
  }
});

test('a big frame arriving in socket-sized reads ends in a buffer barely larger than itself (it may be transferred whole)', () => {
  for (const name of ['abridged', 'intermediate'] as const) {
    const big = bytes(1024 * 1024, 3);
    const wire = createFrameCodec(name, 'client').encode(big);
    const [got] = pushInPieces(createFrameCodec(name, 'server'), wire, () => 65536);
    assert.deepEqual(got, big);
    assert.ok(got!.buffer.byteLength <= big.length + 128 * 1024, `${name}: ${got!.buffer.byteLength}-byte buffer for ${big.length} bytes`);
  }
});
