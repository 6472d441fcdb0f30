// A call moving its media between direct and the relay mid-call, through the real call engine (CallManager,
// sealed call signals, the relay channel's key agreement, RelayMediaLink) with doubles where real WebRTC and
// WebCodecs are not the point: a simple-peer double whose getStats counts inbound RTP bytes while its
// "network" is up, an in-memory relay channel and a media engine double. Real WebRTC: tests/e2e/call-relay.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_HEADER_BYTES } from '../../../../signaling/protocol/index.js';
import {
  CallManager,
  type Call,
  type CallState,
  type CallTimeouts,
  type StreamLike,
  type TrackLike,
} from '../../../../core/src/call/index.js';
import type { MediaFrame } from '../../../../core/src/call/relay-media/frame.js';
import {
  emptyRelayMediaStats,
  type RelayMediaEngine,
  type RelayMediaPipeline,
  type RelayMediaStartOptions,
} from '../../../../core/src/call/relay-media/pipeline.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { SimplePeerConstructor } from '../../../../core/src/platform/rtc.js';
import { RelayChannelSocket, type ChannelHost } from '../../../../core/src/relay/channel.js';
import { Emitter } from '../../../../core/src/util/emitter.js';
import { RelayHub } from './relay-double.js';

class FakeTrack implements TrackLike {
  enabled = true;
  readonly id = Math.random().toString(36).slice(2);
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {}
}
class FakeStream implements StreamLike {
  readonly id: string;
  readonly tracks: FakeTrack[];
  constructor(label: string) {
    this.id = label;
    this.tracks = [new FakeTrack('audio'), new FakeTrack('video')];
  }
  getTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'video');
  }
}

/**
 * The direct path between the two peers: RTP bytes arrive while it is up. A peer connection described while it
 * is down keeps checking, like ICE, and connects when it comes back (both ends of an attempt connect, whichever
 * side of the offer/answer the network came back on).
 */
