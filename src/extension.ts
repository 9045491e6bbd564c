import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('MTProto DC Lab', { log: true });
  context.subscriptions.push(log);
  log.info('MTProto DC Lab activated');
}

export function deactivate(): void {}
