// Which modal <dialog> is on top. A modal dialog sits in the browser's top layer and makes everything
// outside it inert, so an overlay left in the page (a toast) would be painted under it and could not be
// clicked: such overlays render inside the topmost modal instead (Toasts.svelte).
import { untrack } from 'svelte';

/** One open modal; compared by identity. */
export type ModalLayer = object;

export class ModalLayers {
  // Raw: a deep proxy would wrap each layer object, and `top === layer` would never hold.
  #stack = $state.raw<readonly ModalLayer[]>([]);

  /** The modal on top, or null when the page itself is on top. */
  get top(): ModalLayer | null {
    return this.#stack.at(-1) ?? null;
  }

  /**
   * Marks `layer` as opened on top of the others; the returned function marks it closed (once). Dialogs call
   * this from an effect: the stack is read untracked, or the effect would depend on what it writes and loop.
   */
  open(layer: ModalLayer): () => void {
    untrack(() => (this.#stack = [...this.#stack.filter((l) => l !== layer), layer]));
    return () => untrack(() => (this.#stack = this.#stack.filter((l) => l !== layer)));
  }
}
