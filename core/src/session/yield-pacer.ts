// How much of a reliable stream may be in flight while a call shares its path (issue #11: media must not queue
// behind files). Call media has its own relay connection, but on the wire it shares the links with the session's
// relay connection; a file on that connection keeps every queue on its path full — the bottleneck link's queue
// above all — and each media frame waits behind it (bench:call measured +190 ms P95 on a 12 Mbit/s link).
//
// A LEDBAT-like controller (RFC 6817) on the stream's own round trips: the delay from writing a frame to its
// acknowledgement, above the least such delay seen lately (the base: the path's processing with empty queues),
// is the queue the stream itself builds where it shares a link. Below the target the allowance grows by up to
// one step per round trip; above it, it shrinks in proportion, and halves at once (at most once a round trip)
// when the queue is far above the target. So a file gives way to media within a round trip or two, takes the
// link back when the call's traffic goes, and never stalls: two small chunks may always be in flight.
//
// On a busy machine the stream's round trip is mostly the two pages' own work (100-700 ms with empty queues,
// 3-10 acknowledgements a second), which reads as a queue: the allowance sat at its floor and the file got a
// third of the link. So when the call's media measures the path itself (media-delay.ts: its round trip runs
// between workers, not through the pages), the queue is the lesser of the two readings, each against its own
// target: a queue the file builds at the shared bottleneck delays both, a busy page only the stream's.
//
// Writes are also spaced in time (a token bucket at up to PACE_GAIN times the rate the peer acknowledged over
// the last second, less as the queue nears the target): late acknowledgements come in bursts, and each released
// a window's worth at once, which stood in the bottleneck's queue in front of the media (and overflowed a short
// one).
//
// Pure (an injected clock); the stream reports cumulative byte positions: written, and acknowledged.

/**
 * Chunk size a file sender uses on a yielding stream: one chunk is ~11 ms of a 12 Mbit/s link, not ~170 ms.
 * Each goes into the bottleneck's queue at once (the relay writes a record whole), so media frames wait behind
 * up to one: bench:call read the call's P95 +30 to +62 ms during the file with 16 KiB, +34 to +116 with 32.
 */
export const YIELD_CHUNK_BYTES = 16 * 1024;

export interface YieldPacerOptions {
  now?: () => number;
  /**
   * Queueing delay (ms) the stream may add to its round trip: LEDBAT's target. Default 16: over the relay a
   * frame and its acknowledgement both cross the relay's outgoing link, so that is ~8 ms of that link's queue
   * (bench:call: the call's frames arrived +34 ms later during the file unpaced at 40, +20 paced at 24, +14
   * at 16, the file's rate the same 1.17 MB/s of the 1.5 MB/s link).
   */
  targetMs?: number;
  /** In-flight bytes always allowed (the file never stalls). Default 72 KiB (four chunks with their headers). */
  minBytes?: number;
  /** Most in-flight bytes. Default 8 MiB. */
  maxBytes?: number;
  /** In-flight bytes allowed at first. Default 128 KiB. */
  startBytes?: number;
  /** Growth per round trip with empty queues (LEDBAT's GAIN × MSS). Default 32 KiB. */
  stepBytes?: number;
  /** The base delay is the least seen over this long (a path or load change ages out). Default 30 s. */
  baseWindowMs?: number;
  /** The queueing (ms) the call's media sees on the shared path now, or null (MediaDelay.queueingMs). */
  mediaQueueingMs?: () => number | null;
  /**
   * The media's target (ms). Default 24: a frame and the receiver's feedback on it cross the relay's outgoing
   * link too, and its reading carries more noise (encoding, the feedback period) than the stream's own on an
   * idle machine; on a busy one, where it decides, a lower target cost the file a third of its rate in
   * yield-pacer.test.ts's busy-page simulation.
   */
  mediaTargetMs?: number;
}

const DEFAULTS = {
  targetMs: 16,
  minBytes: 72 * 1024,
  maxBytes: 8 * 1024 * 1024,
  startBytes: 128 * 1024,
  stepBytes: 32 * 1024,
  baseWindowMs: 30_000,
  mediaTargetMs: 24,
};

