// The sandbox's CDN DC (id 203): its own RSA key and auth keys, no authorization ever, and one method:
// upload.getCdnFile, answered AES-256-CTR encrypted (IV = encryption_iv with bytes 12..15 = offset/16, big-endian)
// or with upload.cdnFileReuploadNeeded until the master DC got upload.reuploadCdnFile for that file.
import { createCipheriv } from 'node:crypto';
import type { TlObject } from '../tl/types';
import type { RsaKeyPair } from '../crypto/rsa';
import { TELEGRAM_DH_PRIME } from '../crypto/dh';
import { API_LAYER } from '../tl/bundled';
import type { ServerFrameLink } from '../transport/tcp';
import { ServerHandshake } from '../mtproto/handshake-server';
import { serveMtprotoLink } from '../mtproto/session-server';
import type { ServerSalts } from '../mtproto/server-salts';
import type { WireEvent } from '../mtproto/wire-event';
import { unwrapQuery, type SandboxCall } from './api';
import { SandboxRpcError, badRequest, isRpcErrorLike } from './errors';
import { CDN_DC_ID, checkPartRequest, filePartGzipPolicy, type FileStore } from './files';
import type { LayerCodecs } from './layers';
import type { KeyStore } from './world';

export const CDN_RSA_KEY_FILE = 'cdn-rsa-private.pem';

/** The IV of a CDN part at `offset`: encryption_iv with its last 4 bytes replaced by offset/16 big-endian. */
export function cdnPartIv(iv: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(iv);
  new DataView(out.buffer, out.byteOffset, 16).setUint32(12, Math.floor(offset / 16) >>> 0, false);
  return out;
}

export function cdnEncrypt(key: Uint8Array, iv: Uint8Array, offset: number, plain: Uint8Array): Uint8Array {
  const b = createCipheriv('aes-256-ctr', key, cdnPartIv(iv, offset)).update(plain);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The CDN DC's handler: upload.getCdnFile only; anything else → 400 CDN_METHOD_INVALID. */
export function cdnHandler(store: FileStore, log: (line: string) => void = () => {}): (call: SandboxCall) => Promise<unknown> {
  return async (call) => {
    const method = unwrapQuery(call.method);
    try {
      if (method._ !== 'upload.getCdnFile') throw badRequest('CDN_METHOD_INVALID');
      return getCdnFile(store, method);
    } catch (e) {
      if (isRpcErrorLike(e)) {
        log(`DC${CDN_DC_ID}: ${method._} → rpc_error ${e.code} ${e.message}`);
        throw e;
      }
      log(`DC${CDN_DC_ID}: ${method._} failed inside the sandbox: ${e instanceof Error ? e.message : String(e)}`);
      throw new SandboxRpcError(500, 'INTERNAL_SERVER_ERROR');
    }
  };
}

function getCdnFile(store: FileStore, p: TlObject): TlObject {
  const t = store.token(p.file_token);
  const { offset, limit } = checkPartRequest(p.offset, p.limit, false);
  if (!store.onCdnNow(t.doc)) return { _: 'upload.cdnFileReuploadNeeded', request_token: store.requestToken(t) };
  const plain = store.cdnPlain(t.doc.content.read(offset, limit), offset);
  return { _: 'upload.cdnFile', bytes: cdnEncrypt(t.key, t.iv, offset, plain) };
}

export interface CdnServeDeps {
  pair: RsaKeyPair;
  keyStore: KeyStore;
  codecs: LayerCodecs;
  handler: (call: SandboxCall) => Promise<unknown>;
  log: (line: string) => void;
  onWire?: (e: WireEvent) => void;
  /** Each accepted link passes here first (connection knobs); false = refused, not served. */
  admit?: (link: ServerFrameLink) => boolean;
  /** The CDN DC's rotating salts. */
  salts?: ServerSalts;
  /** No packet from the client for this long closes the connection (0: never). */
  idleTimeoutMs?: number;
}

/** The per-connection server of the CDN DC (same MTProto server as the main DCs, CDN key and handler). */
export function cdnLinkServer(deps: CdnServeDeps): (link: ServerFrameLink) => void {
  let seq = 0;
  return (link) => {
    if (deps.admit && !deps.admit(link)) return;
    const connId = `dc${CDN_DC_ID}-${++seq}`;
    const log = (line: string): void => deps.log(`DC${CDN_DC_ID}: ${connId}: ${line}`);
    log(`from ${link.remote} (${link.obfuscated ? 'obfuscated ' : ''}${link.transport})`);
    link.once('close', (reason: string) => log(`closed (${reason})`));
    try {
      const gzip = filePartGzipPolicy(deps.handler);
      const served: unknown = serveMtprotoLink(link, {
        dcId: CDN_DC_ID,
        keyStore: deps.keyStore,
        ...(deps.salts ? { salts: deps.salts } : {}),
        ...(deps.idleTimeoutMs ? { idleTimeoutMs: deps.idleTimeoutMs } : {}),
        createHandshake: () => new ServerHandshake({ dcId: CDN_DC_ID, rsa: [deps.pair], dhPrime: TELEGRAM_DH_PRIME, g: 3 }),
        codecForLayer: (layer: number) => deps.codecs.codecFor(layer),
        defaultLayer: API_LAYER,
        handler: gzip.handler,
        get gzipThreshold() {
          return gzip.threshold();
        },
        ...(deps.onWire ? { onWire: deps.onWire } : {}),
        log,
        connId,
      });
      if (served && typeof (served as Promise<unknown>).catch === 'function') {
        (served as Promise<unknown>).catch((e) => {
          log(`failed: ${e instanceof Error ? e.message : String(e)}`);
          link.close('internal error');
        });
      }
    } catch (e) {
      log(`failed: ${e instanceof Error ? e.message : String(e)}`);
      link.close('internal error');
    }
  };
}
