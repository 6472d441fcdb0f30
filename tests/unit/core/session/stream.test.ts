import { describe, expect, it } from 'vitest';
import { MAX_STREAM_PAYLOAD, ReliableStream } from '../../../../core/src/session/stream.js';
import { decodeFrame, encodeData } from '../../../../core/src/session/stream-codec.js';
import { memoryPair, seeded, type MemoryEnd, type Random } from './memory-transport.js';

const KIND = 7;

function numbered(index: number, random: Random, maxExtra: number): Uint8Array {
  const extra = Math.floor(random() * maxExtra);
  const out = new Uint8Array(4 + extra);
  new DataView(out.buffer).setUint32(0, index, false);
  for (let i = 4; i < out.length; i++) out[i] = (index + i) & 0xff;
  return out;
}

function indexOf(payload: Uint8Array): number {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const index = view.getUint32(0, false);
  for (let i = 4; i < payload.length; i++)
    if (payload[i] !== ((index + i) & 0xff)) throw new Error(`payload ${index} corrupted`);
  return index;
}

/** Collects numbered frames on one stream; resolves once `total` arrived, records any disorder. */
function collector(stream: ReliableStream, total: number) {
  const received: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  stream.onFrame(KIND, (payload) => {
    received.push(indexOf(payload));
    if (received.length === total) resolve();
  });
  return { received, done };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]);
}

