// MB/s downloading the seeded 64 MiB file (`big-64m`, DC 4) from the sandbox, ours beside GramJS and mtcute in one
// run, with peak memory, plus what the AES-256-IGE primitive alone does (the aim: ours ≥ 3× GramJS, within 2× of the
// primitive). The sandbox runs in this (parent) process; every client variant runs in its own child process (a
// fresh Node, so its RSS is its own), logs in as 9996641234 (home DC 4, where the file lives: no transfer), and is
// timed from the first download request to the last byte on disk (login excluded). Every variant writes the file to
// disk and the child checks its sha256 against the sandbox's; a mismatch fails the bench.
//   ours      downloadFile(client, { location, dcId: 4, size, out }) (src/files: 1 MiB parts, 4 in flight, positioned writes)
//   oursCdn   the same file marked for the CDN (`big-64m-cdn`): fileCdnRedirect → DC 203, AES-256-CTR + SHA-256 ranges
//   gramjs    client.downloadFile(InputDocumentFileLocation, { dcId: 4, fileSize, outputFile }) (GramJS 2.26: one
//             request at a time, 128 KiB parts for files < 100 MB, its IGE in pure JS)
//   mtcute    tg.downloadToFile(path, location, { dcId: 4, fileSize }) (@mtcute/node 0.30: parallel parts, WASM IGE)
// Peak memory: the child's RSS sampled every 10 ms during the download; `peakRssMb` = peak − RSS right before the
// download started (the login's and the modules' memory is not the download's), `maxRssMb` = the child's lifetime
// maximum (process.resourceUsage().maxRSS).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AesIge } from '../src/crypto/aes-ige';
import { randomBytes } from '../src/crypto/random';
import { parseRsaPublicKeyPem } from '../src/crypto/rsa';
import type { Sandbox, SandboxInfo } from '../src/sandbox/index';
import { profileFromSandboxInfo } from '../src/dc/index';
import { createDcClient } from '../src/lifecycle/index';
import { downloadFile, locationFromJson } from '../src/files/index';
import { Api } from 'telegram';
import bigInt from 'big-integer';
import Long from 'long';
import { MemorySession } from 'telegram/sessions';
import { ConnectionTCPFull } from 'telegram/network';
import { LogLevel } from 'telegram/extensions/Logger';
import { MemoryLogger, registerGramjsKey, SandboxTelegramClient, sandboxConnection } from '../test/interop/helpers/gramjs';
import { makeMtcuteClient, mtcuteStart } from '../test/interop/helpers/mtcute';
import { startInteropSandbox } from '../test/interop/helpers/sandbox';
import { emit, fail, log, median, nowMs, rotate, round } from './_lib';

const RUNS = Number(process.env.BENCH_DOWNLOAD_RUNS ?? 3);
const WARMUP = Number(process.env.BENCH_DOWNLOAD_WARMUP ?? 0);
const TIMEOUT_MS = Number(process.env.BENCH_DOWNLOAD_TIMEOUT_MS ?? 180_000);
const VARIANTS = (process.env.BENCH_DOWNLOAD_VARIANTS ?? 'ours,oursCdn,gramjs,mtcute,ige').split(',') as Variant[];
const HOME_DC = 4;
const PHONE = '9996641234';
const CODE = '44444';
const API_ID = 12345;
const API_HASH = '0123456789abcdef0123456789abcdef';

type Variant = 'ours' | 'oursCdn' | 'gramjs' | 'mtcute' | 'ige';

interface ChildResult {
  variant: Variant;
  ms: number;
  bytes: number;
  sha256: string;
  peakRssMb: number;
  maxRssMb: number;
  /** CPU time of the client process during the download (all its threads). */
  cpuMs: number;
  /** CPU time of the bench process (the sandbox) over the same window; filled by the parent. */
  sandboxCpuMs?: number;
  note?: string;
}

interface FileInfo {
  key: string;
  dcId: number;
  size: number;
  sha256: string;
  location: Record<string, unknown>;
}

// ------------------------------------------------------------------------------------------------ child side

