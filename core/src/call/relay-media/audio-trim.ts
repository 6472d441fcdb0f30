// Relay audio plays out of a jitter buffer downstream of the media worker (Chromium's NetEq in the echo
// canceller's loopback receiver, aec-loopback.ts). NetEq sizes its own target from the arrival spread, but
// when more audio reaches it than it plays (the call's start-up: the contact's backlog arrives at once; a
// burst after a stall) its buffer sits far above that target, and it plays the excess down only slowly: in
// bench:call it held 200–250 ms with a target of 80–100 ms for the first ~7 s of a relay call, and video, timed
// to where the audio plays, waited as long. This decides, from the buffer's own readings (average delay and
// target over the last interval, getStats), how much audio the worker should skip before it hands audio on,
// so the buffer comes down to its target plus a margin in one step. Pure: times are passed in.

export interface AudioTrimOptions {
  /** Trim only when the buffer holds this much more than its target. */
  thresholdMs?: number;
  /** What the buffer keeps above its target after a trim (its target moves; a trim must not cause a gap). */
  keepMs?: number;
  /** The most skipped in one step. */
  maxStepMs?: number;
  /** After a trim, readings are ignored this long (the buffer's average delay shows the trim only later). */
  settleMs?: number;
  /** Audio is skipped in whole frames of this length. */
  frameMs?: number;
}

const DEFAULTS: Required<AudioTrimOptions> = {
  thresholdMs: 50,
  keepMs: 30,
  maxStepMs: 300,
  settleMs: 1_500,
  frameMs: 20,
};

export class AudioTrim {
  readonly #o: Required<AudioTrimOptions>;
  #lastTrimAt: number | null = null;
  /** Audio skipped so far, ms (decided; the worker skips it as frames arrive). */
  trimmedMs = 0;

  constructor(options: AudioTrimOptions = {}) {
    this.#o = { ...DEFAULTS, ...options };
  }

  /**
   * The downstream buffer held `delayMs` on average over the last reading, against its own target of
   * `targetMs`: returns the ms of audio to skip now (a whole number of frames, 0 for none).
   */
  reading(now: number, delayMs: number, targetMs: number): number {
    if (this.#lastTrimAt !== null && now - this.#lastTrimAt < this.#o.settleMs) return 0;
    const excess = delayMs - targetMs;
    if (!(excess > this.#o.thresholdMs)) return 0;
    const frame = this.#o.frameMs;
    const ms = Math.floor(Math.min(this.#o.maxStepMs, excess - this.#o.keepMs) / frame) * frame;
    if (ms <= 0) return 0;
    this.#lastTrimAt = now;
    this.trimmedMs += ms;
    return ms;
  }
}
