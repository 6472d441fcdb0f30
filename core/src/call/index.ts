// Audio/video calls (see README.md).
export type * from './types.js';
export type { StreamLike, TrackLike, TrackOf } from './media-types.js';
export type { IceServer } from '../platform/rtc.js';
export { CallError, type CallErrorCode } from './errors.js';
export { CallManager, DEFAULT_CALL_TIMEOUTS, type StartCallOptions } from './manager.js';
export { CALL_SIGNAL_KIND, isCallSignal } from './signals.js';
export { endMessage } from './reasons.js';
export { readCallStats, statRecords, type StatCounters, type StatRecord } from './stats.js';
