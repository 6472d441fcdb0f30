// The one app window: every web preference that matters for security is set explicitly, so a default
// changing between Electron versions cannot loosen it. The BrowserWindow class is injected (tests pass a
// recorder), and the options are written as a literal inside `new BrowserWindow(...)` so static scanners
// (electronegativity) can read them where the window is made.
import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

export interface WindowOptionsInput {
  /** Absolute path of the bundled (CommonJS) preload. */
  preloadPath: string;
  bounds?: WindowBounds;
  /** DevTools only in development builds. */
  devTools: boolean;
  /** Window icon (Linux and Windows); macOS takes it from the bundle. */
  icon?: string;
}

export const DEFAULT_BOUNDS: Readonly<WindowBounds> = Object.freeze({ width: 1100, height: 760 });
export const MIN_WIDTH = 720;
export const MIN_HEIGHT = 480;

export type BrowserWindowClass<W> = new (options: BrowserWindowConstructorOptions) => W;

export function createAppWindow<W>(BrowserWindow: BrowserWindowClass<W>, input: WindowOptionsInput): W {
  if (!input.preloadPath.endsWith('.cjs')) {
    // A sandboxed preload cannot be an ES module and cannot require local files: it must be the bundle.
    throw new Error(`preload must be the bundled CommonJS file, got ${input.preloadPath}`);
  }
  const bounds = input.bounds ?? DEFAULT_BOUNDS;
  return new BrowserWindow({
    ...bounds,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    title: 'Parley',
    // Shown on 'ready-to-show' so the user never sees an empty white frame.
    show: false,
    backgroundColor: '#1b1d23',
    ...(input.icon ? { icon: input.icon } : {}),
    webPreferences: {
      // Reviewed: the preload exposes only the ParleyBridge functions via contextBridge, never ipcRenderer
      // (tests/unit/electron/preload-bundle.test.ts loads the real bundle and checks what it exposes).
      preload: input.preloadPath, // eng-disable PRELOAD_JS_CHECK
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      // Middle-click must not open links in new windows (window.open is denied as well).
      disableBlinkFeatures: 'Auxclick',
      // Dropping a file on the window must reach the app's drop handler, never navigate to file://.
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: true,
      devTools: input.devTools,
      // Incoming calls ring without a prior click in the window.
      autoplayPolicy: 'no-user-gesture-required',
      // The relay connection's heartbeats and call setup must keep running while the window is hidden.
      backgroundThrottling: false,
    },
  });
}
