// runSoak: one sandbox in a child process, N clients (ours, GramJS, mtcute mixed) logged in with distinct numbers,
// each looping over seeded operations with seeded pauses for the given time, optionally K hostile connections all
// along; the sandbox's RSS sampled every few seconds. Returns the summary the CLI prints (scripts/soak.ts) and the
// npm test pass checks (test/soak).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CLIENT_KINDS, makeSoakClient, type ClientKind, type OpName, type SoakClient } from './clients';
import { HostileSwarm, type HostileKind } from './hostile';
import { childRng, intIn, mulberry32, type Rng } from './prng';
import { mb, startSandboxProc, type ChildSandboxOptions, type MemSample } from './sandbox-proc';

export interface SoakOptions {
  clients: number;
  seconds: number;
  seed: number;
  /** Hostile connections kept open (re-dialled when closed) while the clients work; 0 = none. */
  hostile: number;
  kinds: ClientKind[];
  /** RSS sample period, ms. */
  sampleMs: number;
  /** Pause between a client's operations, ms (seeded, uniform in the range). */
  pauseMs: [number, number];
  loginConcurrency: number;
  /** startSandbox options for the child (merged over the soak's defaults). */
  sandbox: ChildSandboxOptions;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
  /** A single operation that takes longer than this fails (ms). */
  opTimeoutMs: number;
}

export const DEFAULT_SOAK: Omit<SoakOptions, 'log'> = {
  clients: 20,
  seconds: 120,
  seed: 1,
  hostile: 0,
  kinds: CLIENT_KINDS,
  sampleMs: 5000,
  pauseMs: [200, 2000],
  loginConcurrency: 6,
  sandbox: {},
  opTimeoutMs: 60_000,
};

/**
 * The sandbox for a soak: 200 clients come from one address (no per-address limit), unfinished uploads expire
 * after 30 s (the soak never finishes its uploads), slow drips are closed after 10 s.
 */
const SOAK_SANDBOX: ChildSandboxOptions = { maxConnectionsPerAddress: 0, uploadTtlSeconds: 30, frameTimeoutSeconds: 10 };

const OPS: [OpName, number][] = [
  ['getUsers', 25],
  ['getNearestDc', 20],
  ['sendMessage', 20],
  ['download', 20],
  ['upload', 15],
];
const CALL_OPS: OpName[] = ['getUsers', 'getNearestDc', 'sendMessage'];

function pickOp(rng: Rng): OpName {
  const total = OPS.reduce((n, [, w]) => n + w, 0);
  let x = rng() * total;
  for (const [op, w] of OPS) {
    x -= w;
    if (x < 0) return op;
  }
  return OPS[0]![0];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

function errText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!.slice(0, 200);
  if (e && typeof e === 'object' && 'errorMessage' in e) return String((e as { errorMessage: unknown }).errorMessage);
  return String(e).slice(0, 200);
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 10) / 10;
}

interface Sample {
  t: number;
  mem: MemSample;
  connections: number;
}

export interface SoakSummary {
  clients: number;
  kinds: Record<ClientKind, number>;
  seconds: number;
  seed: number;
  hostile: number;
  loginSeconds: number;
  ops: number;
  calls: number;
  opsPerSecond: number;
  callsPerSecond: number;
  perOp: Record<string, { count: number; failed: number; p50: number | null; p99: number | null }>;
  failures: number;
  failureSamples: { kind: string; op: string; error: string }[];
  latencyMs: {
    calls: { p50: number | null; p99: number | null };
    all: { p50: number | null; p99: number | null };
    callsByKind: Partial<Record<ClientKind, { p50: number | null; p99: number | null }>>;
  };
  /** The client process's event-loop delay during the loop (all clients share it), ms. */
  clientLoopDelayMs: { p50: number; p99: number; max: number };
  /** The sandbox process's event-loop delay over the run, ms (from its samples: p99 of each sample's window). */
  sandboxLoopDelayMs: { p50: number | null; p99: number | null };
  rssMb: { start: number; afterLogin: number; warm: number; end: number; max: number; samples: number[] };
  /** (end − warm) / warm: warm = mean of the samples around the end of the first quarter, end = mean of the last ones. */
  growthPercent: number;
  hostileStats?: { opened: number; closedByServer: Record<HostileKind, number>; medianLifetimeMs: Record<string, number | null>; sentMb: number };
  sandboxExit?: string;
  ok: boolean;
}

