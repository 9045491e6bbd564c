// Errors of src/files. Messages name offsets, DCs and codes — never file contents, keys or tokens.

export type FileErrorCode =
  | 'ABORTED'
  | 'SIZE_MISMATCH'
  | 'HASH_MISMATCH'
  | 'CDN_HASH_MISMATCH'
  | 'RETRIES_EXHAUSTED'
  | 'BAD_LOCATION'
  | 'BAD_PART_SIZE'
  | 'FILE_TOO_BIG'
  | 'EXISTS'
  | 'BUSY'
  | 'NO_SPACE'
  | 'REDIRECT_LOOP'
  | 'UNEXPECTED';

export class FileError extends Error {
  override readonly name = 'FileError';
  readonly code: FileErrorCode;
  readonly dcId?: number;
  readonly offset?: number;

  constructor(code: FileErrorCode, message: string, opts: { dcId?: number; offset?: number; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.code = code;
    if (opts.dcId !== undefined) this.dcId = opts.dcId;
    if (opts.offset !== undefined) this.offset = opts.offset;
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
