// A keyv store adapter over VS Code's `ExtensionContext.globalState` (a Memento), for the plain values of a profile
// (home DC, user id, salts, dc_options, last trace). Structural like src/storage's SecretStorageKeyvAdapter: no
// `vscode` import, so it is unit-tested against a fake Memento (test/vscode/globalstate-keyv.test.ts).
// Memento keys are listable, so clear() needs no index: it removes the keys under this adapter's prefix (and the
// keyv namespace when one is set). Values are stored as keyv hands them over (keyv serializes to a string).
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import Keyv from 'keyv';

/** What the adapter needs of `vscode.Memento` (whose `Thenable` is a `PromiseLike`). */
export interface MementoLike {
  keys(): readonly string[];
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const DEFAULT_GLOBALSTATE_PREFIX = 'dclab.keyv:';

export class GlobalStateKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  opts: { prefix: string; dialect: string };
  namespace?: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly memento: MementoLike,
    opts: { prefix?: string } = {},
  ) {
    super();
    this.opts = { prefix: opts.prefix ?? DEFAULT_GLOBALSTATE_PREFIX, dialect: 'vscode-globalstate' };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private k(key: string): string {
    return this.opts.prefix + key;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    await this.queue;
    return this.memento.get<StoredData<Value>>(this.k(key));
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    await this.queue;
    return keys.map((key) => this.memento.get<StoredData<Value>>(this.k(key)));
  }

  async has(key: string): Promise<boolean> {
    await this.queue;
    return this.memento.get(this.k(key)) !== undefined;
  }

  async set(key: string, value: unknown): Promise<boolean> {
    return this.serial(async () => {
      await this.memento.update(this.k(key), value);
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    return this.serial(async () => {
      const existed = this.memento.get(this.k(key)) !== undefined;
      if (existed) await this.memento.update(this.k(key), undefined);
      return existed;
    });
  }

  /** Removes this adapter's keys of its keyv namespace (all of its keys when it has none). */
  async clear(): Promise<void> {
    const prefix = this.k(this.namespace ? `${this.namespace}:` : '');
    await this.serial(async () => {
      for (const raw of this.memento.keys()) if (raw.startsWith(prefix)) await this.memento.update(raw, undefined);
    });
  }

  /** The raw keyv keys (with keyv's namespace prefix) stored through this adapter. */
  async keys(): Promise<string[]> {
    await this.queue;
    return this.memento
      .keys()
      .filter((raw) => raw.startsWith(this.opts.prefix) && this.memento.get(raw) !== undefined)
      .map((raw) => raw.slice(this.opts.prefix.length));
  }
}

/** `new Keyv` over a Memento with the profile namespace (errors are thrown, never swallowed). */
export function createGlobalStateKeyv(memento: MementoLike, namespace = 'dclab'): Keyv {
  return new Keyv({ store: new GlobalStateKeyvAdapter(memento), namespace, throwOnErrors: true });
}
