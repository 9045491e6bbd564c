// `dclab download`, `dclab upload` and `dclab history`: the file client of src/files from the command line.
//  - download: the location JSON is checked against InputFileLocation (a wrong field names its path and the expected
//    type: exit 2, before any connection), then downloadFile on the file's DC (transfer, FILE_MIGRATE, CDN — all in
//    src/files); progress with MB/s on stderr, the summary on stdout, the chain saved in the session trace. Ctrl+C
//    aborts: `<out>.part` + its sidecar stay, `--resume` continues them. An existing FILE is never replaced without
//    --force; a second download to the same FILE (any process) is refused while the first runs.
//  - upload: uploadFile (parts on the home DC), with --send sendUploadedMedia to Saved Messages; prints the dc_id and
//    the location JSON of the new media.
//  - history: listSavedMedia (messages.getHistory on inputPeerSelf) with each media's dc_id and location JSON.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { LifecycleError, type DcClient } from '../lifecycle';
import { RpcError } from '../mtproto/errors';
import { TlJsonError } from '../tl/json';
import type { TlObject } from '../tl/types';
import { formatTraceTimeline } from '../trace';
import {
  downloadFile,
  readSidecar,
  uploadFile,
  sendUploadedMedia,
  listSavedMedia,
  locationOf,
  locationFromJson,
  locationJson,
  FileError,
  type DownloadProgress,
} from '../files';
import { flagBool, flagInt, flagString, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import type { CliContext } from './context';

export const DOWNLOAD_FLAGS: FlagSpecs = {
  '--dc': { kind: 'int', value: "the file's dc_id (a DC id 1..65535)", min: 1, max: 65535 },
  '--location': {
    kind: 'string',
    value: `an InputFileLocation as JSON, e.g. '{"_":"inputDocumentFileLocation","id":"…","access_hash":"…","file_reference":"<base64>","thumb_size":""}'`,
  },
  '--out': { kind: 'string', value: 'the output file path' },
  '--size': { kind: 'int', value: 'the file size in bytes (≥ 0)', min: 0, max: Number.MAX_SAFE_INTEGER },
  '--no-cdn': { kind: 'boolean' },
  '--parallel': { kind: 'int', value: 'requests in flight 1..64', min: 1, max: 64 },
  '--resume': { kind: 'boolean' },
  '--force': { kind: 'boolean' },
  '--sha256': { kind: 'string', value: 'the expected SHA-256 as 64 hex digits' },
  '--json': { kind: 'boolean' },
  '--verbose': { kind: 'boolean' },
};

export const UPLOAD_FLAGS: FlagSpecs = {
  '--send': { kind: 'boolean' },
  '--photo': { kind: 'boolean' },
  '--name': { kind: 'string', value: 'a file name' },
  '--mime-type': { kind: 'string', value: 'a MIME type like application/pdf' },
  '--caption': { kind: 'string', value: 'a text' },
  '--parallel': { kind: 'int', value: 'parts in flight 1..64', min: 1, max: 64 },
  '--json': { kind: 'boolean' },
  '--verbose': { kind: 'boolean' },
};

export const HISTORY_FLAGS: FlagSpecs = {
  '--json': { kind: 'boolean' },
  '--limit': { kind: 'int', value: 'a number of messages 1..100', min: 1, max: 100 },
};

const MB = 1e6;
const MIB = 1024 * 1024;

/** The --location JSON text → the InputFileLocation TL value (UsageError naming the field and the expected type). */
export function parseLocationFlag(text: string, command = 'download'): TlObject {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--location is not valid JSON (${(e as Error).message}); expected ${DOWNLOAD_FLAGS['--location']!.value}`, command);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`--location must be a JSON object (an InputFileLocation), got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`, command);
  }
  try {
    return locationFromJson(json);
  } catch (e) {
    if (e instanceof TlJsonError)
      throw new UsageError(`--location: field ${e.path || '(root)'}: ${e.reason}; expected ${e.expected} (InputFileLocation)`, command);
    throw e;
  }
}

function sizeText(n: number): string {
  return n >= MIB ? `${(n / MIB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function mbps(bytes: number, ms: number): string {
  return `${((bytes / MB / Math.max(ms, 1)) * 1000).toFixed(1)} MB/s`;
}

/** A started client of the profile, logged in (else a clear error, exit 1). */
async function loggedInClient(ctx: CliContext, verbose: boolean): Promise<DcClient> {
  const profile = await ctx.connectProfile();
  const client = ctx.createClient(profile, (e) => verbose || e.kind === 'flood-wait' || e.kind === 'transfer' || e.kind === 'redirect');
  try {
    const st = await ctx.startClient(() => client.start());
    if (st.state !== 'authorized') {
      throw new Error(
        `not logged in on the ${ctx.opts.profileName} profile — log in first: dclab login --phone P${ctx.opts.sandboxInfoFile ? ` --sandbox-info ${ctx.opts.sandboxInfoFile}` : ''}`,
      );
    }
  } catch (e) {
    await client.stop().catch(() => undefined);
    throw e;
  }
  return client;
}

function failure(what: string, e: unknown): Error {
  if (e instanceof RpcError) return new Error(`${what}: ${e.code} ${e.errorMessage} on DC${e.dcId}`);
  if (e instanceof FileError && e.code === 'EXISTS') return new Error(`${what}: ${e.message} — pass --force to replace it`);
  if (e instanceof FileError) return new Error(`${what}: ${e.code}${e.dcId !== undefined ? ` (DC${e.dcId})` : ''}: ${e.message}`);
  if (e instanceof LifecycleError) return new Error(`${what}: ${e.message}`);
  return e instanceof Error ? e : new Error(String(e));
}

/** The chain of a file event (download / upload) as timeline lines, machine transitions and per-part detail kept short. */
function chainText(ctx: CliContext, rootId: number | undefined): string {
  if (rootId === undefined) return '';
  try {
    return formatTraceTimeline(ctx.trace.chainOf(rootId), { details: false });
  } catch {
    return '';
  }
}

/** Ctrl+C → abort (once); returns the remover. */
function onInterrupt(abort: () => void): () => void {
  const handler = (): void => abort();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

// ---------------------------------------------------------------------------------------------------- download

export async function runDownload(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.positionals.length) throw new UsageError(`unexpected argument: ${JSON.stringify(p.positionals[0])}`, 'download');
  const dcId = flagInt(p, '--dc');
  const locText = flagString(p, '--location');
  const out = flagString(p, '--out');
  if (dcId === undefined) throw new UsageError(`--dc is required: ${DOWNLOAD_FLAGS['--dc']!.value} (\`dclab history\` lists it)`, 'download');
  if (locText === undefined) throw new UsageError(`--location is required: ${DOWNLOAD_FLAGS['--location']!.value} (\`dclab history\` prints it)`, 'download');
  if (out === undefined) throw new UsageError('--out is required: the output file path', 'download');
  const location = parseLocationFlag(locText);
  const size = flagInt(p, '--size');
  const parallel = flagInt(p, '--parallel');
  const sha256 = flagString(p, '--sha256')?.toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
    throw new UsageError(`--sha256 needs ${DOWNLOAD_FLAGS['--sha256']!.value}, got "${sha256}"`, 'download');
  const resume = flagBool(p, '--resume');
  const force = flagBool(p, '--force');
  const cdn = !flagBool(p, '--no-cdn');
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a directory; expected a file path`, 'download');
  // before any connection; downloadFile checks again (and at the rename) for a file that appears meanwhile
  if (!force && existsSync(out)) throw new Error(`download: ${out} already exists; not replaced — pass --force to replace it`);
  if (ctx.isSandbox && (dcId < 1 || dcId > 5)) throw new UsageError(`--dc ${dcId}: the sandbox has DCs 1..5 (a file's dc_id, not the CDN DC)`, 'download');

  const profile = await ctx.connectProfile();
  if (!profile.dcs.some((d) => d.id === dcId)) {
    throw new UsageError(`--dc ${dcId}: the ${ctx.opts.profileName} profile has DCs ${profile.dcs.map((d) => d.id).join(', ')}`, 'download');
  }
  const sidecar = await readSidecar(out).catch(() => undefined);
  if (sidecar && !resume)
    ctx.note(
      `dclab download: ${out}.part exists (${sizeText(sidecar.done.reduce((n, r) => n + r.length, 0))} done); starting over — pass --resume to continue it`,
    );

  const mark = await ctx.beginTrace(false, `--dc ${dcId} --out ${basename(out)}`);
  const client = await loggedInClient(ctx, flagBool(p, '--verbose'));
  const ac = new AbortController();
  let interrupted = false;
  const offInterrupt = onInterrupt(() => {
    if (interrupted) return;
    interrupted = true;
    ctx.note('\ndclab download: interrupted — stopping (the partial file is kept)');
    ac.abort();
  });
  const t0 = Date.now();
  let lastShown = 0;
  let last: DownloadProgress | undefined;
  const show = (pr: DownloadProgress, force = false): void => {
    const now = Date.now();
    if (!force && now - lastShown < 250) return;
    lastShown = now;
    const pct = pr.total ? ` (${Math.floor((pr.bytes / pr.total) * 100)}%)` : '';
    ctx.note(
      `  ${sizeText(pr.bytes)}${pr.total !== undefined ? ` / ${sizeText(pr.total)}` : ''}${pct}  ${mbps(pr.bytes, now - t0)}  DC${pr.dcId}${pr.cdn ? ' (CDN)' : ''}  ${pr.parts} parts`,
    );
  };
  try {
    let res;
    try {
      res = await downloadFile(client, {
        location,
        dcId,
        out,
        ...(size !== undefined ? { size } : {}),
        ...(parallel !== undefined ? { parallel } : {}),
        ...(sha256 !== undefined ? { sha256 } : {}),
        resume,
        overwrite: force,
        cdn,
        signal: ac.signal,
        parentId: mark,
        onProgress: (pr) => {
          last = pr;
          show(pr);
        },
      });
    } catch (e) {
      const root = ctx.trace.since(mark).find((ev) => ev.kind === 'file' && ev.name === 'download');
      const chain = chainText(ctx, root?.id);
      if (chain) ctx.note(chain);
      if (e instanceof FileError && e.code === 'ABORTED') {
        const kept = existsSync(`${out}.part`);
        ctx.note(
          kept
            ? `dclab download: aborted after ${sizeText(last?.bytes ?? 0)}; ${out}.part and ${out}.part.json kept — continue with the same command and --resume`
            : 'dclab download: aborted',
        );
        return 130;
      }
      throw failure('download', e);
    }
    if (last) show(last, true);
    const chain = chainText(ctx, res.traceId);
    if (chain) ctx.note(chain);
    const dcs = res.dcPath.map((d) => (res.cdn && d === res.dcPath[res.dcPath.length - 1] && d !== dcId ? `${d} (CDN)` : String(d))).join(' → ');
    if (flagBool(p, '--json')) {
      ctx.io.out(
        `${JSON.stringify({
          path: res.path,
          bytes: res.bytes,
          sha256: res.sha256,
          dcPath: res.dcPath,
          cdn: res.cdn,
          parts: res.parts,
          resumedBytes: res.resumedBytes,
          ms: Math.round(res.ms),
        })}\n`,
      );
    } else {
      ctx.io.out(
        `downloaded ${res.path}: ${res.bytes} bytes, sha256 ${res.sha256}, DCs ${dcs}${res.cdn ? ', CDN used' : ''}, ${Math.round(res.ms)} ms (${mbps(res.bytes, res.ms)})` +
          `${res.resumedBytes ? `, resumed after ${res.resumedBytes} bytes` : ''}\n`,
      );
    }
    return 0;
  } finally {
    offInterrupt();
    await client.stop();
  }
}

// ---------------------------------------------------------------------------------------------------- upload

export async function runUpload(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [file, ...extra] = p.positionals;
  if (!file) throw new UsageError('FILE is required: the path of the file to upload', 'upload');
  if (extra.length) throw new UsageError(`unexpected argument: ${JSON.stringify(extra[0])}`, 'upload');
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new UsageError(`FILE ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected an existing file`, 'upload');
  }
  if (!st.isFile()) throw new UsageError(`FILE ${file} is not a regular file`, 'upload');
  if (st.size === 0) throw new UsageError(`FILE ${file} is empty; expected at least 1 byte`, 'upload');
  const send = flagBool(p, '--send');
  const photo = flagBool(p, '--photo');
  if (photo && !send) throw new UsageError('--photo needs --send (it chooses how the upload is sent)', 'upload');
  const name = flagString(p, '--name') ?? basename(file);
  const parallel = flagInt(p, '--parallel');
  const mimeType = flagString(p, '--mime-type');
  const caption = flagString(p, '--caption');

  const mark = await ctx.beginTrace(false, `${basename(file)}${send ? ' --send' : ''}`);
  const client = await loggedInClient(ctx, flagBool(p, '--verbose'));
  const ac = new AbortController();
  const offInterrupt = onInterrupt(() => ac.abort());
  const t0 = Date.now();
  let lastShown = 0;
  try {
    let res;
    try {
      res = await uploadFile(client, {
        path: file,
        name,
        parentId: mark,
        signal: ac.signal,
        ...(parallel !== undefined ? { parallel } : {}),
        onProgress: (pr) => {
          const now = Date.now();
          if (now - lastShown < 250 && pr.bytes < pr.total) return;
          lastShown = now;
          ctx.note(
            `  ${sizeText(pr.bytes)} / ${sizeText(pr.total)} (${Math.floor((pr.bytes / pr.total) * 100)}%)  ${mbps(pr.bytes, now - t0)}  ${pr.parts} parts`,
          );
        },
      });
    } catch (e) {
      if (e instanceof FileError && e.code === 'ABORTED') {
        ctx.note('dclab upload: aborted');
        return 130;
      }
      throw failure('upload', e);
    }
    const chain = chainText(ctx, res.traceId);
    if (chain) ctx.note(chain);
    const summary = `uploaded ${file}: ${res.size} bytes as ${res.big ? 'a big file (upload.saveBigFilePart)' : 'a small file (upload.saveFilePart)'} to DC ${res.dcId}, sha256 ${res.sha256}, ${Math.round(res.ms)} ms (${mbps(res.size, res.ms)})`;
    if (!send) {
      if (flagBool(p, '--json')) {
        ctx.io.out(`${JSON.stringify({ dcId: res.dcId, size: res.size, sha256: res.sha256, big: res.big, inputFile: locationJson(res.inputFile) })}\n`);
      } else {
        ctx.io.out(`${summary}\n`);
        ctx.io.out(`dc_id: ${res.dcId}\n`);
        ctx.io.out(`InputFile: ${JSON.stringify(locationJson(res.inputFile))}\n`);
        ctx.io.out('(not sent: add --send to keep it in Saved Messages and get its location)\n');
      }
      return 0;
    }
    let msg: TlObject;
    try {
      msg = await sendUploadedMedia(client, res, {
        kind: photo ? 'photo' : 'document',
        name,
        ...(mimeType ? { mimeType } : {}),
        ...(caption ? { caption } : {}),
      });
    } catch (e) {
      throw failure('messages.sendMedia', e);
    }
    const m = locationOf(msg);
    const loc = locationJson(m.location);
    if (flagBool(p, '--json')) {
      ctx.io.out(`${JSON.stringify({ messageId: msg.id, kind: m.kind, dcId: m.dcId, size: m.size, name: m.name, sha256: res.sha256, location: loc })}\n`);
    } else {
      ctx.io.out(`${summary}\n`);
      ctx.io.out(`sent to Saved Messages: message ${String(msg.id)}, ${m.kind}${m.name ? ` ${m.name}` : ''}, ${m.size} bytes\n`);
      ctx.io.out(`dc_id: ${m.dcId}\n`);
      ctx.io.out(`location: ${JSON.stringify(loc)}\n`);
      ctx.io.out(`download it: dclab download --dc ${m.dcId} --size ${m.size} --location '${JSON.stringify(loc)}' --out ${m.name ?? 'FILE'}\n`);
    }
    return 0;
  } finally {
    offInterrupt();
    await client.stop();
  }
}

// ---------------------------------------------------------------------------------------------------- history

export async function runHistory(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.positionals.length) throw new UsageError(`unexpected argument: ${JSON.stringify(p.positionals[0])}`, 'history');
  const limit = flagInt(p, '--limit');
  await ctx.beginTrace(false, limit !== undefined ? `--limit ${limit}` : undefined);
  const client = await loggedInClient(ctx, false);
  try {
    let media;
    try {
      media = await listSavedMedia(client, limit !== undefined ? { limit } : {});
    } catch (e) {
      throw failure('messages.getHistory', e);
    }
    if (flagBool(p, '--json')) {
      const rows = media.map((m) => ({
        messageId: m.messageId,
        date: m.date,
        kind: m.kind,
        name: m.name ?? null,
        size: m.size,
        dcId: m.dcId,
        ...(m.mimeType ? { mimeType: m.mimeType } : {}),
        ...(m.thumb ? { thumb: m.thumb } : {}),
        location: m.locationJson,
      }));
      ctx.io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (!media.length) {
      ctx.io.out('Saved Messages hold no media\n');
      return 0;
    }
    const rows = media.map((m) => [String(m.messageId), m.kind, String(m.dcId), String(m.size), m.name ?? (m.thumb ? `(photo, size ${m.thumb})` : '—')]);
    const head = ['msg', 'kind', 'dc_id', 'size', 'name'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 3 || i === 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
    ctx.io.out(`${line(head)}  location (for dclab download --location)\n`);
    media.forEach((m, i) => {
      ctx.io.out(`${line(rows[i]!)}  ${JSON.stringify(m.locationJson)}\n`);
    });
    ctx.io.out(`\n${media.length} media; download one: dclab download --dc <dc_id> --size <size> --location '<location>' --out FILE\n`);
    return 0;
  } finally {
    await client.stop();
  }
}
