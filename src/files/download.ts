// Downloads (api/files, cdn): plan the parts by the documented rules, run `parallel` requests at once on the file's
// DC, follow FILE_MIGRATE (the rest of the plan moves, finished parts stay), let the lifecycle transfer the
// authorization, follow CDN redirects (AES-256-CTR, SHA-256 ranges, reupload, fallback to the master DC), retry a part
// after a lost connection (the pool reconnects), stop promptly on an AbortSignal, and write each part at its offset
// as it arrives (bounded memory: at most `parallel` parts in flight).
import { lifecycleHandles } from '../lifecycle/error-policy';
import { Stopper } from './stopper';
import { createHash, type Hash } from 'node:crypto';
import { DcError } from '../dc/errors';
import { dcAddress } from '../dc/profile';
import { DEFAULT_INIT_CONNECTION, openSession } from '../mtproto/client';
import type { MtprotoSession } from '../mtproto/session';
import type { DcClient } from '../lifecycle/client';
import { LifecycleError } from '../lifecycle/errors';
import { HandshakeError } from '../mtproto/handshake-errors';
import { BadMessageError, CallTimeoutError, RpcError, SessionClosedError, TransportError } from '../mtproto/errors';
import { tlToJson } from '../tl/json';
import type { TlObject } from '../tl/types';
import type { TraceEventInput } from '../trace/event';
import { CdnHashes, CdnLink, cdnDecrypt, fileHashesOf } from './cdn';
import { FileError, errText } from './errors';
import { PartFile } from './part-file';
import { DEFAULT_DOWNLOAD_PART, MAX_FILE_SIZE, MIB, isValidPartSize, planDownloadLazy, totalLength, type PlannedRequest, type Range } from './plan';

export interface DownloadProgress {
  bytes: number;
  total?: number;
  parts: number;
  dcId: number;
  cdn: boolean;
}

export interface DownloadOptions {
  /** InputFileLocation (inputDocumentFileLocation, inputPhotoFileLocation, …). */
  location: TlObject;
  /** The file's dc_id. */
  dcId: number;
  size?: number;
  /** Final path; while running `<out>.part` + `<out>.part.json`. */
  out: string;
  /** Bytes per request: a multiple of 4096 dividing 1 MiB (default 1 MiB). */
  partSize?: number;
  /** Requests in flight (default: config small/large_queue_max_active_operations_count, else 4). */
  parallel?: number;
  /**
   * TCP connections to the file's DC (default 1: the pool's session). More open extra sessions with the same
   * (authorized) auth key and new session_ids for this download; requests are spread round-robin.
   */
  connections?: number;
  /** Continue a matching `<out>.part.json` (default true). */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Trace parent of the download event. */
  parentId?: number;
  /** Send cdn_supported (default true). */
  cdn?: boolean;
  /** Retries per part after a lost connection / timeout (default 6; backoff 100 ms·2^n, at most 3 s). */
  retries?: number;
  /** Expected SHA-256 (hex), checked before `<out>` appears. */
  sha256?: string;
  /** Replace an existing `<out>` (default false: an existing `<out>` is a FileError EXISTS naming it). */
  overwrite?: boolean;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  ms: number;
  /** DCs used in order: the file's DC, FILE_MIGRATE targets, the CDN DC. */
  dcPath: number[];
  /** Requests answered (including ones repeated after a lost connection). */
  parts: number;
  cdn: boolean;
  resumedBytes: number;
  /** Trace id of the download event. */
  traceId: number;
}

/** Where the bytes go (a part file on disk, or memory). */
interface Sink {
  readonly done: readonly Range[];
  readonly resumedBytes: number;
  readonly partSize: number;
  readonly dcId: number;
  readonly size: number | undefined;
  write(offset: number, data: Uint8Array): Promise<void>;
  markDone(r: Range): void;
  setDcId(dcId: number): void;
  setSize(size: number): void;
}

