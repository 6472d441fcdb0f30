// Time and timers as a dependency, so policies that wait (sessions) can be tested with a fake clock.
export type TimerId = ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds since the epoch (Date.now() on the system clock). */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerId;
  /** Accepts undefined (no timer) like the global. */
  clearTimeout(timer: TimerId | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer),
};
