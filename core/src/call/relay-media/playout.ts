// Playout timing for relay media (the jitter buffer's clock). Audio is the clock: every frame carries its
// capture time (sender's clock), and a frame captured at c plays at c + base + delay, where base is the
// smallest transit seen recently (arrival − capture: the path's fixed delay plus the clocks' offset) and
// delay follows the spread of recent transits (a high percentile − base, plus a margin), clamped to 40–300 ms;
// it grows at once and shrinks steadily once the spread goes. Audio plays out as a continuous stream
// (AudioPlayout): a frame missing when its slot is due is replaced by silence, and every ms of silence
// inserted or of a stall in the output is counted as an underrun. Video frames use the same mapping, so
// they are shown when due against the audio, and a frame whose successor is already due is late and dropped
// (after decoding: later frames reference it). One allowance: when the audio's buffer holds more than the
// path's spread needs (a downstream jitter buffer still high after a start-up stall), video may be shown up to
// `videoLeadMs` (60 ms) before its sound — inside EBU R37's tolerance for sound after picture (−60 ms) and
// well inside ITU-R BT.1359's detectability threshold (−125 ms); people are far less sensitive to late sound
// than to early sound, so the picture is fresher and no one sees the offset. Pure: times are passed in.

export interface PlayoutOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Transits remembered for the spread (ms of arrivals). */
  windowMs?: number;
  /** The transit percentile the delay covers: frames beyond it arrive late and are concealed (underruns). */
  percentile?: number;
  /** Added to the spread, so a frame at the percentile still arrives before it is due. */
  marginMs?: number;
  /** How fast the delay may shrink (ms per second); it grows at once (a late frame is worse than latency). */
  shrinkPerSecond?: number;
  /** Video may be shown at most this long before its audio, when the spread allows (0: exactly in sync). */
  videoLeadMs?: number;
}

interface Sample {
  at: number;
  transit: number;
}

const DEFAULTS: Required<PlayoutOptions> = {
  minDelayMs: 40,
  maxDelayMs: 300,
  windowMs: 3_000,
  percentile: 0.98,
  marginMs: 15,
  shrinkPerSecond: 40,
  videoLeadMs: 60,
};
const MAX_SAMPLES = 400;

export class PlayoutClock {
  readonly #o: Required<PlayoutOptions>;
  readonly #samples: Sample[] = [];
  #base: number | null = null;
  #delay: number;
  /** Video's delay beyond the base: the audio's, less what the spread lets it lead by (≤ videoLeadMs). */
  #videoDelay: number;
  #updatedAt: number | null = null;
  /** The delay the audio actually plays with beyond its arrival (a jitter buffer downstream), or null. */
  #audioBufferMs: number | null = null;

  constructor(options: PlayoutOptions = {}) {
    this.#o = { ...DEFAULTS, ...options };
    this.#delay = this.#o.minDelayMs;
    this.#videoDelay = this.#delay;
  }

