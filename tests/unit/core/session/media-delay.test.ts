// MediaDelay (core/src/session/media-delay.ts): the queue a call's relay media sees, from its round trips: the
// least round trip of the last second above the least of the last 30 s; a lone slow reading (encoding, the
// feedback period) is not a queue, a standing one is; no reading once the call's readings stop.
import { describe, expect, it } from 'vitest';
import { MediaDelay } from '../../../../core/src/session/media-delay.js';

describe('MediaDelay', () => {
  it('reads a standing queue, not a few slow readings, and nothing once readings stop', () => {
    let now = 0;
    const d = new MediaDelay({ now: () => now });
    expect(d.queueingMs()).toBeNull();
    // Quiet path: 40 ms plus up to 100 ms of feedback period, every 125 ms.
    for (let i = 0; i < 40; i++, now += 125) d.record(40 + ((i * 37) % 100));
    expect(d.queueingMs()!).toBeLessThan(20);
    d.record(400); // one reading held up by a busy encoder
    expect(d.queueingMs()!).toBeLessThan(20);
    // A 60 ms queue delays every reading: within the second it shows.
    for (let i = 0; i < 10; i++, now += 125) d.record(100 + ((i * 37) % 100));
    expect(d.queueingMs()!).toBeGreaterThanOrEqual(55);
    d.record(null); // the call left the relay: ignored
    now += 2_500;
    expect(d.queueingMs()).toBeNull();
  });

  it('the base ages out: after a path change the new least round trip is the base', () => {
    let now = 0;
    const d = new MediaDelay({ now: () => now, baseWindowMs: 6_000 });
    for (; now < 3_000; now += 125) d.record(20);
    for (; now < 12_000; now += 125) d.record(80);
    expect(d.queueingMs()).toBe(0);
  });
});
