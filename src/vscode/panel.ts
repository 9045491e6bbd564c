// The webview panel controller: one "DC Lab" panel (topology, trace, query runner, downloads, faults — the app of
// webview/, bundled to dist/webview/main.js + main.css). Strict CSP with a nonce, resources only from dist/webview
// and media/ (localResourceRoots, asWebviewUri), restored after a reload by a WebviewPanelSerializer.
// Every message from the webview is validated with src/ipc's validateWebviewMessage before it is looked at;
// requests are answered through the typed handler table, lifecycle/trace changes go out as notifications.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  IPC_VERSION,
  errorResponse,
  notification,
  response,
  validateWebviewMessage,
  type CommandHandlers,
  type HostMessage,
  type IpcTab,
  type IpcTopology,
  type IpcTraceEvent,
  type PanelState,
  type RequestHandlers,
  type RequestName,
  redactPanelState,
} from '../ipc';
import { API_LAYER, apiSchema } from '../tl/bundled';
import type { TlEntry } from '../tl/types';
import type { TraceEvent } from '../trace';
import type { DownloadManager } from './downloads';
import { runSandboxFault } from './faults';
import type { LabSession } from './lab';
import { runPanelQuery } from './query';
import { topologyOf } from './topology';

export const PANEL_VIEW_TYPE = 'dclab.panel';

function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

function ipcEntry(e: TlEntry): { name: string; params: TlEntry['params']; type: string; comment?: string; throws?: TlEntry['throws'] } {
  return {
    name: e.name,
    params: e.params.map((p) => ({ name: p.name, type: p.type, ...(p.flag ? { flag: p.flag } : {}), ...(p.comment ? { comment: p.comment } : {}) })),
    type: e.type,
    ...(e.comment ? { comment: e.comment } : {}),
    ...(e.throws ? { throws: e.throws } : {}),
  };
}

export class LabPanel implements vscode.Disposable {
  static current: LabPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pending: IpcTraceEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private edgeEvents: IpcTraceEvent[] = [];
  private state: PanelState | undefined;
  private ready = false;
  /** A trace event to show once the webview is ready (the panel was just created or restored). */
  private pendingTraceFocus: number | undefined;

