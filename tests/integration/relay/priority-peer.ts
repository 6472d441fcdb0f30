// A relay client inside a test-bed host for media-priority.test.ts: the real RelayClient (ws) with its own
// identity, driven over IPC. It opens channels ('media' priority or not), pumps bulk frames the way the
// session stream does (write while the channel's bufferedAmount is at most 1 MiB, resume on drain) together
// with small media frames every 20 ms, and, on the receiving side, records each frame's one-way delay (send
// time stamped in the frame; both processes read the same machine clock).
// argv: <relay url>
import { nodeWebSocketFactory } from '../../../platform/node/src/websocket.js';
import { generateIdentityKeyPair } from '../../../core/src/identity/keys.js';
import { RelayClient, relaySignerOf, type RelayChannelSocket } from '../../../core/src/relay/index.js';

export type PriorityPeerIn =
  | { cmd: 'open'; peer: string; tag: string; media: boolean }
  | { cmd: 'pump'; bulkTag: string; mediaTag: string; ms: number }
  | { cmd: 'report'; bulkTag: string; mediaTag: string; bulkBytes: number; mediaFrames: number };

export type PriorityPeerOut =
  | { type: 'ready'; id: string }
  | { type: 'opened'; tag: string; lane: boolean }
  | { type: 'pumped'; bulkBytes: number; mediaFrames: number }
  | { type: 'report'; bulkDelays: number[]; mediaDelays: number[] }
  | { type: 'error'; message: string };

const BULK_FRAME = 128 * 1024;
const MEDIA_FRAME = 1_000;
const MEDIA_INTERVAL_MS = 20;
/** The session stream's transportHighWater: stop writing above it, go on at the channel's drain. */
const HIGH_WATER = 1024 * 1024;

const [url] = process.argv.slice(2);
if (url === undefined || process.send === undefined) {
  console.error('priority-peer: start with a relay url and an IPC channel (host.spawnNode)');
  process.exit(2);
}
const send = (m: PriorityPeerOut): void => {
  process.send!(m);
};
const now = (): number => performance.timeOrigin + performance.now();

const identity = await generateIdentityKeyPair({ extractable: false });
const client = new RelayClient({ url, signer: relaySignerOf(identity), webSocket: nodeWebSocketFactory });
const channels = new Map<string, RelayChannelSocket>();
/** Per tag: one-way delays (ms) of frames received, and bytes received. */
const delays = new Map<string, number[]>();
const received = new Map<string, number>();
const waiters: Array<() => void> = [];

function stamp(length: number): Uint8Array {
  const frame = new Uint8Array(length);
  new DataView(frame.buffer).setFloat64(0, now());
  return frame;
}

function record(tag: string, frame: Uint8Array): void {
  const sentAt = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getFloat64(0);
  let list = delays.get(tag);
  if (list === undefined) delays.set(tag, (list = []));
  list.push(now() - sentAt);
  received.set(tag, (received.get(tag) ?? 0) + frame.length);
  for (const wake of waiters.splice(0)) wake();
}

async function open(peer: string, tag: string, media: boolean): Promise<void> {
  const socket = await client.openChannel(peer, tag, media ? { priority: 'media' } : {});
  channels.set(tag, socket);
  socket.onFrame((frame) => record(tag, frame));
  send({ type: 'opened', tag, lane: client.mediaConnection !== null && media });
}

/** Bulk as fast as the channel takes it (bounded by HIGH_WATER), media frames on a timer, for `ms`. */
async function pump(bulkTag: string, mediaTag: string, ms: number): Promise<void> {
  const bulk = channels.get(bulkTag)!;
  const media = channels.get(mediaTag)!;
  const end = now() + ms;
  let bulkBytes = 0;
  let mediaFrames = 0;
  const timer = setInterval(() => {
    media.send(stamp(MEDIA_FRAME));
    mediaFrames++;
  }, MEDIA_INTERVAL_MS);
  let wake: (() => void) | null = null;
  const offDrain = bulk.onDrain(() => wake?.());
  const offTick = setInterval(() => wake?.(), 50); // to notice the end while the channel is blocked
  try {
    while (now() < end) {
      if (bulk.bufferedAmount > HIGH_WATER) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      bulk.send(stamp(BULK_FRAME));
      bulkBytes += BULK_FRAME;
      // Let timers (the media sender) and socket callbacks run between frames, as a real sender does.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    clearInterval(timer);
    clearInterval(offTick);
    offDrain();
  }
  send({ type: 'pumped', bulkBytes, mediaFrames });
}

/** Waits until everything sent arrived, then reports the delays (and forgets them for the next round). */
async function report(bulkTag: string, mediaTag: string, bulkBytes: number, mediaFrames: number): Promise<void> {
  const done = (): boolean =>
    (received.get(bulkTag) ?? 0) >= bulkBytes && (delays.get(mediaTag)?.length ?? 0) >= mediaFrames;
  while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
  send({ type: 'report', bulkDelays: delays.get(bulkTag) ?? [], mediaDelays: delays.get(mediaTag) ?? [] });
}

process.on('message', (raw) => {
  const m = raw as PriorityPeerIn;
  const run =
    m.cmd === 'open'
      ? open(m.peer, m.tag, m.media)
      : m.cmd === 'pump'
        ? pump(m.bulkTag, m.mediaTag, m.ms)
        : report(m.bulkTag, m.mediaTag, m.bulkBytes, m.mediaFrames);
  run.catch((error: unknown) => send({ type: 'error', message: String(error) }));
});

client.on('state', ({ state }) => {
  if (state === 'online') send({ type: 'ready', id: client.id });
});
client.start();
