export * from './errors.js';
export * from './transcript.js';
export * from './secure-channel.js';
export {
  createAeadChannel,
  MAX_PLAINTEXT,
  MAX_FRAME,
  type AeadChannelOptions,
  type DirectionSecret,
} from './aead-channel.js';
export { MAX_RECORD_BYTES, MAX_RECORD_FRAME, RECORD_FRAMES, packRecord, packedSize, unpackRecord } from './record.js';
export * from './sdp-fingerprint.js';
export {
  AEAD_TAG_BYTES,
  cipherAead,
  webCryptoAead,
  type AeadEngine,
  type AeadKey,
  type GcmCipherApi,
} from './aead-engine.js';
export type { Role } from './roles.js';
