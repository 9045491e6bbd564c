// What a stored file is: documents and photos carrying the dc_id where their parts live, the saved messages that
// show them, the input locations that address them and the TL objects a client sees. Shared by the store, the
// seeding, the CDN side and the method handlers, so it depends on none of them.
import type { TlObject } from '../../tl/types';
import type { FileContent } from '../seed';

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

export function documentLocation(d: StoredDocument): TlObject {
  return { _: 'inputDocumentFileLocation', id: d.id, access_hash: d.accessHash, file_reference: d.fileReference, thumb_size: '' };
}

export function photoLocation(p: StoredPhoto, type: string): TlObject {
  return { _: 'inputPhotoFileLocation', id: p.id, access_hash: p.accessHash, file_reference: p.fileReference, thumb_size: type };
}

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