let cpuAtStart: NodeJS.CpuUsage | undefined;
/** The child's CPU time (every thread: main and decrypt workers) from the first request to the last byte. */
let cpuMsOfDownload = 0;

function rssSampler(): { stop(): number } {
  // the parent reads these marks to measure the sandbox's CPU time over the same window
  process.stdout.write('MARK start\n');
  cpuAtStart = process.cpuUsage();
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  }, 10);
  return {
    stop() {
      clearInterval(t);
      const cpu = process.cpuUsage(cpuAtStart);
      cpuMsOfDownload = (cpu.user + cpu.system) / 1000;
      process.stdout.write('MARK end\n');
      const r = process.memoryUsage.rss();
      return Math.max(r, peak);
    },
  };
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function runOurs(info: SandboxInfo, file: FileInfo, out: string): Promise<{ ms: number; note: string; base: number; sampler: { stop(): number } }> {
  const client = createDcClient({ profile: profileFromSandboxInfo(info, { firstDc: HOME_DC }) });
  await client.start();
  await client.login({ phone: PHONE, code: async () => CODE });
  const location = locationFromJson(file.location);
  const parallel = process.env.BENCH_DOWNLOAD_PARALLEL ? Number(process.env.BENCH_DOWNLOAD_PARALLEL) : undefined;
  const connections = process.env.BENCH_DOWNLOAD_CONNECTIONS ? Number(process.env.BENCH_DOWNLOAD_CONNECTIONS) : undefined;
  global.gc?.();
  const base = process.memoryUsage.rss();
  const sampler = rssSampler();
  const t0 = nowMs();
  const res = await downloadFile(client, {
    location,
    dcId: file.dcId,
    size: file.size,
    out,
    ...(parallel ? { parallel } : {}),
    ...(connections ? { connections } : {}),
  });
  const ms = nowMs() - t0;
  await client.stop();
  return { ms, base, sampler, note: `parts ${res.parts}, DC ${res.dcPath.join(' → ')}${res.cdn ? ' (cdn)' : ''}` };
}

async function runGramjs(sb: Sandbox, file: FileInfo, out: string): Promise<{ ms: number; note: string; base: number; sampler: { stop(): number } }> {
  registerGramjsKey(sb);
  const session = new MemorySession();
  const dc = sb.info.dcs.find((d) => d.id === HOME_DC)!;
  session.setDC(HOME_DC, dc.host, dc.port);
  const logs: string[] = [];
  const client = new SandboxTelegramClient(session, API_ID, API_HASH, {
    connection: sandboxConnection(ConnectionTCPFull, sb),
    baseLogger: new MemoryLogger(logs, LogLevel.WARN),
    useWSS: false,
    autoReconnect: false,
    connectionRetries: 2,
    deviceModel: 'dclab-bench',
    systemVersion: process.version,
    appVersion: '1.0',
  });
  await client.start({
    phoneNumber: PHONE,
    phoneCode: async () => CODE,
    onError: (e: Error) => {
      throw e;
    },
  });
  const l = file.location as { id: string; access_hash: string; file_reference: string; thumb_size: string };
  const location = new Api.InputDocumentFileLocation({
    id: bigInt(l.id),
    accessHash: bigInt(l.access_hash),
    fileReference: Buffer.from(l.file_reference, 'base64'),
    thumbSize: l.thumb_size,
  });
  global.gc?.();
  const base = process.memoryUsage.rss();
  const sampler = rssSampler();
  const t0 = nowMs();
  await client.downloadFile(location, { dcId: file.dcId, fileSize: bigInt(file.size), outputFile: out });
  const ms = nowMs() - t0;
  await client.disconnect();
  return { ms, base, sampler, note: 'client.downloadFile (128 KiB parts, sequential)' };
}

