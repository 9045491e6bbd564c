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
  configReadText,
  connectEndpointText,
  faultFieldValue,
  faultRequestError,
  faultRequestFrom,
  IPC_FAULT_ACTIONS,
  IPC_FAULT_SPECS,
  type IpcConnectEndpoint,
  type IpcDcConnection,
  type IpcSandboxStatus,
  type IpcDcEndpoint,
  type IpcTraceEvent,
  type IpcTraceExport,
  type IpcTraceWire,
  type IpcTlEntry,
  type WebviewMessage,
} from '../../src/ipc/index';
import type { TraceEvent, TraceExport, TraceWire } from '../../src/trace/index';
import type { DcEndpoint } from '../../src/dc/topology';
import type { DcEndpointChoice } from '../../src/dc/profile';
import type { DcConnectionInfo } from '../../src/dc/dc-connection';
import type { SandboxStatus } from '../../src/sandbox/index';
import type { TlEntry } from '../../src/tl/types';

// Compile-time: the host can pass src/trace and src/dc values as they are.
const _trace: (e: TraceEvent) => IpcTraceEvent = (e) => e;
const _export: (e: TraceExport) => IpcTraceExport = (e) => e;
// The wire mirror is exact both ways: the panel reads no field the trace does not write.
const _wire: (w: IpcTraceWire) => TraceWire = (w) => w;
const _endpoint: (e: DcEndpoint) => IpcDcEndpoint = (e) => e;
const _entry: (e: TlEntry) => IpcTlEntry = (e) => e;
const _choice: (e: DcEndpointChoice) => IpcConnectEndpoint = (e) => e;
const _conn: (i: DcConnectionInfo) => IpcDcConnection = (i) => i;
const _sandbox: (s: SandboxStatus) => IpcSandboxStatus = (s) => s;
void [_trace, _export, _wire, _endpoint, _entry, _choice, _conn, _sandbox];

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
    request(10, 'download/start', {
      location: { _: 'inputDocumentFileLocation', id: '1', access_hash: '2', file_reference: 'AA==', thumb_size: '' },
      dcId: 1,
      size: 5000,
      name: 'a.bin',
    }),
    request(11, 'sandbox/fault', { action: 'drop-connections' }),
    request(12, 'sandbox/fault', { action: 'restart-dc', dcId: 2, downMs: 0 }),
    request(13, 'sandbox/fault', { action: 'move-dc', dcId: 3 }),
    request(14, 'sandbox/fault', { action: 'transport-error', code: -404, dcId: 1, count: 2 }),
    request(15, 'sandbox/fault', { action: 'rotate-salts', dcId: 203 }),
    request(16, 'sandbox/fault', { action: 'latency', dcId: 4, ms: 0 }),
    request(17, 'sandbox/fault', { action: 'rpc-error', method: '*', error: 'PHONE_MIGRATE_4', count: 1 }),
    request(18, 'sandbox/fault', { action: 'move-user', phone: '+999 664-1234', dcId: 2 }),
    request(19, 'sandbox/fault', { action: 'flood', method: 'auth.sendCode', seconds: 30, dcId: 2 }),
    request(20, 'sandbox/fault', { action: 'clear-faults' }),
    request(21, 'sandbox/fault', { action: 'status' }),
    command('state/changed', { state: { version: 1, tab: 'faults' } }),
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
    [request(1, 'sandbox/fault', { action: 'reboot' } as never), /^sandbox\/fault: params\.action: expected one of drop-connections, restart-dc, /],
    [request(1, 'sandbox/fault', {} as never), /params\.action: expected one of/],
    [request(1, 'sandbox/fault', { action: 'restart-dc' } as never), /^sandbox\/fault: params\.dcId: missing$/],
    [request(1, 'sandbox/fault', { action: 'restart-dc', dcId: '2' } as never), /params\.dcId: expected an integer 1\.\.65535/],
    [request(1, 'sandbox/fault', { action: 'restart-dc', dcId: 2, downMs: -1 }), /params\.downMs: expected an integer 0\.\.600000/],
    [request(1, 'sandbox/fault', { action: 'move-dc', dcId: 2, downMs: 5 } as never), /params\.downMs: unknown field/],
    [request(1, 'sandbox/fault', { action: 'transport-error', code: 404.5 }), /params\.code: expected an integer -999\.\.999/],
    [request(1, 'sandbox/fault', { action: 'transport-error', code: 404, count: 0 }), /params\.count: expected an integer 1\.\./],
    [request(1, 'sandbox/fault', { action: 'latency', dcId: 2 } as never), /params\.ms: missing/],
    [request(1, 'sandbox/fault', { action: 'rpc-error', method: 'auth.sendCode', error: 'flood' }), /params\.error: expected an rpc_error token/],
    [request(1, 'sandbox/fault', { action: 'rpc-error', method: 'bad method!', error: 'X' }), /params\.method: expected an API method name/],
    [request(1, 'sandbox/fault', { action: 'flood', method: '*', seconds: 0 }), /params\.seconds: expected an integer 1\.\.86400/],
    [
      request(1, 'sandbox/fault', { action: 'move-user', phone: 5, dcId: 2 } as never),
      /params\.phone: expected a string \(the phone number of a sandbox user\)/,
    ],
    [request(1, 'sandbox/fault', { action: 'status', dcId: 1 } as never), /params\.dcId: unknown field/],
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
  assert.deepEqual(notification('ui/focus', { tab: 'query', method: 'help.getConfig' }), {
    type: 'notification',
    method: 'ui/focus',
    params: { tab: 'query', method: 'help.getConfig' },
  });
  assert.equal(dcNodeState({ hasKey: true, authorized: true, home: true }), 'home');
  assert.equal(dcNodeState({ hasKey: true, authorized: true, home: false }), 'authorized');
  assert.equal(dcNodeState({ hasKey: true, authorized: false, home: false }), 'key');
  assert.equal(dcNodeState({ hasKey: false, authorized: false, home: false }), 'no-key');
  const ev = (id: number, kind: IpcTraceEvent['kind'], name: string, dcId?: number, targetDc?: number): IpcTraceEvent => ({
    id,
    time: id,
    kind,
    name,
    ...(dcId ? { dcId } : {}),
    ...(targetDc ? { targetDc } : {}),
  });
  assert.deepEqual(
    edgesFromTrace([
      ev(1, 'call', 'auth.sendCode', 2),
      ev(2, 'redirect', 'PHONE_MIGRATE_4', 2, 4),
      ev(3, 'transfer', 'transfer', 4, 3),
      ev(4, 'redirect', 'FILE_MIGRATE_3', 4, 3),
      ev(5, 'redirect', 'fileCdnRedirect', 2, 203),
      ev(6, 'redirect', 'PHONE_MIGRATE_4', 2, 4),
    ]),
    [
      { kind: 'redirect', from: 2, to: 4, label: 'PHONE_MIGRATE_4', count: 2, lastEventId: 6 },
      { kind: 'transfer', from: 4, to: 3, label: 'transfer', count: 1, lastEventId: 3 },
      { kind: 'file-migrate', from: 4, to: 3, label: 'FILE_MIGRATE_3', count: 1, lastEventId: 4 },
      { kind: 'cdn', from: 2, to: 203, label: 'fileCdnRedirect', count: 1, lastEventId: 5 },
    ],
  );
});

