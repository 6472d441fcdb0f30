// Playout timing for relay media (the jitter buffer's clock). Audio is the clock: every frame carries its
// capture time (sender's clock), and a frame captured at c plays at c + base + delay, where base is the
// smallest transit seen recently (arrival − capture: the path's fixed delay plus the clocks' offset) and
// delay follows the spread of recent transits (p95 − base, plus a margin), clamped to 40–300 ms. Video frames
// use the same mapping, so they are shown when due against the audio, and a frame whose successor is already
// due is late and dropped (after decoding: later frames reference it). Pure: times are passed in.

export interface PlayoutOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Transits remembered for the spread (ms of arrivals). */
  windowMs?: number;
  /** Added to the spread, so a frame at p95 still arrives before it is due. */
  marginMs?: number;
  /** How fast the delay may shrink (ms per second); it grows at once (a late frame is worse than latency). */
  shrinkPerSecond?: number;
}

interface Sample {
  at: number;
  transit: number;
}

const DEFAULTS: Required<PlayoutOptions> = {
  minDelayMs: 40,
  maxDelayMs: 300,
  windowMs: 3_000,
  marginMs: 15,
  shrinkPerSecond: 20,
};
const MAX_SAMPLES = 400;

export class PlayoutClock {
  readonly #o: Required<PlayoutOptions>;
  readonly #samples: Sample[] = [];
  #base: number | null = null;
  #delay: number;
  #updatedAt: number | null = null;

  constructor(options: PlayoutOptions = {}) {
    this.#o = { ...DEFAULTS, ...options };
    this.#delay = this.#o.minDelayMs;
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
    const target = this.#target();
    if (target >= this.#delay || this.#updatedAt === null) this.#delay = target;
    else {
      const shrink = ((arrivalMs - this.#updatedAt) / 1000) * this.#o.shrinkPerSecond;
      this.#delay = Math.max(target, this.#delay - shrink);
    }
    this.#updatedAt = arrivalMs;
  }

  /** The current playout delay beyond the path's fixed delay, ms. */
  get delayMs(): number {
    return this.#delay;
  }

  /** When (our clock) a frame captured at `captureMs` is due; null before any arrival. */
  dueAt(captureMs: number): number | null {
    return this.#base === null ? null : captureMs + this.#base + this.#delay;
  }

  #target(): number {
    const transits = this.#samples.map((s) => s.transit).sort((a, b) => a - b);
    const p95 = transits[Math.min(transits.length - 1, Math.floor(transits.length * 0.95))]!;
    const spread = p95 - (this.#base ?? p95);
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
      const due = this.#clock.dueAt(this.#queue[0]!.captureMs);
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
    return head ? this.#clock.dueAt(head.captureMs) : null;
  }

  /** Everything queued (on close). */
  drain(): F[] {
    return this.#queue.splice(0).map((q) => q.frame);
  }
}
