// Makes sure Debian's chromium exists for the headless webview test: installs it with apt-get when missing and the
// process runs as root, otherwise fails with a message that says what to do.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const CHROMIUM_PATH = '/usr/bin/chromium';

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Returns the chromium path; installs Debian's `chromium` package when it is missing and we are root. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`${CHROMIUM_PATH} is missing and this process is not root: install Debian's chromium first (sudo apt-get install -y chromium)`);
  }
  let r = run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  if (!r.ok) {
    const u = run('apt-get', ['update']);
    if (!u.ok) throw new Error(`apt-get update failed:\n${u.out.slice(-2000)}`);
    r = run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  }
  if (!r.ok || !existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get install -y chromium failed; install Debian's chromium by hand:\n${r.out.slice(-2000)}`);
  }
  return CHROMIUM_PATH;
}

if (process.argv[1] && /chromium\.ts$/.test(process.argv[1])) {
  console.log(ensureChromium());
}
