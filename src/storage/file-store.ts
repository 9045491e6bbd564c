// A keyv store adapter persisting to one JSON file: created 0600, atomic replace (tmp in the same dir, fsync, rename,
// fsync of the dir), every write a read-modify-write under a lock that holds across processes (`<file>.lock`), a
// corrupt file reported with its path instead of being dropped or overwritten.
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import Keyv, { type KeyvStoreAdapter, type StoredData } from 'keyv';
import { withLock } from './lock';

export const FILE_STORE_FORMAT = 'dclab-store';
export const FILE_STORE_VERSION = 1;

/** The store file cannot be read or written (corrupt JSON, wrong shape, permissions). Names the file, never values. */
export class StoreFileError extends Error {
  constructor(
    readonly filePath: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${filePath}: ${reason}`, options);
    this.name = 'StoreFileError';
  }
}

interface FileShape {
  format: typeof FILE_STORE_FORMAT;
  version: number;
  entries: Record<string, unknown>;
}

interface Cached {
  mtimeMs: number;
  size: number;
  ino: number;
  entries: Map<string, unknown>;
}

let tmpCounter = 0;

/** Shared by every FileKeyvStore of one path in this process: one write queue, one cache. */
interface FileState {
  cache: Cached | undefined;
  queue: Promise<unknown>;
}
const files = new Map<string, FileState>();

function stateOf(filePath: string): FileState {
  const key = resolve(filePath);
  let s = files.get(key);
  if (!s) {
    s = { cache: undefined, queue: Promise.resolve() };
    files.set(key, s);
  }
  return s;
}

export class FileKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts: { filePath: string; dialect: string };
  namespace?: string | undefined;
  private readonly shared: FileState;

  constructor(readonly filePath: string) {
    super();
    this.opts = { filePath, dialect: 'dclab-file' };
    this.shared = stateOf(filePath);
  }

  private get cache(): Cached | undefined {
    return this.shared.cache;
  }

  private set cache(c: Cached | undefined) {
    this.shared.cache = c;
  }

  /** Reads the file (cached while its mtime, size and inode are unchanged). A missing file is an empty store. */
  private async load(): Promise<Map<string, unknown>> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.filePath, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.cache = undefined;
        return new Map();
      }
      throw new StoreFileError(this.filePath, `cannot open the store file (${(e as Error).message})`, { cause: e });
    }
    try {
      // stat and read through one handle: the cache key always describes the bytes read, even across a rename
      let st;
      try {
        st = await fh.stat();
      } catch (e) {
        throw new StoreFileError(this.filePath, `cannot stat the store file (${(e as Error).message})`, { cause: e });
      }
      const c = this.cache;
      if (c && c.mtimeMs === st.mtimeMs && c.size === st.size && c.ino === st.ino) return c.entries;
      let text: string;
      try {
        text = await fh.readFile('utf8');
      } catch (e) {
        throw new StoreFileError(this.filePath, `cannot read the store file (${(e as Error).message})`, { cause: e });
      }
      const entries = this.parse(text);
      this.cache = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, entries };
      return entries;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  private parse(text: string): Map<string, unknown> {
    if (text.trim() === '') return new Map();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      // V8's message quotes a piece of the text, which may be a secret: report only where it broke.
      const pos = /position (\d+)/.exec((e as Error).message);
      let where = '';
      if (pos) {
        const before = text.slice(0, Number(pos[1]));
        const line = before.split('\n').length;
        where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
      }
      throw new StoreFileError(this.filePath, `the store file is corrupt (not valid JSON${where}); fix or move it away — it was left untouched`);
    }
    const d = data as Partial<FileShape> | null;
    if (
      typeof d !== 'object' ||
      d === null ||
      Array.isArray(d) ||
      d.format !== FILE_STORE_FORMAT ||
      typeof d.entries !== 'object' ||
      d.entries === null ||
      Array.isArray(d.entries)
    ) {
      throw new StoreFileError(
        this.filePath,
        `the store file is corrupt (expected {"format":"${FILE_STORE_FORMAT}","version":${FILE_STORE_VERSION},"entries":{...}}); fix or move it away — it was left untouched`,
      );
    }
    if (typeof d.version !== 'number' || d.version > FILE_STORE_VERSION) {
      throw new StoreFileError(this.filePath, `unsupported store version ${String(d.version)} (this build reads ${FILE_STORE_VERSION})`);
    }
    return new Map(Object.entries(d.entries));
  }

  private async persist(entries: Map<string, unknown>): Promise<void> {
    const body: FileShape = { format: FILE_STORE_FORMAT, version: FILE_STORE_VERSION, entries: Object.fromEntries(entries) };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    const dir = dirname(this.filePath);
    const tmp = join(dir, `.${basename(this.filePath)}.${process.pid}.${++tmpCounter}.tmp`);
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const fh = await fs.open(tmp, 'wx', 0o600);
      try {
        await fh.chmod(0o600); // the umask may have removed bits we want; never more than 0600
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, this.filePath);
      await fs.chmod(this.filePath, 0o600);
      await syncDir(dir);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new StoreFileError(this.filePath, `cannot write the store file (${(e as Error).message})`, { cause: e });
    }
    const st = await fs.stat(this.filePath);
    this.cache = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, entries };
  }

  /**
   * Runs one read-modify-write after all earlier ones of any store on this path in this process, holding the file's
   * cross-process lock and re-reading the file first, so no other process's committed change is lost.
   */
  private mutate<T>(fn: (entries: Map<string, unknown>) => T): Promise<T> {
    const run = this.shared.queue.then(async () => {
      try {
        await fs.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new StoreFileError(this.filePath, `cannot create the store directory (${(e as Error).message})`, { cause: e });
      }
      return withLock(this.filePath, async () => {
        this.cache = undefined; // always re-read before a write
        const entries = new Map(await this.load());
        const result = fn(entries);
        await this.persist(entries);
        return result;
      });
    });
    this.shared.queue = run.catch(() => {});
    return run;
  }

  private async readSerialized(): Promise<Map<string, unknown>> {
    await this.shared.queue; // reads observe earlier writes of this process
    return this.load();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const entries = await this.readSerialized();
    const v = entries.get(key);
    if (v === undefined) return undefined;
    // keyv hands us JSON text; the file keeps it parsed for readability, keyv gets the text back.
    if (typeof v !== 'string') return JSON.stringify(v) as StoredData<Value>;
    // a string entry is keyv's text as it was written; one that is not JSON was edited by hand and would fail
    // deep inside keyv, so it is refused here with the entry's name (its value may be a secret: not quoted)
    try {
      JSON.parse(v);
    } catch {
      throw new StoreFileError(this.filePath, `entry "${key}" is not a stored value (expected {"value": …}); fix or remove it`);
    }
    return v as StoredData<Value>;
  }

  async has(key: string): Promise<boolean> {
    return (await this.readSerialized()).has(key);
  }

  async set(key: string, value: unknown): Promise<boolean> {
    let stored: unknown = value;
    if (typeof value === 'string') {
      try {
        stored = JSON.parse(value);
      } catch {
        stored = value; // not JSON (custom serializer): kept as a string
      }
      // A JSON string value would be read back as the bare string: keep the text in that case.
      if (typeof stored === 'string') stored = value;
    } else {
      stored = JSON.stringify(value);
    }
    await this.mutate((entries) => entries.set(key, stored));
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.mutate((entries) => entries.delete(key));
  }

  async clear(): Promise<void> {
    const prefix = this.namespace ? `${this.namespace}:` : undefined;
    await this.mutate((entries) => {
      for (const k of [...entries.keys()]) if (!prefix || k.startsWith(prefix)) entries.delete(k);
    });
  }

  /** The raw keys in the file (with keyv's namespace prefix). */
  async keys(): Promise<string[]> {
    return [...(await this.readSerialized()).keys()];
  }
}

/** fsync of a directory, so a rename in it survives a crash; platforms that cannot (EISDIR, EINVAL, EPERM) skip it. */
async function syncDir(dir: string): Promise<void> {
  let dh: fs.FileHandle | undefined;
  try {
    dh = await fs.open(dir, 'r');
    await dh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await dh?.close().catch(() => undefined);
  }
}

/** A keyv persisting to `filePath` (0600). Errors (corrupt file, I/O) reject instead of reading as "missing". */
export function createFileKeyv(filePath: string, namespace = 'dclab'): Keyv {
  return new Keyv({ store: new FileKeyvStore(filePath), namespace, throwOnErrors: true });
}

/** An in-memory keyv (tests, the sandbox profile of a one-shot run). */
export function createMemoryKeyv(namespace = 'dclab'): Keyv {
  return new Keyv({ store: new Map(), namespace, throwOnErrors: true });
}
