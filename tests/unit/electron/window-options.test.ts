import { describe, expect, it } from 'vitest';
import { restoreBounds } from '../../../electron/main/window-bounds.js';
import type { BrowserWindowConstructorOptions } from 'electron';
import {
  createAppWindow,
  DEFAULT_BOUNDS,
  MIN_HEIGHT,
  MIN_WIDTH,
  type WindowOptionsInput,
} from '../../../electron/main/window-options.js';

/** Records what the app window is constructed with. */
class FakeBrowserWindow {
  constructor(readonly options: BrowserWindowConstructorOptions) {}
}
const buildWindowOptions = (input: WindowOptionsInput) => createAppWindow(FakeBrowserWindow, input).options;

describe('window options', () => {
  const opts = buildWindowOptions({ preloadPath: '/app/dist/electron/preload/index.cjs', devTools: false });
  const web = opts.webPreferences!;

  it('isolates and sandboxes the renderer', () => {
    expect(web.contextIsolation).toBe(true);
    expect(web.sandbox).toBe(true);
    expect(web.nodeIntegration).toBe(false);
    expect(web.nodeIntegrationInWorker).toBe(false);
    expect(web.nodeIntegrationInSubFrames).toBe(false);
    expect(web.webviewTag).toBe(false);
    expect(web.webSecurity).toBe(true);
    expect(web.allowRunningInsecureContent).toBe(false);
    expect(web.experimentalFeatures).toBe(false);
    expect(web.navigateOnDragDrop).toBe(false);
    expect(web.devTools).toBe(false);
    expect(web.disableBlinkFeatures).toBe('Auxclick');
    expect(web).not.toHaveProperty('enableBlinkFeatures');
    expect(web).not.toHaveProperty('additionalArguments');
  });

  it('uses the bundled preload and refuses anything else', () => {
    expect(web.preload).toBe('/app/dist/electron/preload/index.cjs');
    expect(() => buildWindowOptions({ preloadPath: '/app/dist/electron/preload/index.js', devTools: false })).toThrow(
      /CommonJS/,
    );
  });

  it('starts hidden with sane bounds and devTools only when asked', () => {
    expect(opts.show).toBe(false);
    expect(opts.width).toBe(DEFAULT_BOUNDS.width);
    expect(opts.minWidth).toBe(MIN_WIDTH);
    expect(buildWindowOptions({ preloadPath: '/p/index.cjs', devTools: true }).webPreferences?.devTools).toBe(true);
    const placed = buildWindowOptions({
      preloadPath: '/p/index.cjs',
      devTools: false,
      bounds: { x: 5, y: 6, width: 900, height: 700 },
    });
    expect([placed.x, placed.y, placed.width, placed.height]).toEqual([5, 6, 900, 700]);
  });
});

describe('restoreBounds', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];

  it('defaults without saved bounds', () => {
    expect(restoreBounds(undefined, screen)).toEqual(DEFAULT_BOUNDS);
  });

  it('keeps a position that is on a display', () => {
    expect(restoreBounds({ x: 100, y: 50, width: 1000, height: 700 }, screen)).toEqual({
      x: 100,
      y: 50,
      width: 1000,
      height: 700,
    });
  });

  it('drops a position on a display that is gone, keeping the size', () => {
    expect(restoreBounds({ x: 3000, y: 50, width: 1000, height: 700 }, screen)).toEqual({ width: 1000, height: 700 });
    expect(restoreBounds({ x: 100, y: -900, width: 1000, height: 700 }, screen)).toEqual({ width: 1000, height: 700 });
  });

  it('clamps sizes to the minimum and to the largest display', () => {
    expect(restoreBounds({ width: 10, height: 10 }, screen)).toEqual({ width: MIN_WIDTH, height: MIN_HEIGHT });
    expect(restoreBounds({ width: 5000, height: 5000 }, screen)).toEqual({ width: 1920, height: 1080 });
  });
});