test('fault specs: every action has one, typed-in values become the typed request or an error naming the field', () => {
  assert.deepEqual(
    [...IPC_FAULT_ACTIONS],
    ['drop-connections', 'restart-dc', 'move-dc', 'transport-error', 'rotate-salts', 'latency', 'rpc-error', 'move-user', 'flood', 'clear-faults', 'status'],
  );
  for (const a of IPC_FAULT_ACTIONS) assert.equal(IPC_FAULT_SPECS[a].action, a);
  assert.deepEqual(faultRequestFrom('restart-dc', { dcId: '2', downMs: '' }), { request: { action: 'restart-dc', dcId: 2 } });
  assert.deepEqual(faultRequestFrom('transport-error', { code: ' 404 ', dcId: '', count: '3' }), {
    request: { action: 'transport-error', code: 404, count: 3 },
  });
  assert.deepEqual(faultRequestFrom('rpc-error', { method: 'help.getConfig', error: 'FLOOD_WAIT_3', dcId: '3', count: '' }), {
    request: { action: 'rpc-error', method: 'help.getConfig', error: 'FLOOD_WAIT_3', dcId: 3 },
  });
  assert.deepEqual(faultRequestFrom('status', {}), { request: { action: 'status' } });
  assert.deepEqual(faultRequestFrom('move-dc', { dcId: '' }), { error: 'DC: required (a DC id)' });
  assert.match(faultRequestFrom('latency', { dcId: '2', ms: 'fast' }).error ?? '', /^ms: expected an integer 0\.\.600000/);
  assert.match(faultRequestFrom('flood', { method: '*', seconds: '1.5' }).error ?? '', /^seconds: expected an integer 1\.\.86400/);
  assert.match(faultRequestFrom('rpc-error', { method: '*', error: 'flood wait' }).error ?? '', /^error: expected an rpc_error token/);
  assert.deepEqual(faultFieldValue(IPC_FAULT_SPECS['move-user'].fields[0]!, '+999 664-1234'), { value: '+999 664-1234' });
  // every request built from a spec passes the host's validator
  for (const a of IPC_FAULT_ACTIONS) {
    const texts: Record<string, string> = {};
    for (const f of IPC_FAULT_SPECS[a].fields)
      texts[f.name] = f.kind === 'dc' ? '2' : (f.initial ?? (f.name === 'error' ? 'FLOOD_WAIT_3' : f.name === 'phone' ? '9996641234' : '5'));
    const built = faultRequestFrom(a, texts);
    assert.ok(built.request, `${a}: ${built.error}`);
    assert.equal(faultRequestError(built.request), undefined, a);
    assert.ok(validateWebviewMessage(request(1, 'sandbox/fault', built.request!)).ok, a);
  }
  assert.equal(faultRequestError({ action: 'latency', dcId: 2 }), 'fault.ms: missing');
});

