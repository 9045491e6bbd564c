// Downloads: progress, speed, cancel, open the saved file (download/changed notifications from the host).
import type { IpcDownload } from '../../src/ipc/index';
import { fmtBytes, h } from './dom';
import type { Host } from './host';
import { button } from './toolkit/index';

export class DownloadsView {
  readonly el: HTMLElement;
  private readonly items = new Map<string, IpcDownload>();
  private readonly list = h('div', { class: 'downloads-list', 'data-testid': 'downloads' });
  onCountChange: ((running: number) => void) | undefined;

  constructor(private readonly host: Host) {
    this.el = h('section', { class: 'downloads' }, this.list);
    this.render();
  }

  update(d: IpcDownload): void {
    this.items.set(d.downloadId, d);
    this.render();
  }

  private render(): void {
    const all = [...this.items.values()].sort((a, b) => b.startedAt - a.startedAt);
    this.onCountChange?.(all.filter((d) => d.state === 'running').length);
    if (!all.length) {
      this.list.replaceChildren(h('p', { class: 'muted' }, 'No downloads yet. Run a query that returns a document or photo and press "Download from DC n".'));
      return;
    }
    this.list.replaceChildren(...all.map((d) => this.row(d)));
  }

  private row(d: IpcDownload): HTMLElement {
    const pct = d.total ? Math.min(100, (d.bytes / d.total) * 100) : undefined;
    const progress = h('progress', { max: d.total ?? 1, value: d.total ? d.bytes : d.state === 'done' ? 1 : 0 });
    const text =
      d.state === 'running'
        ? `${fmtBytes(d.bytes)}${d.total ? ` of ${fmtBytes(d.total)} (${pct!.toFixed(0)}%)` : ''} · ${fmtBytes(Math.round(d.speed))}/s`
        : d.state === 'done'
          ? `${fmtBytes(d.bytes)} · saved${d.path ? ` to ${d.path}` : ''}`
          : d.state === 'failed'
            ? `failed: ${d.error ?? 'unknown error'}`
            : 'cancelled';
    return h(
      'div',
      { class: `download state-${d.state}`, 'data-download-id': d.downloadId, 'data-state': d.state },
      h(
        'div',
        { class: 'download-head' },
        h('strong', {}, d.name),
        h(
          'span',
          { class: 'muted' },
          ` DC ${d.dcId}${d.dcPath && d.dcPath.length > 1 ? ` (via ${d.dcPath.map((x) => `DC${x}`).join(' → ')})` : ''}${d.cdn ? ' · CDN' : ''}`,
        ),
      ),
      progress,
      h('div', { class: 'download-info small' }, text),
      h(
        'div',
        { class: 'download-actions' },
        d.state === 'running'
          ? button('Cancel', () => this.host.command('download/cancel', { downloadId: d.downloadId }), {
              appearance: 'secondary',
              attrs: { 'data-action': 'cancel' },
            })
          : null,
        d.state === 'done'
          ? button('Open', () => this.host.command('download/open', { downloadId: d.downloadId }), {
              appearance: 'secondary',
              attrs: { 'data-action': 'open' },
            })
          : null,
      ),
    );
  }
}