const SMALL_FILE = 20 * MIB;
const DEFAULT_PARALLEL = 4;

interface QueueCaps {
  small?: number;
  large?: number;
}
const capsCache = new WeakMap<DcClient, Promise<QueueCaps>>();

/** small/large_queue_max_active_operations_count from help.getConfig (once per client; {} when absent). */
function queueCaps(client: DcClient, parentId: number): Promise<QueueCaps> {
  let p = capsCache.get(client);
  if (!p) {
    p = client.runtime
      .call<TlObject>({ _: 'help.getConfig' }, { parentId })
      .then((c) => {
        const out: QueueCaps = {};
        if (typeof c.small_queue_max_active_operations_count === 'number' && c.small_queue_max_active_operations_count > 0)
          out.small = c.small_queue_max_active_operations_count;
        if (typeof c.large_queue_max_active_operations_count === 'number' && c.large_queue_max_active_operations_count > 0)
          out.large = c.large_queue_max_active_operations_count;
        return out;
      })
      .catch(() => ({}));
    capsCache.set(client, p);
  }
  return p;
}

/** Errors after which the same request is simply tried again (the pool / CDN link reconnects). */
export function isRetryable(e: unknown): boolean {
  // a server whose RSA key we do not trust will not start trusting it on a retry
  if (e instanceof HandshakeError) return e.reason !== 'rsa key';
  if (e instanceof SessionClosedError || e instanceof TransportError || e instanceof BadMessageError) return true;
  if (e instanceof CallTimeoutError) return e.reason === 'timeout';
  if (e instanceof DcError) return e.code === 'CONNECT_FAILED' || e.code === 'KEY_FAILED';
  if (e instanceof LifecycleError) return e.code === 'TRANSFER_FAILED' && isRetryable(e.cause);
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'].includes(code)) return true;
    if (/^connect to .*: /.test(e.message)) return true;
  }
  return false;
}

class CdnFallback extends Error {
  constructor(
    readonly reason: string,
    cause?: unknown,
  ) {
    super(reason, cause !== undefined ? { cause } : undefined);
  }
}

interface CdnState {
  dcId: number;
  masterDc: number;
  token: Uint8Array;
  key: Uint8Array;
  iv: Uint8Array;
  hashes: CdnHashes;
  link: CdnLink;
  reuploading?: Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

/** Bytes of an upload.file / upload.cdnFile answer. */
function bytesOf(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(0);
}

/**
 * SHA-256 of the file while it downloads: parts arrive roughly in order; out-of-order ones are held (bounded) until
 * the prefix reaches them. Past the bound (or after a resume) it gives up and finish() reads the file back instead.
 */
export class InOrderHasher {
  private readonly h: Hash = createHash('sha256');
  private readonly held = new Map<number, Uint8Array>();
  private heldBytes = 0;
  private next = 0;
  private broken = false;

  constructor(private readonly maxHeld: number) {}

  push(offset: number, data: Uint8Array): void {
    if (this.broken) return;
    if (offset === this.next) {
      this.h.update(data);
      this.next += data.length;
      for (let d = this.held.get(this.next); d; d = this.held.get(this.next)) {
        this.held.delete(this.next);
        this.heldBytes -= d.length;
        this.h.update(d);
        this.next += d.length;
      }
    } else if (offset > this.next && this.heldBytes + data.length <= this.maxHeld && !this.held.has(offset)) {
      this.held.set(offset, data);
      this.heldBytes += data.length;
    } else this.giveUp();
  }

  giveUp(): void {
    this.broken = true;
    this.held.clear();
    this.heldBytes = 0;
  }

