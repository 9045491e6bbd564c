// Which file dclab.schemaFile may read: workspace trust decides whether a workspace's own value counts, and only a
// regular `.tl` file of bounded size at the chosen path is opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseSchemaFile } from '../../src/vscode/schema-file-choice';

function fixture(t: { after: (fn: () => void) => void }): { dir: string; home: string; ws: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-schema-choice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  const ws = join(dir, 'ws');
  mkdirSync(home);
  mkdirSync(ws);
  writeFileSync(join(home, 'mine.tl'), 'foo = Foo;\n');
  writeFileSync(join(ws, 'repo.tl'), 'bar = Bar;\n');
  writeFileSync(join(home, 'secret.txt'), 'not a schema\n');
  return { dir, home, ws };
}

test('schemaFile: a trusted workspace value wins; an untrusted one is ignored (the user value still applies) and said so', (t) => {
  const { home, ws } = fixture(t);
  const env = { workspaceFolder: ws, home };
  const values = { globalValue: '~/mine.tl', workspaceValue: 'repo.tl' };
  assert.deepEqual(chooseSchemaFile(values, { ...env, trusted: true }), { kind: 'file', path: join(ws, 'repo.tl'), scope: 'workspace' });
  assert.deepEqual(chooseSchemaFile(values, { ...env, trusted: false }), { kind: 'file', path: join(home, 'mine.tl'), scope: 'user' });
  const onlyWorkspace = chooseSchemaFile({ workspaceFolderValue: 'repo.tl' }, { ...env, trusted: false });
  assert.equal(onlyWorkspace.kind, 'bundled');
  assert.match(onlyWorkspace.kind === 'bundled' ? (onlyWorkspace.note ?? '') : '', /not trusted.*repo\.tl.*not read/);
  assert.deepEqual(chooseSchemaFile({}, { ...env, trusted: true }), { kind: 'bundled' });
  assert.deepEqual(chooseSchemaFile({ globalValue: '  ' }, { ...env, trusted: true }), { kind: 'bundled' });
});

test('schemaFile: only a regular .tl file at the chosen path is read (another file, a folder, a missing file are refused with why)', (t) => {
  const { home, ws } = fixture(t);
  const env = { workspaceFolder: ws, home, trusted: true };
  const refused = (value: string): string => {
    const c = chooseSchemaFile({ workspaceValue: value }, env);
    assert.equal(c.kind, 'refused', value);
    return c.kind === 'refused' ? c.reason : '';
  };
  assert.match(refused(join(home, 'secret.txt')), /only a `\.tl` file/);
  assert.match(refused('missing.tl'), /no such file/);
  mkdirSync(join(ws, 'dir.tl'));
  assert.match(refused('dir.tl'), /not a regular file/);
  // a symbolic link named .tl to a regular file is read like the file
  symlinkSync(join(home, 'mine.tl'), join(ws, 'link.tl'));
  assert.equal(chooseSchemaFile({ workspaceValue: 'link.tl' }, env).kind, 'file');
});
