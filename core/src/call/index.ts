// Audio/video calls (see README.md).
export type * from './types.js';
export type { StreamLike, TrackLike, TrackOf, IceServer } from './media-types.js';
export { CallError, type CallErrorCode } from './errors.js';
