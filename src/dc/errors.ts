// Errors of the DC layer. Messages name DCs, addresses and reasons — never keys or salts.

export type DcErrorCode = 'UNKNOWN_DC' | 'CONNECT_FAILED' | 'KEY_FAILED' | 'CLOSED';

export class DcError extends Error {
  override readonly name = 'DcError';
  constructor(
    readonly code: DcErrorCode,
    readonly dcId: number,
    message: string,
  ) {
    super(message);
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
