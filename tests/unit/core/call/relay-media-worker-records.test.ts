// The record layer of relay media in the pipeline (the browser's media worker): after the relay channel's key
// agreement the link hands the channel's keys and counters over (RelayTransport.handOff, cloned as a worker
// message would be) and only ferries sealed records; sealing, opening, numbering, feedback and congestion
// control run beside the codecs. The peer sees the same records: a client that seals in its window (an old
// client) interoperates both ways; no plaintext media crosses the link's side; replayed and forged records
// are refused there as they are by the relay transport.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL_HEADER_BYTES } from '../../../../signaling/protocol/index.js';
import type { MediaFrame } from '../../../../core/src/call/relay-media/frame.js';
import { RelayMediaLink } from '../../../../core/src/call/relay-media/link.js';
import {
  emptyRelayMediaStats,
  type RecordLayerHandOff,
  type RelayMediaEngine,
  type RelayMediaPipeline,
  type RelayMediaStartOptions,
  type SendControl,
} from '../../../../core/src/call/relay-media/pipeline.js';
import { PipelineLink } from '../../../../core/src/call/relay-media/record-layer.js';
import type { StreamLike } from '../../../../core/src/call/media-types.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { silentLogger } from '../../../../core/src/platform/types.js';
import { RelayChannelSocket, type ChannelHost } from '../../../../core/src/relay/channel.js';
import { RelayTransport } from '../../../../core/src/session/relay-transport.js';

let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});

