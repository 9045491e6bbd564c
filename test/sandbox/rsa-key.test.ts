import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateRsaKey } from '../../src/sandbox/rsa-key';

test('a new sandbox RSA key has a fingerprint whose top hex digit is not zero (mtcute can find it), stored 0600', () => {
  for (let i = 0; i < 3; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'dclab-rsa-'));
    try {
      const { pair, created, path } = loadOrCreateRsaKey(dir);
      assert.ok(created);
      assert.notEqual(BigInt.asUintN(64, pair.publicKey.fingerprint) >> 60n, 0n);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(loadOrCreateRsaKey(dir).pair.publicKey.fingerprint, pair.publicKey.fingerprint);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
