// Topology view: every DC of dc_options as an SVG node (state, latency, flags, the connection with its endpoints in
// the order they are tried and the one in use) and the redirects and transfers that happened as edges.
// Re-rendered from each host snapshot (a handful of nodes: cheap).
import {
  configReadText,
  connectEndpointText,
  connectionText,
  type IpcConnectEndpoint,
  type IpcDcEdge,
  type IpcDcEndpoint,
  type IpcDcNode,
  type IpcTopology,
} from '../../src/ipc/index';
import { h, kids, svg } from './dom';

const NODE_W = 240;
const GAP_X = 30;
const LINE = 15;
const MAX_ENDPOINT_LINES = 5;

const STATE_LABEL: Record<IpcDcNode['state'], string> = { 'no-key': 'no key', key: 'key', authorized: 'authorized', home: 'home' };

export function flagsOf(n: IpcDcNode): string[] {
  const f = new Set<string>();
  for (const e of n.endpoints) {
    f.add(e.ipv6 ? 'ipv6' : 'ipv4');
    if (e.mediaOnly) f.add('media');
    if (e.cdn) f.add('cdn');
    if (e.static) f.add('static');
    if (e.tcpoOnly) f.add('tcpo');
    if (e.thisPortOnly) f.add('this-port');
    if (e.hasSecret) f.add('secret');
  }
  const order = ['ipv4', 'ipv6', 'media', 'cdn', 'static', 'tcpo', 'this-port', 'secret'];
  return order.filter((x) => f.has(x));
}

function endpointLabel(e: IpcDcEndpoint): string {
  const tags = [
    e.mediaOnly && 'media',
    e.cdn && 'cdn',
    e.static && 'static',
    e.tcpoOnly && 'tcpo',
    e.thisPortOnly && 'this-port',
    e.hasSecret && 'secret',
  ].filter(Boolean);
  const host = e.ipv6 ? `[${e.host}]` : e.host;
  return `${host}:${e.port}${tags.length ? ` (${tags.join(', ')})` : ''}`;
}

/** "in use" while the connection is up or coming up, "last used" once it is idle or closed. */
function usedWord(n: IpcDcNode): string {
  const s = n.connection?.state;
  return s === 'idle' || s === 'closed' ? 'last used' : 'in use';
}

/** Compact for the node box; the table and the tooltip carry the long form. */
function orderLabel(e: IpcConnectEndpoint, i: number): string {
  const host = e.ipv6 ? `[${e.host}]` : e.host;
  return `${i + 1}. ${host}:${e.port}${e.obfuscated ? ' obf' : ''}${e.source === 'profile' ? ' (profile)' : ''}`;
}

/** The endpoint lines of a node: the connect order when the client knows it, else the dc_options. */
function endpointLines(n: IpcDcNode): number {
  const count = n.connectOrder?.length ? n.connectOrder.length : n.endpoints.length;
  return Math.min(count, MAX_ENDPOINT_LINES + 1);
}

function nodeHeight(n: IpcDcNode): number {
  return 66 + LINE * (endpointLines(n) + (n.connection ? 1 : 0));
}

function configLine(t: IpcTopology): HTMLElement | null {
  const text = configReadText(t);
  return text ? h('span', { class: 'topo-config', 'data-testid': 'topo-config' }, text) : null;
}

export class TopologyView {
  readonly el: HTMLElement;
  private readonly header = h('div', { class: 'topo-header' });
  private readonly canvas = h('div', { class: 'topo-canvas' });
  private readonly table = h('div', { class: 'topo-table' });
  private topology: IpcTopology | undefined;
  onEdgeClick: ((eventId: number) => void) | undefined;

  constructor() {
    this.el = h('section', { class: 'topology', 'data-testid': 'topology' }, this.header, this.canvas, this.table);
    this.header.textContent = 'Waiting for the extension host…';
  }

  update(t: IpcTopology): void {
    this.topology = t;
    this.render();
  }

