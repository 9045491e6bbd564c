// The webview app in a real headless browser (Debian's chromium driven by playwright-core), with a host stub that
// speaks the typed IPC of src/ipc and answers with real data: a real sandbox run (login through PHONE_MIGRATE_4,
// a transfer, help.getConfig topology, messages.getHistory with the seeded documents), the API schema of
// src/tl, and a 100,000-event trace. Screenshots go to test-output/webview/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureChromium } from './chromium';
import { HostStub, startPageServer, type PageServer } from './harness';
import {
  edgesFromTrace,
  dcNodeState,
  type IpcDcEndpoint,
  type IpcDownload,
  type IpcTopology,
  type IpcTraceEvent,
  type JsonValue,
  type RequestHandlers,
  type IpcDcNode,
  type IpcFaultRequest,
} from '../../src/ipc/index';
import { startSandbox, type Sandbox } from '../../src/sandbox/index';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import { createDcClient, type DcClient } from '../../src/lifecycle/client';
import { TraceStore } from '../../src/trace/index';
import { apiSchema, API_LAYER } from '../../src/tl/bundled';
import { tlFromJson, tlToJson, TlJsonError } from '../../src/tl/json';
import { downloadFile, locationFromJson } from '../../src/files/index';
import { runFaultOn } from '../../src/vscode/faults';
import { dcConnectionView } from '../../src/vscode/topology';
import type { Profile } from '../../src/dc/profile';

// Browser globals used inside page callbacks (evaluated in chromium; the root tsconfig has no DOM lib).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const requestAnimationFrame: (cb: () => void) => number;
type HTMLElement = any;

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'test-output/webview');
const TOTAL_EVENTS = 100_000;
const PHONE = '9996641234'; // lives on DC4; the client starts on DC2 → PHONE_MIGRATE_4

let tmp: string;
let sandbox: Sandbox;
let client: DcClient;
let profile: Profile;
/** What the host says about the Faults section (the tests switch it off and on). */
let faultsOn = true;
let store: TraceStore;
let server: PageServer;
let context: BrowserContext;
let page: Page;
let stub: HostStub;
let events: IpcTraceEvent[] = [];
let realEventCount = 0;
const downloadRequests: unknown[] = [];
const faultRequests: IpcFaultRequest[] = [];
const schema = apiSchema();
const t0 = Date.now();
const timings: Record<string, number> = {};
const mark = (k: string) => (timings[k] = Date.now() - t0);

function topologyOf(c: DcClient, evs: readonly IpcTraceEvent[]): IpcTopology {
  const st = c.status();
  const byId = new Map<number, IpcDcEndpoint[]>();
  for (const e of st.topology?.endpoints ?? []) {
    const list = byId.get(e.id) ?? [];
    list.push({
      host: e.host,
      port: e.port,
      ipv6: e.ipv6,
      mediaOnly: e.mediaOnly,
      tcpoOnly: e.tcpoOnly,
      cdn: e.cdn,
      static: e.static,
      thisPortOnly: e.thisPortOnly,
      hasSecret: e.hasSecret,
    });
    byId.set(e.id, list);
  }
  for (const d of st.dcs) if (!byId.has(d.dcId)) byId.set(d.dcId, []);
  const nodes: IpcDcNode[] = [...byId.keys()]
    .sort((a, b) => a - b)
    .map((dcId) => {
      const d = st.dcs.find((x) => x.dcId === dcId);
      const n = { hasKey: !!d?.hasKey, authorized: !!d?.authorized, home: dcId === st.homeDc };
      return {
        dcId,
        endpoints: byId.get(dcId)!,
        ...n,
        state: dcNodeState(n),
        connected: !!d?.connected,
        ...(d?.session ? { session: d.session } : {}),
        ...(d?.latencyMs !== undefined ? { latencyMs: d.latencyMs } : {}),
        ...dcConnectionView(c, profile, st.topology, dcId),
      };
    });
  return {
    profile: st.profile,
    state: st.state,
    homeDc: st.homeDc,
    ...(st.topology ? { thisDc: st.topology.thisDc, testMode: st.topology.testMode, configDate: st.topology.date } : {}),
    ...(st.topology?.expires !== undefined ? { configExpires: st.topology.expires } : {}),
    ...(st.topology?.fetchedAt !== undefined ? { configFetchedAt: st.topology.fetchedAt } : {}),
    nodes,
    edges: edgesFromTrace(evs),
    faults: faultsOn
      ? { available: true, dcs: [1, 2, 3, 4, 5], cdnDc: 203 }
      : { available: false, reason: 'the sandbox is not running (DC Lab: Start Sandbox)', dcs: [] },
  };
}

