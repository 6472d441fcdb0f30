// The preload's bridge end to end without Electron: createElectronBridge -> (IPC as Electron does it:
// structured clone) -> validated registry -> handlers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerBridgeIpc } from '../../../electron/main/bridge-ipc.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import { createElectronBridge, type PreloadIpc } from '../../../electron/preload/bridge.js';
import { Channel, DownloadChannel, RendererEvent } from '../../../electron/shared/ipc-contract.js';
import { FakeIpcMain, FakeWebContents } from './fakes.js';

const base = mkdtempSync(join(tmpdir(), 'parley-preload-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Main-process events pushed to the renderer, like webContents.send -> ipcRenderer.on. */
class FakeRendererEvents {
  private readonly listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  on(channel: string, l: (...args: unknown[]) => void): () => void {
    if (!this.listeners.has(channel)) this.listeners.set(channel, new Set());
    this.listeners.get(channel)!.add(l);
    return () => this.listeners.get(channel)!.delete(l);
  }
  send(channel: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(channel) ?? []) l(...structuredClone(args));
  }
  count(channel: string): number {
    return this.listeners.get(channel)?.size ?? 0;
  }
}

function stack() {
  const downloads = mkdtempSync(join(base, 'dl-'));
  const ipcMain = new FakeIpcMain();
  const wc = new FakeWebContents(1);
  const invocations: { channel: string; args: unknown[] }[] = [];
  const pendingLinks = ['parley:invite#early'];
  const external: string[] = [];
  registerBridgeIpc(createValidatedIpc({ ipcMain, isAppWebContents: (s) => s.id === 1 }), {
    relayUrl: () => 'ws://127.0.0.1:5555/ws',
    downloadsDir: () => downloads,
    notify: () => {},
    setTrayState: () => {},
    openPath: async () => {},
    openExternal: async (u) => void external.push(u),
    takeDeepLinks: () => pendingLinks.splice(0),
  });
  const events = new FakeRendererEvents();
  const ipc: PreloadIpc = {
    invoke: (channel, ...args) => {
      invocations.push({ channel, args });
      return ipcMain.invoke(wc.event(), channel, ...args);
    },
    on: (channel, l) => events.on(channel, l),
  };
  return { bridge: createElectronBridge(ipc), downloads, invocations, events, external };
}

describe('preload bridge', () => {
  it('exposes the ParleyBridge surface as plain functions', () => {
    const { bridge } = stack();
    expect(bridge.platform).toBe('electron');
    for (const key of [
      'embeddedRelayUrl',
      'notify',
      'setTrayState',
      'onDeepLink',
      'onNotificationClick',
      'openDownloads',
      'openExternal',
    ] as const) {
      expect(typeof bridge[key], key).toBe('function');
    }
    // The nested objects are the received-files sink (download-sinks.test.ts), the TCP sockets
    // (tcp-sockets.test.ts) and the bulk lanes (bulk-lanes.test.ts), of functions only.
    const { downloads, tcp, bulk, ...rest } = bridge;
    expect(Object.values(rest).some((v) => typeof v === 'object' && v !== null)).toBe(false);
    for (const [k, v] of Object.entries(downloads ?? {})) expect(typeof v, k).toBe('function');
    expect(Object.keys(downloads ?? {}).length).toBe(9);
    for (const [k, v] of Object.entries(tcp ?? {})) expect(typeof v, k).toBe('function');
    expect(Object.keys(tcp ?? {}).sort()).toEqual(
      ['ack', 'close', 'closeListener', 'connect', 'listen', 'onEvent', 'send', 'start'].sort(),
    );
    for (const [k, v] of Object.entries(bulk ?? {})) expect(typeof v, k).toBe('function');
    expect(Object.keys(bulk ?? {}).sort()).toEqual([
      'cancel',
      'onEvent',
      'pick',
      'readSource',
      'receive',
      'send',
      'sourceInfo',
    ]);
  });

  it('returns the embedded relay URL', async () => {
    await expect(stack().bridge.embeddedRelayUrl()).resolves.toBe('ws://127.0.0.1:5555/ws');
  });

  it('offers the renderer no way to the retired save path (issue 12 item 18)', async () => {
    const { bridge, invocations } = stack();
    expect('saveFile' in bridge).toBe(false);
    // Every method, called: only contract channels are ever invoked, never a save or file-write one.
    await bridge.embeddedRelayUrl();
    await bridge.notify({ kind: 'file', title: 't', body: 'b' });
    bridge.setTrayState({ presence: 'online', unread: 0 });
    await bridge.openDownloads();
    await bridge.openExternal('https://example.com/').catch(() => {});
    const allowed = new Set<string>([...Object.values(Channel), ...Object.values(DownloadChannel)]);
    expect(invocations.length).toBeGreaterThanOrEqual(4);
    for (const { channel } of invocations) expect(allowed.has(channel), channel).toBe(true);
    expect(invocations.some(({ channel }) => /save|file-(write|close|abort)/.test(channel))).toBe(false);
  });

  it('delivers the launch deep link on first subscription, then live ones, and unsubscribes', async () => {
    const { bridge, events } = stack();
    const got: string[] = [];
    const off = bridge.onDeepLink((u) => got.push(u));
    await waitForTurns(() => got.length === 1);
    events.send(RendererEvent.DeepLink, 'parley:invite#live');
    expect(got).toEqual(['parley:invite#early', 'parley:invite#live']);
    off();
    off();
    expect(events.count(RendererEvent.DeepLink)).toBe(0);
    events.send(RendererEvent.DeepLink, 'parley:after');
    expect(got).toHaveLength(2);
  });

  it('passes notification clicks with the contact id, ignoring junk payloads', () => {
    const { bridge, events } = stack();
    const got: (string | undefined)[] = [];
    const off = bridge.onNotificationClick((id) => got.push(id));
    events.send(RendererEvent.NotificationClick, 'A'.repeat(43));
    events.send(RendererEvent.NotificationClick, null);
    events.send(RendererEvent.NotificationClick, { evil: true });
    expect(got).toEqual(['A'.repeat(43), undefined, undefined]);
    off();
    expect(events.count(RendererEvent.NotificationClick)).toBe(0);
  });

  it('openExternal rejects what main refuses and passes what it accepts', async () => {
    const { bridge, external } = stack();
    await expect(bridge.openExternal('file:///etc/passwd')).rejects.toThrow(/only https/);
    await bridge.openExternal('https://example.org/x');
    expect(external).toEqual(['https://example.org/x']);
  });

  it('setTrayState never throws, even when main refuses', async () => {
    const { bridge, invocations } = stack();
    expect(() => bridge.setTrayState({ presence: 'busy' as 'online', unread: 1 })).not.toThrow();
    expect(invocations.at(-1)?.channel).toBe(Channel.TrayState);
  });
});

/** Waits for a condition driven by promise callbacks (no timers as synchronization). */
async function waitForTurns(cond: () => boolean, maxTurns = 100): Promise<void> {
  for (let i = 0; i < maxTurns && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not reached');
}
