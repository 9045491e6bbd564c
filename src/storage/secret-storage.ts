// A keyv store adapter over VS Code's SecretStorage (structurally: no vscode import here). SecretStorage cannot list
// its keys, so the adapter keeps an index of the keys it stored under `indexKey` for clear().
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/** What the adapter needs of `vscode.SecretStorage` (whose `Thenable` is a `PromiseLike`). */
export interface SecretStorageLike {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

export const DEFAULT_SECRET_INDEX_KEY = 'dclab.keyv-index';

export class SecretStorageKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  opts: { indexKey: string; dialect: string };
  namespace?: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: SecretStorageLike,
    opts: { indexKey?: string } = {},
  ) {
    super();
    this.opts = { indexKey: opts.indexKey ?? DEFAULT_SECRET_INDEX_KEY, dialect: 'vscode-secret-storage' };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async readIndex(): Promise<string[]> {
    const text = await this.storage.get(this.opts.indexKey);
    if (text === undefined) return [];
    try {
      const v: unknown = JSON.parse(text);
      if (Array.isArray(v) && v.every((k) => typeof k === 'string')) return v as string[];
    } catch {
      // fall through
    }
    throw new Error(`secret storage index "${this.opts.indexKey}" is corrupt (expected a JSON array of key names)`);
  }

  private async writeIndex(keys: string[]): Promise<void> {
    if (keys.length === 0) await this.storage.delete(this.opts.indexKey);
    else await this.storage.store(this.opts.indexKey, JSON.stringify(keys));
  }

  private checkKey(key: string): void {
    if (key === this.opts.indexKey) throw new Error(`"${key}" is reserved for the adapter's key index`);
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    this.checkKey(key);
    await this.queue;
    return (await this.storage.get(key)) as StoredData<Value> | undefined;
  }

  async has(key: string): Promise<boolean> {
    this.checkKey(key);
    await this.queue;
    return (await this.storage.get(key)) !== undefined;
  }

  async set(key: string, value: unknown): Promise<boolean> {
    this.checkKey(key);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return this.serial(async () => {
      const index = await this.readIndex();
      if (!index.includes(key)) await this.writeIndex([...index, key]); // index first: clear() never misses a key
      await this.storage.store(key, text);
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    this.checkKey(key);
    return this.serial(async () => {
      const existed = (await this.storage.get(key)) !== undefined;
      await this.storage.delete(key);
      const index = await this.readIndex();
      if (index.includes(key)) await this.writeIndex(index.filter((k) => k !== key));
      return existed;
    });
  }

  /** Deletes the keys of this adapter's namespace (all indexed keys when it has none). */
  async clear(): Promise<void> {
    const prefix = this.namespace ? `${this.namespace}:` : undefined;
    await this.serial(async () => {
      const index = await this.readIndex();
      const gone = index.filter((k) => !prefix || k.startsWith(prefix));
      for (const k of gone) await this.storage.delete(k);
      await this.writeIndex(index.filter((k) => !gone.includes(k)));
    });
  }

  /** The raw keys stored through this adapter (with keyv's namespace prefix). */
  async keys(): Promise<string[]> {
    await this.queue;
    return this.readIndex();
  }
}
