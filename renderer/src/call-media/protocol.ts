// Messages between the window (engine.ts: track processors and generators exist only there) and the media
// worker (worker.ts: WebCodecs encode/decode). Both ends are our own code in the same origin; frames from the
// peer were validated by core (relay-media/frame.ts) before they get here.
import type { SendControl, RelayMediaStats } from '../../../core/src/call/relay-media/pipeline.js';

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
  | { type: 'close' };

export type FromWorker =
  | ({ type: 'frame' } & WireFrame)
  | { type: 'need-key' }
  | { type: 'stats'; stats: RelayMediaStats }
  | { type: 'error'; message: string };
