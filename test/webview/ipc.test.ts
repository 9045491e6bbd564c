// src/ipc: the validator the host runs on every webview message, the helpers, the structural mirrors of src/trace
// and src/dc types; and the webview's import rules (webview/src imports only src/ipc; the component library only
// inside webview/src/toolkit/), plus a typecheck of the browser code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  command,
  dcNodeState,
  edgesFromTrace,
  errorResponse,
  isRequest,
  notification,
  request,
  response,
  validateWebviewMessage,
  type IpcDcEndpoint,
  type IpcTraceEvent,
  type IpcTraceExport,
  type IpcTlEntry,
  type WebviewMessage,
} from '../../src/ipc/index.js';
import type { TraceEvent, TraceExport } from '../../src/trace/index.js';
import type { DcEndpoint } from '../../src/dc/topology.js';
import type { TlEntry } from '../../src/tl/types.js';

// Compile-time: the host can pass src/trace and src/dc values as they are.
const _trace: (e: TraceEvent) => IpcTraceEvent = (e) => e;
const _export: (e: TraceExport) => IpcTraceExport = (e) => e;
const _endpoint: (e: DcEndpoint) => IpcDcEndpoint = (e) => e;
const _entry: (e: TlEntry) => IpcTlEntry = (e) => e;
void [_trace, _export, _endpoint, _entry];

const ROOT = resolve(__dirname, '../..');

test('validateWebviewMessage accepts every well-formed command and request', () => {
  const good: unknown[] = [
    command('ready', { version: 1 }),
    command('download/cancel', { downloadId: 'd1' }),
    command('download/open', { downloadId: 'd1' }),
    command('trace/clear', {}),
    command('state/changed', { state: { version: 1, tab: 'query', history: [{ query: { _: 'help.getConfig' }, time: 1 }] } }),
    command('log', { level: 'warn', message: 'x' }),
    request(1, 'topology/get', {}),
    request(2, 'trace/get', { sinceId: 10, limit: 100 }),
    request(3, 'trace/get', {}),
    request(4, 'trace/export', {}),
    request(5, 'trace/import', {}),
    request(6, 'schema/methods', {}),
    request(7, 'schema/constructorsOfType', { types: ['InputPeer', 'Vector<InputUser>'] }),
    request(8, 'query/run', { query: { _: 'messages.getHistory', peer: { _: 'inputPeerSelf' }, limit: 20, hash: '0' } }),
    request(9, 'query/run', { query: { _: 'help.getConfig' }, dcId: 3 }),
    request(10, 'download/start', { location: { _: 'inputDocumentFileLocation', id: '1', access_hash: '2', file_reference: 'AA==', thumb_size: '' }, dcId: 1, size: 5000, name: 'a.bin' }),
  ];
  for (const m of good) {
    const r = validateWebviewMessage(m);
    assert.ok(r.ok, `${JSON.stringify(m)}: ${r.ok ? '' : r.error}`);
  }
});

