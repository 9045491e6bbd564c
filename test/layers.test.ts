// Enforces the layer rules of docs/architecture.md: each folder imports only from the layers it is allowed to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const allowed: Record<string, string[]> = {
  tl: [],
  crypto: ['tl'],
  transport: ['crypto', 'tl'],
  mtproto: ['tl', 'crypto', 'transport'],
  dc: ['mtproto', 'tl', 'crypto', 'transport'],
  lifecycle: ['dc', 'mtproto', 'tl', 'crypto', 'transport', 'trace', 'storage'],
  files: ['lifecycle', 'dc', 'mtproto', 'tl', 'crypto', 'transport', 'trace'],
  trace: ['tl'],
  storage: [],
  sandbox: ['tl', 'crypto', 'transport', 'mtproto'],
  // the panel's state is redacted on both sides with the one secret-field policy (src/tl/secret-fields.ts)
  ipc: ['tl'],
  // request files: the schema (tl), redaction and chains (trace), error classes and the DcClient type of the
  // lifecycle, RpcError (mtproto); never the sandbox or vscode
  reqfile: ['tl', 'trace', 'lifecycle', 'dc', 'mtproto'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src layers import only what docs/architecture.md allows', () => {
  const problems: string[] = [];
  for (const file of walk('src')) {
    const layer = relative('src', file).split('/')[0]!;
    const text = readFileSync(file, 'utf8');
    const isVscode = layer === 'vscode' || layer === 'extension.ts';
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec === 'vscode' && !isVscode) problems.push(`${file} imports vscode`);
      if (!spec.startsWith('.')) continue;
      const target = relative('src', resolve(dirname(file), spec)).split('/')[0]!;
      if (target === layer || !(layer in allowed)) continue;
      if (!allowed[layer]!.includes(target)) problems.push(`${file} (${layer}) imports ${spec} (${target})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('src/ipc reaches into tl for the secret-field policy only (the webview bundles what ipc imports)', () => {
  for (const file of walk('src/ipc')) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)['"](\.\.\/[^'"]+)['"]/g)) {
      assert.match(m[1]!, /^\.\.\/tl\/secret-fields(\.js)?$/, `${file} imports ${m[1]}`);
    }
  }
  assert.doesNotMatch(readFileSync('src/tl/secret-fields.ts', 'utf8'), /^import /m, 'secret-fields.ts stays import-free');
});
