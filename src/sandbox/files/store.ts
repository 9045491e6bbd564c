// The storage of files: uploaded parts per (user, file_id, DC), documents and photos carrying the dc_id where their
// parts were saved, and each user's saved messages (the seeded media plus what the user sends there: media and text).
// An upload nobody finishes is deleted after uploadTtlMs without a new part (a sweep on an unref'd timer), and the
// parts in progress are capped per user and in all (the least recently written upload goes first).
// FileStore owns the CDN state (cdn.ts) and forwards to it, so the sandbox's knobs and the CDN DC reach every file
// through one object.
import { createHash } from 'node:crypto';
import type { TlObject } from '../../tl/types';
import { badRequest } from '../errors';
import { isSandboxDc } from '../phones';
import { type FileContent, PartsContent, PrefixContent, SEED, type SeedEntry } from '../seed';
import { randomBytes, randomLong, type SandboxUser, weakSweepTimer } from '../world';
import { type CdnToken, CdnFiles } from './cdn';
import type { SavedMessage, StoredDocument, StoredMedia, StoredPhoto } from './media';
import { MIB } from './parts';
import { fileInfo, type SandboxFileInfo, seededMedia } from './seed';

export const MAX_PART_SIZE = 524288;
export const SMALL_FILE_MAX = 10 * MIB;
export const SMALL_FILE_MAX_PARTS = 4000;
export const BIG_FILE_MAX_PARTS = 8000;
/** Message ids of a user's own messages start here (seeded messages are 1..7). */
export const FIRST_UPLOAD_MESSAGE_ID = 1001;

/** random_ids remembered per user for deduplication (oldest forgotten first). */
const SENT_RANDOM_IDS_PER_USER = 10_000;

/** Defaults of FileStoreOptions. */
export const DEFAULT_UPLOAD_TTL_MS = 10 * 60_000;
export const DEFAULT_MAX_UPLOADS_PER_USER = 64;
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * MIB;

export interface FileStoreOptions {
  log?: (line: string) => void;
  seed?: boolean;
  /** Clock in ms (tests move it to expire uploads). */
  now?: () => number;
  /** An upload with no new part for this long is deleted (default 10 min). */
  uploadTtlMs?: number;
  /** How often expired uploads are looked for (default a quarter of the TTL, at most 60 s; 0 = only on new parts). */
  sweepMs?: number;
  /** Uploads in progress per user (default 64) and their bytes in all (default 1 GiB); the least recently written go first. */
  maxUploadsPerUser?: number;
  maxUploadBytes?: number;
}

interface UploadParts {
  big: boolean;
  total?: number;
  parts: Map<number, Uint8Array>;
  userId: bigint;
  bytes: number;
  /** When the last part came (the store's clock). */
  touched: number;
}

