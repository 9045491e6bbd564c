// npm run soak -- --clients N --minutes M [--seed S] [--hostile K] [--kinds ours,gramjs,mtcute] [--sample-seconds 5]
//                 [--pause-ms 200..2000] [--sandbox '{"sessionIdleSeconds":60}']
// npm run soak -- --scenario hostile-memory [--connections 300] [--hold 30]
//
// One sandbox in a child process and N clients (ours, GramJS and mtcute mixed), each logged in with its own
// 99966XYYYY number, looping over calls (users.getUsers, help.getNearestDc, messages.sendMessage to Saved Messages),
// downloads of a small seeded file by its dc_id and uploads, with seeded pauses; with --hostile K, K connections send
// garbage, bare 16 MiB headers, slow drips and never-ending frames all along (re-dialled when closed). Progress goes
// to stderr; one JSON summary line to stdout. Exit 1 on any failed call or when the sandbox's RSS grew 10 % or more
// from the end of the first quarter to the end. The hostile-memory scenario: scripts/soak/hostile-memory.ts.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLIENT_KINDS, type ClientKind } from './soak/clients';
import { DEFAULT_SOAK, runSoak } from './soak/run';
import type { ChildSandboxOptions } from './soak/sandbox-proc';

function usage(msg: string): never {
  process.stderr.write(`soak: ${msg}\n(see the header of scripts/soak.ts)\n`);
  process.exit(2);
}

function main(): void {
  const argv = process.argv.slice(2);
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined) usage(`--${name} needs a value`);
    return v;
  };
  const num = (name: string, def: number, min = 0): number => {
    const v = get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) usage(`--${name} wants a number ≥ ${min}, got ${v}`);
    return n;
  };
  if (get('scenario') !== undefined) {
    if (get('scenario') !== 'hostile-memory') usage(`unknown scenario ${get('scenario')}`);
    const rest = argv.filter((_, i) => i !== argv.indexOf('--scenario') && i !== argv.indexOf('--scenario') + 1);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'soak', 'hostile-memory.ts'), ...rest], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const kinds = (get('kinds') ?? CLIENT_KINDS.join(',')).split(',').map((k) => k.trim()) as ClientKind[];
  for (const k of kinds) if (!CLIENT_KINDS.includes(k)) usage(`unknown client kind ${k} (${CLIENT_KINDS.join(', ')})`);
  const pause = (get('pause-ms') ?? `${DEFAULT_SOAK.pauseMs[0]}..${DEFAULT_SOAK.pauseMs[1]}`).split('..').map(Number);
  if (pause.length !== 2 || !pause.every((n) => Number.isFinite(n) && n >= 0) || pause[0]! > pause[1]!) usage('--pause-ms wants MIN..MAX');
  let sandbox: ChildSandboxOptions = {};
  const sb = get('sandbox');
  if (sb !== undefined) {
    try {
      sandbox = JSON.parse(sb) as ChildSandboxOptions;
    } catch {
      usage('--sandbox wants a JSON object of startSandbox options');
    }
  }
  const hostile = num('hostile', 0);
  const opts = {
    ...DEFAULT_SOAK,
    clients: num('clients', hostile > 0 ? 20 : DEFAULT_SOAK.clients, 1),
    seconds: num('minutes', DEFAULT_SOAK.seconds / 60, 0.05) * 60,
    seed: num('seed', DEFAULT_SOAK.seed),
    hostile,
    kinds,
    sampleMs: num('sample-seconds', DEFAULT_SOAK.sampleMs / 1000, 0.5) * 1000,
    pauseMs: [pause[0]!, pause[1]!] as [number, number],
    loginConcurrency: num('login-concurrency', DEFAULT_SOAK.loginConcurrency, 1),
    sandbox,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  runSoak(opts).then(
    (summary) => {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      process.exit(summary.ok ? 0 : 1);
    },
    (e: unknown) => {
      process.stderr.write(`soak failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}

main();