  /** The hex digest when exactly [0, size) went through in order, else undefined. */
  digest(size: number): string | undefined {
    if (this.broken || this.next !== size || this.held.size) return undefined;
    this.broken = true;
    return this.h.digest('hex');
  }
}

interface EngineOptions extends Omit<DownloadOptions, 'out' | 'resume' | 'overwrite' | 'sha256'> {}

interface EngineResult {
  size: number;
  /** SHA-256 computed on the way (undefined when it must be read back). */
  sha256?: string;
  ms: number;
  dcPath: number[];
  parts: number;
  cdn: boolean;
  traceId: number;
}

/** Extra sessions to one DC with the stored (authorized) auth key; closed when the download ends. */
class ExtraSessions {
  private readonly slots: (Promise<MtprotoSession> | undefined)[] = [];
  private disabled = false;

  constructor(
    private readonly client: DcClient,
    readonly dcId: number,
    count: number,
    private readonly note: (n: string) => void,
  ) {
    this.slots.length = count;
  }

  get count(): number {
    return this.disabled ? 0 : this.slots.length;
  }

  /** The session of slot i (opened on first use or after it closed); undefined = use the pool. */
  async get(i: number): Promise<MtprotoSession | undefined> {
    if (this.disabled) return undefined;
    const cur = this.slots[i];
    if (cur) {
      const s = await cur.catch(() => undefined);
      if (s && !s.closed) return s;
    }
    const p = this.open(i);
    this.slots[i] = p;
    return p.catch((e: unknown) => {
      if (!isRetryable(e)) this.disabled = true;
      throw e;
    });
  }

  private async open(i: number): Promise<MtprotoSession> {
    const rt = this.client.runtime;
    const rec = await rt.store.getDcKey(this.dcId);
    if (!rec) {
      this.disabled = true;
      throw new DcError('KEY_FAILED', this.dcId, `no stored auth key for DC ${this.dcId}: no extra connection`);
    }
    const addr = dcAddress(rt.profile, this.dcId, rt.pool.topology);
    this.note(`extra connection ${i + 1} to ${addr.host}:${addr.port} (same auth key, new session)`);
    const opened = await openSession({
      host: addr.host,
      port: addr.port,
      dcId: this.dcId,
      transport: rt.profile.transport,
      rsaKeys: rt.profile.rsaKeys,
      authKey: rec.authKey,
      serverSalt: rec.serverSalt,
      timeOffset: rec.timeOffset,
      initConnection: { ...DEFAULT_INIT_CONNECTION, ...rt.profile.initConnection, api_id: rt.profile.apiId },
    });
    opened.session.on('update', () => undefined);
    return opened.session;
  }

  disable(): void {
    this.close();
  }