  static show(
    extensionUri: vscode.Uri,
    lab: LabSession,
    downloads: DownloadManager,
    log: vscode.LogOutputChannel,
    focus?: { tab: IpcTab; method?: string },
  ): LabPanel {
    if (LabPanel.current) {
      LabPanel.current.panel.reveal(undefined, false);
    } else {
      const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'DC Lab', vscode.ViewColumn.Active, LabPanel.options(extensionUri));
      LabPanel.current = new LabPanel(panel, extensionUri, lab, downloads, log);
    }
    if (focus) LabPanel.current.focus(focus);
    return LabPanel.current;
  }

  static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  static serializer(
    extensionUri: vscode.Uri,
    lab: LabSession,
    downloads: DownloadManager,
    log: vscode.LogOutputChannel,
  ): vscode.WebviewPanelSerializer<PanelState> {
    return {
      async deserializeWebviewPanel(panel, state) {
        panel.webview.options = LabPanel.options(extensionUri);
        LabPanel.current?.dispose();
        LabPanel.current = new LabPanel(panel, extensionUri, lab, downloads, log, state);
        log.info('panel restored');
      },
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly lab: LabSession,
    private readonly downloads: DownloadManager,
    private readonly log: vscode.LogOutputChannel,
    state?: unknown,
  ) {
    // the state VS Code restored may hold what the webview typed (codes, passwords): kept only redacted
    if (state && typeof state === 'object' && (state as PanelState).version === 1) this.state = redactPanelState(state as PanelState);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dclab.svg');
    panel.webview.html = this.html();
    this.edgeEvents = lab.events().filter((e) => e.kind === 'redirect' || e.kind === 'transfer') as IpcTraceEvent[];
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      downloads.onChange((d) => this.post(notification('download/changed', d))),
    );
    const onTrace = (e: TraceEvent): void => this.queue(e as IpcTraceEvent);
    const onChanged = (): void => this.post(notification('topology/changed', this.topology()));
    const onReset = (): void => {
      this.edgeEvents = this.lab.events().filter((e) => e.kind === 'redirect' || e.kind === 'transfer') as IpcTraceEvent[];
      this.pending = [];
      this.post(notification('trace/reset', { events: this.lab.events() as IpcTraceEvent[] }));
    };
    lab.on('trace', onTrace);
    lab.on('changed', onChanged);
    lab.on('trace-reset', onReset);
    this.disposables.push(
      new vscode.Disposable(() => {
        lab.off('trace', onTrace);
        lab.off('changed', onChanged);
        lab.off('trace-reset', onReset);
      }),
    );
  }

  topology(): IpcTopology {
    return topologyOf(this.lab, this.edgeEvents);
  }

  focus(f: { tab: IpcTab; method?: string }): void {
    this.post(notification('ui/focus', { tab: f.tab, ...(f.method ? { method: f.method } : {}) }));
  }

  /** The trace tab with one event selected (a request file's "Show call in DC Lab trace"). */
  focusTraceEvent(id: number): void {
    if (!this.ready) {
      this.pendingTraceFocus = id;
      return;
    }
    this.post(notification('trace/focus', { id }));
  }

  private html(): string {
    const w = this.panel.webview;
    const n = nonce();
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const script = w.asWebviewUri(vscode.Uri.joinPath(dist, 'main.js'));
    const cssFile = vscode.Uri.joinPath(dist, 'main.css');
    const css = existsSync(cssFile.fsPath) ? `<link rel="stylesheet" href="${w.asWebviewUri(cssFile).toString()}">` : '';
    const csp = [
      "default-src 'none'",
      `img-src ${w.cspSource} data:`,
      `font-src ${w.cspSource}`,
      `style-src ${w.cspSource} 'nonce-${n}'`,
      `script-src 'nonce-${n}'`,
      "connect-src 'none'",
      "frame-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join('; ');
    const missing = existsSync(vscode.Uri.joinPath(dist, 'main.js').fsPath)
      ? ''
      : '<p id="dclab-missing">The panel app is not built (dist/webview/main.js is missing): run <code>npm run build</code>.</p>';
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${n}">
${css}
<title>DC Lab</title>
</head>
<body>
${missing}
<div id="app" data-layer="${API_LAYER}"></div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private post(msg: HostMessage): void {
    void this.panel.webview.postMessage(msg).then(undefined, () => undefined);
  }

  private queue(e: IpcTraceEvent): void {
    if (e.kind === 'redirect' || e.kind === 'transfer') this.edgeEvents.push(e);
    if (!this.ready) return;
    this.pending.push(e);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 100);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.post(notification('trace/events', { events }));
  }

  private async receive(raw: unknown): Promise<void> {
    const v = validateWebviewMessage(raw);
    if (!v.ok) {
      this.log.warn(`panel: refused a message: ${v.error}`);
      const r = raw as { type?: unknown; id?: unknown; method?: unknown };
      if (r && typeof r === 'object' && r.type === 'request' && Number.isSafeInteger(r.id) && typeof r.method === 'string' && r.method in this.requests) {
        this.post(errorResponse({ id: r.id as number, method: r.method as RequestName }, `invalid request: ${v.error}`));
      }
      return;
    }
    const msg = v.msg;
    if (msg.type === 'command') {
      try {
        await (this.commands[msg.method] as (p: unknown) => void | Promise<void>)(msg.params);
      } catch (e) {
        this.log.error(`panel: ${msg.method}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    try {
      const result = await (this.requests[msg.method] as (p: unknown) => unknown)(msg.params);
      this.post(response(msg, result as never));
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.log.warn(`panel: ${msg.method} failed: ${text}`);
      this.post(errorResponse(msg, text));
    }
  }

  private readonly commands: CommandHandlers = {
    ready: () => {
      this.ready = true;
      this.post(
        notification('init', {
          version: IPC_VERSION,
          topology: this.topology(),
          profile: this.lab.profileName,
          layer: API_LAYER,
          ...(this.state ? { state: this.state } : {}),
        }),
      );
      if (this.pendingTraceFocus !== undefined) {
        this.post(notification('trace/focus', { id: this.pendingTraceFocus }));
        this.pendingTraceFocus = undefined;
      }
      this.log.info('panel: webview ready');
    },
    'download/cancel': ({ downloadId }) => this.downloads.cancel(downloadId),
    'download/open': async ({ downloadId }) => {
      const d = this.downloads.downloads.get(downloadId);
      if (d?.path)
        await vscode.commands
          .executeCommand('revealFileInOS', vscode.Uri.file(d.path))
          .then(undefined, () => vscode.window.showTextDocument(vscode.Uri.file(d.path!)));
    },
    'trace/clear': () => {
      this.lab.trace.clear();
      this.edgeEvents = [];
      this.pending = [];
      this.post(notification('trace/reset', { events: [] }));
      this.post(notification('topology/changed', this.topology()));
    },
    'state/changed': ({ state }) => {
      this.state = redactPanelState(state);
    },
    log: ({ level, message }) => {
      const line = `webview: ${message.slice(0, 2000)}`;
      if (level === 'error') this.log.error(line);
      else if (level === 'warn') this.log.warn(line);
      else this.log.info(line);
    },
  };

  private readonly requests: RequestHandlers = {
    'topology/get': () => this.topology(),
    'trace/get': ({ sinceId, limit }) => {
      let events = (sinceId !== undefined ? this.lab.trace.since(sinceId) : this.lab.events()) as IpcTraceEvent[];
      if (limit !== undefined && events.length > limit) events = events.slice(0, limit);
      return { events, lastId: this.lab.trace.lastId };
    },
    'trace/export': async () => {
      const uri = await vscode.window.showSaveDialog({
        filters: { 'DC Lab trace': ['json'] },
        saveLabel: 'Export trace',
        defaultUri: vscode.Uri.file(`dclab-trace-${Date.now()}.json`),
      });
      if (!uri) return { saved: false };
      const json = this.lab.trace.exportJson();
      await vscode.workspace.fs.writeFile(uri, Buffer.from(json, 'utf8'));
      return { saved: true, path: uri.fsPath, count: this.lab.trace.size };
    },
    'trace/import': async () => {
      const uris = await vscode.window.showOpenDialog({ filters: { 'DC Lab trace': ['json'] }, canSelectMany: false, openLabel: 'Import trace' });
      const uri = uris?.[0];
      if (!uri) return { imported: false };
      try {
        const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
        this.lab.importTrace(text);
        return { imported: true, path: uri.fsPath, events: this.lab.events() as IpcTraceEvent[] };
      } catch (e) {
        return { imported: false, path: uri.fsPath, error: e instanceof Error ? e.message : String(e) };
      }
    },
    'schema/methods': () => ({
      layer: API_LAYER,
      methods: apiSchema()
        .entries.filter((e) => e.kind === 'method')
        .map(ipcEntry),
    }),
    'schema/constructorsOfType': ({ types }) => {
      const schema = apiSchema();
      const constructors: Record<string, ReturnType<typeof ipcEntry>[]> = {};
      for (const t of types) constructors[t] = schema.constructorsOfType(t).map(ipcEntry);
      return { constructors };
    },
    'query/run': async ({ query, dcId }) => runPanelQuery(this.lab, query, dcId),
    'download/start': ({ location, dcId, size, name }) => {
      const { id } = this.downloads.start({ dcId, location, ...(size !== undefined ? { size } : {}), ...(name ? { name } : {}) });
      return { downloadId: id };
    },
    'sandbox/fault': (req) => runSandboxFault(this.lab, req),
  };

  dispose(): void {
    if (LabPanel.current === this) LabPanel.current = undefined;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
