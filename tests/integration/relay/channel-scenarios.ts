// Relay-channel scenarios shared by the single-process suite (channels.test.ts) and the cluster suite
// (cluster/cluster.test.ts): the same steps and assertions, parameterised by where the two ends connect.
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { MAX_FRAME_BYTES, encodeChannelFrame } from '../../../signaling/protocol/index.js';
import type { RelayOptions, RunningRelay } from '../../../signaling/server/index.js';
import { connectAs, type RawClient } from '../../helpers/relay/raw-client.js';

/** Where the sending and the receiving ends of a channel connect. */
export interface ChannelTopology {
  /** Starts the relay(s) with `options`; the sender's relay and the receiver's (the same one, or two nodes). */
  start(options: RelayOptions): Promise<{ sender: RunningRelay; receiver: RunningRelay }>;
  /** Bytes the sender's relay holds for this flow right now (its client queues, and a node link's queue). */
  senderQueue(sender: RunningRelay): Promise<number>;
  /** Frames a relay may still forward after it paused a sender (already read from the socket). */
  readonly slackFrames: number;
  /** Extra checks on the sender's relay once the transfer is done (cluster: the link's peak queue). */
  afterBulk?(sender: RunningRelay, bound: number): Promise<void>;
  /** Keeps a client for closing after the file. */
  track(client: RawClient): void;
}

/** Two clients, A on `urlA` and B on `urlB`, with a channel between them (A's and B's numbers). */
export async function channelPair(track: (client: RawClient) => void, urlA: string, urlB: string, tag: string) {
  const a = await connectAs(urlA);
  const b = await connectAs(urlB);
  track(a.client);
  track(b.client);
  a.client.send({ type: 'channel-open', to: b.identity.id, tag });
  b.client.send({ type: 'channel-open', to: a.identity.id, tag });
  const readyA = await a.client.next('channel-ready');
  const readyB = await b.client.next('channel-ready');
  return { a, b, readyA, readyB };
}

/**
 * 50 MB through one channel to a deliberately slow receiver, intact (hashed), while a second channel between
 * other clients keeps moving; the relays' queues stay about one high-water mark.
 */
export async function bulkToSlowReceiver(topology: ChannelTopology): Promise<void> {
  const highWater = 256 * 1024;
  const { sender, receiver } = await topology.start({
    limits: { channelHighWaterBytes: highWater, channelLowWaterBytes: 64 * 1024 },
  });
  const { a, b, readyA } = await channelPair(topology.track, sender.url, receiver.url, 'bulk');
  const other = await channelPair(topology.track, sender.url, receiver.url, 'other');
  const total = 50 * 1024 * 1024;
  const chunk = 64 * 1024;

  const received = receiveSlowly(b.client, total);
  const sentHash = createHash('sha256');
  let maxSenderQueue = 0;
  let maxReceiverQueue = 0;
  let otherRoundTrips = 0;
  let otherBytes = 0;
  for (let sent = 0, n = 0; sent < total; sent += chunk, n++) {
    const payload = randomBytes(Math.min(chunk, total - sent));
    sentHash.update(payload);
    const handed = a.client.sendFrame(encodeChannelFrame(readyA.channel, payload));
    // Client-side flow control: never more than ~1 MiB queued in the sender's own socket.
    if (a.client.ws.bufferedAmount > 1024 * 1024) await handed;
    if (n % 64 === 0) {
      maxSenderQueue = Math.max(maxSenderQueue, await topology.senderQueue(sender));
      maxReceiverQueue = Math.max(maxReceiverQueue, receiver.stats().bufferedBytes);
      if (n % 256 === 0) {
        // The other channel is not held back by the slow one.
        const ping = Buffer.from(encodeChannelFrame(other.readyA.channel, Buffer.from(`ping ${n}`)));
        otherBytes += ping.length;
        other.a.client.sendRaw(ping);
        expect((await other.b.client.nextFrame()).subarray(4).toString()).toBe(`ping ${n}`);
        otherRoundTrips++;
      }
    }
  }
  const { hash, pauses } = await received;
  expect(hash).toBe(sentHash.digest('hex'));
  expect(pauses).toBeGreaterThan(10);
  expect(otherRoundTrips).toBeGreaterThan(2);

  const sendStats = sender.stats();
  const recvStats = receiver.stats();
  expect(sendStats.backpressurePauses).toBeGreaterThan(0);
  expect(sendStats.bytesForwarded).toBe(total + (total / chunk) * 4 + otherBytes);
  const bound = highWater + topology.slackFrames * MAX_FRAME_BYTES;
  expect(maxSenderQueue).toBeLessThanOrEqual(bound);
  expect(maxReceiverQueue).toBeLessThanOrEqual(bound);
  expect(recvStats.peakBufferedBytes).toBeLessThanOrEqual(bound);
  await topology.afterBulk?.(sender, bound);
  expect(recvStats.bufferedBytes).toBe(0);
  expect(sendStats.pausedConnections).toBe(0);
}

/** Hashes frames as they come, pausing the socket for a few ms after every 512 KiB: a slow reader. */
function receiveSlowly(client: RawClient, total: number): Promise<{ hash: string; pauses: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let got = 0;
    let sinceLastPause = 0;
    let pauses = 0;
    client.onFrame((frame) => {
      const payload = frame.subarray(4);
      hash.update(payload);
      got += payload.length;
      sinceLastPause += payload.length;
      if (got >= total) {
        client.onFrame(null);
        resolve({ hash: hash.digest('hex'), pauses });
        return;
      }
      if (sinceLastPause >= 512 * 1024) {
        sinceLastPause = 0;
        pauses++;
        client.ws.pause();
        setTimeout(() => client.ws.resume(), 10);
      }
    });
    void client.closed.then(() => reject(new Error('receiver closed before the end')));
  });
}
