import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as contract from '../../../electron/shared/ipc-contract.js';
import { Channel, DownloadChannel } from '../../../electron/shared/ipc-contract.js';
import { registerBridgeIpc, type NotificationRequest } from '../../../electron/main/bridge-ipc.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import type { TrayState } from '../../../electron/main/tray.js';
import { z } from 'zod';
import { FakeFrame, FakeIpcMain, FakeWebContents } from './fakes.js';

const base = mkdtempSync(join(tmpdir(), 'parley-ipc-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const CONTACT = 'A'.repeat(43);

function setup() {
  const downloads = mkdtempSync(join(base, 'dl-'));
  const ipcMain = new FakeIpcMain();
  const rejected: string[] = [];
  // Two app windows (ids 1 and 3) so cross-window handle use can be tested; id 2 is a stray webContents.
  const appIds = new Set([1, 3]);
  const ipc = createValidatedIpc({
    ipcMain,
    isAppWebContents: (wc) => appIds.has(wc.id),
    onRejected: (c, r) => rejected.push(`${c}: ${r}`),
  });
  const calls = {
    notify: [] as NotificationRequest[],
    tray: [] as TrayState[],
    opened: [] as string[],
    external: [] as string[],
  };
  registerBridgeIpc(ipc, {
    relayUrl: () => 'ws://127.0.0.1:47913/ws',
    downloadsDir: () => downloads,
    notify: (r) => void calls.notify.push(r),
    setTrayState: (s) => void calls.tray.push(s),
    openPath: async (p) => void calls.opened.push(p),
    openExternal: async (u) => void calls.external.push(u),
    takeDeepLinks: () => ['parley:invite?k=1'],
  });
  const app = new FakeWebContents(1);
  const app2 = new FakeWebContents(3);
  const stray = new FakeWebContents(2);
  const call = (channel: string, ...args: unknown[]) => ipcMain.invoke(app.event(), channel, ...args);
  return { ipcMain, ipc, rejected, calls, downloads, app, app2, stray, call };
}

let t: ReturnType<typeof setup>;
beforeEach(() => {
  t = setup();
});

describe('sender checks', () => {
  it('registers every bridge channel', () => {
    expect([...t.ipcMain.handlers.keys()].sort()).toEqual(Object.values(Channel).sort());
  });

  it('answers the app window main frame', async () => {
    await expect(t.call(Channel.RelayUrl)).resolves.toBe('ws://127.0.0.1:47913/ws');
  });

  it('refuses a sender whose frame shows another origin', async () => {
    const evil = new FakeWebContents(1, 'https://evil.example/');
    await expect(t.ipcMain.invoke(evil.event(), Channel.RelayUrl)).rejects.toThrow(/sender is not the app origin/);
    const lookalike = new FakeWebContents(1, 'app://parley.evil/index.html');
    await expect(t.ipcMain.invoke(lookalike.event(), Channel.RelayUrl)).rejects.toThrow(/sender is not the app origin/);
    const file = new FakeWebContents(1, 'file:///tmp/index.html');
    await expect(t.ipcMain.invoke(file.event(), Channel.OpenDownloads)).rejects.toThrow(/sender is not the app origin/);
    expect(t.calls.opened).toEqual([]);
  });

  it('refuses a subframe, even one of the app origin', async () => {
    await expect(t.ipcMain.invoke(t.app.event(t.app.subFrame), Channel.RelayUrl)).rejects.toThrow(/not the main frame/);
    // A parentless frame that is not this webContents' main frame (another process's top frame).
    const foreignTop = new FakeFrame('app://parley/index.html', null, 999, 1);
    await expect(t.ipcMain.invoke(t.app.event(foreignTop), Channel.RelayUrl)).rejects.toThrow(/not the main frame/);
  });

  it('refuses a sender whose frame is gone', async () => {
    await expect(t.ipcMain.invoke(t.app.event(null), Channel.RelayUrl)).rejects.toThrow(/frame is gone/);
  });

  it('refuses a webContents that is not an app window', async () => {
    await expect(t.ipcMain.invoke(t.stray.event(), Channel.RelayUrl)).rejects.toThrow(/not the app window/);
  });

  it('logs every refusal and keeps serving afterwards', async () => {
    await t.ipcMain.invoke(t.stray.event(), Channel.RelayUrl).catch(() => {});
    await t.call(Channel.TrayState, { presence: 'away', unread: 0 }).catch(() => {});
    expect(t.rejected).toHaveLength(2);
    expect(t.rejected[0]).toMatch(/^parley:relay-url: sender is not the app window/);
    await expect(t.call(Channel.RelayUrl)).resolves.toBe('ws://127.0.0.1:47913/ws');
  });

  it('refuses registering a channel twice', () => {
    expect(() => t.ipc.handle(Channel.RelayUrl, z.tuple([]), () => null)).toThrow(/twice/);
  });
});

describe('argument validation', () => {
  const bad: [string, unknown[]][] = [
    [Channel.RelayUrl, ['extra']],
    [Channel.Notify, [{ kind: 'spam', title: 't', body: 'b' }]],
    [Channel.Notify, [{ kind: 'message', title: '', body: 'b' }]],
    [Channel.Notify, [{ kind: 'message', title: 't'.repeat(201), body: 'b' }]],
    [Channel.Notify, [{ kind: 'message', title: 't', body: 'b'.repeat(1001) }]],
    [Channel.Notify, [{ kind: 'message', title: 't', body: 'b', contactId: 'not-an-id' }]],
    [Channel.Notify, [{ kind: 'message', title: 't', body: 'b', icon: 'file:///etc/passwd' }]],
    [Channel.TrayState, [{ presence: 'away', unread: 0 }]],
    [Channel.TrayState, [{ presence: 'online', unread: -1 }]],
    [Channel.TrayState, [{ presence: 'online', unread: 0.5 }]],
    [Channel.TrayState, [null]],
    [Channel.OpenExternal, [42]],
    [Channel.OpenExternal, []],
    [Channel.OpenDownloads, ['/etc']],
    [Channel.TakeDeepLinks, [1]],
  ];
  for (const [channel, args] of bad) {
    it(`${channel} refuses ${JSON.stringify(args, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v))?.slice(0, 80)}`, async () => {
      await expect(t.call(channel, ...args)).rejects.toThrow(/invalid arguments/);
    });
  }

  it('passes validated values to the handlers', async () => {
    await t.call(Channel.Notify, { kind: 'call', title: 'Ada is calling', body: 'Video call', contactId: CONTACT });
    await t.call(Channel.TrayState, { presence: 'online', unread: 3 });
    await t.call(Channel.OpenDownloads);
    expect(t.calls.notify).toEqual([{ kind: 'call', title: 'Ada is calling', body: 'Video call', contactId: CONTACT }]);
    expect(t.calls.tray).toEqual([{ presence: 'online', unread: 3 }]);
    expect(t.calls.opened).toEqual([t.downloads]);
    await expect(t.call(Channel.TakeDeepLinks)).resolves.toEqual(['parley:invite?k=1']);
  });

  it('opens only validated https URLs externally', async () => {
    await expect(t.call(Channel.OpenExternal, 'javascript:alert(1)')).rejects.toThrow(
      /openExternal refused: only https/,
    );
    await expect(t.call(Channel.OpenExternal, 'https://user:pw@example.com/')).rejects.toThrow(/credentials/);
    await expect(t.call(Channel.OpenExternal, 'https://127.0.0.1/')).rejects.toThrow(/IP-address/);
    await t.call(Channel.OpenExternal, 'https://Example.com/a b'.replace(' ', '%20'));
    expect(t.calls.external).toEqual(['https://example.com/a%20b']);
  });
});

describe('the retired save path (issue 12 item 18)', () => {
  // A compromised renderer once could append to same-named partials in Downloads through these.
  const retired = ['parley:save-file', 'parley:file-write', 'parley:file-close', 'parley:file-abort'];

  it('is gone from the IPC contract: no channel, no chunk limit, no reply shape', () => {
    const channels: string[] = [
      ...Object.values(Channel),
      ...Object.values(DownloadChannel),
      ...Object.values(contract.TcpChannel),
      ...Object.values(contract.BulkChannel),
    ];
    for (const name of retired) expect(channels).not.toContain(name);
    expect(channels.filter((c) => /save|file-/.test(c))).toEqual([]);
    expect(Object.keys(contract).sort()).toEqual([
      'BulkChannel',
      'Channel',
      'DownloadChannel',
      'MAX_DOWNLOAD_CHUNK_BYTES',
      'MAX_TCP_RECORD_BYTES',
      'RendererEvent',
      'TcpChannel',
    ]);
  });

  it('has no handler in main: an app-window call to it is refused and writes nothing', async () => {
    for (const name of retired) {
      expect(t.ipcMain.handlers.has(name)).toBe(false);
      await expect(t.call(name, { suggestedName: 'evil.bin', size: 4, ask: false })).rejects.toThrow(
        `No handler registered for '${name}'`,
      );
    }
    await expect(
      t.call('parley:file-write', '00000000-0000-4000-8000-000000000000', new Uint8Array(4)),
    ).rejects.toThrow(/No handler registered/);
    expect(readdirSync(t.downloads)).toEqual([]);
  });
});
