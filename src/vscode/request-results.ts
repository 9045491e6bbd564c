// What the editor shows around a request-file run, without VS Code (tested in test/vscode/request-results.test.ts):
// the result document's JSON (one object per request; an array for "Run All"), the lines that get a "Show call in
// DC Lab trace" lens, the diagnostics that stop a run, the request under the cursor, folding of `###` blocks, a
// RunCall that gives up when the user cancels, and the one-line summary of a run.
import { lineColumnAt, splitLines, type ReqDiagnostic, type RequestBlock, type RequestRunError, type RequestRunResult, type RunCall } from '../reqfile';

/** One request's entry in the result document. The long `result` goes last so the status fields stay in view. */
export interface RequestResultJson {
  request: string;
  title?: string;
  dc?: number;
  ok: boolean;
  durationMs: number;
  error?: RequestRunError;
  assigned?: Record<string, string>;
  /** The call's chain, one line per chain (`users.getUsers @DC2 → … → Vector(1) (12 ms)`). */
  trace?: string[];
  traceId?: string;
  result?: unknown;
}

/** A line of the result document that gets a lens opening the panel's trace at `traceId`. */
export interface TraceLink {
  line: number;
  traceId: number;
  title: string;
}

/** `#2 users.getUsers` — request numbers count from 1, like the CLI's. */
export function requestLabel(r: { index: number; method: string }): string {
  return `#${r.index + 1} ${r.method}`;
}