/** The base delay's history: this many buckets of baseWindowMs / BASE_BUCKETS each. */
const BASE_BUCKETS = 6;
/**
 * The current delay is the least of the last few samples, of those from the last CURRENT_MS: a queue the
 * stream builds delays every acknowledgement, while a busy page (either end's: the round trip runs through
 * both) delays some by tens of ms and others not. Behind a long queue acknowledgements are sparse, and old
 * ones would hide it.
 */
const CURRENT_SAMPLES = 8;
const CURRENT_MS = 250;
/**
 * Queueing this many targets deep halves the allowance at once. Not less: on a busy machine one stalled page
 * delays a few acknowledgements by 100 ms or more, and halving on each would leave the file little of the link.
 */
const HALVE_AT_TARGETS = 4;
/**
 * Writes go at most this many times the rate acknowledged over the last DELIVERY_MS (room to grow) with empty
 * queues, less as the queue nears the target (at the target: the rate acknowledged).
 */
const PACE_GAIN = 1.25;
const DELIVERY_MS = 1_000;
/** The delivery rate needs acknowledgements spanning this long (ms); before that, writes are not spaced. */
const DELIVERY_MIN_SPAN_MS = 200;
/** Pacing never goes below this many bytes per ms (~0.36 MB/s). */
const MIN_PACE = 360;
/**
 * Pacing before the peer's rate is known (~0.72 MB/s): the first window at once stood ~85 ms in a 12 Mbit/s
 * link's queue, and the call's jitter buffer, grown on that spike, kept its delay for the whole transfer.
 */
const START_PACE = 720;
/** Bytes the pacing lets out back to back (one frame: two at once stood twice as long in the link's queue). */
const PACE_BURST = YIELD_CHUNK_BYTES + 1024;

export class YieldPacer {
  readonly #o: typeof DEFAULTS;
  readonly #now: () => number;
  readonly #media: () => number | null;
  #limit: number;
  /** Frames written and not yet acknowledged: cumulative end position and when it was written. */
  readonly #sent: Array<{ upTo: number; at: number }> = [];
  #sentTo = 0;
  #acked = 0;
  readonly #recent: Array<{ at: number; rtt: number }> = [];
  readonly #base: Array<{ start: number; min: number }> = [];
  #lastHalving = -Infinity;
  /** The allowance held a frame back since the last acknowledgement (the stream wanted to send more). */
  #held = false;
  /** Acknowledged positions over the last DELIVERY_MS (the delivery rate). */
  readonly #deliveries: Array<{ at: number; upTo: number }> = [];
  /** Pacing: bytes that may go now, as of #tokensAt; bytes per ms. */
  #tokens = PACE_BURST;
  #tokensAt = 0;
  #pace = START_PACE;
  #gain = PACE_GAIN;

  constructor(options: YieldPacerOptions = {}) {
    const { now, mediaQueueingMs, ...rest } = options;
    this.#o = { ...DEFAULTS, ...rest };
    this.#now = now ?? Date.now;
    this.#media = mediaQueueingMs ?? (() => null);
    this.#limit = clamp(this.#o.startBytes, this.#o.minBytes, this.#o.maxBytes);
    this.#tokensAt = this.#now();
  }

  /** Bytes allowed in flight now. */
  get limitBytes(): number {
    return this.#limit;
  }

  /** The least round trip seen lately (ms), or null before the first. */
  get baseDelayMs(): number | null {
    return this.#base.length === 0 ? null : Math.min(...this.#base.map((b) => b.min));
  }

  /** The queueing delay the stream sees now (ms): its current round trip above the base. */
  get queueingMs(): number | null {
    const base = this.baseDelayMs;
    return base === null || this.#recent.length === 0 ? null : this.#current() - base;
  }

