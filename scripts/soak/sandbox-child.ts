// The soak's sandbox in a process of its own (forked by sandbox-proc.ts), so its RSS is the sandbox's alone and not
// the clients'. argv[2]: JSON of the SandboxOptions to pass (numbers, booleans, strings only). It answers IPC
// messages: { type: 'mem', id } → memory figures; { type: 'status', id } → sandbox.status() and a few counts;
// { type: 'gc', id } → a full GC when exposed; { type: 'register', id, phones } → registers users;
// { type: 'stop' } → stops and exits. The last log lines are kept
// for a failure report ({ type: 'log', id }).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import gramjsApiTl from 'telegram/tl/apiTl.js';
import { LAYER as GRAMJS_LAYER } from 'telegram/tl/AllTLObjects';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';

interface Request {
  type: string;
  id?: number;
  phones?: string[];
}

const LOG_KEEP = 400;

async function main(): Promise<void> {
  const extra = JSON.parse(process.argv[2] ?? '{}') as Partial<SandboxOptions>;
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(`${new Date().toISOString()} ${line}`);
    if (lines.length > LOG_KEEP * 2) lines.splice(0, lines.length - LOG_KEEP);
  };
  let sb: Sandbox | undefined;
  let dataDir = '';
  // mtcute 0.30.3 does not find a key whose unsigned fingerprint is below 2^60 (see test/interop/helpers/sandbox.ts)
  for (let attempt = 1; attempt <= 10; attempt++) {
    dataDir = mkdtempSync(join(tmpdir(), 'dclab-soak-sb-'));
    sb = await startSandbox({
      basePort: 0,
      dataDir,
      ipv6: false,
      control: false,
      extraSchemas: [{ layer: GRAMJS_LAYER, text: gramjsApiTl }],
      log,
      ...extra,
    });
    if (BigInt.asUintN(64, BigInt(sb.info.rsa.fingerprint)) >= 1n << 60n) break;
    await sb.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const sandbox = sb!;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const send = (m: unknown): void => {
    if (process.connected) process.send?.(m);
  };
  process.on('message', (raw: unknown) => {
    const m = raw as Request;
    if (m.type === 'mem') {
      const u = process.memoryUsage();
      const loopDelayP99 = Math.round(loop.percentile(99) / 1e5) / 10;
      loop.reset();
      send({
        type: 'mem',
        id: m.id,
        rss: u.rss,
        heapTotal: u.heapTotal,
        heapUsed: u.heapUsed,
        external: u.external,
        arrayBuffers: u.arrayBuffers,
        loopDelayP99,
      });
    } else if (m.type === 'gc') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      send({ type: 'gc', id: m.id, done: !!gc });
    } else if (m.type === 'status') {
      const st = sandbox.status();
      send({ type: 'status', id: m.id, connections: st.dcs.reduce((n, d) => n + d.connections, 0) + (st.cdn?.connections ?? 0) });
    } else if (m.type === 'register') {
      // the soak's numbers are users already (mtcute cannot sign up; GramJS and ours need no names then)
      for (const [i, phone] of (m.phones ?? []).entries()) sandbox.registerUser(phone, 'Soak', `User ${i}`);
      send({ type: 'register', id: m.id, count: m.phones?.length ?? 0 });
    } else if (m.type === 'snapshot') {
      // diagnostics: a heap snapshot file of the sandbox process
      const file = writeHeapSnapshot(join(tmpdir(), `dclab-soak-${process.pid}-${Date.now()}.heapsnapshot`));
      send({ type: 'snapshot', id: m.id, file });
    } else if (m.type === 'log') {
      send({ type: 'log', id: m.id, lines: lines.slice(-LOG_KEEP) });
    } else if (m.type === 'stop') {
      void sandbox.stop().finally(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.on('disconnect', () => {
    void sandbox.stop().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  send({ type: 'ready', info: sandbox.info, files: sandbox.files() });
}

main().catch((e: unknown) => {
  process.stderr.write(`sandbox child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
