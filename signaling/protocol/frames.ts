// Relay-channel binary frames: [u32 big-endian channel][payload]. The relay reads only the header;
// both ends see the same channel number, so the relay forwards the frame bytes unchanged.
import type { Bytes } from './base64url.js';
import { CHANNEL_HEADER_BYTES, MAX_CHANNEL_PAYLOAD } from './constants.js';

export function encodeChannelFrame(channel: number, payload: Uint8Array): Bytes {
  if (!Number.isInteger(channel) || channel < 1 || channel > 0xffffffff) throw new RangeError('channel out of range');
  if (payload.length > MAX_CHANNEL_PAYLOAD) throw new RangeError(`payload larger than ${MAX_CHANNEL_PAYLOAD} bytes`);
  const frame = new Uint8Array(CHANNEL_HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, channel, false);
  frame.set(payload, CHANNEL_HEADER_BYTES);
  return frame;
}

/**
 * Turns a buffer whose first CHANNEL_HEADER_BYTES are reserved into a channel frame in place (no copy of
 * the payload after them): for senders that build the payload with room for the header.
 */
export function writeChannelHeader(frame: Uint8Array, channel: number): Uint8Array {
  if (!Number.isInteger(channel) || channel < 1 || channel > 0xffffffff) throw new RangeError('channel out of range');
  if (frame.length < CHANNEL_HEADER_BYTES) throw new RangeError('frame shorter than the channel header');
  if (frame.length - CHANNEL_HEADER_BYTES > MAX_CHANNEL_PAYLOAD)
    throw new RangeError(`payload larger than ${MAX_CHANNEL_PAYLOAD} bytes`);
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(0, channel, false);
  return frame;
}

/** Reads the channel number of a frame, or returns null if the frame is too short to have one. */
export function channelOfFrame(frame: Uint8Array): number | null {
  if (frame.length < CHANNEL_HEADER_BYTES) return null;
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false);
}

export function payloadOfFrame(frame: Uint8Array): Uint8Array {
  return frame.subarray(CHANNEL_HEADER_BYTES);
}
