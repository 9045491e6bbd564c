// The "DC Lab" activity-bar tree: the active profile with its DCs (the connection, its endpoints in the order they are
// tried with the one in use, the other dc_options, key present, authorized, home, latency), when the config was read,
// and sessions (per-DC session actor state, connected). Refreshed on the lab's 'changed' event.
import * as vscode from 'vscode';
import type { LabSession } from './lab';
import { topologyOf } from './topology';
import { configReadText, connectEndpointText, connectionText, type IpcDcEndpoint, type IpcDcNode } from '../ipc';

type Node =
  | { kind: 'profile' }
  | { kind: 'dcs' }
  | { kind: 'dc'; dc: IpcDcNode }
  | { kind: 'sessions' }
  | { kind: 'leaf'; label: string; description?: string; icon?: string; tooltip?: string };

export class LabTree implements vscode.TreeDataProvider<Node> {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly lab: LabSession) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  private nodes(): IpcDcNode[] {
    return topologyOf(this.lab, []).nodes;
  }

  private static optionLeaf(e: IpcDcEndpoint): Node {
    return {
      kind: 'leaf',
      label: `${e.ipv6 ? `[${e.host}]` : e.host}:${e.port}`,
      description: [
        e.ipv6 ? 'ipv6' : 'ipv4',
        e.mediaOnly && 'media',
        e.cdn && 'cdn',
        e.static && 'static',
        e.tcpoOnly && 'tcpo',
        e.thisPortOnly && 'this port',
        e.hasSecret && 'secret',
      ]
        .filter(Boolean)
        .join(' · '),
      icon: 'globe',
    };
  }

  getChildren(n?: Node): Node[] {
    if (!n) return [{ kind: 'profile' }, { kind: 'dcs' }, { kind: 'sessions' }];
    if (n.kind === 'dcs') return this.nodes().map((dc) => ({ kind: 'dc', dc }));
    if (n.kind === 'sessions') {
      const st = this.lab.status();
      if (!st) return [{ kind: 'leaf', label: 'not connected', icon: 'debug-disconnect' }];
      return st.dcs
        .filter((d) => d.session !== 'none' || d.connected)
        .map((d) => ({
          kind: 'leaf' as const,
          label: `DC${d.dcId} session`,
          description: `${d.session}${d.connected ? ' · connected' : ''}${d.latencyMs !== undefined ? ` · ${Math.round(d.latencyMs)} ms` : ''}`,
          icon: d.connected ? 'plug' : 'debug-disconnect',
        }));
    }
    if (n.kind === 'dc') {
      const dc = n.dc;
      const leaves: Node[] = [];
      if (dc.connection) {
        leaves.push({
          kind: 'leaf',
          label: 'connection',
          description: connectionText(dc.connection),
          icon: dc.connection.state === 'ready' ? 'plug' : 'debug-disconnect',
        });
      }
      const order = dc.connectOrder ?? [];
      const used = dc.connection?.state === 'idle' || dc.connection?.state === 'closed' ? 'last used' : 'in use';
      for (const [i, e] of order.entries()) {
        leaves.push({
          kind: 'leaf',
          label: `${i + 1}. ${e.ipv6 ? `[${e.host}]` : e.host}:${e.port}`,
          description: [e.source, e.obfuscated && 'obfuscated', e.inUse && `◀ ${used}`].filter(Boolean).join(' · '),
          icon: e.inUse ? 'arrow-right' : 'globe',
          tooltip: `Tried ${i + 1}. of ${order.length}: ${connectEndpointText(e)}`,
        });
      }
      // dc_options the client does not dial for calls (media-only, IPv6 when not preferred, CDN) stay visible
      const tried = new Set(order.map((e) => `${e.host}|${e.port}`));
      for (const e of dc.endpoints) {
        if (order.length > 0 && tried.has(`${e.host}|${e.port}`) && !e.mediaOnly) continue;
        leaves.push(LabTree.optionLeaf(e));
      }
      leaves.push({ kind: 'leaf', label: 'auth key', description: dc.hasKey ? 'present' : 'none', icon: dc.hasKey ? 'key' : 'circle-slash' });
      leaves.push({ kind: 'leaf', label: 'authorized', description: dc.authorized ? 'yes' : 'no', icon: dc.authorized ? 'pass' : 'circle-large-outline' });
      if (dc.latencyMs !== undefined) leaves.push({ kind: 'leaf', label: 'latency', description: `${dc.latencyMs} ms`, icon: 'pulse' });
      return leaves;
    }
    return [];
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'profile': {
        const st = this.lab.status();
        const item = new vscode.TreeItem(`Profile: ${this.lab.profileName}`, vscode.TreeItemCollapsibleState.None);
        item.description = `${this.lab.state()}${st ? ` · home DC${st.homeDc}` : ''}${st?.userId ? ` · user ${st.userId}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(this.lab.profileName === 'sandbox' ? 'beaker' : 'cloud');
        item.command = { command: 'dclab.chooseProfile', title: 'Choose Profile' };
        item.tooltip = this.lab.lastError ? `Last error: ${this.lab.lastError}` : 'Click to choose another profile';
        item.contextValue = 'profile';
        return item;
      }
      case 'dcs': {
        const item = new vscode.TreeItem('Data centers', vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('server-environment');
        const config = configReadText(topologyOf(this.lab, []));
        if (config) item.description = config;
        return item;
      }
      case 'sessions': {
        const item = new vscode.TreeItem('Sessions', vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('plug');
        return item;
      }
      case 'dc': {
        const dc = n.dc;
        const cdn = dc.endpoints.length > 0 && dc.endpoints.every((e) => e.cdn);
        const item = new vscode.TreeItem(`DC${dc.dcId}${cdn ? ' (CDN)' : ''}`, vscode.TreeItemCollapsibleState.Collapsed);
        const bits = [
          dc.home && 'home',
          dc.authorized ? 'authorized' : dc.hasKey ? 'key' : 'no key',
          dc.connection ? connectionText(dc.connection) : dc.connected && 'connected',
          dc.latencyMs !== undefined && `${dc.latencyMs} ms`,
        ].filter(Boolean);
        item.description = bits.join(' · ');
        item.iconPath = new vscode.ThemeIcon(dc.home ? 'home' : dc.authorized ? 'verified' : dc.hasKey ? 'key' : 'circle-outline');
        item.contextValue = 'dc';
        item.id = `dc-${dc.dcId}`;
        return item;
      }
      case 'leaf': {
        const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
        if (n.description !== undefined) item.description = n.description;
        if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon);
        if (n.tooltip) item.tooltip = n.tooltip;
        return item;
      }
    }
  }
}
