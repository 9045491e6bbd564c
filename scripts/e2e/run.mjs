// `npm run test:e2e` (after scripts/e2e/setup.sh): the extension inside a real VS Code — code-server 4.100.3
// (bundles VS Code 1.100.3) driven by playwright-core + Debian's chromium, as ../shared/E2E.md describes.
//   1. build + `vsce package` a .vsix (skip with DCLAB_E2E_VSIX=path)
//   2. install it into fresh user-data / extensions folders of a temp dir (HOME and XDG_* in there too)
//   3. start code-server on 127.0.0.1:<free port>, open the workspace in chromium, run test/e2e/extension.e2e.mjs
// Screenshots and result.json go to test-output/e2e/. Exit code 0 = every step passed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const out = join(root, 'test-output', 'e2e');
const csBin = join(process.env.DCLAB_CODE_SERVER_DIR ?? join(root, '.cache', 'code-server'), 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const chromiumPath = process.env.DCLAB_CHROMIUM ?? '/usr/bin/chromium';
const keep = process.env.DCLAB_E2E_KEEP === '1';
const t0 = Date.now();
const log = (s) => console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);

if (!existsSync(csBin)) {
  console.error(`code-server is not installed (${csBin}); run scripts/e2e/setup.sh`);
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. the .vsix
let vsix = process.env.DCLAB_E2E_VSIX;
if (!vsix) {
  log('npm run package');
  const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  vsix = join(root, 'mtproto-dc-lab.vsix');
}
vsix = resolve(vsix);
log(`vsix ${vsix} (${(statSync(vsix).size / 1024).toFixed(0)} KiB)`);

// 2. fresh folders
const tmp = mkdtempSync(join(tmpdir(), 'dclab-e2e-'));
const dirs = {
  home: join(tmp, 'home'),
  userData: join(tmp, 'user-data'),
  extensions: join(tmp, 'extensions'),
  workspace: join(tmp, 'workspace'),
  chromium: join(tmp, 'chromium-profile'),
};
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
const env = {
  ...process.env,
  HOME: dirs.home,
  XDG_CONFIG_HOME: join(dirs.home, '.config'),
  XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
  XDG_CACHE_HOME: join(dirs.home, '.cache'),
  XDG_STATE_HOME: join(dirs.home, '.local', 'state'),
  XDG_RUNTIME_DIR: join(tmp, 'runtime'),
  TMPDIR: join(tmp, 'tmp'),
};
for (const k of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR', 'TMPDIR'])
  mkdirSync(env[k], { recursive: true, mode: 0o700 });
mkdirSync(join(dirs.userData, 'User'), { recursive: true });
writeFileSync(
  join(dirs.userData, 'User', 'settings.json'),
  JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'security.workspace.trust.enabled': false,
      'dclab.sandbox.basePort': 0,
    },
    null,
    2,
  ),
);
writeFileSync(join(dirs.workspace, 'README.md'), '# DC Lab e2e workspace\n');

const csArgs = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
log('installing the .vsix into code-server');
{
  const r = spawnSync(process.execPath, [csBin, ...csArgs, '--install-extension', vsix], { env, encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
}

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const port = await freePort();

log(`starting code-server on 127.0.0.1:${port}`);
const cs = spawn(
  process.execPath,
  [
    csBin,
    ...csArgs,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    dirs.workspace,
  ],
  { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
let csLog = '';
cs.stdout.on('data', (b) => (csLog += b));
cs.stderr.on('data', (b) => (csLog += b));
const stopCodeServer = () => {
  try {
    process.kill(-cs.pid, 'SIGTERM');
  } catch {}
};
process.on('exit', stopCodeServer);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
await new Promise((res, rej) => {
  const timer = setTimeout(() => rej(new Error(`code-server did not start in 30 s:\n${csLog}`)), 30_000);
  const check = () => {
    if (csLog.includes('HTTP server listening on')) {
      clearTimeout(timer);
      res();
    }
  };
  cs.stdout.on('data', check);
  cs.stderr.on('data', check);
  cs.once('exit', (code) => rej(new Error(`code-server exited (${code}):\n${csLog}`)));
});
log('code-server listening');

// 3. the browser test
const { chromium } = await import('playwright-core');
const context = await chromium.launchPersistentContext(dirs.chromium, {
  executablePath: chromiumPath,
  headless: true,
  env,
  viewport: { width: 1600, height: 1000 },
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const { runE2e } = await import(join(root, 'test', 'e2e', 'extension.e2e.mjs'));
let result;
try {
  result = await runE2e({ context, url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`, dirs, out, log });
} catch (e) {
  result = { ok: false, error: e?.stack ?? String(e) };
} finally {
  await context.close().catch(() => {});
}

// the extension's LogOutputChannel file: activation time and the whole session log (no secrets in it)
const findLogs = (dir) => {
  const found = [];
  const walk = (d) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (/MTProto DC Lab\.log$/.test(n.name)) found.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
};
const logs = findLogs(join(dirs.userData, 'logs'));
const extLog = logs.map((f) => readFileSync(f, 'utf8')).join('\n');
writeFileSync(join(out, 'extension.log'), extLog);
writeFileSync(join(out, 'code-server.log'), csLog);
const m = /activated: bundle evaluation (\d+) ms \+ activate\(\) (\d+) ms = (\d+) ms \(VS Code between require and activate: (\d+) ms\)/.exec(extLog);
if (m) result.activation = { bundleEvalMs: Number(m[1]), activateMs: Number(m[2]), totalMs: Number(m[3]), hostGapMs: Number(m[4]) };
if (/\b44444\b/.test(extLog)) {
  result.ok = false;
  result.error = `${result.error ? `${result.error}\n` : ''}the login code appears in the extension log`;
}
result.vsixBytes = statSync(vsix).size;
result.totalMs = Date.now() - t0;
writeFileSync(join(out, 'result.json'), JSON.stringify(result, null, 2));
log(`result: ${JSON.stringify(result, null, 2)}`);
stopCodeServer();
if (!keep) rmSync(tmp, { recursive: true, force: true });
else log(`kept ${tmp}`);
process.exit(result.ok ? 0 : 1);
