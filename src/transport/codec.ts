// MTProto TCP framing codecs (core.telegram.org/mtproto/mtproto-transports) and server-side transport detection.
// The codecs themselves live in frames.ts (shared with obfuscated.ts); this module is the public entry point.
import { createFrameCodec, FORBIDDEN_FIRST_WORDS, MAX_PAYLOAD_LENGTH, readUint32le, type FrameCodec, type TransportName } from './frames';
import { parseObfuscatedHeader } from './obfuscated';

export * from './frames';

// ---------------------------------------------------------------------------------------------------------------
// Server-side detection.

export interface DetectedTransport {
  name: TransportName;
  obfuscated: boolean;
  /** How many of the given bytes the preamble / header used; feed the rest to `codec.push`. */
  consumed: number;
  /** A server-side codec, already past the preamble (for obfuscated: the decrypting wrapper). */
  codec: FrameCodec;
  /** Obfuscated only: the dc id (int16 at 60..61; random unless the client set it) and the secret that matched. */
  dcId?: number;
  secret?: Uint8Array;
}

export interface DetectOptions {
  /** MTProxy secrets (16 or 17 bytes) to try on an obfuscated header besides "no secret". */
  secrets?: Uint8Array[];
}

/** Plausible first word of a full-transport connection: a frame length with room for a payload. */
function plausibleFullLength(n: number): boolean {
  return n >= 16 && n <= MAX_PAYLOAD_LENGTH + 12 && n % 4 === 0;
}

/**
 * Works out which transport a client speaks from the first bytes it sent (as many as arrived so far):
 * abridged (0xef), intermediate (0xeeeeeeee), padded (0xdddddddd), full (a plausible frame length, then seqno 0),
 * or an obfuscated2 header (64 bytes whose decrypted bytes 56..59 are a protocol tag). 'need-more' until the
 * bytes decide; 'unknown' for anything else (HTTP, TLS, garbage).
 */
export function detectServerTransport(firstBytes: Uint8Array, opts?: DetectOptions): DetectedTransport | 'need-more' | 'unknown' {
  const b = firstBytes;
  if (b.length === 0) return 'need-more';
  if (b[0] === 0xef) return { name: 'abridged', obfuscated: false, consumed: 1, codec: createFrameCodec('abridged', 'server') };
  if (b.length < 4) return 'need-more';
  const first = readUint32le(b, 0);
  if (first === 0xeeeeeeee) return { name: 'intermediate', obfuscated: false, consumed: 4, codec: createFrameCodec('intermediate', 'server') };
  if (first === 0xdddddddd) return { name: 'padded', obfuscated: false, consumed: 4, codec: createFrameCodec('padded', 'server') };
  if (FORBIDDEN_FIRST_WORDS.includes(first)) return 'unknown'; // HTTP / TLS: not served here
  if (b.length < 8) return 'need-more';
  if (readUint32le(b, 4) === 0) {
    // Seqno 0: the full transport (an obfuscated header never has zero bytes 4..7).
    if (plausibleFullLength(first)) return { name: 'full', obfuscated: false, consumed: 0, codec: createFrameCodec('full', 'server') };
    return 'unknown';
  }
  if (b.length < 64) return 'need-more';
  const found = parseObfuscatedHeader(b.subarray(0, 64), opts?.secrets);
  if (!found) return 'unknown';
  const res: DetectedTransport = { name: found.inner, obfuscated: true, consumed: 64, codec: found.codec, dcId: found.dcId };
  if (found.secret) res.secret = found.secret;
  return res;
}
