import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_BYTES,
  decodeFrame,
  encodeChunk,
  encodeControl,
  FRAME_CONTROL,
  MAX_CHUNK_BYTES,
  MAX_TRANSFER_FRAME_BYTES,
  newOfferId,
  TRANSFER_PROTOCOL_VERSION,
} from '../../../../core/src/transfer/protocol.js';
import { MAX_STREAM_PAYLOAD } from '../../../../core/src/session/stream.js';

const offerId = newOfferId();
const json = (value: unknown) => {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const frame = new Uint8Array(body.length + 1);
  frame[0] = FRAME_CONTROL;
  frame.set(body, 1);
  return frame;
};

describe('transfer frames', () => {
  it('round-trips chunks, including offsets above 4 GiB', () => {
    for (const offset of [0, 65536, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER - 10]) {
      const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const decoded = decodeFrame(encodeChunk({ offerId, fileId: 4095, offset, data }));
      expect(decoded.kind).toBe('chunk');
      if (decoded.kind !== 'chunk') return;
      expect(decoded.chunk).toMatchObject({ offerId, fileId: 4095, offset });
      expect([...decoded.chunk.data]).toEqual([...data]);
    }
  });

  it('keeps the chunk header small and chunks within the session frame limit', () => {
    expect(CHUNK_HEADER_BYTES).toBe(29);
    expect(MAX_CHUNK_BYTES + CHUNK_HEADER_BYTES).toBe(MAX_TRANSFER_FRAME_BYTES);
    expect(MAX_TRANSFER_FRAME_BYTES).toBe(MAX_STREAM_PAYLOAD);
    expect(() => encodeChunk({ offerId, fileId: 0, offset: 0, data: new Uint8Array(MAX_CHUNK_BYTES + 1) })).toThrow(
      RangeError,
    );
  });

  it('refuses chunks running past the largest safe offset or naming a file out of range', () => {
    const frame = encodeChunk({ offerId, fileId: 0, offset: Number.MAX_SAFE_INTEGER - 1, data: new Uint8Array(4) });
    expect(() => decodeFrame(frame)).toThrow(/offset out of range/);
    const bad = encodeChunk({ offerId, fileId: 0, offset: 0, data: new Uint8Array(1) });
    new DataView(bad.buffer).setUint32(17, 5000);
    expect(() => decodeFrame(bad)).toThrow(/fileId out of range/);
  });

  it('round-trips control messages', () => {
    const message = {
      t: 'accept' as const,
      offerId,
      round: 3,
      files: [{ fileId: 1, offset: 10, check: { from: 2, length: 5, sha256: 'a'.repeat(64) } }],
      have: [0],
    };
    expect(decodeFrame(encodeControl(message))).toEqual({ kind: 'control', message });
  });

  it.each([
    ['empty frame', new Uint8Array(0), /empty/],
    ['unknown kind', Uint8Array.from([9, 1, 2]), /unknown frame kind/],
    ['short chunk', Uint8Array.from([2, 1, 2]), /too short/],
    ['oversized frame', new Uint8Array(MAX_TRANSFER_FRAME_BYTES + 1).fill(1), /too large/],
    ['not JSON', Uint8Array.from([1, 0x7b, 0x7b]), /not UTF-8 JSON/],
    ['bad UTF-8', Uint8Array.from([1, 0xff, 0xfe]), /not UTF-8 JSON/],
    ['unknown type', json({ t: 'hack', offerId }), /bad control message/],
    [
      'non-canonical offer id',
      json({ t: 'ack', offerId: 'AAAAAAAAAAAAAAAAAAAAAB', fileId: 0, offset: 0, durable: 0 }),
      /offerId/,
    ],
    ['negative offset', json({ t: 'ack', offerId, fileId: 0, offset: -1, durable: 0 }), /offset/],
    ['fractional size', json({ t: 'end', offerId, fileId: 0, size: 1.5, sha256: 'a'.repeat(64) }), /size/],
    ['bad hash', json({ t: 'end', offerId, fileId: 0, size: 1, sha256: 'XYZ' }), /sha256/],
    [
      'repeated file ids',
      json({
        t: 'offer',
        v: TRANSFER_PROTOCOL_VERSION,
        offerId,
        round: 1,
        total: 2,
        files: [
          { fileId: 0, relativePath: 'a', size: 1, mime: '' },
          { fileId: 0, relativePath: 'b', size: 1, mime: '' },
        ],
      }),
      /repeated/,
    ],
    [
      'a check range past the offset',
      json({
        t: 'accept',
        offerId,
        round: 1,
        files: [{ fileId: 0, offset: 4, check: { from: 2, length: 5, sha256: 'a'.repeat(64) } }],
        have: [],
      }),
      /check range/,
    ],
    [
      'an older version',
      json({
        t: 'offer',
        v: 1,
        offerId,
        round: 1,
        total: 1,
        files: [{ fileId: 0, relativePath: 'a', size: 1, mime: '' }],
      }),
      /v/,
    ],
    [
      'non-ASCII mime',
      json({
        t: 'offer',
        v: TRANSFER_PROTOCOL_VERSION,
        offerId,
        round: 1,
        total: 1,
        files: [{ fileId: 0, relativePath: 'a', size: 1, mime: 'tëxt' }],
      }),
      /mime/,
    ],
  ])('refuses %s with a clear error', (_name, frame, pattern) => {
    expect(() => decodeFrame(frame)).toThrow(pattern);
  });
});