test('validateWebviewMessage refuses bad messages and names the field', () => {
  const cases: [unknown, RegExp][] = [
    [null, /^message: expected an object/],
    [{ type: 'notification', method: 'init', params: {} }, /^type:/],
    [{ type: 'request', method: 'nope', id: 1, params: {} }, /^method: unknown request "nope"/],
    [{ type: 'request', method: 'topology/get', params: {} }, /^id: expected an integer/],
    [{ type: 'request', method: 'topology/get', id: 1, params: {}, extra: 1 }, /^extra: unknown field/],
    [request(1, 'query/run', { query: { _: 'help.getConfig' }, dcId: 0 }), /query\/run: params\.dcId: expected an integer 1\.\.65535/],
    [request(1, 'query/run', { query: { peer: {} } } as never), /params\.query\._: expected a constructor or method name/],
    [request(1, 'query/run', { query: { _: 'x', n: Infinity } } as never), /params\.query\.n: expected a finite number/],
    [request(1, 'download/start', { location: { _: 'inputDocumentFileLocation' }, dcId: '1' } as never), /download\/start: params\.dcId: expected an integer/],
    [request(1, 'download/start', { location: { _: 'inputDocumentFileLocation' } } as never), /params\.dcId: missing/],
    [request(1, 'schema/constructorsOfType', { types: ['InputPeer', 5] } as never), /params\.types\[1\]: expected a string/],
    [request(1, 'trace/get', { sinceId: -1 }), /params\.sinceId: expected an integer 0\.\./],
    [request(1, 'trace/get', { since: 1 } as never), /params\.since: unknown field/],
    [command('download/cancel', {} as never), /params\.downloadId: missing/],
    [command('log', { level: 'debug', message: '' } as never), /params\.level: expected one of info, warn, error/],
    [command('state/changed', { state: { version: 2, tab: 'query' } } as never), /params\.state\.version: expected 1/],
    [command('state/changed', { state: { version: 1, tab: 'nope' } } as never), /params\.state\.tab: expected one of/],
  ];
  for (const [m, re] of cases) {
    const r = validateWebviewMessage(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    if (!r.ok) assert.match(r.error, re);
  }
  // Deep JSON is bounded.
  let deep: Record<string, unknown> = { _: 'x' };
  for (let i = 0; i < 100; i++) deep = { _: 'x', v: deep };
  const r = validateWebviewMessage(request(1, 'query/run', { query: deep as never }));
  assert.ok(!r.ok && /nested deeper than 64/.test(r.error));
});

test('builders, guards and helpers', () => {
  const req = request(3, 'trace/get', { sinceId: 1 });
  const msg = req as WebviewMessage;
  assert.ok(isRequest(msg, 'trace/get'));
  assert.deepEqual(response(req, { events: [], lastId: 0 }), { type: 'response', id: 3, method: 'trace/get', ok: true, result: { events: [], lastId: 0 } });
  assert.deepEqual(errorResponse(req, 'boom'), { type: 'response', id: 3, method: 'trace/get', ok: false, error: 'boom' });
  assert.deepEqual(notification('ui/focus', { tab: 'query', method: 'help.getConfig' }), { type: 'notification', method: 'ui/focus', params: { tab: 'query', method: 'help.getConfig' } });
  assert.equal(dcNodeState({ hasKey: true, authorized: true, home: true }), 'home');
  assert.equal(dcNodeState({ hasKey: true, authorized: true, home: false }), 'authorized');
  assert.equal(dcNodeState({ hasKey: true, authorized: false, home: false }), 'key');
  assert.equal(dcNodeState({ hasKey: false, authorized: false, home: false }), 'no-key');
  const ev = (id: number, kind: IpcTraceEvent['kind'], name: string, dcId?: number, targetDc?: number): IpcTraceEvent => ({ id, time: id, kind, name, ...(dcId ? { dcId } : {}), ...(targetDc ? { targetDc } : {}) });
  assert.deepEqual(
    edgesFromTrace([ev(1, 'call', 'auth.sendCode', 2), ev(2, 'redirect', 'PHONE_MIGRATE_4', 2, 4), ev(3, 'transfer', 'transfer', 4, 3), ev(4, 'redirect', 'FILE_MIGRATE_3', 4, 3), ev(5, 'redirect', 'fileCdnRedirect', 2, 203), ev(6, 'redirect', 'PHONE_MIGRATE_4', 2, 4)]),
    [
      { kind: 'redirect', from: 2, to: 4, label: 'PHONE_MIGRATE_4', count: 2, lastEventId: 6 },
      { kind: 'transfer', from: 4, to: 3, label: 'transfer', count: 1, lastEventId: 3 },
      { kind: 'file-migrate', from: 4, to: 3, label: 'FILE_MIGRATE_3', count: 1, lastEventId: 4 },
      { kind: 'cdn', from: 2, to: 203, label: 'fileCdnRedirect', count: 1, lastEventId: 5 },
    ],
  );
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|css)$/.test(p) ? [p] : [];
  });
}

test('webview/src imports only src/ipc (and the component library only inside webview/src/toolkit/)', () => {
  const problems: string[] = [];
  for (const file of walk(join(ROOT, 'webview/src'))) {
    const rel = relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    const inToolkit = rel.startsWith('webview/src/toolkit/');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const target = relative(ROOT, resolve(dirname(file), spec));
        if (!target.startsWith('webview/src/') && !target.startsWith('src/ipc/') && target !== 'src/ipc') problems.push(`${rel} imports ${spec}`);
      } else if (spec === '@vscode/webview-ui-toolkit' || spec.startsWith('@vscode/webview-ui-toolkit/') || spec.startsWith('@microsoft/fast')) {
        if (!inToolkit) problems.push(`${rel} imports ${spec} outside webview/src/toolkit/`);
      } else problems.push(`${rel} imports the package ${spec}`);
    }
    if (!inToolkit && /['"`<]vscode-(button|text-field|text-area|dropdown|option|checkbox|panels|panel-tab|panel-view|badge|tag|divider|progress-ring|data-grid|link|radio)/.test(text) && !rel.endsWith('.css'))
      problems.push(`${rel} names a toolkit element outside webview/src/toolkit/`);
  }
  for (const file of walk(join(ROOT, 'src/ipc'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      if (!m[1]!.startsWith('./')) problems.push(`${relative(ROOT, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the browser code typechecks (webview/tsconfig.json: DOM lib, src/ipc included)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'webview/tsconfig.json', '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
