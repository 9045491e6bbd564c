// messages.sendMessage to Saved Messages: stored with the seeded media, answered with updateShortSentMessage,
// deduplicated by random_id per user; other peers → PEER_ID_INVALID. Over the World and over loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession } from '../../src/mtproto/client';
import { RpcError } from '../../src/mtproto/errors';
import { FileStore, fileMethods } from '../../src/sandbox/files';
import { SandboxApi, type SandboxCall } from '../../src/sandbox/api';
import { World } from '../../src/sandbox/world';
import { startSandbox } from '../../src/sandbox/index';
import type { TlObject } from '../../src/tl/types';
import { TOPOLOGY, getSelf, rejectsRpc, sendCode, signIn } from './helpers';

function lab(): { call(key: bigint, method: TlObject): Promise<unknown>; world: World } {
  const clock = { now: 1_750_000_000_000 };
  const world = new World({ now: () => clock.now });
  const api = new SandboxApi(world, { topology: () => TOPOLOGY, methods: fileMethods(new FileStore()) });
  return {
    world,
    call: (key, method) => api.handle({ method, layer: 227, dcId: 2, authKeyId: key, sessionId: 1n, msgId: 2n } satisfies SandboxCall),
  };
}

const send = (message: string, randomId: bigint, peer: TlObject = { _: 'inputPeerSelf' }): TlObject => ({
  _: 'messages.sendMessage',
  peer,
  message,
  random_id: randomId,
});
const history: TlObject = {
  _: 'messages.getHistory',
  peer: { _: 'inputPeerSelf' },
  offset_id: 0,
  offset_date: 0,
  add_offset: 0,
  limit: 100,
  max_id: 0,
  min_id: 0,
  hash: 0n,
};

async function loggedIn(l: ReturnType<typeof lab>, key: bigint, phone: string): Promise<void> {
  const sent = (await l.call(key, sendCode(phone))) as TlObject;
  await l.call(key, signIn(phone, sent.phone_code_hash as string, '22222'));
}

test('sendMessage to inputPeerSelf: updateShortSentMessage; getHistory lists it above the seeded media', async () => {
  const l = lab();
  await loggedIn(l, 1n, '9996621234');
  const r = (await l.call(1n, send('hello, me', 77n))) as TlObject;
  assert.equal(r._, 'updateShortSentMessage');
  assert.equal(r.out, true);
  assert.equal(r.id, 1001);
  assert.equal(r.pts_count, 1);
  assert.equal(typeof r.date, 'number');
  const h = (await l.call(1n, history)) as { messages: TlObject[] };
  assert.equal(h.messages[0]!.id, 1001);
  assert.equal(h.messages[0]!.message, 'hello, me');
  assert.equal(h.messages[0]!.media, undefined, 'a text message');
  assert.ok(
    h.messages.slice(1).every((m) => m.media),
    'the seeded media follow',
  );
  assert.equal(h.messages.length, 8);
});

test('the same random_id twice: one message, the same answer; a new random_id makes a new message', async () => {
  const l = lab();
  await loggedIn(l, 1n, '9996621234');
  const first = await l.call(1n, send('once', 5n));
  const again = await l.call(1n, send('once', 5n));
  assert.deepEqual(again, first);
  const texts = ((await l.call(1n, history)) as { messages: TlObject[] }).messages.filter((m) => m.message === 'once');
  assert.equal(texts.length, 1, 'exactly one message');
  const other = (await l.call(1n, send('once', 6n))) as TlObject;
  assert.equal(other.id, 1002);
  // random_ids are per user: another user's 5n is a new message of theirs
  l.world.registerUser('9996621235', 'Other');
  await loggedIn(l, 3n, '9996621235');
  assert.equal(((await l.call(3n, send('mine', 5n))) as TlObject).id, 1001);
});

test('peers: inputPeerUser of the caller is Saved Messages too; any other peer is PEER_ID_INVALID; empty text MESSAGE_EMPTY', async () => {
  const l = lab();
  await loggedIn(l, 1n, '9996621234');
  const me = l.world.userByPhone('9996621234')!;
  const r = (await l.call(1n, send('to me by id', 1n, { _: 'inputPeerUser', user_id: me.id, access_hash: me.accessHash }))) as TlObject;
  assert.equal(r._, 'updateShortSentMessage');
  const other = l.world.userByPhone('9996631234')!;
  await rejectsRpc(l.call(1n, send('hi', 2n, { _: 'inputPeerUser', user_id: other.id, access_hash: other.accessHash })), 400, 'PEER_ID_INVALID');
  await rejectsRpc(l.call(1n, send('hi', 3n, { _: 'inputPeerChat', chat_id: 5n })), 400, 'PEER_ID_INVALID');
  await rejectsRpc(l.call(1n, send('  ', 4n)), 400, 'MESSAGE_EMPTY');
  await rejectsRpc(l.call(9n, send('hi', 5n)), 401, 'AUTH_KEY_UNREGISTERED');
});

test('over loopback: two sends with one random_id decode as the same updateShortSentMessage and leave one message', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dclab-messages-'));
  const sb = await startSandbox({ basePort: 0, dataDir, ipv6: false, control: false, log: () => {} });
  try {
    const port = sb.info.dcs.find((d) => d.id === 4)!.port;
    const { session } = await openSession({ host: '127.0.0.1', port, dcId: 4, transport: 'intermediate', rsaKeys: [sb.rsaKey], callTimeoutMs: 5000 });
    try {
      const sent = (await session.invoke(sendCode('9996641234'))) as TlObject;
      await session.invoke(signIn('9996641234', sent.phone_code_hash as string, '44444'));
      const a = (await session.invoke(send('over the wire', 0x1234_5678_9abcn))) as TlObject;
      const b = (await session.invoke(send('over the wire', 0x1234_5678_9abcn))) as TlObject;
      assert.equal(a._, 'updateShortSentMessage');
      assert.deepEqual(b, a);
      const h = (await session.invoke(history)) as { messages: TlObject[] };
      assert.equal(h.messages.filter((m) => m.message === 'over the wire').length, 1);
      await assert.rejects(
        session.invoke(send('x', 1n, { _: 'inputPeerEmpty' })),
        (e: unknown) => e instanceof RpcError && e.errorMessage === 'PEER_ID_INVALID',
      );
      assert.equal(((await session.invoke(getSelf)) as TlObject[])[0]!.id, 7_000_041_234n);
    } finally {
      session.close();
    }
  } finally {
    await sb.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
