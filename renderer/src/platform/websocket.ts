// The browser's WebSocket as core's WebSocketFactory. Binary frames arrive as ArrayBuffer.
import type { WebSocketFactory, WebSocketLike } from '../../../core/src/platform/types.js';

export const browserWebSocket: WebSocketFactory = (url: string): WebSocketLike => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  // The DOM typing of the handlers names DOM event classes; structurally they carry what core reads.
  return ws as unknown as WebSocketLike;
};
