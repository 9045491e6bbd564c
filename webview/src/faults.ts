// Faults on demand: every knob of the embedded sandbox (IPC_FAULT_SPECS) as a row with its arguments and a Run
// button, sent as a typed `sandbox/fault` request; the host's answer (or error), the sandbox's live connections and
// pending faults, and the client's connection to each DC. Disabled, with the host's reason, unless the active
// profile is the sandbox and it runs.
import {
  IPC_FAULT_ACTIONS,
  IPC_FAULT_SPECS,
  connectionText,
  faultRequestFrom,
  type IpcDcNode,
  type IpcFaultAction,
  type IpcFaultField,
  type IpcFaultResult,
  type IpcFaultsState,
  type IpcSandboxStatus,
  type IpcTopology,
} from '../../src/ipc/index';
import { errorText, fmtTime, h, kids } from './dom';
import type { Host } from './host';
import { button, dropdown, setDisabled, textField, type Option, type SelectControl, type ValueControl } from './toolkit/index';

interface Row {
  run: HTMLElement;
  error: HTMLElement;
  texts: Map<string, ValueControl>;
  dcs: Map<string, { field: IpcFaultField; select: SelectControl }>;
}

export class FaultsView {
  readonly el: HTMLElement;
  private readonly notice = h('p', { class: 'faults-notice', 'data-testid': 'faults-notice' }, 'Waiting for the extension host…');
  private readonly result = h('div', { class: 'fault-result', 'data-testid': 'fault-result' });
  private readonly statusEl = h('div', { class: 'fault-status', 'data-testid': 'fault-status' });
  private readonly connsEl = h('div', { class: 'fault-conns', 'data-testid': 'fault-connections' });
  private readonly rows = new Map<IpcFaultAction, Row>();
  private faults: IpcFaultsState | undefined;
  private running = false;
  private statusLoaded = false;
  /** The DC list the pickers were built for. */
  private dcKey = '';

  constructor(private readonly host: Host) {
    const list = h('div', { class: 'fault-rows' });
    for (const action of IPC_FAULT_ACTIONS) list.append(this.buildRow(action));
    // the answer and the tables beside the actions, so a run shows its effect without scrolling
    this.el = h(
      'section',
      { class: 'faults', 'data-testid': 'faults' },
      this.notice,
      h(
        'div',
        { class: 'faults-body' },
        list,
        h('div', { class: 'fault-side' }, this.result, h('h4', {}, 'Sandbox'), this.statusEl, h('h4', {}, 'Client connections'), this.connsEl),
      ),
    );
    this.statusEl.append(h('p', { class: 'muted' }, 'Run an action (or Status) to see the sandbox.'));
    this.applyState();
  }

  private buildRow(action: IpcFaultAction): HTMLElement {
    const spec = IPC_FAULT_SPECS[action];
    const row: Row = {
      run: button('Run', () => void this.run(action), { attrs: { 'data-testid': `fault-run-${action}` } }),
      error: h('div', { class: 'field-error', 'data-error-for': action }),
      texts: new Map(),
      dcs: new Map(),
    };
    const fields = h('div', { class: 'fault-fields' });
    for (const f of spec.fields as IpcFaultField[]) {
      let control: HTMLElement;
      if (f.kind === 'dc') {
        const select = dropdown([], '', () => undefined, { 'data-field': f.name, 'aria-label': f.label });
        row.dcs.set(f.name, { field: f, select });
        control = select.el;
      } else {
        const text = textField({
          ...(f.initial !== undefined ? { value: f.initial } : {}),
          placeholder: f.placeholder ?? (f.optional ? 'optional' : f.what),
          attrs: { 'data-field': f.name, 'aria-label': f.label, title: f.what },
          onEnter: () => void this.run(action),
        });
        row.texts.set(f.name, text);
        control = text.el;
      }
      fields.append(h('label', { class: `fault-field${f.optional ? ' optional' : ''}` }, h('span', { class: 'small muted' }, f.label), control));
    }
    this.rows.set(action, row);
    return h(
      'div',
      { class: 'fault-row', 'data-action': action },
      h('div', { class: 'fault-label' }, h('strong', {}, spec.label), h('span', { class: 'small muted' }, spec.summary)),
      fields,
      h('div', { class: 'fault-go' }, row.run),
      row.error,
    );
  }

  /** The host's snapshot: availability, the sandbox's DCs, the client's connections. */
  setTopology(t: IpcTopology): void {
    const before = this.faults?.available;
    this.faults = t.faults;
    if (before && !t.faults?.available) {
      // what was shown belongs to a sandbox that is gone (or no longer the profile's)
      this.statusLoaded = false;
      this.statusEl.replaceChildren(h('p', { class: 'muted' }, 'No sandbox to show.'));
      this.result.replaceChildren();
      this.result.className = 'fault-result';
      this.result.removeAttribute('data-state');
    }
    this.applyState();
    this.renderConnections(t.nodes);
  }

  /** The tab was opened: show the sandbox once without waiting for an action. */
  shown(): void {
    if (this.faults?.available && !this.statusLoaded && !this.running) void this.run('status');
  }

