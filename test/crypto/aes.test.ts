import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AesIge, aesIgeDecrypt, aesIgeEncrypt, aesIgeEncryptCbc, igeWasmUnavailable } from '../../src/crypto/aes-ige';
import { AesCtr } from '../../src/crypto/aes-ctr';
import { sha1 } from '../../src/crypto/hash';
import { hex, SAMPLE } from './samples-auth-key';

// Reference IGE built on node:crypto aes-256-ecb, block by block (slow but obviously right).
function refIge(data: Uint8Array, key: Uint8Array, iv: Uint8Array, decrypt: boolean): Uint8Array {
  const c = decrypt ? createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false) : createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const out = new Uint8Array(data.length);
  // encrypt: prevIn = previous plaintext (iv[16..32]), prevOut = previous ciphertext (iv[0..16])
  let xorIn = decrypt ? iv.subarray(16, 32) : iv.subarray(0, 16);
  let xorOut = decrypt ? iv.subarray(0, 16) : iv.subarray(16, 32);
  for (let o = 0; o < data.length; o += 16) {
    const blk = data.subarray(o, o + 16);
    const t = new Uint8Array(16);
    for (let i = 0; i < 16; i++) t[i] = blk[i]! ^ xorIn[i]!;
    const e = c.update(t);
    for (let i = 0; i < 16; i++) out[o + i] = e[i]! ^ xorOut[i]!;
    xorIn = out.subarray(o, o + 16);
    xorOut = blk;
  }
  return out;
}

test('AES-256 block: FIPS-197 appendix C.3 vector', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const ct = new AesIge(key, new Uint8Array(32)).encryptBlock(hex('00112233445566778899aabbccddeeff'));
  assert.equal(Buffer.from(ct).toString('hex'), '8ea2b7ca516745bfeafc49904b496089');
});

test('IGE: the well-known Telethon/GramJS vector (ASCII key, iv and 64-byte text)', () => {
  const key = new TextEncoder().encode('the key needs 32 characters long');
  const iv = new TextEncoder().encode('the iv needs 32 characters long.');
  const plain = new TextEncoder().encode('this should hold a 64 characters long string. only 10 more left.');
  const cipher = '4a657a834edc2956ec95b2a42ec8c1f2d1f0a6028ac26fd830ed23855574b4e69dd1a2be2ba18a53a49b879b245e1065e14b6e8ac5ba9b24befaff3209b77b5f';
  assert.equal(Buffer.from(aesIgeEncrypt(plain, key, iv)).toString('hex'), cipher);
  assert.deepEqual(aesIgeDecrypt(hex(cipher), key, iv), plain);
});

test('AesCtr: the well-known Telethon/GramJS CTR vector, two updates', () => {
  const ctr = new AesCtr(new TextEncoder().encode('the key needs 32 characters long'), new TextEncoder().encode('the iv does not.'));
  assert.equal(Buffer.from(ctr.update(new TextEncoder().encode('this can be any length'))).toString('hex'), '5f40f14f8b70178f70e8045b44eff5f1b148714f23cd');
  assert.equal(
    Buffer.from(ctr.update(new TextEncoder().encode('this also can be anything'))).toString('hex'),
    'cd0779d148b466935cf573450212451692bc82fccd5b106e53',
  );
});

test('AES-256 block matches node aes-256-ecb on random keys', () => {
  for (let i = 0; i < 50; i++) {
    const key = randomBytes(32);
    const blk = randomBytes(16);
    const ref = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(blk);
    assert.deepEqual(Buffer.from(new AesIge(key, new Uint8Array(32)).encryptBlock(blk)), ref);
  }
});

test('IGE: samples-auth_key encrypted_answer decrypts to SHA1(answer) + answer + padding', () => {
  const plain = aesIgeDecrypt(hex(SAMPLE.encryptedAnswer), hex(SAMPLE.tmpAesKey), hex(SAMPLE.tmpAesIv));
  const answer = hex(SAMPLE.answer);
  assert.equal(plain.length, 592);
  assert.deepEqual(plain.subarray(20, 20 + answer.length), answer);
  assert.deepEqual(plain.subarray(0, 20), sha1(answer));
  // and encrypting the plaintext back gives the page's bytes exactly
  assert.deepEqual(aesIgeEncrypt(plain, hex(SAMPLE.tmpAesKey), hex(SAMPLE.tmpAesIv)), hex(SAMPLE.encryptedAnswer));
});

