// The media lane's WebSocket, in a worker of its own (lane-socket.ts is the window's side): the relay
// client in the window speaks through it as through any WebSocket, except that a relay channel routed to a
// MessagePort (a call's media, whose record layer runs in the media worker) exchanges its binary frames with
// that port here, so the call's media never waits for the window's main thread. The worker reads only the
// relay's channel-ready/channel-closed messages (to know which channel a call's tag got) and the 4-byte
// channel header of binary frames; everything else passes through unchanged.
import { CHANNEL_HEADER_BYTES } from '../../../signaling/protocol/constants.js';
import { channelOfFrame, writeChannelHeader } from '../../../signaling/protocol/frames.js';
import { GapMeter, PeakMeter, type StageSummary } from '../../../core/src/call/relay-media/stages.js';
import type { FromLaneWorker, ToLaneWorker } from './lane-socket.js';

interface Scope {
  onmessage: ((ev: MessageEvent<ToLaneWorker>) => void) | null;
  postMessage(message: FromLaneWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as Scope;

interface Lane {
  ws: WebSocket;
  /** `peer tag` → channel, from the relay's channel-ready. */
  channels: Map<string, number>;
  routes: Map<number, MessagePort>;
  lastBuffered: number;
}

const lanes = new Map<number, Lane>();
let bufferedTimer: ReturnType<typeof setInterval> | undefined;

function post(message: FromLaneWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** The window's view of bufferedAmount follows the socket's while anything is queued. */
function watchBuffered(): void {
  if (bufferedTimer !== undefined) return;
  bufferedTimer = setInterval(() => {
    let any = false;
    for (const [id, lane] of lanes) {
      const b = lane.ws.bufferedAmount;
      if (b !== lane.lastBuffered) {
        lane.lastBuffered = b;
        post({ type: 'buffered', id, buffered: b });
      }
      if (b > 0) any = true;
    }
    if (!any) {
      clearInterval(bufferedTimer);
      bufferedTimer = undefined;
    }
  }, 50);
}

function unroute(lane: Lane, channel: number, reason: string): void {
  const port = lane.routes.get(channel);
  if (!port) return;
  lane.routes.delete(channel);
  port.postMessage({ type: 'closed', reason });
  port.close();
}

/** Text from the relay: passed on, and channel-ready/closed noted (cheap check before parsing). */
function onText(lane: Lane, data: string): void {
  if (data.includes('"channel-')) {
    try {
      const m = JSON.parse(data) as { type?: unknown; channel?: unknown; peer?: unknown; tag?: unknown };
      if (m.type === 'channel-ready' && typeof m.channel === 'number')
        lane.channels.set(`${String(m.peer)} ${String(m.tag)}`, m.channel);
      else if (m.type === 'channel-closed' && typeof m.channel === 'number') {
        for (const [key, ch] of lane.channels) if (ch === m.channel) lane.channels.delete(key);
        unroute(lane, m.channel, 'closed by the relay');
      }
    } catch {
      /* not ours to judge: the window's client validates it */
    }
  }
}

function open(id: number, url: string): void {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const lane: Lane = { ws, channels: new Map(), routes: new Map(), lastBuffered: 0 };
  lanes.set(id, lane);
  ws.onopen = () => post({ type: 'open', id });
  ws.onerror = () => post({ type: 'error', id });
  ws.onclose = (ev) => {
    for (const channel of [...lane.routes.keys()]) unroute(lane, channel, 'relay connection closed');
    lanes.delete(id);
    post({ type: 'close', id, code: ev.code, reason: ev.reason });
  };
  ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
    const data = ev.data;
    if (typeof data === 'string') {
      onText(lane, data);
      post({ type: 'message', id, data });
      return;
    }
    const port = lane.routes.size > 0 ? lane.routes.get(channelOfFrame(new Uint8Array(data)) ?? 0) : undefined;
    if (port) {
      // `at`: when the record reached this socket (the media worker measures stalls before and after here).
      port.postMessage({ type: 'sealed', buffer: data, offset: CHANNEL_HEADER_BYTES, at: Date.now() }, [data]);
      return;
    }
    post({ type: 'message', id, data }, [data]);
  };
}

/** How often the send-side stall meters go back to the media worker (its stats show them beside its own). */
const STALLS_EVERY_MS = 1_000;

function route(req: number, peer: string, tag: string, port: MessagePort): void {
  for (const lane of lanes.values()) {
    const channel = lane.channels.get(`${peer} ${tag}`);
    if (channel === undefined || lane.ws.readyState !== WebSocket.OPEN) continue;
    lane.routes.set(channel, port);
    // Where our records wait on their way out: the hop from the media worker to here, and pauses between
    // the records this socket sends (against the media worker's own gap.sent).
    const wsSent = new GapMeter();
    const toSocket = new PeakMeter();
    let reportedAt = 0;
    port.onmessage = (ev: MessageEvent<{ buffer: ArrayBuffer; offset: number; length: number; at?: number }>) => {
      const { buffer, offset, length, at } = ev.data;
      if (lane.routes.get(channel) !== port || lane.ws.readyState !== WebSocket.OPEN) return;
      // The record starts with room for the channel header.
      lane.ws.send(writeChannelHeader(new Uint8Array(buffer, offset, length), channel));
      watchBuffered();
      const now = Date.now();
      wsSent.record(now);
      if (at !== undefined) toSocket.record(now, now - at);
      if (now - reportedAt < STALLS_EVERY_MS) return;
      reportedAt = now;
      const stalls: Record<string, StageSummary> = {};
      for (const [name, meter] of [
        ['gap.wsSent', wsSent],
        ['hop.toSocket', toSocket],
      ] as const) {
        const s = meter.summary();
        if (s) stalls[name] = s;
      }
      port.postMessage({ type: 'stalls', stalls });
    };
    post({ type: 'routed', req, ok: true });
    return;
  }
  port.close();
  post({ type: 'routed', req, ok: false });
}

scope.onmessage = (ev) => {
  const m = ev.data;
  switch (m.type) {
    case 'open':
      open(m.id, m.url);
      return;
    case 'send': {
      const lane = lanes.get(m.id);
      if (!lane || lane.ws.readyState !== WebSocket.OPEN) return;
      lane.ws.send(m.data);
      watchBuffered();
      return;
    }
    case 'close':
      lanes.get(m.id)?.ws.close(m.code, m.reason);
      return;
    case 'route':
      route(m.req, m.peer, m.tag, m.port);
      return;
  }
};
