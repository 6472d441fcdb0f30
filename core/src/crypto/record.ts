// What one sealed record of the relay transport carries: several frames, so the AEAD call, the relay
// message and the relay's forwarding work are paid once per record instead of once per frame.
//   record = type (1 byte) || body
//   type 0x10 (frames): body = one or more of [u32 big-endian length][frame bytes], nothing after the last
// The type byte is inside the AEAD plaintext (authenticated), so a future format is a new type value that
// an older peer refuses by name instead of misreading. 0x10 is none of the stream frame types (1-3) that
// began every plaintext of the earlier one-frame-per-record format, so a peer still on that format is
// refused too. Zero-length frames are allowed; zero frames are not.
import type { Bytes } from '../../../signaling/protocol/index.js';
import { MAX_PLAINTEXT } from './aead-channel.js';
import { CryptoError } from './errors.js';

export const RECORD_FRAMES = 0x10;
export const RECORD_TYPE_BYTES = 1;
export const FRAME_LENGTH_BYTES = 4;
/** Largest record plaintext: what one AEAD frame carries. */
export const MAX_RECORD_BYTES = MAX_PLAINTEXT;
/** Largest frame a record can carry (alone). */
export const MAX_RECORD_FRAME = MAX_RECORD_BYTES - RECORD_TYPE_BYTES - FRAME_LENGTH_BYTES;

/** A frame given as two pieces (a stream header and its payload), packed as one: saves joining them first. */
export interface FrameParts {
  readonly head: Uint8Array;
  readonly body: Uint8Array;
  /** head.length + body.length */
  readonly length: number;
}

/** Bytes a frame of `length` adds to a record. */
export function packedSize(length: number): number {
  return FRAME_LENGTH_BYTES + length;
}

/**
 * Packs `frames[from..to)` into one record of exactly `size` bytes (RECORD_TYPE_BYTES plus each packedSize).
 * Writes into `into` when given (a reusable buffer of at least `size` bytes; the result is a view of it),
 * else into a new buffer.
 */
export function packRecord(
  frames: ReadonlyArray<Uint8Array | FrameParts>,
  from: number,
  to: number,
  size: number,
  into?: Bytes,
): Bytes {
  if (to <= from) throw new CryptoError('invalid-input', 'A record carries at least one frame.');
  if (size > MAX_RECORD_BYTES)
    throw new CryptoError('too-large', `A record carries at most ${MAX_RECORD_BYTES} bytes (got ${size}).`);
  if (into !== undefined && into.length < size)
    throw new CryptoError('invalid-input', `The record buffer holds ${into.length} bytes, not ${size}.`);
  const out = into === undefined ? new Uint8Array(size) : into.subarray(0, size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  out[0] = RECORD_FRAMES;
  let at = RECORD_TYPE_BYTES;
  for (let i = from; i < to; i++) {
    const frame = frames[i]!;
    if (at + FRAME_LENGTH_BYTES + frame.length > size)
      throw new CryptoError('invalid-input', `The frames need more than the ${size} bytes given.`);
    view.setUint32(at, frame.length, false);
    if (frame instanceof Uint8Array) out.set(frame, at + FRAME_LENGTH_BYTES);
    else {
      out.set(frame.head, at + FRAME_LENGTH_BYTES);
      out.set(frame.body, at + FRAME_LENGTH_BYTES + frame.head.length);
    }
    at += FRAME_LENGTH_BYTES + frame.length;
  }
  if (at !== size)
    throw new CryptoError('invalid-input', `record size mismatch: expected ${size} bytes, packed ${at}.`);
  return out;
}

/**
 * Splits an opened record into its frames (views into `record`, no copies). Throws CryptoError 'bad-record'
 * for an unknown type, a length that runs past the end, trailing bytes, or no frame at all.
 */
export function unpackRecord(record: Uint8Array): Uint8Array[] {
  if (record.length < RECORD_TYPE_BYTES) throw new CryptoError('bad-record', 'An empty record carries no type.');
  const type = record[0]!;
  if (type !== RECORD_FRAMES) {
    throw new CryptoError(
      'bad-record',
      `Unknown record type 0x${type.toString(16).padStart(2, '0')} (the peer runs another version of the relay record format).`,
    );
  }
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const frames: Uint8Array[] = [];
  let at = RECORD_TYPE_BYTES;
  while (at < record.length) {
    if (record.length - at < FRAME_LENGTH_BYTES) {
      throw new CryptoError(
        'bad-record',
        `A record ends inside a frame length (${record.length - at} bytes left at offset ${at}).`,
      );
    }
    const length = view.getUint32(at, false);
    const start = at + FRAME_LENGTH_BYTES;
    if (length > record.length - start) {
      throw new CryptoError(
        'bad-record',
        `A frame of ${length} bytes at offset ${at} runs past the end of its ${record.length}-byte record.`,
      );
    }
    frames.push(record.subarray(start, start + length));
    at = start + length;
  }
  if (frames.length === 0) throw new CryptoError('bad-record', 'A record carries no frame.');
  return frames;
}
