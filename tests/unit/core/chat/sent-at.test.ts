// A peer's sentAt is bounded when a message arrives (issue 12.7): a hostile or broken clock cannot store a
// stamp that later throws in every render (1e16 is past the largest Date).
import { describe, expect, it } from 'vitest';
import {
  boundSentAt,
  decodeChatFrame,
  EARLIEST_SENT_AT,
  encodeChatFrame,
  MAX_CLOCK_AHEAD_MS,
} from '../../../../core/src/chat/protocol.js';

const NOW = Date.UTC(2026, 11, 5, 2, 0, 0);

describe('boundSentAt', () => {
  it('keeps a plausible stamp, including an old outbox message and a clock a little ahead', () => {
    expect(boundSentAt(NOW - 1000, NOW)).toBe(NOW - 1000);
    expect(boundSentAt(NOW - 90 * 24 * 3600_000, NOW)).toBe(NOW - 90 * 24 * 3600_000);
    expect(boundSentAt(NOW + 5 * 60_000, NOW)).toBe(NOW + 5 * 60_000);
    expect(boundSentAt(NOW + 0.5, NOW)).toBe(NOW);
  });

  it('replaces a stamp outside the window with the time the message arrived', () => {
    for (const bad of [1e16, 8.64e15 + 1, NOW + MAX_CLOCK_AHEAD_MS + 1, EARLIEST_SENT_AT - 1, 0, -1, -1e16]) {
      expect(boundSentAt(bad, NOW)).toBe(NOW);
    }
    expect(() => new Date(boundSentAt(1e16, NOW)).toISOString()).not.toThrow();
  });

  it('a frame with sentAt 1e16 still decodes (so it is stored with a sane time and acknowledged, not resent forever)', () => {
    const frame = decodeChatFrame(encodeChatFrame({ t: 'msg', id: 'abcdefgh12', text: 'hi', sentAt: 1e16 }));
    expect(frame).toMatchObject({ t: 'msg', sentAt: 1e16 });
  });
});
