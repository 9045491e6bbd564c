// The fault scenarios. Each one logs in a fresh client, injects its fault through the in-process Sandbox knobs (the
// actions of `dclab sandbox ctl`) at moments drawn from the run's PRNG, and ends in success or in its documented
// error; the invariants are checked on the way (Violation = a failed run). Rule for reproducible choices: every
// draw happens in program order, before the concurrent part of the run starts.
import { downloadFile } from '../../src/files/download';
import { locationOf, sendUploadedMedia } from '../../src/files/media';
import { uploadFile } from '../../src/files/upload';
import { LifecycleError, type LifecycleErrorCode } from '../../src/lifecycle/errors';
import type { TlObject } from '../../src/tl/types';
import { createHash } from 'node:crypto';
import {
  check,
  checkDownloaded,
  checkFailedDownload,
  DC_IDS,
  savedTexts,
  seeded,
  sleep,
  Violation,
  type Run,
  type SeededFile,
  type SessionHandle,
} from './harness';

export type Outcome = { kind: 'success' } | { kind: 'error'; code: string };

export interface Scenario {
  name: string;
  /** What it does and how it must end. */
  summary: string;
  run(r: Run): Promise<Outcome>;
}

const SUCCESS: Outcome = { kind: 'success' };

/** Files of 1–3 DCs that are plain documents (no CDN): the download scenarios pick among them. */
const DOC_FILES = ['medium-dc3', 'small-dc4', 'small-dc1'] as const;
const PART_SIZES = [65536, 131072, 262144, 524288] as const;

function others(dc: number): number[] {
  return DC_IDS.filter((d) => d !== dc);
}

/** Awaits `p` and requires a LifecycleError with `code`; success or another error fails the run. */
async function expectLifecycleError(p: Promise<unknown>, code: LifecycleErrorCode, what: string): Promise<LifecycleError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LifecycleError && e.code === code) return e;
    throw e;
  }
  throw new Violation(`${what}: succeeded, expected LifecycleError ${code}`);
}

async function keyOf(s: SessionHandle, dc: number): Promise<bigint> {
  return (await s.client.pool.get(dc)).authKeyId;
}

