// Relay channels: pairing, forwarding untouched, closing, expiry — and 50 MB to a slow receiver with the
// relay's queue bounded by backpressure.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_CHANNEL_PAYLOAD, encodeChannelFrame } from '../../../signaling/protocol/index.js';
import { connectAs, createIdentity, watchGrant } from '../../helpers/relay/raw-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';
import { bulkToSlowReceiver, channelPair } from './channel-scenarios.js';

const fixture = relayFixture();

async function pair(url: string, tag = 'session-1') {
  const p = await channelPair((client) => fixture.track(client), url, url, tag);
  return { ...p, channel: p.readyA.channel };
}

describe('relay channels', () => {
  it('pairs two matching opens and forwards frames both ways byte for byte', async () => {
    const relay = await fixture.start();
    const { a, b, readyA, readyB, channel } = await pair(relay.url);
    expect(readyA).toEqual({ type: 'channel-ready', channel, peer: b.identity.id, tag: 'session-1' });
    expect(readyB).toEqual({ type: 'channel-ready', channel, peer: a.identity.id, tag: 'session-1' });

    const payload = randomBytes(1000);
    a.client.sendRaw(Buffer.from(encodeChannelFrame(channel, payload)));
    expect(Buffer.from(await b.client.nextFrame()).equals(Buffer.from(encodeChannelFrame(channel, payload)))).toBe(
      true,
    );
    const big = randomBytes(MAX_CHANNEL_PAYLOAD);
    b.client.sendRaw(Buffer.from(encodeChannelFrame(channel, big)));
    const got = await a.client.nextFrame();
    expect(got.subarray(4).equals(big)).toBe(true);
    expect(relay.stats()).toMatchObject({ channels: 1, framesForwarded: 2 });
  });

  it('forwards frames whose header and payload arrive in pieces, masked at random or with a zero mask', async () => {
    const relay = await fixture.start();
    const { a, b, channel } = await pair(relay.url);
    const bystander = await connectAs(relay.url);
    fixture.track(bystander.client);
    const socket = (a.client.ws as unknown as { _socket: import('node:net').Socket })._socket;
    for (const mask of [randomBytes(4), Buffer.alloc(4)]) {
      const payload = Buffer.from(encodeChannelFrame(channel, randomBytes(200_000)));
      const bytes = maskedFrame(payload, mask);
      // Cuts inside the header, inside the channel number and across the payload. Between pieces a round trip
      // on another connection lets the relay read each piece on its own.
      let at = 0;
      for (const cut of [1, 3, 9, 12, 5_000, 70_000, bytes.length]) {
        socket.write(bytes.subarray(at, cut));
        at = cut;
        bystander.client.send({ type: 'ping', ref: `p${cut}` });
        await bystander.client.next('pong');
      }
      expect((await b.client.nextFrame()).equals(payload)).toBe(true);
    }
    expect(relay.stats()).toMatchObject({ framesForwarded: 2, violations: 0 });
  });

  it('gives distinct channel numbers to distinct pairs and tags', async () => {
    const relay = await fixture.start();
    const one = await pair(relay.url, 'one');
    const two = await pair(relay.url, 'two');
    expect(one.channel).not.toBe(two.channel);
  });

  it('refuses frames on channels the connection does not own', async () => {
    const relay = await fixture.start();
    const { channel } = await pair(relay.url);
    const outsider = await connectAs(relay.url);
    fixture.track(outsider.client);
    outsider.client.sendRaw(Buffer.from(encodeChannelFrame(channel, Buffer.from('sneak'))));
    expect((await outsider.client.nextError()).code).toBe(ErrorCode.UnknownChannel);
    outsider.client.sendRaw(Buffer.from([1, 2]));
    expect((await outsider.client.nextError()).code).toBe(ErrorCode.BadMessage);
  });

  it('tells the other side when a channel is closed or a peer disconnects', async () => {
    const relay = await fixture.start();
    const first = await pair(relay.url, 'close-me');
    first.a.client.send({ type: 'channel-close', channel: first.channel });
    expect(await first.b.client.next('channel-closed')).toMatchObject({ channel: first.channel });
    // Frames still in flight on a just-closed channel are dropped quietly, not violations.
    first.b.client.sendRaw(Buffer.from(encodeChannelFrame(first.channel, Buffer.from('late'))));
    first.b.client.send({ type: 'ping', ref: 'after' });
    await first.b.client.next('pong');
    expect(first.b.client.received.some((m) => m.type === 'error')).toBe(false);

    const second = await pair(relay.url, 'drop-me');
    await second.a.client.close();
    expect(await second.b.client.next('channel-closed')).toMatchObject({ channel: second.channel });
    expect(relay.stats().channels).toBe(0);
  });

  it('answers an open towards an offline contact with offline, and expires an unanswered one', async () => {
    const relay = await fixture.start({ limits: { channelOpenTimeoutMs: 200 } });
    const a = await connectAs(relay.url);
    const b = await connectAs(relay.url);
    fixture.track(a.client);
    fixture.track(b.client);
    const ghost = await createIdentity();
    a.client.send({ type: 'subscribe', grants: [await watchGrant(ghost, a.identity.id)] });
    a.client.send({ type: 'channel-open', to: ghost.id, tag: 't1' });
    expect(await a.client.nextError()).toMatchObject({ code: ErrorCode.Offline, to: ghost.id, tag: 't1' });
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 't2' });
    expect(await a.client.nextError()).toMatchObject({ code: ErrorCode.ChannelTimeout, to: b.identity.id, tag: 't2' });
    // A different tag never pairs.
    expect(relay.stats().pendingChannelOpens).toBe(0);
  });

  it('carries 50 MB intact to a slow receiver while the relay queue stays bounded', async () => {
    await bulkToSlowReceiver({
      async start(options) {
        const relay = await fixture.start(options);
        return { sender: relay, receiver: relay };
      },
      senderQueue: async (relay) => relay.stats().bufferedBytes,
      slackFrames: 2,
      track: (client) => fixture.track(client),
    });
  }, 120_000);
});

/** A client's final binary frame with a 64-bit length field, masked with `mask` (RFC 6455 §5.2). */
function maskedFrame(payload: Buffer, mask: Buffer): Buffer {
  const head = Buffer.alloc(14);
  head[0] = 0x82;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(payload.length), 2);
  mask.copy(head, 10);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, body]);
}
