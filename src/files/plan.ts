// Pure planning of file transfers (api/files, cdn):
// upload.getFile / upload.getCdnFile without `precise`: offset and limit divisible by 4096, 1 MiB divisible by limit;
// with `precise`: offset and limit divisible by 1024, limit ≤ 1 MiB; always inside one 1 MiB block.
// Uploads: part size a multiple of 1 KiB that divides 512 KiB; files over 10 MiB are "big" (saveBigFilePart);
// at most 4000 parts.
import { FileError } from './errors';

export const KIB = 1024;
export const MIB = 1024 * 1024;
export const DEFAULT_DOWNLOAD_PART = MIB;
export const DEFAULT_UPLOAD_PART = 512 * KIB;
export const BIG_FILE_THRESHOLD = 10 * MIB;
export const MAX_UPLOAD_PARTS = 4000;
/** The largest file Telegram stores (4000 MiB, with Premium): a declared download size above it is refused. */
export const MAX_FILE_SIZE = 4000 * MIB;

export interface Range {
  offset: number;
  length: number;
}

export interface PlannedRequest {
  /** What to ask the server for. */
  offset: number;
  limit: number;
  precise: boolean;
  /** Which bytes of the answer are new (absolute file offsets, ascending, inside [offset, offset + limit)). */
  writes: Range[];
}

/** A download part size: a multiple of 4096 that divides 1 MiB (4 KiB, 8 KiB, … 1 MiB). */
export function isValidPartSize(n: number): boolean {
  return Number.isInteger(n) && n >= 4096 && n <= MIB && n % 4096 === 0 && MIB % n === 0;
}

/** The documented upload.getFile / getCdnFile rules: undefined when legal, else the error the server answers. */
export function checkGetFileRequest(r: { offset: number; limit: number; precise?: boolean }): 'LIMIT_INVALID' | 'OFFSET_INVALID' | undefined {
  const { offset, limit } = r;
  if (!Number.isInteger(limit) || limit <= 0) return 'LIMIT_INVALID';
  if (!Number.isInteger(offset) || offset < 0) return 'OFFSET_INVALID';
  if (r.precise) {
    if (limit % 1024 !== 0 || limit > MIB) return 'LIMIT_INVALID';
    if (offset % 1024 !== 0) return 'OFFSET_INVALID';
  } else {
    if (limit % 4096 !== 0 || MIB % limit !== 0) return 'LIMIT_INVALID';
    if (offset % 4096 !== 0) return 'OFFSET_INVALID';
  }
  // the sandbox (and this check) call a request crossing a 1 MiB boundary OFFSET_INVALID
  if (Math.floor(offset / MIB) !== Math.floor((offset + limit - 1) / MIB)) return 'OFFSET_INVALID';
  return undefined;
}

/** Sorted, non-overlapping, adjacent ranges joined; empty ranges dropped. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const s = ranges
    .filter((r) => r.length > 0)
    .map((r) => ({ offset: r.offset, length: r.length }))
    .sort((a, b) => a.offset - b.offset);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else out.push(r);
  }
  return out;
}

/** The parts of [0, size) not covered by `done`. */
export function missingRanges(done: readonly Range[], size: number): Range[] {
  const out: Range[] = [];
  let at = 0;
  for (const r of mergeRanges(done)) {
    if (r.offset >= size) break;
    if (r.offset > at) out.push({ offset: at, length: r.offset - at });
    at = Math.max(at, r.offset + r.length);
  }
  if (at < size) out.push({ offset: at, length: size - at });
  return out;
}

export function totalLength(ranges: readonly Range[]): number {
  let n = 0;
  for (const r of ranges) n += r.length;
  return n;
}

/**
 * Requests that fetch exactly the missing bytes, in file order. Every request is `partSize`-aligned and asks a full
 * `partSize` limit (legal without `precise`, inside one 1 MiB block); the tail's answer is simply shorter (the server
 * returns what is left). `writes` say which bytes of the answer are new, so a request that overlaps already-finished
 * bytes (a part finished half-way before a resume) only writes the missing ones.
 * Size unknown: requests continue from the end of `done` up to `maxRequests`; the caller stops at a short answer.
 */
export function planDownload(opts: { size?: number; partSize?: number; done?: readonly Range[]; maxRequests?: number }): PlannedRequest[] {
  const out: PlannedRequest[] = [];
  const max = opts.size === undefined ? (opts.maxRequests ?? 1 << 20) : Number.POSITIVE_INFINITY;
  for (const r of planDownloadLazy(opts)) {
    if (out.length >= max) break;
    out.push(r);
  }
  return out;
}

/**
 * The same plan as planDownload, one request at a time: nothing is built up front, so a huge (or hostile) size costs
 * no memory until requests are actually taken. Without a size it never ends (the caller stops at a short answer).
 */
export function* planDownloadLazy(opts: { size?: number; partSize?: number; done?: readonly Range[] }): Generator<PlannedRequest, void, undefined> {
  const partSize = opts.partSize ?? DEFAULT_DOWNLOAD_PART;
  if (!isValidPartSize(partSize)) throw new FileError('BAD_PART_SIZE', `part size ${partSize} is not a multiple of 4096 dividing 1 MiB`);
  const done = mergeRanges(opts.done ?? []);
  if (opts.size === undefined) {
    // unknown size: only a finished prefix can be trusted
    const start = done[0] && done[0].offset === 0 ? Math.floor(done[0].length / partSize) * partSize : 0;
    for (let offset = start; Number.isSafeInteger(offset); offset += partSize)
      yield { offset, limit: partSize, precise: false, writes: [{ offset, length: partSize }] };
    return;
  }
  const size = opts.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`file size ${size} is not a non-negative integer`);
  // a request is held back until the next one is known: two gaps inside one part become one request, two windows
  let held: PlannedRequest | undefined;
  for (const gap of missingRanges(done, size)) {
    const end = gap.offset + gap.length;
    for (let offset = Math.floor(gap.offset / partSize) * partSize; offset < end; offset += partSize) {
      const w = { offset: Math.max(offset, gap.offset), length: Math.min(offset + partSize, end) - Math.max(offset, gap.offset) };
      if (held && held.offset === offset) {
        held.writes.push(w);
        continue;
      }
      if (held) yield held;
      held = { offset, limit: partSize, precise: false, writes: [w] };
    }
  }
  if (held) yield held;
}

export interface UploadPlan {
  big: boolean;
  partSize: number;
  totalParts: number;
}

/** An upload part size: a multiple of 1 KiB that divides 512 KiB. */
export function isValidUploadPartSize(n: number): boolean {
  return Number.isInteger(n) && n >= KIB && n <= 512 * KIB && n % KIB === 0 && (512 * KIB) % n === 0;
}

export function planUpload(size: number, opts: { partSize?: number } = {}): UploadPlan {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`file size ${size} is not a non-negative integer`);
  const partSize = opts.partSize ?? DEFAULT_UPLOAD_PART;
  if (!isValidUploadPartSize(partSize)) throw new FileError('BAD_PART_SIZE', `upload part size ${partSize} is not a multiple of 1 KiB dividing 512 KiB`);
  const totalParts = Math.max(1, Math.ceil(size / partSize));
  if (totalParts > MAX_UPLOAD_PARTS) {
    throw new FileError('FILE_TOO_BIG', `${size} bytes need ${totalParts} parts of ${partSize} bytes; at most ${MAX_UPLOAD_PARTS} parts are allowed`);
  }
  return { big: size > BIG_FILE_THRESHOLD, partSize, totalParts };
}