const net = new (class {
  #up = true;
  #waiting: Array<() => void> = [];
  get up(): boolean {
    return this.#up;
  }
  set up(up: boolean) {
    this.#up = up;
    if (up) for (const run of this.#waiting.splice(0)) setTimeout(run, 0);
  }
  whenUp(run: () => void): void {
    if (this.#up) setTimeout(run, 0);
    else this.#waiting.push(run);
  }
  /**
   * While set, every getStats report says the last RTP packet arrived this long ago (Chromium's
   * lastPacketReceivedTimestamp); null: the reports carry no packet times and byte growth decides.
   */
  silentMs: number | null = null;
  /** Whose reports say so ('both' unless told). */
  silentAt: 'caller' | 'callee' | 'both' = 'both';
  /**
   * Whether every getStats report carries an ICE candidate pair whose checks are answered (true) or go out
   * unanswered (false); null: no candidate-pair records (as in most tests here).
   */
  iceAnswers: boolean | null = null;
  reset(): void {
    this.#waiting = [];
    this.#up = true;
    this.silentMs = null;
    this.silentAt = 'both';
    this.iceAnswers = null;
  }
})();

const FP = Array.from({ length: 32 }, (_, i) => (i % 16).toString(16).toUpperCase().padStart(2, '0')).join(':');
const sdp = (type: string) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=${type}\r\nt=0 0\r\na=fingerprint:sha-256 ${FP}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n`;

/** simple-peer double: offer/answer with a fingerprint, 'connect' and a remote stream once described. */
class FakePeer {
  static readonly all: FakePeer[] = [];
  static made = { caller: 0, callee: 0 };
  readonly events = new Emitter<Record<string, unknown>>();
  destroyed = false;
  bytes = 0;
  frames = 0;
  checks = 0;
  readonly _pc = {
    iceConnectionState: 'new',
    getStats: () => {
      if (net.up) {
        this.bytes += 2_000;
        this.frames += 5;
      }
      const at = Date.now();
      const side = this.opts.initiator ? 'caller' : 'callee';
      const silent = net.silentMs !== null && (net.silentAt === 'both' || net.silentAt === side);
      const packetTimes = silent ? { timestamp: at, lastPacketReceivedTimestamp: at - net.silentMs! } : {};
      this.checks += 3;
      const pair =
        net.iceAnswers === null
          ? []
          : [
              {
                type: 'candidate-pair',
                state: net.iceAnswers ? 'succeeded' : 'in-progress',
                requestsSent: this.checks,
                responsesReceived: net.iceAnswers ? this.checks : 0,
              },
            ];
      return Promise.resolve([
        { type: 'inbound-rtp', kind: 'audio', bytesReceived: this.bytes, ...packetTimes },
        { type: 'inbound-rtp', kind: 'video', bytesReceived: 0, framesDecoded: this.frames },
        ...pair,
      ]);
    },
  };
  readonly n: number;
  constructor(readonly opts: { initiator: boolean }) {
    FakePeer.all.push(this);
    this.n = ++FakePeer.made[opts.initiator ? 'caller' : 'callee'];
    if (opts.initiator) setTimeout(() => this.events.emit('signal', { type: 'offer', sdp: sdp('offer') }), 0);
  }
  on(event: string, listener: (...args: unknown[]) => void): void {
    this.events.on(event, listener as (v: unknown) => void);
  }
  addTrack(): void {}
  replaceTrack(): void {}
  signal(data: { type?: string }): void {
    if (this.destroyed) return;
    if (data.type === 'offer') this.events.emit('signal', { type: 'answer', sdp: sdp('answer') });
    // Connects over a working network (until then ICE keeps checking).
    if (data.type === 'offer' || data.type === 'answer') {
      net.whenUp(() => {
        if (this.destroyed) return;
        this._pc.iceConnectionState = 'connected';
        this.events.emit('iceStateChange', 'connected');
        this.events.emit('connect', undefined);
        const label = `direct-${this.opts.initiator ? 'at-caller' : 'at-callee'}`;
        this.events.emit('stream', new FakeStream(this.n === 1 ? label : `${label}#${this.n}`));
      });
    }
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** ICE gave up on the path (simple-peer's error for a failed connection). */
  fail(): void {
    this.events.emit(
      'error',
      Object.assign(new Error('Ice connection failed.'), { code: 'ERR_ICE_CONNECTION_FAILURE' }),
    );
  }
}

/** What a hostile relay does to the channel payloads it forwards (null: forwards them as they are). */
let relayAlters: ((payload: Uint8Array) => Uint8Array[]) | null = null;

/** An in-memory relay: channels pair when both sides open the same tag. */
class MemoryHost implements ChannelHost {
  other!: MemoryHost;
  socket!: RelayChannelSocket;
  bufferedAmount = 0;
  sendFrame(_channel: number, payload: Uint8Array): void {
    const p = payload.slice();
    for (const out of relayAlters ? relayAlters(p) : [p]) setImmediate(() => this.other.socket.deliver(out));
  }
  sendFramed(channel: number, frame: Uint8Array): void {
    this.sendFrame(channel, frame.subarray(CHANNEL_HEADER_BYTES));
  }
  closeChannel(): void {
    setImmediate(() => this.other.socket.closedByRelay('closed by peer'));
  }
}
const pendingOpens = new Map<string, (s: RelayChannelSocket) => void>();
/** Like the relay's channelOpenTimeoutMs: an open the contact does not match in time fails. */
const OPEN_TIMEOUT_MS = 3_000;
const openedTags: string[] = [];
function openChannel(me: string) {
  return (to: string, tag: string): Promise<RelayChannelSocket> =>
    new Promise((resolve, reject) => {
      openedTags.push(`${me.slice(0, 4)}:${tag}`);
      const match = pendingOpens.get(`${to}>${me}>${tag}`);
      if (!match) {
        const key = `${me}>${to}>${tag}`;
        pendingOpens.set(key, resolve);
        setTimeout(() => {
          if (pendingOpens.get(key) !== resolve) return;
          pendingOpens.delete(key);
          reject(new Error(`no matching channel-open within ${OPEN_TIMEOUT_MS} ms`));
        }, OPEN_TIMEOUT_MS);
        return;
      }
      pendingOpens.delete(`${to}>${me}>${tag}`);
      const a = new MemoryHost();
      const b = new MemoryHost();
      a.other = b;
      b.other = a;
      a.socket = new RelayChannelSocket(a, 1, to, tag);
      b.socket = new RelayChannelSocket(b, 1, me, tag);
      match(b.socket);
      resolve(a.socket);
    });
}

