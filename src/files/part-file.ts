// The on-disk side of a download: bytes go to `<out>.part` with positioned writes; a small sidecar
// `<out>.part.json` records what the part belongs to (location, DC, size, part size) and which ranges are finished.
// `<out>` appears only after finish() verified the size (and the SHA-256 when one is expected): a file never looks
// complete early. close() keeps both for a later resume.
// Nothing is lost: an existing `<out>` is never replaced unless `overwrite` is asked (checked at open and again at the
// publish, which links instead of renaming); one download per path, across processes (a lock on `<out>.part`);
// a failed datasync / sidecar write fails the download instead of recording bytes that may not be on disk; the free
// space is checked before a download of known size and watched during one (a download stops before the disk is full).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { lock as lockFile } from 'proper-lockfile';
import { tlToJson } from '../tl/json';
import type { TlObject } from '../tl/types';
import { FileError, errText } from './errors';
import { mergeRanges, totalLength, type Range } from './plan';

export interface PartSidecar {
  format: 'dclab-part';
  version: 1;
  location: unknown;
  dcId: number;
  size?: number;
  partSize: number;
  done: Range[];
  sha256?: string;
  updatedAt: number;
}

export interface PartMeta {
  location: TlObject;
  dcId: number;
  size?: number;
  partSize: number;
}

const FLUSH_EVERY_MS = 250;
/** Free space a download leaves on the disk (the sidecar, the rename, everybody else). */
export const DISK_RESERVE = 16 * 1024 * 1024;
/** During a download the free space is asked again after this many bytes written (other writers use it too). */
const RECHECK_EVERY = 64 * 1024 * 1024;

