// Media must not queue behind files on the relay (issue #11 item 6). Two real RelayClients and the real relay,
// each in its own test-bed host; one link limited with `tc tbf` (a real bottleneck: a token bucket with a
// 50 ms queue, like a home router's uplink). The sender pumps a bulk channel as fast as the path takes it
// (the session stream's policy: up to 1 MiB in its socket) and sends a 1 kB media frame every 20 ms; the
// receiver records each frame's one-way delay. Each scenario runs twice in the same test: media opened with
// priority 'media' (its own relay connection), then on the bulk's connection (the behaviour before). Without
// the priority the media frames wait behind every queue of the bulk's path, so their delay is the bulk's;
// with it they wait only behind the link's own queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Host, NodeProcess } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import type { PriorityPeerIn, PriorityPeerOut } from './priority-peer.js';

const PEER_SCRIPT = fileURLToPath(new URL('./priority-peer.ts', import.meta.url));
const PUMP_MS = 4_000;
/** Media frames sent in the first second (while the bulk's queues fill) are not counted. */
const WARMUP_FRAMES = 50;

const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });

type Peer = NodeProcess<PriorityPeerOut, PriorityPeerIn> & { id: string };

async function spawnPeer(host: Host, url: string): Promise<Peer> {
  const proc = host.spawnNode<PriorityPeerOut, PriorityPeerIn>(PEER_SCRIPT, [url]);
  const ready = await proc.next((m) => m.type === 'ready' || m.type === 'error', 30_000);
  if (ready.type !== 'ready') throw new Error(`priority peer failed: ${JSON.stringify(ready)}`);
  return Object.assign(proc, { id: ready.id });
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Round {
  mediaP95: number;
  mediaP50: number;
  bulkP50: number;
  lane: boolean;
}

let round = 0;

/** One round: channels opened, PUMP_MS of bulk and media from a to b, every byte received, delays summarised. */
async function runRound(sender: Peer, receiver: Peer, mediaPriority: boolean): Promise<Round> {
  const n = ++round;
  const bulkTag = `bulk-${n}`;
  const mediaTag = `media-${n}`;
  const opened = (p: Peer, tag: string): Promise<PriorityPeerOut> =>
    p.next((m) => (m.type === 'opened' && m.tag === tag) || m.type === 'error', 30_000);
  let lane = false;
  for (const [tag, media] of [
    [bulkTag, false],
    [mediaTag, mediaPriority],
  ] as const) {
    const waits = [opened(sender, tag), opened(receiver, tag)];
    await sender.send({ cmd: 'open', peer: receiver.id, tag, media });
    await receiver.send({ cmd: 'open', peer: sender.id, tag, media });
    const [atSender, atReceiver] = await Promise.all(waits);
    if (atSender?.type !== 'opened' || atReceiver?.type !== 'opened')
      throw new Error(`channel ${tag}: ${JSON.stringify([atSender, atReceiver])}`);
    if (tag === mediaTag) lane = atSender.lane && atReceiver.lane;
  }
  await sender.send({ cmd: 'pump', bulkTag, mediaTag, ms: PUMP_MS });
  const pumped = await sender.next((m) => m.type === 'pumped' || m.type === 'error', PUMP_MS + 30_000);
  if (pumped.type !== 'pumped') throw new Error(JSON.stringify(pumped));
  await receiver.send({
    cmd: 'report',
    bulkTag,
    mediaTag,
    bulkBytes: pumped.bulkBytes,
    mediaFrames: pumped.mediaFrames,
  });
  const report = await receiver.next((m) => m.type === 'report' || m.type === 'error', 60_000);
  if (report.type !== 'report') throw new Error(JSON.stringify(report));
  const media = report.mediaDelays.slice(WARMUP_FRAMES);
  expect(media.length).toBeGreaterThan(100);
  return {
    mediaP95: percentile(media, 95),
    mediaP50: percentile(media, 50),
    bulkP50: percentile(report.bulkDelays.slice(report.bulkDelays.length >> 2), 50),
    lane,
  };
}

describe('relay: media channels do not queue behind bulk channels', () => {
  let relay: RelayHandle;
  let alice: Peer;
  let bob: Peer;

  beforeAll(async () => {
    const { a, b, relay: r } = bed().hosts;
    relay = await startRelayHost(r);
    [alice, bob] = await Promise.all([spawnPeer(a, relay.url), spawnPeer(b, relay.url)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), relay?.proc.stop()]);
  });

  async function limit(host: Host): Promise<() => Promise<void>> {
    await host.limitRate({ rate: '8mbit', burst: '32kb', latency: '50ms' });
    return async () => {
      await host.unlimitRate();
    };
  }

  async function compare(limited: Host, label: string): Promise<void> {
    const unlimit = await limit(limited);
    try {
      const priority = await runRound(alice, bob, true);
      const shared = await runRound(alice, bob, false);
      console.log(
        `${label}: media priority ${JSON.stringify(priority)}; media on the bulk's connection ${JSON.stringify(shared)}`,
      );
      expect(priority.lane).toBe(true);
      expect(shared.lane).toBe(false);
      // Before: media waits behind the bulk's queues, its delay is the bulk's. After: a small part of it.
      expect(shared.mediaP50).toBeGreaterThan(shared.bulkP50 / 3);
      expect(priority.mediaP95).toBeLessThan(priority.bulkP50 / 4);
      expect(priority.mediaP95).toBeLessThan(shared.mediaP95 / 4);
    } finally {
      await unlimit();
    }
  }

  it("the sender's uplink is the bottleneck: media frames skip the bulk queued in the sender's socket", async () => {
    await compare(bed().hosts.a, 'sender uplink');
  }, 120_000);

  it("the relay's link to the receiver is the bottleneck: media frames skip the relay's queue for the receiver", async () => {
    await compare(bed().hosts.relay, 'relay downlink');
  }, 120_000);
});