test('topology texts: the config read time with its expiry, one endpoint of a connect order', () => {
  const at = new Date(2024, 0, 2, 12, 0, 1).getTime();
  assert.equal(configReadText({}), undefined);
  assert.equal(configReadText({ configFetchedAt: at, configExpires: at / 1000 + 3600 }, at), 'config read at 12:00:01 (expires 13:00:01)');
  assert.equal(configReadText({ configFetchedAt: at, configExpires: at / 1000 - 60 }, at), 'config read at 12:00:01 (expired 11:59:01)');
  assert.equal(connectEndpointText({ host: '::1', port: 443, ipv6: true, obfuscated: true, source: 'profile' }), '[::1]:443 · profile · obfuscated');
  assert.equal(
    connectEndpointText({ host: '127.0.0.1', port: 20442, ipv6: false, obfuscated: false, source: 'config', inUse: true }),
    '127.0.0.1:20442 · config',
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
    if (
      !inToolkit &&
      /['"`<]vscode-(button|text-field|text-area|dropdown|option|checkbox|panels|panel-tab|panel-view|badge|tag|divider|progress-ring|data-grid|link|radio)/.test(
        text,
      ) &&
      !rel.endsWith('.css')
    )
      problems.push(`${rel} names a toolkit element outside webview/src/toolkit/`);
  }
  for (const file of walk(join(ROOT, 'src/ipc'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      // The secret policy is the one exception: the panel state is redacted by the trace's own rules.
      if (!m[1]!.startsWith('./') && m[1] !== '../tl/secret-fields') problems.push(`${relative(ROOT, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the browser code typechecks (webview/tsconfig.json: DOM lib, src/ipc included)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'webview/tsconfig.json', '--noEmit'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
