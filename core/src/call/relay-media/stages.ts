// Where a relay frame's time goes, for the stats panel and bench:call: per stage, the time from the frame's
// capture (the sender's clock, stamped in its header) to that stage, over the last frames. Stages measured
// on the sender (encoded, sealed) describe our outgoing media; on the receiver (arrived, decoded, shown) the
// peer's. Across two machines the clocks' offset is in every receiver stage; the differences between stages
// are still right.

/** p50/p95 of capture → stage, ms. */
export interface StageSummary {
  p50: number;
  p95: number;
}

const KEEP = 128;

export class StageTimes {
  readonly #samples = new Map<string, number[]>();

  record(stage: string, ms: number): void {
    let list = this.#samples.get(stage);
    if (!list) this.#samples.set(stage, (list = []));
    list.push(ms);
    if (list.length > KEEP) list.shift();
  }

  summary(): Record<string, StageSummary> {
    const out: Record<string, StageSummary> = {};
    for (const [stage, list] of this.#samples) {
      if (list.length === 0) continue;
      out[stage] = { p50: percentile(list, 0.5), p95: percentile(list, 0.95) };
    }
    return out;
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!);
}

/**
 * Capture times from media timestamps. A captured frame's timestamp (µs, the capture device's timeline) is
 * exact; the moment the worker sees the frame is not (it waits for a busy thread). capture = timestamp + the
 * smallest offset (arrival − timestamp) seen, so stamps keep the device's spacing and lose the scheduling
 * jitter, which would otherwise look like path jitter and grow the receiver's playout delay. A timestamp
 * going back, or an offset gone stale by a second (a new device, a clock step), starts over.
 */
export class CaptureClock {
  #offset: number | null = null;
  #lastTs = -Infinity;

  /** The capture time (our Date.now() scale) of a frame with media timestamp `timestampUs` seen at `now`. */
  stamp(timestampUs: number, now: number): number {
    const ts = timestampUs / 1000;
    const offset = now - ts;
    if (this.#offset === null || ts < this.#lastTs || offset < this.#offset || offset - this.#offset > 1_000)
      this.#offset = offset;
    this.#lastTs = ts;
    return ts + this.#offset;
  }

  reset(): void {
    this.#offset = null;
    this.#lastTs = -Infinity;
  }
}

/**
 * How far a stream's frames come late, measured as a jitter buffer downstream sees it (Chromium's NetEq sizes
 * its target from this): each frame's delay (arrival − media time) above the smallest delay of the last
 * `baselineMs`, the largest per `windowMs`, and of those windows' maxima over the last `keep` windows the
 * p50/p95. A buffer that covers the p95 underruns in about one window in twenty.
 */
export class SpreadMeter {
  readonly #recent: Array<{ at: number; delay: number }> = [];
  readonly #maxima: number[] = [];
  #windowStart: number | null = null;
  #windowMax = 0;

  constructor(
    readonly baselineMs = 2_000,
    readonly windowMs = 500,
    readonly keep = 20,
  ) {}

  /** A frame with media time `mediaMs` (any fixed origin) arrived at `now`. */
  record(now: number, mediaMs: number): void {
    const delay = now - mediaMs;
    this.#recent.push({ at: now, delay });
    while (this.#recent.length > 1 && now - this.#recent[0]!.at > this.baselineMs) this.#recent.shift();
    let base = Infinity;
    for (const r of this.#recent) base = Math.min(base, r.delay);
    if (this.#windowStart === null) this.#windowStart = now;
    else if (now - this.#windowStart >= this.windowMs) {
      this.#maxima.push(this.#windowMax);
      if (this.#maxima.length > this.keep) this.#maxima.shift();
      this.#windowStart = now;
      this.#windowMax = 0;
    }
    this.#windowMax = Math.max(this.#windowMax, delay - base);
  }

  /** p50/p95 of the windows' largest spreads, or null before the first window closed. */
  summary(): StageSummary | null {
    if (this.#maxima.length === 0) return null;
    return { p50: percentile(this.#maxima, 0.5), p95: percentile(this.#maxima, 0.95) };
  }

  reset(): void {
    this.#recent.length = 0;
    this.#maxima.length = 0;
    this.#windowStart = null;
    this.#windowMax = 0;
  }
}

/**
 * The largest value per `windowMs` (a wait, a queue), p50/p95 over the last `keep` windows: how bad the worst
 * moment of a typical half second is, and of a bad one.
 */
export class PeakMeter {
  readonly #maxima: number[] = [];
  #windowStart: number | null = null;
  #windowMax = 0;

  constructor(
    readonly windowMs = 500,
    readonly keep = 20,
  ) {}

  record(now: number, value: number): void {
    this.#windowMax = Math.max(this.#windowMax, value);
    if (this.#windowStart === null) this.#windowStart = now;
    else if (now - this.#windowStart >= this.windowMs) {
      this.#maxima.push(this.#windowMax);
      if (this.#maxima.length > this.keep) this.#maxima.shift();
      this.#windowStart = now;
      this.#windowMax = 0;
    }
  }

  summary(): StageSummary | null {
    if (this.#maxima.length === 0) return null;
    return { p50: percentile(this.#maxima, 0.5), p95: percentile(this.#maxima, 0.95) };
  }
}

/**
 * The longest pause between consecutive events (records sent or received) per `windowMs`, p50/p95 over the
 * last `keep` windows: where along a path a stall happens (media flows every ~10–20 ms, so a long pause is a
 * stall of whatever produced or carried it).
 */
export class GapMeter {
  readonly #peaks: PeakMeter;
  #last: number | null = null;

  constructor(windowMs = 500, keep = 20) {
    this.#peaks = new PeakMeter(windowMs, keep);
  }

  record(now: number): void {
    this.#peaks.record(now, this.#last === null ? 0 : now - this.#last);
    this.#last = now;
  }

  summary(): StageSummary | null {
    return this.#peaks.summary();
  }
}

/**
 * Capture times of an audio encoder's output. The encoder's output timestamps are its own (Chromium's Opus
 * encoder numbers its 20 ms frames on a timeline of its own, ~13 s off the microphone's in bench:call), so they
 * cannot be looked up among the inputs'. The encoder drops no samples: its n-th output starts at the sample
 * where the outputs before it ended, and that sample's capture time is its input's plus its place in it.
 */
export class EncoderTimeline {
  readonly #inputs: Array<{ start: number; frames: number; rate: number; captureMs: number }> = [];
  #inEnd = 0;
  #outAt = 0;

  /** An input of `frames` samples at `sampleRate`, its first sample captured at `captureMs`. */
  input(frames: number, sampleRate: number, captureMs: number): void {
    this.#inputs.push({ start: this.#inEnd, frames, rate: sampleRate, captureMs });
    this.#inEnd += frames;
    if (this.#inputs.length > 200) this.#inputs.shift();
  }

  /** The next output, of `frames` samples: its first sample's capture time (null: no input for it). */
  output(frames: number): number | null {
    const at = this.#outAt;
    this.#outAt += frames;
    while (this.#inputs.length > 0 && this.#inputs[0]!.start + this.#inputs[0]!.frames <= at) this.#inputs.shift();
    const input = this.#inputs[0];
    if (!input || input.start > at) return null;
    return input.captureMs + ((at - input.start) * 1000) / input.rate;
  }

  reset(): void {
    this.#inputs.length = 0;
    this.#inEnd = 0;
    this.#outAt = 0;
  }
}