/** Realistic synthetic chains after the real ones: call → wire-out → wire-in (rpc_result, sometimes in a container) → result, errors now and then. */
function synthesize(from: IpcTraceEvent[], total: number): IpcTraceEvent[] {
  const out = [...from];
  let id = from.length ? from[from.length - 1]!.id : 0;
  let time = from.length ? from[from.length - 1]!.time : Date.now();
  const methods: [string, string][] = [
    ['messages.getHistory', 'messages.messages'],
    ['users.getFullUser', 'users.userFull'],
    ['help.getConfig', 'config'],
    ['updates.getState', 'updates.state'],
    ['upload.getFile', 'upload.file'],
    ['messages.getDialogs', 'messages.dialogs'],
  ];
  let seq = 1;
  let msg = 7_300_000_000_000_000_000n;
  for (let g = 0; out.length < total; g++) {
    const dcId = 1 + (g % 5);
    const [method, result] = methods[g % methods.length]!;
    const connId = `dc${dcId}-c1`;
    msg += 4n;
    const msgId = msg.toString();
    const root: IpcTraceEvent = { id: ++id, time: (time += 3), kind: 'call', name: method, dcId, payload: { _: method, limit: 20 } };
    const outBytes = 96 + (g % 50);
    const container = g % 7 === 0 ? (msg + 1n).toString() : undefined;
    const inBytes = 240 + (g % 900);
    const batch: IpcTraceEvent[] = [
      root,
      {
        id: ++id,
        time: (time += 1),
        kind: 'wire-out',
        name: method,
        dcId,
        connId,
        msgId,
        parentId: root.id,
        note: `encrypted ${outBytes}B seqno=${(seq += 2)}${container ? ` container=${container}` : ''}`,
        wire: { kind: 'encrypted', ctor: method, bytes: outBytes, msgId, seqno: seq, ...(container ? { containerMsgId: container } : {}) },
      },
      {
        id: ++id,
        time: (time += 2),
        kind: 'wire-in',
        name: 'rpc_result',
        dcId,
        connId,
        msgId: (msg + 2n).toString(),
        parentId: root.id,
        note: `encrypted ${inBytes}B seqno=${seq + 1} req=${msgId}`,
        wire: { kind: 'encrypted', ctor: `rpc_result:${result}`, bytes: inBytes, msgId: (msg + 2n).toString(), seqno: seq + 1, reqMsgId: msgId },
      },
    ];
    if (g % 97 === 0) batch.push({ id: ++id, time: (time += 1), kind: 'error', name: 'FLOOD_WAIT_3', dcId, parentId: root.id, note: 'waiting 3 s' });
    else batch.push({ id: ++id, time: (time += 1), kind: 'result', name: result, dcId, parentId: root.id, durationMs: 3 + (g % 40), payload: { _: result } });
    if (g % 5 === 0)
      batch.push({
        id: ++id,
        time: (time += 1),
        kind: 'wire-out',
        name: 'msgs_ack',
        dcId,
        connId,
        msgId: (msg + 3n).toString(),
        note: `service 36B seqno=${seq + 2} acked`,
        wire: { kind: 'service', ctor: 'msgs_ack', bytes: 36, msgId: (msg + 3n).toString(), seqno: seq + 2, ackMsgIds: [(msg + 2n).toString()] },
      });
    for (const e of batch) if (out.length < total) out.push(e);
  }
  return out;
}

async function pick(p: Page, selector: string, value: string): Promise<void> {
  await p.click(selector);
  await p.click(`${selector} vscode-option[data-value="${value}"]`);
  await p.waitForFunction(([s, v]) => (document.querySelector(s!) as (HTMLElement & { value: string }) | null)?.value === v, [selector, value] as const);
}

async function rowIds(p: Page): Promise<{ ids: number[]; dcs: string[]; total: number }> {
  return p.$$eval('.trace-row', (rows) => {
    const vis = rows.filter((r) => !(r as HTMLElement).hidden) as HTMLElement[];
    return { ids: vis.map((r) => Number(r.dataset.id)), dcs: vis.map((r) => r.dataset.dc ?? ''), total: rows.length };
  });
}

const frame = (p: Page) => p.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

