// The extension's settings (contributes.configuration in package.json). Secrets are never settings: api_hash and
// auth keys live in SecretStorage (src/storage's SecretStorageKeyvAdapter).
import * as vscode from 'vscode';
import type { TransportName } from '../transport/codec';
import type { LabSettings } from './lab';

const TRANSPORTS: readonly TransportName[] = ['abridged', 'intermediate', 'padded', 'full'];

export function readSettings(): LabSettings & { downloadFolder: string } {
  const c = vscode.workspace.getConfiguration('dclab');
  const transport = c.get<string>('transport', 'intermediate');
  const port = c.get<number>('sandbox.basePort', 20440);
  return {
    profile: c.get<string>('profile', 'sandbox') || 'sandbox',
    apiId: Math.max(0, Math.floor(c.get<number>('apiId', 0) || 0)),
    transport: (TRANSPORTS as readonly string[]).includes(transport) ? (transport as TransportName) : 'intermediate',
    prewarm: c.get<boolean>('prewarm', false),
    floodWaitThreshold: Math.max(0, c.get<number>('floodWaitThreshold', 30)),
    sandboxBasePort: Number.isInteger(port) && port >= 0 && port <= 65530 ? port : 20440,
    downloadFolder: c.get<string>('downloadFolder', '') ?? '',
  };
}