  close(): void {
    this.disabled = true;
    for (const p of this.slots) void p?.then((s) => s.close('download ended')).catch(() => undefined);
  }
}

async function runDownload(client: DcClient, o: EngineOptions, sink: Sink): Promise<EngineResult> {
  const rt = client.runtime;
  const started = Date.now();
  const partSize = sink.partSize;
  let dc = sink.dcId;
  const dcPath = [dc];
  const emit = (e: TraceEventInput): number => rt.emit(e);
  const downloadId = emit({
    kind: 'file',
    name: 'download',
    dcId: dc,
    payload: {
      location: o.location,
      ...(sink.size !== undefined ? { size: sink.size } : {}),
      partSize,
      ...(sink.resumedBytes ? { resumedBytes: sink.resumedBytes } : {}),
    },
    ...(o.parentId !== undefined ? { parentId: o.parentId } : {}),
  });
  const retries = o.retries ?? 6;
  let size = sink.size;
  let eof = size;
  // lazy: a declared size costs nothing until its requests are taken
  const plan = size !== undefined ? planDownloadLazy({ size, partSize, done: sink.done }) : undefined;
  const ahead: PlannedRequest[] = [];
  // unknown size: continue after a finished prefix
  let nextOffset = 0;
  if (!plan) {
    const first = sink.done[0];
    nextOffset = first && first.offset === 0 ? Math.floor(first.length / partSize) * partSize : 0;
  }
  let parallel = o.parallel;
  if (parallel === undefined) {
    const caps = await queueCaps(client, downloadId);
    parallel = (size !== undefined && size < SMALL_FILE ? caps.small : caps.large) ?? DEFAULT_PARALLEL;
  }
  parallel = Math.max(1, Math.floor(parallel));
  if (plan) {
    // no more workers than requests: look at most `parallel` requests ahead
    while (ahead.length < parallel) {
      const n = plan.next();
      if (n.done) break;
      ahead.push(n.value);
    }
    parallel = Math.max(1, Math.min(parallel, ahead.length));
  }

  const hasher = new InOrderHasher(2 * parallel * partSize);
  if (sink.done.length) hasher.giveUp();
  let cdnAllowed = o.cdn !== false;
  let cdn: CdnState | undefined;
  let usedCdn = false;
  let parts = 0;
  let bytes = totalLength(sink.done);

  // stop: abort or the first fatal error
  const stopper = new Stopper();
  const stop = (e: Error): void => stopper.stop(e);
  const onAbort = (): void => stop(new FileError('ABORTED', `download aborted after ${bytes} bytes`, { dcId: dc }));
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const race = <T>(p: Promise<T>): Promise<T> => stopper.race(p);

  const connections = Math.max(1, Math.floor(o.connections ?? 1));
  let extra: ExtraSessions | undefined;
  let rr = 0;
  const masterInvoke = async <T>(dcId: number, method: TlObject, parentId: number): Promise<T> => {
    // a DC that still needs the user's authorization: the lifecycle transfers it (one export per DC, cached)
    if (rt.authorized && dcId !== rt.homeDc && !rt.authorizedDcs.has(dcId)) return rt.call<T>(method, { dcId, parentId });
    try {
      if (connections > 1 && method._ === 'upload.getFile') {
        if (!extra || extra.dcId !== dcId) {
          extra?.close();
          extra = new ExtraSessions(client, dcId, connections - 1, (note) => void emit({ kind: 'state', name: 'connect', dcId, parentId: downloadId, note }));
        }
        const slot = rr++ % connections;
        if (slot > 0 && extra.count > 0) {
          const s = await extra.get(slot - 1);
          if (s) {
            try {
              return await s.invoke<T>(method);
            } catch (e) {
              // the DC does not know the key any more: the pool makes a new one; extras are off for this download
              if (!(e instanceof TransportError && e.code === -404)) throw e;
              extra.disable();
            }
          }
        }
      }
      return await client.pool.invoke<T>(dcId, method, { parentId });
    } catch (e) {
      if (e instanceof RpcError && lifecycleHandles(e.code, e.errorMessage)) return rt.call<T>(method, { dcId, parentId });
      throw e;
    }
  };

  const migrate = (from: number, to: number): void => {
    if (dc !== from) return;
    dc = to;
    dcPath.push(to);
    sink.setDcId(to);
    emit({ kind: 'redirect', name: `FILE_MIGRATE_${to}`, dcId: from, targetDc: to, parentId: downloadId, note: `the rest of the download goes to DC${to}` });
  };

  const enterCdn = (res: TlObject, masterDc: number): void => {
    if (cdn || !cdnAllowed) return;
    const cdnDc = Number(res.dc_id);
    const token = res.file_token as Uint8Array;
    const hashes = new CdnHashes(async (offset) => {
      const id = emit({ kind: 'file', name: 'upload.getCdnFileHashes', dcId: masterDc, parentId: downloadId, note: `hashes from ${offset}` });
      return fileHashesOf(await masterInvoke<unknown>(masterDc, { _: 'upload.getCdnFileHashes', file_token: token, offset: BigInt(offset) }, id));
    });
    hashes.add(fileHashesOf(res.file_hashes));
    const link = new CdnLink(client, cdnDc, masterDc, (e) => void emit({ ...e, dcId: cdnDc, parentId: downloadId }));
    cdn = { dcId: cdnDc, masterDc, token, key: res.encryption_key as Uint8Array, iv: res.encryption_iv as Uint8Array, hashes, link };
    dcPath.push(cdnDc);
    emit({ kind: 'redirect', name: 'fileCdnRedirect', dcId: masterDc, targetDc: cdnDc, parentId: downloadId, note: `CDN DC ${cdnDc}, ${hashes.size} hashes` });
  };

  // The CDN is done for this file (cdn.html: "CDNs may not be trusted"; a part failing its hash "will be immediately
  // discarded by the client"; token errors: "Continue downloading the file from the master DC using upload.getFile"):
  // the rest of the plan, and the part that failed, go to the master DC without cdn_supported. Only the first
  // failure is reported; parts already in flight on the CDN that fail too just follow.
  const fallBack = (state: CdnState, reason: string, cause?: unknown): void => {
    if (cdn !== state) return;
    cdn = undefined;
    cdnAllowed = false;
    state.link.close();
    const offset = cause instanceof FileError ? cause.offset : undefined;
    emit({
      kind: 'error',
      name: reason,
      dcId: state.dcId,
      parentId: downloadId,
      ...(offset !== undefined ? { payload: { offset, cdnDc: state.dcId, masterDc: state.masterDc } } : {}),
      note: `${cause instanceof FileError ? `${cause.message}; ` : ''}back to upload.getFile on DC ${state.masterDc}`,
    });
  };

  const fetchCdn = async (state: CdnState, r: PlannedRequest, partId: number): Promise<Uint8Array> => {
    for (let reuploads = 0; ; ) {
      let res: TlObject;
      try {
        res = await race(state.link.getCdnFile(state.token, r.offset, r.limit, partId));
      } catch (e) {
        if (e instanceof RpcError && (e.errorMessage === 'FILE_TOKEN_INVALID' || e.errorMessage === 'REQUEST_TOKEN_INVALID'))
          throw new CdnFallback(e.errorMessage, e);
        // no endpoint / no key for the CDN DC, or a CDN key help.getCdnConfig does not list: the master serves the file
        if (e instanceof FileError && e.code === 'BAD_LOCATION') throw new CdnFallback('CDN_UNAVAILABLE', e);
        if (e instanceof HandshakeError && e.reason === 'rsa key') throw new CdnFallback('CDN_KEY_UNTRUSTED', e);
        throw e;
      }
      if (res._ === 'upload.cdnFileReuploadNeeded') {
        if (++reuploads > 3) throw new CdnFallback('CDN_REUPLOAD_LOOP');
        if (!state.reuploading) {
          const requestToken = res.request_token as Uint8Array;
          state.reuploading = (async () => {
            const id = emit({ kind: 'file', name: 'upload.reuploadCdnFile', dcId: state.masterDc, parentId: partId, note: 'the CDN asked for the file' });
            try {
              const hs = await masterInvoke<unknown>(state.masterDc, { _: 'upload.reuploadCdnFile', file_token: state.token, request_token: requestToken }, id);
              state.hashes.add(fileHashesOf(hs));
            } catch (e) {
              if (e instanceof RpcError && (e.errorMessage === 'FILE_TOKEN_INVALID' || e.errorMessage === 'REQUEST_TOKEN_INVALID'))
                throw new CdnFallback(e.errorMessage, e);
              throw e;
            }
          })().finally(() => {
            state.reuploading = undefined;
          });
        }
        await race(state.reuploading);
        continue;
      }
      if (res._ !== 'upload.cdnFile') throw new FileError('UNEXPECTED', `upload.getCdnFile answered ${res._}`, { dcId: state.dcId, offset: r.offset });
      const plain = cdnDecrypt(bytesOf(res.bytes), state.key, state.iv, r.offset);
      const bad = await race(state.hashes.verify(r.offset, plain));
      // never written: the bytes of a part go to the sink only after every hash range of it matched
      if (bad !== undefined) {
        throw new CdnFallback(
          'CDN_HASH_MISMATCH',
          new FileError(
            'CDN_HASH_MISMATCH',
            `CDN DC ${state.dcId}: the bytes at ${bad} (answer at ${r.offset}+${r.limit}) do not match the master's SHA-256; discarded`,
            { dcId: state.dcId, offset: bad },
          ),
        );
      }
      return plain;
    }
  };

  /** One request's bytes (plain), from the master DC or the CDN; follows FILE_MIGRATE and CDN redirects. */
  const fetchPart = async (r: PlannedRequest, partId: number): Promise<{ data: Uint8Array; dcId: number; cdn: boolean }> => {
    for (let hops = 0; ; ) {
      const state = cdn;
      if (state) {
        try {
          return { data: await fetchCdn(state, r, partId), dcId: state.dcId, cdn: true };
        } catch (e) {
          if (!(e instanceof CdnFallback)) throw e;
          fallBack(state, e.reason, e.cause);
          continue;
        }
      }
      const at = dc;
      const method: TlObject = {
        _: 'upload.getFile',
        ...(cdnAllowed ? { cdn_supported: true } : {}),
        location: o.location,
        offset: BigInt(r.offset),
        limit: r.limit,
      };
      let res: TlObject;
      try {
        res = await race(masterInvoke<TlObject>(at, method, partId));
      } catch (e) {
        if (e instanceof RpcError && e.kind === 'FILE_MIGRATE' && e.value !== undefined) {
          if (++hops > 5)
            throw new FileError('REDIRECT_LOOP', `upload.getFile: more than 5 FILE_MIGRATE redirects for the part at ${r.offset}`, {
              dcId: at,
              offset: r.offset,
              cause: e,
            });
          migrate(at, e.value);
          continue;
        }
        throw e;
      }
      if (res._ === 'upload.fileCdnRedirect') {
        enterCdn(res, at);
        if (!cdn) throw new FileError('UNEXPECTED', 'upload.getFile answered fileCdnRedirect without cdn_supported', { dcId: at });
        continue;
      }
      if (res._ !== 'upload.file') throw new FileError('UNEXPECTED', `upload.getFile answered ${res._}`, { dcId: at, offset: r.offset });
      return { data: bytesOf(res.bytes), dcId: at, cdn: false };
    }
  };

  const take = (): PlannedRequest | undefined => {
    if (stopper.error) return undefined;
    if (plan) {
      const r = ahead.shift();
      if (r) return r;
      const n = plan.next();
      return n.done ? undefined : n.value;
    }
    if (eof !== undefined && nextOffset >= eof) return undefined;
    const r: PlannedRequest = { offset: nextOffset, limit: partSize, precise: false, writes: [{ offset: nextOffset, length: partSize }] };
    nextOffset += partSize;
    return r;
  };

  const doPart = async (r: PlannedRequest): Promise<void> => {
    const partId = emit({
      kind: 'file',
      name: `part ${r.offset}+${r.limit}`,
      dcId: cdn ? cdn.dcId : dc,
      parentId: downloadId,
      ...(cdn ? { note: 'cdn' } : {}),
    });
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (stopper.error) throw stopper.error;
      try {
        const got = await race(fetchPart(r, partId));
        const data = got.data;
        if (size !== undefined) {
          const expect = Math.min(r.limit, size - r.offset);
          if (data.length !== expect) {
            throw new FileError('SIZE_MISMATCH', `DC ${got.dcId} returned ${data.length} bytes at ${r.offset}, expected ${expect} of a ${size}-byte file`, {
              dcId: got.dcId,
              offset: r.offset,
            });
          }
        } else if (data.length < r.limit) {
          // the end of a file of unknown size
          const end = r.offset + data.length;
          if (eof === undefined || end < eof) eof = end;
        }
        if (eof !== undefined && r.offset >= eof) return;
        for (const w of r.writes) {
          const from = w.offset - r.offset;
          const to = Math.min(from + w.length, data.length);
          if (to <= from) continue;
          if (stopper.error) throw stopper.error;
          const piece = data.subarray(from, to);
          await sink.write(w.offset, piece);
          sink.markDone({ offset: w.offset, length: to - from });
          hasher.push(w.offset, piece);
          bytes += to - from;
        }
        parts += 1;
        if (got.cdn) usedCdn = true;
        emit({
          kind: 'result',
          name: got.cdn ? 'upload.cdnFile' : 'upload.file',
          dcId: got.dcId,
          parentId: partId,
          durationMs: Date.now() - t0,
          note: `${got.data.length} bytes${attempt ? ` after ${attempt} retries` : ''}`,
        });
        try {
          o.onProgress?.({ bytes, ...(size !== undefined ? { total: size } : {}), parts, dcId: got.dcId, cdn: got.cdn });
        } catch {
          // observers must not break the download
        }
        return;
      } catch (e) {
        if (stopper.error) throw stopper.error;
        if (isRetryable(e) && attempt < retries) {
          const wait = Math.min(3000, 100 * 2 ** attempt);
          emit({
            kind: 'error',
            name: e instanceof Error ? e.name : 'Error',
            dcId: cdn ? cdn.dcId : dc,
            parentId: partId,
            note: `${errText(e)}; retry ${attempt + 1}/${retries} in ${wait} ms`,
          });
          await race(sleep(wait));
          continue;
        }
        if (isRetryable(e))
          throw new FileError('RETRIES_EXHAUSTED', `part at ${r.offset} failed ${attempt + 1} times: ${errText(e)}`, { dcId: dc, offset: r.offset, cause: e });
        throw e;
      }
    }
  };

