// The on-disk side of a download: bytes go to `<out>.part` with positioned writes; a small sidecar
// `<out>.part.json` records what the part belongs to (location, DC, size, part size) and which ranges are finished.
// `<out>` appears only after finish() verified the size (and the SHA-256 when one is expected): a file never looks
// complete early. close() keeps both for a later resume.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
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
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
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
  private dirty = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(out: string, meta: PartMeta, fh: fsp.FileHandle, done: Range[]) {
    this.out = out;
    this.path = `${out}.part`;
    this.sidecarPath = `${out}.part.json`;
    this.meta = meta;
    this.fh = fh;
    this.doneRanges = mergeRanges(done);
    this.resumedBytes = totalLength(this.doneRanges);
  }

  /**
   * Opens `<out>.part`. With `resume` (default) a sidecar describing the same location, DC and size continues where
   * it stopped (its part size wins); anything else starts over. `overwrite: false` refuses an existing `<out>`.
   */
  static async open(out: string, meta: PartMeta, opts: { resume?: boolean; overwrite?: boolean } = {}): Promise<PartFile> {
    if (opts.overwrite === false && (await exists(out))) throw new FileError('EXISTS', `${out} already exists`);
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
    if (!done.length) {
      await fsp.rm(`${out}.part.json`, { force: true });
    } else {
      // bytes claimed done must exist in the part file
      const st = await fh.stat();
      done = mergeRanges(done)
        .map((r) => ({ offset: r.offset, length: Math.max(0, Math.min(r.length, st.size - r.offset)) }))
        .filter((r) => r.length > 0);
    }
    const pf = new PartFile(out, m, fh, done);
    await pf.flushSidecar();
    return pf;
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
      if (bytesRead <= 0) throw new FileError('SIZE_MISMATCH', `${this.path} ends at ${offset + at}, expected ${offset + length} bytes`, { offset: offset + at });
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
    this.dirty = true;
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flushSidecar().catch(() => undefined);
    }, FLUSH_EVERY_MS);
    this.flushTimer.unref?.();
  }

  /** Writes the sidecar (tmp + rename). Serialized. */
  flushSidecar(): Promise<void> {
    this.dirty = false;
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
      // finished ranges are recorded only after their bytes reached the disk
      await this.fh.datasync().catch(() => undefined);
      const tmp = `${this.sidecarPath}.tmp`;
      await fsp.writeFile(tmp, text);
      await fsp.rename(tmp, this.sidecarPath);
    };
    this.flushing = this.flushing.then(run, run);
    return this.flushing;
  }

  /** Keeps `<out>.part` and the sidecar (for a resume). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushSidecar().catch(() => undefined);
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }

  /**
   * Verifies and publishes: every byte of [0, size) finished, the part file exactly `size` long, the SHA-256 (from
   * `sha256` when the caller hashed the stream, else read back) equal to `expectSha256` when given; then fsync,
   * rename `<out>.part` → `<out>` and remove the sidecar. On a mismatch the part is kept and FileError thrown.
   */
  async finish(opts: { size: number; sha256?: string; expectSha256?: string }): Promise<string> {
    const { size } = opts;
    const missing = size - totalLength(mergeRanges(this.doneRanges).map((r) => ({ offset: r.offset, length: Math.max(0, Math.min(r.length, size - r.offset)) })));
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
    await this.fh.sync();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing.catch(() => undefined);
    this.closed = true;
    await this.fh.close();
    try {
      await fsp.rename(this.path, this.out);
    } catch (e) {
      throw new Error(`could not rename ${this.path} to ${this.out}: ${errText(e)}`);
    }
    await fsp.rm(this.sidecarPath, { force: true });
    return sha;
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
