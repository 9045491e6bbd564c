// Query runner: search over every method of the layer, the generated form beside a raw JSON editor kept in sync,
// validation errors naming the field and the expected type, run on home / on DC N, the result as a tree with
// "Download from DC n" for files, and a history to re-run.
import type { IpcDcNode, IpcQueryHistoryItem, IpcQueryResult, JsonObject, JsonValue } from '../../../src/ipc/index';
import { errorText, fmtTime, h, kids, plainText } from '../dom';
import type { Host } from '../host';
import { button, dropdown, textArea, textField, type SelectControl, type ValueControl } from '../toolkit/index';
import { jsonTree } from '../tree';
import { fileOf, findFiles, type FoundFile } from './files';
import { QueryForm } from './form';
import { SchemaCache, type FieldError } from './schema';

const MAX_LIST = 150;
const MAX_HISTORY = 50;

export interface QueryState {
  method?: string;
  json?: string;
  dcId?: number;
  history: IpcQueryHistoryItem[];
}

export class QueryView {
  readonly el: HTMLElement;
  readonly schema: SchemaCache;
  private readonly form: QueryForm;
  private readonly search: ValueControl;
  private readonly list = h('ul', { class: 'method-list', 'data-testid': 'method-list' });
  private readonly listInfo = h('div', { class: 'muted small' });
  private readonly json: ValueControl;
  private readonly errors = h('ul', { class: 'errors', 'data-testid': 'query-errors' });
  private readonly dcSelect: SelectControl;
  private readonly result = h('div', { class: 'result', 'data-testid': 'query-result' });
  private readonly historyEl = h('ol', { class: 'history', 'data-testid': 'query-history' });
  private readonly runButton: HTMLElement;
  private jsonTimer: ReturnType<typeof setTimeout> | undefined;
  private jsonEditing = false;
  private loaded = false;
  private running = false;

  constructor(
    private readonly host: Host,
    private state: QueryState,
    private readonly onState: (s: QueryState) => void,
  ) {
    this.schema = new SchemaCache(host);
    this.form = new QueryForm(this.schema, () => this.formChanged());
    this.search = textField({ placeholder: 'search methods (e.g. getHistory)', attrs: { 'data-testid': 'method-search' }, onInput: () => this.renderList() });
    this.json = textArea({
      rows: 18,
      monospace: true,
      placeholder: '{ "_": "help.getConfig" }',
      attrs: { 'data-testid': 'query-json' },
      onInput: () => {
        this.jsonEditing = true;
        clearTimeout(this.jsonTimer);
        this.jsonTimer = setTimeout(() => void this.jsonChanged(), 200);
      },
    });
    this.json.el.addEventListener('focusout', () => (this.jsonEditing = false));
    this.dcSelect = dropdown(
      [{ value: '', label: 'home DC' }],
      state.dcId ? String(state.dcId) : '',
      (v) => this.saveState({ dcId: v ? Number(v) : undefined }),
      { 'data-testid': 'query-dc' },
    );
    this.runButton = button('Run', () => void this.run(), { attrs: { 'data-testid': 'query-run' } });
    this.el = h(
      'section',
      { class: 'query', 'data-testid': 'query' },
      h('div', { class: 'query-methods' }, this.search.el, this.listInfo, this.list),
      h(
        'div',
        { class: 'query-main' },
        h('div', { class: 'query-editors' }, this.form.el, h('div', { class: 'query-json' }, h('h4', {}, 'JSON'), this.json.el, this.errors)),
        h('div', { class: 'toolbar' }, h('span', {}, 'Run on'), this.dcSelect.el, this.runButton),
        this.result,
        h('h4', {}, 'History'),
        this.historyEl,
      ),
    );
    this.form.render();
    this.renderHistory();
  }

