// CDN side of downloads (cdn): the CDN DC's RSA keys come from help.getCdnConfig on a master DC; the CDN endpoint
// from the topology (dc_options with the cdn flag); a separate session per download (the auth key is kept in memory
// per client so later downloads skip the handshake; −404 forgets it); neutral initConnection (no private data).
// Parts: AES-256-CTR with iv = encryption_iv whose last 4 bytes are offset/16 big-endian; every byte checked
// against the SHA-256 FileHash ranges of the master DC.
import { createHash } from 'node:crypto';
import { AesCtr } from '../crypto/aes-ctr';
import { parseRsaPublicKeyPem, type RsaPublicKey } from '../crypto/rsa';
import { handshakeDcId } from '../dc/profile';
import { topologyFromConfig, type DcEndpoint } from '../dc/topology';
import type { DcClient } from '../lifecycle/client';
import { openSession } from '../mtproto/client';
import type { MtprotoSession } from '../mtproto/session';
import { TransportError } from '../mtproto/errors';
import type { TlObject } from '../tl/types';
import { FileError } from './errors';

/** initConnection sent to CDN DCs: nothing about the device or the user. */
export const CDN_INIT_CONNECTION = {
  device_model: 'dclab',
  system_version: 'dclab',
  app_version: '0.1.0',
  system_lang_code: 'en',
  lang_pack: '',
  lang_code: 'en',
};

interface CdnKeyCache {
  keys?: Promise<Map<number, RsaPublicKey[]>>;
  authKeys: Map<number, { authKey: Uint8Array; serverSalt: bigint; timeOffset: number }>;
}

const caches = new WeakMap<DcClient, CdnKeyCache>();
/** The auth key each CDN session was opened with (so parallel −404s of one key forget it, and report it, once). */
const sessionKeys = new WeakMap<MtprotoSession, Uint8Array>();

function cacheOf(client: DcClient): CdnKeyCache {
  let c = caches.get(client);
  if (!c) {
    c = { authKeys: new Map() };
    caches.set(client, c);
  }
  return c;
}

/** help.getCdnConfig (on `masterDc`) → the RSA keys of each CDN DC (cached per client). */
export function cdnKeys(client: DcClient, masterDc: number, parentId?: number): Promise<Map<number, RsaPublicKey[]>> {
  const c = cacheOf(client);
  if (!c.keys) {
    c.keys = (async () => {
      const cfg = await client.runtime.call<TlObject>({ _: 'help.getCdnConfig' }, { dcId: masterDc, ...(parentId !== undefined ? { parentId } : {}) });
      const out = new Map<number, RsaPublicKey[]>();
      for (const k of (cfg.public_keys as TlObject[] | undefined) ?? []) {
        const dc = Number(k.dc_id);
        const key = parseRsaPublicKeyPem(String(k.public_key));
        out.set(dc, [...(out.get(dc) ?? []), key]);
      }
      return out;
    })();
    c.keys.catch(() => {
      if (caches.get(client) === c) c.keys = undefined;
    });
  }
  return c.keys;
}

/** The CDN DC's endpoint from the client's topology (help.getConfig again when it is not there). */
export async function cdnEndpoint(client: DcClient, cdnDc: number, parentId?: number): Promise<DcEndpoint> {
  const find = (eps: DcEndpoint[] | undefined): DcEndpoint | undefined => {
    const all = (eps ?? []).filter((e) => e.id === cdnDc && e.cdn && !e.hasSecret);
    const v6 = client.runtime.profile.preferIpv6 === true;
    return all.find((e) => e.ipv6 === v6) ?? all.find((e) => !e.ipv6) ?? all[0];
  };
  let ep = find(client.runtime.topology?.endpoints);
  if (!ep) {
    const cfg = await client.runtime.call<TlObject>({ _: 'help.getConfig' }, parentId !== undefined ? { parentId } : {});
    ep = find(topologyFromConfig(cfg).endpoints);
  }
  if (!ep) throw new FileError('BAD_LOCATION', `CDN DC ${cdnDc} has no endpoint in help.getConfig's dc_options`, { dcId: cdnDc });
  return ep;
}

/** A session to a CDN DC; `close()` when the download ends. */
export class CdnLink {
  private session: MtprotoSession | undefined;
  private opening: Promise<MtprotoSession> | undefined;
  private closed = false;

  constructor(
    private readonly client: DcClient,
    readonly dcId: number,
    private readonly masterDc: number,
    private readonly emit: (e: { kind: 'state' | 'key'; name: string; note?: string; roundTrips?: number }) => void,
  ) {}

  get(parentId?: number): Promise<MtprotoSession> {
    if (this.closed) return Promise.reject(new FileError('ABORTED', `the CDN link to DC ${this.dcId} is closed`, { dcId: this.dcId }));
    if (this.session && !this.session.closed) return Promise.resolve(this.session);
    if (!this.opening) {
      this.opening = this.open(parentId).finally(() => {
        this.opening = undefined;
      });
    }
    return this.opening;
  }

