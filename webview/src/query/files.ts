// Finds downloadable files in a result: documents, photos (their biggest size) and input file locations that
// carry a dc_id, each as the InputFileLocation JSON the host's download/start takes.
import type { IpcDownloadStart, JsonObject, JsonValue } from '../../../src/ipc/index';

export interface FoundFile extends IpcDownloadStart {
  /** Path of the object in the result ('messages[0].media.document'). */
  path: string;
  kind: 'document' | 'photo' | 'location';
  label: string;
}

function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const num = (v: JsonValue | undefined) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);

/** The file an object stands for, if any. */
export function fileOf(o: JsonObject, path = ''): FoundFile | undefined {
  const dcId = num(o.dc_id);
  if (dcId === undefined || dcId < 1) return undefined;
  if (o._ === 'document' && o.id !== undefined && o.access_hash !== undefined) {
    const attrs = Array.isArray(o.attributes) ? o.attributes : [];
    const fn = attrs.find((a) => isObj(a) && a._ === 'documentAttributeFilename') as JsonObject | undefined;
    const name = typeof fn?.file_name === 'string' ? fn.file_name : `document-${String(o.id)}`;
    const size = num(o.size);
    return {
      path,
      kind: 'document',
      label: `${name}${size !== undefined ? ` (${size} B)` : ''}`,
      name,
      dcId,
      ...(size !== undefined ? { size } : {}),
      location: { _: 'inputDocumentFileLocation', id: o.id, access_hash: o.access_hash, file_reference: o.file_reference ?? '', thumb_size: '' },
    };
  }
  if (o._ === 'photo' && o.id !== undefined && o.access_hash !== undefined) {
    let best: { type: string; size: number } | undefined;
    for (const s of Array.isArray(o.sizes) ? o.sizes : []) {
      if (!isObj(s) || typeof s.type !== 'string') continue;
      const size = s._ === 'photoSizeProgressive' && Array.isArray(s.sizes) ? Math.max(...s.sizes.map((x) => num(x) ?? 0)) : num(s.size);
      if ((s._ === 'photoSize' || s._ === 'photoSizeProgressive') && size !== undefined && (!best || size > best.size)) best = { type: s.type, size };
    }
    if (!best) return undefined;
    const name = `photo-${String(o.id)}-${best.type}.jpg`;
    return {
      path,
      kind: 'photo',
      label: `photo ${best.type} (${best.size} B)`,
      name,
      dcId,
      size: best.size,
      location: { _: 'inputPhotoFileLocation', id: o.id, access_hash: o.access_hash, file_reference: o.file_reference ?? '', thumb_size: best.type },
    };
  }
  if (typeof o._ === 'string' && /^input\w*FileLocation$/.test(o._)) {
    const { dc_id: _dc, ...location } = o;
    return { path, kind: 'location', label: o._, dcId, location: location as JsonObject };
  }
  return undefined;
}

/** Every file in a result (bounded walk). */
export function findFiles(v: JsonValue, limit = 200): FoundFile[] {
  const out: FoundFile[] = [];
  const seen = new Set<string>();
  const walk = (x: JsonValue, path: string, depth: number) => {
    if (out.length >= limit || depth > 40) return;
    if (Array.isArray(x))
      x.forEach((y, i) => {
        walk(y, `${path}[${i}]`, depth + 1);
      });
    else if (isObj(x)) {
      const f = fileOf(x, path);
      if (f) {
        const k = JSON.stringify([f.dcId, f.location]);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(f);
        }
        return;
      }
      for (const [k, y] of Object.entries(x)) if (k !== '_') walk(y, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(v, '', 0);
  return out;
}
