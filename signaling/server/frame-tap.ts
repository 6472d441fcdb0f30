// The relay's hot path below `ws` (signaling/protocol/ws-frames.ts): in front of each connection's `ws`
// receiver, a splitter that takes authenticated clients' binary channel frames off the byte stream as the
// socket's own chunks, so the relay writes them on without joining them (connection.ts sendBinaryParts).
import { createRequire } from 'node:module';
import type { WebSocket } from 'ws';
import { FrameSplitter } from '../protocol/ws-frames.js';

export { FrameSplitter };
export type { BinaryPartsHandler } from '../protocol/ws-frames.js';

/** `bufferutil` (a dependency, as for `ws`): native unmasking of browsers' frames; JavaScript if it is missing. */
const bufferUtil = loadBufferUtil();

/** The part of `ws`'s receiver the tap needs (a Writable). */
interface ReceiverLike {
  write(chunk: Uint8Array): boolean;
}

/**
 * Puts a splitter in front of `ws`'s receiver (ws 8 internals). Call it before the socket delivers data (in
 * handleUpgrade's callback; for a client, on 'open'). `maxPayload` must be the receiver's: bigger frames go
 * to `ws`, which closes with 1009. Binary frames are taken while `onBinary` is set.
 */
export function tapFrames(ws: WebSocket, maxPayload: number, fromClient = true): FrameSplitter {
  const receiver = (ws as unknown as { _receiver: ReceiverLike })._receiver;
  const tap = new FrameSplitter(receiver.write.bind(receiver), maxPayload, fromClient, unmask);
  receiver.write = (chunk: Uint8Array) => tap.push(chunk);
  return tap;
}

/** XORs `bytes` (payload bytes from offset `phase` on) with the frame's mask, in place (bufferutil). */
export function unmask(bytes: Uint8Array, mask: Uint8Array, phase: number): void {
  const p = phase & 3;
  const rotated = Buffer.from([mask[p]!, mask[(p + 1) & 3]!, mask[(p + 2) & 3]!, mask[(p + 3) & 3]!]);
  // Buffers, as bufferutil expects (views: no copy).
  bufferUtil.unmask(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), rotated);
}

function loadBufferUtil(): { unmask(bytes: Uint8Array, mask: Uint8Array): void } {
  try {
    return createRequire(import.meta.url)('bufferutil') as { unmask(bytes: Uint8Array, mask: Uint8Array): void };
  } catch {
    return {
      unmask(bytes, mask) {
        for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i]! ^ mask[i & 3]!;
      },
    };
  }
}
