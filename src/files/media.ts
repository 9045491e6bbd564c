// Media helpers: the InputFileLocation (+ dc_id, size) of a document or photo, sending an upload to Saved Messages,
// and listing saved media with their dc_id and location JSON (what `dclab download --location` takes).
import { randomBytes } from '../crypto/random';
import type { DcClient } from '../lifecycle/client';
import { apiSchema } from '../tl/bundled';
import { tlFromJson, tlToJson } from '../tl/json';
import type { TlObject } from '../tl/types';
import { FileError } from './errors';
import type { UploadResult } from './upload';

export interface MediaLocation {
  location: TlObject;
  dcId: number;
  size: number;
  name?: string;
  kind: 'document' | 'photo';
  mimeType?: string;
  /** Photo size type chosen ('y', 'x', …). */
  thumb?: string;
}

function photoSizeBytes(s: TlObject): number {
  switch (s._) {
    case 'photoSize':
      return Number(s.size);
    case 'photoSizeProgressive': {
      const sizes = (s.sizes as number[] | undefined) ?? [];
      return sizes.length ? Math.max(...sizes) : 0;
    }
    default:
      return -1; // cached / stripped / path / empty sizes are not downloadable
  }
}

function unwrap(media: TlObject): TlObject {
  if (media._ === 'message' && media.media && typeof media.media === 'object') return unwrap(media.media as TlObject);
  if (media._ === 'messageMediaDocument') {
    if (!media.document) throw new FileError('BAD_LOCATION', 'messageMediaDocument without a document');
    return media.document as TlObject;
  }
  if (media._ === 'messageMediaPhoto') {
    if (!media.photo) throw new FileError('BAD_LOCATION', 'messageMediaPhoto without a photo');
    return media.photo as TlObject;
  }
  return media;
}

/** Where a document's or photo's bytes are: location, dc_id and size (a photo's biggest size unless `thumb` names one). */
export function locationOf(media: TlObject, opts: { thumb?: string } = {}): MediaLocation {
  const m = unwrap(media);
  if (m._ === 'document') {
    const attrs = (m.attributes as TlObject[] | undefined) ?? [];
    const fn = attrs.find((a) => a._ === 'documentAttributeFilename');
    return {
      location: { _: 'inputDocumentFileLocation', id: m.id, access_hash: m.access_hash, file_reference: m.file_reference, thumb_size: '' },
      dcId: Number(m.dc_id),
      size: Number(m.size),
      kind: 'document',
      ...(fn ? { name: String(fn.file_name) } : {}),
      ...(typeof m.mime_type === 'string' ? { mimeType: m.mime_type } : {}),
    };
  }
  if (m._ === 'photo') {
    const sizes = ((m.sizes as TlObject[] | undefined) ?? []).filter((s) => photoSizeBytes(s) >= 0);
    const pick =
      opts.thumb !== undefined
        ? sizes.find((s) => s.type === opts.thumb)
        : sizes.reduce<TlObject | undefined>((best, s) => (!best || photoSizeBytes(s) > photoSizeBytes(best) ? s : best), undefined);
    if (!pick) throw new FileError('BAD_LOCATION', opts.thumb !== undefined ? `the photo has no size '${opts.thumb}'` : 'the photo has no downloadable size');
    return {
      location: { _: 'inputPhotoFileLocation', id: m.id, access_hash: m.access_hash, file_reference: m.file_reference, thumb_size: String(pick.type) },
      dcId: Number(m.dc_id),
      size: photoSizeBytes(pick),
      kind: 'photo',
      mimeType: 'image/jpeg',
      thumb: String(pick.type),
    };
  }
  throw new FileError('BAD_LOCATION', `${m._} carries no downloadable file (expected a document or a photo)`);
}

/** An InputFileLocation from its JSON form (tlToJson), validated against the schema. */
export function locationFromJson(json: unknown): TlObject {
  const v = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  return tlFromJson(apiSchema(), v, 'InputFileLocation') as TlObject;
}

export interface SavedMedia extends MediaLocation {
  messageId: number;
  date: number;
  locationJson: unknown;
}

/** The media of Saved Messages (messages.getHistory on inputPeerSelf), newest first. */
export async function listSavedMedia(client: DcClient, opts: { limit?: number } = {}): Promise<SavedMedia[]> {
  const res = await client.call<TlObject>({
    _: 'messages.getHistory',
    peer: { _: 'inputPeerSelf' },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: opts.limit ?? 100,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  const out: SavedMedia[] = [];
  for (const msg of (res.messages as TlObject[] | undefined) ?? []) {
    if (msg._ !== 'message' || !msg.media) continue;
    const media = msg.media as TlObject;
    if (media._ !== 'messageMediaDocument' && media._ !== 'messageMediaPhoto') continue;
    let loc: MediaLocation;
    try {
      loc = locationOf(media);
    } catch {
      continue;
    }
    out.push({ messageId: Number(msg.id), date: Number(msg.date), ...loc, locationJson: tlToJson(loc.location) });
  }
  return out;
}

/** messages.sendMedia of an upload to Saved Messages; resolves with the new Message. */
export async function sendUploadedMedia(
  client: DcClient,
  file: UploadResult | TlObject,
  opts: { kind?: 'document' | 'photo'; mimeType?: string; name?: string; caption?: string } = {},
): Promise<TlObject> {
  const inputFile = 'inputFile' in file && typeof (file as UploadResult).inputFile === 'object' ? (file as UploadResult).inputFile : (file as TlObject);
  const name = opts.name ?? (typeof inputFile.name === 'string' ? inputFile.name : 'file');
  const media: TlObject =
    opts.kind === 'photo'
      ? { _: 'inputMediaUploadedPhoto', file: inputFile }
      : {
          _: 'inputMediaUploadedDocument',
          file: inputFile,
          mime_type: opts.mimeType ?? 'application/octet-stream',
          attributes: [{ _: 'documentAttributeFilename', file_name: name }],
        };
  const randomId = new DataView(randomBytes(8).buffer).getBigInt64(0, true);
  const updates = await client.call<TlObject>({
    _: 'messages.sendMedia',
    peer: { _: 'inputPeerSelf' },
    media,
    message: opts.caption ?? '',
    random_id: randomId,
  });
  const list = (updates.updates as TlObject[] | undefined) ?? [];
  const msg = list.find((u) => u._ === 'updateNewMessage' || u._ === 'updateNewChannelMessage')?.message as TlObject | undefined;
  if (msg) return msg;
  if (updates._ === 'updateShortSentMessage') return { _: 'message', id: updates.id, date: updates.date, media: updates.media };
  throw new FileError('UNEXPECTED', `messages.sendMedia answered ${String(updates._)} without the new message`);
}
