// Smoothed speed and ETA for progress events, driven by the byte counts themselves (no timers).

/** Exponentially weighted speed with a time constant, so a burst or a stall does not swing the ETA. */
export class SpeedMeter {
  private lastAt: number | null = null;
  private lastBytes = 0;
  private smoothed = 0;

  constructor(private readonly tauMs = 2000) {}

  /** Feeds the running total at time `now` (ms); returns the smoothed bytes/second. */
  sample(totalBytes: number, now: number): number {
    if (this.lastAt === null) {
      this.lastAt = now;
      this.lastBytes = totalBytes;
      return this.smoothed;
    }
    const dt = now - this.lastAt;
    if (dt <= 0) return this.smoothed;
    const instant = ((totalBytes - this.lastBytes) * 1000) / dt;
    const alpha = this.smoothed === 0 ? 1 : 1 - Math.exp(-dt / this.tauMs);
    this.smoothed += alpha * (instant - this.smoothed);
    this.lastAt = now;
    this.lastBytes = totalBytes;
    return this.smoothed;
  }

  /** Restarts the baseline (after a pause), keeping the smoothed speed as a first guess. */
  rebase(totalBytes: number, now: number): void {
    this.lastAt = now;
    this.lastBytes = totalBytes;
  }

  get speed(): number {
    return this.smoothed;
  }
}

export function etaSeconds(remaining: number, speed: number): number | null {
  if (remaining <= 0) return 0;
  if (speed <= 0) return null;
  return remaining / speed;
}