test('IGE: samples-auth_key set_client_DH_params encrypted_data decrypts to a hashed client_DH_inner_data with g_b', () => {
  const plain = aesIgeDecrypt(hex(SAMPLE.clientEncryptedData), hex(SAMPLE.tmpAesKey), hex(SAMPLE.tmpAesIv));
  const body = plain.subarray(20);
  // client_DH_inner_data#6643b654 nonce server_nonce retry_id:long g_b:bytes(256) → 4+16+16+8+4+256 = 304 bytes
  assert.equal(Buffer.from(body.subarray(0, 4)).readUInt32LE(0), 0x6643b654);
  assert.deepEqual(body.subarray(4, 20), hex(SAMPLE.nonce));
  assert.deepEqual(body.subarray(20, 36), hex(SAMPLE.serverNonce));
  assert.deepEqual(body.subarray(48, 304), hex(SAMPLE.gB));
  assert.deepEqual(plain.subarray(0, 20), sha1(body.subarray(0, 304)));
});

test('IGE matches the node aes-256-ecb reference on random data, both directions, several sizes', () => {
  for (const size of [16, 32, 48, 1024, 4096 + 16]) {
    const key = randomBytes(32);
    const iv = randomBytes(32);
    const data = randomBytes(size);
    const enc = aesIgeEncrypt(data, key, iv);
    assert.deepEqual(enc, refIge(data, key, iv, false));
    assert.deepEqual(aesIgeDecrypt(data, key, iv), refIge(data, key, iv, true));
    assert.deepEqual(aesIgeDecrypt(enc, key, iv), new Uint8Array(data));
  }
});

test('AesIge instance is reusable, works in place, and one flipped bit garbles the rest of the message', () => {
  const key = randomBytes(32);
  const iv = randomBytes(32);
  const ige = new AesIge(key, iv);
  const data = new Uint8Array(randomBytes(256));
  const a = ige.encrypt(data);
  const b = ige.encrypt(data);
  assert.deepEqual(a, b);
  const inPlace = data.slice();
  ige.encrypt(inPlace, inPlace);
  assert.deepEqual(inPlace, a);
  ige.decrypt(inPlace, inPlace);
  assert.deepEqual(inPlace, data);
  const tampered = a.slice();
  tampered[40]! ^= 1;
  const dec = ige.decrypt(tampered);
  assert.deepEqual(dec.subarray(0, 32), data.subarray(0, 32));
  for (let blk = 2; blk < 16; blk++) assert.notDeepEqual(dec.subarray(blk * 16, blk * 16 + 16), data.subarray(blk * 16, blk * 16 + 16));
});

test('IGE rejects bad lengths', () => {
  assert.throws(() => aesIgeEncrypt(new Uint8Array(15), new Uint8Array(32), new Uint8Array(32)), RangeError);
  assert.throws(() => aesIgeEncrypt(new Uint8Array(16), new Uint8Array(16), new Uint8Array(32)), RangeError);
  assert.throws(() => aesIgeDecrypt(new Uint8Array(16), new Uint8Array(32), new Uint8Array(16)), RangeError);
});

test('IGE agrees with @mtcute/wasm (independent implementation) on 64 KiB, both directions', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('node:fs') as typeof import('node:fs');
  const warn = console.warn;
  console.warn = () => {};
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const wasm = require('@mtcute/wasm') as {
    initSync(m: unknown): void;
    ige256Encrypt(d: Uint8Array, k: Uint8Array, i: Uint8Array): Uint8Array;
    ige256Decrypt(d: Uint8Array, k: Uint8Array, i: Uint8Array): Uint8Array;
  };
  console.warn = warn;
  wasm.initSync(fs.readFileSync(require.resolve('@mtcute/wasm/mtcute.wasm')));
  const key = randomBytes(32),
    iv = randomBytes(32),
    data = randomBytes(65536);
  assert.deepEqual(aesIgeEncrypt(data, key, iv), new Uint8Array(wasm.ige256Encrypt(data, key, iv)));
  assert.deepEqual(aesIgeDecrypt(data, key, iv), new Uint8Array(wasm.ige256Decrypt(data, key, iv)));
});

