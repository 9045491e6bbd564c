// Downloads by dc_id, shared by the "Download File by dc_id" command and the panel's download requests: each runs
// in a cancellable withProgress notification, reports to the panel (download/changed) and ends in the log.
import * as vscode from 'vscode';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MAX_FILE_SIZE } from '../files/plan';
import type { IpcDownload } from '../ipc';
import type { LabSession } from './lab';
import { readSettings } from './settings';

export interface DownloadRequest {
  dcId: number;
  location: unknown;
  size?: number;
  name?: string;
  sha256?: string;
}

function safeName(name: string | undefined, fallback: string): string {
  const n = basename((name ?? '').replace(/\\/g, '/'))
    .replace(/[^\w.\- ]+/g, '_')
    .trim();
  return n && n !== '.' && n !== '..' ? n.slice(0, 200) : fallback;
}

export class DownloadManager {
  private seq = 0;
  readonly downloads = new Map<string, IpcDownload & { abort: AbortController }>();
  private readonly listeners = new Set<(d: IpcDownload) => void>();

  constructor(
    private readonly lab: LabSession,
    private readonly storageDir: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  onChange(fn: (d: IpcDownload) => void): vscode.Disposable {
    this.listeners.add(fn);
    return new vscode.Disposable(() => this.listeners.delete(fn));
  }

  private publish(d: IpcDownload & { abort?: AbortController }): void {
    const { abort: _abort, ...plain } = d;
    for (const fn of this.listeners) fn(plain);
  }

  folder(): string {
    const s = readSettings().downloadFolder;
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const dir = s ? s : ws ? join(ws, 'dclab-downloads') : join(this.storageDir, 'downloads');
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  cancel(id: string): void {
    this.downloads.get(id)?.abort.abort();
  }

  /** Starts a download; resolves with its id at once (the work continues with a progress notification). */
  start(req: DownloadRequest): { id: string; done: Promise<IpcDownload> } {
    // a size no Telegram file has (a bogus or hostile request) is refused before anything starts
    if (req.size !== undefined && (!Number.isSafeInteger(req.size) || req.size < 0 || req.size > MAX_FILE_SIZE)) {
      throw new Error(`download size ${req.size} is not possible: files are at most ${MAX_FILE_SIZE} bytes (4000 MiB)`);
    }
    const id = `d${++this.seq}`;
    const folder = this.folder();
    // downloads never replace a file: a name already taken (or being written) gets " (2)", " (3)", …
    const name = freeName(folder, safeName(req.name, `dc${req.dcId}-file-${this.seq}.bin`));
    const out = join(folder, name);
    const abort = new AbortController();
    const d: IpcDownload & { abort: AbortController } = {
      downloadId: id,
      name,
      dcId: req.dcId,
      state: 'running',
      bytes: 0,
      speed: 0,
      startedAt: Date.now(),
      abort,
    };
    if (req.size !== undefined) d.total = req.size;
    this.downloads.set(id, d);
    this.publish(d);
    this.log.info(`download ${id}: ${name} from DC${req.dcId}${req.size !== undefined ? ` (${req.size} bytes)` : ''}`);
    const done = Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `DC Lab: downloading ${name} from DC${req.dcId}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let lastPct = 0;
          let lastPublish = 0;
          try {
            const res = await this.lab.download({
              dcId: req.dcId,
              location: req.location,
              out,
              ...(req.size !== undefined ? { size: req.size } : {}),
              ...(req.sha256 ? { sha256: req.sha256 } : {}),
              signal: abort.signal,
              onProgress: (p) => {
                d.bytes = p.bytes;
                if (p.total !== undefined) d.total = p.total;
                d.cdn = p.cdn;
                const secs = (Date.now() - d.startedAt) / 1000;
                d.speed = secs > 0 ? Math.round(p.bytes / secs) : 0;
                if (p.total) {
                  const pct = Math.floor((100 * p.bytes) / p.total);
                  if (pct > lastPct) {
                    progress.report({ increment: pct - lastPct, message: `${pct}% · DC${p.dcId}${p.cdn ? ' (CDN)' : ''}` });
                    lastPct = pct;
                  }
                }
                const now = Date.now();
                if (now - lastPublish > 150) {
                  lastPublish = now;
                  this.publish(d);
                }
              },
            });
            d.state = 'done';
            d.bytes = res.bytes;
            d.total = res.bytes;
            d.path = res.path;
            d.cdn = res.cdn;
            d.dcPath = res.dcPath;
            d.speed = res.ms > 0 ? Math.round((res.bytes * 1000) / res.ms) : res.bytes;
            this.log.info(
              `download ${id}: done, ${res.bytes} bytes in ${res.ms} ms via DC ${res.dcPath.join(' → ')}${res.cdn ? ' (CDN)' : ''}, sha256 ${res.sha256}, saved to ${res.path}`,
            );
          } catch (e) {
            const aborted = abort.signal.aborted;
            d.state = aborted ? 'cancelled' : 'failed';
            d.error = e instanceof Error ? e.message : String(e);
            if (aborted) this.log.info(`download ${id}: cancelled (partial file kept for a resume)`);
            else this.log.error(`download ${id}: failed: ${d.error}`);
          }
          this.publish(d);
          return d;
        },
      ),
    );
    return { id, done };
  }
}

/** `name`, or `stem (n).ext` with the first n for which neither the file nor its `.part` exists in `folder`. */
function freeName(folder: string, name: string): string {
  const taken = (n: string): boolean => existsSync(join(folder, n)) || existsSync(join(folder, `${n}.part`));
  if (!taken(name)) return name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let i = 2; ; i++) {
    const candidate = `${stem} (${i})${ext}`;
    if (!taken(candidate)) return candidate;
  }
}
