// RelayMediaLink: a call's media over its own relay channel (the session's relay transport: signed key
// agreement, AES-GCM counters). Frames flow with their header, the receiver's feedback reaches the sender;
// malformed messages and duplicate frames are refused while the call goes on; a replayed or forged record
// kills the link with a reason; a relay channel whose peer holds another identity key never carries media.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_HEADER_BYTES } from '../../../../signaling/protocol/index.js';
import { encodeMediaFrame, type MediaFrame } from '../../../../core/src/call/relay-media/frame.js';
import { RelayMediaLink } from '../../../../core/src/call/relay-media/link.js';
import {
  emptyRelayMediaStats,
  type RelayMediaEngine,
  type RelayMediaStartOptions,
  type SendControl,
} from '../../../../core/src/call/relay-media/pipeline.js';
import type { StreamLike } from '../../../../core/src/call/media-types.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { silentLogger } from '../../../../core/src/platform/types.js';
import { RelayChannelSocket, type ChannelHost } from '../../../../core/src/relay/channel.js';
import { RelayTransport } from '../../../../core/src/session/relay-transport.js';

let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
let carol: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});

/** One end of an in-memory relay channel; `filter` may drop, change or repeat payloads (a hostile relay). */
class MemoryHost implements ChannelHost {
  other!: MemoryHost;
  socket!: RelayChannelSocket;
  filter: (payload: Uint8Array, index: number) => Uint8Array[] = (p) => [p];
  bufferedAmount = 0;
  #count = 0;
  sendFrame(_channel: number, payload: Uint8Array): void {
    for (const p of this.filter(payload.slice(), this.#count++)) setImmediate(() => this.other.socket.deliver(p));
  }
  sendFramed(channel: number, frame: Uint8Array): void {
    this.sendFrame(channel, frame.subarray(CHANNEL_HEADER_BYTES));
  }
  closeChannel(): void {
    setImmediate(() => this.other.socket.closedByRelay('closed by peer'));
  }
}

/** A pipeline double: records what it is given; the test makes it "encode" frames. */
class FakeEngine implements RelayMediaEngine {
  options!: RelayMediaStartOptions;
  readonly delivered: MediaFrame[] = [];
  readonly controls: SendControl[] = [];
  keyFrames = 0;
  closed = false;
  start(options: RelayMediaStartOptions) {
    this.options = options;
    return {
      remoteStream: { id: 'remote', getTracks: () => [], getAudioTracks: () => [], getVideoTracks: () => [] },
      deliver: (f: MediaFrame) => this.delivered.push({ ...f, payload: f.payload.slice() }),
      control: (c: SendControl) => this.controls.push(c),
      keyFrame: () => this.keyFrames++,
      replaceTrack: () => {},
      stats: () => emptyRelayMediaStats(),
      close: () => {
        this.closed = true;
      },
    };
  }
}

const links: RelayMediaLink[] = [];
afterEach(() => {
  for (const l of links.splice(0)) l.close('test over');
});

function channelPair() {
  const a = new MemoryHost();
  const b = new MemoryHost();
  a.other = b;
  b.other = a;
  a.socket = new RelayChannelSocket(a, 3, bob.id, 'cm.test');
  b.socket = new RelayChannelSocket(b, 3, alice.id, 'cm.test');
  return { a, b };
}

async function linkPair() {
  const { a, b } = channelPair();
  const [ta, tb] = await Promise.all([
    RelayTransport.establish({
      socket: a.socket,
      identity: alice,
      peerKey: bob.publicKey,
      peerId: bob.id,
      sessionId: 'cm.test',
      role: 'initiator',
    }),
    RelayTransport.establish({
      socket: b.socket,
      identity: bob,
      peerKey: alice.publicKey,
      peerId: alice.id,
      sessionId: 'cm.test',
      role: 'responder',
    }),
  ]);
  const ea = new FakeEngine();
  const eb = new FakeEngine();
  const la = new RelayMediaLink<StreamLike>({ transport: ta, engine: ea, tracks: [], logger: silentLogger });
  const lb = new RelayMediaLink<StreamLike>({ transport: tb, engine: eb, tracks: [], logger: silentLogger });
  links.push(la, lb);
  const closed = { a: null as string | null, b: null as string | null };
  la.on('closed', (r) => (closed.a = r));
  lb.on('closed', (r) => (closed.b = r));
  return { a, b, ta, tb, ea, eb, la, lb, closed };
}

const video = (n: number, key = false) => ({
  track: 'video' as const,
  timestampUs: n * 33_333,
  captureMs: 1_000 + n,
  key,
  layer: 0,
  channels: 0,
  payload: Uint8Array.of(n, n, n),
});

/**
 * Waits until `check` holds, re-checking after each I/O turn (the memory channel delivers on setImmediate),
 * for up to `ms`. Bounded by time, not by a count of turns: AES-GCM runs on libuv's thread pool, and on a
 * loaded machine (a CI run) 500 turns passed before a record was opened.
 */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe('relay media link', () => {
  it('carries frames with their header, numbered per track, and the receiver reports what it got', async () => {
    const { ea, eb, la } = await linkPair();
    expect(ea.keyFrames).toBeGreaterThan(0); // a key frame at start
    ea.options.onFrame(video(1, true));
    ea.options.onFrame({ ...video(2), track: 'audio', channels: 2, key: true });
    ea.options.onFrame(video(3));
    await until(() => eb.delivered.length === 3);
    expect(eb.delivered.map((f) => [f.track, f.seq, f.key, f.captureMs, [...f.payload]])).toEqual([
      ['video', 0, true, 1_001, [1, 1, 1]],
      ['audio', 0, true, 1_002, [2, 2, 2]],
      ['video', 1, false, 1_003, [3, 3, 3]],
    ]);
    expect(eb.delivered[1]!.channels).toBe(2);
    expect(la.stats().inflightBytes).toBeGreaterThan(0);
    // Feedback every 100 ms acknowledges everything.
    await until(() => la.stats().inflightBytes === 0, 20_000);
    expect(la.stats().rttMs).not.toBeNull();
  });

  it('refuses malformed messages and duplicate frames from the peer, and the call goes on', async () => {
    const { tb, ea, eb, la } = await linkPair();
    tb.send(Uint8Array.of(99, 1, 2)); // unknown type
    tb.send(Uint8Array.of(1, 7)); // shorter than the header
    const dup = encodeMediaFrame({ ...video(5), seq: 0 }, Uint8Array.of(5));
    tb.send(dup);
    tb.send(dup); // same seq again: never decoded twice
    tb.send(encodeMediaFrame({ ...video(6), seq: 1 }, Uint8Array.of(6)));
    await until(() => ea.delivered.length === 2);
    await until(() => la.stats().refused === 3);
    expect(ea.delivered.map((f) => f.seq)).toEqual([0, 1]);
    expect(la.closed).toBe(false);
    // Media still flows the other way.
    ea.options.onFrame(video(7, true));
    await until(() => eb.delivered.length === 1);
  });

  it('a replayed record from the relay kills the link with a reason (no frame of it delivered)', async () => {
    const { a, ea, eb, closed } = await linkPair();
    let kept: Uint8Array | null = null;
    a.filter = (p) => {
      if (kept === null) {
        kept = p;
        return [p];
      }
      return [p, kept]; // the relay replays the first media record after every later one
    };
    ea.options.onFrame(video(1, true));
    await until(() => eb.delivered.length === 1);
    ea.options.onFrame(video(2));
    await until(() => closed.b !== null);
    expect(closed.b).toMatch(/refused a relay record/);
    expect(eb.delivered).toHaveLength(2);
    expect(eb.closed).toBe(true);
  });

  it('a forged record (one bit flipped by the relay) kills the link', async () => {
    const { a, ea, eb, closed } = await linkPair();
    a.filter = (p) => {
      const out = p.slice();
      out[out.length - 1]! ^= 1;
      return [out];
    };
    ea.options.onFrame(video(1, true));
    await until(() => closed.b !== null);
    expect(closed.b).toMatch(/refused a relay record/);
    expect(eb.delivered).toHaveLength(0);
  });

  it('a channel whose peer holds another identity key (wrong key) never gets established', async () => {
    const { a, b } = channelPair();
    const results = await Promise.allSettled([
      RelayTransport.establish({
        socket: a.socket,
        identity: alice,
        peerKey: bob.publicKey,
        peerId: bob.id,
        sessionId: 'cm.test',
        role: 'initiator',
        handshakeTimeoutMs: 5_000,
      }),
      RelayTransport.establish({
        socket: b.socket,
        identity: carol, // the relay paired Alice with someone else
        peerKey: alice.publicKey,
        peerId: alice.id,
        sessionId: 'cm.test',
        role: 'responder',
        handshakeTimeoutMs: 5_000,
      }),
    ]);
    expect(results[0].status).toBe('rejected');
    for (const r of results) if (r.status === 'fulfilled') r.value.close();
  });
});
