// The typed message protocol between the extension host and the webview panel.
//
// Webview → host:  commands (fire-and-forget) and requests (answered by exactly one response with the same id).
// Host → webview:  responses and notifications.
// Every message is one JSON object with `type`; `method` names the command/request/notification.

import type {
  IpcDownload,
  IpcDownloadStart,
  IpcFaultRequest,
  IpcFaultResult,
  IpcQueryResult,
  IpcQueryRun,
  IpcSchemaMethods,
  IpcTab,
  IpcTlEntry,
  IpcTopology,
  IpcTraceEvent,
  PanelState,
} from './models';

/** Bump when a message shape changes incompatibly; sent in `ready` and `init`. */
export const IPC_VERSION = 1;

// ---------------------------------------------------------------------------------------------------------------
// Webview → host commands (no answer)

export interface WebviewCommands {
  /** The app has loaded and listens; the host answers with the `init` notification. */
  ready: { version: number };
  /** Cancel a running download. */
  'download/cancel': { downloadId: string };
  /** Open a finished download (the host reveals / opens the saved file). */
  'download/open': { downloadId: string };
  /** Forget the trace shown (host clears its TraceStore or just stops replaying old events). */
  'trace/clear': Record<string, never>;
  /** The panel state changed (the host may keep it for the serializer; the webview also uses setState). */
  'state/changed': { state: PanelState };
  /** Diagnostics for the host's LogOutputChannel. */
  log: { level: 'info' | 'warn' | 'error'; message: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Webview → host requests and their responses

export interface WebviewRequests {
  /** Current topology (nodes, states, edges). */
  'topology/get': { params: Record<string, never>; result: IpcTopology };
  /** Trace events with id > sinceId (all when absent), oldest first, at most `limit` (default: all). */
  'trace/get': { params: { sinceId?: number; limit?: number }; result: { events: IpcTraceEvent[]; lastId: number } };
  /** The host asks where to save (showSaveDialog) and writes TraceStore.exportJson(). */
  'trace/export': { params: Record<string, never>; result: { saved: boolean; path?: string; count?: number } };
  /** The host asks for a file (showOpenDialog), imports it with TraceStore.import (validated, re-redacted) and
   *  returns its events; the webview replaces its timeline with them. */
  'trace/import': { params: Record<string, never>; result: { imported: boolean; path?: string; events?: IpcTraceEvent[]; error?: string } };
  /** Every method of the layer (apiSchema().entries of kind 'method'). */
  'schema/methods': { params: Record<string, never>; result: IpcSchemaMethods };
  /** Constructors of each type (TlSchema.constructorsOfType), for type pickers and validation. Unknown type → []. */
  'schema/constructorsOfType': { params: { types: string[] }; result: { constructors: Record<string, IpcTlEntry[]> } };
  /** Run a query (host validates again with tlFromJson(schema, query) and calls client.call(…, { dcId })). */
  'query/run': { params: IpcQueryRun; result: IpcQueryResult };
  /** Start a download (host: locationFromJson(location) → downloadFile(client, { location, dcId, size, out })). */
  'download/start': { params: IpcDownloadStart; result: { downloadId: string } };
  /** Run one fault on the embedded sandbox (the panel's Faults section); fails when the sandbox is not the active,
   *  running profile or a value is out of range. */
  'sandbox/fault': { params: IpcFaultRequest; result: IpcFaultResult };
}

// ---------------------------------------------------------------------------------------------------------------
// Host → webview notifications

export interface HostNotifications {
  /** Answer to `ready` (and whenever the host wants a full refresh). */
  init: { version: number; topology: IpcTopology; profile: string; layer: number; state?: PanelState };
  /** Topology changed (status change, new key, login, redirect, latency…): the full snapshot. */
  'topology/changed': IpcTopology;
  /** New trace events (append, ids increasing). Batch them (e.g. every 100 ms). */
  'trace/events': { events: IpcTraceEvent[] };
  /** Replace the whole timeline (after import or clear). */
  'trace/reset': { events: IpcTraceEvent[] };
  /** A download started, progressed, finished, failed or was cancelled. */
  'download/changed': IpcDownload;
  /** Focus a tab, e.g. the "Run Query" command opens the query tab with a method selected. */
  'ui/focus': { tab: IpcTab; method?: string };
  /** Show one trace event: the trace tab, that event selected and scrolled into view (filters that hide it are
   *  cleared; an id not loaded yet is selected when it arrives). E.g. "Show call in DC Lab trace" of a request file. */
  'trace/focus': { id: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Envelopes

export type CommandName = keyof WebviewCommands;
export type RequestName = keyof WebviewRequests;
export type NotificationName = keyof HostNotifications;
export type RequestParams<M extends RequestName> = WebviewRequests[M]['params'];
export type RequestResult<M extends RequestName> = WebviewRequests[M]['result'];

export type CommandMessage<M extends CommandName = CommandName> = {
  [K in M]: { type: 'command'; method: K; params: WebviewCommands[K] };
}[M];

export type RequestMessage<M extends RequestName = RequestName> = {
  [K in M]: { type: 'request'; id: number; method: K; params: RequestParams<K> };
}[M];

/** A request failed on the host (exception, no client, validation). `error` is a message for the user. */
export type ResponseMessage<M extends RequestName = RequestName> = {
  [K in M]:
    | { type: 'response'; id: number; method: K; ok: true; result: RequestResult<K> }
    | { type: 'response'; id: number; method: K; ok: false; error: string };
}[M];

export type NotificationMessage<M extends NotificationName = NotificationName> = {
  [K in M]: { type: 'notification'; method: K; params: HostNotifications[K] };
}[M];

/** What the webview posts. */
export type WebviewMessage = CommandMessage | RequestMessage;
/** What the host posts. */
export type HostMessage = ResponseMessage | NotificationMessage;

// ---------------------------------------------------------------------------------------------------------------
// Constructors (typed helpers; both sides)

export function command<M extends CommandName>(method: M, params: WebviewCommands[M]): CommandMessage<M> {
  return { type: 'command', method, params } as CommandMessage<M>;
}

export function request<M extends RequestName>(id: number, method: M, params: RequestParams<M>): RequestMessage<M> {
  return { type: 'request', id, method, params } as RequestMessage<M>;
}

export function response<M extends RequestName>(req: { id: number; method: M }, result: RequestResult<M>): ResponseMessage<M> {
  return { type: 'response', id: req.id, method: req.method, ok: true, result } as ResponseMessage<M>;
}

export function errorResponse<M extends RequestName>(req: { id: number; method: M }, error: string): ResponseMessage<M> {
  return { type: 'response', id: req.id, method: req.method, ok: false, error } as ResponseMessage<M>;
}

export function notification<M extends NotificationName>(method: M, params: HostNotifications[M]): NotificationMessage<M> {
  return { type: 'notification', method, params } as NotificationMessage<M>;
}

/** Type guard helpers for handlers: `if (isRequest(msg, 'query/run')) msg.params.query …`. */
export function isRequest<M extends RequestName>(msg: WebviewMessage, method: M): msg is Extract<WebviewMessage, { type: 'request'; method: M }> {
  return msg.type === 'request' && msg.method === method;
}
export function isCommand<M extends CommandName>(msg: WebviewMessage, method: M): msg is Extract<WebviewMessage, { type: 'command'; method: M }> {
  return msg.type === 'command' && msg.method === method;
}
export function isNotification<M extends NotificationName>(msg: HostMessage, method: M): msg is Extract<HostMessage, { type: 'notification'; method: M }> {
  return msg.type === 'notification' && msg.method === method;
}

/** Host-side handler table type: implement one function per request, the dispatcher answers with response(). */
export type RequestHandlers = { [K in RequestName]: (params: RequestParams<K>) => Promise<RequestResult<K>> | RequestResult<K> };
export type CommandHandlers = { [K in CommandName]: (params: WebviewCommands[K]) => void | Promise<void> };
