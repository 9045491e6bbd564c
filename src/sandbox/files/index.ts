// Files in the sandbox world, one module per role:
//   store.ts     FileStore: uploaded parts (TTL, caps), documents and photos, saved messages, input locations
//   seed.ts      the seeded files as stored media, and SandboxFileInfo (documented sha256)
//   cdn.ts       the main DCs' side of the CDN DC: file tokens, key/iv, reupload, the corruption fault
//   parts.ts     the part request rules and FileHash ranges
//   media.ts     the stored media types, their locations and TL objects
//   handlers.ts  the API methods and the no-gzip rule for file parts
export { CDN_DC_ID, type CdnToken } from './cdn';
export { fileMethods, type FileMethodsOptions, filePartGzipPolicy, isFilePartResult, MESSAGE_LENGTH_MAX, type Method } from './handlers';
export {
  documentLocation,
  mediaTl,
  messageTl,
  photoLocation,
  type SavedMessage,
  type StoredDocument,
  type StoredMedia,
  type StoredPhoto,
  type StoredPhotoSize,
} from './media';
export { checkPartRequest, fileHashes, HASH_RANGE, HASHES_PER_ANSWER, MIB } from './parts';
export type { JsonLocation, SandboxFileInfo } from './seed';
export {
  BIG_FILE_MAX_PARTS,
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_MAX_UPLOADS_PER_USER,
  DEFAULT_UPLOAD_TTL_MS,
  FileStore,
  type FileStoreOptions,
  FIRST_UPLOAD_MESSAGE_ID,
  MAX_PART_SIZE,
  SMALL_FILE_MAX,
  SMALL_FILE_MAX_PARTS,
} from './store';
