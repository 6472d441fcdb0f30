// The WebSocketFactory core needs, backed by `ws`.
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../../signaling/protocol/index.js';
import type { WebSocketFactory, WebSocketLike } from '../../../core/src/platform/types.js';

export const nodeWebSocketFactory: WebSocketFactory = (url: string): WebSocketLike => {
  // ws implements the WHATWG event-handler properties core uses; maxPayload bounds what a relay can push.
  const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  ws.binaryType = 'arraybuffer';
  return ws as unknown as WebSocketLike;
};
