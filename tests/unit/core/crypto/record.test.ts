import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  MAX_RECORD_BYTES,
  MAX_RECORD_FRAME,
  RECORD_FRAMES,
  packRecord,
  packedSize,
  unpackRecord,
} from '../../../../core/src/crypto/index.js';

const sizeOf = (frames: Uint8Array[]) => 1 + frames.reduce((n, f) => n + packedSize(f.length), 0);
const bytes = (...xs: number[]) => new Uint8Array(xs);

function refusal(record: Uint8Array): string {
  try {
    unpackRecord(record);
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('bad-record');
    return (error as Error).message;
  }
  throw new Error('the record was accepted');
}

describe('relay records', () => {
  it('packs frames as type || ([u32 length][frame])* and unpacks them in order, empty frames included', () => {
    const frames = [bytes(1, 2, 3), new Uint8Array(0), bytes(9)];
    const record = packRecord(frames, 0, frames.length, sizeOf(frames));
    expect([...record]).toEqual([RECORD_FRAMES, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 1, 9]);
    expect(unpackRecord(record).map((f) => [...f])).toEqual([[1, 2, 3], [], [9]]);
  });

  it('packs a sub-range into a reusable buffer, and the largest frame fits alone', () => {
    const scratch = new Uint8Array(MAX_RECORD_BYTES).fill(0xee);
    const frames = [bytes(7), bytes(8, 8), bytes(9, 9, 9)];
    const record = packRecord(frames, 1, 3, sizeOf(frames.slice(1)), scratch);
    expect(record.buffer).toBe(scratch.buffer);
    expect(unpackRecord(record).map((f) => [...f])).toEqual([
      [8, 8],
      [9, 9, 9],
    ]);

    const biggest = new Uint8Array(MAX_RECORD_FRAME).fill(5);
    const full = packRecord([biggest], 0, 1, sizeOf([biggest]), scratch);
    expect(full.length).toBe(MAX_RECORD_BYTES);
    const [back] = unpackRecord(full);
    expect(back!.length).toBe(MAX_RECORD_FRAME);
    expect(back!.every((b) => b === 5)).toBe(true);
  });

  it('refuses to pack nothing, more than a record holds, or frames that disagree with the size', () => {
    expect(() => packRecord([], 0, 0, 1)).toThrow(/at least one frame/);
    const tooBig = new Uint8Array(MAX_RECORD_FRAME + 1);
    expect(() => packRecord([tooBig], 0, 1, sizeOf([tooBig]))).toThrow(/at most/);
    expect(() => packRecord([bytes(1, 2)], 0, 1, 6)).toThrow(/more than the 6 bytes/);
    expect(() => packRecord([bytes(1, 2)], 0, 1, 8)).toThrow(/mismatch/);
    expect(() => packRecord([bytes(1, 2)], 0, 1, 7, new Uint8Array(6))).toThrow(/holds 6 bytes/);
  });

  it('refuses malformed records with a precise reason', () => {
    expect(refusal(new Uint8Array(0))).toMatch(/empty record/);
    expect(refusal(bytes(RECORD_FRAMES))).toMatch(/no frame/);
    expect(refusal(bytes(0x02, 0, 0, 0, 0))).toMatch(/Unknown record type 0x02/);
    expect(refusal(bytes(0x00, 0, 0, 0, 0))).toMatch(/Unknown record type 0x00/);
    // A stream DATA frame as the earlier one-frame-per-record format sealed it: refused, not misread.
    expect(refusal(bytes(1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 7, 42))).toMatch(
      /Unknown record type 0x01/,
    );
    // A length that runs past the end, by one byte and by a lot.
    expect(refusal(bytes(RECORD_FRAMES, 0, 0, 0, 3, 1, 2))).toMatch(/3 bytes at offset 1 runs past the end/);
    expect(refusal(bytes(RECORD_FRAMES, 0xff, 0xff, 0xff, 0xff, 1))).toMatch(/4294967295 bytes/);
    // Trailing bytes after the last frame that cannot hold a length.
    expect(refusal(bytes(RECORD_FRAMES, 0, 0, 0, 1, 7, 0, 0))).toMatch(/ends inside a frame length/);
    // A truncated second frame.
    const good = packRecord([bytes(1), bytes(2, 3)], 0, 2, 12);
    expect(refusal(good.subarray(0, good.length - 1))).toMatch(/runs past the end/);
  });

  it('reads a record through a view with an offset (as an opened frame may be)', () => {
    const inner = packRecord([bytes(4, 5)], 0, 1, 7);
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    expect(unpackRecord(outer.subarray(5, 5 + inner.length)).map((f) => [...f])).toEqual([[4, 5]]);
  });
});
