// A connected call's clock and live statistics: the timer ticks and the stats are sampled once a second
// while the call is connected; the panel showing them is toggled by the user.
import type { CallStats } from '../../../../core/src/call/types.js';

export interface Ticker {
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

const systemTicker: Ticker = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const id = setInterval(fn, ms);
    return () => clearInterval(id);
  },
};

export class CallStatsMonitor {
  readonly #ticker: Ticker;
  #now = $state(0);
  #stats = $state<CallStats | null>(null);
  #visible = $state(false);
  #stops: Array<() => void> = [];

  constructor(ticker: Ticker = systemTicker) {
    this.#ticker = ticker;
    this.#now = ticker.now();
  }

  get now(): number {
    return this.#now;
  }
  get stats(): CallStats | null {
    return this.#stats;
  }
  /** Whether the statistics panel is open. */
  get visible(): boolean {
    return this.#visible;
  }
  get running(): boolean {
    return this.#stops.length > 0;
  }

  /** Starts ticking and sampling (idempotent); `keep` says whether a sample still applies when it arrives. */
  start(sample: () => Promise<CallStats | null>, keep: () => boolean): void {
    this.#now = this.#ticker.now();
    if (this.running) return;
    this.#stops.push(this.#ticker.every(1000, () => (this.#now = this.#ticker.now())));
    this.#stops.push(
      this.#ticker.every(1000, () => {
        void sample()
          .catch(() => null)
          .then((stats) => {
            if (stats && keep()) this.#stats = stats;
          });
      }),
    );
  }

  stop(): void {
    for (const stop of this.#stops) stop();
    this.#stops = [];
    this.#stats = null;
  }

  toggle(): void {
    this.#visible = !this.#visible;
  }

  hide(): void {
    this.#visible = false;
  }
}
