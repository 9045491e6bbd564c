// Seeded file content for the sandbox: deterministic bytes anyone can recompute, served on the fly (no big buffer
// is kept). Byte i of content `name` is byte i of the AES-256-CTR keystream with key SHA-256("dclab-sandbox:" + name)
// and a zero IV, i.e. `createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size))`.
import { createCipheriv, createHash } from 'node:crypto';

/** Readable bytes of a stored or seeded file. */
export interface FileContent {
  readonly size: number;
  /** Bytes [offset, offset + length) clipped to the end (empty at or past it). */
  read(offset: number, length: number): Uint8Array;
}

export function contentKey(name: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`dclab-sandbox:${name}`, 'utf8').digest());
}

/** The keystream content `name` of `size` bytes, generated per read. */
export class StreamContent implements FileContent {
  private readonly key: Buffer;
  constructor(
    readonly name: string,
    readonly size: number,
  ) {
    this.key = Buffer.from(contentKey(name));
  }

  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.size));
    const end = Math.max(start, Math.min(offset + Math.max(0, length), this.size));
    if (end === start) return new Uint8Array(0);
    const block = Math.floor(start / 16);
    const skip = start - block * 16;
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(block), 8);
    const c = createCipheriv('aes-256-ctr', this.key, iv);
    const out = c.update(Buffer.alloc(skip + (end - start)));
    return new Uint8Array(out.buffer, out.byteOffset + skip, end - start);
  }
}

/** Parts of an upload, concatenated logically (no copy until read). */
export class PartsContent implements FileContent {
  readonly size: number;
  private readonly starts: number[] = [];
  constructor(private readonly parts: Uint8Array[]) {
    let pos = 0;
    for (const p of parts) {
      this.starts.push(pos);
      pos += p.length;
    }
    this.size = pos;
  }

  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.size));
    const end = Math.max(start, Math.min(offset + Math.max(0, length), this.size));
    const out = new Uint8Array(end - start);
    for (let i = 0; i < this.parts.length; i++) {
      const p = this.parts[i]!;
      const ps = this.starts[i]!;
      const pe = ps + p.length;
      if (pe <= start || ps >= end) continue;
      const from = Math.max(start, ps);
      const to = Math.min(end, pe);
      out.set(p.subarray(from - ps, to - ps), from - start);
    }
    return out;
  }
}

/** A prefix of another content (uploaded photo sizes). */
export class PrefixContent implements FileContent {
  constructor(
    private readonly inner: FileContent,
    readonly size: number,
  ) {}
  read(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size);
    return end <= offset ? new Uint8Array(0) : this.inner.read(offset, end - offset);
  }
}

/** SHA-256 hex of a content, reading it 1 MiB at a time. */
export function contentSha256(c: FileContent): string {
  const h = createHash('sha256');
  for (let off = 0; off < c.size; off += 1 << 20) h.update(c.read(off, 1 << 20));
  return h.digest('hex');
}

export interface SeedDocument {
  key: string;
  kind: 'document';
  messageId: number;
  /** Content name (bytes generator); defaults to the key. */
  content: string;
  dcId: number;
  size: number;
  cdn: boolean;
  name: string;
  mimeType: string;
  sha256: string;
}

export interface SeedPhotoSize {
  type: string;
  w: number;
  h: number;
  size: number;
  sha256: string;
}

export interface SeedPhoto {
  key: string;
  kind: 'photo';
  messageId: number;
  dcId: number;
  cdn: false;
  sizes: SeedPhotoSize[];
}

export type SeedEntry = SeedDocument | SeedPhoto;

const MIB64 = 64 * 1024 * 1024;