  private applyState(): void {
    const f = this.faults;
    const on = !!f?.available;
    this.el.classList.toggle('disabled', !on);
    this.notice.classList.toggle('faults-disabled', !on);
    if (!f) this.notice.textContent = 'Faults are off: no answer from the extension host yet.';
    else if (!on) this.notice.textContent = `Faults are off: ${f.reason ?? 'the embedded sandbox is not the active profile'}.`;
    else
      this.notice.textContent = `Embedded sandbox: DCs ${f.dcs.join(', ')}${f.cdnDc !== undefined ? ` and the CDN DC ${f.cdnDc}` : ''}. Each action runs at once; the trace shows what follows.`;
    this.notice.setAttribute('data-available', String(on));
    // without a sandbox there are no DCs to offer: keep the choices made for when it is back; rebuild the pickers
    // only when the DC list changes (snapshots arrive often, an open dropdown must stay open)
    const dcKey = f?.dcs.length ? `${f.dcs.join(',')}|${f.cdnDc ?? ''}` : this.dcKey;
    const rebuild = dcKey !== this.dcKey && !!f;
    this.dcKey = dcKey;
    for (const row of this.rows.values()) {
      setDisabled(row.run, !on || this.running);
      if (!rebuild || !f) continue;
      for (const { field, select } of row.dcs.values()) {
        const ids = [...f.dcs, ...(field.cdn && f.cdnDc !== undefined ? [f.cdnDc] : [])];
        const options: Option[] = [...(field.optional ? [{ value: '', label: 'every DC' }] : []), ...ids.map((d) => ({ value: String(d), label: `DC ${d}` }))];
        const keep = select.value && ids.includes(Number(select.value)) ? select.value : (options[0]?.value ?? '');
        select.setOptions(options, keep);
      }
    }
  }

  private async run(action: IpcFaultAction): Promise<void> {
    const row = this.rows.get(action)!;
    if (!this.faults?.available || this.running) return;
    const texts: Record<string, string> = {};
    for (const [name, c] of row.texts) texts[name] = c.value;
    for (const [name, { select }] of row.dcs) texts[name] = select.value;
    const built = faultRequestFrom(action, texts);
    row.error.textContent = built.error ?? '';
    if (!built.request) return;
    this.running = true;
    this.applyState();
    this.result.className = 'fault-result running';
    this.result.setAttribute('data-state', 'running');
    this.result.textContent = `${IPC_FAULT_SPECS[action].label}…`;
    try {
      const r = await this.host.request('sandbox/fault', built.request);
      this.showResult(r);
    } catch (e) {
      this.result.className = 'fault-result error';
      this.result.setAttribute('data-state', 'error');
      this.result.textContent = `${IPC_FAULT_SPECS[action].label} failed: ${errorText(e)}`;
    } finally {
      this.running = false;
      this.applyState();
    }
  }

  private showResult(r: IpcFaultResult): void {
    this.statusLoaded = true;
    this.result.className = 'fault-result ok';
    this.result.setAttribute('data-state', 'ok');
    this.result.replaceChildren(h('span', { class: 'muted' }, `${fmtTime(Date.now())} `), h('strong', {}, IPC_FAULT_SPECS[r.action].label), `: ${r.message}`);
    this.renderStatus(r.status);
  }

  private renderStatus(st: IpcSandboxStatus): void {
    const dcRows = [...st.dcs, ...(st.cdn ? [{ ...st.cdn, latencyMs: 0 }] : [])].map((d) =>
      h(
        'tr',
        { 'data-dc': d.id },
        h('td', {}, `DC ${d.id}${st.cdn?.id === d.id ? ' (CDN)' : ''}`),
        h('td', { class: 'mono' }, `${d.host}:${d.port}`),
        h('td', { 'data-connections': d.connections }, String(d.connections)),
        h('td', {}, d.latencyMs ? `${d.latencyMs} ms` : '—'),
      ),
    );
    const f = st.faults;
    const left = (n: number | 'unlimited'): string => (n === 'unlimited' ? 'until cleared' : `${n} left`);
    const where = (dc: number | undefined): string => (dc === undefined ? 'any DC' : `DC${dc}`);
    const pending = [
      ...f.rpcErrors.map((r) => `rpc-error: ${r.method} on ${where(r.dcId)} → ${r.code} ${r.error} (${left(r.left)})`),
      ...f.floods.map((r) => `flood: ${r.method} on ${where(r.dcId)} for ${r.secondsLeft} s more`),
      ...f.transportErrors.map((r) => `transport-error: ${r.code} on the next new connection of ${where(r.dcId)} (${left(r.left)})`),
      ...f.dropAfterBytes.map((r) => `byte drop: DC${r.dcId} after ${r.bytes} bytes (${left(r.left)})`),
    ];
    this.statusEl.replaceChildren(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'DC'), h('th', {}, 'listening'), h('th', {}, 'connections'), h('th', {}, 'latency'))),
        h('tbody', {}, ...dcRows),
      ),
      h('p', { class: 'small muted' }, `config expires ${fmtTime(st.config.expires * 1000).slice(0, 8)} (lifetime ${st.config.ttlSeconds} s)`),
      pending.length
        ? h('ul', { class: 'fault-pending', 'data-testid': 'fault-pending' }, ...pending.map((p) => h('li', {}, p)))
        : h('p', { class: 'muted', 'data-testid': 'fault-pending' }, 'No pending faults.'),
    );
  }

  private renderConnections(nodes: IpcDcNode[]): void {
    const used = nodes.filter((n) => n.connection);
    if (!used.length) {
      this.connsEl.replaceChildren(h('p', { class: 'muted' }, 'The client has not connected to a DC yet.'));
      return;
    }
    this.connsEl.replaceChildren(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'DC'), h('th', {}, 'connection'), h('th', {}, 'endpoint'))),
        h(
          'tbody',
          {},
          ...used.map((n) =>
            h(
              'tr',
              { 'data-dc': n.dcId, 'data-conn-state': n.connection!.state },
              h('td', {}, `DC ${n.dcId}`),
              h('td', {}, connectionText(n.connection!)),
              h('td', { class: 'mono' }, ...kids(n.connection!.endpoint ?? '—')),
            ),
          ),
        ),
      ),
    );
  }
}
