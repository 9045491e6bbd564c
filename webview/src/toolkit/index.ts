// The ONLY place that touches the component library (@vscode/webview-ui-toolkit 1.4.0, unmaintained upstream).
// The rest of the app uses these factories and never names a `vscode-*` tag, so a move to @vscode-elements/elements
// (or plain elements) changes this folder only.
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTag,
  vsCodeTextArea,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeTag(),
    vsCodeTextArea(),
    vsCodeTextField(),
  );
}

type Attrs = Record<string, string | undefined>;
function make(tag: string, attrs: Attrs = {}, text?: string): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary' | 'icon';
  title?: string;
  disabled?: boolean;
  attrs?: Attrs;
}
export function button(label: string, onClick: (ev: Event) => void, opts: ButtonOptions = {}): HTMLElement {
  const el = make('vscode-button', { appearance: opts.appearance ?? 'primary', title: opts.title, 'aria-label': opts.title ?? label, ...opts.attrs }, label);
  if (opts.disabled) el.setAttribute('disabled', '');
  el.addEventListener('click', (ev) => {
    if (!el.hasAttribute('disabled')) onClick(ev);
  });
  return el;
}
export function setDisabled(el: HTMLElement, disabled: boolean): void {
  el.toggleAttribute('disabled', disabled);
}

export interface ValueControl {
  el: HTMLElement;
  get value(): string;
  set value(v: string);
  focus(): void;
}

export interface TextOptions {
  value?: string;
  placeholder?: string;
  label?: string;
  attrs?: Attrs;
  /** Fires on every keystroke. */
  onInput?: (value: string) => void;
  onEnter?: (value: string) => void;
}
function valueControl(el: HTMLElement & { value?: string }, opts: TextOptions): ValueControl {
  if (opts.label) el.textContent = opts.label;
  if (opts.placeholder) el.setAttribute('placeholder', opts.placeholder);
  if (opts.value !== undefined) {
    el.setAttribute('value', opts.value);
    el.value = opts.value;
  }
  const ctl: ValueControl = {
    el,
    get value() {
      return String(el.value ?? '');
    },
    set value(v: string) {
      el.value = v;
    },
    focus() {
      el.focus();
    },
  };
  if (opts.onInput) el.addEventListener('input', () => opts.onInput!(ctl.value));
  if (opts.onEnter) el.addEventListener('keydown', (ev) => (ev as KeyboardEvent).key === 'Enter' && opts.onEnter!(ctl.value));
  return ctl;
}
export function textField(opts: TextOptions = {}): ValueControl {
  return valueControl(make('vscode-text-field', opts.attrs), opts);
}
export function textArea(opts: TextOptions & { rows?: number; monospace?: boolean } = {}): ValueControl {
  const el = make('vscode-text-area', { ...opts.attrs, rows: String(opts.rows ?? 12), resize: 'vertical' });
  if (opts.monospace) el.classList.add('tk-mono');
  return valueControl(el, opts);
}

export interface CheckControl {
  el: HTMLElement;
  get checked(): boolean;
  set checked(v: boolean);
}
export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, attrs: Attrs = {}): CheckControl {
  const el = make('vscode-checkbox', attrs, label) as HTMLElement & { checked: boolean };
  if (checked) el.setAttribute('checked', '');
  el.checked = checked;
  el.addEventListener('change', () => onChange(!!el.checked));
  return {
    el,
    get checked() {
      return !!el.checked;
    },
    set checked(v: boolean) {
      el.checked = v;
    },
  };
}

export interface Option {
  value: string;
  label: string;
}
export interface SelectControl {
  el: HTMLElement;
  get value(): string;
  set value(v: string);
  setOptions(options: Option[], value?: string): void;
}
export function dropdown(options: Option[], value: string, onChange: (value: string) => void, attrs: Attrs = {}): SelectControl {
  const el = make('vscode-dropdown', { position: 'below', ...attrs }) as HTMLElement & { value: string };
  const ctl: SelectControl = {
    el,
    get value() {
      return String(el.value ?? '');
    },
    set value(v: string) {
      el.value = v;
    },
    setOptions(opts: Option[], v?: string) {
      const keep = v ?? ctl.value;
      el.replaceChildren(
        ...opts.map((o) => {
          const opt = make('vscode-option', { value: o.value, 'data-value': o.value }, o.label);
          if (o.value === keep) opt.setAttribute('selected', '');
          return opt;
        }),
      );
      queueMicrotask(() => (el.value = keep));
    },
  };
  ctl.setOptions(options, value);
  el.addEventListener('change', () => onChange(ctl.value));
  return ctl;
}

export function badge(text: string, attrs: Attrs = {}): HTMLElement {
  return make('vscode-badge', attrs, text);
}
export function tag(text: string, attrs: Attrs = {}): HTMLElement {
  return make('vscode-tag', attrs, text);
}
export function divider(): HTMLElement {
  return make('vscode-divider', { role: 'separator' });
}
export function progressRing(): HTMLElement {
  return make('vscode-progress-ring');
}

export interface Tab {
  id: string;
  label: string;
  content: HTMLElement;
}
export interface TabsControl {
  el: HTMLElement;
  select(id: string): void;
  get active(): string;
}
/** Tab strip + views. `onChange` fires when the user picks a tab. */
export function tabs(items: Tab[], active: string, onChange: (id: string) => void): TabsControl {
  const el = make('vscode-panels', { activeid: `tab-${active}`, 'aria-label': 'DC Lab' }) as HTMLElement & { activeid: string };
  for (const t of items) el.append(make('vscode-panel-tab', { id: `tab-${t.id}`, 'data-tab': t.id }, t.label));
  for (const t of items) {
    const view = make('vscode-panel-view', { id: `view-${t.id}`, 'data-view': t.id });
    view.append(t.content);
    el.append(view);
  }
  let current = active;
  el.addEventListener('change', (ev) => {
    if (ev.target !== el) return;
    const id = String(el.activeid ?? '').replace(/^tab-/, '');
    if (id && id !== current) {
      current = id;
      onChange(id);
    }
  });
  return {
    el,
    select(id: string) {
      current = id;
      el.setAttribute('activeid', `tab-${id}`);
      el.activeid = `tab-${id}`;
    },
    get active() {
      return current;
    },
  };
}
