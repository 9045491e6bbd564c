// A bounded, in-memory ring of trace events with monotonic ids, listeners, chains and JSON export/import.
import {
  TRACE_FORMAT,
  TRACE_KINDS,
  TRACE_VERSION,
  TRACE_WIRE_KINDS,
  type JsonValue,
  type TraceEvent,
  type TraceEventInput,
  type TraceExport,
  type TraceKind,
  type TraceWire,
  type TraceWireKind,
} from './event';
import { redact } from './redact';
import type { WireTraceEvent } from './timeline';

export const DEFAULT_TRACE_CAPACITY = 100_000;

export class TraceImportError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`trace import: ${path || '(root)'}: ${reason}`);
    this.name = 'TraceImportError';
  }
}

export type TraceListener = (e: TraceEvent) => void;

export class TraceStore {
  readonly capacity: number;
  private readonly ring: (TraceEvent | undefined)[];
  private start = 0;
  private count = 0;
  private nextId = 1;
  private readonly listeners = new Set<TraceListener>();
  private readonly now: () => number;

  constructor(opts: { capacity?: number; now?: () => number } = {}) {
    const cap = opts.capacity ?? DEFAULT_TRACE_CAPACITY;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`trace capacity must be a positive integer, got ${cap}`);
    this.capacity = cap;
    this.ring = new Array<TraceEvent | undefined>(cap);
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.count;
  }

  /** Id of the newest event, 0 when none was ever added. */
  get lastId(): number {
    return this.nextId - 1;
  }

  private at(i: number): TraceEvent {
    return this.ring[(this.start + i) % this.capacity]!;
  }

  private push(e: TraceEvent): void {
    if (this.count < this.capacity) {
      this.ring[(this.start + this.count) % this.capacity] = e;
      this.count++;
    } else {
      this.ring[this.start] = e; // evicts the oldest
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Adds an event: assigns the next id and the time when absent, redacts the payload. Listeners see it after. */
  add(input: TraceEventInput): TraceEvent {
    if (!TRACE_KINDS.includes(input.kind)) throw new TypeError(`unknown trace kind "${String(input.kind)}"`);
    const { payload, ...rest } = input;
    const e: TraceEvent = { ...stripUndefined(rest), id: this.nextId++, time: input.time ?? this.now() } as TraceEvent;
    if (payload !== undefined) e.payload = redact(payload, { method: input.name });
    this.push(e);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a failing listener must not break tracing or the other listeners
      }
    }
    return e;
  }

  /**
   * Adds a wire event of the MTProto layer (out → wire-out, in → wire-in, local → state): its fields go into `wire`
   * for programs and, as one line, into `note` for people (the CLI prints notes).
   */
  addWire(w: WireTraceEvent, parentId?: number): TraceEvent {
    const kind: TraceKind = w.dir === 'out' ? 'wire-out' : w.dir === 'in' ? 'wire-in' : 'state';
    const wire: TraceWire = { kind: w.kind, ctor: w.ctor, bytes: w.size };
    if (w.msgId !== undefined) wire.msgId = w.msgId;
    if (w.seqno !== undefined) wire.seqno = w.seqno;
    if (w.containerId !== undefined) wire.containerMsgId = w.containerId;
    if (w.reqMsgId !== undefined) wire.reqMsgId = w.reqMsgId;
    if (w.ackMsgIds?.length) wire.ackMsgIds = [...w.ackMsgIds];
    if (w.acked) wire.acked = true;
    const note = [
      w.kind,
      `${w.size}B`,
      w.seqno !== undefined ? `seqno=${w.seqno}` : '',
      w.containerId ? `container=${w.containerId}` : '',
      w.reqMsgId ? `req=${w.reqMsgId}` : '',
      w.acked ? 'acked' : '',
      w.note ?? '',
    ]
      .filter(Boolean)
      .join(' ');
    return this.add({
      kind,
      name: w.ctor,
      dcId: w.dcId,
      connId: w.connId,
      time: w.time,
      note,
      wire,
      ...(w.msgId !== undefined ? { msgId: w.msgId } : {}),
      ...(parentId !== undefined ? { parentId } : {}),
    });
  }

  /** Index of the event with this id (ids are increasing along the ring), or -1. */
  private indexOf(id: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.at(mid).id;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Index of the first event with an id greater than `id`. */
  private firstAfter(id: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).id <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(id: number): TraceEvent | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : this.at(i);
  }

  /** All events, oldest first. */
  events(): TraceEvent[] {
    return this.slice(0);
  }

  private slice(from: number): TraceEvent[] {
    const out = new Array<TraceEvent>(Math.max(0, this.count - from));
    for (let i = from; i < this.count; i++) out[i - from] = this.at(i);
    return out;
  }

  /** Events with an id greater than `id` (for incremental consumers such as the webview). */
  since(id: number): TraceEvent[] {
    return this.slice(this.firstAfter(id));
  }

  /** The event `callId` and all its descendants (by parentId), in id order; [] when the id is not held. */
  chainOf(callId: number): TraceEvent[] {
    const i = this.indexOf(callId);
    if (i < 0) return [];
    const members = new Set([callId]);
    const out = [this.at(i)];
    for (let j = i + 1; j < this.count; j++) {
      const e = this.at(j);
      if (e.parentId !== undefined && members.has(e.parentId)) {
        members.add(e.id);
        out.push(e);
      }
    }
    return out;
  }

  onEvent(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops all events; ids keep increasing. */
  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
  }

  export(opts: { last?: number } = {}): TraceExport {
    const from = opts.last !== undefined ? Math.max(0, this.count - Math.max(0, Math.floor(opts.last))) : 0;
    return { format: TRACE_FORMAT, version: TRACE_VERSION, exportedAt: this.now(), events: this.slice(from).map((e) => ({ ...e })) };
  }

  exportJson(opts: { last?: number } = {}): string {
    return JSON.stringify(this.export(opts));
  }

  /** Rebuilds a store from `export()` output (object or JSON text), validating its shape. New ids continue after it. */
  static import(json: string | unknown, opts: { capacity?: number; now?: () => number } = {}): TraceStore {
    let data: unknown = json;
    if (typeof json === 'string') {
      try {
        data = JSON.parse(json);
      } catch (e) {
        throw new TraceImportError('', `not valid JSON (${(e as Error).message})`);
      }
    }
    if (!isRecord(data)) throw new TraceImportError('', 'expected an object');
    if (data.format !== TRACE_FORMAT) throw new TraceImportError('format', `expected "${TRACE_FORMAT}", got ${show(data.format)}`);
    if (data.version !== TRACE_VERSION) throw new TraceImportError('version', `unsupported version ${show(data.version)} (this build reads ${TRACE_VERSION})`);
    if (!Array.isArray(data.events)) throw new TraceImportError('events', 'expected an array');
    const events = data.events as unknown[];
    const store = new TraceStore({ ...opts, capacity: opts.capacity ?? Math.max(DEFAULT_TRACE_CAPACITY, events.length) });
    let prev = 0;
    events.forEach((raw, i) => {
      const e = validateEvent(raw, `events[${i}]`, prev);
      prev = e.id;
      store.push(e);
    });
    store.nextId = prev + 1;
    return store;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

const OPTIONAL_INT = ['dcId', 'parentId', 'targetDc', 'roundTrips', 'waitSeconds'] as const;
const OPTIONAL_NUM = ['durationMs'] as const;
const OPTIONAL_STR = ['connId', 'msgId', 'from', 'to', 'note'] as const;

function validateEvent(raw: unknown, path: string, prevId: number): TraceEvent {
  if (!isRecord(raw)) throw new TraceImportError(path, 'expected an object');
  if (!Number.isSafeInteger(raw.id) || (raw.id as number) <= prevId)
    throw new TraceImportError(`${path}.id`, `expected an integer greater than ${prevId}, got ${show(raw.id)}`);
  if (typeof raw.time !== 'number' || !Number.isFinite(raw.time)) throw new TraceImportError(`${path}.time`, `expected a number, got ${show(raw.time)}`);
  if (!TRACE_KINDS.includes(raw.kind as TraceKind))
    throw new TraceImportError(`${path}.kind`, `expected one of ${TRACE_KINDS.join(', ')}, got ${show(raw.kind)}`);
  if (typeof raw.name !== 'string') throw new TraceImportError(`${path}.name`, `expected a string, got ${show(raw.name)}`);
  for (const k of OPTIONAL_INT)
    if (raw[k] !== undefined && !Number.isSafeInteger(raw[k])) throw new TraceImportError(`${path}.${k}`, `expected an integer, got ${show(raw[k])}`);
  for (const k of OPTIONAL_NUM)
    if (raw[k] !== undefined && (typeof raw[k] !== 'number' || !Number.isFinite(raw[k])))
      throw new TraceImportError(`${path}.${k}`, `expected a number, got ${show(raw[k])}`);
  for (const k of OPTIONAL_STR)
    if (raw[k] !== undefined && typeof raw[k] !== 'string') throw new TraceImportError(`${path}.${k}`, `expected a string, got ${show(raw[k])}`);
  if (raw.parentId !== undefined && (raw.parentId as number) >= (raw.id as number))
    throw new TraceImportError(`${path}.parentId`, `a parent must come before its child (parentId ${show(raw.parentId)} ≥ id ${show(raw.id)})`);
  const e = stripUndefined({ ...raw }) as unknown as TraceEvent;
  if (raw.wire !== undefined) e.wire = validateWire(raw.wire, `${path}.wire`);
  // Imported payloads are redacted again: a hand-edited or foreign file must not smuggle a secret into the UI.
  if (raw.payload !== undefined) e.payload = redact(raw.payload, { method: raw.name as string }) as JsonValue;
  return e;
}

const DECIMAL_ID = /^-?\d{1,20}$/;

/** A trace's `wire` field, rebuilt from known fields only: a foreign file cannot pass other data on to the panel. */
function validateWire(raw: unknown, path: string): TraceWire {
  if (!isRecord(raw)) throw new TraceImportError(path, `expected an object, got ${show(raw)}`);
  if (!TRACE_WIRE_KINDS.includes(raw.kind as TraceWireKind))
    throw new TraceImportError(`${path}.kind`, `expected one of ${TRACE_WIRE_KINDS.join(', ')}, got ${show(raw.kind)}`);
  if (typeof raw.ctor !== 'string') throw new TraceImportError(`${path}.ctor`, `expected a string, got ${show(raw.ctor)}`);
  if (!Number.isSafeInteger(raw.bytes) || (raw.bytes as number) < 0)
    throw new TraceImportError(`${path}.bytes`, `expected a non-negative integer, got ${show(raw.bytes)}`);
  const w: TraceWire = { kind: raw.kind as TraceWireKind, ctor: raw.ctor, bytes: raw.bytes as number };
  for (const k of ['msgId', 'containerMsgId', 'reqMsgId'] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !DECIMAL_ID.test(v)) throw new TraceImportError(`${path}.${k}`, `expected a decimal msg_id string, got ${show(v)}`);
    w[k] = v;
  }
  if (raw.seqno !== undefined) {
    if (!Number.isSafeInteger(raw.seqno) || (raw.seqno as number) < 0)
      throw new TraceImportError(`${path}.seqno`, `expected a non-negative integer, got ${show(raw.seqno)}`);
    w.seqno = raw.seqno as number;
  }
  if (raw.ackMsgIds !== undefined) {
    if (!Array.isArray(raw.ackMsgIds)) throw new TraceImportError(`${path}.ackMsgIds`, `expected an array, got ${show(raw.ackMsgIds)}`);
    raw.ackMsgIds.forEach((v: unknown, i) => {
      if (typeof v !== 'string' || !DECIMAL_ID.test(v))
        throw new TraceImportError(`${path}.ackMsgIds[${i}]`, `expected a decimal msg_id string, got ${show(v)}`);
    });
    w.ackMsgIds = [...(raw.ackMsgIds as string[])];
  }
  if (raw.acked !== undefined) {
    if (typeof raw.acked !== 'boolean') throw new TraceImportError(`${path}.acked`, `expected a boolean, got ${show(raw.acked)}`);
    if (raw.acked) w.acked = true;
  }
  return w;
}
