// Times from a broken or hostile clock (issue 12.7) never throw when formatted: a stored stamp past
// the largest Date (1e16) or NaN shows as "—", and the timeline still builds with unique keys.
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../../core/src/api.js';
import { buildTimeline } from '../../../../renderer/src/components/chat/timeline.js';
import {
  formatClock,
  formatDay,
  formatFull,
  formatListStamp,
  isoTime,
  isSameDay,
  validTime,
} from '../../../../renderer/src/lib/format.js';

const NOW = new Date(2026, 11, 5, 10, 0).getTime();
const BAD = [1e16, -1e16, Number.NaN, Number.POSITIVE_INFINITY];

function msg(seq: number, at: number, sentAt = at): ChatMessage {
  return {
    id: `m${seq}`,
    contactId: 'c',
    direction: 'in',
    text: `t${seq}`,
    sentAt,
    at,
    status: 'delivered',
    seq,
    read: true,
  };
}

describe('formatting a time no Date can hold', () => {
  it('each formatter gives "—" (or "" for a datetime attribute) instead of throwing', () => {
    expect(() => new Date(1e16).toISOString()).toThrow(RangeError);
    for (const at of BAD) {
      expect(validTime(at)).toBeNull();
      expect(formatClock(at, 'en-US')).toBe('—');
      expect(formatDay(at, 'zh-CN')).toBe('—');
      expect(formatFull(at, 'en-US')).toBe('—');
      expect(formatListStamp(at, NOW, 'en-US')).toBe('—');
      expect(isoTime(at)).toBe('');
      expect(isSameDay(at, NOW)).toBe(false);
    }
  });

  it('good times format as before', () => {
    expect(isoTime(NOW)).toBe(new Date(NOW).toISOString());
    expect(formatClock(NOW, 'en-US')).toMatch(/^10:00\s?AM$/);
    expect(formatListStamp(NOW - 60_000, NOW, 'en-US')).toMatch(/^9:59\s?AM$/);
  });

  it('the timeline builds around a bad stamp, with a unique key per item', () => {
    const items = buildTimeline(
      [msg(1, NOW), msg(2, 1e16), msg(3, NOW + 1000), msg(4, Number.NaN), msg(5, NOW + 2000)],
      [],
      true,
    );
    const keys = items.map((i) => i.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(items.filter((i) => i.kind === 'message')).toHaveLength(5);
  });
});
