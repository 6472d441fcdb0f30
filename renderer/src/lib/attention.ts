// Whether the user is looking at the page: it is visible and they did something in it lately (moved the
// pointer over it, typed, scrolled, focused it). Window focus alone is not enough: with two windows side
// by side only one has focus, yet both chats are in view; and a focused window left alone is not read.

/** How long after the last sign of the user a visible page still counts as watched. */
export const ATTENTION_MS = 3 * 60_000;

export interface AttentionSource {
  visible(): boolean;
  now(): number;
}

export class Attention {
  readonly #source: AttentionSource;
  readonly #windowMs: number;
  readonly #listeners = new Set<() => void>();
  #lastActivity: number;

  constructor(source: AttentionSource, windowMs = ATTENTION_MS) {
    this.#source = source;
    this.#windowMs = windowMs;
    this.#lastActivity = source.now(); // opening the page is a sign of the user
  }

  attending(): boolean {
    return this.#source.visible() && this.#source.now() - this.#lastActivity < this.#windowMs;
  }

  /** A sign of the user; listeners hear when it makes the page watched again (or it became visible). */
  activity(): void {
    const was = this.attending();
    this.#lastActivity = this.#source.now();
    if (!was && this.attending()) for (const l of this.#listeners) l();
  }

  /** The page became visible (tab switched to, window restored): watched again if the user is around. */
  shown(): void {
    this.activity();
    if (this.attending()) for (const l of this.#listeners) l();
  }

  onAttend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Follows the page's input, focus and visibility events. */
  listen(win: Window, doc: Document): () => void {
    const onActivity = (): void => this.activity();
    const onVisibility = (): void => {
      if (doc.visibilityState === 'visible') this.shown();
    };
    const events = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus'] as const;
    for (const e of events) win.addEventListener(e, onActivity, { passive: true, capture: true });
    doc.addEventListener('visibilitychange', onVisibility);
    return () => {
      for (const e of events) win.removeEventListener(e, onActivity, { capture: true });
      doc.removeEventListener('visibilitychange', onVisibility);
    };
  }
}