  private render(): void {
    const t = this.topology;
    if (!t) return;
    this.header.replaceChildren(
      ...kids(
        h('span', { class: 'topo-profile' }, `Profile: ${t.profile}`),
        h('span', {}, `State: ${t.state}`),
        h('span', {}, `Home: ${t.homeDc !== undefined ? `DC${t.homeDc}` : '—'}`),
        t.thisDc !== undefined ? h('span', {}, `this_dc: ${t.thisDc}`) : null,
        h('span', {}, `${t.nodes.length} DCs, ${t.edges.reduce((a, e) => a + e.count, 0)} redirects/transfers`),
        configLine(t),
      ),
    );
    const nodes = [...t.nodes].sort((a, b) => a.dcId - b.dcId);
    const isCdnOnly = (n: IpcDcNode) => n.endpoints.length > 0 && n.endpoints.every((e) => e.cdn);
    const rows = [nodes.filter((n) => !isCdnOnly(n)), nodes.filter(isCdnOnly)].filter((r) => r.length > 0);
    const pos = new Map<number, { x: number; y: number; w: number; h: number }>();
    const top = 90; // room for edge arcs above the first row
    let y = top;
    let width = 0;
    for (const row of rows) {
      const hgt = Math.max(...row.map(nodeHeight));
      row.forEach((n, i) => {
        pos.set(n.dcId, { x: 20 + i * (NODE_W + GAP_X), y, w: NODE_W, h: nodeHeight(n) });
      });
      width = Math.max(width, 20 + row.length * (NODE_W + GAP_X));
      y += hgt + 70;
    }
    const height = y;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'topo-svg', role: 'img', 'aria-label': 'DC topology' });
    const defs = svg(
      'defs',
      {},
      svg(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'topo-arrow' }),
      ),
    );
    root.append(defs);
    const edgeLayer = svg('g', { class: 'topo-edges' });
    const nodeLayer = svg('g', { class: 'topo-nodes' });
    root.append(nodeLayer, edgeLayer);
    for (const n of nodes) nodeLayer.append(this.renderNode(n, pos.get(n.dcId)!));
    const pairCount = new Map<string, number>();
    for (const e of t.edges) {
      const a = pos.get(e.from);
      const b = pos.get(e.to);
      if (!a || !b) continue;
      const key = `${Math.min(e.from, e.to)}-${Math.max(e.from, e.to)}`;
      const k = pairCount.get(key) ?? 0;
      pairCount.set(key, k + 1);
      edgeLayer.append(this.renderEdge(e, a, b, k));
    }
    this.canvas.replaceChildren(root);
    this.renderTable(nodes, t.edges);
  }

  private renderNode(n: IpcDcNode, p: { x: number; y: number; w: number; h: number }): SVGGElement {
    const flags = flagsOf(n);
    const g = svg('g', {
      class: `topo-node state-${n.state}${n.connected ? ' connected' : ''}`,
      'data-dc': n.dcId,
      'data-state': n.state,
      'data-flags': flags.join(','),
      transform: `translate(${p.x},${p.y})`,
    });
    g.append(svg('title', {}, `DC${n.dcId}: ${STATE_LABEL[n.state]}${n.connected ? ', connected' : ''}${n.session ? `, session ${n.session}` : ''}`));
    g.append(svg('rect', { width: p.w, height: p.h, rx: 6, class: 'topo-box' }));
    g.append(svg('text', { x: 10, y: 20, class: 'topo-title' }, `DC ${n.dcId}`));
    g.append(svg('text', { x: p.w - 10, y: 20, class: `topo-state state-${n.state}`, 'text-anchor': 'end' }, STATE_LABEL[n.state]));
    const lat = n.latencyMs !== undefined ? `${Math.round(n.latencyMs)} ms` : '— ms';
    g.append(svg('circle', { cx: 14, cy: 34, r: 4, class: n.connected ? 'topo-dot on' : 'topo-dot' }));
    g.append(
      svg(
        'text',
        { x: 24, y: 38, class: 'topo-meta' },
        `${n.connected ? 'connected' : 'idle'} · ${lat}${n.session && n.session !== 'none' ? ` · ${n.session}` : ''}`,
      ),
    );
    const flagText = svg('text', { x: 10, y: 56, class: 'topo-flags' });
    for (const f of flags) flagText.append(svg('tspan', { class: `flag flag-${f}`, 'data-flag': f }, `${f} `));
    g.append(flagText);
    let y = 74;
    if (n.connection) {
      g.append(
        svg(
          'text',
          { x: 10, y, class: `topo-conn conn-${n.connection.state}`, 'data-conn-state': n.connection.state, 'data-reconnects': n.connection.reconnects },
          connectionText(n.connection),
        ),
      );
      y += LINE;
    }
    const order = n.connectOrder ?? [];
    const lines: { text: string; inUse: boolean }[] = order.length
      ? order.map((e, i) => ({ text: `${orderLabel(e, i)}${e.inUse ? ` ◀ ${usedWord(n)}` : ''}`, inUse: !!e.inUse }))
      : n.endpoints.map((e) => ({ text: endpointLabel(e), inUse: false }));
    const shown = lines.slice(0, MAX_ENDPOINT_LINES);
    shown.forEach((l, i) => {
      g.append(
        svg(
          'text',
          {
            x: 10,
            y: y + i * LINE,
            class: `topo-endpoint${l.inUse ? ' in-use' : ''}`,
            ...(order.length ? { 'data-order': i + 1 } : {}),
            ...(l.inUse ? { 'data-in-use': 'true' } : {}),
          },
          l.text,
        ),
      );
    });
    if (lines.length > shown.length)
      g.append(svg('text', { x: 10, y: y + shown.length * LINE, class: 'topo-endpoint' }, `+${lines.length - shown.length} more`));
    return g;
  }

  private renderEdge(
    e: IpcDcEdge,
    a: { x: number; y: number; w: number; h: number },
    b: { x: number; y: number; w: number; h: number },
    k: number,
  ): SVGGElement {
    const g = svg('g', { class: `topo-edge edge-${e.kind}`, 'data-from': e.from, 'data-to': e.to, 'data-kind': e.kind });
    const x1 = a.x + a.w / 2;
    const x2 = b.x + b.w / 2;
    let d: string;
    let lx: number;
    let ly: number;
    if (a.y === b.y) {
      const lift = 30 + Math.abs(x2 - x1) * 0.12 + k * 16;
      const cy = a.y - lift;
      d = `M${x1},${a.y} Q${(x1 + x2) / 2},${cy} ${x2},${b.y}`;
      lx = (x1 + x2) / 2;
      ly = a.y - lift / 2 - 4;
    } else {
      const [y1, y2] = a.y < b.y ? [a.y + a.h, b.y] : [a.y, b.y + b.h];
      const off = k * 14;
      d = `M${x1 + off},${y1} C${x1 + off},${(y1 + y2) / 2} ${x2 + off},${(y1 + y2) / 2} ${x2 + off},${y2}`;
      lx = (x1 + x2) / 2 + off;
      ly = (y1 + y2) / 2;
    }
    g.append(svg('path', { d, class: 'topo-edge-path', 'marker-end': 'url(#arrow)' }));
    g.append(svg('text', { x: lx, y: ly, 'text-anchor': 'middle', class: 'topo-edge-label' }, `${e.label}${e.count > 1 ? ` ×${e.count}` : ''}`));
    g.append(svg('title', {}, `${e.kind}: DC${e.from} → DC${e.to} (${e.label}, ${e.count}×)`));
    if (e.lastEventId !== undefined) {
      const id = e.lastEventId;
      g.addEventListener('click', () => this.onEdgeClick?.(id));
    }
    return g;
  }

  private renderTable(nodes: IpcDcNode[], edges: IpcDcEdge[]): void {
    const rows = nodes.map((n) =>
      h(
        'tr',
        { 'data-dc': n.dcId },
        h('td', {}, `DC ${n.dcId}`),
        h('td', { class: `state-${n.state}` }, STATE_LABEL[n.state]),
        h('td', {}, n.latencyMs !== undefined ? `${Math.round(n.latencyMs)} ms` : '—'),
        h('td', {}, flagsOf(n).join(' ')),
        h('td', { class: 'topo-conn-cell', 'data-conn': n.connection?.state ?? '' }, n.connection ? connectionText(n.connection) : '—'),
        h(
          'td',
          { class: 'mono' },
          n.connectOrder?.length
            ? h(
                'ol',
                { class: 'topo-order', 'data-testid': `connect-order-${n.dcId}` },
                ...n.connectOrder.map((e) =>
                  h(
                    'li',
                    { class: e.inUse ? 'in-use' : undefined, 'data-in-use': e.inUse ? 'true' : undefined },
                    connectEndpointText(e),
                    e.inUse ? h('strong', {}, ` ◀ ${usedWord(n)}`) : null,
                  ),
                ),
              )
            : '—',
        ),
        h('td', { class: 'mono' }, n.endpoints.map(endpointLabel).join('  ·  ')),
      ),
    );
    const edgeRows = edges.map((e) => h('li', {}, `${e.kind}: DC${e.from} → DC${e.to} — ${e.label}${e.count > 1 ? ` ×${e.count}` : ''}`));
    this.table.replaceChildren(
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'DC'),
            h('th', {}, 'state'),
            h('th', {}, 'latency'),
            h('th', {}, 'flags'),
            h('th', {}, 'connection'),
            h('th', {}, 'connect order'),
            h('th', {}, 'dc_options'),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
      edges.length ? h('ul', { class: 'topo-edge-list' }, ...edgeRows) : h('p', { class: 'muted' }, 'No redirects or transfers yet.'),
    );
  }
}
