// The picture size a relay call's video encoder is configured to, from the camera's frame size. The relay path
// is one TCP connection shared with chat and files, and on a 2-core machine the software VP8 encoder is the
// call's largest cost, so the encoded picture has a budget in pixels (640×360's), not only a bounding box:
// a 4:3 camera (640×480, common in webcams) boxed to 640×480 cost a third more per frame than a 16:9 one at
// 640×360 for the same bitrate, and on this machine saturated both cores in bursts (bench:call, issue 11).
// Within the budget the aspect ratio is kept; sides are even (the encoder's 4:2:0 chroma needs it).
// The network's step down (congestion control) and the CPU's (encode budget) divide both sides; they do not
// multiply: the larger of the two applies.
// Pure.

/** The largest picture the relay path encodes, in pixels (640×360). */
export const RELAY_MAX_PIXELS = 640 * 360;
/** Neither side longer than 640 (a very wide or very tall camera's picture stays within the budget's scale). */
export const RELAY_MAX_WIDTH = 640;
export const RELAY_MAX_HEIGHT = 640;

export interface EncodeSize {
  width: number;
  height: number;
}

/**
 * The encoder's picture size for frames of `width`×`height`, divided on each side by `scaleDown` (≥ 1; 2 is
 * half size). Never larger than the frame: a small camera is not scaled up.
 */
export function relayEncodeSize(width: number, height: number, scaleDown = 1): EncodeSize {
  if (!(width > 0 && height > 0)) return { width: 2, height: 2 };
  const fit = Math.min(
    1,
    RELAY_MAX_WIDTH / width,
    RELAY_MAX_HEIGHT / height,
    Math.sqrt(RELAY_MAX_PIXELS / (width * height)),
  );
  const scale = fit / Math.max(1, scaleDown);
  const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
  return { width: even(width * scale), height: even(height * scale) };
}
