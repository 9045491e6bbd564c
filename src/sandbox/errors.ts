// rpc_error values thrown by the sandbox's API handlers. The server dispatcher (src/mtproto/session-server.ts)
// turns anything with a numeric `code` and a string `message` into rpc_error { error_code, error_message }.

/** An RPC error as Telegram sends it: `code` is the HTTP-like class, `message` an uppercase token (e.g. `PHONE_MIGRATE_4`). */
export class SandboxRpcError extends Error {
  readonly code: number;
  /** Same as `message`; the name the client-side RpcError uses. */
  readonly errorMessage: string;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'SandboxRpcError';
    this.code = code;
    this.errorMessage = message;
  }
}

export function badRequest(message: string): SandboxRpcError {
  return new SandboxRpcError(400, message);
}

export function unauthorized(message: string): SandboxRpcError {
  return new SandboxRpcError(401, message);
}

/** 303 SEE_OTHER redirects: PHONE_MIGRATE_X, NETWORK_MIGRATE_X, USER_MIGRATE_X. */
export function seeOther(kind: 'PHONE_MIGRATE' | 'NETWORK_MIGRATE' | 'USER_MIGRATE' | 'FILE_MIGRATE' | 'STATS_MIGRATE', dcId: number): SandboxRpcError {
  return new SandboxRpcError(303, `${kind}_${dcId}`);
}

/**
 * Prefix of the error a method the sandbox does not implement answers with (code 400). The full token names the
 * method in upper snake case so it stays a valid error token: `messages.getHistory` →
 * `METHOD_NOT_SUPPORTED_MESSAGES_GET_HISTORY`; the exact method name is also written to the sandbox log.
 */
export const METHOD_NOT_SUPPORTED = 'METHOD_NOT_SUPPORTED';

/** `messages.getHistory` → `MESSAGES_GET_HISTORY`. */
export function methodToken(method: string): string {
  return method
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

export function methodNotSupported(method: string): SandboxRpcError {
  const token = methodToken(method);
  return badRequest(token ? `${METHOD_NOT_SUPPORTED}_${token}` : METHOD_NOT_SUPPORTED);
}

export function isRpcErrorLike(e: unknown): e is { code: number; message: string } {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && typeof (e as { message?: unknown }).message === 'string';
}