before(async () => {
  mkdirSync(OUT, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'dclab-webview-'));
  mkdirSync(join(tmp, 'downloads'));
  const executablePath = ensureChromium();
  // Build the webview bundle with the project's script.
  const b = spawnSync(process.execPath, ['scripts/build-webview.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build-webview failed: ${b.stderr}`);
  mark('built');

  // A real sandbox run: login through PHONE_MIGRATE_4, a transfer to DC3, messages.getHistory.
  sandbox = await startSandbox({ basePort: 0, dataDir: join(tmp, 'sandbox'), log: () => undefined });
  store = new TraceStore({ capacity: TOTAL_EVENTS + 10_000 });
  profile = profileFromSandboxInfo(sandbox.info, { firstDc: 2 });
  client = createDcClient({ profile, trace: store, onWire: (w) => void store.addWire(w) });
  await client.start();
  await client.login({ phone: PHONE, code: async () => '44444' });
  await client.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }, { dcId: 3 });
  await client.ping(4);
  mark('sandbox');
  events = store.events() as IpcTraceEvent[];
  realEventCount = events.length;
  events = synthesize(events, TOTAL_EVENTS);

  server = await startPageServer(join(ROOT, 'dist/webview'));
  const profileDir = join(tmp, 'chromium-profile');
  const home = join(tmp, 'home');
  mkdirSync(home, { recursive: true });
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_DATA_HOME: join(home, '.local/share'),
    },
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => stub?.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (process.env.DCLAB_WEBVIEW_DEBUG) console.log(`[page] ${m.type()}: ${m.text()}`);
    if (m.type() === 'error') stub?.errors.push(`console: ${m.text()}`);
  });
  mark('browser');

  const requests: RequestHandlers = {
    'topology/get': () => topologyOf(client, events),
    'trace/get': ({ sinceId, limit }) => {
      const list = events.filter((e) => e.id > (sinceId ?? 0));
      const sliced = limit ? list.slice(0, limit) : list;
      return { events: sliced, lastId: events[events.length - 1]?.id ?? 0 };
    },
    'trace/export': () => ({ saved: true, path: join(tmp, 'trace.json'), count: events.length }),
    'trace/import': () => ({ imported: false }),
    'schema/methods': () => ({
      layer: API_LAYER,
      methods: schema.entries
        .filter((e) => e.kind === 'method')
        .map((e) => ({
          name: e.name,
          params: e.params,
          type: e.type,
          ...(e.comment ? { comment: e.comment } : {}),
          ...(e.throws ? { throws: e.throws } : {}),
        })),
    }),
    'schema/constructorsOfType': ({ types }) => ({
      constructors: Object.fromEntries(
        types.map((t) => [
          t,
          schema.constructorsOfType(t).map((e) => ({ name: e.name, params: e.params, type: e.type, ...(e.comment ? { comment: e.comment } : {}) })),
        ]),
      ),
    }),
    'query/run': async ({ query, dcId }) => {
      let obj: unknown;
      try {
        obj = tlFromJson(schema, query);
      } catch (e) {
        if (e instanceof TlJsonError) return { ok: false, code: 'VALIDATION', message: e.message, path: e.path, expected: e.expected };
        throw e;
      }
      const started = Date.now();
      try {
        const r = await client.call(obj as never, dcId ? { dcId } : {});
        return { ok: true, result: tlToJson(r) as JsonValue, dcId: dcId ?? client.status().homeDc, durationMs: Date.now() - started };
      } catch (e) {
        const err = e as { errorMessage?: string; code?: string; message: string };
        return { ok: false, code: err.errorMessage ?? String(err.code ?? 'ERROR'), message: err.message, durationMs: Date.now() - started };
      }
    },
    'download/start': async (params) => {
      downloadRequests.push(params);
      const downloadId = `d${downloadRequests.length}`;
      const name = params.name ?? 'file.bin';
      const startedAt = Date.now();
      const base: IpcDownload = {
        downloadId,
        name,
        dcId: params.dcId,
        state: 'running',
        bytes: 0,
        ...(params.size !== undefined ? { total: params.size } : {}),
        speed: 0,
        startedAt,
      };
      void (async () => {
        try {
          const r = await downloadFile(client, {
            location: locationFromJson(params.location),
            dcId: params.dcId,
            ...(params.size !== undefined ? { size: params.size } : {}),
            out: join(tmp, 'downloads', name),
            partSize: 4096,
            onProgress: (p) =>
              void stub.notify('download/changed', { ...base, bytes: p.bytes, speed: p.bytes / Math.max(0.001, (Date.now() - startedAt) / 1000) }),
          });
          await stub.notify('download/changed', {
            ...base,
            state: 'done',
            bytes: r.bytes,
            speed: r.bytes / Math.max(0.001, r.ms / 1000),
            path: r.path,
            dcPath: r.dcPath,
            cdn: r.cdn,
          });
        } catch (e) {
          await stub.notify('download/changed', { ...base, state: 'failed', error: e instanceof Error ? e.message : String(e) });
        }
      })();
      return { downloadId };
    },
    // the host's own dispatch, on the real sandbox
    'sandbox/fault': (req) => {
      faultRequests.push(req);
      return runFaultOn(sandbox, req);
    },
  };
  stub = new HostStub(page, requests, {
    ready: async () => {
      await stub.notify('init', { version: 1, topology: topologyOf(client, events), profile: 'sandbox', layer: API_LAYER });
    },
  });
  await stub.attach();
  await page.goto(server.url);
  await stub.waitFor((m) => m.type === 'command' && m.method === 'ready');
});

after(async () => {
  await context?.close().catch(() => undefined);
  await server?.close().catch(() => undefined);
  await client?.stop().catch(() => undefined);
  await sandbox?.stop().catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  console.log(`webview test timings (ms since start): ${JSON.stringify(timings)}`);
});

