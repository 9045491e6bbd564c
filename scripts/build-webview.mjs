// Bundles the webview panel app for the browser: webview/src/main.ts → dist/webview/main.js (+ main.css).
// The app imports only src/ipc (and the component library behind webview/src/toolkit/). No inline scripts or
// styles, no eval: the output works under the panel's strict CSP (script nonce; style-src cspSource + the csp-nonce meta).
// Usage: node scripts/build-webview.mjs [--watch] [--production]   (--production: no source maps; also importable: `await buildWebview()`)
import { build, context } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const webviewOptions = {
  absWorkingDir: root,
  // main.ts imports styles.css, so esbuild writes main.css next to main.js.
  entryPoints: { main: 'webview/src/main.ts' },
  outdir: 'dist/webview',
  entryNames: '[name]',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome120'],
  sourcemap: !process.argv.includes('--production'),
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: 'webview/tsconfig.json',
  define: { 'process.env.NODE_ENV': '"production"' },
};

export async function buildWebview() {
  return build(webviewOptions);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--watch')) {
    const ctx = await context(webviewOptions);
    await ctx.watch();
    console.log('watching webview/src …');
  } else {
    await buildWebview();
  }
}
