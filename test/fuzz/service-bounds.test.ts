// Bounds of the service-message decoders (src/mtproto/service-messages.ts) that the fuzzers asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { TlWriter } from '../../src/tl/binary';
import {
  decodeContainer,
  encodeContainer,
  gunzipPacked,
  gzipBudget,
  gzipPacketLimit,
  GzipPackedError,
  GZIP_MAX_INFLATED,
  GZIP_PACKET_BUDGET,
  MT,
} from '../../src/mtproto/service-messages';

function packed(data: Uint8Array, raw = false): Uint8Array {
  const w = new TlWriter();
  w.uint(MT.gzip_packed);
  w.bytes(raw ? deflateRawSync(data) : gzipSync(data));
  return w.finish();
}

const zeros = (n: number): Uint8Array => new Uint8Array(n);

test('gunzipPacked: at most 16 MiB per gzip_packed (an 80 MiB bomb of 80 KiB is refused, naming the bound)', () => {
  assert.equal(GZIP_MAX_INFLATED, 16 << 20);
  const bomb = zeros(80 << 20);
  assert.throws(
    () => gunzipPacked(packed(bomb)),
    (e: unknown) => e instanceof GzipPackedError && /inflates beyond its 16777216-byte bound/.test(e.message),
  );
  assert.throws(() => gunzipPacked(packed(bomb, true)), GzipPackedError);
});

test('gunzipPacked: above 2 MiB, at most 256× the packed size (4 MiB of zeros in 4 KiB is refused; random data is not)', () => {
  assert.throws(
    () => gunzipPacked(packed(zeros(4 << 20))),
    (e: unknown) => e instanceof GzipPackedError && /bound/.test(e.message),
  );
  assert.equal(gunzipPacked(packed(zeros(1900 << 10))).length, 1900 << 10);
  const noisy = new Uint8Array(3 << 20).map((_, i) => (i * 2654435761) >>> 24);
  assert.equal(gunzipPacked(packed(noisy)).length, 3 << 20);
});

test('gunzipPacked: a container of many gzip_packed shares one budget (32 MiB, 256× the packet above 2 MiB) instead of multiplying the bound', () => {
  const part = packed(zeros(1900 << 10)); // under every per-message bound
  const count = Math.ceil(GZIP_PACKET_BUDGET / (1900 << 10)) + 3;
  const container = encodeContainer(Array.from({ length: count }, (_, i) => ({ msgId: BigInt(i * 4 + 4), seqno: 2 * i + 1, body: part })));
  // unpacked message by message, as the sessions do, without passing a budget
  let inflated = 0;
  let refused = 0;
  for (const it of decodeContainer(container)) {
    try {
      inflated += gunzipPacked(it.body).length;
    } catch (e) {
      assert.ok(e instanceof GzipPackedError && /budget/.test(e.message), String(e));
      refused++;
    }
  }
  assert.ok(inflated <= gzipPacketLimit(container.length), `${inflated} bytes inflated from one ${container.length}-byte container`);
  assert.ok(inflated <= GZIP_PACKET_BUDGET);
  assert.ok(refused >= 3);
  // another packet has a budget of its own
  assert.equal(gunzipPacked(Uint8Array.from(part)).length, 1900 << 10);
  // an explicit budget is honoured as given
  const budget = gzipBudget();
  budget.remaining = 1000;
  assert.throws(() => gunzipPacked(Uint8Array.from(part), budget), GzipPackedError);
  // what one gzip_packed inflates to shares its packet's budget: a container inside it cannot start afresh
  const inner = encodeContainer(Array.from({ length: count }, (_, i) => ({ msgId: BigInt(i * 4 + 4), seqno: 1, body: part })));
  const outer = gunzipPacked(packed(inner));
  let nestedRefused = 0;
  for (const it of decodeContainer(outer)) {
    try {
      gunzipPacked(it.body);
    } catch {
      nestedRefused++;
    }
  }
  assert.ok(nestedRefused >= 3);
});

test("gunzipPacked: what does not inflate is a GzipPackedError (zlib's message), a broken TL length a TlDecodeError", () => {
  const w = new TlWriter();
  w.uint(MT.gzip_packed);
  w.bytes(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  assert.throws(
    () => gunzipPacked(w.finish()),
    (e: unknown) => e instanceof GzipPackedError && e.message.length > 0,
  );
  assert.throws(
    () => gunzipPacked(Uint8Array.of(0xa1, 0xcf, 0x72, 0x30, 0xfe, 0xff, 0xff, 0xff)),
    (e: unknown) => (e as Error).name === 'TlDecodeError',
  );
  assert.deepEqual(gunzipPacked(packed(Uint8Array.of(1, 2, 3, 4))), Uint8Array.of(1, 2, 3, 4));
});

test('decodeContainer: a count that cannot fit (16 bytes a message) is refused before reading', () => {
  const w = new TlWriter();
  w.uint(MT.msg_container);
  w.int(8000);
  w.raw(new Uint8Array(16 * 100));
  assert.throws(() => decodeContainer(w.finish()), /8000 messages does not fit in 1600 bytes/);
});
