// The WebSocketFactory core needs, backed by `ws`.
import { randomFillSync } from 'node:crypto';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../../signaling/protocol/index.js';
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
  return ws as unknown as WebSocketLike;
};
