// The reliable stream over the end-to-end encrypted relay transport, through a real relay on loopback:
// many frames of mixed sizes arrive intact and in order, in fewer relay messages than stream frames
// (records pack them), and the transport's buffer stays bounded by the stream's backpressure.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../core/src/identity/keys.js';
import type { RelayClient } from '../../../core/src/relay/index.js';
import { RelayTransport } from '../../../core/src/session/relay-transport.js';
import { ReliableStream } from '../../../core/src/session/stream.js';
import { onlineRelayClient } from '../../helpers/relay/online-client.js';
import { relayFixture } from '../../helpers/relay/test-relay.js';

const fixture = relayFixture();
const KIND = 9;
const HIGH_WATER = 1024 * 1024; // ReliableStream's default transportHighWater

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function online(identity: IdentityKeyPair, url: string): Promise<RelayClient> {
  return onlineRelayClient(identity, url, (client) => closers.push(() => client.close()));
}

/** Frame i: its index, then bytes derived from it; sizes mix control-sized and chunk-sized frames. */
function frameOf(i: number): Uint8Array {
  const size = i % 7 === 0 ? 64 * 1024 : 16 + ((i * 131) % 4000);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, i, false);
  for (let j = 4; j < size; j++) out[j] = (i * 31 + j) & 0xff;
  return out;
}

describe('reliable stream over the relay transport', () => {
  it('carries 20 MB of mixed frames in order, in fewer relay messages than frames, with bounded buffering', async () => {
    const relay = await fixture.start();
    const [alice, bob] = await Promise.all([
      generateIdentityKeyPair({ extractable: false }),
      generateIdentityKeyPair({ extractable: false }),
    ]);
    const [ca, cb] = await Promise.all([online(alice, relay.url), online(bob, relay.url)]);
    const sid = 'stream-over-relay-1';
    const [sa, sb] = await Promise.all([ca.openChannel(bob.id, sid), cb.openChannel(alice.id, sid)]);
    const [ta, tb] = await Promise.all([
      RelayTransport.establish({
        socket: sa,
        identity: alice,
        peerKey: bob.publicKey,
        peerId: bob.id,
        sessionId: sid,
        role: 'initiator',
      }),
      RelayTransport.establish({
        socket: sb,
        identity: bob,
        peerKey: alice.publicKey,
        peerId: alice.id,
        sessionId: sid,
        role: 'responder',
      }),
    ]);
    closers.push(
      () => ta.close(),
      () => tb.close(),
    );

    // Watch the transport's buffer at every write the stream makes.
    let maxBuffered = 0;
    let largestFrame = 0;
    const write = ta.send.bind(ta);
    ta.send = (frame: Uint8Array) => {
      write(frame);
      largestFrame = Math.max(largestFrame, frame.length);
      maxBuffered = Math.max(maxBuffered, ta.bufferedAmount);
    };

    const a = new ReliableStream();
    const b = new ReliableStream();
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    a.attach(ta, { current: true });
    b.attach(tb, { current: true });

    const sent = createHash('sha256');
    const got = createHash('sha256');
    let next = 0;
    let disorder = -1;
    let total = 0;
    let count = Infinity;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    b.onFrame(KIND, (payload) => {
      const index = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, false);
      if (index !== next && disorder < 0) disorder = index;
      next++;
      got.update(payload);
      if (next >= count) finish();
    });

    const before = relay.stats().framesForwarded;
    const deadline = Date.now() + 60_000;
    let i = 0;
    for (; total < 20_000_000 && Date.now() < deadline; i++) {
      const frame = frameOf(i);
      sent.update(frame);
      total += frame.length;
      await a.send(KIND, frame);
    }
    count = i;
    if (next >= count) finish();
    await done;

    expect(disorder).toBe(-1);
    expect(next).toBe(count);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    const messages = relay.stats().framesForwarded - before;
    // Both directions count: data records one way, acknowledgements the other.
    expect(messages).toBeLessThan(count / 2);
    expect(ta.stats.framesSent).toBeGreaterThanOrEqual(count);
    expect(ta.stats.recordsSent).toBeLessThan(ta.stats.framesSent / 2);
    // The stream stops writing above its high-water mark: at most one more frame gets in.
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER + largestFrame);
  });
});
