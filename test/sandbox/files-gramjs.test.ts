// Sandbox files with an unmodified GramJS (layer 198): saved-messages history, then downloads of seeded files on DCs 1, 2
// and 3 (GramJS follows the file's dc_id with its own export/import) and an upload: byte-identical (sha256).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startInteropSandbox, type InteropSandbox } from '../interop/helpers/sandbox';
import { CustomFile } from 'telegram/client/uploads';
import { makeGramjsClient, gramjsStart, type Api, type GramjsHandle } from '../interop/helpers/gramjs';

let s: InteropSandbox;
let g: GramjsHandle;

before(async () => {
  s = await startInteropSandbox();
  // 'full' (GramJS's default): GramJS's plain abridged reader (PromisedNetSockets.read) returns what is buffered,
  // not exactly n bytes, so it cannot read frames bigger than one socket read (a client-side limitation).
  g = makeGramjsClient(s, { transport: 'full' });
  await gramjsStart(g, '9996621234', '22222');
});

after(async () => {
  await g?.destroy();
  await s?.stop();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const info = (key: string) => s.sb.files().find((f) => f.key === key)!;

test('GramJS: getMessages(me) lists the seeded media with their dc_id', { timeout: 30_000 }, async () => {
  const msgs = await g.client.getMessages('me', { limit: 20 });
  assert.deepEqual(
    [...msgs].map((m) => m.id),
    [7, 6, 5, 4, 3, 2, 1],
  );
  const doc = msgs.find((m) => m.id === 2)!.media as Api.MessageMediaDocument;
  assert.equal((doc.document as Api.Document).dcId, 3);
  const photo = msgs.find((m) => m.id === 4)!.media as Api.MessageMediaPhoto;
  assert.deepEqual(
    (photo.photo as Api.Photo).sizes.map((x) => (x as Api.PhotoSize).type),
    ['s', 'm', 'x', 'y'],
  );
});

test('GramJS: downloadMedia of seeded files on DCs 1, 3, 2 (photo) is byte-identical', { timeout: 60_000 }, async () => {
  const msgs = await g.client.getMessages('me', { limit: 20 });
  for (const [id, key] of [
    [1, 'small-dc1'],
    [2, 'medium-dc3'],
    [6, 'cdn-small'],
  ] as const) {
    const buf = (await g.client.downloadMedia(msgs.find((m) => m.id === id)!, {})) as Buffer;
    assert.equal(buf.length, info(key).size, key);
    assert.equal(sha(buf), info(key).sha256, key);
  }
  const photo = (await g.client.downloadMedia(msgs.find((m) => m.id === 4)!, {})) as Buffer;
  const y = info('photo-dc2').sizes!.find((x) => x.type === 'y')!;
  assert.equal(sha(photo), y.sha256);
});

test('GramJS: sendFile to me (a small upload) comes back in the history and downloads identical', { timeout: 60_000 }, async () => {
  const data = createHash('sha512').update('gramjs-upload').digest();
  const payload = Buffer.concat(Array.from({ length: 3000 }, () => data)); // 192 000 bytes
  const file = new CustomFile('up.bin', payload.length, '', payload);
  const sent = await g.client.sendFile('me', { file, forceDocument: true, caption: 'up' });
  const doc = (sent.media as Api.MessageMediaDocument).document as Api.Document;
  assert.equal(doc.dcId, 2);
  const back = (await g.client.downloadMedia(sent, {})) as Buffer;
  assert.equal(sha(back), sha(payload));
  const msgs = await g.client.getMessages('me', { limit: 1 });
  assert.equal(msgs[0]!.id, sent.id);
});
