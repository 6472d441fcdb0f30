// The relay media congestion controller on a simulated link: a FIFO bottleneck of a given capacity (the relay's
// queue and the TCP path behind it), one-way delay, receiver feedback every 100 ms. Simulated time, 1 ms steps.
import { describe, expect, it } from 'vitest';
import { CongestionController } from '../../../../core/src/call/relay-media/congestion.js';

interface Packet {
  track: 'audio' | 'video';
  bytes: number;
  capturedAt: number;
  /** Bytes of it still to go through the bottleneck. */
  left: number;
}

interface SimResult {
  audioSent: number;
  audioDelivered: number;
  /** Capture → arrival, ms, of frames captured after the warm-up. */
  audioLatency: number[];
  videoLatency: number[];
  videoDelivered: number;
  keyFrames: number;
  audioOnlyAt: number[];
  bitrates: number[];
  cc: CongestionController;
}

/** Capacity in bit/s as a function of time (ms). */
/**
 * `feedbackDelay`: extra delay of each report (ms) on top of the one-way delay, kept in order: a loaded
 * machine whose timers and main thread run late.
 */
function simulate(
  capacity: (t: number) => number,
  durationMs: number,
  warmupMs = 5_000,
  feedbackDelay: () => number = () => 0,
): SimResult {
  const cc = new CongestionController();
  const oneWay = 20;
  const queue: Packet[] = [];
  const inTransit: Array<{ p: Packet; at: number }> = [];
  const feedbacks: Array<{ audio: number; video: number; at: number }> = [];
  const received = { audio: 0, video: 0 };
  const r: SimResult = {
    audioSent: 0,
    audioDelivered: 0,
    audioLatency: [],
    videoLatency: [],
    videoDelivered: 0,
    keyFrames: 0,
    audioOnlyAt: [],
    bitrates: [],
    cc,
  };
  let frameIndex = 0;
  let credit = 0;
  for (let t = 0; t < durationMs; t++) {
    // Sender: audio every 20 ms (never skipped), video captured at 30 fps.
    if (t % 20 === 0) {
      const bytes = 24 + 80;
      expect(cc.admit('audio', 0, t)).toBe(true);
      queue.push({ track: 'audio', bytes, capturedAt: t, left: bytes });
      cc.onSent('audio', bytes, false, t);
      r.audioSent++;
    }
    if (Math.floor((t * 30) / 1000) !== Math.floor(((t - 1) * 30) / 1000) && !cc.skipVideo(t)) {
      const target = cc.target();
      const key = cc.wantsKeyFrame(t);
      const layer = key ? 0 : [0, 2, 1, 2][frameIndex % 4]!;
      frameIndex = key ? 1 : frameIndex + 1;
      const size = Math.round((target.bitrate / 8 / target.fps) * (key ? 4 : layer === 0 ? 1.5 : 0.8)) + 24;
      if (cc.admit('video', layer, t)) {
        queue.push({ track: 'video', bytes: size, capturedAt: t, left: size });
        cc.onSent('video', size, key, t);
        if (key) r.keyFrames++;
      }
    }
    // Bottleneck: capacity/1000 bits per ms.
    credit += capacity(t) / 8 / 1000;
    while (queue.length > 0 && credit > 0) {
      const head = queue[0]!;
      const take = Math.min(head.left, credit);
      head.left -= take;
      credit -= take;
      if (head.left <= 0) {
        queue.shift();
        inTransit.push({ p: head, at: t + oneWay });
      }
    }
    if (queue.length === 0) credit = Math.min(credit, 0);
    // Receiver.
    while (inTransit.length > 0 && inTransit[0]!.at <= t) {
      const { p } = inTransit.shift()!;
      received[p.track] += p.bytes;
      const late = p.capturedAt >= warmupMs;
      if (p.track === 'audio') {
        r.audioDelivered++;
        if (late) r.audioLatency.push(t - p.capturedAt);
      } else {
        r.videoDelivered++;
        if (late) r.videoLatency.push(t - p.capturedAt);
      }
    }
    if (t % 100 === 0) {
      const at = Math.max(feedbacks.at(-1)?.at ?? 0, t + oneWay + feedbackDelay());
      feedbacks.push({ audio: received.audio >>> 0, video: received.video >>> 0, at });
    }
    while (feedbacks.length > 0 && feedbacks[0]!.at <= t) {
      const f = feedbacks.shift()!;
      cc.onFeedback(f.audio, f.video, t);
    }
    if (t % 100 === 0) {
      r.bitrates.push(cc.target().bitrate);
      if (cc.target().audioOnly) r.audioOnlyAt.push(t);
    }
  }
  return r;
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.95)] ?? 0;
}

