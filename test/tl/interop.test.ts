// Cross-checks against GramJS (layer 198): bytes we write are read by GramJS and the other way round, and a
// lenient layer-198 codec serves objects of the layer-227 world (what the sandbox does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSchema, schemaFromTlText } from '../../src/tl/bundled';
import { TlCodec, TlEncodeError } from '../../src/tl/codec';
import type { TlObject } from '../../src/tl/types';

/* eslint-disable @typescript-eslint/no-explicit-any */
const gramjsApiTl: string = require('telegram/tl/apiTl.js');
const { Api } = require('telegram/tl') as { Api: any };
const { BinaryReader } = require('telegram/extensions') as { BinaryReader: any };
const bigInt = require('big-integer') as (v: number | string) => any;

const schema198 = schemaFromTlText(gramjsApiTl, 198);
const strict198 = new TlCodec(schema198);
const lenient198 = new TlCodec(schema198, { lenient: true });

test('GramJS bytes decode with our codec (method call with nested object and longs)', () => {
  const req = new Api.messages.GetHistory({
    peer: new Api.InputPeerUser({ userId: bigInt('1234567890123'), accessHash: bigInt(-7) }),
    offsetId: 10,
    offsetDate: 0,
    addOffset: 0,
    limit: 20,
    maxId: 0,
    minId: 0,
    hash: bigInt(0),
  });
  const bytes = new Uint8Array(req.getBytes());
  assert.deepEqual(strict198.decode(bytes), {
    _: 'messages.getHistory',
    peer: { _: 'inputPeerUser', user_id: 1234567890123n, access_hash: -7n },
    offset_id: 10,
    offset_date: 0,
    add_offset: 0,
    limit: 20,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
});

test('our layer-198 bytes are read by GramJS; a lenient codec drops fields layer 198 lacks', () => {
  const user198 = schema198.constructorByName('user')!;
  const user227 = apiSchema().constructorByName('user')!;
  const newer = user227.params.filter((p) => p.type === 'true' && !user198.params.some((q) => q.name === p.name)).map((p) => p.name);
  assert.ok(newer.length > 0, 'layer 227 has user flags layer 198 lacks');
  const world: TlObject = {
    _: 'user',
    self: true,
    bot: true,
    id: 5n,
    access_hash: 6n,
    first_name: 'Ann',
    status: { _: 'userStatusOnline', expires: 3 },
    usernames: [{ _: 'username', active: true, username: 'ann' }],
  };
  for (const n of newer) world[n] = true;
  assert.throws(
    () => strict198.encode(world),
    (e: unknown) => e instanceof TlEncodeError && newer.includes(e.path),
  );
  const bytes = lenient198.encode(world);
  const o = new BinaryReader(Buffer.from(bytes)).tgReadObject();
  assert.equal(o.className, 'User');
  assert.equal(o.self, true);
  assert.equal(o.bot, true);
  assert.equal(o.botInfoVersion, 0, 'shares flags.14 with bot: filled with its zero value');
  assert.equal(o.firstName, 'Ann');
  assert.equal(o.id.toString(), '5');
  assert.equal(o.accessHash.toString(), '6');
  assert.equal(o.status.className, 'UserStatusOnline');
  assert.equal(o.status.expires, 3);
  assert.equal(o.usernames[0].username, 'ann');
  assert.equal(o.usernames[0].active, true);
});
