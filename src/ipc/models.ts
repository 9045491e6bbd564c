// Data shapes carried between the extension host and the webview. Plain JSON only (no bigint, no Uint8Array):
// TL values use the JSON mapping of src/tl/json.ts (long = decimal string, bytes = base64, int128/256 = hex).
// This module imports nothing of ours: the trace and topology types mirror src/trace and src/dc structurally.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------------------------------
// Trace (mirror of src/trace/event.ts TraceEvent; a TraceEvent is assignable to IpcTraceEvent as is)

export type IpcTraceKind = 'call' | 'result' | 'error' | 'redirect' | 'key' | 'transfer' | 'state' | 'file' | 'flood-wait' | 'wire-in' | 'wire-out';

export const IPC_TRACE_KINDS: readonly IpcTraceKind[] = [
  'call',
  'result',
  'error',
  'redirect',
  'key',
  'transfer',
  'state',
  'file',
  'flood-wait',
  'wire-in',
  'wire-out',
];

/** Mirror of src/trace TraceWireKind. */
export type IpcTraceWireKind = 'plain' | 'encrypted' | 'service' | 'transport-error' | 'check-failed' | 'key';

/** Mirror of src/trace TraceWire: a wire event's fields (msg_ids as decimal strings). */
export interface IpcTraceWire {
  kind: IpcTraceWireKind;
  /** Constructor or method name; for rpc_result `rpc_result:<result constructor>`. */
  ctor: string;
  /** Size of the message body (of the whole encrypted packet for containers and failed checks). */
  bytes: number;
  msgId?: string;
  seqno?: number;
  /** msg_id of the msg_container the message travelled in. */
  containerMsgId?: string;
  /** msg_id of the request this message answers. */
  reqMsgId?: string;
  /** msg_ids a msgs_ack acknowledges. */
  ackMsgIds?: string[];
  /** The other side acknowledged the message. */
  acked?: boolean;
}

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
  /** For people; wire events repeat their wire fields here ("encrypted 120B seqno=3 …"): programs read `wire`. */
  note?: string;
  /** Wire events: the message's wire fields (TraceStore.addWire). */
  wire?: IpcTraceWire;
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

/** One place the client connects to for a DC, in the order they are tried (mirror of src/dc DcEndpointChoice; its
 *  secret is never sent). */
export interface IpcConnectEndpoint {
  host: string;
  port: number;
  ipv6: boolean;
  obfuscated: boolean;
  /** From help.getConfig's dc_options, or the profile's own (bootstrap) address. */
  source: 'config' | 'profile';
  /** The DC's connection uses this one (or used it last, when it is not up). */
  inUse?: boolean;
}

/** Mirror of src/dc DcConnectionInfo: what a DC's connection is doing. */
export interface IpcDcConnection {
  state: 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';
  /** host:port in use (or last used), with " (obfuscated)" when it is. */
  endpoint?: string;
  reconnects: number;
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
  /** Main endpoints in the order the client tries them (absent while not connected: no profile yet). */
  connectOrder?: IpcConnectEndpoint[];
  /** The DC's connection (absent before the client used the DC). */
  connection?: IpcDcConnection;
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
  /** help.getConfig expires (unix s): the client reads the config again after it. */
  configExpires?: number;
  /** When the client read the config (ms since the epoch). */
  configFetchedAt?: number;
  nodes: IpcDcNode[];
  edges: IpcDcEdge[];
  /** Whether the panel's Faults section can act (the host always sends it). */
  faults?: IpcFaultsState;
}

// ---------------------------------------------------------------------------------------------------------------
// Faults on demand (the embedded sandbox's knobs, as `dclab sandbox ctl` names them)

export interface IpcFaultsState {
  /** The active profile is the sandbox and the embedded sandbox runs. */
  available: boolean;
  /** Why not, for the user ("the sandbox is not running"). */
  reason?: string;
  /** The sandbox's main DCs (1..5). */
  dcs: number[];
  /** The CDN DC, when it runs (some actions accept it). */
  cdnDc?: number;
}

export type IpcFaultRequest =
  | { action: 'drop-connections'; dcId?: number }
  | { action: 'restart-dc'; dcId: number; downMs?: number }
  | { action: 'move-dc'; dcId: number }
  | { action: 'transport-error'; code: number; dcId?: number; count?: number }
  | { action: 'rotate-salts'; dcId?: number }
  | { action: 'latency'; dcId: number; ms: number }
  | { action: 'rpc-error'; method: string; error: string; dcId?: number; count?: number }
  | { action: 'move-user'; phone: string; dcId: number }
  | { action: 'flood'; method: string; seconds: number; dcId?: number }
  | { action: 'clear-faults' }
  | { action: 'status' };

export type IpcFaultAction = IpcFaultRequest['action'];