  try {
    await stopper.runWorkers(parallel, take, doPart);
    if (stopper.error) throw stopper.error;
    if (size === undefined) {
      size = eof ?? totalLength(sink.done);
      sink.setSize(size);
    }
    const ms = Date.now() - started;
    emit({
      kind: 'file',
      name: 'downloaded',
      dcId: dc,
      parentId: downloadId,
      durationMs: ms,
      note: `${size} bytes in ${parts} parts, ${(size / 1e6 / Math.max(ms / 1000, 1e-3)).toFixed(1)} MB/s via DC ${dcPath.join(' → ')}`,
    });
    const sha256 = hasher.digest(size);
    return { size, ...(sha256 !== undefined ? { sha256 } : {}), ms, dcPath, parts, cdn: usedCdn, traceId: downloadId };
  } catch (e) {
    emit({ kind: 'file', name: 'download failed', dcId: dc, parentId: downloadId, durationMs: Date.now() - started, note: errText(e) });
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    (cdn as CdnState | undefined)?.link.close();
    (extra as ExtraSessions | undefined)?.close();
  }
}

function checkOptions(o: { location: TlObject; dcId: number; partSize?: number; size?: number }): number {
  if (!o.location || typeof o.location !== 'object' || typeof o.location._ !== 'string')
    throw new FileError('BAD_LOCATION', 'location must be an InputFileLocation TL object');
  if (!Number.isInteger(o.dcId) || o.dcId <= 0) throw new FileError('BAD_LOCATION', `dcId ${o.dcId} is not a DC id`);
  const partSize = o.partSize ?? DEFAULT_DOWNLOAD_PART;
  if (!isValidPartSize(partSize)) throw new FileError('BAD_PART_SIZE', `part size ${partSize} is not a multiple of 4096 dividing 1 MiB`);
  if (o.size !== undefined && (!Number.isSafeInteger(o.size) || o.size < 0)) throw new FileError('BAD_LOCATION', `size ${o.size} is not a byte count`);
  if (o.size !== undefined && o.size > MAX_FILE_SIZE) {
    throw new FileError('FILE_TOO_BIG', `size ${o.size} is larger than any file Telegram stores (${MAX_FILE_SIZE} bytes = 4000 MiB)`);
  }
  return partSize;
}

