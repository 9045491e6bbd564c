// The trace event model: one JSON object per event, linked to the call that caused it by parentId.

export type TraceKind = 'call' | 'result' | 'error' | 'redirect' | 'key' | 'transfer' | 'state' | 'file' | 'flood-wait' | 'wire-in' | 'wire-out';

export const TRACE_KINDS: readonly TraceKind[] = [
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

/** What a wire event was, as the MTProto layer classifies it (its WireKind). */
export type TraceWireKind = 'plain' | 'encrypted' | 'service' | 'transport-error' | 'check-failed' | 'key';

export const TRACE_WIRE_KINDS: readonly TraceWireKind[] = ['plain', 'encrypted', 'service', 'transport-error', 'check-failed', 'key'];

/**
 * The wire-level facts of a wire event as data, so a reader never parses them out of `note` (which repeats them
 * for people). JSON-ready: msg_ids are decimal strings.
 */
export interface TraceWire {
  kind: TraceWireKind;
  /** Constructor or method name; for rpc_result `rpc_result:<result constructor>`. */
  ctor: string;
  /** Size of the message body (of the whole encrypted packet for containers and failed checks). */
  bytes: number;
  /** Decimal msg_id of the message. */
  msgId?: string;
  seqno?: number;
  /** Decimal msg_id of the msg_container the message travelled in. */
  containerMsgId?: string;
  /** Decimal msg_id of the request this message answers (rpc_result, pong, bad_msg_notification…). */
  reqMsgId?: string;
  /** Decimal msg_ids a msgs_ack acknowledges. */
  ackMsgIds?: string[];
  /** The other side acknowledged the message (msgs_ack, quick ack or an answer). */
  acked?: boolean;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface TraceEventInput {
  kind: TraceKind;
  /** Method (call), constructor (result, wire), RPC error text (error, redirect), state name (state), 'auth key' (key)... */
  name: string;
  dcId?: number;
  connId?: string;
  /** Decimal msg_id. */
  msgId?: string;
  /** The event that caused this one (usually a 'call'). */
  parentId?: number;
  /** Target DC of a redirect or transfer. */
  targetDc?: number;
  /** Round trips of an auth-key creation. */
  roundTrips?: number;
  durationMs?: number;
  /** FLOOD_WAIT seconds. */
  waitSeconds?: number;
  /** State transitions. */
  from?: string;
  to?: string;
  /** Raw TL values are fine: TraceStore.add() redacts and converts to JSON. */
  payload?: unknown;
  note?: string;
  /** Wire events (TraceStore.addWire): the message's wire fields. */
  wire?: TraceWire;
  /** ms since the epoch; TraceStore.add() fills it when absent. */
  time?: number;
}

export interface TraceEvent extends TraceEventInput {
  id: number;
  time: number;
  payload?: JsonValue;
}

/** Format of TraceStore.export(). */
export interface TraceExport {
  format: 'dclab-trace';
  version: 1;
  exportedAt: number;
  events: TraceEvent[];
}

export const TRACE_FORMAT = 'dclab-trace';
export const TRACE_VERSION = 1;
