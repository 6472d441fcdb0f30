// DirectTransport's message sizing and buffer accounting, over a stand-in for simple-peer's data channel
// (the real one, over @roamhq/wrtc, runs in the namespace integration tests: tests/integration/transfer,
// tests/integration/session). The stand-in records every message and counts reads of bufferedAmount,
// which on node-wrtc are synchronous hops to WebRTC's thread.
import type { Instance } from 'simple-peer';
import { describe, expect, it } from 'vitest';
import { DirectTransport } from '../../../../core/src/session/direct-transport.js';
import { silentLogger } from '../../../../core/src/platform/types.js';

class FakeChannel {
  buffered = 0;
  reads = 0;
  bufferedAmountLowThreshold = 0;
  readonly readyState = 'open';
  get bufferedAmount(): number {
    this.reads++;
    return this.buffered;
  }
  addEventListener(): void {}
  removeEventListener(): void {}
}

function fakePeer(maxMessageSize: number | undefined) {
  const channel = new FakeChannel();
  const sent: Uint8Array[] = [];
  const peer = {
    _channel: channel,
    _pc: {
      iceConnectionState: 'connected',
      sctp: maxMessageSize === undefined ? null : { maxMessageSize },
      localDescription: null,
      remoteDescription: null,
      getStats: async () => null,
    },
    send(data: Uint8Array) {
      sent.push(new Uint8Array(data));
      channel.buffered += data.length;
    },
    on() {
      return peer;
    },
    destroy() {},
  };
  const transport = new DirectTransport(peer as unknown as Instance, 2500, silentLogger);
  return { transport, channel, sent };
}

function frameOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Feeds what one transport sent into another and returns the frames that come out. */
function deliver(sent: Uint8Array[]): Uint8Array[] {
  const { transport } = fakePeer(undefined);
  const frames: Uint8Array[] = [];
  transport.onFrame((f) => frames.push(new Uint8Array(f)));
  for (const message of sent) transport.receive(message);
  return frames;
}

describe('DirectTransport', () => {
  it.each([
    ['256 KiB negotiated', 262_144, 262_144, 1],
    ['no limit (0)', 0, 262_144, 1],
    ['unknown (no sctp)', undefined, 65_536, 4],
    ['16 KiB negotiated', 16_384, 16_384, 16],
  ])('cuts a 256 KiB frame by the negotiated message size: %s', (_name, max, messageBytes, messages) => {
    const { transport, sent } = fakePeer(max);
    const frame = frameOf(256 * 1024 - 64 + 18, 3);
    transport.send(frame);
    expect(sent.length).toBe(messages);
    for (const message of sent) expect(message.length).toBeLessThanOrEqual(messageBytes);
    const [got, ...rest] = deliver(sent);
    expect(rest).toHaveLength(0);
    expect(Buffer.compare(got!, frame)).toBe(0);
  });

  it('sendParts(head, body) sends exactly what send(head ‖ body) sends, fragments included', () => {
    for (const [max, bodyBytes] of [
      [262_144, 200_000],
      [65_536, 200_000],
      [262_144, 10],
    ] as const) {
      const head = frameOf(18, 1);
      const body = frameOf(bodyBytes, 2);
      const joined = fakePeer(max);
      joined.transport.send(Buffer.concat([head, body]));
      const parts = fakePeer(max);
      parts.transport.sendParts(head, body);
      expect(parts.sent.map((m) => Buffer.from(m).toString('hex'))).toEqual(
        joined.sent.map((m) => Buffer.from(m).toString('hex')),
      );
    }
  });

  it('reads the channel buffer once per 256 KiB sent, not per frame, and never under-reports it', () => {
    const { transport, channel } = fakePeer(262_144);
    let reads = 0;
    for (let i = 0; i < 64; i++) {
      transport.send(frameOf(16 * 1024, i));
      // The bound callers see is at least what the channel really holds.
      const seen = transport.bufferedAmount;
      reads = channel.reads;
      expect(seen).toBeGreaterThanOrEqual(channel.buffered);
      channel.buffered = Math.max(0, channel.buffered - 8 * 1024); // the channel drains meanwhile
    }
    // 64 frames of 16 KiB = 1 MiB sent: about four real readings, not 64 (or 128).
    expect(reads).toBeLessThanOrEqual(8);
  });

  it('lets the stream fill the channel to 4 MiB and fires drain at 1 MiB (bench:e2e measured faster)', () => {
    const { transport, channel } = fakePeer(262_144);
    expect(transport.highWater).toBe(4 * 1024 * 1024);
    expect(channel.bufferedAmountLowThreshold).toBe(1024 * 1024);
    let drains = 0;
    transport.onDrain(() => drains++);
    for (let i = 0; i < 16; i++) transport.send(frameOf(256 * 1024 - 1, i));
    // 4 MiB held; the channel drains to 1.5 MiB: above the low-water mark, no drain yet.
    channel.buffered = 1536 * 1024;
    transport.receive(new Uint8Array([0, 1]));
    expect(drains).toBe(0);
    channel.buffered = 1024 * 1024;
    transport.receive(new Uint8Array([0, 2]));
    expect(drains).toBe(1);
    // The channel empties unseen (no reading until 256 KiB more is sent): the estimate stays below the
    // high-water mark, so a stream never stops on it waiting for a drain that will not come.
    channel.buffered = 0;
    for (let i = 0; i < 3; i++) transport.send(frameOf(80 * 1024, i));
    expect(transport.bufferedAmount).toBeGreaterThan(1024 * 1024);
    expect(transport.bufferedAmount).toBeLessThan(transport.highWater);
    transport.close();
  });

  it('fires drain without the bufferedamountlow event once the channel has drained', async () => {
    const { transport, channel } = fakePeer(262_144);
    let drains = 0;
    transport.onDrain(() => drains++);
    for (let i = 0; i < 8; i++) transport.send(frameOf(200 * 1024, i));
    expect(transport.bufferedAmount).toBeGreaterThan(1024 * 1024);
    const drained = new Promise<void>((resolve) => transport.onDrain(() => resolve()));
    channel.buffered = 0;
    await drained;
    expect(drains).toBe(1);
    transport.close();
  });
});
