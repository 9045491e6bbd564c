export * from './errors';
export * from './store';
export * from './runtime';
export * from './session-machine';
export * from './client-machine';
export * from './client';
export * from './call';
export * from './profile';
