// The preload's bridge end to end without Electron: createElectronBridge -> (IPC as Electron does it:
// structured clone) -> validated registry -> file sinks -> disk.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { registerBridgeIpc } from '../../../electron/main/bridge-ipc.js';
import { FileSinks } from '../../../electron/main/file-sinks.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import { createElectronBridge, type PreloadIpc } from '../../../electron/preload/bridge.js';
import { Channel, MAX_WRITE_CHUNK_BYTES, RendererEvent } from '../../../electron/shared/ipc-contract.js';
import { FakeIpcMain, FakeWebContents } from './fakes.js';

const base = mkdtempSync(join(tmpdir(), 'parley-preload-'));
const allSinks: FileSinks[] = [];
afterEach(() => Promise.all(allSinks.splice(0).map((f) => f.releaseAll())));
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
  const files = new FileSinks();
  allSinks.push(files);
  const invocations: { channel: string; args: unknown[] }[] = [];
  const pendingLinks = ['parley:invite#early'];
  const external: string[] = [];
  registerBridgeIpc(createValidatedIpc({ ipcMain, isAppWebContents: (s) => s.id === 1 }), {
    relayUrl: () => 'ws://127.0.0.1:5555/ws',
    files,
    downloadsDir: () => downloads,
    showSaveDialog: async () => null,
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
  return { bridge: createElectronBridge(ipc), downloads, invocations, events, files, external };
}

describe('preload bridge', () => {
  it('exposes the ParleyBridge surface as plain functions', () => {
    const { bridge } = stack();
    expect(bridge.platform).toBe('electron');
    for (const key of ['embeddedRelayUrl', 'saveFile', 'notify', 'setTrayState', 'onDeepLink', 'onNotificationClick', 'openDownloads', 'openExternal'] as const) {
      expect(typeof bridge[key], key).toBe('function');
    }
    // The one nested object is the received-files sink (download-sinks.test.ts), of functions only.
    const { downloads, ...rest } = bridge;
    expect(Object.values(rest).some((v) => typeof v === 'object' && v !== null)).toBe(false);
    for (const [k, v] of Object.entries(downloads ?? {})) expect(typeof v, k).toBe('function');
    expect(Object.keys(downloads ?? {}).length).toBe(9);
  });

  it('returns the embedded relay URL', async () => {
    await expect(stack().bridge.embeddedRelayUrl()).resolves.toBe('ws://127.0.0.1:5555/ws');
  });

  it('streams a large file through IPC in ≤ 256 KiB pieces, hash-equal on disk', async () => {
    const { bridge, downloads, invocations } = stack();
    const size = 5 * 1024 * 1024 + 777;
    const data = randomBytes(size);
    const sink = await bridge.saveFile({ suggestedName: 'movie.mkv', size, ask: false });
    expect(sink).not.toBeNull();
    expect(sink!.name).toBe(join(downloads, 'movie.mkv'));
    expect(sink!.existingBytes).toBe(0);
    // The engine writes in its own chunk size; 1 MiB writes must be split by the preload.
    const writes: Promise<void>[] = [];
    for (let off = 0; off < size; off += 1024 * 1024) writes.push(sink!.write(new Uint8Array(data.subarray(off, Math.min(off + 1024 * 1024, size)))));
    await Promise.all(writes);
    await sink!.close();
    const onDisk = readFileSync(join(downloads, 'movie.mkv'));
    expect(createHash('sha256').update(onDisk).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    const writeCalls = invocations.filter((i) => i.channel === Channel.FileWrite);
    expect(writeCalls.length).toBe(Math.ceil(size / MAX_WRITE_CHUNK_BYTES));
    expect(Math.max(...writeCalls.map((c) => (c.args[1] as Uint8Array).byteLength))).toBe(MAX_WRITE_CHUNK_BYTES);
  });

  it('resumes an interrupted save after the bytes already on disk', async () => {
    const { bridge, downloads } = stack();
    const data = randomBytes(700_000);
    const first = await bridge.saveFile({ suggestedName: 'big.iso', size: data.length, ask: false });
    await first!.write(new Uint8Array(data.subarray(0, 300_000)));
    await first!.abort('link dropped');
    const again = await bridge.saveFile({ suggestedName: 'big.iso', size: data.length, ask: false });
    expect(again!.name).toBe(first!.name);
    expect(again!.existingBytes).toBe(300_000);
    await again!.write(new Uint8Array(data.subarray(300_000)));
    await again!.close();
    expect(createHash('sha256').update(readFileSync(join(downloads, 'big.iso'))).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('rejects a write that main refuses, with the reason', async () => {
    const { bridge } = stack();
    const sink = await bridge.saveFile({ suggestedName: 'x.bin', size: 2, ask: false });
    await expect(sink!.write(new Uint8Array(3))).rejects.toThrow(/beyond the declared size/);
    await expect(sink!.write('nope' as unknown as Uint8Array)).rejects.toThrow(/Uint8Array/);
  });

  it('returns null when the save dialog is cancelled', async () => {
    await expect(stack().bridge.saveFile({ suggestedName: 'x', size: 1, ask: true })).resolves.toBeNull();
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
