// Wire format of the reliable stream, carried inside a FrameTransport frame:
//   DATA   [1][seq u64][ackNext u64][kind u8][payload]
//   ACK    [2][ackNext u64]
//   RESUME [3][epoch 8 bytes][knownPeerEpoch 8 bytes][recvNext u64]
// ackNext / recvNext = the next sequence number the sender of the frame expects (cumulative ack).
import { readU64, writeU64 } from '../util/bytes.js';

export const FrameType = { Data: 1, Ack: 2, Resume: 3 } as const;
export const DATA_HEADER_BYTES = 18;
export const EPOCH_BYTES = 8;

export type StreamFrame =
  | { type: 'data'; seq: number; ackNext: number; kind: number; payload: Uint8Array }
  | { type: 'ack'; ackNext: number }
  | { type: 'resume'; epoch: string; knownPeerEpoch: string; recvNext: number };

export function encodeData(seq: number, ackNext: number, kind: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(DATA_HEADER_BYTES + payload.length);
  writeDataHeader(out, seq, ackNext, kind);
  out.set(payload, DATA_HEADER_BYTES);
  return out;
}

/** The DATA header alone, for transports that write header and payload with one copy (sendParts). */
export function encodeDataHeader(seq: number, ackNext: number, kind: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(DATA_HEADER_BYTES);
  writeDataHeader(out, seq, ackNext, kind);
  return out;
}

function writeDataHeader(out: Uint8Array<ArrayBuffer>, seq: number, ackNext: number, kind: number): void {
  const view = new DataView(out.buffer, out.byteOffset, DATA_HEADER_BYTES);
  out[0] = FrameType.Data;
  writeU64(view, 1, seq);
  writeU64(view, 9, ackNext);
  out[17] = kind;
}

export function encodeAck(ackNext: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(9);
  out[0] = FrameType.Ack;
  writeU64(new DataView(out.buffer), 1, ackNext);
  return out;
}

export function encodeResume(epoch: Uint8Array, knownPeerEpoch: Uint8Array, recvNext: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(1 + EPOCH_BYTES * 2 + 8);
  out[0] = FrameType.Resume;
  out.set(epoch, 1);
  out.set(knownPeerEpoch, 1 + EPOCH_BYTES);
  writeU64(new DataView(out.buffer), 1 + EPOCH_BYTES * 2, recvNext);
  return out;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Parses one frame; returns null for anything malformed (peer input is untrusted). */
export function decodeFrame(frame: Uint8Array): StreamFrame | null {
  if (frame.length < 1) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  try {
    switch (frame[0]) {
      case FrameType.Data: {
        if (frame.length < DATA_HEADER_BYTES) return null;
        const seq = readU64(view, 1);
        const ackNext = readU64(view, 9);
        const kind = frame[17]!;
        if (seq < 1 || ackNext < 1 || kind === 0) return null;
        return { type: 'data', seq, ackNext, kind, payload: frame.subarray(DATA_HEADER_BYTES) };
      }
      case FrameType.Ack: {
        if (frame.length !== 9) return null;
        const ackNext = readU64(view, 1);
        return ackNext < 1 ? null : { type: 'ack', ackNext };
      }
      case FrameType.Resume: {
        if (frame.length !== 1 + EPOCH_BYTES * 2 + 8) return null;
        const recvNext = readU64(view, 1 + EPOCH_BYTES * 2);
        if (recvNext < 1) return null;
        return {
          type: 'resume',
          epoch: hex(frame.subarray(1, 1 + EPOCH_BYTES)),
          knownPeerEpoch: hex(frame.subarray(1 + EPOCH_BYTES, 1 + EPOCH_BYTES * 2)),
          recvNext,
        };
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}

export function epochHex(epoch: Uint8Array): string {
  return hex(epoch);
}

export function epochFromHex(text: string | null): Uint8Array {
  const out = new Uint8Array(EPOCH_BYTES);
  if (text) for (let i = 0; i < EPOCH_BYTES; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}
