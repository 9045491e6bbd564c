import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TlCodec, TlEncodeError, VECTOR_ID } from '../../src/tl/codec';
import { TlDecodeError, TlReader, TlWriter } from '../../src/tl/binary';
import { fullSchema, mtprotoSchema } from '../../src/tl/bundled';
import type { TlObject } from '../../src/tl/types';

const codec = new TlCodec(fullSchema());
const lenient = new TlCodec(fullSchema(), { lenient: true });

const hex = (u8: Uint8Array): string => Buffer.from(u8).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
/** Bytes of a hex dump as printed on core.telegram.org (`0010 | 14 00 …`). */
const dump = (text: string): Uint8Array =>
  unhex(
    text
      .trim()
      .split('\n')
      .map((l) => l.split('|')[1]!)
      .join(''),
  );
const u32 = (u8: Uint8Array, off: number): number => new DataView(u8.buffer, u8.byteOffset).getUint32(off, true);

// ---- vectors from core.telegram.org/mtproto/samples-auth_key
const NONCE = unhex('3E0549828CCA27E966B301A48FECE2FC');
const SERVER_NONCE = unhex('A5CF4D33F4A11EA877BA4AA573907330');
const NEW_NONCE = unhex('311C85DB234AA2640AFC4A76A735CF5B1F0FD68BD17FA181E1229AD867CC024D');
const FINGERPRINT = BigInt.asIntN(64, 0xc3b42b026ce86b21n);

test('known bytes: req_pq and req_pq_multi with the spec sample nonce', () => {
  // plain message of the sample: body starts at offset 20 → 78 97 46 60 + nonce
  assert.equal(hex(codec.encode({ _: 'req_pq', nonce: NONCE })), '78974660' + '3e0549828cca27e966b301a48fece2fc');
  // req_pq_multi#be7e8ef1: same body with the newer id
  assert.equal(hex(codec.encode({ _: 'req_pq_multi', nonce: NONCE })), 'f18e7ebe' + '3e0549828cca27e966b301a48fece2fc');
  // and the call decodes back as a method call
  assert.deepEqual(codec.decode(unhex('f18e7ebe3e0549828cca27e966b301a48fece2fc')), { _: 'req_pq_multi', nonce: NONCE });
});

test('known bytes: resPQ from the spec sample decodes', () => {
  const msg = dump(`
0000 | 00 00 00 00 00 00 00 00 01 C8 83 1E C9 7A E5 51
0010 | 40 00 00 00 63 24 16 05 3E 05 49 82 8C CA 27 E9
0020 | 66 B3 01 A4 8F EC E2 FC A5 CF 4D 33 F4 A1 1E A8
0030 | 77 BA 4A A5 73 90 73 30 08 17 ED 48 94 1A 08 F9
0040 | 81 00 00 00 15 C4 B5 1C 01 00 00 00 21 6B E8 6C
0050 | 02 2B B4 C3`);
  const r = new TlReader(msg.subarray(20));
  const res = codec.decode(r);
  assert.equal(r.remaining, 0);
  assert.deepEqual(res, {
    _: 'resPQ',
    nonce: NONCE,
    server_nonce: SERVER_NONCE,
    pq: unhex('17ED48941A08F981'),
    server_public_key_fingerprints: [FINGERPRINT],
  });
});

