// Errors of the encrypted session layer. Messages name codes, methods and DCs — never keys, salts or payloads.

/** Splits an rpc_error message: 'PHONE_MIGRATE_4' → { kind: 'PHONE_MIGRATE', value: 4 },
 *  'FILE_PART_3_MISSING' → { kind: 'FILE_PART_X_MISSING', value: 3 }, 'AUTH_KEY_UNREGISTERED' → { kind: same }. */
export function parseRpcErrorMessage(msg: string): { kind: string; value?: number } {
  const tail = /^(.*?)_(\d+)$/.exec(msg);
  if (tail?.[1]) return { kind: tail[1], value: Number(tail[2]) };
  const mid = /^(.*?)_(\d+)_(.+)$/.exec(msg);
  if (mid?.[1]) return { kind: `${mid[1]}_X_${mid[3]}`, value: Number(mid[2]) };
  return { kind: msg };
}

/** An rpc_error answer: "rpc_error 303 PHONE_MIGRATE_4 from auth.sendCode on DC 2". */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: number;
  readonly errorMessage: string;
  readonly kind: string;
  readonly value?: number;
  readonly method: string;
  readonly dcId: number;

  constructor(code: number, errorMessage: string, method: string, dcId: number) {
    super(`rpc_error ${code} ${errorMessage} from ${method} on DC ${dcId}`);
    this.code = code;
    this.errorMessage = errorMessage;
    const p = parseRpcErrorMessage(errorMessage);
    this.kind = p.kind;
    if (p.value !== undefined) this.value = p.value;
    this.method = method;
    this.dcId = dcId;
  }
}

const TRANSPORT_MEANING: Record<number, string> = {
  [-404]: 'auth key unknown to this DC',
  [-429]: 'transport flood',
  [-444]: 'invalid DC id',
  [-403]: 'forbidden',
};

/** The server answered a 4-byte transport error (−404, −429, −444, …); the connection is closed. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: number;
  readonly dcId: number;
  constructor(code: number, dcId: number, method?: string) {
    const meaning = TRANSPORT_MEANING[code];
    super(`transport error ${code}${meaning ? ` (${meaning})` : ''} on DC ${dcId}${method ? ` during ${method}` : ''}`);
    this.code = code;
    this.dcId = dcId;
  }
}

/** The session closed (or was closed) while the call was pending. */
export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';
  readonly reason: string;
  constructor(reason: string, method?: string, dcId?: number) {
    super(`session closed${dcId !== undefined ? ` on DC ${dcId}` : ''}${method ? ` before ${method} was answered` : ''}: ${reason}`);
    this.reason = reason;
  }
}

/** invoke() timed out or was aborted; `reason` is 'timeout' or 'aborted'. */
export class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
  constructor(
    readonly method: string,
    readonly dcId: number,
    readonly reason: 'timeout' | 'aborted',
    ms?: number,
  ) {
    super(`${method} on DC ${dcId} ${reason === 'timeout' ? `timed out after ${ms} ms` : 'was aborted'}`);
  }
}

/** The server rejected a message with bad_msg_notification and the session could not recover (code named). */
export class BadMessageError extends Error {
  override readonly name = 'BadMessageError';
  constructor(
    readonly errorCode: number,
    readonly method: string,
    readonly dcId: number,
    detail: string,
  ) {
    super(`bad_msg_notification ${errorCode} (${detail}) for ${method} on DC ${dcId}`);
  }
}

/** An incoming encrypted message failed a security check (mtproto/security_guidelines). */
export class MessageCheckError extends Error {
  override readonly name = 'MessageCheckError';
  /** 'length', 'auth_key_id', 'msg_key', 'data_length', 'padding', 'session_id', 'msg_id_parity', … */
  readonly check: string;
  readonly detail: string | undefined;
  constructor(check: string, detail?: string) {
    super(`message check failed: ${check}${detail ? ` (${detail})` : ''}`);
    this.check = check;
    this.detail = detail;
  }
}
