// One running Parley per user: a second launch (for example from a `parley:` link in the browser)
// hands its deep link to the first instance and quits.
import { extractDeepLinks, parseDeepLink } from './deep-link.js';

export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string) => void): unknown;
  on(event: 'open-url', listener: (event: { preventDefault(): void }, url: string) => void): unknown;
}

export interface SingleInstanceHandlers {
  /** Bring the window to the front (restore, show, focus). */
  focus(): void;
  /** A validated `parley:` link. */
  onDeepLink(url: string): void;
  onRejectedLink?(reason: string): void;
}

/**
 * Takes the lock and wires second-instance and open-url. Returns false when another instance holds the
 * lock: this process has been told to quit and must not create windows.
 */
export function setupSingleInstance(
  app: SingleInstanceApp,
  argv: readonly string[],
  handlers: SingleInstanceHandlers,
): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', (_event, secondArgv) => {
    handlers.focus();
    for (const link of extractDeepLinks(Array.isArray(secondArgv) ? secondArgv : [])) handlers.onDeepLink(link);
  });
  // macOS delivers links through open-url, including the one that launched the app.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    const link = parseDeepLink(url);
    if (link === null) {
      handlers.onRejectedLink?.('malformed parley: link');
      return;
    }
    handlers.focus();
    handlers.onDeepLink(link);
  });
  for (const link of extractDeepLinks(argv)) handlers.onDeepLink(link);
  return true;
}
