// Transport-level errors in one place (also exported from codec.ts and index.ts):
// TransportFramingError (a broken byte stream) and the 4-byte negative error-code packets (−404, −429, −444, −403).
export { TransportFramingError, transportErrorCode, encodeTransportError } from './frames';