test('topology: one node per DC of dc_options with flags, states, latency and the redirect/transfer edges', async () => {
  const topo = topologyOf(client, events);
  await page.waitForSelector('.topo-node');
  const nodes = await page.$$eval('.topo-node', (els) =>
    els.map((e) => ({ dc: Number(e.getAttribute('data-dc')), state: e.getAttribute('data-state'), flags: (e.getAttribute('data-flags') ?? '').split(',') })),
  );
  const dcIds = [...new Set(client.status().topology!.endpoints.map((e) => e.id))].sort((a, b) => a - b);
  assert.deepEqual(
    nodes.map((n) => n.dc).sort((a, b) => a - b),
    dcIds,
    'one node per DC of dc_options',
  );
  assert.ok(dcIds.includes(203), 'the CDN DC is a node');
  const by = new Map(nodes.map((n) => [n.dc, n]));
  assert.equal(by.get(4)!.state, 'home');
  assert.equal(by.get(3)!.state, 'authorized', 'DC3 authorized by the transfer');
  assert.equal(by.get(2)!.state, 'key', 'DC2 has a key from before the redirect');
  assert.equal(by.get(1)!.state, 'no-key');
  assert.ok(by.get(203)!.flags.includes('cdn'));
  assert.ok(by.get(2)!.flags.includes('ipv4') && by.get(2)!.flags.includes('ipv6'), `DC2 flags ${by.get(2)!.flags}`);
  const mediaDc = topo.nodes.find((n) => n.endpoints.some((e) => e.mediaOnly));
  if (mediaDc) assert.ok(by.get(mediaDc.dcId)!.flags.includes('media'));
  // Edges: the PHONE_MIGRATE_4 redirect and the transfer to DC3.
  const edges = await page.$$eval('.topo-edge', (els) =>
    els.map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-from')}->${e.getAttribute('data-to')}`),
  );
  assert.ok(edges.includes('redirect:2->4'), `edges: ${edges}`);
  assert.ok(edges.includes('transfer:4->3'), `edges: ${edges}`);
  const latency = await page.textContent('.topo-node[data-dc="4"] .topo-meta');
  assert.match(latency ?? '', /\d+ ms/, 'home DC shows its latency (pinged)');
  // Each DC's endpoints in the order they are tried, the one in use marked; the connection and the config's age.
  const dc4 = sandbox.info.dcs.find((d) => d.id === 4)!;
  const inUse = await page.textContent('.topo-node[data-dc="4"] .topo-endpoint[data-in-use="true"]');
  assert.match(inUse ?? '', new RegExp(`^1\\. 127\\.0\\.0\\.1:${dc4.port} .*◀ in use`), `DC4 endpoint in use: ${inUse}`);
  assert.equal(await page.getAttribute('.topo-node[data-dc="4"] .topo-conn', 'data-conn-state'), 'ready');
  assert.match((await page.textContent('.topo-node[data-dc="4"] .topo-conn')) ?? '', /^ready · \d+ reconnects?$/);
  const order = await page.$$eval('[data-testid="connect-order-4"] li', (lis) =>
    lis.map((li) => ({ text: li.textContent ?? '', inUse: li.getAttribute('data-in-use') === 'true' })),
  );
  const expected4 = topo.nodes.find((n) => n.dcId === 4)!.connectOrder!;
  assert.equal(order.length, expected4.length);
  // the profile's address is the config's here (one entry: the same host:port is tried once)
  assert.ok(order[0]!.inUse && order[0]!.text.startsWith(`127.0.0.1:${dc4.port} · config`), `order: ${JSON.stringify(order)}`);
  assert.ok(order.slice(1).every((o) => !o.inUse));
  assert.match((await page.textContent('[data-testid="topo-config"]')) ?? '', /^config read at \d\d:\d\d:\d\d \(expires \d\d:\d\d:\d\d\)$/);
  // The CDN DC is not dialled through the pool: its dc_options stay as they were.
  assert.equal(await page.$$eval('.topo-node[data-dc="203"] .topo-endpoint[data-order]', (l) => l.length), 0);
  await page.screenshot({ path: join(OUT, 'topology.png'), fullPage: true });

  // Live update: a new snapshot from the host re-renders (DC1 gets a key).
  const live = topologyOf(client, events);
  const dc1 = live.nodes.find((n) => n.dcId === 1)!;
  Object.assign(dc1, { hasKey: true, state: 'key', latencyMs: 12 });
  await stub.notify('topology/changed', live);
  await page.waitForSelector('.topo-node[data-dc="1"][data-state="key"]');
  mark('topology');
});

