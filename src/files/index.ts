export * from './errors';
export * from './plan';
export * from './part-file';
export * from './cdn';
export * from './download';
export * from './upload';
export * from './media';
