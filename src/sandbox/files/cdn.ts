// The main DCs' side of the CDN: which documents the CDN DC (203) holds, the file tokens with their AES-256-CTR
// key and iv handed out in upload.fileCdnRedirect, the request tokens that upload.reuploadCdnFile redeems, and the
// corruptCdnParts fault. The CDN DC itself (its link server and upload.getCdnFile) is ../cdn.ts.
import type { TlObject } from '../../tl/types';
import { badRequest } from '../errors';
import { randomBytes } from '../world';
import type { StoredDocument, StoredMedia } from './media';
import { fileHashes } from './parts';

export const CDN_DC_ID = 203;

export interface CdnToken {
  token: Uint8Array;
  doc: StoredDocument;
  key: Uint8Array;
  iv: Uint8Array;
  /** hex of request tokens handed out by the CDN DC for this file token. */
  requests: Set<string>;
}

const hex = (u8: Uint8Array): string => Buffer.from(u8).toString('hex');

export class CdnFiles {
  private readonly tokens = new Map<string, CdnToken>();
  private readonly tokenByDoc = new Map<bigint, CdnToken>();
  /** Documents the CDN DC currently holds (after upload.reuploadCdnFile). */
  private readonly onCdn = new Set<bigint>();
  /** upload.cdnFile answers still to corrupt (corruptCdnParts knob). */
  private corruptLeft = 0;

  constructor(private readonly log: (line: string) => void) {}

  /** `key` is the name the knob was called with (for the log). */
  setReuploadNeeded(key: string, m: StoredMedia, needed: boolean): void {
    if (needed) this.onCdn.delete(m.id);
    else this.onCdn.add(m.id);
    this.log(`file ${key}: CDN copy ${needed ? 'dropped (reupload needed)' : 'present'}`);
  }

  corruptParts(count: number): void {
    if (!(count >= 0)) throw new RangeError(`count must be ≥ 0, got ${count}`);
    this.corruptLeft = count === Infinity ? Infinity : Math.floor(count);
    this.log(`CDN: the next ${this.corruptLeft} upload.cdnFile answer(s) will be corrupted`);
  }

  plain(plain: Uint8Array, offset: number): Uint8Array {
    if (this.corruptLeft <= 0 || plain.length === 0) return plain;
    this.corruptLeft--;
    const bad = new Uint8Array(plain); // never the stored bytes themselves
    const at = Math.floor(bad.length / 2);
    bad[at] = bad[at]! ^ 0xff;
    this.log(`CDN: fault: byte ${offset + at} of the answer at ${offset} flipped (${this.corruptLeft} more)`);
    return bad;
  }

  expireTokens(): void {
    const n = this.tokens.size;
    this.tokens.clear();
    this.tokenByDoc.clear();
    this.log(`CDN: ${n} file token(s) expired`);
  }

  /** The file token of a document (one per document until the tokens expire). */
  tokenFor(doc: StoredDocument): CdnToken {
    let t = this.tokenByDoc.get(doc.id);
    if (!t) {
      t = { token: randomBytes(32), doc, key: randomBytes(32), iv: randomBytes(16), requests: new Set() };
      this.tokens.set(hex(t.token), t);
      this.tokenByDoc.set(doc.id, t);
    }
    return t;
  }

  token(fileToken: unknown): CdnToken {
    const t = fileToken instanceof Uint8Array ? this.tokens.get(hex(fileToken)) : undefined;
    if (!t) throw badRequest('FILE_TOKEN_INVALID');
    return t;
  }

  onCdnNow(doc: StoredDocument): boolean {
    return this.onCdn.has(doc.id);
  }

  requestToken(t: CdnToken): Uint8Array {
    const r = randomBytes(16);
    t.requests.add(hex(r));
    return r;
  }

  reupload(fileToken: unknown, requestToken: unknown): CdnToken {
    const t = this.token(fileToken);
    if (!(requestToken instanceof Uint8Array) || !t.requests.has(hex(requestToken))) throw badRequest('REQUEST_TOKEN_INVALID');
    t.requests.delete(hex(requestToken));
    this.onCdn.add(t.doc.id);
    this.log(`CDN: file ${t.doc.key ?? t.doc.id} reuploaded to DC${CDN_DC_ID}`);
    return t;
  }
}

/** upload.getFile's answer for a CDN document when the client said cdn_supported. */
export function fileCdnRedirect(t: CdnToken): TlObject {
  return {
    _: 'upload.fileCdnRedirect',
    dc_id: CDN_DC_ID,
    file_token: t.token,
    encryption_key: t.key,
    encryption_iv: t.iv,
    file_hashes: fileHashes(t.doc.content, 0),
  };
}

/** The dcOption help.getConfig adds for the CDN DC. */
export function cdnDcOption(endpoint: { host: string; port: number }): TlObject {
  return { _: 'dcOption', cdn: true, id: CDN_DC_ID, ip_address: endpoint.host, port: endpoint.port };
}

/** help.getCdnConfig: the CDN DC's public key, when it has one. */
export function cdnConfig(publicPem: string | undefined): TlObject {
  return { _: 'cdnConfig', public_keys: publicPem ? [{ _: 'cdnPublicKey', dc_id: CDN_DC_ID, public_key: publicPem }] : [] };
}
