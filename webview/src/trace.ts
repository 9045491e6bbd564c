// Trace timeline: virtualized (fixed row height, a spacer, only the visible rows in the DOM, rows recycled), calls
// grouped with their chains (children by parentId under their root, collapsible, the chain summarized on the root
// row), filters by DC / name / errors, a detail pane with the redacted payload and the wire fields.
import type { IpcTraceEvent, JsonValue } from '../../src/ipc/index';
import { errorText, fmtTime, h, kids } from './dom';
import type { Host } from './host';
import { button, checkbox, dropdown, textField, type CheckControl, type SelectControl, type ValueControl } from './toolkit/index';
import { jsonTree } from './tree';

export const ROW_HEIGHT = 22;
const OVERSCAN = 12;

export interface TraceFilter {
  dcId?: number;
  text?: string;
  errorsOnly?: boolean;
}

function isWire(e: IpcTraceEvent): boolean {
  return e.kind === 'wire-in' || e.kind === 'wire-out';
}

function chainStep(e: IpcTraceEvent): string | undefined {
  switch (e.kind) {
    case 'call':
      return `${e.name}${e.dcId !== undefined ? ` @DC${e.dcId}` : ''}`;
    case 'redirect':
      return e.name;
    case 'key':
      return `${e.name}${e.dcId !== undefined ? ` DC${e.dcId}` : ''}${e.roundTrips ? ` (${e.roundTrips} round trips)` : ''}`;
    case 'transfer':
      return `transfer DC${e.dcId ?? '?'} → DC${e.targetDc ?? '?'}`;
    case 'result':
    case 'error':
    case 'flood-wait':
      return e.name;
    case 'state':
      return e.from !== undefined || e.to !== undefined ? undefined : e.name === 'connect' ? `connect DC${e.dcId ?? '?'}` : undefined;
    case 'file':
      return e.name;
    default:
      return undefined;
  }
}

export class TraceView {
  readonly el: HTMLElement;
  private events: IpcTraceEvent[] = [];
  private indexById = new Map<number, number>();
  private depth: number[] = [];
  private children = new Map<number, number[]>(); // parent id → child indices
  private collapsed = new Set<number>();
  /** Indices into `events`, in display order. */
  private rows: Int32Array = new Int32Array(0);
  private filter: TraceFilter = {};
  private selectedId: number | undefined;
  private follow = true;
  private dirty = false;
  private dcIds = new Set<number>();

  private readonly viewport = h('div', { class: 'trace-viewport', tabindex: 0, 'data-testid': 'trace-viewport' });
  private readonly spacer = h('div', { class: 'trace-spacer' });
  private readonly rowLayer = h('div', { class: 'trace-rows' });
  private readonly pool: HTMLElement[] = [];
  private readonly count = h('span', { class: 'trace-count', 'data-testid': 'trace-count' });
  private readonly detail = h('aside', { class: 'trace-detail', 'data-testid': 'trace-detail' });
  private readonly status = h('span', { class: 'muted' });
  private readonly dcSelect: SelectControl;
  private readonly textFilter: ValueControl;
  private readonly errorsFilter: CheckControl;
  /** An event the host asked to show (trace/focus) that has not arrived yet. */
  private pendingFocusId: number | undefined;

  constructor(
    private readonly host: Host,
    initial: TraceFilter,
    private readonly onFilter: (f: TraceFilter) => void,
  ) {
    this.filter = { ...initial };
    this.dcSelect = dropdown(
      [{ value: '', label: 'All DCs' }],
      initial.dcId ? String(initial.dcId) : '',
      (v) => this.setFilter({ dcId: v ? Number(v) : undefined }),
      { 'data-testid': 'trace-dc' },
    );
    this.textFilter = textField({
      placeholder: 'method / name…',
      value: initial.text ?? '',
      attrs: { 'data-testid': 'trace-text' },
      onInput: (v) => this.setFilter({ text: v || undefined }),
    });
    this.errorsFilter = checkbox('errors only', !!initial.errorsOnly, (c) => this.setFilter({ errorsOnly: c || undefined }), { 'data-testid': 'trace-errors' });
    const toolbar = h(
      'div',
      { class: 'toolbar' },
      this.dcSelect.el,
      this.textFilter.el,
      this.errorsFilter.el,
      button('Collapse all', () => this.collapseAll(true), { appearance: 'secondary' }),
      button('Expand all', () => this.collapseAll(false), { appearance: 'secondary' }),
      button('Export…', () => void this.exportTrace(), { appearance: 'secondary', attrs: { 'data-testid': 'trace-export' } }),
      button('Import…', () => void this.importTrace(), { appearance: 'secondary', attrs: { 'data-testid': 'trace-import' } }),
      this.count,
      this.status,
    );
    this.viewport.append(this.spacer, this.rowLayer);
    this.viewport.addEventListener('scroll', () => {
      const atEnd = this.viewport.scrollTop + this.viewport.clientHeight >= this.viewport.scrollHeight - ROW_HEIGHT * 2;
      this.follow = atEnd;
      this.schedule(false);
    });
    this.rowLayer.addEventListener('click', (ev) => this.onRowClick(ev));
    this.viewport.addEventListener('keydown', (ev) => this.onKey(ev));
    new ResizeObserver(() => this.schedule(false)).observe(this.viewport);
    this.el = h('section', { class: 'trace', 'data-testid': 'trace' }, toolbar, h('div', { class: 'trace-body' }, this.viewport, this.detail));
    this.detail.append(h('p', { class: 'muted' }, 'Select an event to see its payload and wire fields.'));
  }