async function runMtcute(sb: Sandbox, file: FileInfo, out: string): Promise<{ ms: number; note: string; base: number; sampler: { stop(): number } }> {
  const h = await makeMtcuteClient({ sb } as never, { startDc: HOME_DC });
  await mtcuteStart(h, PHONE, CODE);
  const l = file.location as { id: string; access_hash: string; file_reference: string; thumb_size: string };
  const location = {
    _: 'inputDocumentFileLocation' as const,
    id: Long.fromString(l.id),
    accessHash: Long.fromString(l.access_hash),
    fileReference: new Uint8Array(Buffer.from(l.file_reference, 'base64')),
    thumbSize: l.thumb_size,
  };
  global.gc?.();
  const base = process.memoryUsage.rss();
  const sampler = rssSampler();
  const t0 = nowMs();
  await h.tg.downloadToFile(out, location as never, { dcId: file.dcId, fileSize: file.size });
  const ms = nowMs() - t0;
  await h.destroy();
  return { ms, base, sampler, note: 'tg.downloadToFile' };
}

/** The primitive alone, in a child like the clients (same load): one AesIge decrypting 64 × 1 MiB, plus a write. */
async function runIge(file: FileInfo, out: string): Promise<{ ms: number; note: string; base: number; sampler: { stop(): number } }> {
  const ige = new AesIge(randomBytes(32), randomBytes(32));
  const data = randomBytes(1 << 20);
  const buf = new Uint8Array(data.length);
  for (let i = 0; i < 4; i++) ige.decrypt(data, buf);
  const base = process.memoryUsage.rss();
  const sampler = rssSampler();
  const t0 = nowMs();
  for (let off = 0; off < file.size; off += data.length) ige.decrypt(data, buf);
  const ms = nowMs() - t0;
  writeFileSync(out, '');
  return { ms, base, sampler, note: `${file.size / data.length} × AesIge.decrypt(1 MiB)` };
}

