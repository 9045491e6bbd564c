// src/ipc: the typed messages between the extension host and the webview panel. Imported by both sides;
// imports nothing of ours but the secret-field policy (src/tl/secret-fields.ts, itself import-free); types of
// src/trace and src/dc are mirrored structurally.
export * from './models';
export * from './protocol';
export * from './validate';
export * from './panel-state';
