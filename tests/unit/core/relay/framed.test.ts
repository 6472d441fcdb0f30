// writeChannelHeader: the in-place variant of encodeChannelFrame used by RelayChannelSocket.sendFramed.
import { describe, expect, it } from 'vitest';
import {
  MAX_CHANNEL_PAYLOAD,
  channelOfFrame,
  encodeChannelFrame,
  payloadOfFrame,
  writeChannelHeader,
} from '../../../../signaling/protocol/index.js';

describe('writeChannelHeader', () => {
  it('writes the same bytes encodeChannelFrame makes, into the reserved room, without copying the payload', () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const frame = new Uint8Array(4 + payload.length);
    frame.set(payload, 4);
    const out = writeChannelHeader(frame, 0x01020304);
    expect(out).toBe(frame);
    expect([...out]).toEqual([...encodeChannelFrame(0x01020304, payload)]);
    expect(channelOfFrame(out)).toBe(0x01020304);
    expect([...payloadOfFrame(out)]).toEqual([...payload]);
  });

  it('works on a view with an offset and leaves the bytes around it alone', () => {
    const backing = new Uint8Array(12).fill(9);
    writeChannelHeader(backing.subarray(2, 10), 7);
    expect([...backing]).toEqual([9, 9, 0, 0, 0, 7, 9, 9, 9, 9, 9, 9]);
  });

  it('refuses bad channels, frames without room for the header and oversized payloads', () => {
    expect(() => writeChannelHeader(new Uint8Array(8), 0)).toThrow(/channel out of range/);
    expect(() => writeChannelHeader(new Uint8Array(8), 2 ** 32)).toThrow(/channel out of range/);
    expect(() => writeChannelHeader(new Uint8Array(3), 1)).toThrow(/shorter than the channel header/);
    expect(() => writeChannelHeader(new Uint8Array(4 + MAX_CHANNEL_PAYLOAD + 1), 1)).toThrow(/larger than/);
    expect(channelOfFrame(writeChannelHeader(new Uint8Array(4 + MAX_CHANNEL_PAYLOAD), 1))).toBe(1);
  });
});
