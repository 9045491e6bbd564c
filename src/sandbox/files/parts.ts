// Reading a file by parts: the offset/limit rules of upload.getFile and upload.getCdnFile, and the 128 KiB FileHash
// ranges. Both the main DCs (getFile, getFileHashes) and the CDN side (redirect, reupload, the CDN DC) use them.
import { createHash } from 'node:crypto';
import type { TlObject } from '../../tl/types';
import { badRequest } from '../errors';
import type { FileContent } from '../seed';

export const MIB = 1048576;
/** FileHash ranges are 128 KiB. */
export const HASH_RANGE = 131072;
/** FileHash entries per answer (1 MiB worth). */
export const HASHES_PER_ANSWER = 8;

/** A TL int or long as a number; NaN when it is neither or does not fit a safe integer. */
function num(v: unknown): number {
  if (typeof v === 'bigint') return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? NaN : Number(v);
  return typeof v === 'number' ? v : NaN;
}

/**
 * The upload.getFile / upload.getCdnFile part rules. Without `precise`: offset % 4096, limit % 4096, 1048576 % limit;
 * with it: offset and limit % 1024, limit ≤ 1048576; always inside one 1 MiB block.
 */
export function checkPartRequest(offsetRaw: unknown, limitRaw: unknown, precise: boolean): { offset: number; limit: number } {
  const offset = num(offsetRaw);
  const limit = num(limitRaw);
  if (!Number.isSafeInteger(offset) || offset < 0) throw badRequest('OFFSET_INVALID');
  if (!Number.isInteger(limit) || limit <= 0) throw badRequest('LIMIT_INVALID');
  if (precise) {
    if (limit % 1024 !== 0 || limit > MIB) throw badRequest('LIMIT_INVALID');
    if (offset % 1024 !== 0) throw badRequest('OFFSET_INVALID');
  } else {
    if (limit % 4096 !== 0 || MIB % limit !== 0) throw badRequest('LIMIT_INVALID');
    if (offset % 4096 !== 0) throw badRequest('OFFSET_INVALID');
  }
  if (Math.floor(offset / MIB) !== Math.floor((offset + limit - 1) / MIB)) throw badRequest('LIMIT_INVALID');
  return { offset, limit };
}

/** Up to HASHES_PER_ANSWER fileHash objects for the 128 KiB ranges starting with the one holding `offset`. */
export function fileHashes(c: FileContent, offsetRaw: unknown, count = HASHES_PER_ANSWER): TlObject[] {
  const offset = num(offsetRaw);
  if (!Number.isSafeInteger(offset) || offset < 0) throw badRequest('OFFSET_INVALID');
  const out: TlObject[] = [];
  for (let start = Math.floor(offset / HASH_RANGE) * HASH_RANGE; start < c.size && out.length < count; start += HASH_RANGE) {
    const bytes = c.read(start, HASH_RANGE);
    out.push({ _: 'fileHash', offset: BigInt(start), limit: bytes.length, hash: new Uint8Array(createHash('sha256').update(bytes).digest()) });
  }
  return out;
}