/** Mirror of the parts of src/sandbox SandboxStatus the panel shows (a SandboxStatus is assignable to it). */
export interface IpcSandboxStatus {
  dcs: { id: number; host: string; port: number; ipv6?: { host: string; port: number }; connections: number; latencyMs: number }[];
  cdn?: { id: number; host: string; port: number; connections: number };
  config: { ttlSeconds: number; expires: number };
  faults: {
    rpcErrors: { method: string; error: string; code: number; dcId?: number; left: number | 'unlimited' }[];
    floods: { method: string; dcId?: number; secondsLeft: number }[];
    transportErrors: { code: number; dcId?: number; left: number }[];
    dropAfterBytes: { dcId: number; bytes: number; left: number }[];
  };
}

export interface IpcFaultResult {
  action: IpcFaultAction;
  /** One line for humans: "DC2 restarted (down 500 ms), listening again on the same port(s)". */
  message: string;
  /** The sandbox after the action. */
  status: IpcSandboxStatus;
}

/** The argument names of action A (distributes over a union of actions). */
type FaultFieldName<A extends IpcFaultAction> = A extends IpcFaultAction
  ? Extract<Exclude<keyof Extract<IpcFaultRequest, { action: A }>, 'action'>, string>
  : never;

/** One argument of an action: how the panel and the palette ask for it and how the host's validator checks it. */
export interface IpcFaultField<N extends string = string> {
  name: N;
  /** 'dc': a DC picker (the sandbox's DCs; the CDN DC too where `cdn`). */
  kind: 'dc' | 'int' | 'text';
  label: string;
  optional?: boolean;
  min?: number;
  max?: number;
  /** Text values must match this. */
  pattern?: RegExp;
  /** What a value is, for errors and prompts: "an rpc_error token like FLOOD_WAIT_3". */
  what: string;
  /** Prefilled value. */
  initial?: string;
  placeholder?: string;
  cdn?: boolean;
}

export interface IpcFaultSpec<A extends IpcFaultAction = IpcFaultAction> {
  action: A;
  label: string;
  summary: string;
  fields: IpcFaultField<FaultFieldName<A>>[];
}

const DC_ANY = (cdn: boolean): IpcFaultField<'dcId'> => ({
  name: 'dcId',
  kind: 'dc',
  label: 'DC',
  optional: true,
  what: 'a DC id (empty: every DC)',
  ...(cdn ? { cdn } : {}),
});
const DC_ONE = (cdn: boolean): IpcFaultField<'dcId'> => ({ name: 'dcId', kind: 'dc', label: 'DC', what: 'a DC id', ...(cdn ? { cdn } : {}) });
const COUNT: IpcFaultField<'count'> = {
  name: 'count',
  kind: 'int',
  label: 'count',
  optional: true,
  min: 1,
  max: 1_000_000,
  what: 'how many (default 1)',
  placeholder: '1',
};
const METHOD: IpcFaultField<'method'> = {
  name: 'method',
  kind: 'text',
  label: 'method',
  pattern: /^(\*|[a-zA-Z][\w.]{0,199})$/,
  what: 'an API method name (e.g. auth.sendCode) or *',
  initial: '*',
};

/** Every action of the Faults section and the "Sandbox Fault…" command, in menu order. */
export const IPC_FAULT_SPECS: { readonly [A in IpcFaultAction]: IpcFaultSpec<A> } = {
  'drop-connections': {
    action: 'drop-connections',
    label: 'Drop connections',
    summary: 'close the client connections of one DC (or all); server-side sessions and keys stay',
    fields: [DC_ANY(true)],
  },
  'restart-dc': {
    action: 'restart-dc',
    label: 'Restart DC',
    summary: "the DC's listeners close with their connections and listen again on the same ports after the down time; keys and sessions survive",
    fields: [
      DC_ONE(true),
      { name: 'downMs', kind: 'int', label: 'down ms', optional: true, min: 0, max: 600_000, what: 'milliseconds down (default 500)', placeholder: '500' },
    ],
  },
  'move-dc': {
    action: 'move-dc',
    label: 'Move DC',
    summary: 'the DC listens on a new port; help.getConfig announces it and expires soon',
    fields: [DC_ONE(false)],
  },
  'transport-error': {
    action: 'transport-error',
    label: 'Transport error',
    summary: 'the next new connections of a DC (or any main DC) get transport error −code and close',
    fields: [
      { name: 'code', kind: 'int', label: 'code', min: -999, max: 999, what: 'a transport error code (404, 429, 444, …)', initial: '404' },
      DC_ANY(false),
      COUNT,
    ],
  },
  'rotate-salts': {
    action: 'rotate-salts',
    label: 'Rotate salts',
    summary: 'new server salts now on a DC (or every DC); the previous one stays accepted for the grace time',
    fields: [DC_ANY(true)],
  },
  latency: {
    action: 'latency',
    label: 'Latency',
    summary: 'every frame the DC sends is delayed by ms (0 = none)',
    fields: [DC_ONE(false), { name: 'ms', kind: 'int', label: 'ms', min: 0, max: 600_000, what: 'milliseconds per answer', initial: '200' }],
  },
  'rpc-error': {
    action: 'rpc-error',
    label: 'RPC error',
    summary: 'the next calls of a method (* = any) on a DC (or any DC) answer this rpc_error',
    fields: [
      METHOD,
      {
        name: 'error',
        kind: 'text',
        label: 'error',
        pattern: /^[A-Z0-9_]{1,200}$/,
        what: 'an rpc_error token like FLOOD_WAIT_3 or PHONE_MIGRATE_4',
        placeholder: 'FLOOD_WAIT_3',
      },
      DC_ANY(false),
      COUNT,
    ],
  },
  'move-user': {
    action: 'move-user',
    label: 'Move user',
    summary: "the user's data moves to the DC: its keys on other DCs answer USER_MIGRATE_X",
    fields: [
      {
        name: 'phone',
        kind: 'text',
        label: 'phone',
        pattern: /^\+?[0-9][0-9 ()-]{3,20}$/,
        what: 'the phone number of a sandbox user',
        placeholder: '9996641234',
      },
      { ...DC_ONE(false), label: 'new home DC' },
    ],
  },
  flood: {
    action: 'flood',
    label: 'Flood',
    summary: 'for some seconds every call of a method (* = any) on a DC (or any DC) answers 420 FLOOD_WAIT_<seconds left>',
    fields: [METHOD, { name: 'seconds', kind: 'int', label: 'seconds', min: 1, max: 86_400, what: 'seconds', initial: '10' }, DC_ANY(false)],
  },
  'clear-faults': {
    action: 'clear-faults',
    label: 'Clear faults',
    summary: 'removes pending rpc errors, floods, transport errors and byte drops (latency stays)',
    fields: [],
  },
  status: { action: 'status', label: 'Status', summary: "the sandbox's DCs, live connections and pending faults", fields: [] },
};

