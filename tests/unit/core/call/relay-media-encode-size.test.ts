// core/src/call/relay-media/encode-size.ts: the relay encoder's picture has a pixel budget (640×360's), so a
// 4:3 camera costs no more per frame than a 16:9 one.
import { describe, expect, it } from 'vitest';
import {
  RELAY_MAX_HEIGHT,
  RELAY_MAX_PIXELS,
  RELAY_MAX_WIDTH,
  relayEncodeSize,
} from '../../../../core/src/call/relay-media/encode-size.js';

describe('relay media encode size', () => {
  it('an HD 16:9 camera is encoded at 640×360, half size at 320×180', () => {
    expect(relayEncodeSize(1280, 720)).toEqual({ width: 640, height: 360 });
    expect(relayEncodeSize(1920, 1080)).toEqual({ width: 640, height: 360 });
    expect(relayEncodeSize(1280, 720, 2)).toEqual({ width: 320, height: 180 });
  });

  it('a 640×480 camera is encoded within the same pixel budget, its 4:3 kept, not at 640×480', () => {
    const full = relayEncodeSize(640, 480);
    expect(full).toEqual({ width: 554, height: 414 });
    expect(full.width * full.height).toBeLessThanOrEqual(RELAY_MAX_PIXELS);
    expect(full.width).toBeGreaterThanOrEqual(320); // what a call promises to show
    const half = relayEncodeSize(640, 480, 2);
    expect(half).toEqual({ width: 276, height: 206 });
  });

  it('a small camera is not scaled up; a portrait one keeps its orientation', () => {
    expect(relayEncodeSize(320, 240)).toEqual({ width: 320, height: 240 });
    const portrait = relayEncodeSize(720, 1280);
    expect(portrait.height).toBeGreaterThan(portrait.width);
    expect(portrait.height).toBeLessThanOrEqual(RELAY_MAX_HEIGHT);
  });

  it('the larger step down applies; nonsense sizes give the smallest picture, not an exception', () => {
    expect(relayEncodeSize(1280, 720, 4)).toEqual({ width: 160, height: 90 });
    expect(relayEncodeSize(1280, 720, 0.5)).toEqual({ width: 640, height: 360 });
    expect(relayEncodeSize(0, 720)).toEqual({ width: 2, height: 2 });
    expect(relayEncodeSize(Number.NaN, 720)).toEqual({ width: 2, height: 2 });
  });

  it('for frame sizes across 2–4096 each way: even sides, within the box and the budget, not larger than the frame, aspect kept', () => {
    const sides = [
      2, 3, 15, 90, 120, 176, 240, 320, 352, 360, 480, 544, 640, 720, 800, 960, 1080, 1280, 1920, 2160, 4096,
    ];
    for (const w of sides)
      for (const h of sides)
        for (const down of [1, 2, 3]) {
          const s = relayEncodeSize(w, h, down);
          const at = JSON.stringify({ w, h, down, s });
          expect(s.width % 2, at).toBe(0);
          expect(s.height % 2, at).toBe(0);
          expect(s.width * s.height, at).toBeLessThanOrEqual(RELAY_MAX_PIXELS);
          expect(s.width, at).toBeLessThanOrEqual(Math.max(2, Math.min(RELAY_MAX_WIDTH, w)));
          expect(s.height, at).toBeLessThanOrEqual(Math.max(2, Math.min(RELAY_MAX_HEIGHT, h)));
          // The aspect ratio within the rounding of two even sides (where both are more than a few pixels).
          if (s.width >= 64 && s.height >= 64)
            expect(Math.abs(s.width / s.height - w / h) / (w / h), at).toBeLessThan(0.05);
        }
  });
});
