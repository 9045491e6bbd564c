// Public surface of the transport layer.
export * from './codec';
export * from './obfuscated';
export * from './tcp';
