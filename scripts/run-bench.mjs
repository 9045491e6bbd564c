// Runs every bench/*.bench.ts (through tsx), one after another; each prints one JSON line per figure:
// {"bench":"auth-key","unit":"ms","ours":12.1,"gramjs":70.3,"ratio":0.17}
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const only = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${f}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench/${f} failed with exit code ${r.status}\n`);
  }
}
process.exit(failed ? 1 : 0);
