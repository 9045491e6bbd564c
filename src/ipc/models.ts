// Data shapes carried between the extension host and the webview. Plain JSON only (no bigint, no Uint8Array):
// TL values use the JSON mapping of src/tl/json.ts (long = decimal string, bytes = base64, int128/256 = hex).
// This module imports nothing of ours: the trace and topology types mirror src/trace and src/dc structurally.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------------------------------
// Trace (mirror of src/trace/event.ts TraceEvent; a TraceEvent is assignable to IpcTraceEvent as is)

export type IpcTraceKind =
  | 'call'
  | 'result'
  | 'error'
  | 'redirect'
  | 'key'
  | 'transfer'
  | 'state'
  | 'file'
  | 'flood-wait'
  | 'wire-in'
  | 'wire-out';

export const IPC_TRACE_KINDS: readonly IpcTraceKind[] = ['call', 'result', 'error', 'redirect', 'key', 'transfer', 'state', 'file', 'flood-wait', 'wire-in', 'wire-out'];

export interface IpcTraceEvent {
  id: number;
  time: number;
  kind: IpcTraceKind;
  name: string;
  dcId?: number;
  connId?: string;
  /** Decimal msg_id. */
  msgId?: string;
  parentId?: number;
  targetDc?: number;
  roundTrips?: number;
  durationMs?: number;
  waitSeconds?: number;
  from?: string;
  to?: string;
  /** Already redacted by src/trace (TraceStore.add redacts). */
  payload?: JsonValue;
  /** Wire events: "encrypted 120B seqno=3 container=… req=… acked" (TraceStore.addWire). */
  note?: string;
}

/** Same as src/trace's TraceExport. */
export interface IpcTraceExport {
  format: 'dclab-trace';
  version: 1;
  exportedAt: number;
  events: IpcTraceEvent[];
}

// ---------------------------------------------------------------------------------------------------------------
// Topology (from src/dc Topology + DcClient.status())

/** Mirror of src/dc DcEndpoint (secret bytes are never sent, only hasSecret). */
export interface IpcDcEndpoint {
  host: string;
  port: number;
  ipv6: boolean;
  mediaOnly: boolean;
  tcpoOnly: boolean;
  cdn: boolean;
  static: boolean;
  thisPortOnly: boolean;
  hasSecret: boolean;
}

export type IpcDcState = 'no-key' | 'key' | 'authorized' | 'home';

export interface IpcDcNode {
  dcId: number;
  endpoints: IpcDcEndpoint[];
  /** Derived with dcNodeState(): home > authorized > key > no-key. */
  state: IpcDcState;
  hasKey: boolean;
  authorized: boolean;
  home: boolean;
  connected: boolean;
  /** Session actor state ('ready', 'connecting', … or 'none'). */
  session?: string;
  latencyMs?: number;
}

export type IpcEdgeKind = 'redirect' | 'transfer' | 'file-migrate' | 'cdn';

/** A redirect or transfer that happened (from trace events with dcId → targetDc). */
export interface IpcDcEdge {
  kind: IpcEdgeKind;
  from: number;
  to: number;
  /** e.g. 'PHONE_MIGRATE_4', 'transfer', 'FILE_MIGRATE_3', 'fileCdnRedirect'. */
  label: string;
  count: number;
  /** Trace id of the last event of this edge (the webview can jump to it). */
  lastEventId?: number;
}

export interface IpcTopology {
  profile: string;
  /** Client lifecycle state ('authorized', 'unauthorized', 'awaitingCode', … or 'stopped'). */
  state: string;
  homeDc?: number;
  thisDc?: number;
  testMode?: boolean;
  /** help.getConfig date (s); absent before the first config. */
  configDate?: number;
  nodes: IpcDcNode[];
  edges: IpcDcEdge[];
}

// ---------------------------------------------------------------------------------------------------------------
// Schema (compact form of src/tl TlEntry; a TlEntry maps to it by picking fields)

export interface IpcTlParam {
  name: string;
  /** Written type without the flag prefix: 'int', 'Vector<long>', 'InputPeer', 'true', '#', '!X'. */
  type: string;
  flag?: { field: string; bit: number };
  comment?: string;
}

