import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Channel, MAX_WRITE_CHUNK_BYTES, type SaveFileOpened } from '../../../electron/shared/ipc-contract.js';
import { registerBridgeIpc, type NotificationRequest } from '../../../electron/main/bridge-ipc.js';
import { FileSinks } from '../../../electron/main/file-sinks.js';
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
  const ipc = createValidatedIpc({ ipcMain, isAppWebContents: (wc) => appIds.has(wc.id), onRejected: (c, r) => rejected.push(`${c}: ${r}`) });
  const calls = { notify: [] as NotificationRequest[], tray: [] as TrayState[], opened: [] as string[], external: [] as string[], dialog: [] as string[] };
  let dialogAnswer: string | null = null;
  const files = new FileSinks();
  registerBridgeIpc(ipc, {
    relayUrl: () => 'ws://127.0.0.1:47913/ws',
    files,
    downloadsDir: () => downloads,
    showSaveDialog: async (_id, defaultPath) => {
      calls.dialog.push(defaultPath);
      return dialogAnswer;
    },
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
  return { ipcMain, ipc, rejected, calls, files, downloads, app, app2, stray, call, setDialog: (p: string | null) => (dialogAnswer = p) };
}

let t: ReturnType<typeof setup>;
beforeEach(() => {
  t = setup();
});
// Files a test left open are ended like a closed window's (partials kept), never left to the GC.
afterEach(() => t.files.releaseAll());

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
    [Channel.SaveFile, []],
    [Channel.SaveFile, ['x.bin']],
    [Channel.SaveFile, [{ suggestedName: '', size: 1, ask: false }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: -1, ask: false }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: 1.5, ask: false }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: '10', ask: false }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: 2 ** 60, ask: false }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: 1 }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: 1, ask: false, path: '/etc/passwd' }]],
    [Channel.SaveFile, [{ suggestedName: 'a'.repeat(1025), size: 1, ask: false }]],
    [Channel.SaveFile, [{ suggestedName: 'a', size: 1, ask: 'yes' }]],
    [Channel.FileWrite, ['../../etc/passwd', new Uint8Array(1)]],
    [Channel.FileWrite, ['0123456789abcdef', [1, 2, 3]]],
    [Channel.FileWrite, ['0123456789abcdef', 'text']],
    [Channel.FileWrite, ['0123456789abcdef', new Uint8Array(0)]],
    [Channel.FileWrite, ['0123456789abcdef', new Uint8Array(MAX_WRITE_CHUNK_BYTES + 1)]],
    [Channel.FileWrite, ['0123456789abcdef', new Uint8Array(1), 'extra']],
    [Channel.FileClose, [42]],
    [Channel.FileAbort, ['0123456789abcdef', 'x'.repeat(501)]],
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
    await expect(t.call(Channel.OpenExternal, 'javascript:alert(1)')).rejects.toThrow(/openExternal refused: only https/);
    await expect(t.call(Channel.OpenExternal, 'https://user:pw@example.com/')).rejects.toThrow(/credentials/);
    await expect(t.call(Channel.OpenExternal, 'https://127.0.0.1/')).rejects.toThrow(/IP-address/);
    await t.call(Channel.OpenExternal, 'https://Example.com/a b'.replace(' ', '%20'));
    expect(t.calls.external).toEqual(['https://example.com/a%20b']);
  });
});