async function child(variant: Variant, infoPath: string): Promise<void> {
  const info = JSON.parse(readFileSync(infoPath, 'utf8')) as SandboxInfo & { files: FileInfo[] };
  const key = variant === 'oursCdn' ? 'big-64m-cdn' : 'big-64m';
  const file = info.files.find((f) => f.key === key);
  if (!file) throw new Error(`the sandbox lists no ${key}`);
  const dir = mkdtempSync(join(tmpdir(), 'dclab-bench-dl-'));
  const out = join(dir, `${variant}.bin`);
  const sb = { info, rsaKey: parseRsaPublicKeyPem(info.rsa.pem) } as unknown as Sandbox;
  try {
    const r =
      variant === 'ours' || variant === 'oursCdn'
        ? await runOurs(info, file, out)
        : variant === 'gramjs'
          ? await runGramjs(sb, file, out)
          : variant === 'mtcute'
            ? await runMtcute(sb, file, out)
            : await runIge(file, out);
    const peak = r.sampler.stop();
    const sha256 = variant === 'ige' ? file.sha256 : await sha256Of(out);
    const res: ChildResult = {
      variant,
      ms: r.ms,
      bytes: file.size,
      sha256,
      peakRssMb: (peak - r.base) / 1048576,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      cpuMs: cpuMsOfDownload,
      note: r.note,
    };
    process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------ parent side

function runChild(variant: Variant, infoPath: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const extra = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const p = spawn(process.execPath, ['--expose-gc', ...extra, '--import', 'tsx', process.argv[1]!, '--child', variant, infoPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let sandboxCpu: NodeJS.CpuUsage | undefined;
    let sandboxCpuMs: number | undefined;
    p.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      if (text.includes('MARK start')) sandboxCpu = process.cpuUsage();
      if (text.includes('MARK end') && sandboxCpu) {
        const c = process.cpuUsage(sandboxCpu);
        sandboxCpuMs = (c.user + c.system) / 1000;
      }
      out += text;
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${variant}: no result after ${TIMEOUT_MS} ms\n${err.slice(-2000)}`));
    }, TIMEOUT_MS);
    p.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`${variant}: child exited ${code}\n${err.slice(-3000)}${out.slice(-1000)}`));
      const res = JSON.parse(line.slice(7)) as ChildResult;
      if (sandboxCpuMs !== undefined) res.sandboxCpuMs = sandboxCpuMs;
      resolve(res);
    });
  });
}

/** MB/s of one AesIge decrypting 1 MiB buffers (key schedule outside the loop): the primitive's ceiling. */
function igePrimitiveMBs(): number {
  const ige = new AesIge(randomBytes(32), randomBytes(32));
  const data = randomBytes(1 << 20);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < 5; i++) ige.decrypt(data, out);
  const xs: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = nowMs();
    for (let i = 0; i < 8; i++) ige.decrypt(data, out);
    xs.push((8 * data.length) / 1e6 / ((nowMs() - t0) / 1000));
  }
  return median(xs);
}

async function parent(): Promise<void> {
  const s = await startInteropSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'dclab-bench-dl-info-'));
  const infoPath = join(dir, 'info.json');
  try {
    const files = s.sb.files();
    writeFileSync(infoPath, JSON.stringify({ ...s.sb.info, files }));
    const expected = new Map(files.map((f: { key: string; sha256: string }) => [f.key, f.sha256]));
    const igeParent = igePrimitiveMBs();
    log(`IGE primitive in the bench process before the rounds (one AesIge, 1 MiB buffers): ${igeParent.toFixed(1)} MB/s`);
    const results = new Map<Variant, ChildResult[]>(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < WARMUP + RUNS; r++) {
      for (const v of rotate(VARIANTS, r)) {
        const res = await runChild(v, infoPath);
        const want = expected.get(v === 'oursCdn' ? 'big-64m-cdn' : 'big-64m');
        if (res.sha256 !== want) fail(`${v}: sha256 ${res.sha256} differs from the sandbox's ${want}`);
        const mbs = res.bytes / 1e6 / (res.ms / 1000);
        log(
          `round ${r}${r < WARMUP ? ' (warm-up)' : ''} ${v}: ${res.ms.toFixed(0)} ms, ${mbs.toFixed(1)} MB/s, peak +${res.peakRssMb.toFixed(0)} MB (max RSS ${res.maxRssMb.toFixed(0)} MB), CPU client ${res.cpuMs.toFixed(0)} ms + sandbox ${res.sandboxCpuMs?.toFixed(0) ?? '?'} ms — ${res.note ?? ''}`,
        );
        if (r >= WARMUP) results.get(v)!.push(res);
      }
    }
    const mbs = (v: Variant): number | null => {
      const xs = results.get(v);
      return xs?.length ? round(median(xs.map((x) => x.bytes / 1e6 / (x.ms / 1000))), 1) : null;
    };
    const rss = (v: Variant, f: 'peakRssMb' | 'maxRssMb'): number | null => {
      const xs = results.get(v);
      return xs?.length ? round(Math.max(...xs.map((x) => x[f])), 0) : null;
    };
    const ige = mbs('ige') ?? igeParent;
    const ours = mbs('ours');
    const gramjs = mbs('gramjs');
    const mtcute = mbs('mtcute');
    emit({
      bench: 'download-64m',
      unit: 'MB/s',
      ours,
      gramjs,
      ratio: ours !== null && gramjs ? round(ours / gramjs, 2) : null,
      mtcute,
      ratioMtcute: ours !== null && mtcute ? round(ours / mtcute, 2) : null,
      oursCdn: mbs('oursCdn'),
      igePrimitive: round(ige, 1),
      igePrimitiveQuiet: round(igeParent, 1),
      ratioToPrimitive: ours !== null ? round(ours / ige, 2) : null,
      runs: RUNS,
    });
    emit({
      bench: 'download-64m-memory',
      unit: 'MB',
      ours: rss('ours', 'peakRssMb'),
      gramjs: rss('gramjs', 'peakRssMb'),
      mtcute: rss('mtcute', 'peakRssMb'),
      oursCdn: rss('oursCdn', 'peakRssMb'),
      maxRss: { ours: rss('ours', 'maxRssMb'), gramjs: rss('gramjs', 'maxRssMb'), mtcute: rss('mtcute', 'maxRssMb'), oursCdn: rss('oursCdn', 'maxRssMb') },
      runs: RUNS,
    });
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as Variant, process.argv[4]!).catch((e: unknown) => {
    process.stderr.write(`child ${process.argv[3]} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
} else {
  parent().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
}
