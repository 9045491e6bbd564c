// The API methods over a FileStore, handed to SandboxApi as extra methods (see ../index.ts): upload.saveFilePart /
// saveBigFilePart / getFile / getFileHashes / reuploadCdnFile / getCdnFileHashes, messages.uploadMedia / sendMedia /
// sendMessage / getHistory of the user's saved messages, help.getConfig (plus the CDN dcOption) and help.getCdnConfig;
// and the per-connection rule that file parts are never gzipped.
import type { TlObject } from '../../tl/types';
import type { CallContext } from '../api';
import { buildConfig } from '../config';
import { badRequest, SandboxRpcError, seeOther } from '../errors';
import type { SandboxUser } from '../world';
import { cdnConfig, cdnDcOption, fileCdnRedirect } from './cdn';
import { mediaTl, messageTl } from './media';
import { checkPartRequest, fileHashes } from './parts';
import type { FileStore } from './store';

export type Method = (ctx: CallContext, params: TlObject) => unknown;

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
    if (media.kind === 'document' && media.cdn && p.cdn_supported === true) return fileCdnRedirect(store.tokenFor(media));
    return { _: 'upload.file', type: { _: type }, mtime: media.date, bytes: content.read(offset, limit) };
  };

  return {
    'help.getConfig': (ctx) => {
      const cfg = buildConfig(ctx.dcId, ctx.topology(), ctx.world.now(), ctx.configExpires());
      const cdn = opts.cdnEndpoint?.();
      if (cdn) (cfg.dc_options as TlObject[]).push(cdnDcOption(cdn));
      return cfg;
    },
    'help.getCdnConfig': () => cdnConfig(opts.cdnPublicPem?.()),
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