/** Downloads a file to `opts.out` (through `<out>.part`); see docs/contracts.md, src/files. */
export async function downloadFile(client: DcClient, opts: DownloadOptions): Promise<DownloadResult> {
  const partSize = checkOptions(opts);
  const pf = await PartFile.open(
    opts.out,
    { location: opts.location, dcId: opts.dcId, partSize, ...(opts.size !== undefined ? { size: opts.size } : {}) },
    { ...(opts.resume !== undefined ? { resume: opts.resume } : {}), ...(opts.overwrite !== undefined ? { overwrite: opts.overwrite } : {}) },
  );
  try {
    await pf.checkSpace();
  } catch (e) {
    await pf.close().catch(() => undefined);
    throw e;
  }
  const sink: Sink = {
    get done() {
      return pf.done;
    },
    resumedBytes: pf.resumedBytes,
    partSize: pf.meta.partSize,
    dcId: pf.meta.dcId,
    size: pf.meta.size,
    write: (off, data) => pf.write(off, data),
    markDone: (r) => pf.markDone(r),
    setDcId: (d) => pf.setDcId(d),
    setSize: (s) => pf.setSize(s),
  };
  let res: EngineResult;
  try {
    res = await runDownload(client, opts, sink);
  } catch (e) {
    // the download's own error first; a failing close (its last sidecar flush) must not hide it
    await pf.close().catch(() => undefined);
    throw e;
  }
  let sha256: string;
  try {
    sha256 = await pf.finish({
      size: res.size,
      ...(res.sha256 !== undefined ? { sha256: res.sha256 } : {}),
      ...(opts.sha256 !== undefined ? { expectSha256: opts.sha256 } : {}),
    });
  } catch (e) {
    await pf.close().catch(() => undefined);
    client.runtime.emit({ kind: 'file', name: 'download failed', dcId: res.dcPath[res.dcPath.length - 1]!, parentId: res.traceId, note: errText(e) });
    throw e;
  }
  return {
    path: opts.out,
    bytes: res.size,
    sha256,
    ms: res.ms,
    dcPath: res.dcPath,
    parts: res.parts,
    cdn: res.cdn,
    resumedBytes: pf.resumedBytes,
    traceId: res.traceId,
  };
}

