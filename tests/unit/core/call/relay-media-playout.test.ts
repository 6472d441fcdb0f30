import { describe, expect, it } from 'vitest';
import { AudioPlayout, PlayoutClock, VideoPlayout } from '../../../../core/src/call/relay-media/playout.js';
import {
  CaptureClock,
  EncoderTimeline,
  GapMeter,
  PeakMeter,
  SpreadMeter,
} from '../../../../core/src/call/relay-media/stages.js';

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

describe('relay media playout clock following a downstream audio buffer', () => {
  it('puts video where the audio actually plays: mean transit beyond the base plus the buffer, not a second spread on top', () => {
    const r = rng(5);
    const clock = new PlayoutClock();
    feed(clock, 0, 3_000, 30, () => r() * 120);
    // Our own jitter buffer: the spread's 98th percentile plus the margin.
    expect(clock.delayMs).toBeGreaterThan(120);
    // The audio plays out of the loopback receiver, which holds 70 ms on average beyond each frame's arrival.
    clock.followAudioBuffer(70);
    feed(clock, 3_000, 6_000, 30, () => r() * 120);
    // Mean transit beyond the base is ~60 ms (uniform 0–120): audio plays ~130 ms after the base.
    expect(clock.delayMs).toBeGreaterThan(115);
    expect(clock.delayMs).toBeLessThan(145);
    expect(clock.dueAt(10_000)! - 10_000 - 30).toBeCloseTo(clock.delayMs, 0);
    // The figure follows the downstream buffer both ways at once (it is already an average).
    clock.followAudioBuffer(10);
    expect(clock.delayMs).toBeLessThan(85);
    clock.followAudioBuffer(500);
    expect(clock.delayMs).toBe(300); // clamped like our own
    // Back to being the jitter buffer ourselves.
    clock.followAudioBuffer(null);
    expect(clock.delayMs).toBeGreaterThan(120);
    expect(clock.delayMs).toBeLessThan(300);
  });

  it('on a steady path with an idle downstream buffer, video is due at the base: no floor added', () => {
    const clock = new PlayoutClock();
    clock.followAudioBuffer(0);
    feed(clock, 0, 2_000, 30, () => 0);
    expect(clock.delayMs).toBe(0);
    expect(clock.dueAt(5_000)).toBe(5_000 + 30);
  });
});

