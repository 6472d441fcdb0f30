// TransfersState against its real types: rows, the adapter's actions bound by a method, and the hook the
// web client's "Save received files automatically" uses (issue 14.4): called once, when a received file
// becomes done, and not for files listed as done from storage after a reload.
import { describe, expect, it } from 'vitest';
import { TransfersState, type TransferView } from '../../../../renderer/src/state/transfers.svelte.js';

const offered = { id: 'o1:0', offerId: 'o1', contactId: 'c1', direction: 'in' as const, name: 'a.bin', size: 10 };

describe('TransfersState', () => {
  it('tells once that a received file arrived, with where it is stored', () => {
    const received: TransferView[] = [];
    const state = new TransfersState({ now: () => 1, onReceived: (x) => received.push(x) });
    state.update(offered);
    state.update({ id: 'o1:0', status: 'active', bytesDone: 5 });
    state.update({ id: 'o1:0', status: 'done', bytesDone: 10, savedAs: 'a.bin' });
    state.update({ id: 'o1:0', status: 'done', bytesDone: 10, savedAs: 'a.bin' });
    expect(received.map((x) => x.savedAs)).toEqual(['a.bin']);
    state.markSaved('o1:0');
    state.markCopyRemoved('o1:0');
    expect(state.items[0]).toMatchObject({ saved: true, copyRemoved: true, status: 'done', speed: 0 });
  });

  it('a file already done when listed (after a reload) and a sent file are not "received now"', () => {
    const received: TransferView[] = [];
    const state = new TransfersState({ onReceived: (x) => received.push(x) });
    state.update({ ...offered, status: 'done', savedAs: 'a.bin' });
    state.update({ id: 'o2:0', offerId: 'o2', contactId: 'c1', direction: 'out', name: 'b.bin', size: 1 });
    state.update({ id: 'o2:0', status: 'done' });
    expect(received).toEqual([]);
  });

  it('actions are bound by the adapter and rows cleared on a new engine', () => {
    const state = new TransfersState();
    expect(state.actions).toBeNull();
    const actions = { send: async () => {}, accept: async () => {}, decline: async () => {}, cancel: async () => {} };
    state.bindActions(actions);
    expect(state.actions).toBe(actions);
    state.update(offered);
    expect(state.pendingOffers('c1')).toEqual(['o1']);
    state.reset();
    expect(state.items).toEqual([]);
  });
});