test('trace: 100,000 events, bounded DOM rows, scroll to the end, filter by DC, detail pane with wire fields', async () => {
  await page.click('vscode-panel-tab[data-tab="trace"]');
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="trace-count"]')?.textContent === `${n.toLocaleString('en-US')} events`,
    TOTAL_EVENTS,
    { timeout: 20_000 },
  );
  mark('trace-loaded');
  let r = await rowIds(page);
  assert.ok(r.total > 10 && r.total < 200, `DOM rows: ${r.total}`);
  // Follow mode: the end is shown first; go to the top, then scroll to the end.
  await page.$eval('[data-testid="trace-viewport"]', (v) => (v.scrollTop = 0));
  await frame(page);
  r = await rowIds(page);
  assert.ok(r.ids.includes(events[0]!.id), 'top shows the first event');
  // Smoothness: 40 jumps across the whole list, each rendered within a frame.
  const perJump = await page.$eval('[data-testid="trace-viewport"]', async (v) => {
    const start = performance.now();
    for (let i = 1; i <= 40; i++) {
      v.scrollTop = (v.scrollHeight * i) / 40;
      await new Promise<void>((res) => requestAnimationFrame(() => res()));
    }
    return (performance.now() - start) / 40;
  });
  timings.scrollMsPerJump = Math.round(perJump * 10) / 10;
  // Baseline: the same number of frames without scrolling (headless software rendering sets the frame rate).
  const idle = await page.evaluate(async () => {
    const start = performance.now();
    for (let i = 0; i < 40; i++) await new Promise<void>((res) => requestAnimationFrame(() => res()));
    return (performance.now() - start) / 40;
  });
  timings.idleMsPerFrame = Math.round(idle * 10) / 10;
  assert.ok(perJump < idle + 80, `a scroll jump takes ${perJump} ms per frame (idle ${idle} ms)`);
  await page.$eval('[data-testid="trace-viewport"]', (v) => (v.scrollTop = v.scrollHeight));
  await frame(page);
  r = await rowIds(page);
  const lastId = events[events.length - 1]!.id;
  assert.ok(r.ids.includes(lastId), `the last event #${lastId} is rendered at the end`);
  assert.ok(r.total < 200, `DOM rows after scrolling: ${r.total}`);
  const visible = await page.$eval(`.trace-row[data-id="${lastId}"]`, (row) => {
    const v = document.querySelector('[data-testid="trace-viewport"]')!.getBoundingClientRect();
    const b = row.getBoundingClientRect();
    return b.top >= v.top - 1 && b.bottom <= v.bottom + 1;
  });
  assert.ok(visible, 'the last event is inside the viewport');
  await page.screenshot({ path: join(OUT, 'trace-end.png') });

  // The real chain is grouped: the first auth.sendCode shows PHONE_MIGRATE_4 in its summary.
  await page.$eval('[data-testid="trace-viewport"]', (v) => (v.scrollTop = 0));
  await frame(page);
  const sendCode = events.find((e) => e.kind === 'call' && e.name === 'auth.sendCode' && e.parentId === undefined)!;
  const summary = await page.textContent(`.trace-row[data-id="${sendCode.id}"] .trace-note`);
  assert.match(summary ?? '', /PHONE_MIGRATE_4/, `chain summary: ${summary}`);

  // Filter by DC narrows the rows to that DC.
  await pick(page, '[data-testid="trace-dc"]', '4');
  await page.waitForFunction(() => /of 100,000 events/.test(document.querySelector('[data-testid="trace-count"]')?.textContent ?? ''));
  await frame(page);
  r = await rowIds(page);
  assert.ok(r.dcs.length > 0 && r.dcs.every((d) => d === '4'), `rows after the DC filter: ${[...new Set(r.dcs)]}`);
  const countText = (await page.textContent('[data-testid="trace-count"]'))!;
  const shown = Number(countText.split(' of ')[0]!.replace(/,/g, ''));
  assert.equal(shown, events.filter((e) => e.dcId === 4).length);
  await page.screenshot({ path: join(OUT, 'trace-filter-dc4.png') });

  // Detail pane: a real wire event of the sandbox run (sent in a container on DC4) shows its wire fields.
  const wire = events.slice(0, realEventCount).find((e) => e.kind === 'wire-out' && e.dcId === 4 && e.wire?.containerMsgId !== undefined);
  assert.ok(wire?.wire && wire.wire.msgId !== undefined && wire.wire.seqno !== undefined, 'the sandbox run sent a message in a container on DC4');
  await page.fill('[data-testid="trace-text"] input', wire.name);
  // Real events come before the synthetic ones.
  await page.$eval('[data-testid="trace-viewport"]', (v) => (v.scrollTop = 0));
  await frame(page);
  await page.click(`.trace-row[data-id="${wire.id}"]`);
  await page.waitForSelector('[data-testid="detail-wire"]');
  const wireRows = await page.$$eval('[data-testid="detail-wire"] tr', (trs) =>
    trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]),
  );
  const shownWire = new Map(wireRows as [string, string][]);
  assert.equal(shownWire.get('msg_id'), wire.wire.msgId);
  assert.equal(shownWire.get('seqno'), String(wire.wire.seqno));
  assert.equal(shownWire.get('container'), wire.wire.containerMsgId);
  assert.equal(shownWire.get('size'), `${wire.wire.bytes} B`);
  assert.equal(shownWire.get('message kind'), wire.wire.kind);
  await page.screenshot({ path: join(OUT, 'trace-detail.png') });
  // Clear the filters again.
  await page.fill('[data-testid="trace-text"] input', '');
  await pick(page, '[data-testid="trace-dc"]', '');

  // Live events append.
  const next: IpcTraceEvent = { id: lastId + 1, time: Date.now(), kind: 'call', name: 'help.getNearestDc', dcId: 4 };
  events.push(next);
  await stub.notify('trace/events', { events: [next] });
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="trace-count"]')?.textContent === `${n.toLocaleString('en-US')} events`,
    TOTAL_EVENTS + 1,
  );

  // trace/focus (a request file's "Show call in DC Lab trace"): a filter that hides the event is cleared, the
  // event is selected and scrolled into view; an id that has not arrived yet is selected when it does.
  await page.fill('[data-testid="trace-text"] input', 'no-such-event-name');
  await page.waitForFunction(() => /^0 of /.test(document.querySelector('[data-testid="trace-count"]')?.textContent ?? ''));
  const target = events[Math.floor(events.length / 2)]!;
  await stub.notify('trace/focus', { id: target.id });
  await page.waitForSelector(`.trace-row.selected[data-id="${target.id}"]`, { timeout: 10_000 });
  assert.equal(await page.$eval('[data-testid="trace-text"]', (el) => (el as HTMLElement & { value: string }).value), '');
  const detailTitle = (await page.textContent('[data-testid="trace-detail"] h3')) ?? '';
  assert.ok(detailTitle.includes(target.name), `detail pane: ${detailTitle}`);
  const later: IpcTraceEvent = { id: lastId + 2, time: Date.now(), kind: 'call', name: 'users.getUsers', dcId: 4 };
  await stub.notify('trace/focus', { id: later.id });
  events.push(later);
  await stub.notify('trace/events', { events: [later] });
  await page.waitForSelector(`.trace-row.selected[data-id="${later.id}"]`, { timeout: 10_000 });
  mark('trace');
});

