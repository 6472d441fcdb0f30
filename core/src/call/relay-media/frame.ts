// The messages of a call's relay media channel, one per sealed relay frame (the channel's AES-GCM record
// authenticates the whole message, header included). A hand-checked binary header, because this runs
// 50+ times a second per track and zod would allocate per frame; every field is range-checked on receipt
// and a bad message is refused with a reason that names the field (never echoing peer bytes).
//
//   media     [0]=1 [1]=track (0 audio, 1 video) [2]=flags (bit0 key frame, bits1-2 audio channels - 1)
//             [3]=temporal layer (0-2) [4..8) u32 seq (per track) [8..16) f64 media timestamp, µs
//             [16..24) f64 capture time (sender's Date.now(), ms: capture → display latency) [24..) payload
//   feedback  [0]=2 [1..4) 0 [4..8) u32 audio bytes received [8..12) u32 video bytes received (both
//             cumulative, mod 2^32) [12..16) u32 highest video seq received [16..24) f64 receiver's clock, ms
//             [24..32) f64 echo: the newest capture time received (sender computes a round trip estimate)
//   key-request [0]=3
export const MEDIA_TYPE = 1;
export const FEEDBACK_TYPE = 2;
export const KEY_REQUEST_TYPE = 3;

export const MEDIA_HEADER_BYTES = 24;
export const FEEDBACK_BYTES = 32;
/** Largest encoded frame we accept (a 1080p VP8 key frame at high bitrate fits easily). */
export const MAX_MEDIA_PAYLOAD = 1024 * 1024 - MEDIA_HEADER_BYTES;
export const MAX_TEMPORAL_LAYER = 2;

export type MediaTrackKind = 'audio' | 'video';

export interface MediaFrameHeader {
  track: MediaTrackKind;
  /** Per-track sequence number (u32, wraps). */
  seq: number;
  /** The encoder's timestamp (µs); the decoder's output carries it. */
  timestampUs: number;
  /** Sender clock (ms since the epoch) when the frame was captured. */
  captureMs: number;
  key: boolean;
  /** 0 for audio; the VP8 temporal layer id for video (L1T3: 0-2). */
  layer: number;
  /** Audio only: channels (1-4); 0 for video. */
  channels: number;
}

export interface MediaFrame extends MediaFrameHeader {
  payload: Uint8Array;
}

export interface MediaFeedback {
  audioBytes: number;
  videoBytes: number;
  videoSeq: number;
  receiverMs: number;
  echoCaptureMs: number;
}

export type MediaMessage =
  ({ type: 'media' } & MediaFrame) | ({ type: 'feedback' } & MediaFeedback) | { type: 'key-request' };

export class MediaMessageError extends Error {
  override readonly name = 'MediaMessageError';
}

const u32 = (n: number): number => n >>> 0;

/** Header + payload in one buffer (the relay transport takes it as one frame). */
export function encodeMediaFrame(h: MediaFrameHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MEDIA_HEADER_BYTES + payload.length);
  writeMediaHeader(out, h);
  out.set(payload, MEDIA_HEADER_BYTES);
  return out;
}

/** Writes the header into the first MEDIA_HEADER_BYTES of `out` (the payload follows, written by the caller). */
export function writeMediaHeader(out: Uint8Array, h: MediaFrameHeader): void {
  if (h.layer < 0 || h.layer > MAX_TEMPORAL_LAYER || !Number.isInteger(h.layer))
    throw new RangeError(`temporal layer must be 0-${MAX_TEMPORAL_LAYER}`);
  if (h.track === 'audio' && (h.channels < 1 || h.channels > 4)) throw new RangeError('audio channels must be 1-4');
  const view = new DataView(out.buffer, out.byteOffset, MEDIA_HEADER_BYTES);
  view.setUint8(0, MEDIA_TYPE);
  view.setUint8(1, h.track === 'audio' ? 0 : 1);
  view.setUint8(2, (h.key ? 1 : 0) | (h.track === 'audio' ? ((h.channels - 1) & 3) << 1 : 0));
  view.setUint8(3, h.layer);
  view.setUint32(4, u32(h.seq));
  view.setFloat64(8, h.timestampUs);
  view.setFloat64(16, h.captureMs);
}

