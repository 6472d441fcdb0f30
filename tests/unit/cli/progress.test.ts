import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../../cli/src/format.js';
import { PlainProgress, progressLine, TtyProgress } from '../../../cli/src/progress.js';

describe('progress formatting', () => {
  it('formats sizes and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500_000)).toBe('1.50 MB');
    expect(formatBytes(123_400_000_000)).toBe('123 GB');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(null)).toBe('--:--');
  });

  it('draws a bar with percent, bytes, speed, ETA and path within the width', () => {
    const line = progressLine(
      {
        key: 'k',
        name: 'photos/2024/beach.jpg',
        done: 25_000_000,
        size: 100_000_000,
        speed: 5_000_000,
        path: 'direct',
      },
      100,
    );
    expect(line.length).toBeLessThanOrEqual(100);
    expect(line).toContain(' 25% 25.0 MB/100 MB 5.00 MB/s ETA 0:15 direct');
    expect(line).toMatch(/\[#+-+\]/);
    expect(line).toContain('beach.jpg');
  });

  it('plain output prints at start, each quarter and the end, not on every event', () => {
    const lines: string[] = [];
    const p = new PlainProgress((l) => lines.push(l));
    for (let done = 0; done <= 100; done += 5)
      p.update({ key: 'a', name: 'a.bin', done, size: 100, speed: 10, path: 'relay' });
    p.finish('a', 'a.bin verified');
    expect(lines).toEqual([
      'a.bin: 0% of 100 B, 10 B/s (relay)',
      'a.bin: 25% of 100 B, 10 B/s (relay)',
      'a.bin: 50% of 100 B, 10 B/s (relay)',
      'a.bin: 75% of 100 B, 10 B/s (relay)',
      'a.bin verified',
    ]);
  });

  it('terminal output redraws live bars in place and keeps finished lines above them', async () => {
    let written = '';
    const stream = { columns: 80, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    const t = new TtyProgress(stream, 0);
    t.update({ key: 'a', name: 'a.bin', done: 10, size: 100, speed: 1, path: 'direct' });
    t.update({ key: 'b', name: 'b.bin', done: 50, size: 100, speed: 1, path: 'direct' });
    // Updates are coalesced into one draw on a timer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    // eslint-disable-next-line no-control-regex -- the terminal escape under test
    expect(written.match(/\r\x1b\[2K/g)).toHaveLength(2);
    t.finish('a', 'a.bin verified');
    t.close();
    // The second draw moves up over the two bars it drew before, prints the summary, then one bar.
    expect(written).toContain('\x1b[2A');
    expect(written).toContain('\r\x1b[2Ka.bin verified\n');
    expect(written.split('a.bin verified')[1]).toContain('b.bin');
  });
});
