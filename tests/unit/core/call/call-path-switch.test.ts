// The path switch of an active call (core/src/call/path-switch.ts): direct → relay as soon as direct RTP stalls
// (or ICE / the peer connection says the path is gone), relay → direct led by the caller once both sides
// receive direct media again, with epochs so both sides always end on the same path, and a back-off so a
// flaky path does not flap. Pure: driven with getStats samples and reports on a fake clock.
import { describe, expect, it } from 'vitest';
import {
  iceCheckProgress,
  inboundRtpBytes,
  inboundSilenceMs,
  PathSwitch,
  type MediaPath,
  type PathDecision,
  type PathReport,
} from '../../../../core/src/call/path-switch.js';

const STALL = 700;
const RECOVER = 1_500;
const STEP = 200;

/** A side with a clock and a byte counter; `flow` says whether its direct RTP arrives. */
class Side {
  readonly sw: PathSwitch;
  now = 0;
  bytes = 0;
  flow = true;
  /** Whether direct video decodes (frames counted with the bytes), and whether the contact sends video. */
  videoFlow = true;
  expectVideo = false;
  frames = 0;
  iceUp = true;
  readonly moves: Array<MediaPath> = [];
  readonly outbox: PathReport[] = [];
  constructor(role: 'caller' | 'callee') {
    // A fixed stall threshold here (minStallMs = stallMs); the one that follows the cadence has tests of its own.
    this.sw = new PathSwitch({
      role,
      stallMs: STALL,
      minStallMs: STALL,
      recoverMs: RECOVER,
      maxRecoverMs: 6_000,
      flapWindowMs: 10_000,
    });
  }
  take(d: PathDecision): PathDecision {
    if (d.move) this.moves.push(d.move);
    if (d.report) this.outbox.push(this.sw.report()!);
    return d;
  }
  tick(ms = STEP): PathDecision {
    this.now += ms;
    if (this.flow) this.bytes += 1_000;
    if (this.flow && this.videoFlow) this.frames += 6;
    return this.take(
      this.sw.sample({
        at: this.now,
        inboundBytes: this.bytes,
        iceUp: this.iceUp,
        videoFrames: this.frames,
        expectVideo: this.expectVideo,
      }),
    );
  }
  /** Samples every STEP for `ms`. */
  run(ms: number): void {
    for (let t = 0; t < ms; t += STEP) this.tick();
  }
  connect(): void {
    this.take(this.sw.directConnected(this.now));
    this.tick();
  }
}

/** Delivers every queued report between two sides (in order), until quiet. */
function exchange(a: Side, b: Side): void {
  for (let round = 0; round < 10 && (a.outbox.length > 0 || b.outbox.length > 0); round++) {
    for (const r of a.outbox.splice(0)) b.take(b.sw.peer(r, b.now));
    for (const r of b.outbox.splice(0)) a.take(a.sw.peer(r, a.now));
  }
}

/** Both sides advance together, exchanging reports after every sample. */
function together(a: Side, b: Side, ms: number): void {
  for (let t = 0; t < ms; t += STEP) {
    a.tick();
    b.tick();
    exchange(a, b);
  }
}

