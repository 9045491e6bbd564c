export * from './errors';
export * from './profile';
export * from './topology';
export * from './pool';