  // ------------------------------------------------------------------ data

  reset(events: IpcTraceEvent[]): void {
    this.events = [];
    this.indexById.clear();
    this.depth = [];
    this.children.clear();
    this.collapsed.clear();
    this.dcIds.clear();
    this.selectedId = undefined;
    this.append(events);
  }

  append(events: IpcTraceEvent[]): void {
    let newDc = false;
    for (const e of events) {
      if (this.indexById.has(e.id)) continue;
      const i = this.events.length;
      this.events.push(e);
      this.indexById.set(e.id, i);
      const pi = e.parentId !== undefined ? this.indexById.get(e.parentId) : undefined;
      this.depth.push(pi !== undefined ? Math.min(this.depth[pi]! + 1, 12) : 0);
      if (pi !== undefined) {
        let c = this.children.get(e.parentId!);
        if (!c) this.children.set(e.parentId!, (c = []));
        c.push(i);
      }
      if (e.dcId !== undefined && !this.dcIds.has(e.dcId)) {
        this.dcIds.add(e.dcId);
        newDc = true;
      }
    }
    if (this.pendingFocusId !== undefined && this.indexById.has(this.pendingFocusId)) this.focusEvent(this.pendingFocusId);
    if (newDc)
      this.dcSelect.setOptions(
        [{ value: '', label: 'All DCs' }, ...[...this.dcIds].sort((a, b) => a - b).map((d) => ({ value: String(d), label: `DC ${d}` }))],
        this.filter.dcId ? String(this.filter.dcId) : '',
      );
    this.schedule(true);
  }

  allEvents(): readonly IpcTraceEvent[] {
    return this.events;
  }

  get size(): number {
    return this.events.length;
  }

  lastId(): number {
    return this.events.length ? this.events[this.events.length - 1]!.id : 0;
  }

  setFilter(patch: Partial<TraceFilter>): void {
    this.filter = { ...this.filter, ...patch };
    for (const k of Object.keys(this.filter) as (keyof TraceFilter)[]) if (this.filter[k] === undefined) delete this.filter[k];
    this.onFilter(this.filter);
    this.schedule(true);
  }

  private filtering(): boolean {
    return this.filter.dcId !== undefined || !!this.filter.text || !!this.filter.errorsOnly;
  }

  private matches(e: IpcTraceEvent, text: string): boolean {
    if (this.filter.dcId !== undefined && e.dcId !== this.filter.dcId) return false;
    if (this.filter.errorsOnly && e.kind !== 'error' && e.kind !== 'flood-wait') return false;
    if (text && !e.name.toLowerCase().includes(text)) return false;
    return true;
  }

  /** Rebuilds the display order: filtered = flat list of matches; otherwise roots followed by their chains. */
  private rebuildRows(): void {
    const n = this.events.length;
    const out = new Int32Array(n);
    let k = 0;
    if (this.filtering()) {
      const text = (this.filter.text ?? '').toLowerCase();
      for (let i = 0; i < n; i++) if (this.matches(this.events[i]!, text)) out[k++] = i;
    } else {
      const stack: number[] = [];
      for (let i = 0; i < n; i++) {
        if (this.depth[i] !== 0) continue;
        stack.push(i);
        while (stack.length) {
          const j = stack.pop()!;
          out[k++] = j;
          const id = this.events[j]!.id;
          if (this.collapsed.has(id)) continue;
          const c = this.children.get(id);
          if (c) for (let x = c.length - 1; x >= 0; x--) stack.push(c[x]!);
        }
      }
    }
    this.rows = out.subarray(0, k);
    this.count.textContent = this.filtering() ? `${k.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} events` : `${n.toLocaleString('en-US')} events`;
  }

