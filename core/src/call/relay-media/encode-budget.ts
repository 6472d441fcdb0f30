// How large a picture the relay call's video encoder can afford on this machine (CPU, not the network: the
// congestion controller scales for the network). Software VP8 at 640×480 on a busy 2-core machine could not
// encode in real time: frames queued in the encoder (capture → encoded p95 ~300 ms), and the load it put on
// the machine delayed every other thread of both calls' media. So the encoder starts at half size (a quarter
// of the pixels) and steps up only when the half-size frames encode fast enough that four times the work
// still fits in one frame interval; it steps back down as soon as full-size frames take longer than a frame
// interval, and then waits twice as long before trying again. A step up is judged on the last 6 s of frames,
// not 2 s: on a loaded machine a quiet 2 s came often enough that the picture went to full size and back
// (two key frames and two encoder resets on both sides) once or twice per bench:call relay phase.
// Pure: times are passed in.

export interface EncodeBudgetOptions {
  /** One frame interval: an encode (capture → encoded) must fit in it to keep real time. */
  frameBudgetMs?: number;
  /** Work of a full-size frame over a half-size one (the pixel ratio). */
  upFactor?: number;
  /** Encode times a step down is judged on (ms of frames). */
  windowMs?: number;
  /** Encode times a step up is judged on (ms of frames): longer, a quiet moment is not headroom. */
  upWindowMs?: number;
  /** Frames needed in the window before a decision. */
  minSamples?: number;
  /** Time at half size before the first step up; doubles after each step down, up to maxHoldMs. */
  holdMs?: number;
  maxHoldMs?: number;
}

const DEFAULTS: Required<EncodeBudgetOptions> = {
  frameBudgetMs: 33,
  upFactor: 4,
  windowMs: 2_000,
  upWindowMs: 6_000,
  minSamples: 20,
  holdMs: 3_000,
  maxHoldMs: 60_000,
};

export class EncodeBudget {
  readonly #o: Required<EncodeBudgetOptions>;
  #samples: Array<{ at: number; ms: number }> = [];
  /** 2: half size (each side halved), 1: full size. */
  #scale: 1 | 2 = 2;
  #changedAt: number | null = null;
  #hold: number;
  /** Steps down so far (for stats). */
  stepsDown = 0;

  constructor(options: EncodeBudgetOptions = {}) {
    this.#o = { ...DEFAULTS, ...options };
    this.#hold = this.#o.holdMs;
  }

  /** The scale to encode at now (2: half size). */
  get scale(): 1 | 2 {
    return this.#scale;
  }

  /** A frame at the current scale took `ms` from capture to encoded (Infinity: skipped, the encoder was full). */
  record(now: number, ms: number): void {
    this.#changedAt ??= now;
    this.#samples.push({ at: now, ms });
    const keep = Math.max(this.#o.windowMs, this.#o.upWindowMs);
    while (this.#samples.length > 0 && now - this.#samples[0]!.at > keep) this.#samples.shift();
    const p95Within = (ms: number): number | null => {
      const recent = this.#samples.filter((s) => now - s.at <= ms).map((s) => s.ms);
      if (recent.length < this.#o.minSamples) return null;
      recent.sort((a, b) => a - b);
      return recent[Math.min(recent.length - 1, Math.floor(recent.length * 0.95))]!;
    };
    if (this.#scale === 1) {
      const p95 = p95Within(this.#o.windowMs);
      if (p95 !== null && p95 > this.#o.frameBudgetMs) {
        this.#set(2, now);
        this.stepsDown++;
        this.#hold = Math.min(this.#o.maxHoldMs, this.#hold * 2);
      }
    } else if (now - this.#changedAt >= this.#hold) {
      const p95 = p95Within(this.#o.upWindowMs);
      if (p95 !== null && p95 * this.#o.upFactor <= this.#o.frameBudgetMs) this.#set(1, now);
    }
  }

  #set(scale: 1 | 2, now: number): void {
    this.#scale = scale;
    this.#changedAt = now;
    this.#samples = []; // times at the old size say nothing about the new one
  }
}
