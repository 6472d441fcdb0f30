export * from './errors.js';
export * from './transcript.js';
export * from './secure-channel.js';
export { createAeadChannel, MAX_PLAINTEXT, MAX_FRAME, type AeadChannelOptions, type DirectionSecret } from './aead-channel.js';
