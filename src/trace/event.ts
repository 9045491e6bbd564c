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