test('known bytes: p_q_inner_data SHA1 and req_DH_params body from the spec sample', () => {
  const inner = codec.encode({
    _: 'p_q_inner_data',
    pq: unhex('17ED48941A08F981'),
    p: unhex('494C553B'),
    q: unhex('53911073'),
    nonce: NONCE,
    server_nonce: SERVER_NONCE,
    new_nonce: NEW_NONCE,
  });
  assert.equal(inner.length, 96);
  assert.equal(createHash('sha1').update(inner).digest('hex'), 'db761c27718a2305044f71f2ad951629d78b2449');

  const encrypted = unhex(
    '7BB0100A523161904D9C69FA04BC60DECFC5DD74B99995C768EB60D8716E2109BAF2D4601DAB6B09610DC11067BB89021E09471FCFA52DBD0F23204AD8CA8B012BF40A112F44695AB6C266955386114EF5211E6372227ADBD34995D3E0E5FF02EC63A43F9926878962F7C570E6A6E78BF8366AF917A5272675C46064BE62E3E202EFA8B1ADFB1C32A898C2987BE27B5F31D57C9BB963ABCB734B16F652CEDB4293CBB7C878A3A3FFAC9DBEA9DF7C67BC9E9508E111C78FC46E057F5C65ADE381D91FEE430A6B576A99BDF8551FDB1BE2B57069B1A45730618F27427E8A04720B4971EF4A9215983D68F2830C3EAA6E40385562F970D38A05C9F1246DC33438E6',
  );
  const body = codec.encode({
    _: 'req_DH_params',
    nonce: NONCE,
    server_nonce: SERVER_NONCE,
    p: unhex('494C553B'),
    q: unhex('53911073'),
    public_key_fingerprint: FINGERPRINT,
    encrypted_data: encrypted,
  });
  const msg = dump(`
0000 | 00 00 00 00 00 00 00 00 27 7A 71 17 C9 7A E5 51
0010 | 40 01 00 00 BE E4 12 D7 3E 05 49 82 8C CA 27 E9
0020 | 66 B3 01 A4 8F EC E2 FC A5 CF 4D 33 F4 A1 1E A8
0030 | 77 BA 4A A5 73 90 73 30 04 49 4C 55 3B 00 00 00
0040 | 04 53 91 10 73 00 00 00 21 6B E8 6C 02 2B B4 C3
0050 | FE 00 01 00 7B B0 10 0A 52 31 61 90 4D 9C 69 FA
0060 | 04 BC 60 DE CF C5 DD 74 B9 99 95 C7 68 EB 60 D8
0070 | 71 6E 21 09 BA F2 D4 60 1D AB 6B 09 61 0D C1 10
0080 | 67 BB 89 02 1E 09 47 1F CF A5 2D BD 0F 23 20 4A
0090 | D8 CA 8B 01 2B F4 0A 11 2F 44 69 5A B6 C2 66 95
00A0 | 53 86 11 4E F5 21 1E 63 72 22 7A DB D3 49 95 D3
00B0 | E0 E5 FF 02 EC 63 A4 3F 99 26 87 89 62 F7 C5 70
00C0 | E6 A6 E7 8B F8 36 6A F9 17 A5 27 26 75 C4 60 64
00D0 | BE 62 E3 E2 02 EF A8 B1 AD FB 1C 32 A8 98 C2 98
00E0 | 7B E2 7B 5F 31 D5 7C 9B B9 63 AB CB 73 4B 16 F6
00F0 | 52 CE DB 42 93 CB B7 C8 78 A3 A3 FF AC 9D BE A9
0100 | DF 7C 67 BC 9E 95 08 E1 11 C7 8F C4 6E 05 7F 5C
0110 | 65 AD E3 81 D9 1F EE 43 0A 6B 57 6A 99 BD F8 55
0120 | 1F DB 1B E2 B5 70 69 B1 A4 57 30 61 8F 27 42 7E
0130 | 8A 04 72 0B 49 71 EF 4A 92 15 98 3D 68 F2 83 0C
0140 | 3E AA 6E 40 38 55 62 F9 70 D3 8A 05 C9 F1 24 6D
0150 | C3 34 38 E6`);
  assert.equal(body.length, 320);
  assert.equal(hex(body), hex(msg.subarray(20)));
});

test('binary: bytes/string length prefixes and padding, long signedness', () => {
  const w = new TlWriter(4);
  w.bytes(new Uint8Array(3).fill(7)); // 1 + 3 → 4
  w.bytes(new Uint8Array(253).fill(1)); // 1 + 253 → 256 (254 → padded)
  w.bytes(new Uint8Array(254).fill(2)); // 0xfe + 3 + 254 → 260
  w.string('héllo');
  w.long(-1n);
  w.long(0x8000000000000000n); // written as its signed 64-bit pattern
  const out = w.finish();
  assert.equal(hex(out.subarray(0, 4)), '03070707');
  assert.equal(out[4], 253);
  assert.equal(out[4 + 256], 0xfe);
  assert.equal(hex(out.subarray(4 + 256, 4 + 256 + 4)), 'fefe0000');
  const r = new TlReader(out);
  assert.deepEqual(r.bytes(), new Uint8Array(3).fill(7));
  assert.equal(r.bytes().length, 253);
  assert.equal(r.offset, 4 + 256);
  assert.deepEqual(r.bytes(), new Uint8Array(254).fill(2));
  assert.equal(r.offset, 4 + 256 + 260);
  assert.equal(r.string(), 'héllo');
  assert.equal(r.long(), -1n);
  assert.equal(r.long(), -(1n << 63n));
  assert.equal(r.remaining, 0);
  assert.throws(
    () => r.int(),
    (e: unknown) => e instanceof TlDecodeError && /offset 544/.test(e.message) && /int/.test(e.message),
  );
});