  /** Loads the method list (once) and restores the last query. */
  async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    this.listInfo.textContent = 'loading methods…';
    try {
      await this.schema.loadMethods();
    } catch (e) {
      this.loaded = false;
      this.listInfo.textContent = `could not load methods: ${errorText(e)}`;
      return;
    }
    this.renderList();
    if (this.state.json) {
      try {
        const v = JSON.parse(this.state.json) as JsonObject;
        const m = typeof v._ === 'string' ? this.schema.method(v._) : undefined;
        if (m) return void (await this.selectMethod(m.name, v));
      } catch {
        /* fall through */
      }
    }
    if (this.state.method) await this.selectMethod(this.state.method);
  }

  setDcs(nodes: IpcDcNode[]): void {
    const ids = nodes.filter((n) => !n.endpoints.every((e) => e.cdn) || n.endpoints.length === 0).map((n) => n.dcId);
    this.dcSelect.setOptions(
      [{ value: '', label: 'home DC' }, ...ids.map((d) => ({ value: String(d), label: `DC ${d}` }))],
      this.state.dcId ? String(this.state.dcId) : '',
    );
  }

  private renderList(): void {
    const q = this.search.value.trim().toLowerCase();
    const words = q.split(/\s+/).filter(Boolean);
    let ms = this.schema.methods.filter((m) => words.every((w) => m.name.toLowerCase().includes(w)));
    if (q) ms = ms.sort((a, b) => Number(!a.name.toLowerCase().startsWith(q)) - Number(!b.name.toLowerCase().startsWith(q)) || a.name.localeCompare(b.name));
    this.listInfo.textContent = `${ms.length} of ${this.schema.methods.length} methods (layer ${this.schema.layer})`;
    this.list.replaceChildren(
      ...ms.slice(0, MAX_LIST).map((m) => {
        const li = h(
          'li',
          { 'data-method': m.name, class: m.name === this.form.method?.name ? 'selected' : '', title: plainText(m.comment) },
          h('span', { class: 'm-name' }, m.name),
          h('span', { class: 'm-type muted' }, m.type),
        );
        li.addEventListener('click', () => void this.selectMethod(m.name));
        return li;
      }),
    );
    if (ms.length > MAX_LIST) this.list.append(h('li', { class: 'muted' }, `… ${ms.length - MAX_LIST} more: refine the search`));
  }

  async selectMethod(name: string, value?: JsonObject): Promise<void> {
    const m = this.schema.method(name);
    if (!m) return;
    await this.form.show(m, value);
    this.renderList();
    this.syncJson();
    await this.validate();
  }

  /** Focus from the host (`ui/focus` with a method). */
  async focusMethod(name: string): Promise<void> {
    await this.load();
    this.search.value = name;
    this.renderList();
    await this.selectMethod(name);
  }

  private formChanged(): void {
    this.syncJson();
    void this.validate();
  }

  private syncJson(): void {
    const text = JSON.stringify(this.form.value, null, 2);
    if (!this.jsonEditing) this.json.value = text;
    this.saveState({ method: this.form.method?.name, json: text });
  }

  private async jsonChanged(): Promise<void> {
    const text = this.json.value;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      this.showErrors([{ path: '', message: `JSON: ${errorText(e)}` }]);
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.showErrors([{ path: '', message: 'JSON: expected an object { "_": "method", … }' }]);
      return;
    }
    const name = (v as JsonObject)._;
    const m = typeof name === 'string' ? this.schema.method(name) : undefined;
    if (!m) {
      this.showErrors([{ path: '_', message: `_: unknown method ${JSON.stringify(name)}` }]);
      return;
    }
    await this.form.show(m, v as JsonObject);
    this.renderList();
    this.saveState({ method: m.name, json: text });
    await this.validate();
  }

  /** Validates against the schema data; loads missing constructor lists and repeats. */
  async validate(): Promise<FieldError[]> {
    let errors: FieldError[] = [];
    for (let round = 0; round < 8; round++) {
      const missing = new Set<string>();
      errors = this.schema.validateQuery(this.form.value, missing);
      if (!missing.size) break;
      await this.schema.ensure(missing);
    }
    this.showErrors(errors);
    return errors;
  }

  private showErrors(errors: FieldError[]): void {
    this.form.showErrors(errors);
    this.errors.replaceChildren(...errors.map((e) => h('li', { 'data-path': e.path }, e.message)));
    this.errors.classList.toggle('has-errors', errors.length > 0);
  }

  async run(query?: JsonObject, dcId?: number): Promise<void> {
    if (this.running) return;
    const q = query ?? this.form.value;
    if (!query) {
      const errors = await this.validate();
      if (errors.length) {
        this.result.replaceChildren(h('p', { class: 'error' }, `Not sent: ${errors.length} validation error${errors.length > 1 ? 's' : ''}.`));
        return;
      }
    }
    const target = query ? dcId : this.state.dcId;
    this.running = true;
    this.runButton.toggleAttribute('disabled', true);
    this.result.replaceChildren(h('p', { class: 'muted' }, `running ${String(q._)} on ${target ? `DC ${target}` : 'the home DC'}…`));
    let r: IpcQueryResult;
    try {
      r = await this.host.request('query/run', target ? { query: q, dcId: target } : { query: q });
    } catch (e) {
      r = { ok: false, code: 'HOST', message: errorText(e) };
    } finally {
      this.running = false;
      this.runButton.toggleAttribute('disabled', false);
    }
    this.addHistory({ query: JSON.parse(JSON.stringify(q)) as JsonObject, ...(target ? { dcId: target } : {}), time: Date.now(), ok: r.ok });
    this.showResult(r);
  }

  private showResult(r: IpcQueryResult): void {
    if (!r.ok) {
      this.result.replaceChildren(
        h(
          'div',
          { class: 'result-head error', 'data-testid': 'result-error' },
          `${r.code}: ${r.message}${r.path ? ` (at ${r.path}, expected ${r.expected ?? '?'})` : ''}${r.dcId ? ` — DC ${r.dcId}` : ''}`,
        ),
      );
      if (r.code === 'VALIDATION' && r.path) this.form.showErrors([{ path: r.path, message: `${r.path}: expected ${r.expected ?? '?'} (host)` }]);
      return;
    }
    const files = findFiles(r.result);
    const dl = (f: FoundFile) =>
      button(`Download from DC ${f.dcId}`, () => void this.download(f), {
        appearance: 'secondary',
        attrs: { 'data-download-dc': String(f.dcId), 'data-path': f.path },
      });
    this.result.replaceChildren(
      ...kids(
        h('div', { class: 'result-head ok' }, `OK on DC ${r.dcId} in ${r.durationMs} ms${r.traceId !== undefined ? ` (trace #${r.traceId})` : ''}`),
        files.length
          ? h(
              'div',
              { class: 'files', 'data-testid': 'result-files' },
              h('h4', {}, `Files in this result (${files.length})`),
              h(
                'ul',
                {},
                ...files.map((f) =>
                  h('li', { 'data-path': f.path }, h('span', {}, `${f.kind}: ${f.label} `), h('span', { class: 'muted small' }, f.path, ' '), dl(f)),
                ),
              ),
            )
          : null,
        jsonTree(r.result as JsonValue, {
          open: 2,
          decorate: (o, path) => {
            const f = fileOf(o, path);
            return f ? dl(f) : null;
          },
        }),
      ),
    );
  }

  private downloadStatus = h('span', { class: 'muted small' });
  private async download(f: FoundFile): Promise<void> {
    const params = { location: f.location, dcId: f.dcId, ...(f.size !== undefined ? { size: f.size } : {}), ...(f.name ? { name: f.name } : {}) };
    try {
      const r = await this.host.request('download/start', params);
      this.downloadStatus.textContent = `download ${r.downloadId} started`;
    } catch (e) {
      this.downloadStatus.textContent = `download failed: ${errorText(e)}`;
    }
    if (!this.downloadStatus.isConnected) this.result.prepend(this.downloadStatus);
  }

  private addHistory(item: IpcQueryHistoryItem): void {
    const key = JSON.stringify([item.query, item.dcId]);
    const rest = this.state.history.filter((x) => JSON.stringify([x.query, x.dcId]) !== key);
    this.saveState({ history: [item, ...rest].slice(0, MAX_HISTORY) });
    this.renderHistory();
  }

  private renderHistory(): void {
    if (!this.state.history.length) {
      this.historyEl.replaceChildren(h('li', { class: 'muted' }, 'Queries you run appear here.'));
      return;
    }
    this.historyEl.replaceChildren(
      ...this.state.history.map((it) => {
        const text = JSON.stringify(it.query);
        return h(
          'li',
          { class: it.ok === false ? 'failed' : '' },
          h('span', { class: 'muted small' }, `${fmtTime(it.time)} ${it.dcId ? `DC ${it.dcId}` : 'home'} `),
          h('code', { title: text }, text.length > 120 ? `${text.slice(0, 120)}…` : text),
          ' ',
          button('Edit', () => void this.selectMethod(String(it.query._), JSON.parse(text) as JsonObject), { appearance: 'secondary' }),
          button('Run again', () => void this.run(JSON.parse(text) as JsonObject, it.dcId), { appearance: 'secondary', attrs: { 'data-rerun': '' } }),
        );
      }),
    );
  }

  private saveState(patch: Partial<QueryState>): void {
    this.state = { ...this.state, ...patch };
    if ('dcId' in patch && patch.dcId === undefined) delete this.state.dcId;
    this.onState(this.state);
  }
}
