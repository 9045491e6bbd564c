// Files in the sandbox world: uploaded parts per (user, file_id, DC), documents and photos carrying the dc_id
// where their parts were saved, the seeded media every user sees in their saved messages (plus what the user
// sends there: media and text), upload.getFile with the documented part rules, file hashes, and the master-DC side
// of the CDN (redirects, tokens, reupload).
// The methods are plain functions over a FileStore, handed to SandboxApi as extra methods (see index.ts).
// An upload nobody finishes is deleted after uploadTtlMs without a new part (a sweep on an unref'd timer), and the
// parts in progress are capped per user and in all (the least recently written upload goes first).
import { createHash } from 'node:crypto';
import type { TlObject } from '../tl/types';
import { tlToJson } from '../tl/json';
import type { CallContext } from './api';
import { buildConfig } from './config';
import { SandboxRpcError, badRequest, seeOther } from './errors';
import { isSandboxDc } from './phones';
import { PartsContent, PrefixContent, SEED, SEED_DATE, StreamContent, photoSizeContentName, seedIds, type FileContent, type SeedEntry } from './seed';
import { randomBytes, randomLong, weakSweepTimer, type SandboxUser } from './world';

export const CDN_DC_ID = 203;
/** FileHash ranges are 128 KiB. */
export const HASH_RANGE = 131072;
/** FileHash entries per answer (1 MiB worth). */
export const HASHES_PER_ANSWER = 8;
export const MIB = 1048576;
export const MAX_PART_SIZE = 524288;
export const SMALL_FILE_MAX = 10 * MIB;
export const SMALL_FILE_MAX_PARTS = 4000;
export const BIG_FILE_MAX_PARTS = 8000;
/** Message ids of a user's own messages start here (seeded messages are 1..7). */
export const FIRST_UPLOAD_MESSAGE_ID = 1001;

export type Method = (ctx: CallContext, params: TlObject) => unknown;

/** What every stored file (document or photo) has: its identity, the DC it lives on, when it was sent. */
interface StoredMediaBase {
  key?: string;
  id: bigint;
  accessHash: bigint;
  fileReference: Uint8Array;
  dcId: number;
  date: number;
}

export interface StoredDocument extends StoredMediaBase {
  kind: 'document';
  content: FileContent;
  mimeType: string;
  name: string;
  attributes: TlObject[];
  cdn: boolean;
  sha256?: string;
}

export interface StoredPhotoSize {
  type: string;
  w: number;
  h: number;
  content: FileContent;
  sha256?: string;
}

export interface StoredPhoto extends StoredMediaBase {
  kind: 'photo';
  sizes: StoredPhotoSize[];
  cdn: false;
}

export type StoredMedia = StoredDocument | StoredPhoto;

export interface SavedMessage {
  id: number;
  date: number;
  message: string;
  /** Absent for a text message. */
  media?: StoredMedia;
  entities?: TlObject[];
}

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

export interface CdnToken {
  token: Uint8Array;
  doc: StoredDocument;
  key: Uint8Array;
  iv: Uint8Array;
  /** hex of request tokens handed out by the CDN DC for this file token. */
  requests: Set<string>;
}

export type JsonLocation = Record<string, unknown>;

export interface SandboxFileInfo {
  key: string;
  kind: 'document' | 'photo';
  messageId: number;
  name?: string;
  mimeType?: string;
  dcId: number;
  size: number;
  sha256: string;
  cdn: boolean;
  /** Document or photo id, decimal. */
  id: string;
  location: JsonLocation;
  sizes?: { type: string; size: number; sha256: string; location: JsonLocation }[];
}

const hex = (u8: Uint8Array): string => Buffer.from(u8).toString('hex');

