// The WebSocketFactory core needs, backed by `ws`.
import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../../signaling/protocol/index.js';
import { FrameSplitter } from '../../../signaling/protocol/ws-frames.js';
import type { WebSocketFactory, WebSocketLike } from '../../../core/src/platform/types.js';

/**
 * Binary frames go out with an all-zero mask, which `ws` sends without masking and the relay reads without
 * unmasking: for a 256 KiB record that saves a fresh buffer and a masked copy here, and a pass over it in the
 * relay. Masking (RFC 6455 §10.3) keeps a sender's script from choosing the bytes a confused proxy sees;
 * our binary frames are AES-GCM ciphertext that nobody chooses. Text frames keep a random mask.
 */
export const nodeWebSocketFactory: WebSocketFactory = (url: string): WebSocketLike => {
  let binary = false;
  // ws implements the WHATWG event-handler properties core uses; maxPayload bounds what a relay can push.
  const ws = new WebSocket(url, {
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    generateMask: (mask) => {
      if (binary) mask.fill(0);
      else randomFillSync(mask);
    },
  });
  ws.binaryType = 'arraybuffer';
  // Binary messages (relay records) are assembled by the frame tap into buffers the consumer hands back with
  // release(), instead of `ws` joining each into a fresh one: bulk transfers send records of one size, so a few
  // spares serve nearly all of them (less allocation and garbage collection per record).
  const spares: Uint8Array[] = [];
  const ours = new WeakSet<ArrayBufferLike>();
  ws.once('open', () => {
    // In front of `ws`'s receiver (ws 8 internals), installed before the socket delivers any data.
    const receiver = (ws as unknown as { _receiver: { write(chunk: Uint8Array): boolean } })._receiver;
    const tap = new FrameSplitter(receiver.write.bind(receiver), MAX_FRAME_BYTES, false);
    receiver.write = (chunk) => tap.push(chunk);
    tap.onBinary = (parts, length) => {
      const at = spares.findIndex((b) => b.length === length);
      let message: Uint8Array;
      if (at >= 0) message = spares.splice(at, 1)[0]!;
      else {
        const fresh = Buffer.allocUnsafeSlow(length);
        message = new Uint8Array(fresh.buffer, fresh.byteOffset, length);
        ours.add(message.buffer);
      }
      let offset = 0;
      for (const part of parts) {
        message.set(part, offset);
        offset += part.length;
      }
      ws.emit('message', message, true);
    };
  });
  (ws as unknown as WebSocketLike).release = (data) => {
    if (!ours.has(data.buffer) || spares.length >= MAX_SPARES) return;
    const whole = new Uint8Array(data.buffer);
    if (!spares.some((b) => b.buffer === data.buffer)) spares.push(whole);
  };
  const send = ws.send.bind(ws) as (data: string | Uint8Array, callback?: (error?: Error) => void) => void;
  // ws frames a message inside send() (no compression, no Blob), so the flag covers exactly this frame;
  // a frame ws framed later would get a random mask, which is merely the slower path.
  (ws as unknown as WebSocketLike).send = (data, callback) => {
    if (typeof data === 'string') return send(data, callback);
    binary = true;
    try {
      send(data, callback);
    } finally {
      binary = false;
    }
  };
  // Gather-write: the frame header (zero mask, as above) and the pieces go to the socket in one writev. `ws`'s
  // sender is bypassed only while it has nothing queued (it queues only to compress or to read a Blob, which
  // we never do), so messages keep their order.
  (ws as unknown as WebSocketLike).sendParts = (parts, callback) => {
    const internals = ws as unknown as WsInternals;
    const sender = internals._sender;
    if (ws.readyState !== WebSocket.OPEN || sender === null || sender._state !== 0 || sender._queue.length > 0) {
      const joined = Buffer.concat(parts as Uint8Array[]);
      (ws as unknown as WebSocketLike).send(joined, callback);
      return;
    }
    let length = 0;
    for (const part of parts) length += part.length;
    const socket = internals._socket;
    socket.cork();
    socket.write(maskedBinaryHead(length));
    let last = parts.length - 1;
    while (last > 0 && parts[last]!.length === 0) last--;
    for (let i = 0; i < last; i++) if (parts[i]!.length > 0) socket.write(parts[i]!);
    socket.write(parts[last] ?? EMPTY, callback && ((error) => callback(error ?? undefined)));
    socket.uncork();
  };
  return ws as unknown as WebSocketLike;
};

/** What sendParts uses of `ws`'s internals (ws 8). */
interface WsInternals {
  _sender: { _state: number; _queue: unknown[] } | null;
  _socket: Socket;
}

const EMPTY = new Uint8Array(0);
/** Released message buffers kept for reuse, at most. */
const MAX_SPARES = 4;

/** A client's header of a final binary frame of `length` bytes with an all-zero mask (RFC 6455 §5.2). */
function maskedBinaryHead(length: number): Buffer {
  const ext = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + 4); // zero-filled: the mask is the last 4 bytes
  head[0] = 0x82;
  head[1] = 0x80 | (ext === 0 ? length : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(length, 2);
  else if (ext === 8) {
    head.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    head.writeUInt32BE(length >>> 0, 6);
  }
  return head;
}