test('auth.sendCode round trip; method call decode', () => {
  const call: TlObject = {
    _: 'auth.sendCode',
    phone_number: '+9996621234',
    api_id: 12345,
    api_hash: '0123456789abcdef',
    settings: { _: 'codeSettings', allow_flashcall: true, current_number: true, logout_tokens: [unhex('aabb')], token: 't', app_sandbox: false },
  };
  const bytes = codec.encode(call);
  assert.equal(u32(bytes, 0), fullSchema().methodByName('auth.sendCode')!.id);
  const back = codec.decode(bytes);
  assert.deepEqual(back, call);
  // the codeSettings flags: bits 0, 1, 6 (logout_tokens) and 8 (token, app_sandbox)
  const settingsAt = 4 + 12 + 4 + 20; // id, phone (1+11), api_id, api_hash (1+16 → 20)
  assert.equal(u32(bytes, settingsAt), fullSchema().constructorByName('codeSettings')!.id);
  assert.equal(u32(bytes, settingsAt + 4), 0b1_0100_0011);
  assert.equal(codec.returnTypeOf('auth.sendCode'), 'auth.SentCode');
});

const USER: TlObject = {
  _: 'user',
  self: true,
  bot: true,
  premium: true,
  bot_can_edit: true,
  bot_guard: true,
  id: 7000000001n,
  access_hash: -5n,
  first_name: 'Ann',
  username: 'ann',
  photo: { _: 'userProfilePhoto', has_video: true, photo_id: 99n, stripped_thumb: unhex('0102'), dc_id: 2 },
  status: { _: 'userStatusOnline', expires: 1700000000 },
  bot_info_version: 3,
  usernames: [{ _: 'username', active: true, username: 'ann2' }],
  color: { _: 'peerColor', color: 5 },
  send_paid_messages_stars: 10n,
};

test('user with flags and flags2 round trips; bits computed from present fields', () => {
  const bytes = codec.encode(USER);
  assert.deepEqual(codec.decode(bytes), USER);
  const flags = u32(bytes, 4);
  const flags2 = u32(bytes, 8);
  const bit = (...b: number[]) => b.reduce((a, n) => (a | (1 << n)) >>> 0, 0);
  // self 10, bot 14 (and bot_info_version 14), premium 28, access_hash 0, first_name 1, username 3, photo 5, status 6
  assert.equal(flags, bit(10, 14, 28, 0, 1, 3, 5, 6));
  // usernames 0, bot_can_edit 1, color 8, send_paid_messages_stars 15, bot_guard 20
  assert.equal(flags2, bit(0, 1, 8, 15, 20));
  // a `true` flag set to false is simply absent
  const off = codec.decode(codec.encode({ ...USER, self: false }));
  assert.equal('self' in off, false);
});

