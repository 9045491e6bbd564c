// Public API of the TL layer (see docs/contracts.md). Notes for consumers:
// - `Object`/`!X` fields (rpc_result.result, message.body, invokeWithLayer.query) decode to a TlObject, a boolean
//   for boolTrue/boolFalse, or — for a boxed vector, whose element type only the method knows — the serialized
//   bytes (Uint8Array): pass them to `codec.decodeValue(codec.returnTypeOf(call), bytes)`. When encoding such a
//   field a Uint8Array is written as is (pre-serialized) and an array of bigints/numbers/strings/objects as a Vector.
// - `vector<%Message>` (msg_container) always means the MTProto `message` (the API's `message` shares the name);
//   its `bytes` is computed on encode and bounds `body` on decode. A lenient codec keeps an unknown body serialized.
// - Decoded `bytes`/int128/int256 values are views into the input buffer (no copy).
// - Bounds of a decode: vector counts must fit the bytes left at the element's smallest size, nesting stops at
//   TL_MAX_DEPTH, gzip_packed inflates to gzipInflateLimit each and gzipPacketBudget of the input in all.
export { crc32 } from './crc32';
export type { TlObject, TlParam, TlEntry } from './types';
export { TlSchema } from './schema';
export { parseTlSchema, computeTlId, normalizeTlDeclaration, TlParseError, scanTlSource, parseTlDeclarationSyntax, TlMappedText } from './parser';
export type { TlSourceItem, TlDeclarationSyntax, TlParamSyntax, TlDeclarationParse } from './parser';
export { analyzeTlFile, tlHoverAt, tlDefinitionAt, formatTlId } from './tl-file';
export type { TlTextRange, TlFileEntry, TlFileParam, TlFileDiagnostic, TlFileReference, TlFileAnalysis, TlFileAnalysisOptions } from './tl-file';
export { TlWriter, TlReader, TlDecodeError } from './binary';
export { TlCodec, TlEncodeError, isTlObject, MT_MESSAGE_ENTRY, VECTOR_ID, GZIP_PACKED_ID, BOOL_TRUE_ID, BOOL_FALSE_ID } from './codec';
export { TL_MAX_DEPTH, GZIP_MAX_INFLATED, GZIP_RATIO_FLOOR, GZIP_MAX_RATIO, GZIP_PACKET_BUDGET, gzipInflateLimit, gzipPacketBudget } from './codec';
export type { TlCodecOptions } from './codec';
export { tlToJson, tlFromJson, TlJsonError } from './json';
export { API_LAYER, apiSchema, apiTypeComment, mtprotoSchema, fullSchema, schemaFromTlText, entriesFromMtcuteJson } from './bundled';
export type { MtcuteSchemaJson } from './bundled';
export { MTPROTO_SCHEMA_TL } from './mtproto-schema';
