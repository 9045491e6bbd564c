// Encoding of the value types keyv cannot JSON-serialize: bigint as a decimal string, Uint8Array as base64.

export function encodeBigInt(b: bigint): string {
  if (typeof b !== 'bigint') throw new TypeError(`expected a bigint, got ${typeof b}`);
  return b.toString();
}

export function decodeBigInt(s: string): bigint {
  if (typeof s !== 'string' || !/^-?\d+$/.test(s)) throw new TypeError('expected a decimal integer string');
  return BigInt(s);
}

export function encodeBytes(u8: Uint8Array): string {
  if (!(u8 instanceof Uint8Array)) throw new TypeError('expected a Uint8Array');
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');
}

export function decodeBytes(s: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new TypeError('expected a base64 string');
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
