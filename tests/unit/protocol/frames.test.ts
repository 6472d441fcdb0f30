import { describe, expect, it } from 'vitest';
import {
  CHANNEL_HEADER_BYTES,
  MAX_CHANNEL_PAYLOAD,
  MAX_FRAME_BYTES,
  channelOfFrame,
  encodeChannelFrame,
  payloadOfFrame,
} from '../../../signaling/protocol/index.js';

describe('channel frames', () => {
  it('puts the channel in 4 big-endian bytes before the payload', () => {
    const frame = encodeChannelFrame(0x01020304, new Uint8Array([9, 8, 7]));
    expect([...frame]).toEqual([1, 2, 3, 4, 9, 8, 7]);
    expect(channelOfFrame(frame)).toBe(0x01020304);
    expect([...payloadOfFrame(frame)]).toEqual([9, 8, 7]);
  });

  it('reads the header of a frame that is a view into a larger buffer', () => {
    const backing = new Uint8Array(16);
    backing.set(encodeChannelFrame(0xffffffff, new Uint8Array([5])), 7);
    const view = backing.subarray(7, 12);
    expect(channelOfFrame(view)).toBe(0xffffffff);
    expect([...payloadOfFrame(view)]).toEqual([5]);
  });

  it('returns null for frames too short to hold a channel', () => {
    expect(channelOfFrame(new Uint8Array(CHANNEL_HEADER_BYTES - 1))).toBeNull();
    expect(channelOfFrame(new Uint8Array(CHANNEL_HEADER_BYTES))).toBe(0);
  });

  it.each([0, -1, 2 ** 32, 1.5, Number.NaN])('refuses channel %s', (channel) => {
    expect(() => encodeChannelFrame(channel, new Uint8Array(1))).toThrow(RangeError);
  });

  it('accepts the largest payload and refuses one byte more', () => {
    expect(encodeChannelFrame(1, new Uint8Array(MAX_CHANNEL_PAYLOAD))).toHaveLength(MAX_FRAME_BYTES);
    expect(() => encodeChannelFrame(1, new Uint8Array(MAX_CHANNEL_PAYLOAD + 1))).toThrow(RangeError);
  });
});