function getSelf(s: SessionHandle, dcId?: number): Promise<TlObject[]> {
  return s.client.call<TlObject[]>({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, dcId !== undefined ? { dcId } : {});
}

/** Fault timers drawn up front: `count` moments in [lo, hi] ms, sorted. */
function moments(r: Run, label: string, count: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(r.rng.int(`${label}#${i}`, lo, hi));
  return out.sort((a, b) => a - b);
}

/** Runs fn at each moment (ms from now), in order. */
function schedule(r: Run, what: string, at: number[], fn: (i: number) => unknown): void {
  r.spawn(what, async () => {
    const t0 = Date.now();
    for (let i = 0; i < at.length; i++) {
      const wait = at[i]! - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
      await fn(i);
    }
  });
}

/** Seeded documents a download may pick: plain ones on DCs 1, 3, 4 and one served through the CDN DC. */
const DOWNLOAD_FILES = [...DOC_FILES, 'cdn-small'] as const;
const CDN_DC = 203;

/**
 * A part size for `f`: any valid one, but at least the CDN's 128 KiB hash range for a CDN file (64 KiB CDN parts fail
 * their hash check without any fault: a src/files issue of its own, kept out of these runs).
 */
function partSizeFor(r: Run, f: SeededFile): number {
  return r.rng.pick('partSize', f.cdn ? PART_SIZES.filter((p) => p >= 131072) : PART_SIZES);
}

/** Where a file's bytes come from: its DC, or the CDN DC for a CDN file. */
function dataDcOf(f: SeededFile): number {
  return f.cdn ? CDN_DC : f.dcId;
}

/** Downloads `f` to the run's folder; `fire` runs once per progress threshold in `at` (bytes) that is crossed. */
async function downloadWith(
  r: Run,
  s: SessionHandle,
  f: SeededFile,
  o: { partSize: number; parallel: number; at: number[]; fire: () => unknown },
): Promise<{ out: string; sha256: string }> {
  const out = r.out(`${f.key}-${r.rng.draws.length}.bin`);
  const at = [...o.at].sort((a, b) => a - b);
  let next = 0;
  const res = await downloadFile(s.client, {
    location: f.location,
    dcId: f.dcId,
    size: f.size,
    out,
    partSize: o.partSize,
    parallel: o.parallel,
    onProgress: (p) => {
      while (next < at.length && p.bytes >= at[next]!) {
        next++;
        o.fire();
      }
    },
  });
  return { out, sha256: res.sha256 };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'drop-during-call',
    summary:
      'sendMessage calls in flight while the home connection is cut (by timer, after N bytes, or armed before the login so the login calls meet it): each answered once, one message each',
    async run(r) {
      const mode = r.rng.pick('mode', ['timer', 'bytes', 'login'] as const);
      const home = r.rng.int('home', 1, 5);
      const firstDc = r.rng.int('firstDc', 1, 5);
      if (mode === 'login') r.sandbox.dropConnectionsAfterBytes(home, r.rng.int('loginDropAfterBytes', 100, 4000), r.rng.int('loginDrops', 1, 3));
      const s = await r.login({ home, firstDc });
      r.lab.clearAll();
      const latency = r.rng.int('latencyMs', 0, 300);
      const n = r.rng.int('sends', 1, 3);
      const drops = r.rng.int('drops', 1, 3);
      const at = mode !== 'bytes' ? moments(r, 'dropAtMs', drops, 0, latency + 80) : [];
      const bytes = mode === 'bytes' ? r.rng.int('dropAfterBytes', 40, 1500) : 0;
      r.sandbox.setLatency(s.home, latency);
      if (mode === 'bytes') r.sandbox.dropConnectionsAfterBytes(s.home, bytes, drops);
      const sends = Array.from({ length: n }, () => r.send(s));
      if (mode !== 'bytes') schedule(r, 'drops', at, () => r.sandbox.dropConnections(s.home));
      await Promise.allSettled(sends.map((h) => h.answer));
      await r.settleBackground();
      r.lab.clearAll();
      for (const h of sends) await r.checkSentOnce(s, h);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'drop-during-download',
    summary: 'connections of the file DC (or the CDN DC, or every DC) cut after N bytes, at random progress points and times: the download is byte-identical',
    async run(r) {
      const s = await r.login();
      const f = seeded(r.sandbox, r.rng.pick('file', DOWNLOAD_FILES));
      const dataDc = dataDcOf(f);
      const partSize = partSizeFor(r, f);
      const parallel = r.rng.int('parallel', 1, 4);
      const latency = r.rng.int('latencyMs', 0, 40);
      const everyDc = r.rng.bool('dropEveryDc', 0.3);
      const byteDrops = r.rng.int('byteDrops', 0, 3);
      const dropEvery = r.rng.int('dropEveryBytes', 20_000, Math.max(30_000, Math.floor(f.size / 2)));
      const progressDrops = moments(r, 'dropAtByte', r.rng.int('progressDrops', 0, 2), 0, f.size - 1);
      const timerDrops = moments(r, 'dropAtMs', r.rng.int('timerDrops', 0, 2), 0, 400);
      const drop = (): number => (everyDc ? r.sandbox.dropConnections() : r.sandbox.dropConnections(dataDc));
      if (dataDc !== CDN_DC) r.sandbox.setLatency(dataDc, latency);
      if (byteDrops) r.sandbox.dropConnectionsAfterBytes(dataDc, dropEvery, byteDrops);
      schedule(r, 'timer drops', timerDrops, drop);
      const res = await downloadWith(r, s, f, { partSize, parallel, at: progressDrops, fire: drop });
      await r.settleBackground();
      r.lab.clearAll();
      checkDownloaded(res.out, f, res.sha256);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'restart-dc-during-call',
    summary:
      'the DC of a waiting call, or of a running download (the CDN DC too), restarts (down 0–1500 ms): the call is answered once, the download byte-identical, the key kept',
    async run(r) {
      const s = await r.login();
      const during = r.rng.pick('during', ['call', 'download'] as const);
      const downMs = r.rng.int('downMs', 0, 1500);
      if (during === 'download') {
        const f = seeded(r.sandbox, r.rng.pick('file', DOWNLOAD_FILES));
        const dataDc = dataDcOf(f);
        const at = r.rng.int('restartAtByte', 0, Math.max(0, f.size - 1));
        const partSize = partSizeFor(r, f);
        let restart: Promise<void> | undefined;
        const res = await downloadWith(r, s, f, {
          partSize,
          parallel: r.rng.int('parallel', 1, 4),
          at: [at],
          fire: () => {
            restart = r.sandbox.restartDc(dataDc, downMs);
          },
        });
        await restart;
        r.lab.clearAll();
        checkDownloaded(res.out, f, res.sha256);
        await r.checkUsable(s);
        return SUCCESS;
      }
      const target = r.rng.bool('restartHome', 0.7) ? s.home : r.rng.pick('restartDc', others(s.home));
      const latency = r.rng.int('latencyMs', 0, 400);
      const restartAt = r.rng.int('restartAtMs', 0, latency + 50);
      if (target !== s.home) await getSelf(s, target);
      const key = await keyOf(s, target);
      r.sandbox.setLatency(target, latency);
      const send = r.send(s);
      const other = target !== s.home ? getSelf(s, target) : undefined;
      other?.catch(() => undefined);
      await sleep(restartAt);
      await r.sandbox.restartDc(target, downMs);
      r.lab.clearAll();
      if (other) check((await other).length === 1, `users.getUsers on DC${target} across the restart`);
      await r.checkSentOnce(s, send);
      check((await keyOf(s, target)) === key, `the DC${target} auth key changed across a restart`);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'move-dc-during-session',
    summary:
      'a DC in use moves to a new port (help.getConfig announces it), maybe with a call in flight or during a download from it: found again, same key, no new login',
    async run(r) {
      const s = await r.login();
      if (r.rng.bool('duringDownload', 0.3)) {
        const f = seeded(r.sandbox, r.rng.pick('file', DOC_FILES));
        const at = r.rng.int('moveAtByte', 0, f.size - 1);
        const partSize = partSizeFor(r, f);
        const parallel = r.rng.int('parallel', 1, 4);
        await getSelf(s, f.dcId);
        const key = await keyOf(s, f.dcId);
        let moving: Promise<unknown> | undefined;
        const res = await downloadWith(r, s, f, {
          partSize,
          parallel,
          at: [at],
          fire: () => {
            moving = r.sandbox.moveDc(f.dcId).then(() => r.sandbox.dropConnections(f.dcId));
          },
        });
        await moving;
        checkDownloaded(res.out, f, res.sha256);
        check((await getSelf(s, f.dcId)).length === 1, `users.getUsers on the moved DC${f.dcId}`);
        check((await keyOf(s, f.dcId)) === key, `the DC${f.dcId} auth key changed across a move`);
        await r.checkUsable(s);
        return SUCCESS;
      }
      const target = r.rng.bool('moveHome', 0.6) ? s.home : r.rng.pick('moveDc', others(s.home));
      const inFlight = r.rng.bool('callInFlight');
      const latency = inFlight ? r.rng.int('latencyMs', 50, 300) : 0;
      const moveAt = inFlight ? r.rng.int('moveAtMs', 0, latency) : 0;
      const dropAfter = r.rng.bool('dropAfterMove', 0.7);
      if (target !== s.home) await getSelf(s, target);
      const key = await keyOf(s, target);
      r.sandbox.setLatency(target, latency);
      const send = target === s.home && inFlight ? r.send(s) : undefined;
      const call = target !== s.home && inFlight ? getSelf(s, target) : undefined;
      call?.catch(() => undefined);
      await sleep(moveAt);
      const moved = await r.sandbox.moveDc(target);
      r.note(`DC${target} moved ${moved.from.port} → ${moved.to.port}`);
      if (dropAfter) r.sandbox.dropConnections(target);
      r.lab.clearAll();
      if (call) check((await call).length === 1, `users.getUsers on DC${target} across the move`);
      if (send) await r.checkSentOnce(s, send);
      check((await getSelf(s, target)).length === 1, `users.getUsers on the moved DC${target}`);
      check((await keyOf(s, target)) === key, `the DC${target} auth key changed across a move`);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'transport-404-once',
    summary: 'one −404 on the next connection of a DC in use (idle, during a call, or during a download from it): the key and the login are kept',
    async run(r) {
      const s = await r.login();
      const during = r.rng.pick('during', ['idle', 'call', 'download'] as const);
      if (during === 'download') {
        const f = seeded(r.sandbox, r.rng.pick('file', DOC_FILES));
        const at = r.rng.int('dropAtByte', 0, f.size - 1);
        const partSize = r.rng.pick('partSize', PART_SIZES);
        const parallel = r.rng.int('parallel', 1, 4);
        // the DC and its key first (a transfer when it is not home), then the fault
        await getSelf(s, f.dcId);
        const key = await keyOf(s, f.dcId);
        r.sandbox.injectTransportError(404, { dcId: f.dcId, count: 1 });
        const res = await downloadWith(r, s, f, { partSize, parallel, at: [at], fire: () => r.sandbox.dropConnections(f.dcId) });
        checkDownloaded(res.out, f, res.sha256);
        // the cut may come with the last part: the next call there meets the −404 then
        check((await getSelf(s, f.dcId)).length === 1, `users.getUsers on DC${f.dcId} after −404`);
        check(r.sandbox.status().faults.transportErrors.length === 0, 'the −404 was never sent (no new connection)');
        r.lab.clearAll();
        check(!s.events.some((e) => e.name === 'auth key dropped'), 'a single −404 dropped the key');
        check((await keyOf(s, f.dcId)) === key, `the DC${f.dcId} auth key changed after one −404`);
        await r.checkUsable(s);
        return SUCCESS;
      }
      const inFlight = during === 'call';
      const target = r.rng.bool('onHome', 0.7) ? s.home : r.rng.pick('dc', others(s.home));
      const latency = inFlight ? r.rng.int('latencyMs', 50, 300) : 0;
      const dropAt = inFlight ? r.rng.int('dropAtMs', 0, latency) : 0;
      if (target !== s.home) await getSelf(s, target);
      const key = await keyOf(s, target);
      r.sandbox.injectTransportError(404, { dcId: target, count: 1 });
      r.sandbox.setLatency(target, latency);
      const send = target === s.home && inFlight ? r.send(s) : undefined;
      await sleep(dropAt);
      r.sandbox.dropConnections(target);
      if (send) await r.checkSentOnce(s, send);
      check((await getSelf(s, target)).length === 1, `users.getUsers on DC${target} after −404`);
      check(r.sandbox.status().faults.transportErrors.length === 0, 'the −404 was never sent (no new connection)');
      r.lab.clearAll();
      check(
        s.events.some((e) => e.name === 'transport error -404'),
        'no −404 event in the trace',
      );
      check(!s.events.some((e) => e.name === 'auth key dropped'), 'a single −404 dropped the key');
      check((await keyOf(s, target)) === key, `the DC${target} auth key changed after one −404`);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'transport-429',
    summary: '−429 on the next 1–3 new connections (a reconnect of home, or the first connection to another DC): backs off, then succeeds',
    async run(r) {
      const s = await r.login();
      const count = r.rng.int('count', 1, 3);
      const variant = r.rng.pick('variant', ['reconnect-home', 'new-dc'] as const);
      // a DC this client never talked to (the login may have touched a first DC before PHONE_MIGRATE)
      const fresh = others(s.home).filter((d) => s.client.pool.connectionInfo(d) === undefined);
      const target = variant === 'reconnect-home' ? s.home : r.rng.pick('dc', fresh);
      r.sandbox.injectTransportError(429, { dcId: target, count });
      if (variant === 'reconnect-home') {
        r.sandbox.dropConnections(s.home);
        const send = r.send(s);
        await r.checkSentOnce(s, send);
      } else {
        check((await getSelf(s, target)).length === 1, `users.getUsers on DC${target} through −429`);
      }
      check(r.sandbox.status().faults.transportErrors.length === 0, 'not every −429 was sent');
      r.lab.clearAll();
      const hits = s.events.filter((e) => e.name === 'transport error -429').length;
      check(hits >= 1, 'no −429 event in the trace');
      // the policy, not a timing: each reconnect after a −429 is planned with a backoff of at least 0.5 s
      const backoffs = s.events.filter((e) => e.name === 'reconnect' && /after transport error -429/.test(e.note ?? ''));
      for (const b of backoffs) {
        const ms = Number(/in (\d+) ms/.exec(b.note ?? '')?.[1]);
        check(ms >= 500, `a reconnect after −429 planned in ${ms} ms (no backoff)`);
      }
      check(backoffs.length >= 1, 'no reconnect after −429 in the trace');
      await r.checkUsable(s, { dcId: target });
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'salt-storm',
    summary:
      'server salts rotated 3–15 times at random intervals while calls (and maybe a download) run: every call answered, sends once, the file byte-identical',
    async run(r) {
      const s = await r.login();
      const everyDc = r.rng.bool('everyDc');
      const rotations = moments(r, 'rotateAtMs', r.rng.int('rotations', 3, 15), 0, 1200);
      const n = r.rng.int('sends', 1, 3);
      const parallel = r.rng.int('parallelReads', 1, 3);
      const latency = r.rng.int('latencyMs', 0, 60);
      const file = r.rng.bool('withDownload') ? seeded(r.sandbox, r.rng.pick('file', DOWNLOAD_FILES)) : undefined;
      const partSize = file ? partSizeFor(r, file) : 0;
      r.sandbox.setLatency(s.home, latency);
      const sends = Array.from({ length: n }, () => r.send(s));
      let storming = true;
      schedule(r, 'rotations', rotations, () => r.sandbox.rotateSalts(everyDc ? undefined : s.home));
      const storm = r.settleBackground().finally(() => {
        storming = false;
      });
      const dl = file ? downloadWith(r, s, file, { partSize, parallel: 2, at: [], fire: () => undefined }) : undefined;
      dl?.catch(() => undefined);
      const readers = Array.from({ length: parallel }, async () => {
        let calls = 0;
        while (storming || calls === 0) {
          const near = await s.client.call<TlObject>({ _: 'help.getNearestDc' });
          check(near._ === 'nearestDc', `help.getNearestDc answered ${near._}`);
          calls++;
        }
        return calls;
      });
      await storm;
      const calls = await Promise.all(readers);
      r.note(`${calls.reduce((a, b) => a + b, 0)} reads during the storm`);
      if (file && dl) {
        const res = await dl;
        checkDownloaded(res.out, file, res.sha256);
      }
      r.lab.clearAll();
      for (const h of sends) await r.checkSentOnce(s, h);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'flood-wait-under',
    summary: 'FLOOD_WAIT_X under the threshold (a rule of X = 0–2 s, or a 1–2 s flood timer): waited out, then answered',
    async run(r) {
      const s = await r.login();
      const method = r.rng.pick('method', ['users.getUsers', 'help.getNearestDc', 'messages.sendMessage'] as const);
      const kind = r.rng.pick('kind', ['rule', 'timer'] as const);
      if (kind === 'rule') {
        const x = r.rng.int('seconds', 0, 2);
        const times = x === 0 ? 1 : r.rng.int('times', 1, 2);
        r.sandbox.injectFault({ method, error: `FLOOD_WAIT_${x}`, dcId: s.home, times });
      } else {
        r.sandbox.flood(method, r.rng.int('seconds', 1, 2), s.home);
      }
      if (method === 'messages.sendMessage') {
        const h = r.send(s);
        await h.answer;
        r.lab.clearAll();
        // the fault answers before the call runs, but the server still receives it: count only the messages
        const same = (await savedTexts(s.client)).filter((t) => t === h.text).length;
        check(same === 1, `"${h.text}": not exactly one message after FLOOD_WAIT`);
      } else {
        const res = method === 'users.getUsers' ? await getSelf(s) : await s.client.call<TlObject>({ _: 'help.getNearestDc' });
        check(res !== undefined, `${method} answered nothing`);
        r.lab.clearAll();
      }
      check(
        s.events.some((e) => e.kind === 'flood-wait' && /^FLOOD_WAIT_\d+$/.test(e.name) && /retrying/.test(e.note ?? '')),
        'no flood-wait countdown in the trace',
      );
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'flood-wait-over',
    summary: 'FLOOD_WAIT_X over the threshold (31 s – 1 day, a rule or a timer): the call fails at once with LifecycleError FLOOD_WAIT and X',
    async run(r) {
      const s = await r.login();
      const method = r.rng.pick('method', ['users.getUsers', 'help.getNearestDc', 'messages.sendMessage'] as const);
      const kind = r.rng.pick('kind', ['rule', 'timer'] as const);
      const x = r.rng.int('seconds', 31, 86_400);
      if (kind === 'rule') r.sandbox.injectFault({ method, error: `FLOOD_WAIT_${x}`, dcId: s.home, times: r.rng.int('times', 1, 3) });
      else r.sandbox.flood(method, x, s.home);
      const call = method === 'messages.sendMessage' ? r.send(s).answer : method === 'users.getUsers' ? getSelf(s) : s.client.call({ _: 'help.getNearestDc' });
      const e = await expectLifecycleError(call, 'FLOOD_WAIT', method);
      const want = kind === 'rule' ? [x] : [x - 1, x];
      check(e.waitSeconds !== undefined && want.includes(e.waitSeconds), `FLOOD_WAIT error says ${e.waitSeconds} s, expected ${want.join(' or ')}`);
      check(!s.events.some((ev) => ev.kind === 'flood-wait' && /retrying/.test(ev.note ?? '')), 'a wait over the threshold was counted down');
      r.lab.clearAll();
      if (method === 'messages.sendMessage') await r.checkSentOnce(s, r.send(s));
      await r.checkUsable(s);
      return { kind: 'error', code: e.code };
    },
  },
  {
    name: 'redirect-loop',
    summary: 'a chain of *_MIGRATE errors over 1–4 DCs that comes back to one: LifecycleError REDIRECT_LOOP (TOO_MANY_REDIRECTS past maxRedirects)',
    async run(r) {
      const maxRedirects = r.rng.int('maxRedirects', 2, 5);
      const s = await r.login({ client: { maxRedirects } });
      const method = r.rng.pick('method', ['users.getUsers', 'help.getNearestDc'] as const);
      const k = r.rng.int('hops', 1, 4);
      const path = [s.home, ...r.rng.shuffle('dcs', others(s.home)).slice(0, k)];
      const back = r.rng.int('loopBackTo', 0, k - 1);
      const kinds = path.map((_, i) => r.rng.pick(`kind#${i}`, ['STATS_MIGRATE', 'FILE_MIGRATE', 'USER_MIGRATE', 'PHONE_MIGRATE', 'NETWORK_MIGRATE'] as const));
      path.forEach((dc, i) => {
        const next = i < k ? path[i + 1]! : path[back]!;
        r.sandbox.injectFault({ method, error: `${kinds[i]}_${next}`, dcId: dc, times: 1 });
      });
      const expected: LifecycleErrorCode = k > maxRedirects ? 'TOO_MANY_REDIRECTS' : 'REDIRECT_LOOP';
      const call = method === 'users.getUsers' ? getSelf(s) : s.client.call({ _: 'help.getNearestDc' });
      const e = await expectLifecycleError(call, expected, `${method} through ${path.join(' → ')} → ${path[back]}`);
      check(e.chain?.[0] === `${method} @DC${s.home}`, `the error's chain starts with ${e.chain?.[0]}`);
      check(e.chain.length === Math.min(k, maxRedirects) + 2, `the chain has ${e.chain.length} entries: ${e.chain.join(' → ')}`);
      r.lab.clearAll();
      await r.checkUsable(s);
      return { kind: 'error', code: e.code };
    },
  },
  {
    name: 'auth-bytes-invalid',
    summary: 'AUTH_BYTES_INVALID from 1–4 imports on another DC (a call or a download there): retried; TRANSFER_FAILED once the retries run out',
    async run(r) {
      const retries = r.rng.int('authBytesRetries', 0, 3);
      const s = await r.login({ client: { authBytesRetries: retries } });
      const via = r.rng.pick('via', ['call', 'download'] as const);
      const fileKey =
        via === 'download'
          ? r.rng.pick(
              'file',
              DOC_FILES.filter((k) => seeded(r.sandbox, k).dcId !== s.home),
            )
          : undefined;
      const target = fileKey ? seeded(r.sandbox, fileKey).dcId : r.rng.pick('dc', others(s.home));
      const invalid = r.rng.int('invalidImports', 1, 4);
      r.sandbox.injectFault({ method: 'auth.importAuthorization', error: 'AUTH_BYTES_INVALID', dcId: target, times: invalid });
      const succeeds = invalid <= retries;
      let outcome: Outcome = SUCCESS;
      if (fileKey) {
        const f = seeded(r.sandbox, fileKey);
        const out = r.out(`${f.key}.bin`);
        const p = downloadFile(s.client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: r.rng.pick('partSize', PART_SIZES) });
        if (succeeds) checkDownloaded(out, f, (await p).sha256);
        else {
          outcome = { kind: 'error', code: (await expectLifecycleError(p, 'TRANSFER_FAILED', `download from DC${target}`)).code };
          await checkFailedDownload(out, f);
        }
      } else if (succeeds) {
        check((await getSelf(s, target)).length === 1, `users.getUsers on DC${target}`);
      } else {
        outcome = { kind: 'error', code: (await expectLifecycleError(getSelf(s, target), 'TRANSFER_FAILED', `users.getUsers on DC${target}`)).code };
      }
      const imports = r.serverExecutions('auth.importAuthorization');
      check(imports === (succeeds ? invalid + 1 : retries + 1), `${imports} imports for ${invalid} AUTH_BYTES_INVALID with ${retries} retries`);
      r.lab.clearAll();
      await r.checkUsable(s, { dcId: target });
      await r.checkUsable(s);
      return outcome;
    },
  },
  {
    name: 'user-migrate-download',
    summary: 'the user moves to another DC (USER_MIGRATE) while a seeded file downloads: byte-identical; the next call follows the move',
    async run(r) {
      const s = await r.login();
      const f = seeded(r.sandbox, r.rng.pick('file', DOWNLOAD_FILES));
      const to = r.rng.pick('moveTo', others(s.home));
      const partSize = partSizeFor(r, f);
      // a moment with parts still to fetch after it (0 = before the first part)
      const moveAt = r.rng.int('moveAtByte', 0, Math.max(0, f.size - 2 * partSize));
      const parallel = r.rng.int('parallel', 1, 4);
      const latency = r.rng.int('latencyMs', 0, 40);
      r.sandbox.setLatency(f.dcId, latency);
      const out = r.out(`${f.key}.bin`);
      let moved = false;
      const move = (): void => {
        if (moved) return;
        moved = true;
        r.sandbox.moveUser(s.phone, to);
      };
      if (moveAt === 0) move();
      const res = await downloadFile(s.client, {
        location: f.location,
        dcId: f.dcId,
        size: f.size,
        out,
        partSize,
        parallel,
        onProgress: (p) => {
          if (p.bytes >= moveAt) move();
        },
      });
      check(moved, 'the user was never moved');
      r.lab.clearAll();
      checkDownloaded(out, f, res.sha256);
      await r.checkUsable(s);
      check(s.client.runtime.homeDc === to, `home DC ${s.client.runtime.homeDc} after USER_MIGRATE_${to}`);
      return SUCCESS;
    },
  },
  {
    name: 'latency-spikes',
    summary: 'latency spikes of up to 1.5 s on the home and file DCs (read deadline 20 s or 1 s) during sends and a download: all answered, once',
    async run(r) {
      const readTimeoutMs = r.rng.pick('readTimeoutMs', [20_000, 1000] as const);
      const s = await r.login({ client: { readTimeoutMs } });
      const f = seeded(r.sandbox, r.rng.pick('file', ['small-dc4', 'small-dc1', 'medium-dc3'] as const));
      const spikes = r.rng.int('spikes', 2, 6);
      const plan: { dc: number; at: number; ms: number; hold: number }[] = [];
      for (let i = 0; i < spikes; i++) {
        plan.push({
          dc: r.rng.pick(`dc#${i}`, [s.home, f.dcId]),
          at: r.rng.int(`at#${i}`, 0, 600),
          ms: r.rng.int(`ms#${i}`, 100, 1500),
          hold: r.rng.int(`hold#${i}`, 50, 800),
        });
      }
      const n = r.rng.int('sends', 1, 2);
      const sends = Array.from({ length: n }, () => r.send(s));
      for (const [i, p] of plan.entries()) {
        r.spawn(`spike ${i}`, async () => {
          await sleep(p.at);
          r.sandbox.setLatency(p.dc, p.ms);
          await sleep(p.hold);
          r.sandbox.setLatency(p.dc, 0);
        });
      }
      const out = r.out(`${f.key}.bin`);
      const dl = downloadFile(s.client, { location: f.location, dcId: f.dcId, size: f.size, out, partSize: 131072, parallel: 2 });
      dl.catch(() => undefined);
      await r.settleBackground();
      r.lab.clearAll();
      checkDownloaded(out, f, (await dl).sha256);
      for (const h of sends) await r.checkSentOnce(s, h);
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
  {
    name: 'drop-during-upload',
    summary:
      'the home connection cut at random progress points, times and answer bytes during an upload: the uploaded file, sent and downloaded back, is byte-identical',
    async run(r) {
      const s = await r.login();
      const size = r.rng.int('size', 50_000, 3_000_000);
      const data = r.rng.bytes('data', size);
      const partSize = r.rng.pick('partSize', [32768, 65536, 131072, 262144, 524288] as const);
      const parallel = r.rng.int('parallel', 1, 4);
      const latency = r.rng.int('latencyMs', 0, 40);
      const progressDrops = moments(r, 'dropAtByte', r.rng.int('progressDrops', 1, 3), 0, size - 1);
      const timerDrops = moments(r, 'dropAtMs', r.rng.int('timerDrops', 0, 2), 0, 400);
      // the answers (and acks) the DC sends while parts arrive: a cut after N of their bytes
      const byteDrops = r.rng.int('byteDrops', 0, 2);
      const dropAfter = r.rng.int('dropAfterBytes', 100, 3000);
      r.sandbox.setLatency(s.home, latency);
      if (byteDrops) r.sandbox.dropConnectionsAfterBytes(s.home, dropAfter, byteDrops);
      let next = 0;
      schedule(r, 'timer drops', timerDrops, () => r.sandbox.dropConnections(s.home));
      const up = uploadFile(s.client, {
        data,
        name: `fault-${r.seed}.bin`,
        partSize,
        parallel,
        onProgress: (p) => {
          while (next < progressDrops.length && p.bytes >= progressDrops[next]!) {
            next++;
            r.sandbox.dropConnections(s.home);
          }
        },
      });
      up.catch(() => undefined);
      await r.settleBackground();
      const res = await up;
      r.lab.clearAll();
      const sha = createHash('sha256').update(data).digest('hex');
      check(res.sha256 === sha && res.size === size, 'the upload hashed other bytes than it was given');
      const msg = await sendUploadedMedia(s.client, res, { name: res.name });
      const loc = locationOf(msg);
      check(loc.size === size, `the sent document is ${loc.size} bytes, uploaded ${size}`);
      const out = r.out('uploaded.bin');
      const back = await downloadFile(s.client, { location: loc.location, dcId: loc.dcId, size: loc.size, out });
      check(back.sha256 === sha, 'the uploaded file downloads with other bytes');
      await r.checkUsable(s);
      return SUCCESS;
    },
  },
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