test('query runner: the form for messages.getHistory produces the exact JSON, errors name the field and type, results offer Download from DC n', async () => {
  await page.click('vscode-panel-tab[data-tab="query"]');
  try {
    await page.waitForSelector('li[data-method]', { timeout: 10_000 });
  } catch (e) {
    await page.screenshot({ path: join(OUT, 'failure-query.png') });
    console.log(
      await page.textContent('[data-testid="query"]'),
      stub.received.map((r) => r.msg.method),
    );
    throw e;
  }
  await page.fill('[data-testid="method-search"] input', 'messages.getHistory');
  await page.click('li[data-method="messages.getHistory"]');
  await page.waitForSelector('[data-picker="peer"]');
  await pick(page, '[data-picker="peer"]', 'inputPeerSelf');
  await page.fill('[data-control="limit"] input', '20');
  const expected = {
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
  // The required fields of layer 227, in schema order.
  const m = schema.methodByName('messages.getHistory')!;
  assert.deepEqual(
    Object.keys(expected).slice(1),
    m.params.filter((p) => p.type !== '#' && !p.flag).map((p) => p.name),
  );
  const jsonText = async () => page.$eval('[data-testid="query-json"]', (el) => (el as HTMLElement & { value: string }).value);
  await page.waitForFunction(() => /"limit": 20/.test((document.querySelector('[data-testid="query-json"]') as HTMLElement & { value: string }).value));
  const json = JSON.parse(await jsonText());
  assert.equal(JSON.stringify(json), JSON.stringify(expected));
  // The host accepts it as is.
  assert.doesNotThrow(() => tlFromJson(schema, json));
  assert.equal(await page.$$eval('[data-testid="query-errors"] li', (l) => l.length), 0);
  await page.screenshot({ path: join(OUT, 'query-form.png') });

  // A wrong value: limit "abc" → an error naming `limit` and `int`, next to the field and in the list.
  await page.fill('[data-control="limit"] input', 'abc');
  await page.waitForSelector('[data-testid="query-errors"] li');
  const errs = await page.$$eval('[data-testid="query-errors"] li', (l) => l.map((x) => x.textContent ?? ''));
  assert.ok(
    errs.some((e) => /\blimit\b/.test(e) && /\bint\b/.test(e)),
    `errors: ${errs}`,
  );
  const fieldErr = await page.textContent('[data-error-for="limit"]');
  assert.match(fieldErr ?? '', /limit.*int/);
  assert.equal(JSON.parse(await jsonText()).limit, 'abc');
  await page.screenshot({ path: join(OUT, 'query-error.png') });

  // JSON editor → form: edit the JSON, the form follows.
  await page.fill('[data-testid="query-json"] textarea', JSON.stringify({ ...expected, limit: 20 }, null, 2));
  await page.waitForFunction(() => ((document.querySelector('[data-control="limit"]') as HTMLElement & { value: string })?.value ?? '') === '20');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="query-errors"] li').length === 0);

  // Run on the home DC against the real sandbox: the seeded documents and photo come back.
  await page.click('[data-testid="query-run"]');
  await page.waitForSelector('[data-testid="result-files"]', { timeout: 15_000 });
  const buttons = await page.$$eval('[data-testid="result-files"] [data-download-dc]', (b) => b.map((x) => x.getAttribute('data-download-dc')));
  assert.ok(buttons.includes('1') && buttons.includes('3') && buttons.includes('4') && buttons.includes('2'), `download buttons: ${buttons}`);
  const small = sandbox.files().find((f) => f.key === 'small-dc1')!;
  const li = page.locator('[data-testid="result-files"] li', { hasText: 'small-dc1.bin' });
  assert.equal(await li.locator('[data-download-dc]').textContent(), `Download from DC ${small.dcId}`);
  await page.screenshot({ path: join(OUT, 'query-result.png') });
  await li.locator('[data-download-dc]').click();
  const req = await stub.waitFor((mm) => mm.type === 'request' && mm.method === 'download/start');
  assert.equal(req.type === 'request' && req.method === 'download/start' && req.params.dcId, small.dcId);
  const params = (req as { params: { location: unknown; size?: number; name?: string } }).params;
  assert.deepEqual(params.location, small.location);
  assert.equal(params.size, small.size);
  assert.equal(params.name, 'small-dc1.bin');

  // History: the run is listed and can be re-run.
  assert.ok((await page.$$eval('[data-testid="query-history"] li', (l) => l.length)) >= 1);
  // Panel state kept through setState.
  const st = await page.evaluate(() => (window as unknown as { __dclabState(): { tab: string; history?: unknown[] } }).__dclabState());
  assert.equal(st.tab, 'query');
  assert.ok((st.history?.length ?? 0) >= 1);

  // Vectors with add/remove and a nested type picker; run on a chosen DC.
  await page.fill('[data-testid="method-search"] input', 'users.getUsers');
  await page.click('li[data-method="users.getUsers"]');
  await page.click('[data-add="id"]');
  await pick(page, '[data-picker="id[0]"]', 'inputUserSelf');
  await page.waitForFunction(() => /inputUserSelf/.test((document.querySelector('[data-testid="query-json"]') as HTMLElement).value));
  assert.equal(JSON.stringify(JSON.parse(await jsonText())), JSON.stringify({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }));
  await pick(page, '[data-testid="query-dc"]', '3');
  await page.click('[data-testid="query-run"]');
  await page.waitForFunction(() => /OK on DC 3/.test(document.querySelector('[data-testid="query-result"]')?.textContent ?? ''), undefined, {
    timeout: 10_000,
  });
  await page.click('[data-remove="id[0]"]');
  await page.waitForFunction(() => JSON.parse((document.querySelector('[data-testid="query-json"]') as HTMLElement).value).id.length === 0);
  await pick(page, '[data-testid="query-dc"]', '');

  // Flags: `true` flags as checkboxes, optional fields stay absent; keys in schema order.
  await page.fill('[data-testid="method-search"] input', 'upload.getFile');
  await page.click('li[data-method="upload.getFile"]');
  await page.click('[data-control="precise"]');
  await page.waitForFunction(() => /"precise": true/.test((document.querySelector('[data-testid="query-json"]') as HTMLElement).value));
  const gf = JSON.parse(await jsonText());
  assert.deepEqual(Object.keys(gf), ['_', 'precise', 'offset', 'limit']);
  const errs2 = await page.$$eval('[data-testid="query-errors"] li', (l) => l.map((x) => x.textContent ?? ''));
  assert.ok(
    errs2.some((e) => /^location: required, expected InputFileLocation/.test(e)),
    `errors: ${errs2}`,
  );
  await pick(page, '[data-picker="location"]', 'inputDocumentFileLocation');
  await page.waitForSelector('[data-control="location.thumb_size"]');
  await page.screenshot({ path: join(OUT, 'query-flags-nested.png') });
  // What is kept never holds a secret typed in the editor (VS Code writes it to disk), even half-typed.
  for (const typed of ['{"_":"auth.checkPassword","password":"pw-canary-7731"}', '{"_":"auth.signIn","phone_code":"55117']) {
    await page.fill('[data-testid="query-json"] textarea', typed);
    await page.waitForFunction(() => JSON.stringify((window as unknown as { __dclabState(): unknown }).__dclabState()).includes('[redacted]'));
    const kept = JSON.stringify(await page.evaluate(() => (window as unknown as { __dclabState(): unknown }).__dclabState()));
    assert.ok(!kept.includes('pw-canary-7731') && !kept.includes('55117'), kept);
  }
  mark('query');
});