test('AesCtr: stream continues across updates and matches a one-shot node aes-256-ctr', () => {
  const key = randomBytes(32),
    iv = randomBytes(16),
    data = randomBytes(1000);
  const ref = createCipheriv('aes-256-ctr', key, iv).update(data);
  const ctr = new AesCtr(key, iv);
  const parts = [ctr.update(data.subarray(0, 7)), ctr.update(data.subarray(7, 500)), ctr.update(data.subarray(500))];
  assert.deepEqual(Buffer.concat(parts), ref);
  assert.deepEqual(Buffer.from(new AesCtr(key, iv).update(ref)), data);
  assert.throws(() => new AesCtr(key, new Uint8Array(32)), RangeError);
});

const u8Random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

test('IGE encryption through native CBC equals the T-table IGE: sizes, unaligned views, in place', () => {
  for (const n of [16, 32, 48, 512, 1008, 4096, 65_536 + 48]) {
    for (const shift of [0, 3]) {
      const key = u8Random(32);
      const iv = u8Random(32);
      const host = u8Random(n + 8);
      const data = host.subarray(shift, shift + n);
      const expected = new AesIge(key, iv).encrypt(data);
      assert.deepEqual(aesIgeEncryptCbc(data, key, iv), expected, `n=${n} shift=${shift}`);
      const inPlace = data.slice();
      aesIgeEncryptCbc(inPlace, key, iv, inPlace);
      assert.deepEqual(inPlace, expected, `in place n=${n}`);
      assert.deepEqual(new AesIge(key, iv).decrypt(expected), data, 'decrypts back');
    }
  }
  assert.throws(() => aesIgeEncryptCbc(new Uint8Array(15), u8Random(32), u8Random(32)), /multiple of 16/);
});

test('IGE decryption in JS: the aligned little-endian word path and the byte-wise path give the same plaintext', () => {
  for (const n of [16, 48, 4096, 65_536 + 32]) {
    const key = u8Random(32);
    const iv = u8Random(32);
    const plain = u8Random(n);
    const cipher = new AesIge(key, iv).encrypt(plain);
    const alignedOut = new AesIge(key, iv).decryptJs(cipher, new Uint8Array(n));
    const host = new Uint8Array(n + 1);
    host.set(cipher, 1);
    const unalignedOut = new AesIge(key, iv).decryptJs(host.subarray(1), new Uint8Array(n + 1).subarray(1));
    assert.deepEqual(alignedOut, plain, `aligned n=${n}`);
    assert.deepEqual(unalignedOut, plain, `unaligned n=${n}`);
    assert.deepEqual(refIge(cipher, key, iv, true), plain, `reference n=${n}`);
  }
});

// ------------------------------------------------------------------------- WebAssembly decryption (aes-ige-wasm.ts)

