export { TRACE_KINDS, TRACE_FORMAT, TRACE_VERSION } from './event.js';
export type { TraceKind, TraceEvent, TraceEventInput, TraceExport, JsonValue } from './event.js';
export { TraceStore, TraceImportError, DEFAULT_TRACE_CAPACITY } from './store.js';
export type { TraceListener } from './store.js';
export { redact } from './redact.js';
export type { RedactContext } from './redact.js';
export { formatTimeline, formatTraceTimeline, traceEventLabel } from './timeline.js';
export type { WireTraceEvent } from './timeline.js';
