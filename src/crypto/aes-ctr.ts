import { createCipheriv, type Cipher } from 'node:crypto';

/** AES-256-CTR stream (obfuscated transport, CDN file parts): `update` continues the keystream across calls. */
export class AesCtr {
  private readonly cipher: Cipher;

  constructor(key32: Uint8Array, iv16: Uint8Array) {
    if (key32.length !== 32) throw new RangeError(`AES-256-CTR key must be 32 bytes, got ${key32.length}`);
    if (iv16.length !== 16) throw new RangeError(`AES-256-CTR iv must be 16 bytes, got ${iv16.length}`);
    this.cipher = createCipheriv('aes-256-ctr', key32, iv16);
  }

  /** Encrypts or decrypts (the same operation) the next `data.length` bytes of the stream. */
  update(data: Uint8Array): Uint8Array {
    const b = this.cipher.update(data);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
}
