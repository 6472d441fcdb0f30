// Which modal is on top (renderer/src/state/modal-layers.svelte.ts): page overlays such as toasts render in
// the topmost open modal, because a modal dialog makes the page under it inert.
import { describe, expect, it } from 'vitest';
import { ModalLayers } from '../../../../renderer/src/state/modal-layers.svelte.js';

describe('modal layers', () => {
  it('the page is on top with no modal; the last modal opened is on top; closing one reveals the one below', () => {
    const layers = new ModalLayers();
    expect(layers.top).toBeNull();
    const settings = {};
    const call = {};
    const closeSettings = layers.open(settings);
    expect(layers.top).toBe(settings);
    const closeCall = layers.open(call);
    expect(layers.top).toBe(call);
    closeSettings();
    expect(layers.top).toBe(call);
    closeCall();
    expect(layers.top).toBeNull();
  });

  it('closing twice, or reopening a modal already open, keeps one entry per modal', () => {
    const layers = new ModalLayers();
    const a = {};
    const b = {};
    const closeA = layers.open(a);
    layers.open(b);
    layers.open(a);
    expect(layers.top).toBe(a);
    closeA();
    closeA();
    expect(layers.top).toBe(b);
  });
});
