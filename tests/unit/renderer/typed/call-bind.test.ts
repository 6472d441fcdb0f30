// services/calls.ts: the engine's "incompatible" event (a contact rang with a Parley whose calls cannot work
// with ours) reaches the app, which tells the user who; the i18n text for a tampered call setup.
import { describe, expect, it } from 'vitest';
import type { CallManager } from '../../../../core/src/call/index.js';
import { Emitter } from '../../../../core/src/util/emitter.js';
import { en } from '../../../../renderer/src/i18n/en.js';
import { bindCalls } from '../../../../renderer/src/services/calls.js';
import { CallDevices } from '../../../../renderer/src/state/call/devices.svelte.js';
import { CallStatsMonitor } from '../../../../renderer/src/state/call/stats.svelte.js';
import { CallUiState } from '../../../../renderer/src/state/call.svelte.js';

function uiState(): CallUiState {
  return new CallUiState({
    devices: new CallDevices({ getUserMedia: async () => ({}) as MediaStream, enumerateDevices: async () => [] }),
    monitor: new CallStatsMonitor({ now: () => 0, every: () => () => undefined }),
    later: () => () => undefined,
  });
}

describe('call events in the app', () => {
  it('an "incompatible" ring is passed on with the contact, and stops after unbinding', () => {
    const events = new Emitter<{ incoming: unknown; incompatible: { peerId: string; message: string; at: number } }>();
    const manager = { on: events.on.bind(events) } as unknown as CallManager;
    const seen: string[] = [];
    const unbind = bindCalls(manager, uiState(), (peerId) => seen.push(peerId));
    events.emit('incompatible', { peerId: 'alice-id', message: 'older Parley', at: 1 });
    expect(seen).toEqual(['alice-id']);
    unbind();
    events.emit('incompatible', { peerId: 'alice-id', message: 'older Parley', at: 2 });
    expect(seen).toEqual(['alice-id']);
  });

  it('a tampered call speaks of its signed, sealed setup, not of an encryption fingerprint', () => {
    expect(en['call.failure.tampered']).toMatch(/signed, sealed setup/);
    expect(en['call.failure.tampered']).not.toMatch(/fingerprint/);
    expect(en['call.incompatible']).toContain('{name}');
  });
});
