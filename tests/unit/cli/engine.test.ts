// The CLI's Messenger settings that the relay path's speed depends on.
import { describe, expect, it } from 'vitest';
import { STREAM_WINDOW_BYTES } from '../../../cli/src/engine.js';
import { DEFAULT_RELAY_WINDOW_BYTES } from '../../../core/src/transfer/engine.js';
import { MAX_STREAM_PAYLOAD } from '../../../core/src/session/stream.js';

describe('parley engine settings', () => {
  it("the stream's window covers the transfer engine's relay window, so the stream does not cap it", () => {
    expect(STREAM_WINDOW_BYTES).toBeGreaterThanOrEqual(DEFAULT_RELAY_WINDOW_BYTES);
    // Bounded: the sender keeps every unacknowledged frame in memory.
    expect(STREAM_WINDOW_BYTES).toBeLessThanOrEqual(64 * MAX_STREAM_PAYLOAD);
  });
});
