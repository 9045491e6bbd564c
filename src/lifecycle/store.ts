// What the lifecycle persists, as the subset of src/storage's ProfileStore it uses (ProfileStore satisfies it
// structurally), plus an in-memory implementation and the DcKeyStore adapter the DcPool needs.
import type { DcKeyStore } from '../dc/pool';

export interface StoredDcKey {
  dcId: number;
  authKey: Uint8Array;
  serverSalt: bigint;
  timeOffset: number;
  createdAt: number;
}

export interface LifecycleStore {
  getHomeDc(): Promise<number | undefined>;
  setHomeDc(dcId: number): Promise<void>;
  getUserId(): Promise<bigint | undefined>;
  setUserId(id: bigint): Promise<void>;
  getDcKey(dcId: number): Promise<StoredDcKey | undefined>;
  setDcKey(rec: StoredDcKey): Promise<void>;
  updateDcSession(dcId: number, patch: { serverSalt?: bigint; timeOffset?: number }): Promise<void>;
  /** Also removes the DC from the authorized DCs (a new key is a new, unauthorized session). */
  deleteDcKey(dcId: number): Promise<void>;
  listDcKeys(): Promise<number[]>;
  getAuthorizedDcs(): Promise<number[]>;
  setAuthorizedDcs(ids: number[]): Promise<void>;
  getDcOptions<T = unknown>(): Promise<{ options: T; savedAt: number } | undefined>;
  setDcOptions(options: unknown): Promise<void>;
}

/** A LifecycleStore in memory (tests, one-shot CLI runs). */
export function memoryLifecycleStore(): LifecycleStore {
  let home: number | undefined;
  let user: bigint | undefined;
  let authorized: number[] = [];
  let options: { options: unknown; savedAt: number } | undefined;
  const keys = new Map<number, StoredDcKey>();
  return {
    getHomeDc: async () => home,
    setHomeDc: async (d) => void (home = d),
    getUserId: async () => user,
    setUserId: async (id) => void (user = id),
    getDcKey: async (d) => {
      const k = keys.get(d);
      return k ? { ...k, authKey: new Uint8Array(k.authKey) } : undefined;
    },
    setDcKey: async (rec) => void keys.set(rec.dcId, { ...rec, authKey: new Uint8Array(rec.authKey) }),
    updateDcSession: async (d, patch) => {
      const k = keys.get(d);
      if (!k) return;
      if (patch.serverSalt !== undefined) k.serverSalt = patch.serverSalt;
      if (patch.timeOffset !== undefined) k.timeOffset = patch.timeOffset;
    },
    deleteDcKey: async (d) => {
      keys.delete(d);
      authorized = authorized.filter((x) => x !== d);
    },
    listDcKeys: async () => [...keys.keys()].sort((a, b) => a - b),
    getAuthorizedDcs: async () => [...authorized],
    setAuthorizedDcs: async (ids) => void (authorized = [...new Set(ids)].sort((a, b) => a - b)),
    getDcOptions: async <T>() => options as { options: T; savedAt: number } | undefined,
    setDcOptions: async (o) => void (options = { options: JSON.parse(JSON.stringify(o)) as unknown, savedAt: Date.now() }),
  };
}

/** The DcPool's key store over a LifecycleStore. */
export function keyStoreOf(store: LifecycleStore): DcKeyStore {
  return {
    loadKey: async (dcId) => {
      const k = await store.getDcKey(dcId);
      return k ? { authKey: k.authKey, serverSalt: k.serverSalt, timeOffset: k.timeOffset } : undefined;
    },
    saveKey: async (dcId, rec) => {
      const existing = await store.getDcKey(dcId);
      if (existing && sameBytes(existing.authKey, rec.authKey)) {
        await store.updateDcSession(dcId, {
          ...(rec.serverSalt !== undefined ? { serverSalt: rec.serverSalt } : {}),
          ...(rec.timeOffset !== undefined ? { timeOffset: rec.timeOffset } : {}),
        });
        return;
      }
      await store.setDcKey({ dcId, authKey: rec.authKey, serverSalt: rec.serverSalt ?? 0n, timeOffset: rec.timeOffset ?? 0, createdAt: Date.now() });
    },
    dropKey: (dcId) => store.deleteDcKey(dcId),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
