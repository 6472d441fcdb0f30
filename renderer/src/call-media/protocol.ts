// Messages between the window (engine.ts: track processors and generators exist only there) and the media
// worker (worker.ts: WebCodecs encode/decode, and the record layer once it is handed over). Both ends are our
// own code in the same origin; frames from the peer are validated by core (relay-media/frame.ts) before they
// are decoded, in the worker or, before the hand-off, in the window.
import type { RecordLayerHandOff, RelayMediaStats, SendControl } from '../../../core/src/call/relay-media/pipeline.js';

export interface WireFrame {
  track: 'audio' | 'video';
  key: boolean;
  layer: number;
  channels: number;
  timestampUs: number;
  captureMs: number;
  payload: ArrayBuffer;
}

export type ToWorker =
  | { type: 'source'; kind: 'audio' | 'video'; readable: ReadableStream }
  | { type: 'sinks'; audio: WritableStream; video: WritableStream }
  | ({ type: 'deliver' } & WireFrame)
  | { type: 'control'; control: SendControl }
  | { type: 'key-frame' }
  /**
   * The relay channel's record layer: from now on frames are sealed and opened in the worker. With `port`,
   * the channel's records go to and come from the media lane's socket worker over it (lane-socket.ts),
   * without the window; else through the window ('sealed' both ways).
   */
  | { type: 'record-layer'; handOff: RecordLayerHandOff; port: MessagePort | null }
  /** A sealed record from the relay channel (bytes `offset`..`offset + length` of `buffer`, transferred). */
  | { type: 'sealed'; buffer: ArrayBuffer; offset: number; length: number }
  /**
   * The decoded audio plays out of a jitter buffer downstream (the echo canceller's loopback receiver) that
   * holds `ms` on average: the worker hands audio on as it decodes it and syncs video to that delay. Sent when
   * the loopback is up and then as its figure moves; without it the worker paces the audio itself.
   */
  | { type: 'audio-buffer'; ms: number }
  /** Made ready ahead of use (the engine's prepare): the codecs start now, before any frame. */
  | { type: 'warm' }
  | { type: 'close' };

export type FromWorker =
  | ({ type: 'frame' } & WireFrame)
  | { type: 'need-key' }
  /** The peer's first frame of this kind decoded (once per kind). */
  | { type: 'received'; kind: 'audio' | 'video' }
  /** A sealed record for the relay channel, CHANNEL_HEADER_BYTES of room first (transferred). */
  | { type: 'sealed'; buffer: ArrayBuffer; offset: number; length: number }
  /** The worker's record layer ended (a refused record, a failed seal). */
  | { type: 'link-closed'; reason: string }
  | { type: 'stats'; stats: RelayMediaStats }
  /** After 'close': the track readers are cancelled, the worker may be terminated. */
  | { type: 'closed' }
  | { type: 'error'; message: string };