  // ------------------------------------------------------------------ rendering

  private scheduled = false;
  private schedule(dataChanged: boolean): void {
    if (dataChanged) this.dirty = true;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  /** Renders now (tests and the first paint). */
  render(): void {
    if (this.dirty) {
      this.dirty = false;
      this.rebuildRows();
      this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
      if (this.follow) this.viewport.scrollTop = this.viewport.scrollHeight;
    }
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const need = Math.max(0, last - first);
    while (this.pool.length < need) {
      const row = this.newRow();
      this.pool.push(row);
      this.rowLayer.append(row);
    }
    // One transform for the whole block of rows; the rows flow inside it at a fixed height.
    this.rowLayer.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    for (let p = 0; p < this.pool.length; p++) {
      const row = this.pool[p]!;
      if (p >= need) {
        row.hidden = true;
        continue;
      }
      row.hidden = false;
      this.fillRow(row, this.rows[first + p]!);
    }
  }

  /** Row DOM: eight spans created once per pooled row and reused (only text and classes change on scroll). */
  private newRow(): HTMLElement {
    return h(
      'div',
      { class: 'trace-row', role: 'row' },
      h('span', { class: 'trace-time' }),
      h('span', { class: 'trace-id' }),
      h('span', { class: 'trace-dc' }),
      h('span', { class: 'trace-kind' }),
      h('span', { class: 'trace-indent' }),
      h('span', { class: 'trace-toggle' }),
      h('span', { class: 'trace-name' }),
      h('span', { class: 'trace-note' }),
    );
  }

  private fillRow(row: HTMLElement, idx: number): void {
    const e = this.events[idx]!;
    const version = this.rowVersion(e);
    if (row.dataset.id === String(e.id) && row.dataset.v === version) return;
    row.dataset.id = String(e.id);
    row.dataset.dc = e.dcId !== undefined ? String(e.dcId) : '';
    row.dataset.kind = e.kind;
    row.dataset.v = version;
    row.className = `trace-row kind-${e.kind}${e.id === this.selectedId ? ' selected' : ''}`;
    const depth = this.filtering() ? 0 : this.depth[idx]!;
    const childList = this.children.get(e.id);
    const summary =
      depth === 0 && childList ? this.chainSummary(e) : (e.note ?? (e.from !== undefined || e.to !== undefined ? `${e.from ?? ''} → ${e.to ?? ''}` : ''));
    const [time, id, dc, kind, indent, toggle, name, note] = row.children as unknown as HTMLElement[];
    time!.textContent = fmtTime(e.time);
    id!.textContent = `#${e.id}`;
    dc!.textContent = e.dcId !== undefined ? `DC${e.dcId}` : '';
    kind!.className = `trace-kind k-${e.kind}`;
    kind!.textContent = e.kind;
    indent!.className = `trace-indent d${Math.min(depth, 12)}`;
    if (childList && !this.filtering()) {
      toggle!.dataset.toggle = String(e.id);
      toggle!.textContent = this.collapsed.has(e.id) ? '▸' : '▾';
    } else {
      delete toggle!.dataset.toggle;
      toggle!.textContent = '';
    }
    name!.textContent = e.name;
    note!.textContent = summary ?? '';
  }

  private rowVersion(e: IpcTraceEvent): string {
    return `${this.filtering() ? 'f' : 'g'}${this.collapsed.has(e.id) ? 'c' : ''}${this.children.get(e.id)?.length ?? 0}${e.id === this.selectedId ? 's' : ''}`;
  }

  /** `auth.sendCode @DC2 → PHONE_MIGRATE_4 → connect DC4 → auth key DC4 (3 round trips) → auth.sendCode @DC4 → auth.sentCode`. */
  private chainSummary(root: IpcTraceEvent): string {
    const steps: string[] = [];
    const stack = [...(this.children.get(root.id) ?? [])].reverse();
    let visited = 0;
    while (stack.length && steps.length < 10 && visited < 400) {
      visited++;
      const i = stack.pop()!;
      const e = this.events[i]!;
      const s = chainStep(e);
      if (s) steps.push(s);
      const c = this.children.get(e.id);
      if (c) for (let x = c.length - 1; x >= 0; x--) stack.push(c[x]!);
    }
    return steps.length ? `→ ${steps.join(' → ')}${stack.length ? ' → …' : ''}` : '';
  }

  private collapseAll(collapse: boolean): void {
    this.collapsed.clear();
    if (collapse) for (const id of this.children.keys()) if (this.depth[this.indexById.get(id)!] === 0) this.collapsed.add(id);
    this.schedule(true);
  }

  private onRowClick(ev: Event): void {
    const t = ev.target as HTMLElement;
    const toggle = t.closest<HTMLElement>('[data-toggle]');
    if (toggle) {
      const id = Number(toggle.dataset.toggle);
      if (this.collapsed.has(id)) this.collapsed.delete(id);
      else this.collapsed.add(id);
      this.follow = false;
      this.schedule(true);
      return;
    }
    const row = t.closest<HTMLElement>('.trace-row');
    if (row?.dataset.id) this.select(Number(row.dataset.id), false);
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    ev.preventDefault();
    const pos = this.selectedId !== undefined ? this.rows.indexOf(this.indexById.get(this.selectedId) ?? -1) : -1;
    const next = Math.max(0, Math.min(this.rows.length - 1, pos + (ev.key === 'ArrowDown' ? 1 : -1)));
    const idx = this.rows[next];
    if (idx !== undefined) this.select(this.events[idx]!.id, true);
  }

  /** The host's trace/focus: select and reveal an event, clearing filters that hide it; an event not loaded yet
   *  (the panel was just opened and still pages the trace in) is selected when it arrives. */
  focusEvent(id: number): void {
    const idx = this.indexById.get(id);
    if (idx === undefined) {
      this.pendingFocusId = id;
      return;
    }
    this.pendingFocusId = undefined;
    if (this.filtering() && !this.matches(this.events[idx]!, (this.filter.text ?? '').toLowerCase())) {
      this.textFilter.value = '';
      this.errorsFilter.checked = false;
      this.dcSelect.value = '';
      this.setFilter({ dcId: undefined, text: undefined, errorsOnly: undefined });
    }
    this.select(id, true);
  }

  /** Selects an event, shows its details and (reveal) scrolls it into view, expanding its root. */
  select(id: number, reveal: boolean): void {
    const idx = this.indexById.get(id);
    if (idx === undefined) return;
    this.selectedId = id;
    if (reveal) {
      let e: IpcTraceEvent | undefined = this.events[idx];
      while (e?.parentId !== undefined) {
        this.collapsed.delete(e.parentId);
        const pi = this.indexById.get(e.parentId);
        e = pi !== undefined ? this.events[pi] : undefined;
      }
      this.rebuildRows();
      this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
      const pos = this.rows.indexOf(idx);
      if (pos >= 0) {
        this.follow = false;
        this.viewport.scrollTop = Math.max(0, pos * ROW_HEIGHT - this.viewport.clientHeight / 2);
      }
    }
    this.schedule(false);
    this.renderDetail(this.events[idx]!);
  }

  private renderDetail(e: IpcTraceEvent): void {
    const fields: [string, string][] = [
      ['id', String(e.id)],
      ['time', `${fmtTime(e.time)} (${e.time})`],
      ['kind', e.kind],
      ['name', e.name],
    ];
    const opt = (k: string, v: unknown) => v !== undefined && v !== '' && fields.push([k, String(v)]);
    opt('dc', e.dcId);
    opt('connection', e.connId);
    opt('parent', e.parentId);
    opt('target DC', e.targetDc);
    opt('round trips', e.roundTrips);
    opt('duration', e.durationMs !== undefined ? `${e.durationMs} ms` : undefined);
    opt('wait', e.waitSeconds !== undefined ? `${e.waitSeconds} s` : undefined);
    opt('from', e.from);
    opt('to', e.to);
    opt('note', e.note);
    const w = e.wire;
    // Events without wire fields still show their msg_id (a call's, for one).
    if (!w) opt('msg_id', e.msgId);
    const wireRows: [string, string][] = [];
    if (w) {
      if (w.msgId) wireRows.push(['msg_id', w.msgId]);
      if (w.seqno !== undefined) wireRows.push(['seqno', String(w.seqno)]);
      if (w.containerMsgId) wireRows.push(['container', w.containerMsgId]);
      if (w.reqMsgId) wireRows.push(['req_msg_id', w.reqMsgId]);
      if (w.ackMsgIds?.length) wireRows.push(['acknowledges', w.ackMsgIds.join(' ')]);
      if (w.acked) wireRows.push(['acked', 'by the other side']);
      wireRows.push(['size', `${w.bytes} B`]);
      wireRows.push(['message kind', w.kind]);
    }
    const table = (rows: [string, string][], testid: string) =>
      h('table', { class: 'kv', 'data-testid': testid }, h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, v)))));
    // The chain this event belongs to and the wire messages related to it (same msg_id, or wire children).
    let root = e;
    for (let guard = 0; root.parentId !== undefined && guard < 64; guard++) {
      const pi = this.indexById.get(root.parentId);
      if (pi === undefined) break;
      root = this.events[pi]!;
    }
    const chain: IpcTraceEvent[] = [];
    const stack = [this.indexById.get(root.id)!];
    while (stack.length && chain.length < 200) {
      const i = stack.pop()!;
      chain.push(this.events[i]!);
      const c = this.children.get(this.events[i]!.id);
      if (c) for (let x = c.length - 1; x >= 0; x--) stack.push(c[x]!);
    }
    const related = chain.filter((x) => isWire(x) && x.id !== e.id);
    if (e.msgId) {
      // Same msg_id nearby (bounded scan around the event).
      const idx = this.indexById.get(e.id)!;
      for (let i = Math.max(0, idx - 500); i < Math.min(this.events.length, idx + 500); i++) {
        const x = this.events[i]!;
        if (x.id !== e.id && (x.msgId === e.msgId || x.wire?.reqMsgId === e.msgId || x.wire?.ackMsgIds?.includes(e.msgId)) && !related.includes(x))
          related.push(x);
      }
    }
    const link = (x: IpcTraceEvent) =>
      h(
        'li',
        {},
        h(
          'a',
          { href: '#', 'data-goto': x.id, class: x.id === e.id ? 'current' : '' },
          `#${x.id} ${x.kind} ${x.name}${x.dcId !== undefined ? ` @DC${x.dcId}` : ''}`,
        ),
        x.note ? h('span', { class: 'muted' }, ` ${x.note}`) : null,
      );
    this.detail.replaceChildren(
      ...kids(
        h('h3', {}, `${e.kind} · ${e.name}`),
        table(fields, 'detail-fields'),
        wireRows.length ? h('h4', {}, 'Wire') : null,
        wireRows.length ? table(wireRows, 'detail-wire') : null,
        h('h4', {}, 'Payload (redacted)'),
        e.payload !== undefined ? jsonTree(e.payload as JsonValue, { open: 3 }) : h('p', { class: 'muted' }, 'no payload'),
        chain.length > 1 ? h('h4', {}, `Chain of #${root.id} (${chain.length}${chain.length >= 200 ? '+' : ''} events)`) : null,
        chain.length > 1 ? h('ol', { class: 'chain' }, ...chain.map(link)) : null,
        related.length ? h('h4', {}, 'Wire messages') : null,
        related.length ? h('ul', { class: 'chain' }, ...related.slice(0, 50).map(link)) : null,
      ),
    );
    this.detail.querySelectorAll<HTMLElement>('[data-goto]').forEach((a) => {
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        this.select(Number(a.dataset.goto), true);
      });
    });
  }

  // ------------------------------------------------------------------ export / import

  private async exportTrace(): Promise<void> {
    this.status.textContent = 'exporting…';
    try {
      const r = await this.host.request('trace/export', {});
      this.status.textContent = r.saved ? `exported ${r.count ?? ''} events${r.path ? ` to ${r.path}` : ''}` : 'export cancelled';
    } catch (e) {
      this.status.textContent = `export failed: ${errorText(e)}`;
    }
  }

  private async importTrace(): Promise<void> {
    this.status.textContent = 'importing…';
    try {
      const r = await this.host.request('trace/import', {});
      if (r.imported && r.events) {
        this.follow = true;
        this.reset(r.events);
        this.status.textContent = `imported ${r.events.length} events${r.path ? ` from ${r.path}` : ''}`;
      } else this.status.textContent = r.error ? `import failed: ${r.error}` : 'import cancelled';
    } catch (e) {
      this.status.textContent = `import failed: ${errorText(e)}`;
    }
  }
}
