// Restoring saved window bounds: a window saved on a monitor that is gone would open off screen, so
// saved bounds are used only when enough of the title bar lands on a display that exists now.
import { DEFAULT_BOUNDS, MIN_HEIGHT, MIN_WIDTH, type WindowBounds } from './window-options.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixels of the window's top strip that must be visible on some display to reuse its position. */
const VISIBLE_STRIP = 48;

export function restoreBounds(saved: WindowBounds | undefined, workAreas: readonly Rect[]): WindowBounds {
  if (!saved) return { ...DEFAULT_BOUNDS };
  const largest = workAreas.reduce<Rect | undefined>(
    (a, b) => (!a || b.width * b.height > a.width * a.height ? b : a),
    undefined,
  );
  const maxW = largest?.width ?? saved.width;
  const maxH = largest?.height ?? saved.height;
  const width = clamp(saved.width, MIN_WIDTH, Math.max(MIN_WIDTH, maxW));
  const height = clamp(saved.height, MIN_HEIGHT, Math.max(MIN_HEIGHT, maxH));
  if (saved.x === undefined || saved.y === undefined) return { width, height };
  const strip: Rect = { x: saved.x, y: saved.y, width, height: Math.min(VISIBLE_STRIP, height) };
  const visible = workAreas.some((area) => overlapArea(strip, area) >= Math.min(strip.width, 200) * strip.height * 0.5);
  return visible ? { x: saved.x, y: saved.y, width, height } : { width, height };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
