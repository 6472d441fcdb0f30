// The queueing a call's relay media sees, from its own round trips (the media worker's receiver feedback),
// for session streams that yield to the call (yield-pacer.ts). A file's frames and the call's media cross the
// same bottleneck (the relay's outgoing link), so a queue the file builds there delays both; but the media's
// round trip runs between the two media workers and the lane sockets' worker, not through either page's main
// thread, so it is not inflated by the page work (decrypting, hashing, rendering progress) that delays the
// stream's own acknowledgements by 100-700 ms on a busy machine.
//
// Pure (an injected clock); YieldToCalls samples the live call's round trip a few times a second.

export interface MediaDelayOptions {
  now?: () => number;
  /** The base is the least round trip seen over this long (a path or load change ages out). Default 30 s. */
  baseWindowMs?: number;
  /**
   * The current round trip is the least of those sampled over this long. The round trip includes the
   * sender's encoding and up to one feedback period (100 ms) at the receiver: the least of several filters
   * that out, while a standing queue delays every sample. Default 1 s.
   */
  currentMs?: number;
  /** No sample this long: no reading (the call left the relay, or its feedback stopped). Default 2 s. */
  staleMs?: number;
}

const BASE_BUCKETS = 6;

export class MediaDelay {
  readonly #now: () => number;
  readonly #baseWindowMs: number;
  readonly #currentMs: number;
  readonly #staleMs: number;
  readonly #recent: Array<{ at: number; rtt: number }> = [];
  readonly #base: Array<{ start: number; min: number }> = [];

  constructor(options: MediaDelayOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#baseWindowMs = options.baseWindowMs ?? 30_000;
    this.#currentMs = options.currentMs ?? 1_000;
    this.#staleMs = options.staleMs ?? 2_000;
  }

  /** A round trip reading (ms); null or a non-finite value is ignored. */
  record(rttMs: number | null): void {
    if (rttMs === null || !Number.isFinite(rttMs) || rttMs < 0) return;
    const now = this.#now();
    this.#recent.push({ at: now, rtt: rttMs });
    while (this.#recent.length > 0 && now - this.#recent[0]!.at > this.#currentMs) this.#recent.shift();
    const span = this.#baseWindowMs / BASE_BUCKETS;
    const last = this.#base.at(-1);
    if (last && now - last.start < span) last.min = Math.min(last.min, rttMs);
    else this.#base.push({ start: now, min: rttMs });
    while (this.#base.length > BASE_BUCKETS) this.#base.shift();
  }

  /** The queueing the media sees now (ms): its current round trip above its base; null without recent readings. */
  queueingMs(): number | null {
    const now = this.#now();
    const fresh = this.#recent.filter((r) => now - r.at <= this.#currentMs);
    const newest = this.#recent.at(-1);
    if (!newest || now - newest.at > this.#staleMs) return null;
    const current = Math.min(...(fresh.length > 0 ? fresh : [newest]).map((r) => r.rtt));
    return current - Math.min(...this.#base.map((b) => b.min));
  }
}
