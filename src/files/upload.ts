// Uploads (api/files): parts of 512 KiB (a multiple of 1 KiB dividing 512 KiB), `parallel` in flight, read from disk
// only when sent (bounded memory); files up to 10 MiB with upload.saveFilePart (+ md5_checksum), bigger ones with
// upload.saveBigFilePart and file_total_parts. Parts go to the home DC (the media's dc_id becomes that DC).
import { lifecycleHandles } from '../lifecycle/error-policy';
import { Stopper } from './stopper';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { randomBytes } from '../crypto/random';
import type { DcClient } from '../lifecycle/client';
import { RpcError } from '../mtproto/errors';
import type { TlObject } from '../tl/types';
import { isRetryable } from './download';
import { FileError, errText } from './errors';
import { planUpload } from './plan';

export interface UploadProgress {
  bytes: number;
  total: number;
  parts: number;
}

export interface UploadOptions {
  /** One of path | data. */
  path?: string;
  data?: Uint8Array;
  /** File name sent in InputFile (default: basename(path), else 'file'). */
  name?: string;
  /** Part size (default 512 KiB). */
  partSize?: number;
  /** Parts in flight (default 4). */
  parallel?: number;
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
  parentId?: number;
  /** Retries per part after a lost connection (default 6). */
  retries?: number;
}

export interface UploadResult {
  /** inputFile { id, parts, name, md5_checksum } or inputFileBig { id, parts, name }. */
  inputFile: TlObject;
  size: number;
  sha256: string;
  md5?: string;
  ms: number;
  /** The DC that stored the parts (home). */
  dcId: number;
  name: string;
  big: boolean;
  traceId: number;
}

