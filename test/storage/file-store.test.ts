import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileKeyv, createMemoryKeyv, cliBackends, type FileKeyvStore, ProfileStore, StoreFileError } from '../../src/storage/index';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'dclab-store-'));
}

test('file store: created 0600, and re-chmodded to 0600 on write', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.json');
  const kv = createFileKeyv(file);
  await kv.set('x', 1);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  chmodSync(file, 0o644);
  await kv.set('y', 2);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['a.json'], 'no tmp files left behind');
});

test('file store: values persist across two store instances; delete and namespaced clear', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.json');
  const a = createFileKeyv(file);
  await a.set('num', 42);
  await a.set('obj', { list: [1, 'two', null], nested: { s: ':colon' } });
  await a.set('str', 'plain "quoted" text');
  const other = createFileKeyv(file, 'other');
  await other.set('num', 7);

  const b = createFileKeyv(file);
  assert.equal(await b.get('num'), 42);
  assert.deepEqual(await b.get('obj'), { list: [1, 'two', null], nested: { s: ':colon' } });
  assert.equal(await b.get('str'), 'plain "quoted" text');
  assert.equal(await b.get('missing'), undefined);
  assert.equal(await b.has('num'), true);

  const onDisk = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(onDisk.format, 'dclab-store');
  assert.equal(onDisk.version, 1);
  assert.deepEqual(onDisk.entries['dclab:num'], { value: 42 }, 'entries are kept readable, not double-encoded');

  assert.equal(await b.delete('num'), true);
  assert.equal(await a.get('num'), undefined, "the first instance sees the other instance's delete");
  await b.clear();
  assert.equal(await a.get('obj'), undefined);
  assert.equal(await createFileKeyv(file, 'other').get('num'), 7, 'clear() touches only its namespace');
});

test('file store: a corrupt file is a clear error naming the file and is left untouched', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.json');
  writeFileSync(file, '{"format":"dclab-store","version":1,"entries":{"dclab:k":', { mode: 0o600 });
  const kv = createFileKeyv(file);
  await assert.rejects(
    kv.get('k'),
    (e: unknown) => e instanceof StoreFileError && e.filePath === file && e.message.includes(file) && /corrupt/.test(e.message),
  );
  await assert.rejects(kv.set('k', 1), StoreFileError);
  assert.equal(readFileSync(file, 'utf8'), '{"format":"dclab-store","version":1,"entries":{"dclab:k":', 'a failed write does not replace the file');

  // V8 quotes the broken text in its message; a secret in a corrupt secrets file must not reach the error.
  writeFileSync(file, '{"format":"dclab-store","version":1,"entries":{"dclab:k": SUPERSECRETKEYMATERIAL}}');
  await assert.rejects(createFileKeyv(file).get('k'), (e: unknown) => e instanceof StoreFileError && !e.message.includes('SUPERSECRET'));
  writeFileSync(file, 'SUPERSECRETKEYMATERIAL');
  await assert.rejects(createFileKeyv(file).get('k'), (e: unknown) => e instanceof StoreFileError && !e.message.includes('SUPERSECRET'));

  writeFileSync(file, '[1,2,3]');
  await assert.rejects(createFileKeyv(file).get('k'), /expected \{"format":"dclab-store"/);
  writeFileSync(file, '{"format":"dclab-store","version":99,"entries":{}}');
  await assert.rejects(createFileKeyv(file).get('k'), /unsupported store version 99/);
});

test('file store: concurrent sets from one process all land, across instances over the same file', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.json');
  const a = createFileKeyv(file);
  const b = createFileKeyv(file); // a second instance over the same path shares the write queue
  await Promise.all([...Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).set(`k${i}`, { i })), a.delete('nothing'), b.set('k0', { i: 0 })]);
  const fresh = createFileKeyv(file);
  const got = await Promise.all(Array.from({ length: 40 }, (_, i) => fresh.get(`k${i}`)));
  assert.deepEqual(
    got,
    Array.from({ length: 40 }, (_, i) => ({ i })),
  );
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('file store: sees a change written behind its back (another process)', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.json');
  const a = createFileKeyv(file);
  await a.set('k', 1);
  assert.equal(await a.get('k'), 1);
  const text = readFileSync(file, 'utf8').replace('"value": 1', '"value": 2345');
  writeFileSync(file, text);
  assert.equal(await a.get('k'), 2345);
  await a.set('other', true); // a write re-reads first: the outside change survives
  assert.equal(await createFileKeyv(file).get('k'), 2345);
});

test('file store: raw keys include the namespace prefix', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kv = createFileKeyv(join(dir, 's.json'), 'ns');
  await kv.set('a', true);
  assert.deepEqual(await (kv.store as FileKeyvStore).keys(), ['ns:a']);
});

test('cliBackends: dir 0700, state.json and secrets.json 0600', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'dclab');
  const be = cliBackends(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  writeFileSync(join(dir, 'secrets.json'), '', { mode: 0o644 });
  chmodSync(join(dir, 'secrets.json'), 0o644);
  cliBackends(dir); // a loose existing file is tightened on open
  assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);
  await be.plain.set('p', 1);
  await be.secrets.set('s', 2);
  assert.equal(statSync(join(dir, 'state.json')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);
  assert.equal(await be.plain.get('s'), undefined);
});

test('memory keyv round-trips', async () => {
  const kv = createMemoryKeyv();
  await kv.set('a', { b: [1] });
  assert.deepEqual(await kv.get('a'), { b: [1] });
});

test('file store: a JSON syntax error reports line and column', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.json');
  writeFileSync(file, '{\n  "format": "dclab-store",\n  "version": 1\n  "entries": {}\n}');
  await assert.rejects(createFileKeyv(file).get('k'), /not valid JSON at line 4, column 3\)/);
});

test('file store: an entry edited into a bare non-JSON string is a StoreFileError naming the entry, never the value', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dclab-filestore-bare-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const entries = { 'dclab:sandbox:dc:2:authKey': 'WuGaCDtKJzlkZ24Ft3Q==' };
  writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ format: 'dclab-store', version: 1, entries }));
  const store = new ProfileStore(cliBackends(dir), 'sandbox');
  await assert.rejects(
    store.getDcKey(2),
    (e: Error) => e instanceof StoreFileError && /entry "dclab:sandbox:dc:2:authKey" is not a stored value/.test(e.message) && !e.message.includes('WuGa'),
  );
});
