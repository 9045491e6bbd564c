// Public API of the request-file module (`.mtproto` files, format in README.md): parser, schema diagnostics,
// completion, hover, environments and the runner. Plain Node, no `vscode` (the extension wires providers on top).
export type { TextRange } from './text';
export { parseRequestFile } from './parse';
export type { ReqDiagnostic, VariableDef, RequestBlock, RequestFile, Severity } from './parse';
export { analyzeRequestFile } from './analyze';
export type { AnalyzeOptions } from './analyze';
export { completeAt } from './complete';
export type { ReqCompletion, CompleteOptions } from './complete';
export { hoverAt, methodMarkdown, constructorMarkdown } from './hover';
export type { ReqHover, HoverOptions } from './hover';
export { tlSignature, docToMarkdown } from './schema-walk';
export { loadEnvironment, findEnvironmentFile, EnvironmentError, ENV_FILE_NAME } from './environment';
export { runRequests, attachCallTrace, RunCallError } from './run';
export type { RunCall, RunCallOptions, RunCallResult, RequestRunResult, RequestRunError, RunOptions } from './run';
export { clientRunCall, callChain } from './client-call';
export type { ClientRunCallOptions } from './client-call';
export { lineColumnAt, splitLines } from './text';
