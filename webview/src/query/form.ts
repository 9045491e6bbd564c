// The query form generated from the schema: scalars as text fields, Bool / flags as checkboxes, optional
// (flags.N?) fields may stay empty, vectors with add/remove, nested constructors with a type picker listing the
// constructors of the expected type. The JSON value is the single source of truth; the form edits it in place.
import type { IpcTlEntry, IpcTlParam, JsonObject, JsonValue } from '../../../src/ipc/index';
import { h, plainText } from '../dom';
import { button, checkbox, dropdown, textArea, textField } from '../toolkit/index';
import { defaultFor, isOptional, newObject, ordered, SchemaCache, shapeOf, type FieldError } from './schema';

export type Path = (string | number)[];

export function pathKey(p: Path): string {
  let s = '';
  for (const seg of p) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

type Container = JsonObject | JsonValue[];

function parentOf(root: JsonObject, path: Path): { parent: Container; key: string | number } {
  let cur: JsonValue = root;
  for (let i = 0; i < path.length - 1; i++) cur = (cur as Record<string | number, JsonValue>)[path[i] as never] as JsonValue;
  return { parent: cur as Container, key: path[path.length - 1]! };
}

function scalarText(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export class QueryForm {
  readonly el = h('div', { class: 'query-form', 'data-testid': 'query-form' });
  private entry: IpcTlEntry | undefined;
  value: JsonObject = { _: '' };

  constructor(
    private readonly schema: SchemaCache,
    /** structural: the form was re-rendered (picker, vector, flag); otherwise a text edit. */
    private readonly onChange: (value: JsonObject) => void,
  ) {}

  get method(): IpcTlEntry | undefined {
    return this.entry;
  }

  /** Shows a method with a value (a new object with defaults when absent). */
  async show(entry: IpcTlEntry, value?: JsonObject): Promise<void> {
    this.entry = entry;
    this.value = value ? ordered(entry, value) : newObject(entry);
    await this.loadTypes();
    this.render();
  }

  /** Loads the constructors the current value needs (pickers at every level). */
  private async loadTypes(): Promise<void> {
    if (!this.entry) return;
    for (let round = 0; round < 8; round++) {
      const need = new Set<string>(SchemaCache.objectTypesOf(this.entry));
      const missing = new Set<string>();
      this.schema.validateQuery(this.value, missing);
      for (const t of missing) need.add(t);
      const todo = [...need].filter((t) => !this.schema.constructors(t));
      if (!todo.length) return;
      await this.schema.ensure(todo);
    }
  }

  render(): void {
    const entry = this.entry;
    if (!entry) {
      this.el.replaceChildren(h('p', { class: 'muted' }, 'Pick a method on the left.'));
      return;
    }
    const head = h(
      'div',
      { class: 'form-head' },
      h('h3', {}, entry.name, h('span', { class: 'muted' }, ` → ${entry.type}`)),
      entry.comment ? h('p', { class: 'muted' }, plainText(entry.comment)) : null,
      entry.throws?.length ? h('p', { class: 'muted small' }, `Errors: ${entry.throws.map((t) => `${t.code} ${t.name}`).join(', ')}`) : null,
    );
    this.el.replaceChildren(head, this.fields(entry, this.value, []));
  }

  private fields(entry: IpcTlEntry, obj: JsonObject, path: Path): HTMLElement {
    const box = h('div', { class: 'fields' });
    const visible = entry.params.filter((p) => p.type !== '#');
    if (!visible.length) box.append(h('p', { class: 'muted small' }, 'no parameters'));
    for (const p of visible) box.append(this.field(p, obj, [...path, p.name]));
    return box;
  }

  private field(p: IpcTlParam, obj: JsonObject, path: Path): HTMLElement {
    const key = pathKey(path);
    const optional = isOptional(p);
    const label = h(
      'label',
      { class: 'field-label', title: plainText(p.comment) },
      h('span', { class: 'field-name' }, p.name),
      h('span', { class: 'field-type' }, optional ? `${p.flag!.field}.${p.flag!.bit}?${p.type}` : p.type),
    );
    const row = h('div', { class: `field${optional ? ' optional' : ''}`, 'data-field-path': key });
    row.append(label, this.control(p.type, obj[p.name], path, optional), h('div', { class: 'field-error', 'data-error-for': key }));
    if (p.comment) row.append(h('div', { class: 'field-comment muted small' }, plainText(p.comment)));
    return row;
  }

  /** A control for a value of `type` at `path` (the value may be absent). */
  private control(type: string, v: JsonValue | undefined, path: Path, optional: boolean): HTMLElement {
    const s = shapeOf(type);
    const key = pathKey(path);
    switch (s.kind) {
      case 'true':
        return checkbox('set', v === true, (c) => (c ? this.set(path, true, true) : this.remove(path, true)), { 'data-control': key }).el;
      case 'bool':
        if (!optional) return checkbox('true', v === true, (c) => this.set(path, c, false), { 'data-control': key }).el;
        return dropdown(
          [
            { value: '', label: '(absent)' },
            { value: 'true', label: 'true' },
            { value: 'false', label: 'false' },
          ],
          v === undefined ? '' : String(v),
          (x) => (x === '' ? this.remove(path, false) : this.set(path, x === 'true', false)),
          { 'data-control': key },
        ).el;
      case 'scalar':
        return textField({
          value: scalarText(v),
          placeholder: optional ? `${s.name} (optional)` : s.name,
          attrs: { 'data-control': key },
          onInput: (text) => {
            if (text === '' && optional) return this.remove(path, false);
            this.set(path, this.parseScalar(s.name, text), false);
          },
        }).el;
      case 'any':
        return textArea({
          value: v === undefined ? '' : JSON.stringify(v),
          rows: 3,
          monospace: true,
          placeholder: `JSON of ${type}`,
          attrs: { 'data-control': key },
          onInput: (text) => {
            if (text.trim() === '') return optional ? this.remove(path, false) : undefined;
            try {
              this.set(path, JSON.parse(text) as JsonValue, false);
            } catch {
              this.set(path, text, false);
            }
          },
        }).el;
      case 'vector':
        return this.vector(s.of, v, path, optional);
      case 'object':
        return this.picker(s.type, v, path, optional);
      case 'count':
        return h('span');
    }
  }

  private parseScalar(name: string, text: string): JsonValue {
    const t = text.trim();
    if (name === 'int') return /^-?\d+$/.test(t) ? Number(t) : text;
    if (name === 'double') return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    if (name === 'long') return t;
    return text;
  }

  private vector(of: string, v: JsonValue | undefined, path: Path, optional: boolean): HTMLElement {
    const key = pathKey(path);
    const box = h('div', { class: 'vector', 'data-control': key });
    if (!Array.isArray(v)) {
      box.append(
        h('span', { class: 'muted small' }, optional ? '(absent) ' : ''),
        button('+ add', () => this.set(path, [this.newItem(of)], true), { appearance: 'secondary', attrs: { 'data-add': key } }),
      );
      return box;
    }
    v.forEach((item, i) => {
      const itemPath = [...path, i];
      const ik = pathKey(itemPath);
      box.append(
        h(
          'div',
          { class: 'vector-item', 'data-field-path': ik },
          h('span', { class: 'vector-index' }, `[${i}]`),
          this.control(of, item, itemPath, false),
          button(
            '−',
            () => {
              v.splice(i, 1);
              this.changed(true);
            },
            { appearance: 'icon', title: `remove ${ik}`, attrs: { 'data-remove': ik } },
          ),
          h('div', { class: 'field-error', 'data-error-for': ik }),
        ),
      );
    });
    box.append(
      h(
        'div',
        { class: 'vector-actions' },
        button(
          '+ add',
          () => {
            v.push(this.newItem(of));
            this.changed(true);
          },
          { appearance: 'secondary', attrs: { 'data-add': key } },
        ),
        optional ? button('remove field', () => this.remove(path, true), { appearance: 'secondary' }) : null,
      ),
    );
    return box;
  }

  private newItem(of: string): JsonValue {
    const d = defaultFor(of);
    if (d !== undefined) return d;
    const s = shapeOf(of);
    if (s.kind === 'object') {
      const list = this.schema.constructors(s.type);
      if (list?.length === 1) return newObject(list[0]!);
    }
    return null;
  }

  private picker(type: string, v: JsonValue | undefined, path: Path, optional: boolean): HTMLElement {
    const key = pathKey(path);
    const list = this.schema.constructors(type);
    const box = h('div', { class: 'picker' });
    if (!list) {
      box.append(h('span', { class: 'muted' }, `loading constructors of ${type}…`));
      void this.schema.ensure([type]).then(() => this.render());
      return box;
    }
    const current = v && typeof v === 'object' && !Array.isArray(v) && typeof (v as JsonObject)._ === 'string' ? ((v as JsonObject)._ as string) : '';
    const options = [{ value: '', label: optional ? '(absent)' : `— choose ${type} —` }, ...list.map((c) => ({ value: c.name, label: c.name }))];
    if (current && !list.some((c) => c.name === current)) options.push({ value: current, label: `${current} (not a ${type})` });
    const dd = dropdown(
      options,
      current,
      (name) => {
        if (!name) return optional ? this.remove(path, true) : this.set(path, null, true);
        const c = list.find((x) => x.name === name);
        if (!c) return;
        const obj = newObject(c);
        void this.schema.ensure(SchemaCache.objectTypesOf(c)).then(() => this.set(path, obj, true));
      },
      { 'data-picker': key, 'data-type': type },
    );
    box.append(dd.el);
    const c = current ? list.find((x) => x.name === current) : undefined;
    if (c && v && typeof v === 'object' && !Array.isArray(v)) {
      if (c.comment) box.append(h('div', { class: 'muted small' }, plainText(c.comment)));
      if (c.params.some((p) => p.type !== '#')) box.append(h('div', { class: 'nested' }, this.fields(c, v as JsonObject, path)));
    }
    return box;
  }

  private set(path: Path, v: JsonValue, structural: boolean): void {
    const { parent, key } = parentOf(this.value, path);
    (parent as Record<string | number, JsonValue>)[key as never] = v as never;
    if (!Array.isArray(parent)) this.reorder(parent, path.slice(0, -1));
    this.changed(structural);
  }

  private remove(path: Path, structural: boolean): void {
    const { parent, key } = parentOf(this.value, path);
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
    this.changed(structural);
  }

  /** Keeps an object's keys in schema order (`_` first). */
  private reorder(obj: JsonObject, path: Path): void {
    const name = obj._;
    if (typeof name !== 'string') return;
    const entry = path.length === 0 ? this.entry : this.schema.constructorByName(name);
    if (!entry) return;
    const o = ordered(entry, obj);
    for (const k of Object.keys(obj)) delete obj[k];
    Object.assign(obj, o);
  }

  private changed(structural: boolean): void {
    if (structural) this.render();
    this.onChange(this.value);
  }

  /** Marks fields with errors (message next to the field when it has a row). Returns the errors without a row. */
  showErrors(errors: FieldError[]): FieldError[] {
    for (const el of this.el.querySelectorAll<HTMLElement>('.field-error')) el.textContent = '';
    for (const el of this.el.querySelectorAll<HTMLElement>('.invalid')) el.classList.remove('invalid');
    const orphans: FieldError[] = [];
    for (const e of errors) {
      const p = e.path.replace(/\._$/, '');
      const slot = [...this.el.querySelectorAll<HTMLElement>('.field-error')].find((x) => x.dataset.errorFor === p);
      if (slot) {
        slot.textContent = e.message;
        slot.parentElement?.classList.add('invalid');
      } else orphans.push(e);
    }
    return orphans;
  }
}