test('config with a dcOption vector round trips (flags incl. secret bit 10)', () => {
  const config: TlObject = {
    _: 'config',
    force_try_ipv6: true,
    date: 1,
    expires: 2,
    test_mode: true,
    this_dc: 2,
    dc_options: [
      { _: 'dcOption', id: 1, ip_address: '127.0.0.1', port: 10001 },
      { _: 'dcOption', ipv6: true, media_only: true, static: true, id: 2, ip_address: '::1', port: 10002, secret: unhex('00112233') },
    ],
    dc_txt_domain_name: 'apv3.stel.com',
    chat_size_max: 200,
    megagroup_size_max: 200000,
    forwarded_count_max: 100,
    online_update_period_ms: 210000,
    offline_blur_timeout_ms: 5000,
    offline_idle_timeout_ms: 30000,
    online_cloud_timeout_ms: 300000,
    notify_cloud_delay_ms: 30000,
    notify_default_delay_ms: 1500,
    push_chat_period_ms: 60000,
    push_chat_limit: 2,
    edit_time_limit: 172800,
    revoke_time_limit: 2147483647,
    revoke_pm_time_limit: 2147483647,
    rating_e_decay: 2419200,
    stickers_recent_limit: 200,
    channels_read_media_period: 604800,
    tmp_sessions: 3,
    call_receive_timeout_ms: 20000,
    call_ring_timeout_ms: 90000,
    call_connect_timeout_ms: 30000,
    call_packet_timeout_ms: 10000,
    me_url_prefix: 'https://t.me/',
    caption_length_max: 1024,
    message_length_max: 4096,
    webfile_dc_id: 4,
    reactions_default: { _: 'reactionEmoji', emoticon: '👍' },
  };
  const bytes = codec.encode(config);
  const back = codec.decode(bytes) as TlObject;
  assert.deepEqual(back, config);
  const opts = back.dc_options as TlObject[];
  assert.equal(opts[1]!.secret instanceof Uint8Array, true);
  // via decodeValue on the method's return type too
  assert.deepEqual(codec.decodeValue(codec.returnTypeOf('help.getConfig'), bytes), config);
  // dcOption #2 flags: ipv6 0, media_only 1, static 4, secret 10
  const d2 = codec.encodeValue('DcOption', opts[1]);
  assert.equal(u32(d2, 4), 0b100_0001_0011);
});

test('messages.getHistory encodes to hand-built bytes and back', () => {
  const call = {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerUser', user_id: 42n, access_hash: -1n },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 20,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  };
  const w = new TlWriter();
  w.uint(0x4423e6c5);
  w.uint(0xdde8a54c);
  w.long(42n);
  w.long(-1n);
  for (const n of [0, 0, 0, 20, 0, 0]) w.int(n);
  w.long(0n);
  const expected = w.finish();
  assert.equal(hex(codec.encode(call)), hex(expected));
  assert.deepEqual(codec.decode(expected), call);
  assert.equal(codec.returnTypeOf('messages.getHistory'), 'messages.Messages');
});

test('upload.file with 1 MiB bytes: round trip, zero-copy decode, fast', () => {
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = i >>> 12;
  big[big.length - 1] = 0x5a;
  const obj = { _: 'upload.file', type: { _: 'storage.filePartial' }, mtime: 1700000000, bytes: big };
  const t0 = performance.now();
  let bytes!: Uint8Array;
  let back!: TlObject;
  for (let i = 0; i < 5; i++) {
    bytes = codec.encode(obj);
    back = codec.decodeValue('upload.File', bytes) as TlObject;
  }
  const ms = (performance.now() - t0) / 5;
  assert.equal(bytes.length, 4 + 4 + 4 + 4 + (1 << 20));
  assert.equal(bytes[12], 0xfe);
  const got = back.bytes as Uint8Array;
  assert.equal(got.length, big.length);
  assert.ok(Buffer.from(got).equals(Buffer.from(big)));
  assert.equal(got.buffer, bytes.buffer, 'decoded bytes are a view into the input');
  assert.ok(ms < 100, `1 MiB encode+decode took ${ms.toFixed(1)} ms`);
});

test('Vector<long> and Vector<User> results via decodeValue; Bool', () => {
  const ids = [1n, -2n, 9007199254740993n];
  const enc = codec.encodeValue('Vector<long>', ids);
  assert.equal(u32(enc, 0), VECTOR_ID);
  assert.equal(u32(enc, 4), 3);
  assert.deepEqual(codec.decodeValue('Vector<long>', enc), ids);
  const users = [USER, { _: 'userEmpty', id: 5n }];
  assert.deepEqual(codec.decodeValue(codec.returnTypeOf('users.getUsers'), codec.encodeValue('Vector<User>', users)), users);
  assert.equal(hex(codec.encodeValue('Bool', true)), 'b5757299');
  assert.equal(codec.decodeValue('Bool', unhex('379779bc')), false);
  assert.deepEqual(codec.decodeValue('vector<int>', unhex('02000000 01000000 02000000')), [1, 2]);
});

test('returnTypeOf sees through invokeWithLayer/initConnection', () => {
  const call = {
    _: 'invokeWithLayer',
    layer: 227,
    query: {
      _: 'initConnection',
      api_id: 1,
      device_model: 'd',
      system_version: 's',
      app_version: '1',
      system_lang_code: 'en',
      lang_pack: '',
      lang_code: 'en',
      query: { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] },
    },
  };
  assert.equal(codec.returnTypeOf(call), 'Vector<User>');
  assert.equal(codec.returnTypeOf('invokeWithLayer'), 'X');
  assert.deepEqual(codec.decode(codec.encode(call)), call);
  assert.equal(codec.innerQuery(call)._, 'users.getUsers');
});