function sameBytes(a: Uint8Array, b: unknown): boolean {
  return b instanceof Uint8Array && a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

export class FileStore {
  private readonly documents = new Map<bigint, StoredDocument>();
  private readonly photos = new Map<bigint, StoredPhoto>();
  private readonly byKey = new Map<string, StoredMedia>();
  private readonly seededMessages: SavedMessage[] = [];
  private readonly history = new Map<bigint, SavedMessage[]>();
  private readonly nextMessageId = new Map<bigint, number>();
  /** Per user: random_id of a send → the answer it got (a resend gets the same answer, no new message). */
  private readonly sentByRandomId = new Map<bigint, Map<bigint, TlObject>>();
  /** Uploads in progress, least recently written first. */
  private readonly uploads = new Map<string, UploadParts>();
  private uploadBytes = 0;
  private readonly perUser = new Map<bigint, number>();
  private lastSweep: number;
  private readonly sweepEveryMs: number;
  private readonly now: () => number;
  private readonly uploadTtlMs: number;
  private readonly maxUploadsPerUser: number;
  private readonly maxUploadBytes: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly cdn: CdnFiles;
  private pts = 1;
  private readonly log: (line: string) => void;

  constructor(opts: FileStoreOptions = {}) {
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? Date.now;
    this.uploadTtlMs = opts.uploadTtlMs ?? DEFAULT_UPLOAD_TTL_MS;
    this.maxUploadsPerUser = opts.maxUploadsPerUser ?? DEFAULT_MAX_UPLOADS_PER_USER;
    this.maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    this.sweepEveryMs = Math.max(1000, Math.min(60_000, Math.floor(this.uploadTtlMs / 4)));
    this.lastSweep = this.now();
    const sweepMs = opts.sweepMs ?? this.sweepEveryMs;
    if (sweepMs > 0) this.sweepTimer = weakSweepTimer(this, sweepMs, (f) => f.sweepUploads());
    this.cdn = new CdnFiles(this.log);
    if (opts.seed !== false) for (const e of SEED) this.addSeed(e);
  }

  /** Deletes uploads with no new part for uploadTtlMs; returns how many. */
  sweepUploads(): number {
    const now = this.now();
    this.lastSweep = now;
    let n = 0;
    for (const [k, u] of this.uploads) {
      if (now - u.touched < this.uploadTtlMs) break; // least recently written first: the rest are newer
      this.dropUpload(k, u);
      n++;
    }
    if (n) this.log(`uploads: ${n} unfinished upload(s) expired`);
    return n;
  }

  /** Uploads in progress and their bytes (tests, diagnostics). */
  uploadsInProgress(): { count: number; bytes: number } {
    return { count: this.uploads.size, bytes: this.uploadBytes };
  }

  /** Stops the sweep timer (the sandbox's stop). */
  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private dropUpload(k: string, u: UploadParts): void {
    if (this.uploads.get(k) !== u) return;
    this.uploads.delete(k);
    this.uploadBytes -= u.bytes;
    const left = (this.perUser.get(u.userId) ?? 1) - 1;
    if (left > 0) this.perUser.set(u.userId, left);
    else this.perUser.delete(u.userId);
  }

  /** A new upload (replacing one of the same key, e.g. small ↔ big). */
  private newUpload(k: string, u: UploadParts): void {
    const old = this.uploads.get(k);
    if (old) this.dropUpload(k, old);
    this.uploads.set(k, u);
    this.perUser.set(u.userId, (this.perUser.get(u.userId) ?? 0) + 1);
  }

  /** Stores one part: the upload becomes the most recently written; then the caps (never on the upload just written). */
  private putPart(k: string, u: UploadParts, part: number, bytes: Uint8Array): void {
    const old = u.parts.get(part);
    u.parts.set(part, bytes.slice());
    const delta = bytes.length - (old?.length ?? 0);
    u.bytes += delta;
    this.uploadBytes += delta;
    u.touched = this.now();
    this.uploads.delete(k);
    this.uploads.set(k, u);
    for (const [ok, ou] of this.uploads) {
      const mine = this.perUser.get(u.userId) ?? 0;
      if (ou === u || (mine <= this.maxUploadsPerUser && this.uploadBytes <= this.maxUploadBytes)) break;
      if ((ou.userId === u.userId && mine > this.maxUploadsPerUser) || this.uploadBytes > this.maxUploadBytes) this.dropUpload(ok, ou);
    }
    if (u.touched - this.lastSweep >= this.sweepEveryMs) this.sweepUploads();
  }

  private addSeed(e: SeedEntry): void {
    const { media, message } = seededMedia(e);
    if (media.kind === 'document') this.documents.set(media.id, media);
    else this.photos.set(media.id, media);
    this.byKey.set(e.key, media);
    this.seededMessages.push(message);
  }

  // ---- lookups and knobs ----

  media(key: string): StoredMedia | undefined {
    const m = this.byKey.get(key);
    if (m) return m;
    if (/^-?\d+$/.test(key)) {
      const id = BigInt(key);
      return this.documents.get(id) ?? this.photos.get(id);
    }
    return undefined;
  }

  private requireMedia(key: string): StoredMedia {
    const m = this.media(key);
    if (!m) throw new RangeError(`no sandbox file ${key}`);
    return m;
  }

  moveFile(key: string, dcId: number): void {
    if (!isSandboxDc(dcId)) throw new RangeError(`DC must be 1..5, got ${dcId}`);
    const m = this.requireMedia(key);
    const from = m.dcId;
    m.dcId = dcId;
    this.log(`file ${key} moved from DC${from} to DC${dcId}`);
  }

  setCdnReuploadNeeded(key: string, needed: boolean): void {
    this.cdn.setReuploadNeeded(key, this.requireMedia(key), needed);
  }

  /** The next `count` non-empty upload.cdnFile answers get one plaintext byte flipped (0 turns it off). */
  corruptCdnParts(count: number): void {
    this.cdn.corruptParts(count);
  }

  /**
   * The plain bytes a CDN answer carries: `plain` itself, or (while the corruptCdnParts knob has answers left and
   * `plain` is not empty) a copy with the byte at ⌊n/2⌋ XOR 0xFF — it still decrypts, but fails its SHA-256 FileHash.
   */
  cdnPlain(plain: Uint8Array, offset: number): Uint8Array {
    return this.cdn.plain(plain, offset);
  }

  expireFileTokens(): void {
    this.cdn.expireTokens();
  }

  /** The messages of a user's saved messages, newest first (seeded ones + own). */
  messagesOf(userId: bigint): SavedMessage[] {
    return [...(this.history.get(userId) ?? []), ...this.seededMessages].sort((a, b) => b.id - a.id);
  }

  files(): SandboxFileInfo[] {
    return [...this.byKey.values()].map((m) => fileInfo(m, this.seededMessages.find((s) => s.media === m)?.id ?? 0));
  }

  // ---- uploads ----

  saveSmallPart(userId: bigint, dcId: number, fileId: bigint, part: number, bytes: Uint8Array): void {
    if (!Number.isInteger(part) || part < 0 || part >= SMALL_FILE_MAX_PARTS) throw badRequest('FILE_PART_INVALID');
    checkPartBytes(bytes);
    const k = uploadKey(userId, fileId, dcId);
    let u = this.uploads.get(k);
    if (!u || u.big) {
      u = { big: false, parts: new Map(), userId, bytes: 0, touched: this.now() };
      this.newUpload(k, u);
    }
    this.putPart(k, u, part, bytes);
  }

  saveBigPart(userId: bigint, dcId: number, fileId: bigint, part: number, total: number, bytes: Uint8Array): void {
    if (!Number.isInteger(total) || total < 1 || total > BIG_FILE_MAX_PARTS) throw badRequest('FILE_PARTS_INVALID');
    if (!Number.isInteger(part) || part < 0 || part >= total) throw badRequest('FILE_PART_INVALID');
    checkPartBytes(bytes);
    if (part < total - 1 && (bytes.length % 1024 !== 0 || MAX_PART_SIZE % bytes.length !== 0)) throw badRequest('FILE_PART_SIZE_INVALID');
    const k = uploadKey(userId, fileId, dcId);
    let u = this.uploads.get(k);
    if (u?.big && u.total !== total) throw badRequest('FILE_PARTS_INVALID');
    if (!u?.big) {
      u = { big: true, total, parts: new Map(), userId, bytes: 0, touched: this.now() };
      this.newUpload(k, u);
    }
    this.putPart(k, u, part, bytes);
  }

  /** Turns an InputFile into content: checks the parts (FILE_PART_X_MISSING, ...) and consumes the upload. */
  takeUpload(userId: bigint, callDc: number, input: unknown): { content: FileContent; dcId: number; name: string } {
    const f = input as TlObject | undefined;
    if (!f || (f._ !== 'inputFile' && f._ !== 'inputFileBig') || typeof f.id !== 'bigint') throw badRequest('MEDIA_INVALID');
    const big = f._ === 'inputFileBig';
    const parts = f.parts;
    if (typeof parts !== 'number' || !Number.isInteger(parts) || parts < 1 || parts > (big ? BIG_FILE_MAX_PARTS : SMALL_FILE_MAX_PARTS))
      throw badRequest('FILE_PARTS_INVALID');
    let found: { k: string; u: UploadParts; dcId: number } | undefined;
    for (const dc of [callDc, 1, 2, 3, 4, 5]) {
      const k = uploadKey(userId, f.id, dc);
      const u = this.uploads.get(k);
      if (u) {
        found = { k, u, dcId: dc };
        break;
      }
    }
    if (!found) throw badRequest('FILE_PART_0_MISSING');
    const { u } = found;
    if (big && u.total !== undefined && u.total !== parts) throw badRequest('FILE_PARTS_INVALID');
    const list: Uint8Array[] = [];
    for (let i = 0; i < parts; i++) {
      const p = u.parts.get(i);
      if (!p) throw badRequest(`FILE_PART_${i}_MISSING`);
      list.push(p);
    }
    const first = list[0]!.length;
    if (parts > 1) {
      if (first % 1024 !== 0 || MAX_PART_SIZE % first !== 0) throw badRequest('FILE_PART_SIZE_INVALID');
      for (let i = 1; i < parts; i++) {
        const len = list[i]!.length;
        if (i < parts - 1 ? len !== first : len > first) throw badRequest('FILE_PART_SIZE_CHANGED');
      }
    }
    const content = new PartsContent(list);
    if (!big && content.size > SMALL_FILE_MAX) throw badRequest('FILE_PARTS_INVALID');
    if (!big && typeof f.md5_checksum === 'string' && f.md5_checksum !== '') {
      const h = createHash('md5');
      for (const p of list) h.update(p);
      if (h.digest('hex') !== f.md5_checksum.toLowerCase()) throw badRequest('MD5_CHECKSUM_INVALID');
    }
    this.dropUpload(found.k, found.u);
    return { content, dcId: found.dcId, name: typeof f.name === 'string' ? f.name : '' };
  }

  // ---- media ----

  /** A document or photo from an InputMedia (uploaded or existing). */
  mediaFrom(user: SandboxUser, callDc: number, input: unknown, now: number): StoredMedia {
    const m = input as TlObject | undefined;
    const date = Math.floor(now / 1000);
    if (!m || typeof m._ !== 'string') throw badRequest('MEDIA_INVALID');
    switch (m._) {
      case 'inputMediaUploadedDocument': {
        const up = this.takeUpload(user.id, callDc, m.file);
        const attributes = Array.isArray(m.attributes) ? (m.attributes as TlObject[]).filter((a) => a && typeof a._ === 'string') : [];
        let name = (attributes.find((a) => a._ === 'documentAttributeFilename')?.file_name as string | undefined) ?? '';
        if (!name) {
          name = up.name || 'file';
          attributes.push({ _: 'documentAttributeFilename', file_name: name });
        }
        const doc: StoredDocument = {
          kind: 'document',
          id: this.newId(),
          accessHash: randomLong(),
          fileReference: randomBytes(16),
          dcId: up.dcId,
          date,
          content: up.content,
          mimeType: typeof m.mime_type === 'string' && m.mime_type ? m.mime_type : 'application/octet-stream',
          name,
          attributes,
          cdn: false,
        };
        this.documents.set(doc.id, doc);
        this.log(`DC${callDc}: user ${user.id} uploaded document ${doc.id} (${doc.content.size} bytes, dc_id ${doc.dcId})`);
        return doc;
      }
      case 'inputMediaUploadedPhoto': {
        const up = this.takeUpload(user.id, callDc, m.file);
        const n = up.content.size;
        const photo: StoredPhoto = {
          kind: 'photo',
          id: this.newId(),
          accessHash: randomLong(),
          fileReference: randomBytes(16),
          dcId: up.dcId,
          date,
          cdn: false,
          sizes: [
            { type: 's', w: 90, h: 90, content: new PrefixContent(up.content, Math.ceil(n / 16)) },
            { type: 'm', w: 320, h: 320, content: new PrefixContent(up.content, Math.ceil(n / 4)) },
            { type: 'x', w: 800, h: 800, content: up.content },
          ],
        };
        this.photos.set(photo.id, photo);
        this.log(`DC${callDc}: user ${user.id} uploaded photo ${photo.id} (${n} bytes, dc_id ${photo.dcId})`);
        return photo;
      }
      case 'inputMediaDocument': {
        const i = m.id as TlObject | undefined;
        const doc = i && i._ === 'inputDocument' && typeof i.id === 'bigint' ? this.documents.get(i.id) : undefined;
        if (!doc || doc.accessHash !== i!.access_hash) throw badRequest('MEDIA_INVALID');
        return doc;
      }
      case 'inputMediaPhoto': {
        const i = m.id as TlObject | undefined;
        const photo = i && i._ === 'inputPhoto' && typeof i.id === 'bigint' ? this.photos.get(i.id) : undefined;
        if (!photo || photo.accessHash !== i!.access_hash) throw badRequest('MEDIA_INVALID');
        return photo;
      }
      default:
        throw badRequest('MEDIA_INVALID');
    }
  }

  private newId(): bigint {
    for (;;) {
      const id = randomLong();
      if (id > 0n && !this.documents.has(id) && !this.photos.has(id)) return id;
    }
  }

  addMessage(userId: bigint, content: { message: string; media?: StoredMedia; entities?: TlObject[] }, now: number): { msg: SavedMessage; pts: number } {
    const id = this.nextMessageId.get(userId) ?? FIRST_UPLOAD_MESSAGE_ID;
    this.nextMessageId.set(userId, id + 1);
    const msg: SavedMessage = { id, date: Math.floor(now / 1000), ...content };
    let list = this.history.get(userId);
    if (!list) this.history.set(userId, (list = []));
    list.push(msg);
    return { msg, pts: ++this.pts };
  }

  /**
   * A send with a random_id: the answer an earlier send with the same random_id by this user got, or `send()`'s
   * (remembered). Telegram documents RANDOM_ID_DUPLICATE for a reused id; the sandbox reads random_id as the
   * client's idempotency key instead, so a resend after a lost answer finds the message it already made.
   */
  sendOnce(userId: bigint, randomId: unknown, send: () => TlObject): TlObject {
    if (typeof randomId !== 'bigint') return send();
    let sent = this.sentByRandomId.get(userId);
    const earlier = sent?.get(randomId);
    if (earlier) return earlier;
    const answer = send();
    if (!sent) this.sentByRandomId.set(userId, (sent = new Map()));
    sent.set(randomId, answer);
    if (sent.size > SENT_RANDOM_IDS_PER_USER) sent.delete(sent.keys().next().value as bigint);
    return answer;
  }

  // ---- locations ----

  /** Resolves an InputFileLocation: FILE_ID_INVALID, LOCATION_INVALID, FILE_REFERENCE_EMPTY / _EXPIRED. */
  resolve(location: unknown): { media: StoredMedia; content: FileContent; type: string } {
    const loc = location as TlObject | undefined;
    if (!loc || typeof loc._ !== 'string') throw badRequest('LOCATION_INVALID');
    let media: StoredMedia | undefined;
    if (loc._ === 'inputDocumentFileLocation') {
      if (typeof loc.id !== 'bigint') throw badRequest('LOCATION_INVALID');
      media = this.documents.get(loc.id);
    } else if (loc._ === 'inputPhotoFileLocation') {
      if (typeof loc.id !== 'bigint') throw badRequest('LOCATION_INVALID');
      media = this.photos.get(loc.id);
    } else {
      throw badRequest('LOCATION_INVALID');
    }
    if (!media) throw badRequest('FILE_ID_INVALID');
    if (media.accessHash !== loc.access_hash) throw badRequest('LOCATION_INVALID');
    let content: FileContent;
    let type: string;
    const thumb = typeof loc.thumb_size === 'string' ? loc.thumb_size : '';
    if (media.kind === 'document') {
      if (thumb !== '') throw badRequest('LOCATION_INVALID');
      content = media.content;
      type = 'storage.filePartial';
    } else {
      const size = media.sizes.find((s) => s.type === thumb);
      if (!size) throw badRequest('LOCATION_INVALID');
      content = size.content;
      type = 'storage.fileJpeg';
    }
    const ref = loc.file_reference;
    if (!(ref instanceof Uint8Array) || ref.length === 0) throw badRequest('FILE_REFERENCE_EMPTY');
    if (!sameBytes(media.fileReference, ref)) throw badRequest('FILE_REFERENCE_EXPIRED');
    return { media, content, type };
  }

  // ---- CDN (master side) ----
  tokenFor(doc: StoredDocument): CdnToken {
    return this.cdn.tokenFor(doc);
  }

  token(fileToken: unknown): CdnToken {
    return this.cdn.token(fileToken);
  }

  onCdnNow(doc: StoredDocument): boolean {
    return this.cdn.onCdnNow(doc);
  }

  /** A new request token for a file the CDN does not have. */
  requestToken(t: CdnToken): Uint8Array {
    return this.cdn.requestToken(t);
  }

  reupload(fileToken: unknown, requestToken: unknown): CdnToken {
    return this.cdn.reupload(fileToken, requestToken);
  }
}

function uploadKey(userId: bigint, fileId: bigint, dcId: number): string {
  return `${userId}:${fileId}:${dcId}`;
}

function checkPartBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw badRequest('FILE_PART_EMPTY');
  if (bytes.length > MAX_PART_SIZE) throw badRequest('FILE_PART_TOO_BIG');
}
