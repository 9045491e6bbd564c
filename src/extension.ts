// MTProto DC Lab — the extension host entry. Wires the plain-Node layers (sandbox, lifecycle, storage, trace,
// files; see src/vscode/lab.ts) into VS Code: the activity-bar tree, the status-bar item, the palette commands,
// the webview panel (src/vscode/panel.ts), request files (`.mtproto`, src/vscode/request-files.ts), TL schema files
// (`.tl`, src/vscode/tl-files.ts) and a LogOutputChannel. Only this file and src/vscode/ import 'vscode'.
import * as vscode from 'vscode';
import Keyv from 'keyv';
import { SecretStorageKeyvAdapter } from './storage';
import { registerCommands, floodWaitProgress } from './vscode/commands';
import { DownloadManager } from './vscode/downloads';
import { createGlobalStateKeyv } from './vscode/globalstate-keyv';
import { LabSession } from './vscode/lab';
import { LabPanel, PANEL_VIEW_TYPE } from './vscode/panel';
import { registerRequestFiles } from './vscode/request-files';
import { RequestSchemaSource } from './vscode/request-schema';
import { ResultDocuments } from './vscode/result-documents';
import { readSettings } from './vscode/settings';
import { registerTlFiles } from './vscode/tl-files';
import { LabTree } from './vscode/tree';

declare const __DCLAB_LOAD_START__: number | undefined;
declare const __DCLAB_LOAD_END__: number | undefined;

let lab: LabSession | undefined;

export function activate(context: vscode.ExtensionContext): { lab: LabSession } {
  const t0 = Date.now();
  const log = vscode.window.createOutputChannel('MTProto DC Lab', { log: true });
  context.subscriptions.push(log);

  const backends = {
    plain: createGlobalStateKeyv(context.globalState),
    secrets: new Keyv({ store: new SecretStorageKeyvAdapter(context.secrets), namespace: 'dclab', throwOnErrors: true }),
  };
  const session = new LabSession(backends, readSettings, context.globalStorageUri.fsPath, {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
    debug: (m) => log.debug(m),
  });
  lab = session;
  const downloads = new DownloadManager(session, context.globalStorageUri.fsPath, log);
  const results = new ResultDocuments();
  const deps = { context, lab: session, downloads, log, results };
  const schema = new RequestSchemaSource(log);

  // tree + status bar
  const tree = new LabTree(session);
  const view = vscode.window.createTreeView('dclab.profile', { treeDataProvider: tree, showCollapseAll: true });
  const status = vscode.window.createStatusBarItem('dclab.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'DC Lab';
  status.command = 'dclab.openPanel';
  const render = (): void => {
    const st = session.status();
    const state = session.state();
    status.text = `$(${session.profileName === 'sandbox' ? 'beaker' : 'cloud'}) DC Lab: ${session.profileName}${st ? ` · DC${st.homeDc}` : ''} · ${state}`;
    status.tooltip = `MTProto DC Lab — profile ${session.profileName}${st ? `, home DC${st.homeDc}, ${st.state}${st.userId ? `, user ${st.userId}` : ''}` : ''}${session.sandbox ? '\nembedded sandbox running' : ''}\nClick to open the panel`;
    status.backgroundColor = session.lastError && !st ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    status.show();
    tree.refresh();
    view.description = `${session.profileName} · ${state}`;
    void vscode.commands.executeCommand('setContext', 'dclab.connected', !!session.client);
    void vscode.commands.executeCommand('setContext', 'dclab.authorized', st?.state === 'authorized');
    void vscode.commands.executeCommand('setContext', 'dclab.sandboxRunning', !!session.sandbox);
  };
  session.on('changed', render);
  render();

  context.subscriptions.push(
    view,
    status,
    ...results.register(),
    ...registerCommands(deps),
    schema,
    ...registerRequestFiles(deps, schema),
    ...registerTlFiles(schema, log),
    floodWaitProgress(deps),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, LabPanel.serializer(context.extensionUri, session, downloads, log)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dclab.profile') || e.affectsConfiguration('dclab.transport') || e.affectsConfiguration('dclab.apiId')) {
        log.info(`settings changed: profile ${session.profileName}; the next command reconnects`);
        void session.switchProfile();
      }
      if (e.affectsConfiguration('dclab.sandbox.basePort') && session.sandbox) log.info('sandbox ports changed: they apply after "DC Lab: Stop Sandbox"');
    }),
    { dispose: () => void session.dispose() },
  );

  // bundle evaluation (esbuild banner → footer), then activate() itself; VS Code's own work between the two
  // (extension context, storage) is reported apart
  const now = Date.now();
  const loadStart = typeof __DCLAB_LOAD_START__ === 'number' ? __DCLAB_LOAD_START__ : t0;
  const loadEnd = typeof __DCLAB_LOAD_END__ === 'number' ? __DCLAB_LOAD_END__ : t0;
  log.info(
    `MTProto DC Lab activated: bundle evaluation ${loadEnd - loadStart} ms + activate() ${now - t0} ms = ${loadEnd - loadStart + now - t0} ms ` +
      `(VS Code between require and activate: ${t0 - loadEnd} ms); profile ${session.profileName}`,
  );
  return { lab: session };
}

export async function deactivate(): Promise<void> {
  const l = lab;
  lab = undefined;
  await l?.dispose();
}
