// The DC Lab panel app: topology, trace, query runner, downloads, faults. Talks to the extension host only through the
// typed IPC of src/ipc (host.ts); keeps its state with acquireVsCodeApi().getState/setState.
import './styles.css';
import { edgesFromTrace, redactPanelState, type IpcTab, type IpcTopology, type PanelState } from '../../src/ipc/index';
import { errorText, h } from './dom';
import { DownloadsView } from './downloads';
import { FaultsView } from './faults';
import { Host } from './host';
import { QueryView } from './query/view';
import { registerToolkit, tabs } from './toolkit/index';
import { TopologyView } from './topology';
import { TraceView } from './trace';

registerToolkit();

const host = new Host();
let state: PanelState = host.getState() ?? { version: 1, tab: 'topology' };
let saveTimer: ReturnType<typeof setTimeout> | undefined;
function saveState(patch: Partial<PanelState>): void {
  state = { ...state, ...patch };
  // VS Code writes a webview's state to disk: what is typed stays in memory, what is kept is redacted
  const kept = redactPanelState(state);
  host.setState(kept);
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => host.command('state/changed', { state: kept }), 500);
}

const topology = new TopologyView();
const trace = new TraceView(host, state.traceFilter ?? {}, (f) => saveState({ traceFilter: f }));
const query = new QueryView(host, { ...state.query, history: state.history ?? [] }, (q) => {
  const { history, ...rest } = q;
  saveState({ query: rest, history });
});
const downloads = new DownloadsView(host);
const faults = new FaultsView(host);

const statusLine = h('div', { class: 'status-line', 'data-testid': 'status' }, 'connecting to the extension host…');
const tabBar = tabs(
  [
    { id: 'topology', label: 'Topology', content: topology.el },
    { id: 'trace', label: 'Trace', content: trace.el },
    { id: 'query', label: 'Query', content: query.el },
    { id: 'downloads', label: 'Downloads', content: downloads.el },
    { id: 'faults', label: 'Faults', content: faults.el },
  ],
  state.tab,
  (id) => showTab(id as IpcTab, false),
);

function showTab(tab: IpcTab, select: boolean): void {
  if (select) tabBar.select(tab);
  saveState({ tab });
  if (tab === 'query') void query.load();
  if (tab === 'trace') trace.render();
  if (tab === 'faults') faults.shown();
}

const app = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));
app.replaceChildren(statusLine, tabBar.el);

let currentTopology: IpcTopology | undefined;
function setTopology(t: IpcTopology): void {
  // The host may leave edges empty; the trace seen here then provides them.
  currentTopology = t;
  topology.update(t);
  query.setDcs(t.nodes);
  faults.setTopology(t);
  if (tabBar.active === 'faults') faults.shown();
  statusLine.textContent = `${t.profile} · ${t.state}${t.homeDc !== undefined ? ` · home DC ${t.homeDc}` : ''}`;
}

topology.onEdgeClick = (id) => {
  showTab('trace', true);
  trace.select(id, true);
};

host.on('init', (p) => {
  setTopology(p.topology);
  void loadTrace();
  if (state.tab === 'query') void query.load();
});
host.on('topology/changed', (t) => setTopology(t));
host.on('trace/events', (p) => {
  trace.append(p.events);
  if (currentTopology && currentTopology.edges.length === 0 && p.events.some((e) => e.kind === 'redirect' || e.kind === 'transfer')) {
    topology.update({ ...currentTopology, edges: edgesFromTrace(trace.allEvents()) });
  }
});
host.on('trace/reset', (p) => trace.reset(p.events));
host.on('download/changed', (d) => downloads.update(d));
host.on('ui/focus', (p) => {
  showTab(p.tab, true);
  if (p.tab === 'query' && p.method) void query.focusMethod(p.method);
});
host.on('trace/focus', (p) => {
  showTab('trace', true);
  trace.focusEvent(p.id);
});

async function loadTrace(): Promise<void> {
  try {
    // In pages, so a 100,000-event trace arrives as a few moderate messages and the panel stays responsive.
    const limit = 25_000;
    for (let page = 0; page < 1000; page++) {
      const r = await host.request('trace/get', { sinceId: trace.lastId(), limit });
      trace.append(r.events);
      if (r.events.length < limit || trace.lastId() >= r.lastId) break;
    }
  } catch (e) {
    host.log('warn', `trace/get: ${errorText(e)}`);
  }
}

window.addEventListener('error', (ev) => host.log('error', `webview: ${ev.message}`));
window.addEventListener('unhandledrejection', (ev) => host.log('error', `webview: ${errorText(ev.reason)}`));

showTab(state.tab, true);
host.ready();
