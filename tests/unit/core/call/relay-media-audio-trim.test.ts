import { describe, expect, it } from 'vitest';
import { AudioTrim } from '../../../../core/src/call/relay-media/audio-trim.js';

describe('relay audio trim (the downstream jitter buffer far above its own target)', () => {
  it('skips the excess beyond target plus a margin, in whole 20 ms frames, in one step', () => {
    const trim = new AudioTrim();
    // bench:call's start-up: NetEq held 215 ms against a target of 87 ms.
    expect(trim.reading(1_000, 215, 87)).toBe(80); // 128 − 30 kept = 98 → 80 (whole frames)
    expect(trim.trimmedMs).toBe(80);
  });

  it('leaves a buffer near its target alone, and one below it', () => {
    const trim = new AudioTrim();
    expect(trim.reading(1_000, 140, 100)).toBe(0);
    expect(trim.reading(1_500, 60, 200)).toBe(0);
    expect(trim.reading(2_000, Number.NaN, 80)).toBe(0);
    expect(trim.trimmedMs).toBe(0);
  });

  it('waits for a trim to show in the readings before the next one, and caps each step', () => {
    const trim = new AudioTrim();
    expect(trim.reading(0, 800, 100)).toBe(300);
    // The average delay still shows the old level for a while: no second trim on it.
    expect(trim.reading(500, 700, 100)).toBe(0);
    expect(trim.reading(1_000, 500, 100)).toBe(0);
    expect(trim.reading(1_600, 300, 100)).toBe(160);
    expect(trim.trimmedMs).toBe(460);
  });
});