/** Bytes available to us on the file system of `path`. */
export async function freeBytes(path: string): Promise<number> {
  const st = await fsp.statfs(path);
  return st.bavail * st.bsize;
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isSidecar(v: unknown): v is PartSidecar {
  const s = v as PartSidecar;
  return (
    !!s &&
    typeof s === 'object' &&
    s.format === 'dclab-part' &&
    s.version === 1 &&
    typeof s.dcId === 'number' &&
    typeof s.partSize === 'number' &&
    Array.isArray(s.done) &&
    s.done.every((r) => r && Number.isSafeInteger(r.offset) && Number.isSafeInteger(r.length) && r.offset >= 0 && r.length >= 0)
  );
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** A held `<out>.part` lock (proper-lockfile, like src/storage's locks: src/files may not import src/storage). */
interface PartLock {
  release(): Promise<void>;
}

/** One download per `<out>`, across processes: the lock never waits (a second download is refused at once). */
async function lockPart(out: string): Promise<PartLock> {
  try {
    // onCompromised: the default throws from a timer, which would kill the process; losing the lock after it was
    // taken changes nothing for this download
    const release = await lockFile(`${out}.part`, { realpath: false, retries: 0, onCompromised: () => undefined });
    return { release: () => release().catch(() => undefined) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOCKED') throw new FileError('BUSY', `another download to ${out} is running (${out}.part is locked)`, { cause: e });
    if (code === 'ENOENT') throw new FileError('BAD_LOCATION', `cannot write ${out}: its folder ${dirname(out)} does not exist`, { cause: e });
    throw e;
  }
}

/** fsync of a directory, so a rename in it survives a crash; platforms that cannot do it skip it. */
async function syncDir(dir: string): Promise<void> {
  let dh: fsp.FileHandle | undefined;
  try {
    dh = await fsp.open(dir, 'r');
    await dh.sync();
  } catch {
    // EISDIR / EINVAL / EPERM on some platforms: the rename itself is still atomic
  } finally {
    await dh?.close().catch(() => undefined);
  }
}

function existsError(out: string): FileError {
  return new FileError('EXISTS', `${out} already exists; not replaced (ask for overwrite to replace it)`);
}

/** Reads a sidecar; undefined when absent or not ours. */
export async function readSidecar(out: string): Promise<PartSidecar | undefined> {
  try {
    const v: unknown = JSON.parse(await fsp.readFile(`${out}.part.json`, 'utf8'));
    return isSidecar(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export class PartFile {
  readonly out: string;
  readonly path: string;
  readonly sidecarPath: string;
  readonly meta: PartMeta;
  /** Bytes already finished when the file was opened (resume). */
  readonly resumedBytes: number;
  private fh: fsp.FileHandle;
  private doneRanges: Range[];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** The first failed datasync / sidecar write: every later write and finish() fail with it. */
  private failure: Error | undefined;
  private readonly lock: PartLock;
  private readonly overwrite: boolean;
  /** Free bytes as last measured, less what was written since. */
  private freeLeft = Number.POSITIVE_INFINITY;
  private writtenSinceCheck = 0;

  private constructor(out: string, meta: PartMeta, fh: fsp.FileHandle, done: Range[], lock: PartLock, overwrite: boolean) {
    this.out = out;
    this.path = `${out}.part`;
    this.sidecarPath = `${out}.part.json`;
    this.meta = meta;
    this.fh = fh;
    this.doneRanges = mergeRanges(done);
    this.resumedBytes = totalLength(this.doneRanges);
    this.lock = lock;
    this.overwrite = overwrite;
  }

  /**
   * Opens `<out>.part`. With `resume` (default) a sidecar describing the same location, DC and size continues where
   * it stopped (its part size wins); anything else starts over. An existing `<out>` is refused unless `overwrite`;
   * another download to `<out>` (in any process) is refused (FileError BUSY).
   */
  static async open(out: string, meta: PartMeta, opts: { resume?: boolean; overwrite?: boolean } = {}): Promise<PartFile> {
    const overwrite = opts.overwrite === true;
    const lock = await lockPart(out);
    try {
      if (!overwrite && (await exists(out))) throw existsError(out);
      let done: Range[] = [];
      let m = { ...meta };
      if (opts.resume !== false) {
        const sc = await readSidecar(out);
        if (
          sc &&
          sameJson(sc.location, tlToJson(meta.location)) &&
          (meta.size === undefined || sc.size === undefined || sc.size === meta.size) &&
          (await exists(`${out}.part`))
        ) {
          done = sc.done;
          m = { ...meta, partSize: sc.partSize, ...(meta.size === undefined && sc.size !== undefined ? { size: sc.size } : {}) };
          // the DC may have changed (FILE_MIGRATE): the sidecar's is where the file was last served from
          m.dcId = sc.dcId;
        }
      }
      const fh = await fsp.open(`${out}.part`, done.length ? 'r+' : 'w+');
      try {
        if (!done.length) {
          await fsp.rm(`${out}.part.json`, { force: true });
        } else {
          // bytes claimed done must exist in the part file
          const st = await fh.stat();
          done = mergeRanges(done)
            .map((r) => ({ offset: r.offset, length: Math.max(0, Math.min(r.length, st.size - r.offset)) }))
            .filter((r) => r.length > 0);
        }
        const pf = new PartFile(out, m, fh, done, lock, overwrite);
        await pf.flushSidecar();
        return pf;
      } catch (e) {
        await fh.close().catch(() => undefined);
        throw e;
      }
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /**
   * Fails (FileError NO_SPACE, the part kept) when the disk cannot take the rest of a file of known size plus
   * DISK_RESERVE; for an unknown size it starts the watch that write() keeps.
   */
  async checkSpace(): Promise<void> {
    await this.measureSpace();
    if (this.meta.size === undefined) return;
    const need = Math.max(0, this.meta.size - this.doneBytes);
    if (need + DISK_RESERVE > this.freeLeft) {
      throw new FileError(
        'NO_SPACE',
        `not enough free space for ${this.out}: ${mib(need)} still to write, ${mib(this.freeLeft)} free on ${dirname(this.out)} (keeping ${mib(DISK_RESERVE)} free)`,
      );
    }
  }

  private async measureSpace(): Promise<void> {
    try {
      this.freeLeft = await freeBytes(dirname(this.path));
    } catch (e) {
      // a file system that cannot say (ENOSYS): written bytes are still checked by the OS
      if ((e as NodeJS.ErrnoException).code !== 'ENOSYS') throw e;
      this.freeLeft = Number.POSITIVE_INFINITY;
    }
    this.writtenSinceCheck = 0;
  }

  /** Before `n` more bytes: stop (FileError NO_SPACE) while DISK_RESERVE is still free. */
  private async watchSpace(n: number): Promise<void> {
    if (this.freeLeft - n < DISK_RESERVE || this.writtenSinceCheck + n > RECHECK_EVERY) await this.measureSpace();
    if (this.freeLeft - n < DISK_RESERVE) {
      throw new FileError(
        'NO_SPACE',
        `the disk of ${this.out} is nearly full: ${mib(this.freeLeft)} free on ${dirname(this.out)}, stopping while ${mib(DISK_RESERVE)} are left (${this.path} is kept for a resume)`,
      );
    }
    this.freeLeft -= n;
    this.writtenSinceCheck += n;
  }

  get done(): readonly Range[] {
    return this.doneRanges;
  }

  get doneBytes(): number {
    return totalLength(this.doneRanges);
  }

  /** Where the file is served from now (a FILE_MIGRATE changes it; kept in the sidecar for a resume). */
  setDcId(dcId: number): void {
    if (this.meta.dcId === dcId) return;
    this.meta.dcId = dcId;
    this.scheduleFlush();
  }

  setSize(size: number): void {
    this.meta.size = size;
    this.scheduleFlush();
  }

  /** Positioned write of `data` at `offset` (all of it). */
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    await this.watchSpace(data.length);
    let at = 0;
    while (at < data.length) {
      const { bytesWritten } = await this.fh.write(data, at, data.length - at, offset + at);
      if (bytesWritten <= 0) throw new Error(`short write at ${offset + at} in ${this.path}`);
      at += bytesWritten;
    }
  }

  /** Reads back a finished range (used to hash a resumed prefix). */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const { bytesRead } = await this.fh.read(buf, at, length - at, offset + at);
      if (bytesRead <= 0)
        throw new FileError('SIZE_MISMATCH', `${this.path} ends at ${offset + at}, expected ${offset + length} bytes`, { offset: offset + at });
      at += bytesRead;
    }
    return buf;
  }

  markDone(r: Range): void {
    this.doneRanges = mergeRanges([...this.doneRanges, r]);
    this.scheduleFlush();
  }

  isDone(r: Range): boolean {
    return this.doneRanges.some((d) => d.offset <= r.offset && d.offset + d.length >= r.offset + r.length);
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      // a failure is kept in this.failure: the next write() or finish() reports it
      void this.flushSidecar().catch(() => undefined);
    }, FLUSH_EVERY_MS);
    this.flushTimer.unref?.();
  }

  /**
   * Writes the sidecar (tmp + rename) after a datasync of the part file. Serialized. The first failure sticks:
   * finished ranges are recorded only after their bytes reached the disk, so a failed datasync fails the download.
   */
  flushSidecar(): Promise<void> {
    const sc: PartSidecar = {
      format: 'dclab-part',
      version: 1,
      location: tlToJson(this.meta.location),
      dcId: this.meta.dcId,
      ...(this.meta.size !== undefined ? { size: this.meta.size } : {}),
      partSize: this.meta.partSize,
      done: this.doneRanges.map((r) => ({ ...r })),
      updatedAt: Date.now(),
    };
    const text = JSON.stringify(sc);
    const run = async (): Promise<void> => {
      if (this.failure) throw this.failure;
      try {
        try {
          await this.fh.datasync();
        } catch (e) {
          throw new Error(`datasync of ${this.path} failed: ${errText(e)}`, { cause: e });
        }
        const tmp = `${this.sidecarPath}.tmp`;
        try {
          await fsp.writeFile(tmp, text);
          await fsp.rename(tmp, this.sidecarPath);
        } catch (e) {
          throw new Error(`cannot write ${this.sidecarPath}: ${errText(e)}`, { cause: e });
        }
      } catch (e) {
        this.failure ??= e as Error;
        throw this.failure;
      }
    };
    this.flushing = this.flushing.then(run, run);
    return this.flushing;
  }

  /** Keeps `<out>.part` and the sidecar (for a resume); a failed last flush is reported after everything is closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    let failed: unknown;
    if (!this.failure) await this.flushSidecar().catch((e: unknown) => (failed = e));
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await this.lock.release();
    if (failed !== undefined) throw failed;
  }

  /**
   * Verifies and publishes: every byte of [0, size) finished, the part file exactly `size` long, the SHA-256 (from
   * `sha256` when the caller hashed the stream, else read back) equal to `expectSha256` when given; then fsync,
   * rename `<out>.part` → `<out>` and remove the sidecar. On a mismatch the part is kept and FileError thrown.
   */
  async finish(opts: { size: number; sha256?: string; expectSha256?: string }): Promise<string> {
    const { size } = opts;
    if (this.failure) throw this.failure;
    const missing =
      size - totalLength(mergeRanges(this.doneRanges).map((r) => ({ offset: r.offset, length: Math.max(0, Math.min(r.length, size - r.offset)) })));
    if (missing !== 0) throw new FileError('SIZE_MISMATCH', `${this.path}: ${missing} of ${size} bytes were never written`);
    await this.fh.truncate(size);
    const st = await this.fh.stat();
    if (st.size !== size) throw new FileError('SIZE_MISMATCH', `${this.path} is ${st.size} bytes, expected ${size}`);
    let sha = opts.sha256;
    if (sha === undefined) sha = await this.hashFile(size);
    if (opts.expectSha256 !== undefined && opts.expectSha256.toLowerCase() !== sha) {
      await this.close();
      throw new FileError('HASH_MISMATCH', `${this.path}: sha256 ${sha} differs from the expected ${opts.expectSha256}`);
    }
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing.catch(() => undefined);
    if (this.failure) throw this.failure;
    try {
      await this.fh.sync();
    } catch (e) {
      this.failure = new Error(`fsync of ${this.path} failed: ${errText(e)}`, { cause: e });
      throw this.failure;
    }
    this.closed = true;
    await this.fh.close();
    try {
      await this.publish();
    } finally {
      await this.lock.release();
    }
    await fsp.rm(this.sidecarPath, { force: true });
    await syncDir(dirname(this.out));
    return sha;
  }

  /** `<out>.part` → `<out>`: a rename when replacing is asked, else a link that fails on an `<out>` created meanwhile. */
  private async publish(): Promise<void> {
    if (!this.overwrite) {
      try {
        await fsp.link(this.path, this.out);
        await fsp.unlink(this.path);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw existsError(this.out);
        // no hard links here (some file systems): check, then rename
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'ENOSYS' && code !== 'EMLINK') {
          throw new Error(`could not publish ${this.path} as ${this.out}: ${errText(e)}`, { cause: e });
        }
        if (await exists(this.out)) throw existsError(this.out);
      }
    }
    try {
      await fsp.rename(this.path, this.out);
    } catch (e) {
      throw new Error(`could not rename ${this.path} to ${this.out}: ${errText(e)}`, { cause: e });
    }
  }

  private async hashFile(size: number): Promise<string> {
    const h = createHash('sha256');
    const chunk = 4 * 1024 * 1024;
    const buf = new Uint8Array(chunk);
    for (let at = 0; at < size; ) {
      const n = Math.min(chunk, size - at);
      const { bytesRead } = await this.fh.read(buf, 0, n, at);
      if (bytesRead <= 0) throw new FileError('SIZE_MISMATCH', `${this.path} ends at ${at}, expected ${size}`);
      h.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
    return h.digest('hex');
  }
}
