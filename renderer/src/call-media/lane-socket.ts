// The media lane's WebSocket factory (core relay/media-lane.ts): the socket lives in a worker
// (lane-socket-worker.ts) and the window's relay client drives it through a WebSocketLike proxy, so that a
// call's relay channel can be routed straight to the media worker (routeLaneChannel): its sealed records then
// go socket worker ↔ media worker over a MessagePort and never wait for the window's main thread (layout,
// rendering, a file transfer's work). Everything else on the lane (authentication, keepalive, channel opens,
// a channel's key agreement) still goes through the window's relay client as on any connection.
import type { WebSocketFactory, WebSocketLike } from '../../../core/src/platform/types.js';

export type ToLaneWorker =
  | { type: 'open'; id: number; url: string }
  | { type: 'send'; id: number; data: string | ArrayBuffer }
  | { type: 'close'; id: number; code?: number; reason?: string }
  | { type: 'route'; req: number; peer: string; tag: string; port: MessagePort };

export type FromLaneWorker =
  | { type: 'open'; id: number }
  | { type: 'error'; id: number }
  | { type: 'close'; id: number; code: number; reason: string }
  | { type: 'message'; id: number; data: string | ArrayBuffer }
  | { type: 'buffered'; id: number; buffered: number }
  | { type: 'routed'; req: number; ok: boolean };

let worker: Worker | null = null;
const sockets = new Map<number, LaneSocket>();
const routing = new Map<number, (ok: boolean) => void>();
let nextId = 1;

function laneWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./lane-socket-worker.ts', import.meta.url), {
    type: 'module',
    name: 'parley-media-lane',
  });
  w.onmessage = (ev: MessageEvent<FromLaneWorker>) => {
    const m = ev.data;
    if (m.type === 'routed') {
      routing.get(m.req)?.(m.ok);
      routing.delete(m.req);
      return;
    }
    sockets.get(m.id)?.fromWorker(m);
  };
  worker = w;
  return w;
}

class LaneSocket implements WebSocketLike {
  binaryType = 'arraybuffer';
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  readonly #id: number;
  #buffered = 0;

  constructor(url: string) {
    this.#id = nextId++;
    sockets.set(this.#id, this);
    laneWorker().postMessage({ type: 'open', id: this.#id, url } satisfies ToLaneWorker);
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) throw new Error('the media lane socket is not open');
    if (typeof data === 'string') {
      laneWorker().postMessage({ type: 'send', id: this.#id, data } satisfies ToLaneWorker);
      return;
    }
    // A copy the worker owns: the caller may reuse its buffer (lane frames are small: media and handshakes).
    const copy = data.slice().buffer;
    laneWorker().postMessage({ type: 'send', id: this.#id, data: copy } satisfies ToLaneWorker, [copy]);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    laneWorker().postMessage({
      type: 'close',
      id: this.#id,
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined ? { reason } : {}),
    } satisfies ToLaneWorker);
  }

  fromWorker(m: Exclude<FromLaneWorker, { type: 'routed' }>): void {
    switch (m.type) {
      case 'open':
        this.readyState = 1;
        this.onopen?.({});
        return;
      case 'error':
        this.onerror?.({});
        return;
      case 'close':
        this.readyState = 3;
        sockets.delete(this.#id);
        this.onclose?.({ code: m.code, reason: m.reason });
        return;
      case 'message':
        this.onmessage?.({ data: m.data });
        return;
      case 'buffered':
        this.#buffered = m.buffered;
        return;
    }
  }
}

/** WebSockets in the lane worker (null where workers are missing: the lane then uses the window's). */
export function laneWebSocketFactory(): WebSocketFactory | null {
  if (typeof Worker === 'undefined' || typeof MessageChannel === 'undefined') return null;
  return (url) => new LaneSocket(url);
}

/**
 * Routes the lane channel the relay opened to `peer` with `tag` to a new MessagePort and returns the other
 * end (messages: {type: 'sealed', buffer, offset, at} in, and about once a second {type: 'stalls', stalls}: the
 * socket worker's send-side meters; {buffer, offset, length, at} out, with room for the channel header). Null when no lane socket holds that channel (it was opened on the main connection).
 * Frames the lane received before this resolves went to the window's relay client as usual.
 */
export async function routeLaneChannel(peer: string, tag: string): Promise<MessagePort | null> {
  if (!worker || sockets.size === 0) return null;
  const { port1, port2 } = new MessageChannel();
  const req = nextId++;
  const ok = await new Promise<boolean>((resolve) => {
    routing.set(req, resolve);
    worker!.postMessage({ type: 'route', req, peer, tag, port: port1 } satisfies ToLaneWorker, [port1]);
  });
  if (!ok) {
    port2.close();
    return null;
  }
  return port2;
}
