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
// Pure (an injected clock); the stream reports cumulative byte positions: written, and acknowledged.

/** Chunk size a file sender uses on a yielding stream: one chunk is ~20 ms of a 12 Mbit/s link, not ~170 ms. */
export const YIELD_CHUNK_BYTES = 32 * 1024;

export interface YieldPacerOptions {
  now?: () => number;
  /**
   * Queueing delay (ms) the stream may add to its round trip: LEDBAT's target. Default 40: over the relay a
   * frame and its acknowledgement both cross the relay's outgoing link, so that is ~20 ms of that link's queue.
   */
  targetMs?: number;
  /** In-flight bytes always allowed (the file never stalls). Default 72 KiB: two chunks with their headers. */
  minBytes?: number;
  /** Most in-flight bytes. Default 8 MiB. */
  maxBytes?: number;
  /** In-flight bytes allowed at first. Default 128 KiB. */
  startBytes?: number;
  /** Growth per round trip with empty queues (LEDBAT's GAIN × MSS). Default 32 KiB. */
  stepBytes?: number;
  /** The base delay is the least seen over this long (a path or load change ages out). Default 30 s. */
  baseWindowMs?: number;
}

const DEFAULTS = {
  targetMs: 40,
  minBytes: 72 * 1024,
  maxBytes: 8 * 1024 * 1024,
  startBytes: 128 * 1024,
  stepBytes: 32 * 1024,
  baseWindowMs: 30_000,
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

export class YieldPacer {
  readonly #o: typeof DEFAULTS;
  readonly #now: () => number;
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

  constructor(options: YieldPacerOptions = {}) {
    const { now, ...rest } = options;
    this.#o = { ...DEFAULTS, ...rest };
    this.#now = now ?? Date.now;
    this.#limit = clamp(this.#o.startBytes, this.#o.minBytes, this.#o.maxBytes);
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
    const ok = inflight <= 0 || inflight + size <= this.#limit;
    if (!ok) this.#held = true;
    return ok;
  }

  /** Stream bytes up to `upTo` (cumulative) are written. A re-send (not beyond what was written) is ignored. */
  onSent(upTo: number): void {
    if (upTo <= this.#sentTo) return;
    this.#sentTo = upTo;
    this.#sent.push({ upTo, at: this.#now() });
  }

  /** The peer acknowledged stream bytes up to `upTo` (cumulative). */
  onAcked(upTo: number): void {
    const newly = upTo - this.#acked;
    if (newly <= 0) return;
    this.#acked = upTo;
    const now = this.#now();
    let newest: { upTo: number; at: number } | undefined;
    while (this.#sent.length > 0 && this.#sent[0]!.upTo <= upTo) newest = this.#sent.shift();
    if (!newest) return;
    const rtt = now - newest.at;
    this.#sample(rtt, now);
    const queueing = this.#current() - this.baseDelayMs!;
    const { targetMs, stepBytes, minBytes, maxBytes } = this.#o;
    let limit = this.#limit;
    if (queueing > HALVE_AT_TARGETS * targetMs) {
      // Far above the target: a queue stands (or a burst just went out); halve, once per round trip.
      if (now - this.#lastHalving >= Math.max(rtt, targetMs)) {
        this.#lastHalving = now;
        limit /= 2;
      }
    } else {
      const offTarget = Math.max(-1, (targetMs - queueing) / targetMs);
      limit += (offTarget * stepBytes * newly) / limit;
    }
    // Grow only while the allowance is what limits the stream (LEDBAT's rule for an application-limited sender).
    if (!this.#held) limit = Math.min(limit, this.#limit);
    this.#held = false;
    this.#limit = clamp(limit, minBytes, maxBytes);
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
