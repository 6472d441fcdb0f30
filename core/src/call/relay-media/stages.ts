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
