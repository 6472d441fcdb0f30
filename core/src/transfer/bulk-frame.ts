// What a bulk lane carries once its handshake is through: one frame per AES-GCM record (the session's own
// record layer, aead-channel.ts, with the lane's per-connection secrets), each frame:
//   START  receiver → sender   0x01 | offset (u64)          send the file from here (resume point)
//   DATA   sender → receiver   0x02 | offset (u64) | bytes  1 .. MAX_LANE_DATA bytes at that file offset
//   ACK    receiver → sender   0x03 | offset (u64)          written and flushed up to here
//   FAIL   either way          0x04 | UTF-8 reason (≤ 200)  the lane ends; the transfer goes on elsewhere
// Offsets are absolute file offsets, so a frame that is out of place is seen by its offset (bulk-state.ts)
// and never written. Pure: no DOM, no Node.
import type { Bytes } from '../../../signaling/protocol/index.js';
import { MAX_PLAINTEXT } from '../crypto/aead-channel.js';
import { fromUtf8, readU64, utf8, writeU64 } from '../util/bytes.js';

export const LANE_START = 0x01;
export const LANE_DATA = 0x02;
export const LANE_ACK = 0x03;
export const LANE_FAIL = 0x04;
export const LANE_HEADER_BYTES = 1 + 8;
/** Most file bytes in one DATA frame: one record's plaintext. */
export const MAX_LANE_DATA = MAX_PLAINTEXT - LANE_HEADER_BYTES;
/** What a sender puts in a DATA frame by default: 252 KiB, a whole number of pages for positional reads. */
export const DEFAULT_LANE_DATA = 252 * 1024;
export const MAX_FAIL_REASON_BYTES = 200;

export type BulkLaneErrorCode =
  | 'bad-handshake'
  | 'bad-key'
  | 'bad-role'
  | 'unknown-lane'
  | 'bad-frame'
  | 'out-of-order'
  | 'overrun'
  | 'peer-failed'
  | 'timeout'
  | 'closed'
  | 'limit';

export class BulkLaneError extends Error {
  override readonly name = 'BulkLaneError';
  constructor(
    readonly code: BulkLaneErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type LaneFrame =
  | { kind: 'start'; offset: number }
  | { kind: 'data'; offset: number; data: Uint8Array }
  | { kind: 'ack'; offset: number }
  | { kind: 'fail'; reason: string };

function offsetFrame(type: number, offset: number): Bytes {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('a lane offset is a safe non-negative integer');
  const out = new Uint8Array(LANE_HEADER_BYTES);
  out[0] = type;
  writeU64(new DataView(out.buffer), 1, offset);
  return out;
}

export function encodeLaneFrame(frame: LaneFrame): Bytes {
  switch (frame.kind) {
    case 'start':
      return offsetFrame(LANE_START, frame.offset);
    case 'ack':
      return offsetFrame(LANE_ACK, frame.offset);
    case 'data': {
      const out = allocDataFrame(frame.offset, frame.data.length);
      out.set(frame.data, LANE_HEADER_BYTES);
      return out;
    }
    case 'fail': {
      let reason = utf8(frame.reason);
      if (reason.length > MAX_FAIL_REASON_BYTES) reason = utf8(frame.reason.slice(0, MAX_FAIL_REASON_BYTES / 4));
      const out = new Uint8Array(1 + reason.length);
      out[0] = LANE_FAIL;
      out.set(reason, 1);
      return out;
    }
  }
}

/** A DATA frame with its header written; the caller fills `frame.subarray(LANE_HEADER_BYTES)` (a read's target). */
export function allocDataFrame(offset: number, length: number): Bytes {
  if (!Number.isInteger(length) || length < 1 || length > MAX_LANE_DATA)
    throw new RangeError(`a DATA frame carries 1..${MAX_LANE_DATA} bytes`);
  if (!Number.isSafeInteger(offset + length) || offset < 0) throw new RangeError('DATA frame offset out of range');
  return writeDataHeader(new Uint8Array(LANE_HEADER_BYTES + length), offset);
}

/**
 * Makes `frame` (a buffer LANE_HEADER_BYTES longer than the bytes it carries, e.g. a read into its tail) a
 * DATA frame at `offset` by writing the header in place. Returns `frame`.
 */
export function writeDataHeader<T extends Uint8Array>(frame: T, offset: number): T {
  const length = frame.length - LANE_HEADER_BYTES;
  if (length < 1 || length > MAX_LANE_DATA) throw new RangeError(`a DATA frame carries 1..${MAX_LANE_DATA} bytes`);
  if (!Number.isSafeInteger(offset + length) || offset < 0) throw new RangeError('DATA frame offset out of range');
  frame[0] = LANE_DATA;
  writeU64(new DataView(frame.buffer, frame.byteOffset, LANE_HEADER_BYTES), 1, offset);
  return frame;
}

/** Decodes one opened record. Throws BulkLaneError('bad-frame') for anything malformed. */
export function decodeLaneFrame(frame: Uint8Array): LaneFrame {
  if (frame.length === 0) throw new BulkLaneError('bad-frame', 'empty lane frame');
  const type = frame[0];
  if (type === LANE_FAIL) {
    if (frame.length - 1 > MAX_FAIL_REASON_BYTES) throw new BulkLaneError('bad-frame', 'lane failure reason too long');
    try {
      return { kind: 'fail', reason: fromUtf8(frame.subarray(1)) };
    } catch {
      throw new BulkLaneError('bad-frame', 'lane failure reason is not UTF-8');
    }
  }
  if (type !== LANE_START && type !== LANE_DATA && type !== LANE_ACK)
    throw new BulkLaneError('bad-frame', `unknown lane frame type ${type}`);
  if (frame.length < LANE_HEADER_BYTES) throw new BulkLaneError('bad-frame', 'lane frame too short');
  let offset: number;
  try {
    offset = readU64(new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 1);
  } catch {
    throw new BulkLaneError('bad-frame', 'lane offset out of range');
  }
  if (type === LANE_DATA) {
    const length = frame.length - LANE_HEADER_BYTES;
    if (length < 1) throw new BulkLaneError('bad-frame', 'empty DATA frame');
    if (length > MAX_LANE_DATA) throw new BulkLaneError('bad-frame', 'DATA frame too large');
    if (!Number.isSafeInteger(offset + length)) throw new BulkLaneError('bad-frame', 'DATA frame offset out of range');
    return { kind: 'data', offset, data: frame.subarray(LANE_HEADER_BYTES) };
  }
  if (frame.length !== LANE_HEADER_BYTES) throw new BulkLaneError('bad-frame', 'lane frame has trailing bytes');
  return type === LANE_START ? { kind: 'start', offset } : { kind: 'ack', offset };
}