describe('call path switch', () => {
  it('starts on direct when direct connects, stays while its RTP flows, and moves to the relay once it stalls for stallMs', () => {
    const s = new Side('caller');
    s.connect();
    expect(s.sw.path).toBe('direct');
    expect(s.moves).toEqual(['direct']);
    s.run(5_000);
    expect(s.sw.path).toBe('direct');
    s.flow = false;
    s.tick(); // 200 ms without a byte
    s.tick(); // 400
    s.tick(); // 600
    expect(s.sw.path).toBe('direct');
    const d = s.tick(); // 800 ≥ 700
    expect(d).toEqual({ move: 'relay', report: true });
    expect(s.sw.path).toBe('relay');
    expect(s.sw.lastReason).toBe('stall');
    expect(s.outbox.at(-1)).toEqual({ path: 'relay', epoch: 1, directOk: false });
  });

  it('a late getStats sample that still shows growth does not count as a stall', () => {
    const s = new Side('callee');
    s.connect();
    s.tick(1_500); // the machine was busy: one sample 1.5 s later, bytes grew meanwhile
    expect(s.sw.path).toBe('direct');
  });

  it("with the report's packet times, a cut is seen stallMs after the last packet, not stallMs after the sample that last saw bytes grow", () => {
    const sw = new PathSwitch({ role: 'caller', stallMs: 400, minStallMs: 400 });
    const sample = (at: number, lastPacketAt: number) =>
      sw.sample({ at, inboundBytes: lastPacketAt * 10, iceUp: true, silentMs: at - lastPacketAt });
    sw.directConnected(0);
    for (let t = 100; t <= 1_000; t += 100) expect(sample(t, t - 15).move).toBeNull();
    // The path is cut at 1,010; the machine is busy and the next sample comes late, at 1,350: its bytes still
    // grew (the packets of before the cut).
    expect(sample(1_350, 1_010).move).toBeNull();
    // 440 ms since the last packet (by byte growth alone: 100 ms since the last sample that saw growth).
    expect(sample(1_450, 1_010)).toEqual({ move: 'relay', report: true });
    expect(sw.lastReason).toBe('stall');
  });

  it('silent for suspectMs, direct is stalling (the relay media may start ahead); flowing again clears it and suspects later next time', () => {
    const sw = new PathSwitch({ role: 'caller', stallMs: 700, minStallMs: 700, suspectMs: 200 });
    const sample = (at: number, silentMs: number) => sw.sample({ at, inboundBytes: at, iceUp: true, silentMs });
    sw.directConnected(0);
    sample(100, 10);
    expect(sw.stalling).toBe(false);
    sample(200, 110);
    expect(sw.stalling).toBe(false);
    expect(sample(300, 210).move).toBeNull();
    expect(sw.stalling).toBe(true);
    // Packets again (the last at 380): a busy machine, not a cut.
    sample(400, 20);
    expect(sw.stalling).toBe(false);
    expect(sw.suspectMs).toBe(400);
    sample(700, 320);
    expect(sw.stalling).toBe(false);
    sample(800, 420);
    expect(sw.stalling).toBe(true);
    // The stall: the move clears it.
    expect(sample(1_100, 720)).toEqual({ move: 'relay', report: true });
    expect(sw.stalling).toBe(false);
    // Bounded by stallMs however often it clears.
    const busy = new PathSwitch({ role: 'callee', stallMs: 700, minStallMs: 700, suspectMs: 200 });
    busy.directConnected(0);
    for (let i = 1; i <= 10; i++) {
      busy.sample({ at: i * 1_000, inboundBytes: i, iceUp: true, silentMs: Math.min(busy.suspectMs, 690) });
      busy.sample({ at: i * 1_000 + 100, inboundBytes: i, iceUp: true, silentMs: 0 });
    }
    expect(busy.suspectMs).toBe(700);
    expect(busy.path).toBe('direct');
  });

  it('a suspectMs raised by suspicions that cleared halves back after 30 s without one', () => {
    const sw = new PathSwitch({ role: 'caller' }); // suspectMs 200, stallMs 700, cadence window 30 s
    const sample = (at: number, silentMs: number) => sw.sample({ at, inboundBytes: at, iceUp: true, silentMs });
    sw.directConnected(0);
    for (const [at, silent] of [
      [1_000, 250],
      [1_100, 5],
      [2_000, 450],
      [2_100, 5],
    ] as const)
      sample(at, silent);
    expect(sw.suspectMs).toBe(700); // 200 → 400 → 700 (bounded by stallMs)
    for (let t = 2_200; t < 32_100; t += 100) sample(t, 10);
    expect(sw.suspectMs).toBe(700);
    sample(32_100, 10);
    expect(sw.suspectMs).toBe(350);
    for (let t = 32_200; t <= 62_100; t += 100) sample(t, 10);
    expect(sw.suspectMs).toBe(200);
    for (let t = 62_200; t <= 200_000; t += 1_000) sample(t, 10);
    expect(sw.suspectMs).toBe(200); // never below the configured one
  });

  it("the stall threshold follows direct's cadence: stallMs while warming up, minStallMs on a path whose packets never pause long", () => {
    const sw = new PathSwitch({ role: 'caller' }); // defaults: 450–700 ms, 2 s warm-up
    const sample = (at: number, silentMs: number) => sw.sample({ at, inboundBytes: at, iceUp: true, silentMs });
    sw.directConnected(0);
    for (let t = 100; t <= 1_500; t += 100) sample(t, t % 300 === 0 ? 40 : 10);
    expect(sw.stallMsAt(1_500)).toBe(700); // too early to know the path's cadence
    for (let t = 1_600; t <= 3_000; t += 100) sample(t, t % 300 === 0 ? 40 : 10);
    expect(sw.stallMsAt(3_000)).toBe(450);
    // The path is cut at 3,000: it moves 450 ms after the last packet, not 700.
    for (let t = 3_100; t <= 3_400; t += 100) expect(sample(t, t - 3_000).move).toBeNull();
    expect(sample(3_460, 460)).toEqual({ move: 'relay', report: true });
    expect(sw.lastReason).toBe('stall');
  });

  it('a path whose packets pause longer gets a longer stall threshold (twice its longest pause, at most stallMs) until those pauses are 30 s old', () => {
    const sw = new PathSwitch({ role: 'callee' });
    const sample = (at: number, silentMs: number) => sw.sample({ at, inboundBytes: at, iceUp: true, silentMs });
    sw.directConnected(0);
    for (let t = 100; t <= 3_000; t += 100) sample(t, 10);
    // A busy machine: packets pause for 280 ms, then flow again.
    sample(3_100, 100);
    sample(3_200, 200);
    sample(3_300, 280);
    sample(3_400, 15);
    expect(sw.stallMsAt(3_400)).toBe(560);
    // The next pause of 500 ms is no cut on this path.
    for (let t = 3_500; t <= 3_800; t += 100) sample(t, t - 3_350);
    expect(sample(3_850, 500).move).toBeNull();
    sample(3_900, 5);
    expect(sw.path).toBe('direct');
    expect(sw.stallMsAt(3_900)).toBe(700); // bounded by stallMs
    // 30 s of short pauses later, the threshold is back to minStallMs.
    for (let t = 4_000; t <= 34_000; t += 100) sample(t, 10);
    expect(sw.stallMsAt(34_000)).toBe(450);
    expect(sw.path).toBe('direct');
  });

  it('the silence that became a stall does not count as cadence: back on direct, the next cut moves as fast as before', () => {
    const sw = new PathSwitch({ role: 'caller' });
    const sample = (at: number, silentMs: number) => sw.sample({ at, inboundBytes: at, iceUp: true, silentMs });
    sw.directConnected(0);
    for (let t = 100; t <= 3_000; t += 100) sample(t, 10);
    for (let t = 3_100; t <= 3_400; t += 100) sample(t, t - 3_000);
    expect(sample(3_500, 500).move).toBe('relay');
    // Direct flows again; the contact reports it too: the caller moves back.
    for (let t = 3_600; t <= 5_500; t += 100) sample(t, 10);
    expect(sw.peer({ path: 'relay', epoch: 1, directOk: true }, 5_500).move).toBe('direct');
    expect(sw.stallMsAt(5_500)).toBe(450);
  });

  it('while direct is silent past suspectMs, says when the silence reaches the stall threshold (to sample right then)', () => {
    const sw = new PathSwitch({ role: 'caller' });
    const sample = (at: number, silentMs: number) => sw.sample({ at, inboundBytes: at, iceUp: true, silentMs });
    sw.directConnected(0);
    for (let t = 100; t <= 3_000; t += 100) sample(t, 10);
    expect(sw.stallDueAt(3_000)).toBeNull(); // flowing
    sample(3_100, 110);
    expect(sw.stallDueAt(3_100)).toBeNull(); // silent, under suspectMs
    sample(3_200, 210); // the last packet at 2,990
    expect(sw.stalling).toBe(true);
    expect(sw.stallDueAt(3_200)).toBe(2_990 + 450);
    sample(3_300, 5);
    expect(sw.stallDueAt(3_300)).toBeNull();
  });

  it("the contact's relay media decoding while direct is silent confirms the cut: the move comes at a share of the stall threshold, not before suspectMs", () => {
    const sw = new PathSwitch({ role: 'caller' }); // defaults: 450–700 ms, suspectMs 200, confirmedRatio 0.6
    const sample = (at: number, silentMs: number, relayReady = false) =>
      sw.sample({ at, inboundBytes: at, iceUp: true, silentMs, relayReady });
    sw.directConnected(0);
    for (let t = 100; t <= 3_000; t += 100) sample(t, 10);
    expect(sw.stallMsAt(3_000)).toBe(450);
    expect(sw.confirmedStallMsAt(3_000)).toBe(270);
    // Cut at 3,000: silent 250 ms with the contact's relay media here is not yet enough; 270 is.
    expect(sample(3_200, 200).move).toBeNull();
    expect(sw.stalling).toBe(true);
    expect(sw.stallDueAt(3_200)).toBe(3_000 + 450);
    expect(sw.stallDueAt(3_200, true)).toBe(3_000 + 270);
    expect(sample(3_250, 250, true).move).toBeNull();
    expect(sample(3_270, 270, true)).toEqual({ move: 'relay', report: true });
    expect(sw.lastReason).toBe('confirmed-stall');

    // Without the confirmation the same silence waits for the stall threshold.
    const alone = new PathSwitch({ role: 'caller' });
    alone.directConnected(0);
    for (let t = 100; t <= 3_000; t += 100) alone.sample({ at: t, inboundBytes: t, iceUp: true, silentMs: 10 });
    expect(alone.sample({ at: 3_400, inboundBytes: 3_400, iceUp: true, silentMs: 400 }).move).toBeNull();
    expect(alone.sample({ at: 3_450, inboundBytes: 3_450, iceUp: true, silentMs: 450 }).move).toBe('relay');
    expect(alone.lastReason).toBe('stall');
  });

  it('a confirmed cut still waits for suspectMs, which grows on a busy path, and scales with its cadence', () => {
    const sw = new PathSwitch({ role: 'callee' });
    const sample = (at: number, silentMs: number, relayReady = false) =>
      sw.sample({ at, inboundBytes: at, iceUp: true, silentMs, relayReady });
    sw.directConnected(0);
    // Warming up: stallMs 700, so 420 confirmed.
    expect(sw.confirmedStallMsAt(500)).toBe(420);
    for (let t = 100; t <= 3_000; t += 100) sample(t, 10);
    // A busy machine: a 300 ms pause, a suspicion that cleared (suspectMs 200 → 400).
    sample(3_100, 100);
    sample(3_200, 210);
    sample(3_300, 300);
    sample(3_400, 5);
    expect(sw.suspectMs).toBe(400);
    expect(sw.stallMsAt(3_400)).toBe(600);
    expect(sw.confirmedStallMsAt(3_400)).toBe(400); // 0.6 × 600 = 360, but not before suspectMs
    expect(sample(3_790, 390, true).move).toBeNull();
    expect(sample(3_800, 400, true).move).toBe('relay');
  });

  it('a late getStats sample is no stall when the report says packets kept arriving', () => {
    const sw = new PathSwitch({ role: 'callee', stallMs: 400, minStallMs: 400 });
    sw.directConnected(0);
    expect(sw.sample({ at: 100, inboundBytes: 100, iceUp: true, silentMs: 10 }).move).toBeNull();
    // The machine was busy: the next sample 1.5 s later, packets arrived until 20 ms before it.
    expect(sw.sample({ at: 1_600, inboundBytes: 900, iceUp: true, silentMs: 20 }).move).toBeNull();
    expect(sw.path).toBe('direct');
  });

  it('moves to the relay at once when ICE drops the path or the direct peer connection is lost', () => {
    const a = new Side('caller');
    a.connect();
    expect(a.take(a.sw.iceDown(a.now))).toEqual({ move: 'relay', report: true });
    expect(a.sw.lastReason).toBe('ice');
    const b = new Side('callee');
    b.connect();
    expect(b.take(b.sw.directLost(b.now)).move).toBe('relay');
    expect(b.sw.directAlive).toBe(false);
    // Without a direct peer connection, nothing it samples can bring the call back.
    b.run(5_000);
    expect(b.sw.path).toBe('relay');
  });

  it('head start over, or the direct attempt failing before it connected, starts the call on the relay', () => {
    const a = new Side('caller');
    expect(a.take(a.sw.headStartOver(a.now))).toEqual({ move: 'relay', report: true });
    expect(a.sw.report()).toEqual({ path: 'relay', epoch: 1, directOk: false });
    // Direct connecting later does not move by itself: its RTP must flow first (and the caller leads).
    expect(a.take(a.sw.directConnected(a.now)).move).toBeNull();
    const b = new Side('callee');
    expect(b.take(b.sw.directLost(b.now)).move).toBe('relay');
  });

  it('the caller moves back to direct only when its own direct media flowed for recoverMs and the callee reported the same', () => {
    const a = new Side('caller');
    a.connect();
    a.flow = false;
    a.run(1_000);
    expect(a.sw.path).toBe('relay');
    a.outbox.length = 0;
    a.flow = true;
    a.run(RECOVER - STEP);
    expect(a.sw.directOk).toBe(false);
    a.run(2 * STEP);
    expect(a.sw.directOk).toBe(true);
    expect(a.outbox).toEqual([{ path: 'relay', epoch: 1, directOk: true }]);
    expect(a.sw.path).toBe('relay'); // not before the callee sees direct media too
    a.run(3_000);
    expect(a.sw.path).toBe('relay');
    expect(a.take(a.sw.peer({ path: 'relay', epoch: 1, directOk: true }, a.now))).toEqual({
      move: 'direct',
      report: true,
    });
    expect(a.sw.report()).toEqual({ path: 'direct', epoch: 2, directOk: true });
    expect(a.sw.lastReason).toBe('recovered');
  });

  it('direct counts as back only once its video decodes too, when the contact sends video', () => {
    const a = new Side('caller');
    a.expectVideo = true;
    a.connect();
    a.take(a.sw.iceDown(a.now));
    a.videoFlow = false; // audio RTP flows again, video waits for a key frame
    a.run(5_000);
    expect(a.sw.directOk).toBe(false);
    a.videoFlow = true;
    a.run(RECOVER + 2 * STEP);
    expect(a.sw.directOk).toBe(true);
    // A contact with its camera off: audio alone is enough.
    const b = new Side('caller');
    b.connect();
    b.take(b.sw.iceDown(b.now));
    b.videoFlow = false;
    b.run(RECOVER + 2 * STEP);
    expect(b.sw.directOk).toBe(true);
  });

  it('the callee never moves back by itself; it follows the caller', () => {
    const b = new Side('callee');
    b.connect();
    b.take(b.sw.iceDown(b.now));
    b.run(5_000);
    b.take(b.sw.peer({ path: 'relay', epoch: 1, directOk: true }, b.now));
    b.run(1_000);
    expect(b.sw.directOk).toBe(true);
    expect(b.sw.path).toBe('relay');
    expect(b.take(b.sw.peer({ path: 'direct', epoch: 2, directOk: true }, b.now)).move).toBe('direct');
    expect(b.sw.epoch).toBe(2);
  });

  it('ignores stale reports, and a callee claiming to have moved back to direct', () => {
    const a = new Side('caller');
    a.connect();
    a.take(a.sw.iceDown(a.now)); // epoch 1
    a.take(a.sw.peer({ path: 'relay', epoch: 1, directOk: false }, a.now));
    a.flow = true;
    a.run(2_000);
    // A 'direct' of epoch 0 (before the move): stale, nothing changes.
    expect(a.take(a.sw.peer({ path: 'direct', epoch: 0, directOk: true }, a.now))).toEqual({
      move: null,
      report: false,
    });
    // Only the caller leads back to direct.
    expect(a.take(a.sw.peer({ path: 'direct', epoch: 5, directOk: true }, a.now)).move).toBeNull();
    expect(a.sw.path).toBe('relay');
    expect(a.sw.epoch).toBe(1);
  });

  it('two moves of the same epoch to different paths end on the relay on both sides', () => {
    // The caller moved back to direct (epoch 2) while the callee, its direct stalling again, moved to the
    // relay (epoch 2 too): their reports cross.
    const aDirect: PathReport = { path: 'direct', epoch: 2, directOk: true };
    const bRelay: PathReport = { path: 'relay', epoch: 2, directOk: false };
    const fresh = new Side('caller');
    fresh.connect();
    fresh.take(fresh.sw.iceDown(fresh.now));
    fresh.take(fresh.sw.peer({ path: 'relay', epoch: 1, directOk: true }, fresh.now));
    fresh.run(RECOVER + 2 * STEP); // moves to direct, epoch 2
    expect(fresh.sw.report()).toEqual(aDirect);
    expect(fresh.take(fresh.sw.peer(bRelay, fresh.now)).move).toBe('relay');
    expect(fresh.sw.report()).toMatchObject({ path: 'relay', epoch: 3 });
    // The callee, on the relay at epoch 2, ignores the crossing 'direct' of epoch 2 and follows epoch 3.
    const callee = new Side('callee');
    callee.connect();
    callee.take(callee.sw.iceDown(callee.now));
    callee.take(callee.sw.peer({ path: 'direct', epoch: 2, directOk: true }, callee.now)); // epoch 2: follows direct
    callee.take(callee.sw.iceDown(callee.now)); // and stalls at once: relay, epoch 3
    expect(callee.sw.path).toBe('relay');
    expect(callee.take(callee.sw.peer(fresh.sw.report()!, callee.now)).move).toBeNull();
    expect(callee.sw.path).toBe('relay');
  });

  it('two sides: a UDP block moves both to the relay, unblocking moves both back to direct', () => {
    const a = new Side('caller');
    const b = new Side('callee');
    a.connect();
    b.connect();
    together(a, b, 3_000);
    expect([a.sw.path, b.sw.path]).toEqual(['direct', 'direct']);
    a.flow = b.flow = false;
    together(a, b, 1_000);
    expect([a.sw.path, b.sw.path]).toEqual(['relay', 'relay']);
    together(a, b, 10_000);
    expect([a.sw.path, b.sw.path]).toEqual(['relay', 'relay']);
    a.flow = b.flow = true;
    together(a, b, RECOVER + 3 * STEP);
    expect([a.sw.path, b.sw.path]).toEqual(['direct', 'direct']);
    expect(a.sw.epoch).toBe(b.sw.epoch);
    expect(a.moves).toEqual(['direct', 'relay', 'direct']);
    expect(b.moves).toEqual(['direct', 'relay', 'direct']);
  });

  it('two sides: when only the callee stops receiving direct media, both go to the relay and stay until it recovers', () => {
    const a = new Side('caller');
    const b = new Side('callee');
    a.connect();
    b.connect();
    b.flow = false; // one direction lost
    together(a, b, 1_000);
    expect([a.sw.path, b.sw.path]).toEqual(['relay', 'relay']);
    together(a, b, 8_000); // the caller receives direct fine, the callee does not: no move back
    expect([a.sw.path, b.sw.path]).toEqual(['relay', 'relay']);
    expect(a.sw.directOk).toBe(true);
    b.flow = true;
    together(a, b, RECOVER + 3 * STEP);
    expect([a.sw.path, b.sw.path]).toEqual(['direct', 'direct']);
  });

  it('a path that breaks again soon after the move back needs longer before the next move back (bounded)', () => {
    const a = new Side('caller');
    const b = new Side('callee');
    a.connect();
    b.connect();
    const flap = (): void => {
      a.flow = b.flow = false;
      together(a, b, 1_000);
      a.flow = b.flow = true;
    };
    flap();
    expect(a.sw.recoverMs).toBe(RECOVER);
    together(a, b, RECOVER + 3 * STEP);
    expect(a.sw.path).toBe('direct');
    flap(); // broke again within the flap window
    expect(a.sw.recoverMs).toBe(2 * RECOVER);
    together(a, b, RECOVER + 3 * STEP);
    expect(a.sw.path).toBe('relay'); // not yet
    together(a, b, RECOVER);
    expect(a.sw.path).toBe('direct');
    for (let i = 0; i < 5; i++) {
      flap();
      together(a, b, 7_000);
    }
    expect(a.sw.recoverMs).toBe(6_000); // maxRecoverMs
    expect([a.sw.path, b.sw.path]).toEqual(['direct', 'direct']);
  });

  it('when the relay link dies, the call goes back to direct if direct media flows, else stays for the bound', () => {
    const a = new Side('caller');
    a.connect();
    a.take(a.sw.iceDown(a.now));
    a.run(1_000); // direct flows again (not yet long enough to move back)
    expect(a.take(a.sw.relayLost(a.now)).move).toBe('direct');
    const b = new Side('callee');
    b.connect();
    b.flow = false;
    b.run(1_000);
    expect(b.sw.path).toBe('relay');
    expect(b.take(b.sw.relayLost(b.now)).move).toBeNull();
  });

  it("reads the time since the last RTP packet from the report's own clock, newest packet of any stream", () => {
    expect(
      inboundSilenceMs([
        { type: 'inbound-rtp', kind: 'audio', timestamp: 10_000, lastPacketReceivedTimestamp: 9_700 },
        { type: 'inbound-rtp', kind: 'video', timestamp: 10_000, lastPacketReceivedTimestamp: 9_980 },
        { type: 'candidate-pair', timestamp: 10_000, lastPacketReceivedTimestamp: 9_999 },
      ]),
    ).toBe(20);
    // No packet yet, no field (Node's wrtc), or two clocks that cannot be compared: byte growth decides.
    expect(inboundSilenceMs([{ type: 'inbound-rtp', kind: 'audio', timestamp: 10_000, bytesReceived: 0 }])).toBeNull();
    expect(inboundSilenceMs([{ type: 'inbound-rtp', lastPacketReceivedTimestamp: 9_000 }])).toBeNull();
    expect(
      inboundSilenceMs([{ type: 'inbound-rtp', timestamp: 1_700_000_000_000, lastPacketReceivedTimestamp: 9_000 }]),
    ).toBeNull();
    expect(inboundSilenceMs([{ type: 'inbound-rtp', timestamp: 10_000, lastPacketReceivedTimestamp: 10_002 }])).toBe(0);
  });

  it('reads RTP bytes from inbound-rtp records only', () => {
    expect(
      inboundRtpBytes([
        { type: 'inbound-rtp', kind: 'audio', bytesReceived: 1_000 },
        { type: 'inbound-rtp', kind: 'video', bytesReceived: 50_000 },
        { type: 'outbound-rtp', bytesSent: 9_999 },
        { type: 'candidate-pair', bytesReceived: 77_777 },
        { type: 'inbound-rtp', bytesReceived: 'x' },
      ]),
    ).toBe(51_000);
  });

  it("reads how far direct's ICE checks got: answered by any pair, unanswered after enough checks, else unknown", () => {
    const pair = (r: Record<string, unknown>) => ({ type: 'candidate-pair', ...r });
    // UDP blocked: checks go out on every pair, none is answered.
    expect(
      iceCheckProgress([
        pair({ state: 'in-progress', requestsSent: 4, responsesReceived: 0 }),
        pair({ state: 'failed', requestsSent: 3, responsesReceived: 0 }),
      ]),
    ).toBe('unanswered');
    // One pair answered (a working path, DTLS not done yet), or succeeded: direct is coming.
    expect(
      iceCheckProgress([
        pair({ state: 'in-progress', requestsSent: 9, responsesReceived: 0 }),
        pair({ state: 'in-progress', requestsSent: 2, responsesReceived: 1 }),
      ]),
    ).toBe('answered');
    expect(iceCheckProgress([pair({ state: 'succeeded', requestsSent: 9 })])).toBe('answered');
    // Too few checks yet, no pair (candidates still on their way), or no counters: not known.
    expect(iceCheckProgress([pair({ state: 'in-progress', requestsSent: 2, responsesReceived: 0 })])).toBe('unknown');
    expect(iceCheckProgress([{ type: 'inbound-rtp', bytesReceived: 0 }])).toBe('unknown');
    expect(iceCheckProgress([pair({ state: 'waiting' })])).toBe('unknown');
    // Other records' counters do not count.
    expect(iceCheckProgress([{ type: 'transport', requestsSent: 50 }])).toBe('unknown');
  });

  it("the contact's relay move made for unanswered checks is followed like a head start", () => {
    const a = new Side('caller');
    expect(a.take(a.sw.headStartOver(a.now, 'no-answer'))).toEqual({ move: 'relay', report: true });
    expect(a.sw.lastReason).toBe('no-answer');
    const b = new Side('callee');
    expect(b.take(b.sw.peer(a.sw.report()!, b.now)).move).toBe('relay');
  });
});
