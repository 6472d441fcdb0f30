export * from './keys.js';
export * from './store.js';
export * from './invite.js';
export * from './profile.js';
export * from './safety-number.js';
