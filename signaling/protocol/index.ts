export * from './base64url.js';
export * from './constants.js';
export * from './frames.js';
export * from './identity.js';
export * from './messages.js';
export * from './turn.js';
export * from './watch.js';
