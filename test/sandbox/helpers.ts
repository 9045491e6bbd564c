// Shared helpers of the sandbox tests: run API calls against a World without sockets.
import assert from 'node:assert/strict';
import type { TlObject } from '../../src/tl/types';
import { SandboxApi, type SandboxCall } from '../../src/sandbox/api';
import type { DcEndpoint } from '../../src/sandbox/config';
import { World, type WorldOptions } from '../../src/sandbox/world';

export const TOPOLOGY: DcEndpoint[] = [1, 2, 3, 4, 5].map((id) => ({
  id,
  host: '127.0.0.1',
  port: 30000 + id,
  ipv6: { host: '::1', port: 31000 + id },
}));

export interface Harness {
  world: World;
  api: SandboxApi;
  logs: string[];
  call(dcId: number, authKeyId: bigint, method: TlObject, layer?: number): Promise<any>;
  clock: { now: number };
}

export function harness(opts: WorldOptions = {}): Harness {
  const logs: string[] = [];
  const clock = { now: 1_750_000_000_000 };
  const log = (l: string): void => void logs.push(l);
  const world = new World({ now: () => clock.now, log, ...opts });
  const api = new SandboxApi(world, { topology: () => TOPOLOGY, log });
  return {
    world,
    api,
    logs,
    clock,
    call: (dcId, authKeyId, method, layer = 227) => {
      const c: SandboxCall = { method, layer, dcId, authKeyId, sessionId: 1n, msgId: 2n };
      return api.handle(c);
    },
  };
}

/** Asserts the promise rejects with an rpc error of this code and message. */
export async function rejectsRpc(p: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.equal(e?.message, message);
    assert.equal(e?.code, code);
    return true;
  });
}

export function sendCode(phone: string): TlObject {
  return { _: 'auth.sendCode', phone_number: phone, api_id: 1, api_hash: 'x', settings: { _: 'codeSettings' } };
}

export function signIn(phone: string, hash: string, code?: string): TlObject {
  return { _: 'auth.signIn', phone_number: phone, phone_code_hash: hash, ...(code === undefined ? {} : { phone_code: code }) };
}

export const getSelf: TlObject = { _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] };

/** sendCode + signIn with the fixed test code on the phone's DC; returns the authorization. */
export async function login(h: Harness, dcId: number, key: bigint, phone: string, code: string): Promise<any> {
  const sent = await h.call(dcId, key, sendCode(phone));
  return h.call(dcId, key, signIn(phone, sent.phone_code_hash, code));
}