export interface IpcTlEntry {
  name: string;
  params: IpcTlParam[];
  /** Methods: the result type. Constructors: the type they belong to. */
  type: string;
  comment?: string;
  throws?: { code: number; name: string; comment?: string }[];
}

export interface IpcSchemaMethods {
  layer: number;
  methods: IpcTlEntry[];
}

// ---------------------------------------------------------------------------------------------------------------
// Queries

export interface IpcQueryRun {
  /** The full call as JSON: { _: 'messages.getHistory', peer: { _: 'inputPeerSelf' }, … }. */
  query: JsonObject;
  /** Absent = home DC. */
  dcId?: number;
}

export type IpcQueryResult =
  | { ok: true; result: JsonValue; dcId: number; durationMs: number; traceId?: number }
  | {
      ok: false;
      /** 'VALIDATION' (tlFromJson refused the JSON), an RPC error text ('PEER_ID_INVALID'), a LifecycleError code. */
      code: string;
      message: string;
      /** VALIDATION: the field path and expected type of TlJsonError. */
      path?: string;
      expected?: string;
      dcId?: number;
      durationMs?: number;
      traceId?: number;
    };

// ---------------------------------------------------------------------------------------------------------------
// Downloads

export interface IpcDownloadStart {
  /** InputFileLocation as JSON (inputDocumentFileLocation / inputPhotoFileLocation …). */
  location: JsonObject;
  /** The file's dc_id. */
  dcId: number;
  size?: number;
  /** Suggested file name. */
  name?: string;
}

export type IpcDownloadState = 'running' | 'done' | 'failed' | 'cancelled';

export interface IpcDownload {
  downloadId: string;
  name: string;
  dcId: number;
  state: IpcDownloadState;
  bytes: number;
  total?: number;
  /** Bytes per second, averaged by the host. */
  speed: number;
  startedAt: number;
  /** Saved file (state 'done'). */
  path?: string;
  error?: string;
  cdn?: boolean;
  dcPath?: number[];
}

// ---------------------------------------------------------------------------------------------------------------
// Panel state (acquireVsCodeApi().setState; the host's WebviewPanelSerializer receives it)

export type IpcTab = 'topology' | 'trace' | 'query' | 'downloads';
export const IPC_TABS: readonly IpcTab[] = ['topology', 'trace', 'query', 'downloads'];

export interface IpcQueryHistoryItem {
  query: JsonObject;
  dcId?: number;
  time: number;
  ok?: boolean;
}

export interface PanelState {
  version: 1;
  tab: IpcTab;
  traceFilter?: { dcId?: number; text?: string; errorsOnly?: boolean };
  query?: { method?: string; json?: string; dcId?: number };
  history?: IpcQueryHistoryItem[];
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers both sides may use

export function dcNodeState(n: { hasKey: boolean; authorized: boolean; home: boolean }): IpcDcState {
  return n.home ? 'home' : n.authorized ? 'authorized' : n.hasKey ? 'key' : 'no-key';
}

/** Redirect and transfer edges from trace events (kind redirect/transfer with dcId and targetDc). */
export function edgesFromTrace(events: Iterable<IpcTraceEvent>): IpcDcEdge[] {
  const byKey = new Map<string, IpcDcEdge>();
  for (const e of events) {
    if ((e.kind !== 'redirect' && e.kind !== 'transfer') || e.dcId === undefined || e.targetDc === undefined) continue;
    const kind: IpcEdgeKind =
      e.kind === 'transfer' ? 'transfer' : e.name.startsWith('FILE_MIGRATE') ? 'file-migrate' : /cdn/i.test(e.name) ? 'cdn' : 'redirect';
    const key = `${kind}:${e.dcId}:${e.targetDc}:${e.name}`;
    const edge = byKey.get(key);
    if (edge) {
      edge.count++;
      edge.lastEventId = e.id;
    } else byKey.set(key, { kind, from: e.dcId, to: e.targetDc, label: e.name, count: 1, lastEventId: e.id });
  }
  return [...byKey.values()];
}