/** The seeded files. sha256 values are constants, checked against the generator by test/sandbox/files-seed.test.ts. */
export const SEED: readonly SeedEntry[] = [
  {
    key: 'small-dc1',
    kind: 'document',
    messageId: 1,
    content: 'small-dc1',
    dcId: 1,
    size: 5_000,
    cdn: false,
    name: 'small-dc1.bin',
    mimeType: 'application/octet-stream',
    sha256: 'e19faef3282777db6a081775e3b632d830619c96f654f9f8da68706dc569f4d1',
  },
  {
    key: 'medium-dc3',
    kind: 'document',
    messageId: 2,
    content: 'medium-dc3',
    dcId: 3,
    size: 1_585_209,
    cdn: false,
    name: 'medium-dc3.bin',
    mimeType: 'application/octet-stream',
    sha256: '6b4695690347e066e2f164c9ef3550322889107ddf94ba541c20e44ba67ab33f',
  },
  {
    key: 'small-dc4',
    kind: 'document',
    messageId: 3,
    content: 'small-dc4',
    dcId: 4,
    size: 300_000,
    cdn: false,
    name: 'small-dc4.bin',
    mimeType: 'application/octet-stream',
    sha256: '090574c5d8e091111c3f5d30db65389a2518ff61e427f03cd167ac58b16a326c',
  },
  {
    key: 'photo-dc2',
    kind: 'photo',
    messageId: 4,
    dcId: 2,
    cdn: false,
    sizes: [
      { type: 's', w: 90, h: 90, size: 4_000, sha256: '3c9cf26ee503f76b894a7056e4052f9a34e569ea63c37a4f62c03c9ee713019b' },
      { type: 'm', w: 320, h: 320, size: 40_000, sha256: '66a585b8d2a369e7e95b26d4141ccc7304f98e6ea646b72fde69f863b9a3c5df' },
      { type: 'x', w: 800, h: 800, size: 200_000, sha256: '4132fc507fca8e4ca64311f64d0ce189c57cc0cb9ceaa61ca6621fe5bddade22' },
      { type: 'y', w: 1280, h: 1280, size: 700_000, sha256: 'b0e8ac94e1877a31cc52febb14223ff7b1e76919ad51a08a074994943b0c967c' },
    ],
  },
  {
    key: 'big-64m',
    kind: 'document',
    messageId: 5,
    content: 'big-64m',
    dcId: 4,
    size: MIB64,
    cdn: false,
    name: 'big-64m.bin',
    mimeType: 'application/octet-stream',
    sha256: '62fb8aa9aeabc28485c76c64692d1e74e97c8f9b3ef31b7dfda901436183b3a9',
  },
  {
    key: 'cdn-small',
    kind: 'document',
    messageId: 6,
    content: 'cdn-small',
    dcId: 2,
    size: 2_500_000,
    cdn: true,
    name: 'cdn-small.bin',
    mimeType: 'application/octet-stream',
    sha256: '4e1ecce145cbffbfd33bac6f3779a7fb22df0a5bc5fdc8d19548d96f74fbd8b1',
  },
  {
    key: 'big-64m-cdn',
    kind: 'document',
    messageId: 7,
    content: 'big-64m',
    dcId: 4,
    size: MIB64,
    cdn: true,
    name: 'big-64m-cdn.bin',
    mimeType: 'application/octet-stream',
    sha256: '62fb8aa9aeabc28485c76c64692d1e74e97c8f9b3ef31b7dfda901436183b3a9',
  },
];

export function photoSizeContentName(photoKey: string, type: string): string {
  return `${photoKey}:${type}`;
}

/** Deterministic ids: documents 7_100_000_000_000_000_0NN, photos 7_300_000_000_000_000_0NN (NN = message id). */
export function seedIds(e: SeedEntry): { id: bigint; accessHash: bigint; fileReference: Uint8Array } {
  const n = BigInt(e.messageId);
  const base = e.kind === 'photo' ? 7_300_000_000_000_000_000n : 7_100_000_000_000_000_000n;
  return {
    id: base + n,
    accessHash: -(5_500_000_000_000_000_000n + n * 1_000_003n),
    fileReference: new Uint8Array(Buffer.from(`dclab:seed:${e.key}`, 'utf8')),
  };
}

/** Fixed message dates of the seeded messages (unix seconds). */
export const SEED_DATE = 1_764_000_000;