test('downloads: progress and the finished file, with open', async () => {
  await page.click('vscode-panel-tab[data-tab="downloads"]');
  try {
    await page.waitForSelector('.download[data-state="done"], .download[data-state="failed"]', { timeout: 15_000 });
    assert.equal(await page.getAttribute('.download', 'data-state'), 'done');
  } catch (e) {
    await page.screenshot({ path: join(OUT, 'failure-downloads.png') });
    console.log(await page.textContent('[data-testid="downloads"]'));
    throw e;
  }
  const info = await page.textContent('.download[data-state="done"] .download-info');
  assert.match(info ?? '', /saved/);
  const path = join(tmp, 'downloads', 'small-dc1.bin');
  assert.ok(existsSync(path));
  assert.equal(readFileSync(path).length, sandbox.files().find((f) => f.key === 'small-dc1')!.size);
  // A running download (host notifications): progress, speed and cancel.
  await stub.notify('download/changed', {
    downloadId: 'big',
    name: 'big-64m.bin',
    dcId: 4,
    state: 'running',
    bytes: 25 * 1024 * 1024,
    total: 64 * 1024 * 1024,
    speed: 13.6 * 1024 * 1024,
    startedAt: Date.now(),
    dcPath: [4],
  });
  await page.waitForSelector('.download[data-download-id="big"][data-state="running"]');
  const running = (await page.textContent('.download[data-download-id="big"] .download-info'))!;
  assert.match(running, /25\.0 MiB of 64\.0 MiB \(39%\) · 13\.6 MiB\/s/);
  await page.screenshot({ path: join(OUT, 'downloads.png') });
  await page.click('.download[data-download-id="big"] [data-action="cancel"]');
  const cancel = await stub.waitFor((m) => m.type === 'command' && m.method === 'download/cancel');
  assert.deepEqual(cancel.params, { downloadId: 'big' });
  await page.click('.download[data-state="done"] [data-action="open"]');
  await stub.waitFor((m) => m.type === 'command' && m.method === 'download/open');
  mark('downloads');
});

