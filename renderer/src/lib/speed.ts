// Transfer speed as an exponentially weighted moving average over progress samples, so the shown
// speed and ETA do not jump with every chunk. Pure and clock-injected: unit-tested.

export class SpeedMeter {
  private lastBytes: number | null = null;
  private lastAt = 0;
  private rate = 0;

  /** halfLifeMs: how fast old samples fade (a few seconds keeps the ETA steady but responsive). */
  constructor(private readonly halfLifeMs = 2000) {}

  /** Records the total bytes done at time `at` (ms); returns the smoothed bytes per second. */
  sample(bytes: number, at: number): number {
    if (this.lastBytes === null || bytes < this.lastBytes) {
      // First sample, or a restart from a lower offset (resume): start measuring afresh.
      this.lastBytes = bytes;
      this.lastAt = at;
      this.rate = 0;
      return this.rate;
    }
    const dt = at - this.lastAt;
    if (dt <= 0) return this.rate;
    const instant = ((bytes - this.lastBytes) * 1000) / dt;
    const alpha = this.rate === 0 ? 1 : 1 - Math.pow(0.5, dt / this.halfLifeMs);
    this.rate += alpha * (instant - this.rate);
    this.lastBytes = bytes;
    this.lastAt = at;
    return this.rate;
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  reset(): void {
    this.lastBytes = null;
    this.rate = 0;
  }
}