test('msg_container with two messages round trips; bytes computed', () => {
  const container = {
    _: 'msg_container',
    messages: [
      { _: 'message', msg_id: 0x51e57ac42770964an, seqno: 1, bytes: 12, body: { _: 'ping', ping_id: 77n } },
      { _: 'message', msg_id: 0x51e57ac42770964en, seqno: 2, bytes: 28, body: { _: 'msgs_ack', msg_ids: [1n, 2n] } },
    ],
  };
  const { bytes: _b0, ...m0 } = container.messages[0]!;
  const { bytes: _b1, ...m1 } = container.messages[1]!;
  const enc = codec.encode({ _: 'msg_container', messages: [m0, m1] }); // bytes may be left out
  assert.equal(u32(enc, 0), 0x73f1f8dc);
  assert.equal(u32(enc, 4), 2);
  assert.equal(u32(enc, 8 + 12), 12); // first message's bytes field
  assert.equal(enc.length, 8 + (16 + 12) + (16 + 28));
  assert.deepEqual(codec.decode(enc), container);
  // also through the MTProto-only schema
  assert.deepEqual(new TlCodec(mtprotoSchema()).decode(enc), container);
  // a body whose length disagrees with `bytes` is caught
  const bad = enc.slice();
  new DataView(bad.buffer).setInt32(8 + 12, 8, true);
  assert.throws(
    () => codec.decode(bad),
    (e: unknown) => e instanceof TlDecodeError && /messages\[0\]\.body/.test(e.message),
  );
});

test('gzip_packed is inflated transparently (decode, rpc_result, decodeValue)', () => {
  const pong = { _: 'pong', msg_id: 5n, ping_id: 6n };
  const packed = codec.encode({ _: 'gzip_packed', packed_data: gzipSync(codec.encode(pong)) });
  assert.equal(u32(packed, 0), 0x3072cfa1);
  assert.deepEqual(codec.decode(packed), pong);
  const users = [USER];
  const rpc = codec.encode({
    _: 'rpc_result',
    req_msg_id: 9n,
    result: {
      _: 'gzip_packed',
      packed_data: gzipSync(codec.encode({ _: 'auth.sentCode', type: { _: 'auth.sentCodeTypeSms', length: 5 }, phone_code_hash: 'h' })),
    },
  });
  assert.deepEqual(codec.decode(rpc), {
    _: 'rpc_result',
    req_msg_id: 9n,
    result: { _: 'auth.sentCode', type: { _: 'auth.sentCodeTypeSms', length: 5 }, phone_code_hash: 'h' },
  });
  const gzVec = codec.encode({ _: 'gzip_packed', packed_data: gzipSync(codec.encodeValue('Vector<User>', users)) });
  assert.deepEqual(codec.decodeValue('Vector<User>', gzVec), users);
  const broken = codec.encode({ _: 'gzip_packed', packed_data: unhex('1f8b0800') });
  assert.throws(
    () => codec.decode(broken),
    (e: unknown) => e instanceof TlDecodeError && /gzip/.test(e.message),
  );
});

test('rpc_result: Bool and Vector results (vector stays serialized for decodeValue with the return type)', () => {
  const r1 = codec.decode(codec.encode({ _: 'rpc_result', req_msg_id: 1n, result: true }));
  assert.equal(r1.result, true);
  const vec = codec.encodeValue('Vector<long>', [3n, 4n]);
  const r2 = codec.decode(codec.encode({ _: 'rpc_result', req_msg_id: 2n, result: vec }));
  assert.ok(r2.result instanceof Uint8Array);
  assert.deepEqual(codec.decodeValue('Vector<long>', r2.result as Uint8Array), [3n, 4n]);
  // arrays given for an Object field are written as boxed vectors
  const r3 = codec.decode(codec.encode({ _: 'rpc_result', req_msg_id: 3n, result: [5n] }));
  assert.deepEqual(codec.decodeValue('Vector<long>', r3.result as Uint8Array), [5n]);
  const err = { _: 'rpc_result', req_msg_id: 4n, result: { _: 'rpc_error', error_code: 303, error_message: 'PHONE_MIGRATE_2' } };
  assert.deepEqual(codec.decode(codec.encode(err)), err);
});

