// Shared by the hostile-DC tests: a DcPool driver for the runner (src/sandbox may not import src/dc), one RSA
// key for every DC of the process, and small assertions.
import assert from 'node:assert/strict';
import { DcPool } from '../../src/dc/pool';
import type { Profile } from '../../src/dc/profile';
import { generateRsaKeyPair, type RsaKeyPair, type RsaPublicKey } from '../../src/crypto/rsa';
import type { PoolDriver } from '../../src/sandbox/hostile/run';
import type { HostileOutcome } from '../../src/sandbox/hostile/run';

let rsa: RsaKeyPair | undefined;
export function sharedRsa(): RsaKeyPair {
  return (rsa ??= generateRsaKeyPair());
}

/** A one-DC profile pointing at a hostile DC. */
export function hostileProfile(host: string, port: number, dcId: number, rsaKey: RsaPublicKey): Profile {
  return {
    name: 'custom',
    dcs: [{ id: dcId, host, port }],
    firstDc: dcId,
    rsaKeys: [rsaKey],
    testMode: false,
    apiId: 1,
    apiHash: 'hostile',
    transport: 'intermediate',
  };
}

export const poolDriver: PoolDriver = (t) =>
  new DcPool({
    profile: hostileProfile(t.host, t.port, t.dcId, t.rsaKey),
    keys: t.keys,
    onEvent: t.onEvent,
    onWire: t.onWire,
    callTimeoutMs: t.callTimeoutMs,
    handshakeTimeoutMs: t.handshakeTimeoutMs,
    maxReconnectAttempts: 3,
  });

/** Every mode's common verdict, with the reasons in the failure message. */
export function assertHeld(o: HostileOutcome): void {
  assert.ok(o.rejected, `${o.mode}: the client did not hold: ${o.why.join('; ')} (error: ${o.error})`);
  assert.equal(o.keyUsed, false, `${o.mode}: an encrypted packet went out under a refused key`);
  assert.equal(o.named, o.check, `${o.mode}: the client named '${o.named}', the mode attacks '${o.check}'`);
}
