import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer } from './load.js';

interface FormatModule {
  formatBytes(n: number): string;
  formatSpeed(n: number): string;
  formatEta(remaining: number, speed: number): string | null;
  formatDuration(ms: number): string;
  formatBitrate(bps: number): string;
  initials(name: string): string;
  hueOf(id: string): number;
  formatListStamp(at: number, now: number, locale: string): string;
}
interface SpeedMeterLike {
  sample(bytes: number, at: number): number;
  reset(): void;
}
let f: FormatModule;
let SpeedMeter: new (halfLifeMs?: number) => SpeedMeterLike;

beforeAll(async () => {
  f = await loadRenderer<FormatModule>('lib/format.ts');
  ({ SpeedMeter } = await loadRenderer<{ SpeedMeter: typeof SpeedMeter }>('lib/speed.ts'));
});

describe('sizes and speeds', () => {
  it('formats bytes in binary units with sensible precision', () => {
    expect(f.formatBytes(0)).toBe('0 B');
    expect(f.formatBytes(1023)).toBe('1023 B');
    expect(f.formatBytes(1536)).toBe('1.5 KB');
    expect(f.formatBytes(50 * 1024 * 1024)).toBe('50 MB');
    expect(f.formatBytes(3.25 * 1024 ** 3)).toBe('3.3 GB');
    expect(f.formatBytes(-1)).toBe('—');
    expect(f.formatBytes(Number.NaN)).toBe('—');
  });

  it('formats speeds per second', () => {
    expect(f.formatSpeed(18 * 1024 * 1024)).toBe('18 MB/s');
    expect(f.formatSpeed(512)).toBe('512 B/s');
    expect(f.formatSpeed(Infinity)).toBe('—');
  });

  it('gives an ETA only when it can be estimated', () => {
    expect(f.formatEta(10 * 1024 * 1024, 1024 * 1024)).toBe('0:10');
    expect(f.formatEta(90 * 1024, 1024)).toBe('1:30');
    expect(f.formatEta(3 * 3600 + 61, 1)).toBe('3:01:01');
    expect(f.formatEta(1000, 0)).toBeNull();
    expect(f.formatEta(1000, Number.NaN)).toBeNull();
    expect(f.formatEta(100 * 3600, 1)).toBeNull();
    expect(f.formatEta(0, 100)).toBe('0:00');
  });

  it('formats call timers and bitrates', () => {
    expect(f.formatDuration(0)).toBe('0:00');
    expect(f.formatDuration(65_400)).toBe('1:05');
    expect(f.formatDuration(3_725_000)).toBe('1:02:05');
    expect(f.formatBitrate(2_500_000)).toBe('2.5 Mbps');
    expect(f.formatBitrate(64_000)).toBe('64 kbps');
    expect(f.formatBitrate(300)).toBe('300 bps');
  });

  it('makes avatar initials from any script', () => {
    expect(f.initials('Ada Lovelace')).toBe('AL');
    expect(f.initials('  bob ')).toBe('B');
    expect(f.initials('李雷')).toBe('李');
    expect(f.initials('')).toBe('?');
    expect(f.initials('😀 smile')).toBe('😀S');
    expect(f.hueOf('abc')).toBe(f.hueOf('abc'));
    expect(f.hueOf('abc')).toBeGreaterThanOrEqual(0);
    expect(f.hueOf('abc')).toBeLessThan(360);
  });

  it('stamps the contact list with a time today and a date long ago', () => {
    const now = new Date(2025, 2, 10, 15, 0).getTime();
    expect(f.formatListStamp(new Date(2025, 2, 10, 9, 5).getTime(), now, 'en-GB')).toBe('9:05');
    expect(f.formatListStamp(new Date(2024, 0, 2).getTime(), now, 'en-GB')).toMatch(/2\/1\/24|02\/01\/24/);
  });
});

describe('SpeedMeter', () => {
  it('measures a steady rate and smooths a spike', () => {
    const m = new SpeedMeter(2000);
    expect(m.sample(0, 0)).toBe(0);
    expect(m.sample(1_000_000, 1000)).toBeCloseTo(1_000_000, -3);
    for (let t = 2000; t <= 10_000; t += 1000) m.sample((t / 1000) * 1_000_000, t);
    expect(m.sample(11_000_000, 11_000)).toBeCloseTo(1_000_000, -3);
    // One second at 5 MB/s moves the estimate up, but not all the way.
    const spiked = m.sample(16_000_000, 12_000);
    expect(spiked).toBeGreaterThan(1_500_000);
    expect(spiked).toBeLessThan(5_000_000);
  });

  it('restarts when the byte count goes back (resume from an offset)', () => {
    const m = new SpeedMeter();
    m.sample(0, 0);
    m.sample(5_000_000, 1000);
    expect(m.sample(1_000, 2000)).toBe(0);
    expect(m.sample(1_001_000, 3000)).toBeCloseTo(1_000_000, -3);
  });

  it('ignores samples with no time elapsed', () => {
    const m = new SpeedMeter();
    m.sample(0, 0);
    const r = m.sample(100, 1000);
    expect(m.sample(5000, 1000)).toBe(r);
  });
});