describe('relay media congestion control (simulated link)', () => {
  it('at 300 kbit/s: latency p95 under 500 ms, every audio frame delivered, video keeps flowing', () => {
    const r = simulate(() => 300_000, 30_000);
    expect(p95(r.audioLatency)).toBeLessThan(500);
    expect(p95(r.videoLatency)).toBeLessThan(500);
    // Audio is never dropped: all but those still in flight at the end arrived.
    expect(r.audioSent - r.audioDelivered).toBeLessThan(25);
    // Video still moves (≥ 8 fps over the last 25 s) at a bitrate the link can carry.
    expect(r.videoLatency.length / 25).toBeGreaterThan(8);
    expect(r.bitrates.at(-1)!).toBeLessThan(300_000);
  });

  it('on a fast link with feedback slowed by a loaded machine (80-300 ms late), video is not throttled', () => {
    let seed = 5;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const r = simulate(
      () => 5_000_000,
      30_000,
      5_000,
      () => 80 + random() * 220,
    );
    // A slow feedback loop is not a queue: the bitrate stays up and no frame rate or resolution step is taken.
    expect(Math.min(...r.bitrates.slice(50))).toBeGreaterThan(400_000);
    expect(r.audioOnlyAt).toEqual([]);
    expect(r.videoLatency.length / 25).toBeGreaterThan(25);
  });

  it('without control the same link queues for seconds (what the controller prevents)', () => {
    // The sender keeps 600 kbit/s of video on a 300 kbit/s link: the queue grows without bound.
    let queued = 0;
    let maxDelay = 0;
    for (let t = 0; t < 10_000; t++) {
      queued += 600_000 / 8 / 1000 + 104 / 20;
      queued = Math.max(0, queued - 300_000 / 8 / 1000);
      maxDelay = Math.max(maxDelay, (queued * 8 * 1000) / 300_000);
    }
    expect(maxDelay).toBeGreaterThan(2_000);
  });

  it('on a fast link the bitrate climbs and latency stays near the one-way delay', () => {
    const r = simulate(() => 5_000_000, 30_000);
    expect(r.bitrates.at(-1)!).toBeGreaterThan(1_000_000);
    expect(p95(r.videoLatency)).toBeLessThan(150);
    expect(r.cc.target().scaleDown).toBe(1);
  });

  it('at 50 kbit/s it goes audio only within 4 s, and once the start-up queue drained audio arrives in time', () => {
    // The video sent before the controller reached audio only (~1 s at 600 kbit/s) drains at the ~8 kbit/s
    // audio leaves free: measured after that.
    const r = simulate(() => 50_000, 30_000, 16_000);
    expect(r.audioOnlyAt[0]).toBeLessThan(4_000);
    expect(r.cc.target().audioOnly).toBe(true);
    expect(p95(r.audioLatency)).toBeLessThan(500);
    expect(r.audioSent - r.audioDelivered).toBeLessThan(25);
  });

  it('after audio only, video comes back once the link recovers (after the hold time)', () => {
    const r = simulate((t) => (t < 10_000 ? 50_000 : 2_000_000), 60_000, 50_000);
    expect(r.audioOnlyAt.length).toBeGreaterThan(0);
    expect(r.cc.target().audioOnly).toBe(false);
    expect(r.videoLatency.length).toBeGreaterThan(200);
  });

  it('when the link drops from 5 Mbit/s to 300 kbit/s, latency is bounded again within 3 s', () => {
    const r = simulate((t) => (t < 10_000 ? 5_000_000 : 300_000), 25_000, 13_000);
    expect(p95(r.videoLatency)).toBeLessThan(500);
    expect(p95(r.audioLatency)).toBeLessThan(500);
  });

  it('steps down resolution and frame rate as the bitrate falls, and back up when it recovers', () => {
    const r = simulate((t) => (t < 15_000 ? 150_000 : 5_000_000), 40_000);
    expect(r.bitrates.slice(100, 150).every((b) => b < 250_000)).toBe(true);
    expect(r.cc.target()).toMatchObject({ scaleDown: 1, fps: 30, audioOnly: false });
  });

  it('key frames: at start, on request at most once a second, and every 15 s', () => {
    const cc = new CongestionController();
    expect(cc.wantsKeyFrame(0)).toBe(true);
    cc.onSent('video', 1000, true, 0);
    expect(cc.wantsKeyFrame(100)).toBe(false);
    cc.onKeyRequest(500);
    expect(cc.wantsKeyFrame(500)).toBe(true);
    cc.onSent('video', 1000, true, 510);
    cc.onKeyRequest(900); // within 1 s of the last honoured request: ignored
    expect(cc.wantsKeyFrame(900)).toBe(false);
    cc.onKeyRequest(1600);
    expect(cc.wantsKeyFrame(1600)).toBe(true);
    cc.onSent('video', 1000, true, 1600);
    expect(cc.wantsKeyFrame(16_000)).toBe(false);
    expect(cc.wantsKeyFrame(16_600)).toBe(true);
  });

  it('never drops audio or base-layer video after encoding, only upper temporal layers', () => {
    const cc = new CongestionController();
    cc.onSent('video', 1_000_000, true, 0); // far over the budget
    expect(cc.congested(1)).toBe(true);
    expect(cc.admit('audio', 0, 1)).toBe(true);
    expect(cc.admit('video', 0, 1)).toBe(true);
    expect(cc.admit('video', 1, 1)).toBe(false);
    expect(cc.admit('video', 2, 1)).toBe(false);
    cc.onFeedback(0, 1_000_000, 50);
    expect(cc.congested(51)).toBe(false);
    expect(cc.admit('video', 2, 51)).toBe(true);
  });

  it('reads the receiver counters modulo 2^32', () => {
    const cc = new CongestionController();
    const big = 2 ** 32 + 500;
    cc.onSent('video', big, true, 0);
    cc.onFeedback(0, big >>> 0, 10);
    expect(cc.inflightBytes).toBe(0);
  });
});