test('IGE WebAssembly: available on this Node, and the committed module is what scripts/gen-aes-wasm.mjs generates', () => {
  assert.equal(igeWasmUnavailable(), undefined);
  const root = join(__dirname, '..', '..');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-aes-wasm.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('IGE WebAssembly decrypt equals the JS decrypt and the node:crypto ECB reference: random sizes, keys, IVs', () => {
  // sizes around the module's 64 KiB chunk (the chain is carried across chunks), plus random ones
  const sizes = [16, 32, 48, 592, 65_536 - 16, 65_536, 65_536 + 16, 2 * 65_536 + 48];
  for (let i = 0; i < 24; i++) sizes.push(16 * (1 + Math.floor(Math.random() * (i < 16 ? 256 : 12_000))));
  for (const [i, n] of sizes.entries()) {
    const key = u8Random(32);
    const iv = i % 3 === 0 ? new Uint8Array(32) : u8Random(32); // zero IV: the handshake's RSA_PAD case
    const cipher = u8Random(n);
    const ige = new AesIge(key, iv);
    const viaWasm = ige.decryptWasm(cipher);
    assert.deepEqual(viaWasm, ige.decryptJs(cipher), `wasm vs js n=${n}`);
    assert.deepEqual(viaWasm, refIge(cipher, key, iv, true), `wasm vs reference n=${n}`);
    assert.deepEqual(ige.decrypt(cipher), viaWasm, `decrypt dispatch n=${n}`);
    assert.deepEqual(ige.decryptWasm(cipher), viaWasm, `reused instance restarts from the IV n=${n}`);
  }
});

test('IGE WebAssembly decrypt: unaligned views in and out, in place, the input left untouched', () => {
  for (const n of [16, 48, 4096, 65_536 + 32]) {
    const key = u8Random(32);
    const iv = u8Random(32);
    const plain = u8Random(n);
    const cipher = aesIgeEncrypt(plain, key, iv);
    for (const [inShift, outShift] of [
      [1, 0],
      [0, 3],
      [2, 2],
      [3, 1],
    ] as const) {
      const host = new Uint8Array(n + 4);
      host.set(cipher, inShift);
      const view = host.subarray(inShift, inShift + n);
      const out = new Uint8Array(n + 4).subarray(outShift, outShift + n);
      assert.equal(new AesIge(key, iv).decryptWasm(view, out), out);
      assert.deepEqual(out, plain, `n=${n} in+${inShift} out+${outShift}`);
      assert.deepEqual(view, cipher, 'input untouched');
      new AesIge(key, iv).decryptWasm(view, view);
      assert.deepEqual(view, plain, `in place n=${n} +${inShift}`);
    }
  }
});

test('IGE WebAssembly decrypt: 0 bytes, 16 bytes, bad lengths, and an output bigger than the input', () => {
  const key = u8Random(32);
  const iv = u8Random(32);
  const ige = new AesIge(key, iv);
  assert.equal(ige.decryptWasm(new Uint8Array(0)).length, 0);
  assert.equal(ige.decrypt(new Uint8Array(0)).length, 0);
  const one = u8Random(16);
  assert.deepEqual(ige.decryptWasm(one), refIge(one, key, iv, true));
  const big = new Uint8Array(48).fill(0xee);
  ige.decryptWasm(one, big);
  assert.deepEqual(big.subarray(0, 16), refIge(one, key, iv, true));
  assert.ok(
    big.subarray(16).every((b) => b === 0xee),
    'bytes past the input are left alone',
  );
  assert.throws(() => ige.decryptWasm(new Uint8Array(17)), RangeError);
  assert.throws(() => ige.decryptWasm(new Uint8Array(32), new Uint8Array(16)), RangeError);
});

test('IGE WebAssembly decrypt: 4 MiB round trip through native-CBC encryption, and equal to the JS path', () => {
  const n = 4 << 20;
  const key = u8Random(32);
  const iv = u8Random(32);
  const plain = u8Random(n);
  const cipher = aesIgeEncryptCbc(plain, key, iv);
  const ige = new AesIge(key, iv);
  const out = ige.decrypt(cipher);
  assert.ok(Buffer.from(out).equals(plain), 'decrypt(encrypt(p)) = p');
  assert.ok(Buffer.from(ige.decryptJs(cipher)).equals(out), 'wasm = js on 4 MiB');
  ige.decrypt(cipher, cipher);
  assert.ok(Buffer.from(cipher).equals(plain), 'in place on 4 MiB');
});

test('IGE WebAssembly in worker threads, and the JS fallback under DCLAB_IGE_WASM=0', async () => {
  const key = u8Random(32);
  const iv = u8Random(32);
  const plain = u8Random(70_000 - (70_000 % 16));
  const cipher = aesIgeEncrypt(plain, key, iv);
  const body = `parentPort.once('message', ({ key, iv, cipher }) => parentPort.postMessage({
    unavailable: aes.igeWasmUnavailable(), plain: new aes.AesIge(key, iv).decrypt(cipher) }));`;
  const run = async (env: NodeJS.ProcessEnv): Promise<{ unavailable: string | undefined; plain: Uint8Array }> => {
    const mod = JSON.stringify(join(__dirname, '..', '..', 'src', 'crypto', 'aes-ige.ts'));
    const src = `require('tsx/cjs'); const aes = require(${mod}); const { parentPort } = require('node:worker_threads'); ${body}`;
    return new Promise((resolve, reject) => {
      const w = new Worker(src, { eval: true, env });
      w.once('message', (m: { unavailable: string | undefined; plain: Uint8Array }) => {
        resolve(m);
        void w.terminate();
      });
      w.once('error', reject);
      w.postMessage({ key, iv, cipher });
    });
  };
  const [wasm, js] = await Promise.all([run(process.env), run({ ...process.env, DCLAB_IGE_WASM: '0' })]);
  assert.equal(wasm.unavailable, undefined);
  assert.deepEqual(wasm.plain, plain);
  assert.match(js.unavailable ?? '', /DCLAB_IGE_WASM=0/);
  assert.deepEqual(js.plain, plain);
});
