// Sandbox files with an unmodified mtcute (layer 227): history of the seeded media and downloads on DCs 1, 3 and 2
// (mtcute follows the file's dc_id with export/import; it has no CDN support, so cdn-small comes from DC 2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startInteropSandbox, type InteropSandbox } from '../interop/helpers/sandbox';
import { makeMtcuteClient, mtcuteStart, type MtcuteHandle } from '../interop/helpers/mtcute';

let s: InteropSandbox;
let m: MtcuteHandle;

before(async () => {
  s = await startInteropSandbox();
  m = await makeMtcuteClient(s, {});
  await mtcuteStart(m, '9996621234', '22222');
});

after(async () => {
  await m?.destroy();
  await s?.stop();
});

test('mtcute: getHistory(me) and downloadAsBuffer of seeded files are byte-identical', { timeout: 60_000 }, async () => {
  const hist = await m.tg.getHistory('me', { limit: 20 });
  assert.deepEqual(
    hist.map((x) => x.id),
    [7, 6, 5, 4, 3, 2, 1],
  );
  const files = s.sb.files();
  for (const [id, key] of [
    [1, 'small-dc1'],
    [2, 'medium-dc3'],
    [6, 'cdn-small'],
    [4, 'photo-dc2'],
  ] as const) {
    const msg = hist.find((x) => x.id === id)!;
    const buf = await m.tg.downloadAsBuffer(msg.media as never);
    const f = files.find((x) => x.key === key)!;
    assert.equal(createHash('sha256').update(buf).digest('hex'), f.sha256, key);
  }
});
