import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullSchema } from '../../src/tl/bundled';
import { TlCodec } from '../../src/tl/codec';
import { TlJsonError, tlFromJson, tlToJson } from '../../src/tl/json';
import type { TlObject } from '../../src/tl/types';

const schema = fullSchema();
const codec = new TlCodec(schema);

test('tlToJson without a schema: bigint → decimal string, Uint8Array → base64', () => {
  assert.deepEqual(tlToJson({ _: 'x', a: -5n, b: new Uint8Array([1, 2, 3]), c: [1n, { d: 2 }], e: undefined }), {
    _: 'x',
    a: '-5',
    b: 'AQID',
    c: ['1', { d: 2 }],
  });
});

test('tlToJson with a schema: int128/int256 → hex, nested and vector values typed', () => {
  const nonce = new Uint8Array(16).map((_, i) => i);
  assert.deepEqual(tlToJson({ _: 'req_pq_multi', nonce }, schema), { _: 'req_pq_multi', nonce: '000102030405060708090a0b0c0d0e0f' });
  const user = { _: 'user', id: 9007199254740993n, photo: { _: 'userProfilePhoto', photo_id: -1n, stripped_thumb: new Uint8Array([255]), dc_id: 1 } };
  assert.deepEqual(tlToJson(user, schema), {
    _: 'user',
    id: '9007199254740993',
    photo: { _: 'userProfilePhoto', photo_id: '-1', stripped_thumb: '/w==', dc_id: 1 },
  });
  assert.deepEqual(tlToJson([1n, 2n], schema, 'Vector<long>'), ['1', '2']);
  assert.deepEqual(tlToJson(new Uint8Array(32), schema, 'int256'), '0'.repeat(64));
  const container = { _: 'msg_container', messages: [{ _: 'message', msg_id: 4n, seqno: 1, bytes: 12, body: { _: 'ping', ping_id: 3n } }] };
  assert.deepEqual(tlToJson(container, schema), {
    _: 'msg_container',
    messages: [{ _: 'message', msg_id: '4', seqno: 1, bytes: 12, body: { _: 'ping', ping_id: '3' } }],
  });
});

test('tlFromJson builds internal values that encode, and round trips through tlToJson', () => {
  const json = {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerUser', user_id: '123456789012', access_hash: -77 },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 20,
    max_id: 0,
    min_id: 0,
    hash: '0',
  };
  const v = tlFromJson(schema, json) as TlObject;
  assert.deepEqual(v.peer, { _: 'inputPeerUser', user_id: 123456789012n, access_hash: -77n });
  assert.equal(v.hash, 0n);
  assert.deepEqual(codec.decode(codec.encode(v)), v);
  assert.deepEqual(tlToJson(v, schema), { ...json, peer: { ...json.peer, access_hash: '-77' } });

  const sendCode = tlFromJson(schema, {
    _: 'auth.sendCode',
    phone_number: '+999',
    api_id: 1,
    api_hash: 'h',
    settings: { _: 'codeSettings', allow_flashcall: true, current_number: false, logout_tokens: ['AQI='], flags: 0 },
  }) as TlObject;
  assert.deepEqual(sendCode.settings, { _: 'codeSettings', allow_flashcall: true, logout_tokens: [new Uint8Array([1, 2])] });
  const dh = tlFromJson(schema, { _: 'req_pq_multi', nonce: 'ff'.repeat(16) }) as TlObject;
  assert.deepEqual(dh.nonce, new Uint8Array(16).fill(255));
  assert.deepEqual(tlFromJson(schema, ['1', 2, '-9223372036854775808'], 'Vector<long>'), [1n, 2n, -(1n << 63n)]);
  assert.equal(tlFromJson(schema, true, 'Bool'), true);
  // unsigned decimal form of a 64-bit value is accepted and stored signed
  assert.equal(tlFromJson(schema, '18446744073709551615', 'long'), -1n);
  // optional fields given as null are left out
  assert.deepEqual(tlFromJson(schema, { _: 'peerColor', color: null, background_emoji_id: '5' }), { _: 'peerColor', background_emoji_id: 5n });
});

function expectJsonError(json: unknown, path: string, expected: RegExp, type?: string): void {
  assert.throws(
    () => tlFromJson(schema, json, type),
    (e: unknown) => {
      assert.ok(e instanceof TlJsonError, String(e));
      assert.equal(e.path, path);
      assert.match(e.expected, expected);
      assert.ok(e.message.includes(path || '(root)'));
      return true;
    },
  );
}

test('tlFromJson validation errors name the path and the expected type', () => {
  const base = {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 20,
    max_id: 0,
    min_id: 0,
    hash: '0',
  };
  // missing required field inside an object
  expectJsonError({ ...base, peer: { _: 'inputPeerUser', access_hash: '1' } }, 'peer.user_id', /^long \(decimal string or integer\)$/);
  // wrong JSON type
  expectJsonError({ ...base, peer: { _: 'inputPeerUser', user_id: 'abc', access_hash: '1' } }, 'peer.user_id', /long/);
  expectJsonError({ ...base, limit: '20' }, 'limit', /^int/);
  expectJsonError({ ...base, hash: 1.5 }, 'hash', /long/);
  // constructor of another type
  expectJsonError({ ...base, peer: { _: 'peerUser', user_id: '1' } }, 'peer._', /InputPeer/);
  // unknown constructor / method / field
  expectJsonError({ ...base, peer: { _: 'inputPeerNobody' } }, 'peer._', /InputPeer/);
  expectJsonError({ _: 'messages.noSuchMethod' }, '_', /constructor or method/);
  expectJsonError({ ...base, colour: 1 }, 'colour', /fields of messages\.getHistory: .*offset_id/);
  // missing `_`
  expectJsonError({ ...base, peer: { user_id: '1' } }, 'peer._', /InputPeer/);
  expectJsonError(5, '', /object/);
  // vectors, bytes, int128, Bool, true flags
  expectJsonError({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }, { _: 'inputUser', user_id: '1', access_hash: {} }] }, 'id[1].access_hash', /long/);
  expectJsonError({ _: 'users.getUsers', id: {} }, 'id', /Vector<InputUser> \(array\)/);
  expectJsonError({ _: 'upload.file', type: { _: 'storage.fileJpeg' }, mtime: 1, bytes: '***' }, 'bytes', /base64/);
  expectJsonError({ _: 'req_pq_multi', nonce: 'abcd' }, 'nonce', /int128 \(32 hex digits\)/);
  expectJsonError({ _: 'config', test_mode: 'yes' }, 'date', /int/); // the first missing field comes first
  expectJsonError({ _: 'codeSettings', allow_flashcall: 1 }, 'allow_flashcall', /true/);
  expectJsonError(['x'], '[0]', /long/, 'Vector<long>');
  expectJsonError('99999999999999999999', '', /long/, 'long');
  expectJsonError({ _: 'boolTrue' }, '', /Bool/, 'Bool');
  // a flag bit shared with a present field makes the other field required
  expectJsonError({ _: 'user', bot: true, id: '1' }, 'bot_info_version', /^int/);
});