test('decode errors: truncated input and unknown ids give clear TlDecodeErrors', () => {
  const bytes = codec.encode(USER);
  for (const cut of [0, 3, 4, 9, 20, bytes.length - 1]) {
    assert.throws(
      () => codec.decode(bytes.subarray(0, cut)),
      (e: unknown) => e instanceof TlDecodeError && /offset \d+/.test(e.message),
      `cut at ${cut}`,
    );
  }
  // deep truncation names the field path
  assert.throws(
    () => codec.decode(bytes.subarray(0, bytes.length - 2)),
    (e: unknown) => e instanceof TlDecodeError && e.path.length > 0 && e.message.includes(e.path),
  );
  assert.throws(
    () => codec.decode(unhex('efbeadde00000000')),
    (e: unknown) => e instanceof TlDecodeError && /0xdeadbeef/.test(e.message) && /offset 0/.test(e.message),
  );
  const nested = codec.encode({ _: 'rpc_result', req_msg_id: 1n, result: { _: 'pong', msg_id: 1n, ping_id: 2n } });
  new DataView(nested.buffer).setUint32(12, 0xdeadbeef, true);
  assert.throws(
    () => codec.decode(nested),
    (e: unknown) => e instanceof TlDecodeError && /0xdeadbeef/.test(e.message) && /offset 12/.test(e.message) && e.path === 'result',
  );
  // a huge vector count does not allocate or hang
  assert.throws(() => codec.decodeValue('Vector<long>', unhex('15c4b51c ffffff7f')), /invalid vector length/);
  // bytes longer than the data
  assert.throws(() => codec.decodeValue('bytes', unhex('fe000100 00')), /runs past the end/);
});

test('encode errors name the path and the expected type', () => {
  const check = (obj: TlObject, path: string, expected: RegExp) =>
    assert.throws(
      () => codec.encode(obj),
      (e: unknown) => e instanceof TlEncodeError && e.path === path && expected.test(e.expected) && e.message.includes(path),
    );
  check({ _: 'users.getUsers', id: [{ _: 'inputUser', user_id: 5n }] }, 'id[0].access_hash', /long/);
  check({ ...USER, photo: { _: 'userProfilePhoto', dc_id: 2 } }, 'photo.photo_id', /long/);
  check({ ...USER, id: 5 }, 'id', /long/);
  check({ ...USER, first_name: 5 }, 'first_name', /string/);
  check({ ...USER, status: { _: 'inputPeerSelf' } }, 'status._', /UserStatus/);
  check({ ...USER, nickname: 'x' }, 'nickname', /first_name/);
  check({ _: 'req_pq_multi', nonce: new Uint8Array(15) }, 'nonce', /int128/);
  check({ _: 'messages.getHistory', peer: { _: 'inputPeerSelf' }, offset_id: 1.5 } as TlObject, 'offset_id', /int/);
  // user.bot and bot_info_version share flags.14: setting one requires the other
  check({ _: 'user', bot: true, id: 1n }, 'bot_info_version', /int/);
  assert.throws(() => codec.encode({ _: 'user', bot: true, id: 1n }), /required because bot sets flags\.14/);
  assert.throws(() => codec.encode({ _: 'noSuchThing' }), /unknown constructor or method noSuchThing/);
  assert.throws(() => codec.encode({ ...USER, photo: { _: 'userProfilePhoto', dc_id: 2 } }), /user\.photo\.photo_id/);
});

