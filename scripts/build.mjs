// Bundles the extension host and the CLI with esbuild (schema JSON included, so the bundle needs no node_modules),
// then the webview app (scripts/build-webview.mjs → dist/webview/main.js + main.css) when that script exists.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const production = process.argv.includes('--production');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: !production, minify: production, logLevel: 'warning' };
await build({
  ...common,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  external: ['vscode'],
  // activate() logs how long the bundle took to evaluate (banner → footer) and how long activation took
  banner: { js: 'var __DCLAB_LOAD_START__ = Date.now();' },
  footer: { js: 'var __DCLAB_LOAD_END__ = Date.now();' },
});
await build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } });
chmodSync('dist/cli.js', 0o755);
// Worker thread of src/mtproto/decrypt-pool.ts, found next to the bundle that starts it (extension or CLI).
await build({ ...common, entryPoints: ['src/mtproto/decrypt-worker.ts'], outfile: 'dist/decrypt-worker.js' });

if (existsSync('scripts/build-webview.mjs')) {
  const r = spawnSync(process.execPath, ['scripts/build-webview.mjs', ...(production ? ['--production'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    // a release build (npm run package) must have the panel; a dev build goes on without it
    if (production) process.exit(r.status ?? 1);
    console.warn('build: the webview build failed; dist/extension.js and dist/cli.js are built, the panel app is not');
  }
} else {
  console.warn('build: scripts/build-webview.mjs not found; the panel app (dist/webview) is not built');
}
