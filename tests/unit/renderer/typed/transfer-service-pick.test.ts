// services/transfers.ts in the desktop app: the attach button opens main's own file dialog, and what the
// user picks there is offered as main's files (`main:<token>` sources), so main reads them and, on a direct
// TCP session, sends them on bulk lanes; the page never holds their bytes. The web client has no such
// picker: no `pick` action, its file input stays.
import { describe, expect, it } from 'vitest';
import type { BridgeBulk } from '../../../../core/src/bridge.js';
import type { OutgoingFile, TransferEngine, TransferInfo } from '../../../../core/src/transfer/index.js';
import { bridgeBulkPlatform } from '../../../../renderer/src/platform/bridge-bulk.js';
import { BrowserFileSource } from '../../../../renderer/src/platform/transfer-io.js';
import { TransferService } from '../../../../renderer/src/services/transfers.js';
import type { EngineLike } from '../../../../renderer/src/state/engine.js';
import { TransfersState } from '../../../../renderer/src/state/transfers.svelte.js';

type Picked = Awaited<ReturnType<BridgeBulk['pick']>>;

function service(picker?: { pick(): Promise<Picked> }) {
  const offers: Array<{ to: string; files: readonly OutgoingFile[] }> = [];
  const messenger = {
    sendFiles: async (to: string, files: readonly OutgoingFile[]) => {
      offers.push({ to, files });
      return [] as TransferInfo[];
    },
  } as unknown as EngineLike;
  const engine = { on: () => () => undefined, list: () => [] } as unknown as TransferEngine;
  const state = new TransfersState();
  const errors: string[] = [];
  const s = new TransferService(messenger, engine, new BrowserFileSource(), state, (m) => errors.push(m), picker);
  s.start();
  return { state, offers, errors };
}

describe('picking files in the desktop app', () => {
  it("offers what main's dialog picked as main's files, named safely and uniquely", async () => {
    const picks: Picked[] = [
      [
        { token: 'tok-1', name: 'report.pdf', size: 5_000_000, mtime: 1_700_000_000_000 },
        { token: 'tok-2', name: 'report.pdf', size: 12, mtime: 1_700_000_000_500 },
        { token: 'tok-3', name: '../..\\evil:name.txt', size: 3, mtime: 1 },
      ],
      [], // the dialog cancelled: nothing is offered
    ];
    const { state, offers } = service({ pick: async () => picks.shift() ?? [] });
    const pick = state.actions?.pick;
    expect(pick).toBeTypeOf('function');

    await pick!('bob');
    await pick!('bob');
    expect(offers).toHaveLength(1);
    const [offer] = offers;
    expect(offer!.to).toBe('bob');
    expect(offer!.files.map((f) => f.source)).toEqual(['main:tok-1', 'main:tok-2', 'main:tok-3']);
    expect(offer!.files.map((f) => [f.size, f.mtime])).toEqual([
      [5_000_000, 1_700_000_000_000],
      [12, 1_700_000_000_500],
      [3, 1],
    ]);
    const names = offer!.files.map((f) => f.relativePath);
    expect(new Set(names).size).toBe(3);
    expect(names[0]).toBe('report.pdf');
    for (const n of names) expect(n).not.toMatch(/[/\\:]/);

    // These are exactly the sources the bridge's bulk platform will hand main (and only these).
    const platform = bridgeBulkPlatform({ onEvent: () => () => undefined } as unknown as BridgeBulk);
    for (const f of offer!.files) expect(platform.canSend?.(f.source)).toBe(true);
    expect(platform.canSend?.('file-abc-1')).toBe(false);
  });

  it('the web client (no picker in main) has no pick action: its page input picks', () => {
    const { state } = service();
    expect(state.actions).not.toBeNull();
    expect(state.actions?.pick).toBeUndefined();
  });
});