export function encodeFeedback(f: MediaFeedback): Uint8Array {
  const out = new Uint8Array(FEEDBACK_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, FEEDBACK_TYPE);
  view.setUint32(4, u32(f.audioBytes));
  view.setUint32(8, u32(f.videoBytes));
  view.setUint32(12, u32(f.videoSeq));
  view.setFloat64(16, f.receiverMs);
  view.setFloat64(24, f.echoCaptureMs);
  return out;
}

export function encodeKeyRequest(): Uint8Array {
  return Uint8Array.of(KEY_REQUEST_TYPE);
}

/** Parses one message from the peer; throws MediaMessageError naming what is wrong. The payload is a view. */
export function decodeMediaMessage(bytes: Uint8Array): MediaMessage {
  if (bytes.length < 1) throw new MediaMessageError('empty media message');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(0);
  if (type === KEY_REQUEST_TYPE) {
    if (bytes.length !== 1) throw new MediaMessageError('key request: unexpected trailing bytes');
    return { type: 'key-request' };
  }
  if (type === FEEDBACK_TYPE) {
    if (bytes.length !== FEEDBACK_BYTES)
      throw new MediaMessageError(`feedback: ${bytes.length} bytes, expected ${FEEDBACK_BYTES}`);
    const receiverMs = view.getFloat64(16);
    const echoCaptureMs = view.getFloat64(24);
    if (!Number.isFinite(receiverMs) || !Number.isFinite(echoCaptureMs))
      throw new MediaMessageError('feedback: clock fields are not finite');
    return {
      type: 'feedback',
      audioBytes: view.getUint32(4),
      videoBytes: view.getUint32(8),
      videoSeq: view.getUint32(12),
      receiverMs,
      echoCaptureMs,
    };
  }
  if (type !== MEDIA_TYPE) throw new MediaMessageError(`unknown media message type ${type}`);
  if (bytes.length <= MEDIA_HEADER_BYTES) throw new MediaMessageError('media frame: shorter than its header');
  if (bytes.length - MEDIA_HEADER_BYTES > MAX_MEDIA_PAYLOAD)
    throw new MediaMessageError(`media frame: payload over ${MAX_MEDIA_PAYLOAD} bytes`);
  const trackByte = view.getUint8(1);
  if (trackByte > 1) throw new MediaMessageError(`media frame: unknown track ${trackByte}`);
  const track: MediaTrackKind = trackByte === 0 ? 'audio' : 'video';
  const flags = view.getUint8(2);
  if (flags & ~7 || (track === 'video' && flags & 6)) throw new MediaMessageError('media frame: unknown flags');
  const layer = view.getUint8(3);
  if (layer > MAX_TEMPORAL_LAYER || (track === 'audio' && layer !== 0))
    throw new MediaMessageError(`media frame: temporal layer ${layer} out of range`);
  const timestampUs = view.getFloat64(8);
  const captureMs = view.getFloat64(16);
  if (!Number.isFinite(timestampUs) || !Number.isFinite(captureMs))
    throw new MediaMessageError('media frame: timestamps are not finite');
  return {
    type: 'media',
    track,
    seq: view.getUint32(4),
    timestampUs,
    captureMs,
    key: (flags & 1) === 1,
    layer,
    channels: track === 'audio' ? ((flags >> 1) & 3) + 1 : 0,
    payload: bytes.subarray(MEDIA_HEADER_BYTES),
  };
}

/** True when u32 sequence number `a` comes after `b` (serial number arithmetic, RFC 1982). */
export function seqAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