/** The chain text of clientRunCall (formatTraceTimeline lines) without the time / chain-id prefix of each line. */
export function chainLines(chain: string | undefined): string[] {
  if (!chain) return [];
  return chain
    .split('\n')
    .map((l) => l.replace(/^\+\s*\d+ms\s+chain #\d+:\s*/, '').trim())
    .filter((l) => l !== '');
}

export function resultJson(r: RequestRunResult): RequestResultJson {
  const trace = chainLines(r.chain);
  // the literal's order is the document's order
  return {
    request: requestLabel(r),
    ...(r.title !== undefined ? { title: r.title } : {}),
    ...(r.dcId !== undefined ? { dc: r.dcId } : {}),
    ok: r.ok,
    durationMs: r.durationMs,
    ...(r.error ? { error: r.error } : {}),
    ...(Object.keys(r.assigned).length ? { assigned: r.assigned } : {}),
    ...(trace.length ? { trace } : {}),
    ...(r.traceId !== undefined ? { traceId: r.traceId } : {}),
    ...(r.result !== undefined ? { result: r.result } : {}),
  };
}

/**
 * The result document of one run: one object (a single request) or an array ("Run All"), pretty printed, and the
 * lines that start each entry that has a trace id (a lens there opens the panel's trace at that call).
 */
export function renderResults(results: readonly RequestRunResult[], opts: { all: boolean }): { text: string; links: TraceLink[] } {
  const entries = results.map(resultJson);
  const text = `${JSON.stringify(opts.all ? entries : (entries[0] ?? {}), null, 2)}\n`;
  const links: TraceLink[] = [];
  const lines = text.split('\n');
  // each entry's "request" key sits at a known indentation (deeper keys of a result never match it)
  const requestKey = opts.all ? /^ {4}"request": / : /^ {2}"request": /;
  let k = 0;
  for (let i = 0; i < lines.length && k < results.length; i++) {
    if (!requestKey.test(lines[i]!)) continue;
    const r = results[k++]!;
    const id = r.traceId !== undefined ? Number(r.traceId) : NaN;
    if (Number.isSafeInteger(id) && id > 0) {
      links.push({ line: Math.max(0, i - 1), traceId: id, title: opts.all ? `Show call ${requestLabel(r)} in DC Lab trace` : 'Show call in DC Lab trace' });
    }
  }
  return { text, links };
}

/**
 * Errors that stop a run (nothing is sent), as the CLI decides: every error of the file for "Run All"; for one
 * request, the errors in its block and outside any block (file variables, text before the first request).
 */
export function blockingErrors(diagnostics: readonly ReqDiagnostic[], requests: readonly RequestBlock[], only?: number): ReqDiagnostic[] {
  const selected = only !== undefined ? requests.find((r) => r.index === only) : undefined;
  return diagnostics.filter((d) => {
    if (d.severity !== 'error') return false;
    if (!selected) return true;
    const owner = requests.find((r) => d.range.start >= r.range.start && d.range.start <= r.range.end);
    return !owner || owner === selected;
  });
}

/** `line 5: unknown method …; line 9: …` (at most `max` of them). */
export function describeDiagnostics(text: string, diagnostics: readonly ReqDiagnostic[], max = 3): string {
  const lines = splitLines(text);
  const shown = diagnostics.slice(0, max).map((d) => `line ${lineColumnAt(lines, d.range.start).line + 1}: ${d.message}`);
  const more = diagnostics.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

/** The request the cursor is in; between blocks the one above; before the first, the first. */
export function requestIndexAt(requests: readonly RequestBlock[], offset: number): number | undefined {
  let found: RequestBlock | undefined;
  for (const r of requests) {
    if (r.range.start <= offset) found = r;
    else break;
  }
  return (found ?? requests[0])?.index;
}

/**
 * Folding ranges (0-based lines), since a folding provider replaces VS Code's own: each `###` block from its first
 * line to its last non-blank one, a JSON body of three lines or more up to the line before its last (the closing
 * brace stays visible), and `# region` … `# endregion` markers.
 */
export function requestFoldingRanges(text: string, requests: readonly RequestBlock[]): { start: number; end: number }[] {
  const lines = splitLines(text);
  const lineOf = (offset: number): number => lineColumnAt(lines, offset).line;
  const out: { start: number; end: number }[] = [];
  for (const r of requests) {
    const start = lineOf(r.range.start);
    let end = lineOf(Math.max(r.range.start, r.range.end - 1));
    while (end > start && lines[end]!.text.trim() === '') end--;
    if (end > start) out.push({ start, end });
    if (r.bodyRange.end > r.bodyRange.start) {
      const bodyStart = lineOf(r.bodyRange.start);
      let bodyEnd = lineOf(r.bodyRange.end - 1);
      while (bodyEnd > bodyStart && lines[bodyEnd]!.text.trim() === '') bodyEnd--;
      if (bodyEnd - 1 > bodyStart) out.push({ start: bodyStart, end: bodyEnd - 1 });
    }
  }
  const open: number[] = [];
  for (const l of lines) {
    if (/^\s*#\s*region\b/.test(l.text)) open.push(l.index);
    else if (/^\s*#\s*endregion\b/.test(l.text) && open.length) out.push({ start: open.pop()!, end: l.index });
  }
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}

/**
 * A RunCall that rejects as soon as `signal` aborts. The routed client cannot withdraw a call already sent, so
 * the answer still arrives in the background (and in the trace); the run just stops waiting for it.
 */
export function abortableCall(call: RunCall, signal: AbortSignal): RunCall {
  return (method, opts) => {
    if (signal.aborted) return Promise.reject(abortError());
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      call(method, opts).then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  };
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

/** One line for a notification: `#1 users.getUsers → ok on DC4 (12 ms)`, or for several requests a count. */
export function runSummary(results: readonly RequestRunResult[], requested: number): string {
  const one = (r: RequestRunResult): string =>
    r.ok
      ? `${requestLabel(r)} → ok${r.dcId !== undefined ? ` on DC${r.dcId}` : ''} (${r.durationMs} ms)`
      : `${requestLabel(r)} → ${r.error?.code ?? 'failed'}: ${r.error?.message ?? ''}`;
  if (requested === 1 && results.length === 1) return one(results[0]!);
  const ok = results.filter((r) => r.ok).length;
  const failed = results.find((r) => !r.ok);
  const notRun = requested - results.length;
  return `${ok} of ${requested} request${requested === 1 ? '' : 's'} ok${failed ? `; ${one(failed)}` : ''}${notRun > 0 ? `; ${notRun} not run` : ''}`;
}