test('lenient mode: zero values for missing required fields, unknown fields ignored', () => {
  const enc = lenient.encode({ _: 'messages.getHistory', limit: 5, future_field: 'x' });
  assert.deepEqual(codec.decode(enc), {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerEmpty' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 5,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  const file = codec.decode(lenient.encode({ _: 'upload.file', mtime: 1 }));
  assert.deepEqual(file, { _: 'upload.file', type: { _: 'storage.fileUnknown' }, mtime: 1, bytes: new Uint8Array(0) });
  assert.deepEqual(codec.decode(lenient.encode({ _: 'user', bot: true, id: 1n })), { _: 'user', bot: true, id: 1n, bot_info_version: 0 });
  const cfg = codec.decode(lenient.encode({ _: 'config', date: 3 })) as TlObject;
  assert.deepEqual(cfg.dc_options, []);
  assert.equal(cfg.test_mode, false);
  assert.equal(cfg.dc_txt_domain_name, '');
  const pq = codec.decode(lenient.encode({ _: 'p_q_inner_data' })) as TlObject;
  assert.deepEqual(pq.new_nonce, new Uint8Array(32));
  // no constructor without required params → still an error
  assert.deepEqual(codec.decodeValue('DcOption', lenient.encodeValue('DcOption', { _: 'dcOption', id: 1 })), { _: 'dcOption', id: 1, ip_address: '', port: 0 });
  assert.throws(
    () => lenient.encode({ _: 'inputMediaGame' }),
    (e: unknown) => e instanceof TlEncodeError && e.path === 'id' && /InputGame/.test(e.expected),
  );
  // the first constructor of the type without required params is used
  const sent = codec.decode(lenient.encode({ _: 'auth.sentCode', phone_code_hash: 'x' }));
  assert.deepEqual(sent.type, { _: 'auth.sentCodeTypeSetUpEmailRequired' });
  assert.throws(() => lenient.encode({ _: 'noSuchCtor' }), /unknown constructor or method/);
  // a constructor the layer lacks, in a typed field, becomes that type's empty constructor
  assert.deepEqual(codec.decode(lenient.encode({ _: 'upload.file', type: { _: 'storage.fileFromTheFuture' }, mtime: 1, bytes: new Uint8Array(1) })).type, {
    _: 'storage.fileUnknown',
  });
  assert.throws(() => codec.encode({ _: 'upload.file', type: { _: 'storage.fileFromTheFuture' }, mtime: 1, bytes: new Uint8Array(1) }), /type\._/);
  assert.throws(() => lenient.encode({ _: 'rpc_result', req_msg_id: 1n }), /missing required field/);
  // the strict codec refuses the same input
  assert.throws(() => codec.encode({ _: 'messages.getHistory', limit: 5 }), /peer/);
});

test('lenient mode keeps an unknown message body serialized inside a container', () => {
  const w = new TlWriter();
  w.uint(0x73f1f8dc);
  w.int(2);
  w.long(10n);
  w.int(1);
  w.int(8);
  w.uint(0xdeadbeef);
  w.int(0);
  const ping = codec.encode({ _: 'ping', ping_id: 1n });
  w.long(12n);
  w.int(3);
  w.int(ping.length);
  w.raw(ping);
  const data = w.finish();
  const got = lenient.decode(data) as unknown as { messages: TlObject[] };
  assert.equal(hex(got.messages[0]!.body as Uint8Array), 'efbeadde00000000');
  assert.deepEqual(got.messages[1]!.body, { _: 'ping', ping_id: 1n });
  assert.throws(() => codec.decode(data), /0xdeadbeef/);
});

test('corrupted input never crashes with anything but a TlDecodeError', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const samples = [
    codec.encode(USER),
    codec.encode({ _: 'msg_container', messages: [{ _: 'message', msg_id: 1n, seqno: 1, body: { _: 'ping', ping_id: 2n } }] }),
    codec.encode({ _: 'rpc_result', req_msg_id: 1n, result: { _: 'gzip_packed', packed_data: gzipSync(codec.encode(USER)) } }),
  ];
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const src = samples[i % samples.length]!;
    const data = src.slice(0, 1 + rnd(src.length));
    for (let k = 0; k < 1 + rnd(3); k++) data[rnd(data.length)] = rnd(256);
    try {
      codec.decode(data);
    } catch (e) {
      errors++;
      if (!(e instanceof TlDecodeError)) assert.fail(`iteration ${i}: ${String(e)}`);
    }
  }
  assert.ok(errors > 1000, `only ${errors} corrupted inputs were rejected`);
});
