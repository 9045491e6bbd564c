// The sandbox's RSA key pair: generated once, kept in <dataDir>/rsa-private.pem (mode 0600), reused afterwards.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateRsaKeyPair, loadRsaKeyPair, type RsaKeyPair } from '../crypto/rsa';

export const RSA_KEY_FILE = 'rsa-private.pem';

export function defaultDataDir(): string {
  return join(homedir(), '.dclab', 'sandbox');
}

export function loadOrCreateRsaKey(dataDir: string, file = RSA_KEY_FILE): { pair: RsaKeyPair; created: boolean; path: string } {
  const path = join(dataDir, file);
  if (existsSync(path)) return { pair: loadExisting(path), created: false, path };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pair = generateCompatibleKeyPair();
  try {
    writeFileSync(path, pair.privatePem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Another sandbox wrote it first: use that one so both agree on the fingerprint.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { pair: loadExisting(path), created: false, path };
    throw e;
  }
  chmodSync(path, 0o600);
  return { pair, created: true, path };
}

/**
 * A key whose unsigned 64-bit fingerprint has a non-zero top hex digit. mtcute 0.30 keeps fingerprints as 16
 * zero-padded hex digits but looks them up unpadded, so it cannot find 1 key in 16; regenerating (a few ms) keeps
 * the sandbox usable with it without touching the protocol.
 */
function generateCompatibleKeyPair(): RsaKeyPair {
  for (;;) {
    const pair = generateRsaKeyPair();
    if (BigInt.asUintN(64, pair.publicKey.fingerprint) >> 60n !== 0n) return pair;
  }
}

function loadExisting(path: string): RsaKeyPair {
  try {
    return loadRsaKeyPair(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`the sandbox RSA key ${path} is unreadable (${e instanceof Error ? e.message : String(e)}); delete it to make a new one`);
  }
}
