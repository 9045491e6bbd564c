export { encodeBigInt, decodeBigInt, encodeBytes, decodeBytes } from './codec.js';
export { FileKeyvStore, StoreFileError, createFileKeyv, createMemoryKeyv, FILE_STORE_FORMAT, FILE_STORE_VERSION } from './file-store.js';
export { SecretStorageKeyvAdapter, DEFAULT_SECRET_INDEX_KEY } from './secret-storage.js';
export type { SecretStorageLike } from './secret-storage.js';
export { cliBackends, memoryBackends, DEFAULT_DCLAB_DIR } from './backends.js';
export type { ProfileBackends } from './backends.js';
export { ProfileStore, parseProfileName } from './profile.js';
export type { ProfileName, DcKeyRecord, ProfileSnapshot } from './profile.js';