  private async open(parentId?: number): Promise<MtprotoSession> {
    const cache = cacheOf(this.client);
    const keys = (await cdnKeys(this.client, this.masterDc, parentId)).get(this.dcId);
    if (!keys || keys.length === 0) throw new FileError('BAD_LOCATION', `help.getCdnConfig lists no RSA key for CDN DC ${this.dcId}`, { dcId: this.dcId });
    const ep = await cdnEndpoint(this.client, this.dcId, parentId);
    const profile = this.client.runtime.profile;
    const stored = cache.authKeys.get(this.dcId);
    this.emit({ kind: 'state', name: 'connect', note: `CDN ${ep.host}:${ep.port}` });
    const opened = await openSession({
      host: ep.host,
      port: ep.port,
      dcId: handshakeDcId(profile, this.dcId),
      transport: profile.transport,
      rsaKeys: keys,
      initConnection: { ...CDN_INIT_CONNECTION, api_id: profile.apiId },
      ...(stored ? { authKey: stored.authKey, serverSalt: stored.serverSalt, timeOffset: stored.timeOffset } : {}),
    });
    if (opened.created) this.emit({ kind: 'key', name: 'auth key', note: 'CDN key (checked against help.getCdnConfig)' });
    else this.emit({ kind: 'state', name: 'stored auth key', note: 'CDN key from this process' });
    cache.authKeys.set(this.dcId, { authKey: opened.authKey, serverSalt: opened.serverSalt, timeOffset: opened.timeOffset });
    sessionKeys.set(opened.session, opened.authKey);
    if (this.closed) {
      opened.session.close('download ended');
      throw new FileError('ABORTED', `the CDN link to DC ${this.dcId} is closed`, { dcId: this.dcId });
    }
    this.session = opened.session;
    // a CDN never sends updates we would accept
    opened.session.on('update', () => undefined);
    return opened.session;
  }

  /**
   * upload.getCdnFile; a −404 forgets the key (the next get() makes a new one with the getCdnConfig keys) and rethrows
   * (a retryable TransportError). The requests in flight on that key all fail with it; the key is forgotten and
   * reported once.
   */
  async getCdnFile(token: Uint8Array, offset: number, limit: number, parentId?: number): Promise<TlObject> {
    const s = await this.get(parentId);
    try {
      return await s.invoke<TlObject>({ _: 'upload.getCdnFile', file_token: token, offset: BigInt(offset), limit });
    } catch (e) {
      if (e instanceof TransportError && e.code === -404) {
        const authKeys = cacheOf(this.client).authKeys;
        const stored = authKeys.get(this.dcId);
        if (stored && stored.authKey === sessionKeys.get(s)) {
          authKeys.delete(this.dcId);
          this.emit({ kind: 'key', name: 'auth key dropped', note: 'CDN answered -404: a new key on the next request' });
        }
      }
      throw e;
    } finally {
      // remember the salt the server taught us
      const k = cacheOf(this.client).authKeys.get(this.dcId);
      if (k && !s.closed && k.authKey === sessionKeys.get(s)) k.serverSalt = s.serverSalt;
    }
  }

  close(): void {
    this.closed = true;
    this.session?.close('download ended');
    this.session = undefined;
  }
}

/** AES-256-CTR of one CDN part: iv = encryption_iv with bytes 12..15 = offset/16 big-endian. */
export function cdnDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array, offset: number): Uint8Array {
  if (offset % 16 !== 0) throw new RangeError(`CDN part offset ${offset} is not a multiple of 16`);
  const ivp = new Uint8Array(iv);
  new DataView(ivp.buffer).setUint32(12, Math.floor(offset / 16) >>> 0, false);
  return new AesCtr(key, ivp).update(data);
}

export interface FileHashEntry {
  offset: number;
  limit: number;
  hash: Uint8Array;
}

export function fileHashesOf(v: unknown): FileHashEntry[] {
  if (!Array.isArray(v)) return [];
  return (v as TlObject[])
    .filter((h) => h && h._ === 'fileHash')
    .map((h) => ({ offset: Number(h.offset), limit: Number(h.limit), hash: h.hash as Uint8Array }));
}

/** Hash ranges of one file (by offset) and the fetches of missing ones. */
export class CdnHashes {
  private readonly byOffset = new Map<number, FileHashEntry>();
  private readonly fetching = new Map<number, Promise<void>>();

  constructor(private readonly fetch: (offset: number) => Promise<FileHashEntry[]>) {}

  add(list: FileHashEntry[]): void {
    for (const h of list) this.byOffset.set(h.offset, h);
  }

  get size(): number {
    return this.byOffset.size;
  }

  private async need(offset: number): Promise<FileHashEntry> {
    let h = this.byOffset.get(offset);
    if (h) return h;
    let p = this.fetching.get(offset);
    if (!p) {
      p = this.fetch(offset)
        .then((l) => this.add(l))
        .finally(() => this.fetching.delete(offset));
      this.fetching.set(offset, p);
    }
    await p;
    h = this.byOffset.get(offset);
    if (!h) throw new FileError('CDN_HASH_MISMATCH', `the master DC gave no hash for the range at ${offset}`, { offset });
    return h;
  }

  /**
   * Checks plain `data` found at `offset` against the hash ranges it covers (each range must lie inside the data: with
   * parts that are multiples of the 128 KiB ranges and aligned to them that always holds, the file's last range being
   * as short as the file). Returns the first offset whose range does not match, or undefined when all match.
   */
  async verify(offset: number, data: Uint8Array): Promise<number | undefined> {
    let pos = offset;
    const end = offset + data.length;
    while (pos < end) {
      const h = await this.need(pos);
      if (h.limit <= 0 || pos + h.limit > end) return pos;
      const got = createHash('sha256')
        .update(data.subarray(pos - offset, pos + h.limit - offset))
        .digest();
      if (!Buffer.from(h.hash.buffer, h.hash.byteOffset, h.hash.length).equals(got)) return pos;
      pos += h.limit;
    }
    return undefined;
  }
}