export const IPC_FAULT_ACTIONS: readonly IpcFaultAction[] = Object.keys(IPC_FAULT_SPECS) as IpcFaultAction[];

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

export type IpcTab = 'topology' | 'trace' | 'query' | 'downloads' | 'faults';
export const IPC_TABS: readonly IpcTab[] = ['topology', 'trace', 'query', 'downloads', 'faults'];

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

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "config read at 12:00:01 (expires 13:00:01)": the same words in the panel and the tree. Undefined before a config. */
export function configReadText(t: Pick<IpcTopology, 'configFetchedAt' | 'configExpires'>, nowMs = Date.now()): string | undefined {
  if (t.configFetchedAt === undefined && t.configExpires === undefined) return undefined;
  const read = t.configFetchedAt !== undefined ? `config read at ${clock(t.configFetchedAt)}` : 'config read';
  if (t.configExpires === undefined || t.configExpires <= 0) return read;
  const expiresMs = t.configExpires * 1000;
  return `${read} (${expiresMs <= nowMs ? 'expired' : 'expires'} ${clock(expiresMs)})`;
}

/** "127.0.0.1:20442 · config · obfuscated": one endpoint of a DC's connect order. */
export function connectEndpointText(e: IpcConnectEndpoint): string {
  const host = e.ipv6 ? `[${e.host}]` : e.host;
  return [`${host}:${e.port}`, e.source, e.obfuscated && 'obfuscated'].filter(Boolean).join(' · ');
}

/** "ready · 2 reconnects" */
export function connectionText(c: IpcDcConnection): string {
  return `${c.state} · ${c.reconnects} reconnect${c.reconnects === 1 ? '' : 's'}`;
}

/** One typed-in value of a fault's field (the panel's text fields, the palette's input boxes): the value (absent for
 *  an empty optional field), or an error naming the field and what it needs. */
export function faultFieldValue(f: IpcFaultField, text: string): { value?: number | string; error?: string } {
  const t = text.trim();
  if (t === '') return f.optional ? {} : { error: `${f.label}: required (${f.what})` };
  if (f.kind === 'text') return f.pattern && !f.pattern.test(t) ? { error: `${f.label}: expected ${f.what}` } : { value: t };
  const n = Number(t);
  const min = f.kind === 'dc' ? 1 : (f.min ?? Number.MIN_SAFE_INTEGER);
  const max = f.kind === 'dc' ? 65535 : (f.max ?? Number.MAX_SAFE_INTEGER);
  if (!/^-?\d+$/.test(t) || !Number.isSafeInteger(n) || n < min || n > max) return { error: `${f.label}: expected an integer ${min}..${max} (${f.what})` };
  return { value: n };
}

/** A fault request from typed-in values (field name → text): the request, or the first field's error. */
export function faultRequestFrom(action: IpcFaultAction, texts: Record<string, string>): { request?: IpcFaultRequest; error?: string } {
  const out: Record<string, number | string> = {};
  for (const f of IPC_FAULT_SPECS[action].fields as IpcFaultField[]) {
    const r = faultFieldValue(f, texts[f.name] ?? '');
    if (r.error) return { error: r.error };
    if (r.value !== undefined) out[f.name] = r.value;
  }
  // the fields above are exactly the action's, each of its kind
  return { request: { action, ...out } as IpcFaultRequest };
}
