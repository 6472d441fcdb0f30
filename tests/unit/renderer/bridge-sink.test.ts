// The renderer's FileSink over ParleyBridge.downloads (renderer/src/platform/bridge-sink.ts), on the real
// chain: adapter -> preload bridge -> IPC (structured clone) -> validated registry -> main's sinks -> disk.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDownloads } from '../../../core/src/bridge.js';
import type { FileSink } from '../../../core/src/transfer/io.js';
import { TransferError } from '../../../core/src/transfer/errors.js';
import { DownloadSinks, registerDownloadIpc } from '../../../electron/main/download-sinks.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import { createDownloads } from '../../../electron/preload/bridge.js';
import { FakeIpcMain, FakeWebContents } from '../electron/fakes.js';
import { loadRenderer } from './load.js';

interface BridgeSinkModule {
  BridgeFileSink: new (downloads: BridgeDownloads) => FileSink;
  bridgeError(err: unknown): TransferError;
  BRIDGE_WRITE_BLOCK: number;
}
let mod: BridgeSinkModule;
beforeAll(async () => {
  mod = await loadRenderer<BridgeSinkModule>('platform/bridge-sink.ts');
});

const base = mkdtempSync(join(tmpdir(), 'parley-bridge-sink-'));
const all: DownloadSinks[] = [];
afterEach(() => Promise.all(all.splice(0).map((s) => s.releaseAll())));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const OPTS = { key: 'o1_0', size: 0, mime: 'application/octet-stream' };

function stack() {
  const root = join(mkdtempSync(join(base, 'dl-')), 'Parley');
  const ipcMain = new FakeIpcMain();
  const ipc = createValidatedIpc({ ipcMain, isAppWebContents: (wc) => wc.id === 1 });
  const sinks = new DownloadSinks({ root, sync: false });
  all.push(sinks);
  registerDownloadIpc(ipc, sinks, { showItemInFolder: () => {}, openPath: async () => '' });
  const wc = new FakeWebContents(1);
  const downloads = createDownloads({
    invoke: (channel, ...args) => ipcMain.invoke(wc.event(), channel, ...args),
    on: () => () => {},
  });
  const writes: number[] = [];
  const counted: BridgeDownloads = {
    ...downloads,
    write: (h, chunk) => (writes.push(chunk.length), downloads.write(h, chunk)),
  };
  return { root, sink: new mod.BridgeFileSink(counted), writes };
}

describe('BridgeFileSink', () => {
  it('writes 64 KiB chunks as ≤ 1 MiB blocks, copies each chunk at once, and the file hashes equal', async () => {
    const t = stack();
    const data = randomBytes(4 * 1024 * 1024 + 777);
    const file = await t.sink.open('in/video.mp4', OPTS);
    expect(file.existingBytes).toBe(0);
    // One reused buffer, as a pooled network chunk would be: the adapter must copy before write() resolves.
    const scratch = new Uint8Array(64 * 1024);
    for (let at = 0; at < data.length; at += scratch.length) {
      const n = Math.min(scratch.length, data.length - at);
      scratch.set(data.subarray(at, at + n));
      await file.write(scratch.subarray(0, n));
      scratch.fill(0xab);
    }
    await file.flush();
    await expect(file.commit()).resolves.toBe('in/video.mp4');
    expect(sha(readFileSync(join(t.root, 'in', 'video.mp4')))).toBe(sha(data));
    expect(t.writes.length).toBe(Math.ceil(data.length / mod.BRIDGE_WRITE_BLOCK));
    expect(Math.max(...t.writes)).toBe(mod.BRIDGE_WRITE_BLOCK);
  });

  it('keeps unflushed bytes on close, reads them back and resumes after a truncate', async () => {
    const t = stack();
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const first = await t.sink.open('r.bin', OPTS);
    await first.write(data.subarray(0, 1_200_000));
    await first.close();
    const again = await t.sink.open('r.bin', OPTS);
    expect(again.existingBytes).toBe(1_200_000);
    // Longer than one IPC read: the adapter reads in pieces and joins them.
    const back = await again.read!(0, 1_200_000);
    expect(sha(back)).toBe(sha(data.subarray(0, 1_200_000)));
    await again.truncate(1_000_000);
    await again.write(data.subarray(1_000_000));
    await again.flush();
    await expect(again.commit()).resolves.toBe('r.bin');
    expect(sha(readFileSync(join(t.root, 'r.bin')))).toBe(sha(data));
  });

  it('maps refusals from main to TransferError codes', async () => {
    const t = stack();
    await expect(t.sink.open('../escape.txt', OPTS)).rejects.toMatchObject({
      name: 'TransferError',
      code: 'write-failed',
    });
    const e = mod.bridgeError(
      new Error(
        "Error invoking remote method 'parley:download-write': DownloadSinkError: disk full while writing a.bin [disk-full]",
      ),
    );
    expect(e).toBeInstanceOf(TransferError);
    expect(e.code).toBe('disk-full');
    expect(e.message).toBe('disk full while writing a.bin');
    expect(mod.bridgeError(new Error('boom [not-a-code]')).code).toBe('write-failed');
  });

  it('a failed block write surfaces on the next call, never as a silent success', async () => {
    let calls = 0;
    const failing: BridgeDownloads = {
      open: async () => ({ handle: 'h-00000000', existingBytes: 0 }),
      read: async () => new Uint8Array(0),
      truncate: async () => {},
      write: async () => {
        calls++;
        throw new Error(
          "Error invoking remote method 'parley:download-write': DownloadSinkError: disk full [disk-full]",
        );
      },
      flush: async () => {},
      commit: async () => 'x',
      close: async () => {},
      discard: async () => {},
      reveal: async () => {},
    };
    const file = await new mod.BridgeFileSink(failing).open('x', OPTS);
    await file.write(new Uint8Array(1000));
    expect(calls).toBe(0); // still gathered
    await expect(file.flush()).rejects.toMatchObject({ code: 'disk-full' });
    expect(calls).toBe(1);
    await expect(file.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'disk-full' });
    await expect(file.commit()).rejects.toMatchObject({ code: 'disk-full' });
  });
});
