// The memory scenario, as a new user tried it: N hostile connections (default 300) to one sandbox DC, a quarter of
// them pushing 8 MiB into a 16 MiB frame that never ends, the rest split between a bare 16 MiB header, a slow
// drip and garbage. The sandbox runs in its own process; its RSS is sampled every 500 ms for --hold seconds.
// Prints one JSON line: RSS at start, peak and end (MB; samples as rss/heapUsed/arrayBuffers), and how many hostile
// connections of each kind the server closed. Exit 1 when the peak grew more than --max-growth-mb over the start.
//
//   npm run soak -- --scenario hostile-memory [--connections 300] [--hold 30] [--dc 2] [--max-growth-mb 150]
//                   [--only push|header|drip|garbage] [--sandbox '{"inputBudgetBytes":33554432}']
//
// Before the memory limits of src/transport/tcp.ts the sandbox went from ~140 MB to ~780 MB here; see the figures
// in the commit history and the soak report.
import { HostileSwarm, type HostileKind } from './hostile';
import { mb, startSandboxProc } from './sandbox-proc';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`--${name} wants a number ≥ 0, got ${process.argv[i + 1]}`);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const total = arg('connections', 300);
  const holdS = arg('hold', 30);
  const dc = arg('dc', 2);
  const maxGrowthMb = arg('max-growth-mb', 150);
  const i = process.argv.indexOf('--sandbox');
  const sbOpts = i >= 0 ? (JSON.parse(process.argv[i + 1] ?? '{}') as Record<string, number>) : {};
  const sb = await startSandboxProc(sbOpts);
  try {
    await sleep(2000);
    const start = (await sb.mem()).rss;
    const port = sb.info.dcs.find((d) => d.id === dc)?.port;
    if (port === undefined) throw new Error(`no DC ${dc}`);
    const swarm = new HostileSwarm({ host: '127.0.0.1', ports: [port], dripMs: 500 });
    const push = Math.round(total / 4);
    const rest = total - push;
    const kinds: [HostileKind, number][] = [
      ['push', push],
      ['header', Math.round(rest / 3)],
      ['drip', Math.round(rest / 3)],
      ['garbage', rest - 2 * Math.round(rest / 3)],
    ];
    const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
    for (const [k, n] of kinds) if (!only || only === k) swarm.open(k, n);
    let peak = start;
    const samples: string[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < holdS * 1000) {
      await sleep(500);
      const m = await sb.mem();
      const rss = m.rss;
      samples.push(`${mb(rss)}/${mb(m.heapUsed)}/${mb(m.arrayBuffers)}`);
      peak = Math.max(peak, rss);
    }
    const end = (await sb.mem()).rss;
    swarm.stop();
    const growth = mb(peak - start);
    const summary = {
      scenario: 'hostile-memory',
      connections: total,
      kinds: Object.fromEntries(kinds),
      holdSeconds: holdS,
      rssMb: { start: mb(start), peak: mb(peak), end: mb(end) },
      peakGrowthMb: growth,
      hostileBytesSentMb: mb(swarm.stats.bytesSent),
      closedByServer: swarm.stats.closedByServer,
      medianLifetimeMs: Object.fromEntries(
        Object.entries(swarm.stats.lifetimes).map(([k, v]) => [k, v.length ? Math.round([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!) : null]),
      ),
      samplesMb: samples, // rss/heapUsed/arrayBuffers
      ok: growth < maxGrowthMb,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    process.exitCode = summary.ok ? 0 : 1;
  } finally {
    await sb.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