/** The media engine double: one "frame" from each start, and it records its pipelines. */
class FakeEngine implements RelayMediaEngine<FakeStream> {
  readonly pipelines: Array<{
    closed: boolean;
    delivered: MediaFrame[];
    remoteStream: FakeStream;
    /** Says the contact's first frame of `kind` decoded (onReceived), when the test decides. */
    decoded: (kind: 'audio' | 'video') => void;
  }> = [];
  /** A pipeline made ready ahead (prepare: the browser's media worker loaded), not yet taken by start. */
  prepared = false;
  /** How many starts found one made ready. */
  startsPrepared = 0;
  /** Pipelines say when the peer's first frame of a kind arrived (onReceived), as the browser's does. */
  reportsReceived = false;
  prepare(): void {
    this.prepared = true;
  }
  release(): void {
    this.prepared = false;
  }
  start(options: RelayMediaStartOptions): RelayMediaPipeline<FakeStream> {
    if (this.prepared) this.startsPrepared++;
    this.prepared = false;
    const p = {
      closed: false,
      delivered: [] as MediaFrame[],
      remoteStream: new FakeStream(`relay-${this.pipelines.length}`),
      decoded: (kind: 'audio' | 'video') => options.onReceived?.(kind),
    };
    this.pipelines.push(p);
    let keyed = false;
    return {
      remoteStream: p.remoteStream,
      deliver: (f) => {
        p.delivered.push(f);
        if (this.reportsReceived) options.onReceived?.(f.track);
      },
      control: () => {},
      keyFrame: () => {
        if (keyed) return;
        keyed = true;
        setTimeout(() =>
          options.onFrame({
            track: 'video',
            key: true,
            layer: 0,
            channels: 0,
            timestampUs: 0,
            captureMs: Date.now(),
            payload: Uint8Array.of(1, 2, 3),
          }),
        );
      },
      replaceTrack: () => {},
      stats: () => emptyRelayMediaStats(),
      close: () => {
        p.closed = true;
      },
    };
  }
  get live(): number {
    return this.pipelines.filter((p) => !p.closed).length;
  }
}

let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});

const managers: CallManager<FakeStream>[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
  net.reset();
  pendingOpens.clear();
  openedTags.length = 0;
  FakePeer.all.length = 0;
  FakePeer.made = { caller: 0, callee: 0 };
});

function party(
  hub: RelayHub,
  me: IdentityKeyPair,
  other: IdentityKeyPair,
  engine: FakeEngine,
  timeouts: Partial<CallTimeouts> = {},
  relayOnly = false,
) {
  const calls = new CallManager<FakeStream>({
    relayOnly,
    relay: hub.endpoint(me.id),
    identity: me,
    contactKey: (id) => (id === other.id ? other.publicKey : undefined),
    contactName: () => 'contact',
    SimplePeer: FakePeer as unknown as SimplePeerConstructor,
    relayMedia: { engine: engine as unknown as RelayMediaEngine, openChannel: openChannel(me.id) },
    timeouts: { relayHeadStartMs: 60_000, reconnectMs: 20_000, ...timeouts },
    stopTracksOnEnd: false,
  });
  managers.push(calls);
  return calls;
}

