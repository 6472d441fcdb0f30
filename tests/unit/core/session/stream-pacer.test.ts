// ReliableStream with a pacer (StreamPacer; YieldPacer while a call is up): on a relay link it writes no more
// than the pacer allows in flight, still delivers every frame exactly once and in order (also across a link
// that dies mid-flight), lets chat frames through, ignores the pacer on a direct link, and goes on at full
// speed when the pacer is removed.
import { describe, expect, it } from 'vitest';
import { ReliableStream, type StreamPacer } from '../../../../core/src/session/stream.js';
import { YieldPacer } from '../../../../core/src/session/yield-pacer.js';
import { memoryPair, seeded } from './memory-transport.js';

const FILE = 3;
const CHAT = 1;

/** A fixed allowance that records what the stream reported (positions are cumulative stream bytes). */
class FixedPacer implements StreamPacer {
  sentTo = 0;
  ackedTo = 0;
  asked = 0;
  /** The most bytes written and unacknowledged at once, beyond a lone frame. */
  worst = 0;
  constructor(readonly limit: number) {}
  allows(inflight: number, size: number): boolean {
    this.asked++;
    return inflight <= 0 || inflight + size <= this.limit;
  }
  onSent(upTo: number): void {
    const before = this.sentTo - this.ackedTo;
    this.sentTo = Math.max(this.sentTo, upTo);
    if (before > 0) this.worst = Math.max(this.worst, this.sentTo - this.ackedTo);
  }
  onAcked(upTo: number): void {
    this.ackedTo = Math.max(this.ackedTo, upTo);
  }
}

function payload(i: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, i);
  out.fill(i & 0xff, 4);
  return out;
}

function index(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0);
}

function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out: ${what}`));
      else setImmediate(tick);
    };
    tick();
  });
}

function pair(path: 'relay' | 'direct', seed: number) {
  const a = new ReliableStream({ windowBytes: 1024 * 1024 });
  const b = new ReliableStream({ windowBytes: 1024 * 1024 });
  const [ta, tb] = memoryPair(seeded(seed), path);
  a.attach(ta, { current: true });
  b.attach(tb, { current: true });
  const files: number[] = [];
  const chats: number[] = [];
  b.onFrame(FILE, (p) => files.push(index(p)));
  b.onFrame(CHAT, (p) => chats.push(index(p)));
  return { a, b, ta, tb, files, chats };
}

describe('ReliableStream with a pacer', () => {
  it('on a relay link writes no more than the pacer allows in flight; every frame arrives once, in order', async () => {
    const { a, files, chats } = pair('relay', 1);
    const pacer = new FixedPacer(100_000);
    a.setPacer(pacer);
    expect(a.yielding).toBe(true);
    const total = 200;
    for (let i = 0; i < total; i++) {
      await a.send(FILE, payload(i, 32 * 1024));
      if (i === 50) await a.send(CHAT, payload(1, 100));
    }
    await until(() => files.length === total, 20_000, 'every file frame');
    expect(files).toEqual([...Array(total).keys()]);
    expect(chats).toEqual([1]);
    expect(pacer.asked).toBeGreaterThan(total);
    expect(pacer.worst).toBeLessThanOrEqual(100_000);
    expect(pacer.worst).toBeGreaterThan(50_000); // it did use the allowance
  });

  it('without the pacer the same stream keeps far more in flight (what the pacer prevents)', async () => {
    const { a, files } = pair('relay', 2);
    const observer = new FixedPacer(Infinity);
    a.setPacer(observer);
    for (let i = 0; i < 100; i++) await a.send(FILE, payload(i, 32 * 1024));
    await until(() => files.length === 100, 20_000, 'every file frame');
    expect(observer.worst).toBeGreaterThan(300_000);
  });

  it('ignores the pacer on a direct link', async () => {
    const { a, files } = pair('direct', 3);
    const pacer = new FixedPacer(1);
    a.setPacer(pacer);
    expect(a.yielding).toBe(false);
    for (let i = 0; i < 50; i++) await a.send(FILE, payload(i, 32 * 1024));
    await until(() => files.length === 50, 20_000, 'every file frame');
    expect(pacer.asked).toBe(0);
  });

  it('goes on at once when the pacer is removed, and across a relay link that dies mid-flight', async () => {
    const { a, b, ta, files } = pair('relay', 4);
    a.setPacer(new YieldPacer());
    const total = 120;
    const sending = (async () => {
      for (let i = 0; i < total; i++) await a.send(FILE, payload(i, 32 * 1024));
    })();
    await until(() => files.length >= 30, 20_000, 'the first frames');
    ta.kill(0.5); // some of what was in flight arrives, some is lost
    const [ta2, tb2] = memoryPair(seeded(5), 'relay');
    a.attach(ta2, { current: true });
    b.attach(tb2, { current: true });
    await until(() => files.length >= 60, 20_000, 'frames on the new link');
    a.setPacer(null);
    expect(a.yielding).toBe(false);
    await sending;
    await until(() => files.length === total, 20_000, 'every file frame');
    expect(files).toEqual([...Array(total).keys()]);
  });

  it('a pacer that spaces writes in time is resumed by its own timer, not only by acks', async () => {
    const { a, files } = pair('relay', 6);
    // Any amount in flight, but one frame per 30 ms: the acks alone would release frames in bursts.
    let next = 0;
    const times: number[] = [];
    const spaced: StreamPacer = {
      allows: () => Date.now() >= next,
      // At least 1 once it refused (as YieldPacer): the clock may pass `next` between the two questions, and 0
      // means "only an ack frees it" to the stream.
      waitMs: () => Math.max(1, next - Date.now()),
      onSent: () => {
        times.push(Date.now());
        next = Date.now() + 30;
      },
      onAcked: () => {},
    };
    a.setPacer(spaced);
    for (let i = 0; i < 20; i++) await a.send(FILE, payload(i, 32 * 1024));
    await until(() => files.length === 20, 20_000, 'every file frame');
    expect(files).toEqual([...Array(20).keys()]);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(29); // timers may fire a little early in Node
    a.close();
  });
});