function randomFileId(): bigint {
  return new DataView(randomBytes(8).buffer).getBigInt64(0, true);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

export async function uploadFile(client: DcClient, opts: UploadOptions): Promise<UploadResult> {
  if ((opts.path === undefined) === (opts.data === undefined)) throw new FileError('BAD_LOCATION', 'uploadFile: give exactly one of path or data');
  const rt = client.runtime;
  const started = Date.now();
  const name = opts.name ?? (opts.path !== undefined ? basename(opts.path) : 'file');
  const fh = opts.path !== undefined ? await fsp.open(opts.path, 'r') : undefined;
  try {
    const size = fh ? (await fh.stat()).size : opts.data!.length;
    if (size === 0) throw new FileError('SIZE_MISMATCH', `${opts.path ?? 'data'}: an empty file cannot be uploaded`);
    const plan = planUpload(size, opts.partSize !== undefined ? { partSize: opts.partSize } : {});
    const dcId = rt.homeDc;
    const fileId = randomFileId();
    const traceId = rt.emit({
      kind: 'file',
      name: 'upload',
      dcId,
      payload: { name, size, parts: plan.totalParts, partSize: plan.partSize, big: plan.big },
      ...(opts.parentId !== undefined ? { parentId: opts.parentId } : {}),
    });
    const sha = createHash('sha256');
    const md5 = plan.big ? undefined : createHash('md5');
    const retries = opts.retries ?? 6;
    const parallel = Math.max(1, Math.min(opts.parallel ?? 4, plan.totalParts));
    let next = 0;
    let sent = 0;
    let partsDone = 0;
    const stopper = new Stopper();
    const stop = (e: Error): void => stopper.stop(e);
    const onAbort = (): void => stop(new FileError('ABORTED', `upload aborted after ${sent} bytes`, { dcId }));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const race = <T>(p: Promise<T>): Promise<T> => stopper.race(p);

    // reads happen in part order (one chain), so the hashes see the bytes in file order
    let reads: Promise<unknown> = Promise.resolve();
    const readPart = (i: number): Promise<Uint8Array> => {
      const off = i * plan.partSize;
      const len = Math.min(plan.partSize, size - off);
      const p = reads.then(async () => {
        let buf: Uint8Array;
        if (fh) {
          buf = new Uint8Array(len);
          for (let at = 0; at < len; ) {
            const { bytesRead } = await fh.read(buf, at, len - at, off + at);
            if (bytesRead <= 0) throw new FileError('SIZE_MISMATCH', `${opts.path} shrank while uploading (ends at ${off + at})`);
            at += bytesRead;
          }
        } else buf = opts.data!.subarray(off, off + len);
        sha.update(buf);
        md5?.update(buf);
        return buf;
      });
      reads = p.catch(() => undefined);
      return p;
    };

    const invoke = async (method: TlObject, parentId: number): Promise<unknown> => {
      try {
        return await client.pool.invoke(dcId, method, { parentId });
      } catch (e) {
        if (e instanceof RpcError && lifecycleHandles(e.code, e.errorMessage)) return rt.call(method, { dcId, parentId });
        throw e;
      }
    };

    const sendPart = async (i: number): Promise<void> => {
      const bytes = await race(readPart(i));
      const partId = rt.emit({ kind: 'file', name: `part ${i}/${plan.totalParts}`, dcId, parentId: traceId, note: `${bytes.length} bytes` });
      const t0 = Date.now();
      const method: TlObject = plan.big
        ? { _: 'upload.saveBigFilePart', file_id: fileId, file_part: i, file_total_parts: plan.totalParts, bytes }
        : { _: 'upload.saveFilePart', file_id: fileId, file_part: i, bytes };
      for (let attempt = 0; ; attempt++) {
        if (stopper.error) throw stopper.error;
        try {
          const ok = await race(invoke(method, partId));
          if (ok !== true) throw new FileError('UNEXPECTED', `${method._} part ${i} answered ${String(ok)}`, { dcId });
          sent += bytes.length;
          partsDone += 1;
          rt.emit({ kind: 'result', name: 'boolTrue', dcId, parentId: partId, durationMs: Date.now() - t0 });
          try {
            opts.onProgress?.({ bytes: sent, total: size, parts: partsDone });
          } catch {
            // observers must not break the upload
          }
          return;
        } catch (e) {
          if (stopper.error) throw stopper.error;
          if (isRetryable(e) && attempt < retries) {
            const wait = Math.min(3000, 100 * 2 ** attempt);
            rt.emit({
              kind: 'error',
              name: e instanceof Error ? e.name : 'Error',
              dcId,
              parentId: partId,
              note: `${errText(e)}; retry ${attempt + 1}/${retries} in ${wait} ms`,
            });
            await race(sleep(wait));
            continue;
          }
          if (isRetryable(e)) throw new FileError('RETRIES_EXHAUSTED', `upload part ${i} failed ${attempt + 1} times: ${errText(e)}`, { dcId, cause: e });
          throw e;
        }
      }
    };

    const takePart = (): number | undefined => (next < plan.totalParts ? next++ : undefined);
    try {
      await stopper.runWorkers(parallel, takePart, sendPart);
      if (stopper.error) throw stopper.error;
    } catch (e) {
      rt.emit({ kind: 'file', name: 'upload failed', dcId, parentId: traceId, note: errText(e) });
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const md5hex = md5?.digest('hex');
    const inputFile: TlObject = plan.big
      ? { _: 'inputFileBig', id: fileId, parts: plan.totalParts, name }
      : { _: 'inputFile', id: fileId, parts: plan.totalParts, name, md5_checksum: md5hex ?? '' };
    const ms = Date.now() - started;
    rt.emit({
      kind: 'file',
      name: 'uploaded',
      dcId,
      parentId: traceId,
      durationMs: ms,
      note: `${size} bytes in ${plan.totalParts} parts (${plan.big ? 'saveBigFilePart' : 'saveFilePart'})`,
    });
    return { inputFile, size, sha256: sha.digest('hex'), ...(md5hex ? { md5: md5hex } : {}), ms, dcId, name, big: plan.big, traceId };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
