// The sandbox's known files: each seed entry (../seed.ts) becomes a stored document or photo shown in every user's
// saved messages, and any stored file can be described as a SandboxFileInfo (the info file's `files`) carrying
// the documented sha256 when there is one, else the one computed from its bytes.
import { tlToJson } from '../../tl/json';
import { contentSha256, photoSizeContentName, SEED_DATE, type SeedEntry, seedIds, StreamContent } from '../seed';
import { documentLocation, photoLocation, type SavedMessage, type StoredMedia } from './media';

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

/** A seed entry as stored media and the saved message that shows it (dated a minute per message id after SEED_DATE). */
export function seededMedia(e: SeedEntry): { media: StoredMedia; message: SavedMessage } {
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
  }
  return { media, message: { id: e.messageId, date, message: e.key, media } };
}

/** `messageId` is the seeded message showing the file (0 for one a user uploaded). A photo is its largest size. */
export function fileInfo(m: StoredMedia, messageId: number): SandboxFileInfo {
  const key = m.key ?? m.id.toString();
  if (m.kind === 'document') {
    return {
      key,
      kind: 'document',
      messageId,
      name: m.name,
      mimeType: m.mimeType,
      dcId: m.dcId,
      size: m.content.size,
      sha256: m.sha256 ?? contentSha256(m.content),
      cdn: m.cdn,
      id: m.id.toString(),
      location: tlToJson(documentLocation(m)) as JsonLocation,
    };
  }
  const largest = m.sizes[m.sizes.length - 1]!;
  const sizes = m.sizes.map((s) => ({
    type: s.type,
    size: s.content.size,
    sha256: s.sha256 ?? contentSha256(s.content),
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
