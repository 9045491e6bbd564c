export { TRACE_KINDS, TRACE_FORMAT, TRACE_VERSION, TRACE_WIRE_KINDS } from './event';
export type { TraceKind, TraceEvent, TraceEventInput, TraceExport, TraceWire, TraceWireKind, JsonValue } from './event';
export { TraceStore, TraceImportError, DEFAULT_TRACE_CAPACITY } from './store';
export type { TraceListener } from './store';
export { redact } from './redact';
export type { RedactContext } from './redact';
export { formatTimeline, formatTraceTimeline, traceEventLabel } from './timeline';
export type { WireTraceEvent } from './timeline';