  /** A frame captured at `captureMs` (sender clock) arrived at `arrivalMs` (ours). */
  onArrival(captureMs: number, arrivalMs: number): void {
    const transit = arrivalMs - captureMs;
    this.#samples.push({ at: arrivalMs, transit });
    while (
      this.#samples.length > MAX_SAMPLES ||
      (this.#samples.length > 1 && arrivalMs - this.#samples[0]!.at > this.#o.windowMs)
    )
      this.#samples.shift();
    let min = Infinity;
    for (const s of this.#samples) min = Math.min(min, s.transit);
    // The base follows the window's minimum: down at once, up only slowly (a brief lull must not move every
    // frame's due time at once, which the ear hears as a gap).
    if (this.#base === null || min < this.#base) this.#base = min;
    else if (this.#updatedAt !== null) this.#base = Math.min(min, this.#base + (arrivalMs - this.#updatedAt) * 0.01);
    // Sorted once per arrival: the audio's target and the video's allowance both read it.
    const spread = this.#spreadTarget();
    const target = this.#target(spread);
    // Following a downstream buffer: its figure is already smoothed (an average over a second), follow it.
    if (target >= this.#delay || this.#updatedAt === null || this.#audioBufferMs !== null) this.#delay = target;
    else {
      const shrink = ((arrivalMs - this.#updatedAt) / 1000) * this.#o.shrinkPerSecond;
      this.#delay = Math.max(target, this.#delay - shrink);
    }
    this.#updatedAt = arrivalMs;
    this.#updateVideoDelay(spread);
  }

  /**
   * The audio plays out of a jitter buffer downstream of us (the echo canceller's loopback receiver, fed each
   * frame as it arrives), holding `ms` on average: from now on the delay is where that audio actually plays
   * (the mean transit beyond the base, plus `ms`), so video stays in sync with what is heard. A second
   * buffer of our own would only add its delay to the downstream one. null: we are the jitter buffer again.
   */
  followAudioBuffer(ms: number | null): void {
    this.#audioBufferMs = ms === null ? null : Math.max(0, ms);
    if (this.#samples.length === 0) return;
    const spread = this.#spreadTarget();
    this.#delay = this.#target(spread);
    this.#updateVideoDelay(spread);
  }

  /** The current playout delay beyond the path's fixed delay, ms. */
  get delayMs(): number {
    return this.#delay;
  }

  /** Video's delay beyond the path's fixed delay, ms (≤ delayMs, at most videoLeadMs less). */
  get videoDelayMs(): number {
    return this.#videoDelay;
  }

  /** When (our clock) audio captured at `captureMs` is due; null before any arrival. */
  dueAt(captureMs: number): number | null {
    return this.#base === null ? null : captureMs + this.#base + this.#delay;
  }

  /** When (our clock) a video frame captured at `captureMs` is due; null before any arrival. */
  videoDueAt(captureMs: number): number | null {
    return this.#base === null ? null : captureMs + this.#base + this.#videoDelay;
  }

  /** Video is due at what the spread needs, never after the audio and never more than videoLeadMs before it. */
  #updateVideoDelay(need: number): void {
    this.#videoDelay = Math.max(this.#delay - this.#o.videoLeadMs, Math.min(this.#delay, need));
  }

  /** The audio's delay: where the downstream buffer plays it, or (we are the buffer) the spread's target. */
  #target(spread: number): number {
    if (this.#audioBufferMs !== null) {
      let sum = 0;
      for (const s of this.#samples) sum += s.transit;
      const mean = sum / this.#samples.length - (this.#base ?? 0);
      return Math.min(this.#o.maxDelayMs, Math.max(0, mean + this.#audioBufferMs));
    }
    return spread;
  }

  /** A high percentile of the transits beyond the base plus the margin, clamped: our own jitter buffer's target. */
  #spreadTarget(): number {
    const transits = this.#samples.map((s) => s.transit).sort((a, b) => a - b);
    // A high percentile, not the maximum: one stalled frame (a GC pause, a scheduler hiccup) must not set
    // the delay for the whole window.
    const high = transits[Math.min(transits.length - 1, Math.floor(transits.length * this.#o.percentile))]!;
    const spread = high - (this.#base ?? high);
    return Math.min(this.#o.maxDelayMs, Math.max(this.#o.minDelayMs, spread + this.#o.marginMs));
  }
}

/**
 * Which decoded video frames to show now: frames are queued in capture order; at `now` the newest due one is
 * shown and older due ones are dropped as late. Generic over the frame type (a VideoFrame in the worker).
 */
export class VideoPlayout<F> {
  readonly #clock: PlayoutClock;
  readonly #queue: Array<{ captureMs: number; frame: F }> = [];
  readonly #maxQueued: number;
  dropped = 0;

  constructor(clock: PlayoutClock, maxQueued = 30) {
    this.#clock = clock;
    this.#maxQueued = maxQueued;
  }

  get size(): number {
    return this.#queue.length;
  }

  /** Queues a decoded frame; returns frames dropped to stay bounded (the caller releases them). */
  push(captureMs: number, frame: F): F[] {
    let i = this.#queue.length;
    while (i > 0 && this.#queue[i - 1]!.captureMs > captureMs) i--;
    this.#queue.splice(i, 0, { captureMs, frame });
    const out: F[] = [];
    while (this.#queue.length > this.#maxQueued) {
      out.push(this.#queue.shift()!.frame);
      this.dropped++;
    }
    return out;
  }

  /** The frame to show now (or null) and the late ones to drop. */
  take(now: number): { show: F | null; late: F[] } {
    const late: F[] = [];
    let show: F | null = null;
    while (this.#queue.length > 0) {
      const due = this.#clock.videoDueAt(this.#queue[0]!.captureMs);
      if (due === null || due > now) break;
      if (show !== null) {
        late.push(show);
        this.dropped++;
      }
      show = this.#queue.shift()!.frame;
    }
    return { show, late };
  }

  /** When the next queued frame is due (null: nothing queued). */
  nextDue(): number | null {
    const head = this.#queue[0];
    return head ? this.#clock.videoDueAt(head.captureMs) : null;
  }

  /** Everything queued (on close). */
  drain(): F[] {
    return this.#queue.splice(0).map((q) => q.frame);
  }
}

export interface AudioPlayoutOptions {
  /**
   * Frames are handed to the output this long before they are due: the stream starts with this much silence,
   * so the output holds about `leadMs` and a timer that fires late by less does not leave it dry.
   */
  leadMs?: number;
  /** Silence is inserted in steps of at most this (one codec frame). */
  frameMs?: number;
  /** After this much silence with nothing queued the stream has stopped (the sender's track ended): stop counting. */
  pauseAfterMs?: number;
  /** Decoded frames held at most (beyond: the oldest are dropped). */
  maxQueued?: number;
}

/** One piece of the output: a decoded frame, or silence of `ms` in its place. */
export type AudioOut<F> = { frame: F; ms: number } | { frame: null; ms: number };

/**
 * Audio playout as a continuous stream on the audio clock. Decoded frames are queued by capture time; at
 * `now` everything due (within the lead) is handed out in order, silence where a slot's frame is missing;
 * a frame that arrives after its slot was played is dropped. The output is modelled as a FIFO: it lasts
 * until `coveredUntil`. Counted honestly as underruns: silence inserted, and time the output ran dry because
 * nothing was handed out in time (the delay grew, the consumer was late). When the output holds more than
 * the lead plus a frame (the delay shrank, or a burst after a stall), frames are skipped so latency follows
 * the delay. `playedMs + underrunMs` is the time the output ran.
 */
export class AudioPlayout<F> {
  readonly #clock: PlayoutClock;
  readonly #o: Required<AudioPlayoutOptions>;
  readonly #queue: Array<{ captureMs: number; ms: number; frame: F }> = [];
  /** The capture time (sender clock) of the next sample to play; null while stopped. */
  #next: number | null = null;
  /** Our clock: the handed-out audio lasts until here. */
  #coveredUntil = 0;
  #silenceRun = 0;
  /** Waiting for the frame of slot #next until it is really due (the output still holds the lead). */
  #waiting = false;
  playedMs = 0;
  underrunMs = 0;
  /**
   * Of underrunMs, the output's stalls (our timer ran late: nothing was missing, the audio came late to the
   * output). A consumer with a jitter buffer of its own (the peer-connection loopback) absorbs those.
   */
  dryMs = 0;
  /** Played time skipped to bring latency down to the delay. */
  skippedMs = 0;
  /** Frames that arrived after their slot. */
  late = 0;

  constructor(clock: PlayoutClock, options: AudioPlayoutOptions = {}) {
    this.#clock = clock;
    this.#o = { leadMs: 60, frameMs: 20, pauseAfterMs: 2_000, maxQueued: 100, ...options };
  }

  get size(): number {
    return this.#queue.length;
  }

  /** Queues a decoded frame of `ms` captured at `captureMs`; returns frames dropped (too late, or overflow). */
  push(captureMs: number, ms: number, frame: F): F[] {
    if (this.#next !== null && captureMs + ms / 2 <= this.#next) {
      this.late++;
      return [frame];
    }
    let i = this.#queue.length;
    while (i > 0 && this.#queue[i - 1]!.captureMs > captureMs) i--;
    this.#queue.splice(i, 0, { captureMs, ms, frame });
    const out: F[] = [];
    while (this.#queue.length > this.#o.maxQueued) out.push(this.#queue.shift()!.frame);
    return out;
  }

  /** What to hand to the output now, in order (frames, and silence as `frame: null`), and frames dropped. */
  take(now: number): { play: Array<AudioOut<F>>; drop: F[] } {
    const play: Array<AudioOut<F>> = [];
    const drop: F[] = [];
    const lead = this.#o.leadMs;
    const horizon = now + lead;
    if (this.#next === null) {
      const head = this.#queue[0];
      const due = head ? this.#clock.dueAt(head.captureMs) : null;
      if (!head || due === null || due > horizon) return { play, drop };
      this.#next = head.captureMs;
      this.#silenceRun = 0;
      // The pre-roll: the output starts with the lead in hand (the start of a stream, not an underrun).
      if (lead > 0) play.push({ frame: null, ms: lead });
      this.#coveredUntil = now + lead;
    }
    this.#waiting = false;
    for (;;) {
      const due = this.#clock.dueAt(this.#next!);
      if (due === null || due > horizon) break;
      while (this.#queue.length > 0 && this.#queue[0]!.captureMs + this.#queue[0]!.ms / 2 <= this.#next!) {
        drop.push(this.#queue.shift()!.frame);
        this.late++;
      }
      const head = this.#queue[0];
      if (head && head.captureMs <= this.#next! + head.ms / 2) {
        this.#queue.shift();
        this.#next = head.captureMs + head.ms;
        this.#silenceRun = 0;
        if (this.#coveredUntil - now > lead + head.ms) {
          // The output already holds more than it should: skip this frame (latency comes down to the delay).
          drop.push(head.frame);
          this.skippedMs += head.ms;
          continue;
        }
        this.#emit(now, { frame: head.frame, ms: head.ms }, play);
        this.playedMs += head.ms;
        continue;
      }
      if (due > now) {
        // Not here yet, but not due yet either: the output still holds the lead. Wait until it is due.
        this.#waiting = true;
        break;
      }
      if (!head && this.#silenceRun >= this.#o.pauseAfterMs) {
        // Nothing for this long: the sender stopped (its track ended) or the path is down. The silence so far
        // stays counted; stop here rather than count silence forever.
        this.#next = null;
        break;
      }
      const ms = head ? Math.min(this.#o.frameMs, head.captureMs - this.#next!) : this.#o.frameMs;
      this.#next! += ms;
      this.#silenceRun += ms;
      if (this.#coveredUntil - now > lead + ms) continue; // a missing slot while the output is ahead: nothing lost
      this.#emit(now, { frame: null, ms }, play);
      this.underrunMs += ms;
    }
    return { play, drop };
  }

  /** When take() next has something to do (our clock), or null while nothing is queued. */
  nextDue(): number | null {
    const at = this.#next ?? this.#queue[0]?.captureMs;
    if (at === undefined) return null;
    const due = this.#clock.dueAt(at);
    if (due === null) return null;
    return this.#waiting ? due : due - this.#o.leadMs;
  }

  /** Everything queued (on close). */
  drain(): F[] {
    return this.#queue.splice(0).map((q) => q.frame);
  }

  /**
   * A jitter buffer downstream takes over (frames go on as they arrive from now on): what is queued here, not
   * handed out yet, is dropped (returned, for the caller to release) and counted as skipped. Handed on at once
   * it would reach the downstream buffer as one burst of up to the playout delay, which that buffer then
   * plays down only slowly (Chromium's NetEq took ~6 s to shed 300 ms). Dropped, the listener hears one skip
   * and the downstream buffer starts at its own target.
   */
  handOff(): F[] {
    for (const q of this.#queue) this.skippedMs += q.ms;
    this.#next = null;
    return this.drain();
  }

  #emit(now: number, out: AudioOut<F>, play: Array<AudioOut<F>>): void {
    // The output ran dry between what it had and now: that stall is an underrun too.
    if (now > this.#coveredUntil) {
      this.underrunMs += now - this.#coveredUntil;
      this.dryMs += now - this.#coveredUntil;
    }
    this.#coveredUntil = Math.max(this.#coveredUntil, now) + out.ms;
    play.push(out);
  }
}