/** Alice (with engineA) calls Bob (engineB); resolves once Bob's call rings (not accepted yet). */
async function ring(timeouts: Partial<CallTimeouts> = {}, relayOnly = false) {
  const hub = new RelayHub();
  const engineA = new FakeEngine();
  const engineB = new FakeEngine();
  const a = party(hub, alice, bob, engineA, timeouts, relayOnly);
  const b = party(hub, bob, alice, engineB, timeouts, relayOnly);
  const incoming = new Promise<Call<FakeStream>>((resolve) => b.on('incoming', resolve));
  const callA = a.start(bob.id, new FakeStream('alice-local'));
  return { engineA, engineB, callA, callB: await incoming };
}

/** Resolves when `check` holds, re-checked at every event of the call. */
function when(call: Call<FakeStream>, check: () => boolean, what: string, ms = 15_000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const offs: Array<() => void> = [];
    const done = (error?: Error) => {
      clearTimeout(bound);
      clearInterval(poll);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve();
    };
    const test = () => {
      if (check()) done();
    };
    const bound = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), ms);
    // The path moves on getStats samples (every 200 ms): re-check on the call's events and on that cadence.
    const poll = setInterval(test, 50);
    offs.push(call.on('remote-stream', test), call.on('state', test));
  });
}

describe('a call moving between direct and the relay', () => {
  it('direct → relay when direct RTP stalls, relay → direct when it flows again; remote streams follow, the call stays up', async () => {
    const { engineA, engineB, callA, callB } = await ring();
    await callB.accept(new FakeStream('bob-local'));
    const streamsAtA: string[] = [];
    callA.on('remote-stream', (s) => streamsAtA.push(s.id));

    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    expect(callA.remoteStream?.id).toBe('direct-at-caller');
    expect(callB.remoteStream?.id).toBe('direct-at-callee');
    const states: CallState[] = [];
    for (const c of [callA, callB]) c.on('state', (e) => states.push(e.state));
    // The relay channel was made ready beside direct, idle: no media pipeline runs.
    expect(openedTags.length).toBe(2);
    expect(engineA.pipelines).toHaveLength(0);

    // What each side's relay pipeline had received when its view swapped to the relay.
    const deliveredAtSwap: number[] = [];
    for (const [call, engine] of [
      [callA, engineA],
      [callB, engineB],
    ] as const)
      call.on('remote-stream', (s) => {
        if (s.id === 'relay-0') deliveredAtSwap.push(engine.pipelines[0]?.delivered.length ?? -1);
      });
    net.up = false;
    await when(callA, () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0', 'relay');
    expect((await callA.stats()).path).toBe('relay');
    // The relay media started while direct stalled, ahead of the move: each side's key frame had reached the
    // other before its view swapped, so the swap shows a picture at once.
    expect(deliveredAtSwap).toHaveLength(2);
    expect(Math.min(...deliveredAtSwap)).toBeGreaterThan(0);
    // Media crosses the relay channel (each side's key frame reached the other's pipeline).
    await when(
      callA,
      () => engineA.pipelines[0]!.delivered.length > 0 && engineB.pipelines[0]!.delivered.length > 0,
      'relay frames',
    );
    expect(openedTags.length).toBe(2); // the ready channel was used, none opened for the move

    net.up = true;
    await when(
      callA,
      () => callA.remoteStream?.id === 'direct-at-caller' && callB.remoteStream?.id === 'direct-at-callee',
      'direct again',
    );
    // The relay encoders stopped on both sides, and a fresh channel is made ready for a next move.
    await when(callA, () => engineA.live === 0 && engineB.live === 0, 'relay pipelines closed');
    await when(callA, () => openedTags.length === 4, 'next relay channel');
    expect(openedTags.filter((t) => t.endsWith('.1'))).toHaveLength(2);
    expect((await callA.stats()).path).not.toBe('relay');
    expect(streamsAtA).toEqual(['direct-at-caller', 'relay-0', 'direct-at-caller']);

    // And again: the second move uses the next channel.
    net.up = false;
    await when(
      callA,
      () => callA.remoteStream?.id === 'relay-1' && callB.remoteStream?.id === 'relay-1',
      'relay again',
    );

    expect(states.filter((s) => s !== 'active' && s !== 'reconnecting')).toEqual([]);
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
    callA.hangup();
    await when(callB, () => callB.state === 'ended', 'ended');
    expect(callB.end?.code).toBe('remote-hangup');
  }, 30_000);

  it("the relay's media pipeline is made ready with each relay channel, so every move finds one ready; the call's end lets it go", async () => {
    const { engineA, engineB, callA, callB } = await ring();
    await callB.accept(new FakeStream('bob-local'));
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    expect([engineA.prepared, engineB.prepared]).toEqual([true, true]);
    expect(engineA.pipelines).toHaveLength(0);
    net.up = false;
    await when(callA, () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0', 'relay');
    net.up = true;
    await when(callA, () => callA.remoteStream?.id === 'direct-at-caller', 'direct again');
    await when(callA, () => engineA.prepared && engineB.prepared, 'ready again');
    net.up = false;
    await when(
      callA,
      () => callA.remoteStream?.id === 'relay-1' && callB.remoteStream?.id === 'relay-1',
      'relay again',
    );
    expect([engineA.startsPrepared, engineB.startsPrepared]).toEqual([2, 2]);
    callA.hangup();
    await when(callB, () => callB.state === 'ended', 'ended');
    expect([engineA.prepared, engineB.prepared]).toEqual([false, false]);
  }, 30_000);

  it('direct silent for a while but under the stall: the relay media starts unshown and stops when direct flows again; the view never changes', async () => {
    const { engineA, engineB, callA, callB } = await ring();
    await callB.accept(new FakeStream('bob-local'));
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    const swaps: string[] = [];
    for (const c of [callA, callB]) c.on('remote-stream', (s) => swaps.push(s.id));

    // 400 ms without a packet: more than suspectMs (200), less than stallMs (700).
    net.silentMs = 400;
    await when(callA, () => engineA.pipelines.length === 1 && engineB.pipelines.length === 1, 'relay media ahead');
    await when(
      callA,
      () => engineA.pipelines[0]!.delivered.length > 0 && engineB.pipelines[0]!.delivered.length > 0,
      'frames across the relay',
    );
    expect([callA.remoteStream?.id, callB.remoteStream?.id]).toEqual(['direct-at-caller', 'direct-at-callee']);
    net.silentMs = 0;
    await when(callA, () => engineA.live === 0 && engineB.live === 0, 'relay media ahead stopped');
    expect(swaps).toEqual([]);
    expect([callA.state, callB.state]).toEqual(['active', 'active']);

    // A real cut still moves, over a fresh channel.
    net.silentMs = null;
    net.up = false;
    await when(callA, () => callA.remoteStream?.id === 'relay-1' && callB.remoteStream?.id === 'relay-1', 'relay');
    expect(swaps.sort()).toEqual(['relay-1', 'relay-1']);
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
  }, 30_000);

  it("direct silent under the stall threshold, but the contact's relay media started ahead decodes here: the cut is confirmed and the call moves, showing the media started ahead", async () => {
    const { engineA, engineB, callA, callB } = await ring();
    engineA.reportsReceived = true;
    engineB.reportsReceived = true;
    await callB.accept(new FakeStream('bob-local'));
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    // 400 ms without a packet: under the stall threshold (700 in the first 2 s on direct, 450 after), over the
    // confirmed one (0.6 of it, ≤ 420).
    net.silentMs = 400;
    await when(callA, () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0', 'relay');
    expect([engineA.pipelines.length, engineB.pipelines.length]).toEqual([1, 1]);
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
  }, 30_000);

  it('relay media started ahead by one side only and stopped: both sides open the next channel together, and a later cut still moves', async () => {
    const { engineA, engineB, callA, callB } = await ring();
    await callB.accept(new FakeStream('bob-local'));
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');

    // Only the caller hears a silence under the stall: its relay media starts ahead, alone, then stops.
    net.silentAt = 'caller';
    net.silentMs = 400;
    await when(callA, () => engineA.pipelines.length === 1, 'relay media ahead at the caller');
    expect(engineB.pipelines).toHaveLength(0);
    net.silentMs = 0;
    await when(callA, () => engineA.live === 0, 'relay media ahead stopped');
    // The callee opened the next channel too (the caller's open would otherwise time out at the relay).
    await when(callA, () => openedTags.filter((t) => t.endsWith('.1')).length === 2, 'the next channel, both sides');
    // Longer than the relay's open timeout: the next channel is paired, not waiting.
    await new Promise((r) => setTimeout(r, OPEN_TIMEOUT_MS + 500));

    net.silentMs = null;
    net.up = false;
    await when(callA, () => callA.remoteStream?.id === 'relay-1' && callB.remoteStream?.id === 'relay-0', 'relay');
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
  }, 30_000);

  it("a move before the contact's first relay picture decoded keeps direct's last picture in view until it does (0.5 s at most), not a black one", async () => {
    const { engineA, engineB, callA, callB } = await ring();
    await callB.accept(new FakeStream('bob-local'));
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    const pathIs = async (call: Call<FakeStream>, path: string): Promise<void> => {
      for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
        if ((await call.stats()).path === path) return;
      throw new Error(`timed out waiting for ${path}`);
    };
    net.up = false;
    await Promise.all([pathIs(callA, 'relay'), pathIs(callB, 'relay')]);
    // Neither pipeline said a picture decoded: both views still show direct's (last) picture.
    expect([callA.remoteStream?.id, callB.remoteStream?.id]).toEqual(['direct-at-caller', 'direct-at-callee']);
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
    const swappedAt = Date.now();
    engineA.pipelines[0]!.decoded('audio');
    expect(callA.remoteStream?.id).toBe('direct-at-caller'); // sound is not a picture
    engineA.pipelines[0]!.decoded('video');
    expect(callA.remoteStream?.id).toBe('relay-0');
    // Bob's never says so: his view swaps at the bound.
    await when(callB, () => callB.remoteStream?.id === 'relay-0', 'the bound');
    // The bound is 500 ms from the move (before swappedAt); the rest is slack for a loaded machine's timers.
    expect(Date.now() - swappedAt).toBeLessThan(900);
    expect(engineB.pipelines).toHaveLength(1);
  }, 30_000);

  it('direct does not connect within its head start: the relay media starts before the head start ends, unshown, so the move shows frames already across', async () => {
    net.up = false;
    // A head start longer than the prepare lead: the relay media starts 1.5 s before it ends.
    const { engineA, engineB, callA, callB } = await ring({ relayHeadStartMs: 2_500 });
    const deliveredAtSwap: number[] = [];
    for (const [call, engine] of [
      [callA, engineA],
      [callB, engineB],
    ] as const)
      call.on('remote-stream', (s) => {
        if (s.id === 'relay-0') deliveredAtSwap.push(engine.pipelines[0]?.delivered.length ?? -1);
      });
    await callB.accept(new FakeStream('bob-local'));
    // Before the head start is over: pipelines run on both sides, frames cross, nothing is shown yet.
    await when(
      callA,
      () => (engineA.pipelines[0]?.delivered.length ?? 0) > 0 && (engineB.pipelines[0]?.delivered.length ?? 0) > 0,
      'relay frames ahead of the head start',
      2_400,
    );
    expect([callA.state, callB.state]).toEqual(['connecting', 'connecting']);
    expect([callA.remoteStream, callB.remoteStream]).toEqual([null, null]);
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active on the relay');
    expect([callA.remoteStream?.id, callB.remoteStream?.id]).toEqual(['relay-0', 'relay-0']);
    // Each side's view swapped to relay frames already decoded: the first picture shows at once.
    expect(deliveredAtSwap).toHaveLength(2);
    expect(Math.min(...deliveredAtSwap)).toBeGreaterThan(0);
    expect(engineA.pipelines).toHaveLength(1);
    expect((await callA.stats()).path).toBe('relay');
  }, 30_000);

  it('direct connects within its head start, after the relay media got ready: the relay media stops unshown and the call is direct', async () => {
    net.up = false;
    const { engineA, engineB, callA, callB } = await ring({ relayHeadStartMs: 4_000 });
    const swaps: string[] = [];
    for (const c of [callA, callB]) c.on('remote-stream', (s) => swaps.push(s.id));
    await callB.accept(new FakeStream('bob-local'));
    await when(callA, () => engineA.pipelines.length === 1 && engineB.pipelines.length === 1, 'relay media ahead');
    net.up = true;
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    await when(callA, () => engineA.live === 0 && engineB.live === 0, 'relay media ahead stopped');
    expect([callA.remoteStream?.id, callB.remoteStream?.id]).toEqual(['direct-at-caller', 'direct-at-callee']);
    expect(swaps.every((id) => id.startsWith('direct-'))).toBe(true);
    expect((await callA.stats()).path).not.toBe('relay');
    // The next relay channel is ready on both sides (generation 1), so a later cut still moves.
    await when(callA, () => openedTags.filter((t) => t.endsWith('.1')).length === 2, 'the next channel, both sides');
    net.up = false;
    await when(callA, () => callA.remoteStream?.id === 'relay-1' && callB.remoteStream?.id === 'relay-1', 'relay');
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
  }, 30_000);

  it("direct's ICE checks go unanswered (UDP blocked): the call is on the relay long before the head start ends", async () => {
    net.up = false;
    net.iceAnswers = false;
    // Only the unanswered checks can move this call before a minute.
    const { engineA, engineB, callA, callB } = await ring({ relayHeadStartMs: 60_000 });
    await callB.accept(new FakeStream('bob-local'));
    await when(
      callA,
      () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0',
      'relay media both ways',
      5_000,
    );
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
    expect((await callA.stats()).path).toBe('relay');
    // A call that starts on the relay starts its pipeline as it always did: nothing made ready ahead (only a
    // direct path that connected gets a pipeline ready for a move off it).
    expect([engineA.startsPrepared, engineB.startsPrepared, engineA.prepared, engineB.prepared]).toEqual([
      0,
      0,
      false,
      false,
    ]);
    // The direct attempt goes on: if it connects later, the call can move back to it.
    expect(FakePeer.all.some((p) => !p.destroyed)).toBe(true);
  }, 30_000);

  it("direct's ICE checks answered but not connected yet: no early relay move and no relay media; the call waits for direct", async () => {
    net.up = false;
    net.iceAnswers = true;
    const { engineA, engineB, callA, callB } = await ring({ relayHeadStartMs: 60_000 });
    await callB.accept(new FakeStream('bob-local'));
    // Both sides read their checks at the relay media's preparation (0.8 s) and at the unanswered-checks point
    // (1.5 s): two reads each, three checks a read.
    await when(callA, () => FakePeer.all.length === 2 && FakePeer.all.every((p) => p.checks >= 6), 'both reads');
    await new Promise((r) => setTimeout(r, 0)); // the decision after the last read
    expect([callA.state, callB.state]).toEqual(['connecting', 'connecting']);
    expect([engineA.pipelines.length, engineB.pipelines.length]).toEqual([0, 0]);
    net.up = true;
    await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');
    expect([callA.remoteStream?.id, callB.remoteStream?.id]).toEqual(['direct-at-caller', 'direct-at-callee']);
    expect([engineA.pipelines.length, engineB.pipelines.length]).toEqual([0, 0]);
  }, 30_000);

  it('"always use the relay" with no TURN server: the call is active over relay media, no direct attempt made', async () => {
    const { callA, callB } = await ring({}, true);
    await callB.accept(new FakeStream('bob-local'));
    await when(
      callA,
      () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0',
      'relay media both ways',
    );
    expect([callA.state, callB.state]).toEqual(['active', 'active']);
    expect((await callA.stats()).path).toBe('relay');
    // No peer connection was made: no candidate, and so no address, could reach the contact.
    expect(FakePeer.made).toEqual({ caller: 0, callee: 0 });
    callA.hangup();
    await when(callB, () => callB.state === 'ended', 'ended');
    expect(callB.end?.code).toBe('remote-hangup');
  }, 30_000);

  for (const how of ['replays', 'alters'] as const)
    it(`a relay that ${how} a sealed media record: refused, and the call ends on both sides as tampered, not later as a lost connection`, async () => {
      const { callA, callB } = await ring({ closeGraceMs: 10_000 }, true);
      await callB.accept(new FakeStream('bob-local'));
      await when(callA, () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0', 'relay');
      // The next record either way (the flows' feedback goes every 100 ms): sent again after the one after
      // it, or with one bit flipped.
      let kept: Uint8Array | null = null;
      let done = false;
      relayAlters = (p) => {
        if (done) return [p];
        if (how === 'alters') {
          done = true;
          const forged = p.slice();
          forged[forged.length >> 1]! ^= 1;
          return [forged];
        }
        if (kept === null) {
          kept = p;
          return [p];
        }
        done = true;
        return [p, kept];
      };
      try {
        // Within the bound, 5 s: the grace a closed relay channel otherwise gets (10 s here) has not run out.
        await when(callA, () => callA.state !== 'active' && callB.state !== 'active', 'both ended', 5_000);
        const ends = [callA.end, callB.end];
        for (const end of ends) expect(end?.code).toBe('tampered');
        // The side that refused the record says what the relay did; the other side reports it from there.
        const here = ends.find((e) => e?.remote === false)!;
        expect(here.message).toMatch(/the relay altered .* call media on the way \(refused a relay record: /);
        expect(ends.find((e) => e?.remote === true)?.message).toMatch(/altered on the way .*reported by/);
      } finally {
        relayAlters = null;
      }
    });

  it(
    'a direct connection that was lost is tried again by the caller while the relay carries the call, and the call moves back once it connects',
    { timeout: 45_000 },
    async () => {
      const { engineA, engineB, callA, callB } = await ring({ directRetryMs: 100, connectMs: 1_500 });
      await callB.accept(new FakeStream('bob-local'));
      await when(callA, () => callA.state === 'active' && callB.state === 'active', 'both active');

      net.up = false;
      await when(callA, () => callA.remoteStream?.id === 'relay-0' && callB.remoteStream?.id === 'relay-0', 'relay');
      // ICE gives up on the blocked path: both peer connections are gone, the relay carries on.
      for (const p of [...FakePeer.all]) p.fail();
      // The caller tries again (and again: retries over a dead network do not connect within connectMs).
      await when(callA, () => FakePeer.made.caller >= 3, 'two direct retries', 20_000);
      expect([callA.state, callB.state]).toEqual(['active', 'active']);
      expect(callA.remoteStream?.id).toBe('relay-0');

      net.up = true;
      await when(
        callA,
        () =>
          /^direct-at-caller#\d$/.test(callA.remoteStream?.id ?? '') &&
          /^direct-at-callee#\d$/.test(callB.remoteStream?.id ?? ''),
        'direct again over a retried connection',
        20_000,
      );
      await when(callA, () => engineA.live === 0 && engineB.live === 0, 'relay pipelines closed');
      // Only the caller starts attempts; the callee answers each one with a fresh connection.
      expect(FakePeer.made.callee).toBeGreaterThanOrEqual(2);
      expect(FakePeer.made.callee).toBeLessThanOrEqual(FakePeer.made.caller);
      expect([callA.state, callB.state]).toEqual(['active', 'active']);
    },
  );
});
