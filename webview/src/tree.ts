// A collapsible JSON tree (details/summary; children rendered when first opened, so big results stay cheap).
import type { JsonValue } from '../../src/ipc/index';
import { h } from './dom';

export interface TreeOptions {
  /** Levels open at first (default 2). */
  open?: number;
  /** Extra content after an object's summary (e.g. a "Download from DC n" button). */
  decorate?: (obj: { [k: string]: JsonValue }, path: string) => Node | null;
}

const MAX_CHILDREN = 500;

function leaf(v: JsonValue): HTMLElement {
  if (v === null) return h('span', { class: 'j-null' }, 'null');
  if (typeof v === 'string') return h('span', { class: 'j-str' }, JSON.stringify(v.length > 2000 ? `${v.slice(0, 2000)}…` : v));
  if (typeof v === 'number') return h('span', { class: 'j-num' }, String(v));
  if (typeof v === 'boolean') return h('span', { class: 'j-bool' }, String(v));
  return h('span', {}, '');
}

function label(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.length}]`;
  if (v && typeof v === 'object') {
    const ctor = typeof v._ === 'string' ? v._ : '';
    const n = Object.keys(v).length - (ctor ? 1 : 0);
    return ctor ? `${ctor} {${n}}` : `{${n}}`;
  }
  return '';
}

export function jsonTree(value: JsonValue, opts: TreeOptions = {}): HTMLElement {
  const root = h('div', { class: 'json-tree' });
  root.append(node(undefined, value, '', 0, opts));
  return root;
}

function node(key: string | undefined, v: JsonValue, path: string, depth: number, opts: TreeOptions): HTMLElement {
  const keyEl = key !== undefined ? h('span', { class: 'j-key' }, `${key}: `) : null;
  if (v === null || typeof v !== 'object') return h('div', { class: 'j-leaf', 'data-path': path }, keyEl, leaf(v));
  const det = h('details', { class: 'j-node', 'data-path': path });
  const extra = !Array.isArray(v) && opts.decorate ? opts.decorate(v, path) : null;
  det.append(h('summary', {}, keyEl, h('span', { class: 'j-label' }, label(v)), extra));
  let filled = false;
  const fill = () => {
    if (filled) return;
    filled = true;
    const body = h('div', { class: 'j-children' });
    const entries: [string, JsonValue][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v).filter(([k]) => k !== '_');
    for (const [k, x] of entries.slice(0, MAX_CHILDREN))
      body.append(node(k, x, path ? (Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`) : Array.isArray(v) ? `[${k}]` : k, depth + 1, opts));
    if (entries.length > MAX_CHILDREN) body.append(h('div', { class: 'muted' }, `… ${entries.length - MAX_CHILDREN} more`));
    det.append(body);
  };
  det.addEventListener('toggle', () => det.open && fill());
  if (depth < (opts.open ?? 2)) {
    det.open = true;
    fill();
  }
  return det;
}