describe('ReliableStream over an in-memory transport pair', () => {
  it('delivers in order over one transport, with acks freeing the window', async () => {
    const random = seeded(1);
    const a = new ReliableStream({ windowBytes: 32 * 1024 });
    const b = new ReliableStream({ windowBytes: 32 * 1024 });
    const [ta, tb] = memoryPair(random);
    a.attach(ta, { current: true });
    b.attach(tb, { current: true });
    const total = 500;
    const got = collector(b, total);
    for (let i = 0; i < total; i++) await a.send(KIND, numbered(i, random, 1024));
    await withTimeout(got.done, 10_000, 'delivery');
    expect(got.received).toEqual([...Array(total).keys()]);
    await withTimeout(a.flushed(), 5_000, 'acks');
    expect(a.stats.unackedFrames).toBe(0);
    expect(a.stats.framesResent).toBe(0);
    a.close();
    b.close();
  });

  it('holds frames sent before any transport and delivers them once one attaches', async () => {
    const random = seeded(2);
    const a = new ReliableStream();
    const b = new ReliableStream();
    const got = collector(b, 20);
    for (let i = 0; i < 20; i++) await a.send(KIND, numbered(i, random, 100));
    const [ta, tb] = memoryPair(random);
    b.attach(tb, { current: true });
    a.attach(ta, { current: true });
    await withTimeout(got.done, 5_000, 'delivery');
    expect(got.received).toEqual([...Array(20).keys()]);
    a.close();
    b.close();
  });

  it('runs onAcked once per frame, only after the peer has it, waiting frames included', async () => {
    const random = seeded(9);
    // 8 of these 1 KiB frames fill the window: the rest wait for acks before they are queued.
    const a = new ReliableStream({ windowBytes: 8 * (1024 + 18) });
    const b = new ReliableStream();
    const got = collector(b, 40);
    const acked: number[] = [];
    const early: number[] = [];
    const sends = Array.from({ length: 40 }, (_, i) => {
      const payload = numbered(i, random, 1);
      const filled = new Uint8Array(1024);
      filled.set(payload);
      for (let j = payload.length; j < filled.length; j++) filled[j] = (i + j) & 0xff;
      return a.send(KIND, filled, {
        transfer: true,
        onAcked: () => {
          if (!got.received.includes(i)) early.push(i);
          acked.push(i);
        },
      });
    });
    await new Promise((r) => setImmediate(r));
    expect(acked).toEqual([]); // no transport yet: nothing can have been acknowledged
    const [ta, tb] = memoryPair(random);
    b.attach(tb, { current: true });
    a.attach(ta, { current: true });
    await Promise.all(sends);
    await withTimeout(got.done, 5_000, 'delivery');
    await withTimeout(a.flushed(), 5_000, 'acks');
    expect(early).toEqual([]);
    expect(acked).toEqual([...Array(40).keys()]);
    a.close();
    b.close();
  });

  it('rides its acks on the DATA a bulk receiver sends back each MiB: no standalone ACK meanwhile', async () => {
    const random = seeded(21);
    const a = new ReliableStream();
    // No delayed ACK in this test: only the byte threshold could send a standalone one.
    const b = new ReliableStream({ ackDelayMs: 60_000 });
    const [ta, tb] = memoryPair(random, 'direct', 1024 * 1024);
    let standalone = 0;
    ta.onFrame((f) => {
      if (decodeFrame(f)?.type === 'ack') standalone++;
    });
    b.attach(tb, { current: true });
    a.attach(ta, { current: true });
    const MiB = 1024 * 1024;
    const total = 32 * MiB;
    let got = 0;
    let replied = 0;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    a.onFrame(KIND + 1, () => {});
    b.onFrame(KIND, (payload) => {
      got += payload.length;
      // As the file receiver does: its ack follows each MiB once written (later than the frame's arrival).
      if (got - replied >= MiB) {
        replied = got;
        setImmediate(() => void b.send(KIND + 1, new Uint8Array(16)));
      }
      if (got === total) resolve();
    });
    for (let i = 0; i < total / (128 * 1024); i++) await a.send(KIND, new Uint8Array(128 * 1024));
    await withTimeout(done, 10_000, 'delivery');
    await withTimeout(a.flushed(), 10_000, 'acks');
    expect(standalone).toBe(0);
    a.close();
    b.close();
  });

  it("fills a transport up to its own highWater, not the stream's transportHighWater", async () => {
    const random = seeded(3);
    const run = async (own: number | undefined): Promise<number> => {
      const a = new ReliableStream({ windowBytes: 4 * 1024 * 1024, transportHighWater: 64 * 1024 });
      const b = new ReliableStream({ windowBytes: 4 * 1024 * 1024 });
      const [ta, tb] = memoryPair(random);
      if (own !== undefined) ta.highWater = own;
      a.attach(ta, { current: true });
      b.attach(tb, { current: true });
      const got = collector(b, 64);
      for (let i = 0; i < 64; i++) await a.send(KIND, numbered(i, random, 16 * 1024));
      await withTimeout(got.done, 10_000, 'delivery');
      expect(got.received).toEqual([...Array(64).keys()]);
      a.close();
      b.close();
      return ta.peakQueued;
    };
    // 64 frames of up to 16 KiB sent at once (~0.5 MiB): the stream stops writing once the transport holds
    // more than the mark, so the peak is the mark plus at most one frame.
    const streamMark = await run(undefined);
    expect(streamMark).toBeLessThanOrEqual(64 * 1024 + 17 * 1024);
    const ownMark = await run(256 * 1024);
    expect(ownMark).toBeGreaterThan(64 * 1024 + 17 * 1024);
    expect(ownMark).toBeLessThanOrEqual(256 * 1024 + 17 * 1024);
  });

  it('applies backpressure: send() waits while the window is full and no transport takes data', async () => {
    const a = new ReliableStream({ windowBytes: 10_000 });
    let admitted = 0;
    const sends = Array.from({ length: 10 }, () => a.send(KIND, new Uint8Array(2_000)).then(() => admitted++));
    await new Promise((r) => setImmediate(r));
    // 2018-byte frames: four fit in 10,000 bytes, the rest wait.
    expect(admitted).toBe(4);
    expect(a.stats.unackedFrames).toBe(4);
    a.close();
    await Promise.allSettled(sends);
  });

  it('rejects bad kinds and oversize payloads, and ignores malformed frames', async () => {
    const a = new ReliableStream();
    await expect(a.send(0, new Uint8Array(1))).rejects.toThrow(/kind/);
    await expect(a.send(256, new Uint8Array(1))).rejects.toThrow(/kind/);
    await expect(a.send(1, new Uint8Array(MAX_STREAM_PAYLOAD + 1))).rejects.toThrow(/larger/);
    expect(decodeFrame(new Uint8Array([9, 1, 2]))).toBeNull();
    expect(decodeFrame(encodeData(1, 1, 5, new Uint8Array(3)).subarray(0, 10))).toBeNull();
    const b = new ReliableStream();
    const [ta, tb] = memoryPair(seeded(3));
    const got = collector(b, 1);
    b.attach(tb, { current: true });
    ta.send(new Uint8Array([1, 2, 3])); // garbage from a hostile peer
    ta.send(new Uint8Array(0));
    a.attach(ta, { current: true });
    await a.send(KIND, numbered(0, seeded(4), 10));
    await withTimeout(got.done, 5_000, 'delivery after garbage');
    expect(got.received).toEqual([0]);
    a.close();
    b.close();
  });

  // Property-style: random transport switches, transports dying with random in-flight loss, old
  // transports lingering (duplicates), asymmetric choice of the current transport, both directions.
  for (const seed of process.env.STREAM_SEEDS
    ? Array.from({ length: Number(process.env.STREAM_SEEDS) }, (_, i) => 1000 + i)
    : [11, 12, 13, 14, 15, 16]) {
    it(`exactly once and in order across random switches, drops and duplicates (seed ${seed})`, async () => {
      const random = seeded(seed);
      const total = 400;
      const a = new ReliableStream({ windowBytes: 48 * 1024, ackDelayMs: 2 });
      const b = new ReliableStream({ windowBytes: 48 * 1024, ackDelayMs: 2 });
      const atB = collector(b, total);
      const atA = collector(a, total);
      const live: Array<[MemoryEnd, MemoryEnd]> = [];

      const newLink = (): void => {
        const [ta, tb] = memoryPair(random, random() < 0.5 ? 'direct' : 'relay', 4 * 1024);
        live.push([ta, tb]);
        // Sometimes only one side makes it current at first (the sides decide independently).
        a.attach(ta, { current: random() < 0.8 });
        setImmediate(() => b.attach(tb, { current: true }));
        setImmediate(() => a.setCurrent(ta.closed ? null : ta));
      };
      const chaos = (): void => {
        const old = live.shift();
        newLink();
        if (!old) return;
        const roll = random();
        if (roll < 0.4)
          old[0].kill(random()); // dies now, losing part of what was in flight
        else if (roll < 0.7)
          setTimeout(() => old[1].kill(1), 5); // lingers: duplicates arrive
        else live.unshift(old); // stays open beside the new one
      };

      newLink();
      let switches = 0;
      const sender = async (s: ReliableStream, seedOffset: number): Promise<void> => {
        const r = seeded(seed * 100 + seedOffset);
        for (let i = 0; i < total; i++) {
          await s.send(KIND, numbered(i, r, 3000));
          if (r() < 0.03 && switches < 40) {
            switches++;
            chaos();
          }
        }
      };
      await withTimeout(Promise.all([sender(a, 1), sender(b, 2), atA.done, atB.done]), 20_000, `seed ${seed}`);
      await withTimeout(Promise.all([a.flushed(), b.flushed()]), 10_000, 'final acks');
      for (const [x] of live) x.close();

      expect(atB.received).toEqual([...Array(total).keys()]);
      expect(atA.received).toEqual([...Array(total).keys()]);
      expect(switches).toBeGreaterThan(3);
      a.close();
      b.close();
    });
  }

  it('re-sends unacknowledged frames to a restarted peer (new epoch)', async () => {
    const random = seeded(21);
    const a = new ReliableStream();
    let b = new ReliableStream();
    const [t1a, t1b] = memoryPair(random);
    a.attach(t1a, { current: true });
    b.attach(t1b, { current: true });
    const first = collector(b, 5);
    for (let i = 0; i < 5; i++) await a.send(KIND, numbered(i, random, 10));
    await withTimeout(first.done, 5_000, 'first batch');
    await withTimeout(a.flushed(), 5_000, 'first acks');
    // B "restarts": its transport dies with frames in flight that it never saw.
    t1a.kill(0);
    b.close();
    for (let i = 5; i < 8; i++) await a.send(KIND, numbered(i, random, 10));
    let restarts = 0;
    a.on('peer-restart', () => restarts++);
    b = new ReliableStream();
    const second = collector(b, 3);
    const [t2a, t2b] = memoryPair(random);
    b.attach(t2b, { current: true });
    a.attach(t2a, { current: true });
    await withTimeout(second.done, 5_000, 'after restart');
    expect(second.received).toEqual([5, 6, 7]);
    expect(restarts).toBe(1);
    a.close();
    b.close();
  });
});