  /** May a frame of `size` bytes be written with `inflight` bytes written and not yet acknowledged? */
  allows(inflight: number, size: number): boolean {
    if (inflight <= 0) return true;
    if (inflight + size > this.#limit) {
      this.#held = true;
      return false;
    }
    if (this.waitMs(size) <= 0) return true;
    // Spaced out with the allowance half used: acknowledgements come late and in bursts (a busy page), so the
    // allowance is what will hold the stream back before the next one; it may grow. Not when far below it.
    if (2 * (inflight + size) > this.#limit) this.#held = true;
    return false;
  }

  /** How long (ms) until pacing lets a frame of `size` bytes go (0: now); the window may still hold it. */
  waitMs(size: number): number {
    this.#refill();
    // Whole milliseconds (at least 1): the stream's timer fires no sooner.
    return this.#tokens >= size ? 0 : Math.max(1, Math.ceil((size - this.#tokens) / this.#pace));
  }

  /** Written bytes per ms the pacing allows now. */
  get paceBytesPerMs(): number {
    return this.#pace;
  }

  /** Stream bytes up to `upTo` (cumulative) are written. A re-send (not beyond what was written) is ignored. */
  onSent(upTo: number): void {
    if (upTo <= this.#sentTo) return;
    this.#refill();
    // Not below empty: a frame that went regardless (nothing in flight) does not hold the next one longer.
    this.#tokens = Math.max(0, this.#tokens - (upTo - this.#sentTo));
    this.#sentTo = upTo;
    this.#sent.push({ upTo, at: this.#now() });
  }

  /** The peer acknowledged stream bytes up to `upTo` (cumulative). */
  onAcked(upTo: number): void {
    const newly = upTo - this.#acked;
    if (newly <= 0) return;
    this.#acked = upTo;
    const now = this.#now();
    this.#delivered(upTo, now);
    let newest: { upTo: number; at: number } | undefined;
    while (this.#sent.length > 0 && this.#sent[0]!.upTo <= upTo) newest = this.#sent.shift();
    if (!newest) return;
    const rtt = now - newest.at;
    this.#sample(rtt, now);
    // The queue in targets: the stream's own reading, or the media's where it is lower (see the header).
    const { targetMs, mediaTargetMs, stepBytes, minBytes, maxBytes } = this.#o;
    const own = (this.#current() - this.baseDelayMs!) / targetMs;
    const media = this.#media();
    const load = media === null ? own : Math.min(own, media / mediaTargetMs);
    this.#gain = 1 + (PACE_GAIN - 1) * clamp(1 - load, 0, 1);
    let limit = this.#limit;
    if (load > HALVE_AT_TARGETS) {
      // Far above the target: a queue stands (or a burst just went out); halve, once per round trip.
      if (now - this.#lastHalving >= Math.max(rtt, targetMs)) {
        this.#lastHalving = now;
        limit /= 2;
      }
    } else {
      const offTarget = Math.max(-1, 1 - load);
      limit += (offTarget * stepBytes * newly) / limit;
    }
    // Grow only while the allowance is what limits the stream (LEDBAT's rule for an application-limited sender).
    if (!this.#held) limit = Math.min(limit, this.#limit);
    this.#held = false;
    this.#limit = clamp(limit, minBytes, maxBytes);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(PACE_BURST, this.#tokens + (now - this.#tokensAt) * this.#pace);
    this.#tokensAt = now;
  }

  #delivered(upTo: number, now: number): void {
    this.#deliveries.push({ at: now, upTo });
    while (this.#deliveries.length > 2 && now - this.#deliveries[1]!.at >= DELIVERY_MS) this.#deliveries.shift();
    const first = this.#deliveries[0]!;
    // Too short to tell, or spanning a pause (nothing to send): keep the pace.
    if (now - first.at < DELIVERY_MIN_SPAN_MS || now - first.at > 2 * DELIVERY_MS) return;
    this.#refill();
    this.#pace = Math.max(MIN_PACE, (this.#gain * (upTo - first.upTo)) / (now - first.at));
  }

  #current(): number {
    const latest = this.#recent.at(-1)!;
    let min = latest.rtt;
    for (const r of this.#recent) if (latest.at - r.at <= CURRENT_MS) min = Math.min(min, r.rtt);
    return min;
  }

  #sample(rtt: number, now: number): void {
    this.#recent.push({ at: now, rtt });
    if (this.#recent.length > CURRENT_SAMPLES) this.#recent.shift();
    const span = this.#o.baseWindowMs / BASE_BUCKETS;
    const last = this.#base.at(-1);
    if (last && now - last.start < span) last.min = Math.min(last.min, rtt);
    else this.#base.push({ start: now, min: rtt });
    while (this.#base.length > BASE_BUCKETS) this.#base.shift();
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
