// `parley:` deep links (invites). They arrive from outside the app (argv of a second instance, macOS
// open-url), so they are checked before the renderer sees them, and queued until the renderer listens.

export const DEEP_LINK_SCHEME = 'parley';
/** An invite names a key, a display name and a few relay URLs; 8 KiB is far above any real one. */
export const MAX_DEEP_LINK_LENGTH = 8192;
/** Links kept while the renderer is not listening yet; older ones are dropped first. */
export const MAX_PENDING_DEEP_LINKS = 16;

/** Returns the link if it is a well-formed `parley:` URL, else null. */
export function parseDeepLink(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  if (input.length === 0 || input.length > MAX_DEEP_LINK_LENGTH) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f]/.test(input)) return null;
  if (input.slice(0, DEEP_LINK_SCHEME.length + 1).toLowerCase() !== `${DEEP_LINK_SCHEME}:`) return null;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== `${DEEP_LINK_SCHEME}:`) return null;
  if (url.username !== '' || url.password !== '') return null;
  if (url.href.length <= DEEP_LINK_SCHEME.length + 1) return null;
  return url.href;
}

/** Deep links on a command line (Windows and Linux pass the URL as an argument to the second instance). */
export function extractDeepLinks(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    const link = parseDeepLink(arg);
    if (link !== null && !out.includes(link)) out.push(link);
  }
  return out;
}

/**
 * Holds links until the renderer takes them (it does on its first subscription), then delivers live.
 * A reload or crash of the renderer makes it "not ready" again so nothing is sent into the void.
 */
export class DeepLinkQueue {
  private pending: string[] = [];
  private ready = false;

  constructor(private readonly deliver: (url: string) => void) {}

  push(url: string): void {
    if (this.ready) {
      this.deliver(url);
      return;
    }
    if (this.pending.includes(url)) return;
    this.pending.push(url);
    if (this.pending.length > MAX_PENDING_DEEP_LINKS) this.pending.shift();
  }

  /** The renderer subscribed: hand over what waited and deliver live from now on. */
  take(): string[] {
    this.ready = true;
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** The renderer went away (reload, crash); queue again until it subscribes anew. */
  reset(): void {
    this.ready = false;
  }

  get size(): number {
    return this.pending.length;
  }
}