describe('relay media video lead over a high audio buffer', () => {
  it('a downstream audio buffer higher than the spread needs: video leads its audio by 60 ms at most', () => {
    const clock = new PlayoutClock();
    clock.followAudioBuffer(140); // the loopback's NetEq still high after a start-up stall
    feed(clock, 0, 3_000, 30, () => 0); // a steady path: the spread needs the 40 ms floor
    expect(clock.delayMs).toBe(140);
    expect(clock.videoDelayMs).toBe(80);
    expect(clock.videoDueAt(10_000)).toBe(clock.dueAt(10_000)! - 60);
    const video = new VideoPlayout<string>(clock);
    video.push(5_000, 'f');
    expect(video.nextDue()).toBe(5_000 + 30 + 80);
    expect(video.take(5_109).show).toBeNull();
    expect(video.take(5_110).show).toBe('f');
  });

  it('never leads by more than the spread allows: with jitter the video waits as the audio would', () => {
    const r = rng(11);
    const clock = new PlayoutClock();
    clock.followAudioBuffer(90);
    feed(clock, 0, 3_000, 30, () => r() * 120);
    // The spread needs ~135 ms, more than the audio's ~150 less 60: video is due at the spread's need.
    expect(clock.videoDelayMs).toBeGreaterThan(clock.delayMs - 60);
    expect(clock.videoDelayMs).toBeLessThanOrEqual(clock.delayMs);
    expect(clock.videoDelayMs).toBeGreaterThan(120);
  });

  it('in sync when the audio buffer is what the spread needs, and with the lead set to 0', () => {
    const clock = new PlayoutClock();
    feed(clock, 0, 3_000, 30, () => 0); // our own buffer: delay = the spread's need
    expect(clock.videoDelayMs).toBe(clock.delayMs);
    const strict = new PlayoutClock({ videoLeadMs: 0 });
    strict.followAudioBuffer(140);
    feed(strict, 0, 3_000, 30, () => 0);
    expect(strict.videoDueAt(10_000)).toBe(strict.dueAt(10_000));
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

describe('relay media audio playout', () => {
  /** Runs 20 ms frames captured from 0 with arrival = capture + transit(i), taking every `tick` ms. */
  function run(frames: number, transit: (i: number) => number | null, tick = 5, tail = 60, clock = new PlayoutClock()) {
    const audio = new AudioPlayout<number>(clock);
    const arrivals = Array.from({ length: frames }, (_, i) => {
      const t = transit(i);
      return t === null ? null : { i, at: i * 20 + t };
    })
      .filter((a): a is { i: number; at: number } => a !== null)
      .sort((x, y) => x.at - y.at);
    const played: Array<number | null> = [];
    let next = 0;
    for (let now = 0; now < frames * 20 + tail; now += tick) {
      while (next < arrivals.length && arrivals[next]!.at <= now) {
        const a = arrivals[next++]!;
        clock.onArrival(a.i * 20, a.at);
        audio.push(a.i * 20, 20, a.i);
      }
      for (const out of audio.take(now).play) played.push(out.frame);
    }
    return { audio, played };
  }

  it('plays a steady stream in order with no underrun', () => {
    const { audio, played } = run(200, () => 30);
    expect(played.filter((f) => f !== null)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(audio.underrunMs).toBe(0);
    expect(audio.playedMs).toBe(4_000);
  });

  it('puts silence where a frame is missing and counts it as an underrun', () => {
    const { audio, played } = run(200, (i) => (i === 100 || i === 101 ? null : 30));
    expect(audio.underrunMs).toBe(40);
    expect(audio.dryMs).toBe(0); // silence for what was missing, not a stall
    expect(played.filter((f) => f !== null)).toHaveLength(198);
    // The silence sits where the lost frames were.
    const at = played.indexOf(99);
    expect(played.slice(at, at + 4)).toEqual([99, null, null, 102]);
  });

  it('a frame arriving after its slot was played is dropped as late, and its slot was silence', () => {
    const { audio, played } = run(300, (i) => (i === 150 ? 900 : 30));
    expect(audio.late).toBe(1);
    expect(played).not.toContain(150);
    expect(audio.underrunMs).toBe(20);
  });

  it('counts time the output ran dry when nothing was handed out in time (a stalled consumer)', () => {
    const clock = new PlayoutClock();
    const audio = new AudioPlayout<number>(clock);
    for (let i = 0; i < 10; i++) {
      clock.onArrival(i * 20, i * 20 + 30);
      audio.push(i * 20, 20, i);
    }
    audio.take(60); // the first frame is due at 0 + 30 + 40 − 20 lead: pre-roll + frame 0
    const before = audio.underrunMs;
    // The consumer comes back 100 ms late: the output (which held lead + one frame) ran dry for the rest.
    audio.take(160 + 100);
    expect(audio.underrunMs - before).toBeGreaterThan(0);
    // Nothing was missing: all of it is the output's stall (a jitter buffer downstream absorbs it).
    expect(audio.dryMs).toBe(audio.underrunMs - before);
  });

  it('with up to 100 ms of jitter on an in-order path, under 1 % of the output is underrun once warm', () => {
    const r = rng(7);
    const clock = new PlayoutClock();
    const audio = new AudioPlayout<number>(clock);
    let last = 0;
    let now = 0;
    let warm: { under: number; total: number } | null = null;
    for (let i = 0; i < 1_500; i++) {
      // In order, as over the relay's TCP path: a held-up frame holds up those behind it.
      const at = Math.max(last, i * 20 + 30 + r() * 100);
      last = at;
      for (; now < at; now += 5) audio.take(now);
      if (i === 250) warm = { under: audio.underrunMs, total: audio.underrunMs + audio.playedMs };
      clock.onArrival(i * 20, at);
      audio.push(i * 20, 20, i);
    }
    const total = audio.underrunMs + audio.playedMs - warm!.total;
    expect(total).toBeGreaterThan(24_000);
    expect((audio.underrunMs - warm!.under) / total).toBeLessThan(0.01);
    expect(clock.delayMs).toBeLessThan(150);
  });

  it('stops after 2 s of silence with nothing queued (the sender stopped) instead of counting forever', () => {
    const { audio } = run(200, (i) => (i < 50 ? 30 : null), 5, 1_000);
    expect(audio.underrunMs).toBeGreaterThanOrEqual(2_000);
    expect(audio.underrunMs).toBeLessThanOrEqual(2_020);
    expect(audio.nextDue()).toBeNull();
  });

  it('an outage of a second (audio held up, then arriving in a burst) counts as underrun in full', () => {
    const { audio } = run(200, (i) => (i >= 80 && i < 130 ? 1_000 - (i - 80) * 20 + 30 : 30));
    expect(audio.underrunMs).toBeGreaterThanOrEqual(1_000);
  });

  it('skips frames when the output holds more than it should (the delay shrank), never underrunning for it', () => {
    const clock = new PlayoutClock();
    const audio = new AudioPlayout<number>(clock);
    for (let i = 0; i < 50; i++) {
      clock.onArrival(i * 20, i * 20 + 30);
      audio.push(i * 20, 20, i);
    }
    // Everything is overdue at once (a consumer back from a long stall): most of it is skipped.
    const { play } = audio.take(5_000);
    expect(play.length).toBeLessThan(6);
    expect(audio.skippedMs).toBeGreaterThan(800);
  });

  it('handing off to a downstream buffer drops what is still queued instead of passing it on as a burst', () => {
    // A path with 150 ms of jitter: the playout delay grows, so ~0.2 s of decoded audio waits here, not due yet.
    const { audio, played } = run(100, (i) => (i % 10 === 0 ? 180 : 30), 5, -200);
    const queued = audio.size;
    expect(queued).toBeGreaterThanOrEqual(5);
    const skippedBefore = audio.skippedMs;
    const handed = audio.handOff();
    // Everything queued comes back to be released (none of it is handed on), counted as skipped.
    expect(handed).toHaveLength(queued);
    expect(new Set([...handed, ...played.filter((f) => f !== null)]).size).toBe(
      handed.length + played.filter((f) => f !== null).length,
    );
    expect(audio.skippedMs - skippedBefore).toBe(queued * 20);
    expect(audio.size).toBe(0);
    expect(audio.take(1_000_000).play).toEqual([]);
  });
});

describe('spread meter (lateness as a downstream jitter buffer sees it)', () => {
  it('on a steady stream reads 0; a stall of 120 ms every second reads ~120 at p95, ~0 at p50', () => {
    const steady = new SpreadMeter();
    for (let i = 0; i < 500; i++) steady.record(1_000 + i * 20 + (i % 3), i * 20);
    expect(steady.summary()).toEqual({ p50: 2, p95: 2 });
    const stalls = new SpreadMeter();
    // Every 50th frame (once a second) is held 120 ms and the next ones catch up (a burst).
    for (let i = 0; i < 500; i++) {
      const held = Math.max(0, 120 - (i % 50) * 20);
      stalls.record(1_000 + i * 20 + held, i * 20);
    }
    const s = stalls.summary()!;
    expect(s.p95).toBe(120);
    expect(s.p50).toBeLessThanOrEqual(120);
    expect(new SpreadMeter().summary()).toBeNull();
  });
});

describe('gap meter (stalls along the path)', () => {
  it('reads the longest pause per 500 ms window: 20 ms on a steady flow, the stall where one happened', () => {
    const g = new GapMeter();
    expect(g.summary()).toBeNull();
    let t = 0;
    for (let i = 0; i < 400; i++) {
      // A 180 ms stall once every 2 s (every 100th record).
      t += i % 100 === 50 ? 180 : 20;
      g.record(t);
    }
    const s = g.summary()!;
    expect(s.p50).toBe(20);
    expect(s.p95).toBe(180);
  });
});

describe('peak meter (waits along the path)', () => {
  it('reads the largest value per 500 ms window: the typical wait at p50, a rare long one at p95', () => {
    const m = new PeakMeter();
    expect(m.summary()).toBeNull();
    // A record every 20 ms that waits 1–3 ms, and one that waits 90 ms every 2 s.
    for (let i = 0; i < 400; i++) m.record(i * 20, i % 100 === 50 ? 90 : 1 + (i % 3));
    const s = m.summary()!;
    expect(s.p50).toBe(3);
    expect(s.p95).toBe(90);
  });
});

describe("audio encoder's output timeline", () => {
  it('gives each 20 ms output the capture time of its first sample, whatever the output timestamps', () => {
    const t = new EncoderTimeline();
    expect(t.output(960)).toBeNull();
    t.reset();
    // 10 ms inputs (480 samples at 48 kHz) captured 10 ms apart; the fourth came 3 ms late off the device.
    for (let i = 0; i < 6; i++) t.input(480, 48_000, 5_000 + i * 10 + (i === 3 ? 3 : 0));
    expect([t.output(960), t.output(960), t.output(960)]).toEqual([5_000, 5_020, 5_040]);
    // Nothing captured for a fourth output yet.
    expect(t.output(960)).toBeNull();
  });

  it('an output starting inside an input is placed by its offset in it', () => {
    const t = new EncoderTimeline();
    t.input(441, 44_100, 1_000); // 10 ms at 44.1 kHz, counted in 48 kHz samples by the caller
    const u = new EncoderTimeline();
    u.input(1_024, 48_000, 2_000);
    u.input(1_024, 48_000, 2_021.333);
    expect(u.output(960)).toBe(2_000);
    expect(u.output(960)).toBeCloseTo(2_020, 6);
    expect(u.output(960)).toBeCloseTo(2_021.333 + (1_920 - 1_024) / 48, 6);
    expect(t.output(441)).toBe(1_000);
  });
});

describe('capture clock', () => {
  it('stamps from media timestamps with the least-delayed offset, losing the scheduling jitter', () => {
    const c = new CaptureClock();
    const stamps = [0, 1, 2, 3].map((i) => c.stamp(i * 20_000, 1_000_000 + i * 20 + [5, 0, 12, 3][i]!));
    expect(stamps).toEqual([1_000_005, 1_000_020, 1_000_040, 1_000_060].map((x, i) => (i === 0 ? x : x)));
    // Later frames keep the best offset: exactly 20 ms apart.
    expect(c.stamp(80_000, 1_000_090)).toBe(1_000_080);
  });

  it('starts over when the timeline jumps (a new device)', () => {
    const c = new CaptureClock();
    c.stamp(1_000_000, 5_000);
    expect(c.stamp(10, 5_100)).toBe(5_100);
  });
});