function sameBytes(a: Uint8Array, b: unknown): boolean {
  return b instanceof Uint8Array && a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

function num(v: unknown): number {
  if (typeof v === 'bigint') return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? NaN : Number(v);
  return typeof v === 'number' ? v : NaN;
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
  private readonly tokens = new Map<string, CdnToken>();
  private readonly tokenByDoc = new Map<bigint, CdnToken>();
  /** Documents the CDN DC currently holds (after upload.reuploadCdnFile). */
  private readonly onCdn = new Set<bigint>();
  /** upload.cdnFile answers still to corrupt (corruptCdnParts knob). */
  private cdnCorruptLeft = 0;
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
    const { id, accessHash, fileReference } = seedIds(e);
    const date = SEED_DATE + e.messageId * 60;
    let media: StoredMedia;
    if (e.kind === 'document') {
      media = {
        kind: 'document',
        key: e.key,
        id,
        accessHash,
        fileReference,
        dcId: e.dcId,
        date,
        content: new StreamContent(e.content, e.size),
        mimeType: e.mimeType,
        name: e.name,
        attributes: [{ _: 'documentAttributeFilename', file_name: e.name }],
        cdn: e.cdn,
        sha256: e.sha256,
      };
      this.documents.set(id, media);
    } else {
      media = {
        kind: 'photo',
        key: e.key,
        id,
        accessHash,
        fileReference,
        dcId: e.dcId,
        date,
        cdn: false,
        sizes: e.sizes.map((s) => ({
          type: s.type,
          w: s.w,
          h: s.h,
          content: new StreamContent(photoSizeContentName(e.key, s.type), s.size),
          sha256: s.sha256,
        })),
      };
      this.photos.set(id, media);
    }
    this.byKey.set(e.key, media);
    this.seededMessages.push({ id: e.messageId, date, message: e.key, media });
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
    const m = this.requireMedia(key);
    if (needed) this.onCdn.delete(m.id);
    else this.onCdn.add(m.id);
    this.log(`file ${key}: CDN copy ${needed ? 'dropped (reupload needed)' : 'present'}`);
  }

  /** The next `count` non-empty upload.cdnFile answers get one plaintext byte flipped (0 turns it off). */
  corruptCdnParts(count: number): void {
    if (!(count >= 0)) throw new RangeError(`count must be ≥ 0, got ${count}`);
    this.cdnCorruptLeft = count === Infinity ? Infinity : Math.floor(count);
    this.log(`CDN: the next ${this.cdnCorruptLeft} upload.cdnFile answer(s) will be corrupted`);
  }

  /**
   * The plain bytes a CDN answer carries: `plain` itself, or (while the corruptCdnParts knob has answers left and
   * `plain` is not empty) a copy with the byte at ⌊n/2⌋ XOR 0xFF — it still decrypts, but fails its SHA-256 FileHash.
   */
  cdnPlain(plain: Uint8Array, offset: number): Uint8Array {
    if (this.cdnCorruptLeft <= 0 || plain.length === 0) return plain;
    this.cdnCorruptLeft--;
    const bad = new Uint8Array(plain); // never the stored bytes themselves
    const at = Math.floor(bad.length / 2);
    bad[at] = bad[at]! ^ 0xff;
    this.log(`CDN: fault: byte ${offset + at} of the answer at ${offset} flipped (${this.cdnCorruptLeft} more)`);
    return bad;
  }

  expireFileTokens(): void {
    const n = this.tokens.size;
    this.tokens.clear();
    this.tokenByDoc.clear();
    this.log(`CDN: ${n} file token(s) expired`);
  }

  /** The messages of a user's saved messages, newest first (seeded ones + own). */
  messagesOf(userId: bigint): SavedMessage[] {
    return [...(this.history.get(userId) ?? []), ...this.seededMessages].sort((a, b) => b.id - a.id);
  }

  files(): SandboxFileInfo[] {
    return [...this.byKey.values()].map((m) => this.info(m));
  }

  private info(m: StoredMedia): SandboxFileInfo {
    const key = m.key ?? m.id.toString();
    const messageId = this.seededMessages.find((s) => s.media === m)?.id ?? 0;
    if (m.kind === 'document') {
      return {
        key,
        kind: 'document',
        messageId,
        name: m.name,
        mimeType: m.mimeType,
        dcId: m.dcId,
        size: m.content.size,
        sha256: m.sha256 ?? contentHex(m.content),
        cdn: m.cdn,
        id: m.id.toString(),
        location: tlToJson(documentLocation(m)) as JsonLocation,
      };
    }
    const largest = m.sizes[m.sizes.length - 1]!;
    const sizes = m.sizes.map((s) => ({
      type: s.type,
      size: s.content.size,
      sha256: s.sha256 ?? contentHex(s.content),
      location: tlToJson(photoLocation(m, s.type)) as JsonLocation,
    }));
    return {
      key,
      kind: 'photo',
      messageId,
      dcId: m.dcId,
      size: largest.content.size,
      sha256: sizes[sizes.length - 1]!.sha256,
      cdn: false,
      id: m.id.toString(),
      location: sizes[sizes.length - 1]!.location,
      sizes,
    };
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

  /** A new request token for a file the CDN does not have. */
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

function uploadKey(userId: bigint, fileId: bigint, dcId: number): string {
  return `${userId}:${fileId}:${dcId}`;
}

function checkPartBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw badRequest('FILE_PART_EMPTY');
  if (bytes.length > MAX_PART_SIZE) throw badRequest('FILE_PART_TOO_BIG');
}

function contentHex(c: FileContent): string {
  const h = createHash('sha256');
  for (let off = 0; off < c.size; off += MIB) h.update(c.read(off, MIB));
  return h.digest('hex');
}

export function documentLocation(d: StoredDocument): TlObject {
  return { _: 'inputDocumentFileLocation', id: d.id, access_hash: d.accessHash, file_reference: d.fileReference, thumb_size: '' };
}

export function photoLocation(p: StoredPhoto, type: string): TlObject {
  return { _: 'inputPhotoFileLocation', id: p.id, access_hash: p.accessHash, file_reference: p.fileReference, thumb_size: type };
}

/**
 * The upload.getFile / upload.getCdnFile part rules. Without `precise`: offset % 4096, limit % 4096, 1048576 % limit;
 * with it: offset and limit % 1024, limit ≤ 1048576; always inside one 1 MiB block.
 */
export function checkPartRequest(offsetRaw: unknown, limitRaw: unknown, precise: boolean): { offset: number; limit: number } {
  const offset = num(offsetRaw);
  const limit = num(limitRaw);
  if (!Number.isSafeInteger(offset) || offset < 0) throw badRequest('OFFSET_INVALID');
  if (!Number.isInteger(limit) || limit <= 0) throw badRequest('LIMIT_INVALID');
  if (precise) {
    if (limit % 1024 !== 0 || limit > MIB) throw badRequest('LIMIT_INVALID');
    if (offset % 1024 !== 0) throw badRequest('OFFSET_INVALID');
  } else {
    if (limit % 4096 !== 0 || MIB % limit !== 0) throw badRequest('LIMIT_INVALID');
    if (offset % 4096 !== 0) throw badRequest('OFFSET_INVALID');
  }
  if (Math.floor(offset / MIB) !== Math.floor((offset + limit - 1) / MIB)) throw badRequest('LIMIT_INVALID');
  return { offset, limit };
}

/** Up to HASHES_PER_ANSWER fileHash objects for the 128 KiB ranges starting with the one holding `offset`. */
export function fileHashes(c: FileContent, offsetRaw: unknown, count = HASHES_PER_ANSWER): TlObject[] {
  const offset = num(offsetRaw);
  if (!Number.isSafeInteger(offset) || offset < 0) throw badRequest('OFFSET_INVALID');
  const out: TlObject[] = [];
  for (let start = Math.floor(offset / HASH_RANGE) * HASH_RANGE; start < c.size && out.length < count; start += HASH_RANGE) {
    const bytes = c.read(start, HASH_RANGE);
    out.push({ _: 'fileHash', offset: BigInt(start), limit: bytes.length, hash: new Uint8Array(createHash('sha256').update(bytes).digest()) });
  }
  return out;
}

// ---- TL builders ----

export function mediaTl(m: StoredMedia): TlObject {
  if (m.kind === 'document') {
    return {
      _: 'messageMediaDocument',
      document: {
        _: 'document',
        id: m.id,
        access_hash: m.accessHash,
        file_reference: m.fileReference,
        date: m.date,
        mime_type: m.mimeType,
        size: BigInt(m.content.size),
        dc_id: m.dcId,
        attributes: m.attributes,
      },
    };
  }
  return {
    _: 'messageMediaPhoto',
    photo: {
      _: 'photo',
      id: m.id,
      access_hash: m.accessHash,
      file_reference: m.fileReference,
      date: m.date,
      sizes: m.sizes.map((s) => ({ _: 'photoSize', type: s.type, w: s.w, h: s.h, size: s.content.size })),
      dc_id: m.dcId,
    },
  };
}

export function messageTl(userId: bigint, msg: SavedMessage): TlObject {
  return {
    _: 'message',
    out: true,
    id: msg.id,
    from_id: { _: 'peerUser', user_id: userId },
    peer_id: { _: 'peerUser', user_id: userId },
    date: msg.date,
    message: msg.message,
    ...(msg.media ? { media: mediaTl(msg.media) } : {}),
    ...(msg.entities?.length ? { entities: msg.entities } : {}),
  };
}

/** Telegram's limit on a message's text (config.message_length_max). */
export const MESSAGE_LENGTH_MAX = 4096;

// ---- methods ----

function requireUser(ctx: CallContext): SandboxUser {
  if (!ctx.user) throw new SandboxRpcError(401, 'AUTH_KEY_UNREGISTERED');
  return ctx.user;
}

function requireSelfPeer(ctx: CallContext, peer: unknown): void {
  const p = peer as TlObject | undefined;
  if (p && (p._ === 'inputPeerSelf' || (p._ === 'inputPeerUser' && p.user_id === ctx.user?.id))) return;
  throw badRequest('PEER_ID_INVALID');
}

function selfUserTl(user: SandboxUser, nowMs: number): TlObject {
  const u: TlObject = {
    _: 'user',
    self: true,
    id: user.id,
    access_hash: user.accessHash,
    first_name: user.firstName,
    phone: user.phone,
    status: { _: 'userStatusOnline', expires: Math.floor(nowMs / 1000) + 300 },
  };
  if (user.lastName) u.last_name = user.lastName;
  return u;
}

export interface FileMethodsOptions {
  /** Where the CDN DC listens (for help.getConfig), when it does. */
  cdnEndpoint?: () => { host: string; port: number } | undefined;
  /** The CDN DC's public key PEM (help.getCdnConfig). */
  cdnPublicPem?: () => string | undefined;
}

export function fileMethods(store: FileStore, opts: FileMethodsOptions = {}): Record<string, Method> {
  const getFile: Method = (ctx, p) => {
    requireUser(ctx);
    const { media, content, type } = store.resolve(p.location);
    if (media.dcId !== ctx.dcId) throw seeOther('FILE_MIGRATE', media.dcId);
    const { offset, limit } = checkPartRequest(p.offset, p.limit, p.precise === true);
    if (media.kind === 'document' && media.cdn && p.cdn_supported === true) {
      const t = store.tokenFor(media);
      return {
        _: 'upload.fileCdnRedirect',
        dc_id: CDN_DC_ID,
        file_token: t.token,
        encryption_key: t.key,
        encryption_iv: t.iv,
        file_hashes: fileHashes(content, 0),
      };
    }
    return { _: 'upload.file', type: { _: type }, mtime: media.date, bytes: content.read(offset, limit) };
  };

  return {
    'help.getConfig': (ctx) => {
      const cfg = buildConfig(ctx.dcId, ctx.topology(), ctx.world.now(), ctx.configExpires());
      const cdn = opts.cdnEndpoint?.();
      if (cdn) (cfg.dc_options as TlObject[]).push({ _: 'dcOption', cdn: true, id: CDN_DC_ID, ip_address: cdn.host, port: cdn.port });
      return cfg;
    },
    'help.getCdnConfig': () => {
      const pem = opts.cdnPublicPem?.();
      return { _: 'cdnConfig', public_keys: pem ? [{ _: 'cdnPublicKey', dc_id: CDN_DC_ID, public_key: pem }] : [] };
    },
    'upload.saveFilePart': (ctx, p) => {
      const user = requireUser(ctx);
      if (typeof p.file_id !== 'bigint') throw badRequest('FILE_PART_INVALID');
      store.saveSmallPart(user.id, ctx.dcId, p.file_id, p.file_part as number, p.bytes as Uint8Array);
      return true;
    },
    'upload.saveBigFilePart': (ctx, p) => {
      const user = requireUser(ctx);
      if (typeof p.file_id !== 'bigint') throw badRequest('FILE_PART_INVALID');
      store.saveBigPart(user.id, ctx.dcId, p.file_id, p.file_part as number, p.file_total_parts as number, p.bytes as Uint8Array);
      return true;
    },
    'messages.uploadMedia': (ctx, p) => {
      const user = requireUser(ctx);
      requireSelfPeer(ctx, p.peer);
      return mediaTl(store.mediaFrom(user, ctx.dcId, p.media, ctx.world.now()));
    },
    'messages.sendMedia': (ctx, p) => {
      const user = requireUser(ctx);
      requireSelfPeer(ctx, p.peer);
      return store.sendOnce(user.id, p.random_id, () => {
        const now = ctx.world.now();
        const media = store.mediaFrom(user, ctx.dcId, p.media, now);
        const { msg, pts } = store.addMessage(user.id, { message: typeof p.message === 'string' ? p.message : '', media }, now);
        const updates: TlObject[] = [];
        if (typeof p.random_id === 'bigint') updates.push({ _: 'updateMessageID', id: msg.id, random_id: p.random_id });
        updates.push({ _: 'updateNewMessage', message: messageTl(user.id, msg), pts, pts_count: 1 });
        return { _: 'updates', updates, users: [selfUserTl(user, now)], chats: [], date: msg.date, seq: 0 };
      });
    },
    // Saved Messages only. A private chat's send is answered with updateShortSentMessage, as Telegram does (the
    // client builds the message from its request and this answer).
    'messages.sendMessage': (ctx, p) => {
      const user = requireUser(ctx);
      requireSelfPeer(ctx, p.peer);
      return store.sendOnce(user.id, p.random_id, () => {
        const text = typeof p.message === 'string' ? p.message : '';
        if (text.trim() === '') throw badRequest('MESSAGE_EMPTY');
        if (text.length > MESSAGE_LENGTH_MAX) throw badRequest('MESSAGE_TOO_LONG');
        const entities = Array.isArray(p.entities) ? (p.entities as TlObject[]) : [];
        const { msg, pts } = store.addMessage(user.id, { message: text, ...(entities.length ? { entities } : {}) }, ctx.world.now());
        return { _: 'updateShortSentMessage', out: true, id: msg.id, pts, pts_count: 1, date: msg.date, ...(entities.length ? { entities } : {}) };
      });
    },
    'messages.getHistory': (ctx, p) => {
      const user = requireUser(ctx);
      requireSelfPeer(ctx, p.peer);
      let list = store.messagesOf(user.id);
      const offsetId = typeof p.offset_id === 'number' ? p.offset_id : 0;
      const addOffset = typeof p.add_offset === 'number' ? p.add_offset : 0;
      const limitRaw = typeof p.limit === 'number' ? p.limit : 0;
      const limit = limitRaw <= 0 || limitRaw > 100 ? 100 : limitRaw;
      let start = offsetId > 0 ? list.findIndex((m) => m.id < offsetId) : 0;
      if (start < 0) start = list.length;
      start = Math.max(0, start + addOffset);
      list = list.slice(start, start + limit);
      const maxId = typeof p.max_id === 'number' ? p.max_id : 0;
      const minId = typeof p.min_id === 'number' ? p.min_id : 0;
      if (maxId > 0) list = list.filter((m) => m.id < maxId);
      if (minId > 0) list = list.filter((m) => m.id > minId);
      return {
        _: 'messages.messages',
        messages: list.map((m) => messageTl(user.id, m)),
        topics: [],
        chats: [],
        users: [selfUserTl(user, ctx.world.now())],
      };
    },
    'upload.getFile': getFile,
    'upload.getFileHashes': (ctx, p) => {
      requireUser(ctx);
      const { media, content } = store.resolve(p.location);
      if (media.dcId !== ctx.dcId) throw seeOther('FILE_MIGRATE', media.dcId);
      return fileHashes(content, p.offset);
    },
    'upload.reuploadCdnFile': (ctx, p) => {
      requireUser(ctx);
      const t = store.reupload(p.file_token, p.request_token);
      return fileHashes(t.doc.content, 0);
    },
    'upload.getCdnFileHashes': (ctx, p) => {
      requireUser(ctx);
      const t = store.token(p.file_token);
      return fileHashes(t.doc.content, p.offset);
    },
  };
}

/** Results that are file bytes (random-looking): gzip would cost ~40 ms per MiB and save nothing. */
export function isFilePartResult(v: unknown): boolean {
  const name = v && typeof v === 'object' ? (v as TlObject)._ : undefined;
  return name === 'upload.file' || name === 'upload.cdnFile';
}

/**
 * Per connection: wraps the handler so that ServeMtprotoOptions.gzipThreshold (read by the dispatcher for each
 * result, right after the handler) is "never" after a file-part result and `threshold` otherwise. Telegram does not
 * gzip file parts either. Concurrent calls may make it pick wrongly, which only costs or saves a gzip attempt.
 */
export function filePartGzipPolicy<C>(
  handler: (call: C) => Promise<unknown>,
  threshold = 1024,
): { handler: (call: C) => Promise<unknown>; threshold(): number } {
  let lastWasFile = false;
  return {
    handler: async (call: C) => {
      const v = await handler(call);
      lastWasFile = isFilePartResult(v);
      return v;
    },
    threshold: () => (lastWasFile ? Number.MAX_SAFE_INTEGER : threshold),
  };
}
