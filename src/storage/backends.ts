// The two keyv backends a profile lives in: plain values and secrets (auth keys, api_hash).
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Keyv from 'keyv';
import { createFileKeyv, createMemoryKeyv } from './file-store';
import { withLock } from './lock';

export interface ProfileBackends {
  plain: Keyv;
  secrets: Keyv;
  /**
   * Runs a read-modify-write spanning several keys (an index and the values it lists) so that no other process
   * interleaves its own. Absent: the backends are used by this process only.
   */
  transaction?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export const DEFAULT_DCLAB_DIR = join(homedir(), '.dclab');

/**
 * The CLI's backends: `dir/state.json` (plain) and `dir/secrets.json` (secrets), both 0600. The directory is created
 * 0700; an existing directory's mode is left alone (it may be a directory the user shares on purpose).
 */
export function cliBackends(dir: string = DEFAULT_DCLAB_DIR): ProfileBackends {
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) chmodSync(dir, 0o700); // beat the umask on the directory we made
  const plain = join(dir, 'state.json');
  const secrets = join(dir, 'secrets.json');
  for (const f of [plain, secrets]) tighten(f);
  // its own lock: each file's lock is taken inside it, never the other way round (no deadlock)
  const txLock = join(dir, 'profile.lock');
  return {
    plain: createFileKeyv(plain),
    secrets: createFileKeyv(secrets),
    transaction: (fn) => withLock(join(dir, 'profile'), fn, { lockfilePath: txLock }),
  };
}

/** An existing store file readable by group/others (copied, restored from a backup) is brought back to 0600. */
function tighten(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export function memoryBackends(): ProfileBackends {
  return { plain: createMemoryKeyv(), secrets: createMemoryKeyv() };
}