describe('file handles', () => {
  const open = async (name: string, size: number, wc = t.app) =>
    (await t.ipcMain.invoke(wc.event(), Channel.SaveFile, { suggestedName: name, size, ask: false })) as SaveFileOpened;

  it('refuses unknown handles', async () => {
    await expect(t.call(Channel.FileWrite, '00000000-0000-4000-8000-000000000000', new Uint8Array(4))).rejects.toThrow(/unknown file handle/);
    await expect(t.call(Channel.FileClose, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(/unknown file handle/);
    await expect(t.call(Channel.FileAbort, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(/unknown file handle/);
  });

  it("refuses another window's handle exactly like an unknown one", async () => {
    const opened = await open('mine.bin', 4);
    await expect(t.ipcMain.invoke(t.app2.event(), Channel.FileWrite, opened.handle, new Uint8Array(4))).rejects.toThrow(/unknown file handle/);
    await expect(t.ipcMain.invoke(t.app2.event(), Channel.FileClose, opened.handle)).rejects.toThrow(/unknown file handle/);
    await expect(t.ipcMain.invoke(t.app2.event(), Channel.FileAbort, opened.handle)).rejects.toThrow(/unknown file handle/);
    // Still intact for its owner.
    await t.call(Channel.FileWrite, opened.handle, new Uint8Array([1, 2, 3, 4]));
    await t.call(Channel.FileClose, opened.handle);
    expect(readFileSync(join(t.downloads, 'mine.bin'))).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('saves into the downloads folder under a sanitized name, never a renderer path', async () => {
    const opened = await open('../../../etc/cron.d/evil', 1);
    expect(opened.name).toBe(join(t.downloads, 'evil'));
    await t.call(Channel.FileAbort, opened.handle);
    const hidden = await open('.bashrc', 1);
    expect(hidden.name).toBe(join(t.downloads, 'bashrc'));
  });

  it('asks with a dialog when requested, and a cancelled dialog yields null', async () => {
    t.setDialog(null);
    await expect(t.call(Channel.SaveFile, { suggestedName: 'a/b\\report.pdf', size: 3, ask: true })).resolves.toBeNull();
    expect(t.calls.dialog).toEqual([join(t.downloads, 'report.pdf')]);
    const chosen = join(t.downloads, 'chosen.pdf');
    t.setDialog(chosen);
    const opened = (await t.call(Channel.SaveFile, { suggestedName: 'report.pdf', size: 3, ask: true })) as SaveFileOpened;
    expect(opened.name).toBe(chosen);
    await t.call(Channel.FileWrite, opened.handle, new Uint8Array([7, 8, 9]));
    await t.call(Channel.FileClose, opened.handle);
    expect(readFileSync(chosen)).toEqual(Buffer.from([7, 8, 9]));
  });

  it('streams a multi-megabyte file to disk in chunks, byte-exact', async () => {
    const size = 6 * 1024 * 1024 + 12_345;
    const data = randomBytes(size);
    const opened = await open('video.mp4', size);
    expect(opened.existingBytes).toBe(0);
    for (let off = 0; off < size; off += MAX_WRITE_CHUNK_BYTES) {
      await t.call(Channel.FileWrite, opened.handle, new Uint8Array(data.subarray(off, Math.min(off + MAX_WRITE_CHUNK_BYTES, size))));
    }
    await t.call(Channel.FileClose, opened.handle);
    const written = readFileSync(join(t.downloads, 'video.mp4'));
    expect(createHash('sha256').update(written).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readdirSync(t.downloads)).toEqual(['video.mp4']);
    // The handle is gone after close.
    await expect(t.call(Channel.FileWrite, opened.handle, new Uint8Array(1))).rejects.toThrow(/unknown file handle/);
  });

  it('refuses writes past the declared size and a close before it is reached', async () => {
    const opened = await open('small.txt', 4);
    await expect(t.call(Channel.FileWrite, opened.handle, new Uint8Array(5))).rejects.toThrow(/beyond the declared size/);
    await t.call(Channel.FileWrite, opened.handle, new Uint8Array(3));
    await expect(t.call(Channel.FileClose, opened.handle)).rejects.toThrow(/incomplete: 3 of 4/);
    await t.call(Channel.FileWrite, opened.handle, new Uint8Array(1));
    await t.call(Channel.FileClose, opened.handle);
    expect(readFileSync(join(t.downloads, 'small.txt'))).toHaveLength(4);
  });
});
