// Request-file environments: the selected environment name (workspaceState, one per workspace, like the CLI's
// `--env`), the variables of the nearest `dclab.env.json` for each request file (cached, dropped when an env file
// changes), the "Select Request Environment" picker and a status-bar item shown for `.mtproto` editors.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV_FILE_NAME, EnvironmentError, findEnvironmentFile, loadEnvironment } from '../reqfile';

export interface LoadedEnvironment {
  /** The env file used, if any. */
  file?: string;
  variables: Record<string, string>;
  /** Why the selected environment could not be used (then `variables` holds `$shared` only). */
  error?: string;
}

const SELECTED_KEY = 'dclab.requestEnvironment';
const SHARED = '$shared';

/** Where a request file's env file is looked up from (untitled documents: the first workspace folder). */
export function requestFilePath(doc: vscode.TextDocument): string {
  if (doc.uri.scheme === 'file') return doc.uri.fsPath;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return join(folder, 'untitled.mtproto');
}

export class RequestEnvironments implements vscode.Disposable {
  private readonly cache = new Map<string, Promise<LoadedEnvironment>>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly status = vscode.window.createStatusBarItem('dclab.requestEnvironment', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${ENV_FILE_NAME}`);
    const invalidate = (): void => {
      this.cache.clear();
      this.changed.fire();
      void this.renderStatus();
    };
    this.status.name = 'DC Lab request environment';
    this.status.command = 'dclab.selectRequestEnvironment';
    this.subscriptions = [
      watcher,
      watcher.onDidCreate(invalidate),
      watcher.onDidChange(invalidate),
      watcher.onDidDelete(invalidate),
      // unsaved edits of an env file count once saved (the watcher), not while typing
      vscode.window.onDidChangeActiveTextEditor(() => void this.renderStatus()),
      this.changed,
      this.status,
    ];
    void this.renderStatus();
  }

  get selected(): string | undefined {
    return this.context.workspaceState.get<string>(SELECTED_KEY) || undefined;
  }

  async select(name: string | undefined): Promise<void> {
    await this.context.workspaceState.update(SELECTED_KEY, name);
    this.cache.clear();
    this.log.info(`request files: environment ${name ?? '(none)'}`);
    this.changed.fire();
    await this.renderStatus();
  }

  /** The variables for a request file: `$shared` + the selected environment. No env file: none, no error. */
  load(doc: vscode.TextDocument): Promise<LoadedEnvironment> {
    const path = requestFilePath(doc);
    const key = `${path}\0${this.selected ?? ''}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.read(path);
      this.cache.set(key, p);
    }
    return p;
  }

  private async read(path: string): Promise<LoadedEnvironment> {
    const selected = this.selected;
    try {
      const file = await findEnvironmentFile(path);
      // the selection is per workspace: a request file with no env file above it simply has no environment
      if (!file) return { variables: {} };
      return await loadEnvironment(path, selected);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (!(e instanceof EnvironmentError) || selected === undefined) return { variables: {}, error };
      try {
        return { ...(await loadEnvironment(path)), error };
      } catch {
        return { variables: {}, error };
      }
    }
  }

  /** "DC Lab: Select Request Environment": the environments of the nearest env file (+ none = `$shared` only). */
  async pick(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const doc = editor?.document.languageId === 'mtproto' ? editor.document : undefined;
    const from = doc ? requestFilePath(doc) : join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd(), 'x.mtproto');
    const file = await findEnvironmentFile(from);
    let names: string[] = [];
    let sections: Record<string, unknown> = {};
    if (file) {
      try {
        const json: unknown = JSON.parse(await readFile(file, 'utf8'));
        if (json && typeof json === 'object' && !Array.isArray(json)) sections = json as Record<string, unknown>;
        names = Object.keys(sections).filter((k) => k !== SHARED);
      } catch (e) {
        throw new Error(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    const current = this.selected;
    const vars = (name: string): string => {
      const v = sections[name];
      return v && typeof v === 'object' ? Object.keys(v).join(', ') : '';
    };
    type Item = vscode.QuickPickItem & { value: string | undefined };
    const items: Item[] = [
      {
        label: '$(circle-slash) No environment',
        description: `${SHARED} only${current === undefined ? ' · selected' : ''}`,
        detail: vars(SHARED) || undefined,
        value: undefined,
      },
      ...names.map((n) => ({ label: n, description: n === current ? 'selected' : '', detail: vars(n) || undefined, value: n })),
    ];
    if (current !== undefined && !names.includes(current))
      items.push({ label: current, description: `selected, not in ${file ?? ENV_FILE_NAME}`, value: current });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'DC Lab: request environment',
      placeHolder: file ? `environments of ${vscode.workspace.asRelativePath(file)}` : `no ${ENV_FILE_NAME} found next to the request file or above it`,
      ignoreFocusOut: true,
    });
    if (!pick) return;
    await this.select(pick.value);
  }

  private async renderStatus(): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.languageId !== 'mtproto') {
      this.status.hide();
      return;
    }
    const env = await this.load(doc);
    const name = this.selected;
    this.status.text = `${env.error ? '$(warning)' : '$(symbol-variable)'} ${name ?? (env.file ? '$shared only' : 'no environment')}`;
    this.status.tooltip = env.error
      ? `DC Lab request environment: ${env.error}\nClick to choose another`
      : `DC Lab request environment${env.file ? ` from ${vscode.workspace.asRelativePath(env.file)}` : ''}: ${Object.keys(env.variables).length} variables\nClick to change`;
    this.status.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
