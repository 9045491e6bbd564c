// locationOf / locationFromJson without a server, and which errors a part is retried after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locationFromJson, locationOf } from '../../src/files/media';
import { isRetryable } from '../../src/files/download';
import { FileError } from '../../src/files/errors';
import { tlToJson } from '../../src/tl/json';
import { CallTimeoutError, RpcError, SessionClosedError, TransportError } from '../../src/mtproto/errors';
import { DcError } from '../../src/dc/errors';
import { LifecycleError } from '../../src/lifecycle/errors';

const doc = {
  _: 'document',
  id: 123n,
  access_hash: -5n,
  file_reference: new Uint8Array([9, 8]),
  date: 1,
  mime_type: 'application/pdf',
  size: 5000n,
  dc_id: 4,
  attributes: [{ _: 'documentAttributeFilename', file_name: 'a.pdf' }],
};

test('locationOf: documents (through message / messageMediaDocument) and JSON round trip', () => {
  const viaMsg = locationOf({ _: 'message', id: 7, media: { _: 'messageMediaDocument', document: doc } });
  assert.deepEqual(viaMsg, {
    location: { _: 'inputDocumentFileLocation', id: 123n, access_hash: -5n, file_reference: new Uint8Array([9, 8]), thumb_size: '' },
    dcId: 4,
    size: 5000,
    kind: 'document',
    name: 'a.pdf',
    mimeType: 'application/pdf',
  });
  const json = tlToJson(viaMsg.location);
  assert.deepEqual(json, { _: 'inputDocumentFileLocation', id: '123', access_hash: '-5', file_reference: 'CQg=', thumb_size: '' });
  assert.deepEqual(locationFromJson(JSON.stringify(json)), viaMsg.location);
  assert.throws(() => locationFromJson({ _: 'inputDocumentFileLocation', id: 'x' }));
});

test('locationOf: photos pick the biggest downloadable size, or a named one; bad media throw BAD_LOCATION', () => {
  const photo = {
    _: 'photo',
    id: 1n,
    access_hash: 2n,
    file_reference: new Uint8Array(1),
    date: 0,
    dc_id: 2,
    sizes: [
      { _: 'photoStrippedSize', type: 'i', bytes: new Uint8Array(3) },
      { _: 'photoSize', type: 'x', w: 1, h: 1, size: 900 },
      { _: 'photoSizeProgressive', type: 'y', w: 1, h: 1, sizes: [10, 400, 800] },
      { _: 'photoCachedSize', type: 'c', w: 1, h: 1, bytes: new Uint8Array(5000) },
    ],
  };
  const big = locationOf({ _: 'messageMediaPhoto', photo });
  assert.equal(big.thumb, 'x');
  assert.equal(big.size, 900);
  assert.equal(big.location._, 'inputPhotoFileLocation');
  assert.equal(big.location.thumb_size, 'x');
  assert.equal(locationOf(photo, { thumb: 'y' }).size, 800);
  const bad = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => e instanceof FileError && e.code === 'BAD_LOCATION');
  bad(() => locationOf(photo, { thumb: 'i' }));
  bad(() => locationOf({ _: 'messageMediaDocument' }));
  bad(() => locationOf({ _: 'messageMediaGeo' }));
});

test('isRetryable: connection trouble yes, server answers no', () => {
  assert.ok(isRetryable(new SessionClosedError('connection closed', 'upload.getFile', 2)));
  assert.ok(isRetryable(new TransportError(-429, 2)));
  assert.ok(isRetryable(new CallTimeoutError('upload.getFile', 2, 'timeout', 100)));
  assert.ok(isRetryable(new DcError('CONNECT_FAILED', 2, 'refused')));
  assert.ok(isRetryable(new Error('connect to 127.0.0.1:1: connect ECONNREFUSED')));
  assert.ok(isRetryable(new LifecycleError('TRANSFER_FAILED', 'x', { cause: new SessionClosedError('gone') })));
  assert.ok(!isRetryable(new LifecycleError('TRANSFER_FAILED', 'x', { cause: new RpcError(400, 'DC_ID_INVALID', 'auth.importAuthorization', 3) })));
  assert.ok(!isRetryable(new CallTimeoutError('upload.getFile', 2, 'aborted')));
  assert.ok(!isRetryable(new RpcError(400, 'LIMIT_INVALID', 'upload.getFile', 2)));
  assert.ok(!isRetryable(new DcError('CLOSED', 2, 'pool closed')));
});