test('faults: typed sandbox/fault requests run on the real sandbox, errors shown, disabled with the reason', async () => {
  const lastFault = () => faultRequests[faultRequests.length - 1];
  const result = '[data-testid="fault-result"]';
  await page.click('vscode-panel-tab[data-tab="faults"]');
  // Opening the tab shows the sandbox once.
  await page.waitForSelector(`${result}[data-state="ok"]`, { timeout: 10_000 });
  assert.deepEqual(faultRequests[0], { action: 'status' });
  assert.match((await page.textContent('[data-testid="fault-status"]')) ?? '', /DC 1.*DC 5/s);

  // restart-dc on DC2 for 200 ms: the payload is typed, the sandbox restarts the DC, the answer is shown.
  const row = (a: string) => `.fault-row[data-action="${a}"]`;
  await pick(page, `${row('restart-dc')} [data-field="dcId"]`, '2');
  await page.fill(`${row('restart-dc')} [data-field="downMs"] input`, '200');
  await page.click(`[data-testid="fault-run-restart-dc"]`);
  await page.waitForFunction((s) => /DC2 restarted \(down 200 ms\)/.test(document.querySelector(s)?.textContent ?? ''), result, { timeout: 10_000 });
  assert.deepEqual(lastFault(), { action: 'restart-dc', dcId: 2, downMs: 200 });
  // The client reconnects to DC2 on its next call; the connections table follows the host's snapshot.
  await client.ping(2);
  await stub.notify('topology/changed', topologyOf(client, events));
  await page.waitForSelector('[data-testid="fault-connections"] tr[data-dc="2"][data-conn-state="ready"]');
  const conn2 = (await page.textContent('[data-testid="fault-connections"] tr[data-dc="2"]')) ?? '';
  assert.match(conn2, /ready · [1-9]\d* reconnects?/, `DC2 after restart: ${conn2}`);

  // transport-error with its prefilled code 404 on every DC: the pending rule is listed.
  await page.click('[data-testid="fault-run-transport-error"]');
  await page.waitForFunction((s) => /transport error -404/.test(document.querySelector(s)?.textContent ?? ''), result);
  assert.deepEqual(lastFault(), { action: 'transport-error', code: 404 });
  assert.deepEqual(sandbox.status().faults.transportErrors, [{ code: -404, left: 1 }]);
  assert.match((await page.textContent('[data-testid="fault-pending"]')) ?? '', /transport-error: -404/);

  // rpc-error with every field: method, error text, DC, count.
  await page.fill(`${row('rpc-error')} [data-field="method"] input`, 'help.getConfig');
  await page.fill(`${row('rpc-error')} [data-field="error"] input`, 'FLOOD_WAIT_3');
  await pick(page, `${row('rpc-error')} [data-field="dcId"]`, '3');
  await page.fill(`${row('rpc-error')} [data-field="count"] input`, '2');
  await page.click('[data-testid="fault-run-rpc-error"]');
  await page.waitForFunction((s) => /help\.getConfig on DC3 answer FLOOD_WAIT_3/.test(document.querySelector(s)?.textContent ?? ''), result);
  assert.deepEqual(lastFault(), { action: 'rpc-error', method: 'help.getConfig', error: 'FLOOD_WAIT_3', dcId: 3, count: 2 });
  await page.screenshot({ path: join(OUT, 'faults.png'), fullPage: true });

  // A value the webview can check is refused before sending, naming the field.
  const sent = faultRequests.length;
  await page.fill(`${row('rpc-error')} [data-field="error"] input`, 'flood wait');
  await page.click('[data-testid="fault-run-rpc-error"]');
  await page.waitForFunction(() => /^error: expected an rpc_error token/.test(document.querySelector('[data-error-for="rpc-error"]')?.textContent ?? ''));
  assert.equal(faultRequests.length, sent, 'nothing sent');
  // One only the host can judge: its error is shown.
  await page.fill(`${row('transport-error')} [data-field="code"] input`, '42');
  await page.click('[data-testid="fault-run-transport-error"]');
  await page.waitForSelector(`${result}[data-state="error"]`);
  assert.deepEqual(lastFault(), { action: 'transport-error', code: 42 });
  assert.match((await page.textContent(result)) ?? '', /^Transport error failed: transport-error: transport error code must be 100\.\.999/);
  await page.screenshot({ path: join(OUT, 'faults-error.png'), fullPage: true });

  await page.click('[data-testid="fault-run-clear-faults"]');
  await page.waitForFunction((s) => /faults cleared/.test(document.querySelector(s)?.textContent ?? ''), result);
  assert.deepEqual(sandbox.status().faults.transportErrors, []);
  assert.deepEqual(sandbox.status().faults.rpcErrors, []);

  // Not the running sandbox profile: the section says why and runs nothing.
  faultsOn = false;
  await stub.notify('topology/changed', topologyOf(client, events));
  await page.waitForSelector('[data-testid="faults-notice"][data-available="false"]');
  assert.equal(await page.textContent('[data-testid="faults-notice"]'), 'Faults are off: the sandbox is not running (DC Lab: Start Sandbox).');
  assert.equal(await page.getAttribute('[data-testid="fault-run-status"]', 'disabled'), '');
  const before = faultRequests.length;
  await page.click('[data-testid="fault-run-status"]', { force: true });
  await frame(page);
  assert.equal(faultRequests.length, before);
  await page.screenshot({ path: join(OUT, 'faults-disabled.png'), fullPage: true });
  faultsOn = true;
  await stub.notify('topology/changed', topologyOf(client, events));
  await page.waitForSelector('[data-testid="faults-notice"][data-available="true"]');
  assert.equal(
    await page.$eval(`${row('rpc-error')} [data-field="dcId"]`, (el) => (el as HTMLElement & { value: string }).value),
    '3',
    'the DC picked before is kept',
  );
  mark('faults');
});

test('every webview message passed validateWebviewMessage; no CSP violations or page errors', async () => {
  assert.deepEqual(stub.invalid, []);
  const violations = await page.evaluate(() => (window as unknown as { __dclabViolations: string[] }).__dclabViolations);
  assert.deepEqual(violations, []);
  assert.deepEqual(stub.errors, []);
  assert.ok(realEventCount > 20, `real sandbox events: ${realEventCount}`);
  console.log(`real sandbox events: ${realEventCount}; scroll: ${timings.scrollMsPerJump} ms per jump`);
});