/** Downloads a (small) file into memory. */
export async function downloadBytes(client: DcClient, opts: Omit<DownloadOptions, 'out' | 'resume' | 'overwrite'>): Promise<Uint8Array> {
  const partSize = checkOptions(opts);
  const chunks = new Map<number, Uint8Array>();
  let done: Range[] = [];
  let size = opts.size;
  const sink: Sink = {
    get done() {
      return done;
    },
    resumedBytes: 0,
    partSize,
    dcId: opts.dcId,
    size,
    write: async (off, data) => void chunks.set(off, data.slice()),
    markDone: (r) => void (done = [...done, r]),
    setDcId: () => undefined,
    setSize: (s) => void (size = s),
  };
  const res = await runDownload(client, opts, sink);
  const out = new Uint8Array(res.size);
  for (const [off, data] of chunks) if (off < res.size) out.set(data.subarray(0, Math.min(data.length, res.size - off)), off);
  if (opts.sha256 !== undefined) {
    const { createHash } = await import('node:crypto');
    const got = createHash('sha256').update(out).digest('hex');
    if (got !== opts.sha256.toLowerCase()) throw new FileError('HASH_MISMATCH', `sha256 ${got} differs from the expected ${opts.sha256}`);
  }
  return out;
}

/** The location as JSON (what `dclab download --location` takes). */
export function locationJson(location: TlObject): unknown {
  return tlToJson(location);
}