/** One end of an in-memory relay channel; `filter` may drop, change or repeat payloads (a hostile relay). */
class MemoryHost implements ChannelHost {
  other!: MemoryHost;
  socket!: RelayChannelSocket;
  filter: (payload: Uint8Array, index: number) => Uint8Array[] = (p) => [p];
  readonly sent: Uint8Array[] = [];
  bufferedAmount = 0;
  #count = 0;
  sendFrame(_channel: number, payload: Uint8Array): void {
    this.sent.push(payload.slice());
    for (const p of this.filter(payload.slice(), this.#count++)) setImmediate(() => this.other.socket.deliver(p));
  }
  sendFramed(channel: number, frame: Uint8Array): void {
    this.sendFrame(channel, frame.subarray(CHANNEL_HEADER_BYTES));
  }
  closeChannel(): void {
    setImmediate(() => this.other.socket.closedByRelay('closed by peer'));
  }
}

const remoteStream = { id: 'remote', getTracks: () => [], getAudioTracks: () => [], getVideoTracks: () => [] };

/** A pipeline double that seals in the window (an old client): what the link gives it, it records. */
class WindowEngine implements RelayMediaEngine {
  options!: RelayMediaStartOptions;
  readonly delivered: MediaFrame[] = [];
  start(options: RelayMediaStartOptions): RelayMediaPipeline {
    this.options = options;
    return {
      remoteStream,
      deliver: (f: MediaFrame) => this.delivered.push({ ...f, payload: f.payload.slice() }),
      control: () => {},
      keyFrame: () => {},
      replaceTrack: () => {},
      stats: () => emptyRelayMediaStats(),
      close: () => {},
    };
  }
}

/**
 * A pipeline double that runs the record layer as the media worker does (PipelineLink), behind a
 * structured clone of what crosses to it, as postMessage makes one.
 */
class WorkerEngine implements RelayMediaEngine {
  options!: RelayMediaStartOptions;
  link: PipelineLink | null = null;
  route: RecordLayerHandOff['route'] | null = null;
  readonly delivered: MediaFrame[] = [];
  readonly controls: SendControl[] = [];
  keyFrames = 0;
  /** Frames the link asked us to encode the old way (must stay empty: nothing goes through the window). */
  closedWith: string | null = null;
  start(options: RelayMediaStartOptions): RelayMediaPipeline {
    this.options = options;
    return {
      remoteStream,
      deliver: () => {
        throw new Error('the window delivered a frame: the record layer is not in the worker');
      },
      control: () => {},
      keyFrame: () => {},
      replaceTrack: () => {},
      stats: () => ({ ...emptyRelayMediaStats(), ...(this.link ? { link: this.link.flow.counters() } : {}) }),
      close: () => this.link?.stop(),
      attachRecordLayer: (handOff: RecordLayerHandOff, write: (sealed: Uint8Array) => void) => {
        this.route = handOff.route ?? null;
        const cloned = structuredClone(handOff);
        this.link = new PipelineLink({
          handOff: cloned,
          write: (sealed) => write(sealed.slice()),
          sink: {
            deliver: (f) => this.delivered.push({ ...f, payload: f.payload.slice() }),
            control: (c) => this.controls.push(c),
            keyFrame: () => this.keyFrames++,
          },
          onClose: (reason) => {
            this.closedWith = reason;
            options.onClosed?.(reason);
          },
          logger: silentLogger,
        });
        return (sealed: Uint8Array) => this.link!.receive(sealed.slice());
      },
    };
  }
  /** The worker's encoder produced a frame. */
  encode(f: Omit<MediaFrame, 'seq'>): void {
    this.link!.flow.send(f);
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

async function transports() {
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
  return { a, b, ta, tb };
}

function link(
  transport: RelayTransport,
  engine: RelayMediaEngine,
): { link: RelayMediaLink; closed: () => string | null } {
  const l = new RelayMediaLink<StreamLike>({ transport, engine, tracks: [], logger: silentLogger });
  links.push(l);
  let closed: string | null = null;
  l.on('closed', (r) => (closed = r));
  return { link: l, closed: () => closed };
}

/** A payload no record may show in clear: 64 bytes of a pattern. */
const MARK = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
const video = (n: number, key = false) => ({
  track: 'video' as const,
  timestampUs: n * 33_333,
  captureMs: 1_000 + n,
  key,
  layer: 0,
  channels: 0,
  payload: Uint8Array.from([n, ...MARK]),
});

function containsMark(bytes: Uint8Array): boolean {
  outer: for (let i = 0; i + MARK.length <= bytes.length; i++) {
    for (let j = 0; j < MARK.length; j++) if (bytes[i + j] !== MARK[j]) continue outer;
    return true;
  }
  return false;
}

/** Waits until `check` holds (WebCrypto runs on Node's thread pool: a loaded machine takes a while). */
async function until(check: () => boolean, timeout = 10_000): Promise<void> {
  await vi.waitFor(() => expect(check()).toBe(true), { timeout, interval: 2 });
}

describe('relay media records sealed in the media worker', () => {
  it('interoperates with a client that seals in its window, both ways; nothing is sealed or opened by the link', async () => {
    const { a, ta, tb } = await transports();
    const wa = new WorkerEngine();
    const wb = new WindowEngine();
    const la = link(ta, wa);
    const lb = link(tb, wb);
    await until(() => wa.link !== null);
    expect(la.link.stats().recordLayer).toBe('pipeline');
    expect(lb.link.stats().recordLayer).toBe('window');
    // The relay channel is named, so a platform whose media connection lives off the window can route it.
    expect(wa.route).toEqual({ peer: bob.id, tag: 'cm.test' });
    expect(wa.keyFrames).toBeGreaterThan(0); // a key frame at start, asked for in the worker
    wa.encode(video(1, true));
    wa.encode({ ...video(2), track: 'audio', channels: 2, key: true });
    wa.encode(video(3));
    await until(() => wb.delivered.length === 3);
    expect(wb.delivered.map((f) => [f.track, f.seq, f.key, f.captureMs, f.payload[0]])).toEqual([
      ['video', 0, true, 1_001, 1],
      ['audio', 0, true, 1_002, 2],
      ['video', 1, false, 1_003, 3],
    ]);
    // The other way: the old client's window seals, the worker opens.
    wb.options.onFrame(video(4, true));
    wb.options.onFrame(video(5));
    await until(() => wa.delivered.length === 2);
    expect(wa.delivered.map((f) => [f.seq, f.payload[0]])).toEqual([
      [0, 4],
      [1, 5],
    ]);
    // Feedback from the old client reaches the worker's congestion control, and the worker reports back.
    await until(() => la.link.stats().inflightBytes === 0 && la.link.stats().rttMs !== null, 20_000);
    await until(() => lb.link.stats().rttMs !== null, 20_000);
    expect(la.link.stats().bytesSent).toBeGreaterThan(3 * 64);
    // One record per frame, all ciphertext: the window-side transport sealed none of them.
    expect(ta.stats.framesSent).toBe(0);
    expect(a.sent.some(containsMark)).toBe(false);
    expect(la.closed()).toBeNull();
  });

  it('frames the window opened before the hand-off come first, in order, then the worker opens the rest', async () => {
    const { ta, tb } = await transports();
    const wb = new WindowEngine();
    link(tb, wb);
    wb.options.onFrame(video(1, true));
    wb.options.onFrame(video(2));
    // Alice's transport opens these before her link exists.
    await until(() => ta.stats.framesReceived === 2);
    const wa = new WorkerEngine();
    link(ta, wa);
    wb.options.onFrame(video(3));
    await until(() => wa.delivered.length === 3);
    expect(wa.delivered.map((f) => f.seq)).toEqual([0, 1, 2]);
  });

  it('both sides in workers: media and feedback flow both ways', async () => {
    const { ta, tb } = await transports();
    const wa = new WorkerEngine();
    const wb = new WorkerEngine();
    const la = link(ta, wa);
    const lb = link(tb, wb);
    await until(() => wa.link !== null && wb.link !== null);
    for (let i = 1; i <= 5; i++) {
      wa.encode(video(i, i === 1));
      wb.encode(video(i, i === 1));
    }
    await until(() => wa.delivered.length === 5 && wb.delivered.length === 5);
    await until(() => la.link.stats().rttMs !== null && lb.link.stats().rttMs !== null, 20_000);
  });

  it('a replayed record from the relay is refused in the worker and ends the link with a reason', async () => {
    const { b, ta, tb } = await transports();
    const wa = new WorkerEngine();
    const wb = new WindowEngine();
    const la = link(ta, wa);
    link(tb, wb);
    await until(() => wa.link !== null);
    let kept: Uint8Array | null = null;
    b.filter = (p) => {
      if (kept === null) {
        kept = p;
        return [p];
      }
      return [p, kept]; // the relay replays the first record after every later one
    };
    wb.options.onFrame(video(1, true));
    await until(() => wa.delivered.length === 1);
    wb.options.onFrame(video(2));
    await until(() => la.closed() !== null);
    expect(la.closed()).toMatch(/refused a relay record: replay/);
    expect(wa.delivered.map((f) => f.seq)).toEqual([0, 1]);
  });

  it('a forged record (one bit flipped by the relay) is refused in the worker', async () => {
    const { b, ta, tb } = await transports();
    const wa = new WorkerEngine();
    const wb = new WindowEngine();
    const la = link(ta, wa);
    link(tb, wb);
    await until(() => wa.link !== null);
    b.filter = (p) => {
      const out = p.slice();
      out[out.length - 1]! ^= 1;
      return [out];
    };
    wb.options.onFrame(video(1, true));
    await until(() => la.closed() !== null);
    expect(la.closed()).toMatch(/refused a relay record: authentication failed/);
    expect(wa.delivered).toHaveLength(0);
  });
});
