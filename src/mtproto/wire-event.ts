// WireEvent: one observable step on an MTProto connection (a message in or out, a transport error, a failed check,
// a key event). Carries ids, constructor names and sizes only — never keys, salts' secret parts or payload bytes.

export type WireDirection = 'in' | 'out' | 'local';
export type WireKind = 'plain' | 'encrypted' | 'service' | 'transport-error' | 'check-failed' | 'key';

export interface WireEvent {
  /** Date.now() when the event happened. */
  time: number;
  dir: WireDirection;
  dcId: number;
  connId: string;
  kind: WireKind;
  /** Decimal msg_id of the message. */
  msgId?: string;
  seqno?: number;
  /** Constructor or method name; for rpc_result `rpc_result:<result constructor>`. */
  ctor: string;
  /** Size in bytes of the message body (of the whole encrypted packet for containers and failed checks). */
  size: number;
  /** Decimal msg_id of the msg_container this message travelled in. */
  containerId?: string;
  /** The message was acknowledged by the other side (msgs_ack or an answer). */
  acked?: boolean;
  /** Decimal msg_id of the request this message answers (rpc_result, pong, future_salts, bad_msg_notification…). */
  reqMsgId?: string;
  /** Decimal msg_ids a msgs_ack acknowledges. */
  ackMsgIds?: string[];
  note?: string;
}

export type WireListener = (e: WireEvent) => void;

let connCounter = 0;
/** A short connection id unique within the process, e.g. `dc2-c7`. */
export function newConnId(dcId: number, prefix = 'c'): string {
  connCounter += 1;
  return `dc${dcId}-${prefix}${connCounter}`;
}

/** Calls a wire listener without ever letting it throw into protocol code. */
export function emitWire(listener: WireListener | undefined, e: WireEvent): void {
  if (!listener) return;
  try {
    listener(e);
  } catch {
    // observers must not break the connection
  }
}
