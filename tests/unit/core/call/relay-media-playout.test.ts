import { describe, expect, it } from 'vitest';
import { PlayoutClock, VideoPlayout } from '../../../../core/src/call/relay-media/playout.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feeds 20 ms audio frames with a transit of `fixed + jitter()`, sender clock `offset` ahead of ours. */
function feed(clock: PlayoutClock, fromMs: number, toMs: number, fixed: number, jitter: () => number, offset = 0) {
  const late: number[] = [];
  for (let c = fromMs; c < toMs; c += 20) {
    const arrival = c - offset + fixed + jitter();
    const due = clock.dueAt(c + offset);
    if (due !== null && arrival > due) late.push(arrival - due);
    clock.onArrival(c + offset, arrival);
  }
  return late;
}

describe('relay media playout clock', () => {
  it('on a steady path the delay sits at the 40 ms floor', () => {
    const clock = new PlayoutClock();
    feed(clock, 0, 5_000, 30, () => 0);
    expect(clock.delayMs).toBe(40);
    expect(clock.dueAt(10_000)).toBe(10_000 + 30 + 40);
  });

  it('follows the arrival spread so almost no audio frame is late, and is independent of clock offset', () => {
    const r = rng(3);
    const clock = new PlayoutClock();
    feed(clock, 0, 3_000, 30, () => r() * 120, 123_456_789);
    const late = feed(clock, 3_000, 20_000, 30, () => r() * 120, 123_456_789);
    expect(clock.delayMs).toBeGreaterThan(100);
    expect(clock.delayMs).toBeLessThanOrEqual(140);
    // Under 1 % of frames arrive after they were due (underruns).
    expect(late.length / 850).toBeLessThan(0.01);
  });

  it('is clamped to 300 ms however bad the jitter', () => {
    const r = rng(9);
    const clock = new PlayoutClock();
    feed(clock, 0, 10_000, 30, () => r() * 2_000);
    expect(clock.delayMs).toBe(300);
  });

  it('grows at once when jitter appears and shrinks slowly when it goes', () => {
    const r = rng(1);
    const clock = new PlayoutClock();
    feed(clock, 0, 3_000, 30, () => 0);
    feed(clock, 3_000, 4_000, 30, () => r() * 200);
    const grown = clock.delayMs;
    expect(grown).toBeGreaterThan(150);
    feed(clock, 4_000, 8_000, 30, () => 0); // the old samples leave the 3 s window at ~7 s
    expect(clock.delayMs).toBeLessThan(grown);
    expect(clock.delayMs).toBeGreaterThan(100); // ~20 ms/s, not straight back to the floor
    feed(clock, 8_000, 30_000, 30, () => 0);
    expect(clock.delayMs).toBe(40);
  });
});

describe('relay media video playout', () => {
  it('shows a frame when due against the audio clock, the newest due one, and drops older due ones as late', () => {
    const clock = new PlayoutClock();
    feed(clock, 0, 1_000, 30, () => 0); // due = capture + 30 + 40
    const video = new VideoPlayout<string>(clock);
    video.push(1_000, 'a');
    video.push(1_066, 'c');
    video.push(1_033, 'b'); // out of order: queued by capture time
    expect(video.take(1_069)).toEqual({ show: null, late: [] });
    expect(video.take(1_070)).toEqual({ show: 'a', late: [] });
    expect(video.nextDue()).toBe(1_033 + 70);
    // The consumer was slow: both b and c are due now, c is shown and b dropped.
    expect(video.take(1_200)).toEqual({ show: 'c', late: ['b'] });
    expect(video.dropped).toBe(1);
    expect(video.nextDue()).toBeNull();
  });

  it('stays bounded, handing back what it dropped', () => {
    const clock = new PlayoutClock();
    const video = new VideoPlayout<number>(clock, 3);
    const dropped = [1, 2, 3, 4, 5].flatMap((n) => video.push(n, n));
    expect(dropped).toEqual([1, 2]);
    expect(video.drain()).toEqual([3, 4, 5]);
  });
});
