// Locks that hold across processes (two `dclab` commands, or the CLI and the extension, on one data dir), through
// proper-lockfile: an atomic mkdir of `<target>.lock` whose mtime the holder refreshes, so a crashed holder's lock
// goes stale instead of blocking forever.
import { lock as lockFile } from 'proper-lockfile';

/** Another process (or another download in this one) holds the lock. */
export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HeldLock {
  /** Releases the lock; rejects when the lock was lost while held (another process may have taken it). */
  release(): Promise<void>;
  /** Set when the lock was lost while held (its refresh failed past the stale time). */
  readonly compromised: Error | undefined;
}

export interface LockOptions {
  /** How long to keep trying when the lock is held: 0 = fail at once (default 30 s). */
  waitMs?: number;
  /** Where the lock directory goes (default `<target>.lock`). */
  lockfilePath?: string;
  /** A lock whose holder stopped refreshing it for this long is taken over (default 10 s). */
  staleMs?: number;
}

/** Takes the lock on `target` (which need not exist). */
export async function acquireLock(target: string, opts: LockOptions = {}): Promise<HeldLock> {
  const waitMs = opts.waitMs ?? 30_000;
  const maxTimeout = 10;
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockFile(target, {
      realpath: false,
      stale: opts.staleMs ?? 10_000,
      ...(opts.lockfilePath !== undefined ? { lockfilePath: opts.lockfilePath } : {}),
      // short, jittered polls: critical sections are a few milliseconds long
      retries: waitMs > 0 ? { retries: Math.ceil(waitMs / maxTimeout), minTimeout: 2, maxTimeout, factor: 1.5, randomize: true } : 0,
      // the default throws from a timer, which would kill the process
      onCompromised: (e) => {
        compromised = e;
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') {
      const lockPath = opts.lockfilePath ?? `${target}.lock`;
      throw new LockBusyError(
        target,
        `${target} is locked by another process (${lockPath})${waitMs > 0 ? ` — still held after ${Math.round(waitMs / 1000)} s` : ''}`,
      );
    }
    throw e;
  }
  return {
    get compromised() {
      return compromised;
    },
    release: async () => {
      try {
        await release();
      } catch (e) {
        // a compromised lock is already released by proper-lockfile
        if (!compromised) throw e;
      }
      if (compromised) throw new Error(`the lock on ${target} was lost while held: ${compromised.message}`);
    },
  };
}

/** Runs `fn` holding the lock on `target`; the lock is released whatever `fn` does. */
export async function withLock<T>(target: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const held = await acquireLock(target, opts);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await held.release().catch(() => undefined);
    throw e;
  }
  await held.release();
  return result;
}
