// Browser harness for the webview app: an HTTP server on 127.0.0.1 serving a test page that loads
// dist/webview/main.js under a strict CSP (script nonce, no inline styles), a stub acquireVsCodeApi that forwards
// postMessage to Node through a Playwright binding, and a host stub that answers with the typed IPC of src/ipc.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import {
  errorResponse,
  notification,
  response,
  validateWebviewMessage,
  type CommandHandlers,
  type HostNotifications,
  type NotificationName,
  type RequestHandlers,
  type WebviewMessage,
} from '../../src/ipc/index';

// `window` inside page.evaluate callbacks (evaluated in chromium; the root tsconfig has no DOM lib).
declare const window: { dispatchEvent(e: unknown): boolean };

/** A dark theme's --vscode-* variables (what VS Code injects into a webview). */
const THEME_CSS = `:root, body {
  --vscode-font-family: system-ui, "Segoe UI", sans-serif; --vscode-font-size: 13px; --vscode-font-weight: normal;
  --vscode-editor-font-family: "DejaVu Sans Mono", monospace; --vscode-editor-font-size: 13px;
  --vscode-foreground: #cccccc; --vscode-editor-background: #1e1e1e; --vscode-sideBar-background: #252526;
  --vscode-descriptionForeground: #9d9d9d; --vscode-panel-border: #3c3c3c; --vscode-focusBorder: #007fd4;
  --vscode-errorForeground: #f48771; --vscode-list-activeSelectionBackground: #04395e; --vscode-list-activeSelectionForeground: #ffffff;
  --vscode-list-hoverBackground: #2a2d2e; --vscode-textLink-foreground: #3794ff; --vscode-button-background: #0e639c;
  --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #1177bb; --vscode-button-secondaryBackground: #3a3d41;
  --vscode-button-secondaryForeground: #ffffff; --vscode-button-secondaryHoverBackground: #45494e;
  --vscode-input-background: #3c3c3c; --vscode-input-foreground: #cccccc; --vscode-input-placeholderForeground: #a6a6a6;
  --vscode-dropdown-background: #3c3c3c; --vscode-dropdown-foreground: #f0f0f0; --vscode-dropdown-border: #3c3c3c;
  --vscode-checkbox-background: #3c3c3c; --vscode-checkbox-border: #6b6b6b; --vscode-checkbox-foreground: #f0f0f0;
  --vscode-panelTitle-activeForeground: #e7e7e7; --vscode-panelTitle-inactiveForeground: #9d9d9d; --vscode-panelTitle-activeBorder: #e7e7e7;
  --vscode-badge-background: #4d4d4d; --vscode-badge-foreground: #ffffff; --vscode-testing-iconPassed: #73c991;
  --vscode-editorWarning-foreground: #cca700; --vscode-charts-orange: #d18616; --vscode-charts-purple: #b180d7;
}`;

/** acquireVsCodeApi stub: postMessage → Node (binding), getState/setState kept in the page (and readable by tests). */
const STUB_JS = `(() => {
  let state = undefined;
  window.__dclabViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__dclabViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
  });
  window.acquireVsCodeApi = () => ({
    postMessage: (msg) => window.__dclabPost(JSON.parse(JSON.stringify(msg))),
    getState: () => state,
    setState: (s) => { state = s; return s; },
  });
  window.__dclabState = () => state;
})();`;

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

export async function startPageServer(distDir: string): Promise<PageServer> {
  const nonce = randomBytes(16).toString('base64');
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') {
      // style-src allows the nonce only for the toolkit's one feature-detection <style> (FAST reads meta csp-nonce).
      const csp = `default-src 'none'; img-src ${origin} data:; style-src ${origin} 'nonce-${nonce}'; font-src ${origin}; script-src 'nonce-${nonce}';`;
      return send(
        'text/html; charset=utf-8',
        `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${origin}/theme.css"><link rel="stylesheet" href="${origin}/main.css">
<title>DC Lab</title></head><body>
<div id="app"></div>
<script nonce="${nonce}" src="${origin}/stub.js"></script>
<script nonce="${nonce}" src="${origin}/main.js"></script>
</body></html>`,
        { 'content-security-policy': csp },
      );
    }
    if (path === '/stub.js') return send('text/javascript', STUB_JS);
    if (path === '/theme.css') return send('text/css', THEME_CSS);
    if (path === '/main.js' || path === '/main.css' || path === '/main.js.map' || path === '/main.css.map') {
      const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.css') ? 'text/css' : 'application/json';
      return send(type, readFileSync(join(distDir, path.slice(1))));
    }
    if (path === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface Received {
  msg: WebviewMessage;
  time: number;
}

/** The extension-host side of the IPC, speaking to the page through Playwright. */
export class HostStub {
  readonly received: Received[] = [];
  readonly invalid: { msg: unknown; error: string }[] = [];
  readonly errors: string[] = [];
  private waiters: { pred: (m: WebviewMessage) => boolean; resolve: (m: WebviewMessage) => void }[] = [];

  constructor(
    private readonly page: Page,
    private readonly requests: RequestHandlers,
    private readonly commands: Partial<CommandHandlers>,
  ) {}

  async attach(): Promise<void> {
    await this.page.exposeBinding('__dclabPost', (_src, raw: unknown) => {
      // Every message from the webview is validated, exactly as the extension host does.
      const v = validateWebviewMessage(raw);
      if (!v.ok) {
        this.invalid.push({ msg: raw, error: v.error });
        return;
      }
      const msg = v.msg;
      this.received.push({ msg, time: Date.now() });
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(msg)) return true;
        w.resolve(msg);
        return false;
      });
      void this.dispatch(msg);
    });
  }

  private async dispatch(msg: WebviewMessage): Promise<void> {
    if (msg.type === 'command') {
      if (msg.method === 'log' && msg.params.level === 'error') this.errors.push(msg.params.message);
      const h = this.commands[msg.method] as ((p: unknown) => void | Promise<void>) | undefined;
      await h?.(msg.params);
      return;
    }
    const handler = this.requests[msg.method] as (p: unknown) => Promise<unknown> | unknown;
    try {
      const result = await handler(msg.params);
      await this.post(response(msg as never, result as never));
    } catch (e) {
      await this.post(errorResponse(msg as never, e instanceof Error ? e.message : String(e)));
    }
  }

  async post(msg: unknown): Promise<void> {
    if (this.page.isClosed()) return;
    // As a JSON string: Playwright's structured argument serialization is slow for 100,000 events.
    const t = Date.now();
    const json = JSON.stringify(msg);
    await this.page.evaluate((text) => window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(text) })), json);
    if (process.env.DCLAB_WEBVIEW_DEBUG && json.length > 1e6) console.log(`[stub] posted ${(json.length / 1e6).toFixed(1)} MB in ${Date.now() - t} ms`);
  }

  notify<M extends NotificationName>(method: M, params: HostNotifications[M]): Promise<void> {
    return this.post(notification(method, params));
  }

  /** Resolves with the next (or an already received) message matching `pred`. */
  waitFor(pred: (m: WebviewMessage) => boolean, timeoutMs = 10_000): Promise<WebviewMessage> {
    const seen = this.received.find((r) => pred(r.msg));
    if (seen) return Promise.resolve(seen.msg);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a webview message')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }
}