export async function runSoak(opts: SoakOptions): Promise<SoakSummary> {
  const log = opts.log;
  const proc = await startSandboxProc({ ...SOAK_SANDBOX, ...opts.sandbox });
  const clients: SoakClient[] = [];
  const swarm =
    opts.hostile > 0
      ? new HostileSwarm({
          host: '127.0.0.1',
          ports: proc.info.dcs.map((d) => d.port),
          reopen: true,
          dripMs: 500,
          pushBytes: 4 << 20,
          random: mulberry32(opts.seed ^ 0x5eed),
        })
      : undefined;
  const failures: { kind: string; op: string; error: string }[] = [];
  const latencies = new Map<OpName, number[]>();
  /** Call latencies (getUsers, getNearestDc, sendMessage) per client kind. */
  const callsByKind = new Map<ClientKind, number[]>();
  // the clients share this process: its event-loop delay is part of every latency measured here
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const failedBy = new Map<OpName, number>();
  const samples: Sample[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const rssStart = (await proc.mem()).rss;
    const kindCount: Record<ClientKind, number> = { ours: 0, gramjs: 0, mtcute: 0 };
    for (let i = 0; i < opts.clients; i++) {
      const kind = opts.kinds[i % opts.kinds.length]!;
      kindCount[kind]++;
      clients.push(makeSoakClient(proc, kind, i));
    }
    await proc.registerUsers(clients.map((c) => c.phone));

    // logins, a few at a time (GramJS's key exchange alone is ~0.2 s of CPU)
    const loginStart = performance.now();
    const ready: SoakClient[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(opts.loginConcurrency, clients.length) }, async () => {
        while (next < clients.length) {
          const c = clients[next++]!;
          try {
            await withTimeout(c.login(), 60_000, `${c.kind} login`);
            ready.push(c);
          } catch (e) {
            failures.push({ kind: c.kind, op: 'login', error: `${c.phone}: ${errText(e)}` });
          }
        }
      }),
    );
    const loginSeconds = (performance.now() - loginStart) / 1000;
    const rssAfterLogin = (await proc.mem()).rss;
    log(`soak: ${ready.length}/${clients.length} clients logged in in ${loginSeconds.toFixed(1)} s; sandbox RSS ${mb(rssAfterLogin)} MB`);

    // the loop
    const t0 = performance.now();
    const end = t0 + opts.seconds * 1000;
    let ops = 0;
    const sample = async (): Promise<void> => {
      try {
        const [mem, connections] = await Promise.all([proc.mem(), proc.connections()]);
        const t = (performance.now() - t0) / 1000;
        samples.push({ t, mem, connections });
        if (process.env.SOAK_SNAPSHOTS && samples.length % Number(process.env.SOAK_SNAPSHOTS) === 0) log(`soak: heap snapshot ${await proc.heapSnapshot()}`);
        for (const c of clients) c.trimLogs();
        const hs = swarm ? `, hostile live ${swarm.stats.live} closed ${Object.values(swarm.stats.closedByServer).reduce((a, b) => a + b, 0)}` : '';
        log(
          `soak: t=${t.toFixed(0)}s ops=${ops} failed=${failures.length} rss=${mb(mem.rss)}MB heap=${mb(mem.heapUsed)}/${mb(mem.heapTotal)}MB external=${mb(mem.external)}MB connections=${connections}${hs}`,
        );
      } catch (e) {
        log(`soak: sample failed: ${errText(e)}`);
      }
    };
    await sample();
    sampler = setInterval(() => void sample(), opts.sampleMs);
    loopDelay.enable();
    if (swarm) {
      const k = opts.hostile;
      const push = Math.floor(k / 10);
      const third = Math.floor((k - push) / 3);
      swarm.open('push', push);
      swarm.open('header', third);
      swarm.open('drip', third);
      swarm.open('garbage', k - push - 2 * third);
    }
    await Promise.all(
      ready.map(async (c, i) => {
        const rng = childRng(opts.seed, i);
        await sleep(intIn(rng, 0, opts.pauseMs[1]));
        while (performance.now() < end) {
          const op = pickOp(rng);
          const started = performance.now();
          try {
            await withTimeout(c.run(op, rng), opts.opTimeoutMs, `${c.kind} ${op}`);
            const ms = performance.now() - started;
            let l = latencies.get(op);
            if (!l) latencies.set(op, (l = []));
            l.push(ms);
            if (CALL_OPS.includes(op)) {
              let k = callsByKind.get(c.kind);
              if (!k) callsByKind.set(c.kind, (k = []));
              k.push(ms);
            }
          } catch (e) {
            failedBy.set(op, (failedBy.get(op) ?? 0) + 1);
            failures.push({ kind: c.kind, op, error: `${c.phone} (${c.transport}): ${errText(e)}` });
          }
          ops++;
          await sleep(intIn(rng, opts.pauseMs[0], opts.pauseMs[1]));
        }
      }),
    );
    const loopSeconds = (performance.now() - t0) / 1000;
    loopDelay.disable();
    clearInterval(sampler);
    sampler = undefined;
    await sample();
    swarm?.stop();

    // figures
    const all = [...latencies.values()].flat().sort((a, b) => a - b);
    const calls = CALL_OPS.flatMap((o) => latencies.get(o) ?? []).sort((a, b) => a - b);
    const perOp: SoakSummary['perOp'] = {};
    for (const [op] of OPS) {
      const l = [...(latencies.get(op) ?? [])].sort((a, b) => a - b);
      perOp[op] = { count: l.length + (failedBy.get(op) ?? 0), failed: failedBy.get(op) ?? 0, p50: percentile(l, 50), p99: percentile(l, 99) };
    }
    const callCount = CALL_OPS.reduce((n, o) => n + (perOp[o]?.count ?? 0), 0);
    const T = samples[samples.length - 1]?.t ?? loopSeconds;
    const mean = (xs: Sample[]): number => (xs.length ? xs.reduce((n, s) => n + s.mem.rss, 0) / xs.length : 0);
    const nearest = (t: number): Sample => samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), samples[0]!);
    // around the end of the first quarter (±5 % of the run), and the last 10 % of the run
    const warmWindow = samples.filter((s) => Math.abs(s.t - T / 4) <= Math.max(T * 0.05, opts.sampleMs / 1000));
    const endWindow = samples.filter((s) => s.t >= T * 0.9);
    const warm = mean(warmWindow.length ? warmWindow : [nearest(T / 4)]);
    const endRss = mean(endWindow.length ? endWindow : [samples[samples.length - 1]!]);
    const growthPercent = warm > 0 ? Math.round(((endRss - warm) / warm) * 1000) / 10 : 0;
    const hostileStats = swarm
      ? {
          opened: swarm.stats.opened,
          closedByServer: swarm.stats.closedByServer,
          medianLifetimeMs: Object.fromEntries(
            Object.entries(swarm.stats.lifetimes).map(([k, v]) => [k, v.length ? Math.round([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!) : null]),
          ),
          sentMb: mb(swarm.stats.bytesSent),
        }
      : undefined;
    const summary: SoakSummary = {
      clients: opts.clients,
      kinds: kindCount,
      seconds: Math.round(loopSeconds),
      seed: opts.seed,
      hostile: opts.hostile,
      loginSeconds: Math.round(loginSeconds * 10) / 10,
      ops: all.length + failures.filter((f) => f.op !== 'login').length,
      calls: callCount,
      opsPerSecond: Math.round((all.length / loopSeconds) * 10) / 10,
      callsPerSecond: Math.round((calls.length / loopSeconds) * 10) / 10,
      perOp,
      failures: failures.length,
      failureSamples: failures.slice(0, 10),
      latencyMs: {
        calls: { p50: percentile(calls, 50), p99: percentile(calls, 99) },
        all: { p50: percentile(all, 50), p99: percentile(all, 99) },
        callsByKind: Object.fromEntries(
          [...callsByKind].map(([k, v]) => {
            const sorted = [...v].sort((a, b) => a - b);
            return [k, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
          }),
        ),
      },
      clientLoopDelayMs: {
        p50: Math.round(loopDelay.percentile(50) / 1e5) / 10,
        p99: Math.round(loopDelay.percentile(99) / 1e5) / 10,
        max: Math.round(loopDelay.max / 1e5) / 10,
      },
      sandboxLoopDelayMs: (() => {
        const d = samples
          .map((x) => x.mem.loopDelayP99)
          .filter((x): x is number => typeof x === 'number')
          .sort((a, b) => a - b);
        return { p50: percentile(d, 50), p99: percentile(d, 99) };
      })(),
      rssMb: {
        start: mb(rssStart),
        afterLogin: mb(rssAfterLogin),
        warm: mb(warm),
        end: mb(endRss),
        max: mb(Math.max(...samples.map((s) => s.mem.rss))),
        samples: samples.map((s) => mb(s.mem.rss)),
      },
      growthPercent,
      ...(hostileStats ? { hostileStats } : {}),
      ok: failures.length === 0 && growthPercent < 10,
    };
    const exit = proc.exited();
    if (exit) {
      summary.sandboxExit = exit;
      summary.ok = false;
    }
    return summary;
  } finally {
    if (sampler) clearInterval(sampler);
    swarm?.stop();
    await Promise.all(clients.map((c) => withTimeout(c.close(), 10_000, `${c.kind} close`).catch(() => undefined)));
    await proc.stop();
  }
}
