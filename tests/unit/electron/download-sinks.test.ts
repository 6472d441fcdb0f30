// Received files in the Electron app: the preload's downloads bridge -> (IPC as Electron does it:
// structured clone) -> validated registry -> DownloadSinks -> NodeFileSink -> a real temp folder.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DownloadSinks, MAX_DOWNLOADS_PER_OWNER, registerDownloadIpc } from '../../../electron/main/download-sinks.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import { createDownloads } from '../../../electron/preload/bridge.js';
import { DownloadChannel, MAX_DOWNLOAD_CHUNK_BYTES } from '../../../electron/shared/ipc-contract.js';
import { FakeIpcMain, FakeWebContents } from './fakes.js';

const base = mkdtempSync(join(tmpdir(), 'parley-downloads-'));
const all: DownloadSinks[] = [];
afterEach(() => Promise.all(all.splice(0).map((s) => s.releaseAll())));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const KEY = 'offer1_0';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function stack() {
  const root = join(mkdtempSync(join(base, 'dl-')), 'Parley');
  const ipcMain = new FakeIpcMain();
  const rejected: string[] = [];
  const ipc = createValidatedIpc({
    ipcMain,
    isAppWebContents: (wc) => wc.id === 1 || wc.id === 3,
    onRejected: (c, r) => rejected.push(`${c}: ${r}`),
  });
  const sinks = new DownloadSinks({ root, sync: false });
  all.push(sinks);
  const shown = { items: [] as string[], folders: [] as string[] };
  registerDownloadIpc(ipc, sinks, {
    showItemInFolder: (p) => void shown.items.push(p),
    openPath: async (p) => {
      shown.folders.push(p);
      return '';
    },
  });
  const wc = new FakeWebContents(1);
  const other = new FakeWebContents(3);
  const invokeAs = (sender: FakeWebContents) => ({
    invoke: (channel: string, ...args: unknown[]) => ipcMain.invoke(sender.event(), channel, ...args),
    on: () => () => {},
  });
  const downloads = createDownloads(invokeAs(wc));
  const otherDownloads = createDownloads(invokeAs(other));
  const raw = (channel: string, ...args: unknown[]) => ipcMain.invoke(wc.event(), channel, ...args);
  return { root, sinks, rejected, shown, downloads, otherDownloads, raw, ipcMain, wc };
}

describe('downloads over IPC', () => {
  it('streams a multi-MB file in ≤ 1 MiB writes into <root>, byte-exact, named only on commit', async () => {
    const t = stack();
    const data = randomBytes(5 * 1024 * 1024 + 12_345);
    const { handle, existingBytes } = await t.downloads.open('album/photo.jpg', KEY);
    expect(existingBytes).toBe(0);
    const writes: Promise<void>[] = [];
    // Several writes in flight at once, as the renderer's adapter pipelines them: main keeps their order.
    for (let at = 0; at < data.length; at += 256 * 1024)
      writes.push(t.downloads.write(handle, data.subarray(at, Math.min(at + 256 * 1024, data.length))));
    await Promise.all(writes);
    await t.downloads.flush(handle);
    expect(readdirSync(join(t.root, 'album'))).toEqual([`photo.jpg.${KEY}.part`]);
    const back = await t.downloads.read(handle, 1000, 4096);
    expect(Buffer.from(back).equals(data.subarray(1000, 5096))).toBe(true);
    await expect(t.downloads.commit(handle)).resolves.toBe('album/photo.jpg');
    const saved = readFileSync(join(t.root, 'album', 'photo.jpg'));
    expect(saved.length).toBe(data.length);
    expect(sha(saved)).toBe(sha(data));
    expect(readdirSync(join(t.root, 'album'))).toEqual(['photo.jpg']);
    expect(t.sinks.openCount()).toBe(0);
    // The handle is gone after commit.
    await expect(t.downloads.write(handle, new Uint8Array(1))).rejects.toThrow(/unknown file handle/);
  });

  it('resumes: a reopened partial reports its bytes, truncates to the checkpoint and continues', async () => {
    const t = stack();
    const data = randomBytes(3 * 1024 * 1024);
    const first = await t.downloads.open('big.bin', KEY);
    await t.downloads.write(first.handle, data.subarray(0, 1_000_000));
    await t.downloads.write(first.handle, data.subarray(1_000_000, 1_500_000));
    await t.downloads.write(first.handle, new Uint8Array(1000).fill(0xee)); // garbage after the checkpoint
    await t.downloads.close(first.handle);

    const again = await t.downloads.open('big.bin', KEY);
    expect(again.existingBytes).toBe(1_501_000);
    await expect(t.downloads.truncate(again.handle, 2_000_000)).rejects.toThrow(/beyond the end/);
    await t.downloads.truncate(again.handle, 1_500_000);
    for (let at = 1_500_000; at < data.length; at += MAX_DOWNLOAD_CHUNK_BYTES) {
      await t.downloads.write(again.handle, data.subarray(at, Math.min(at + MAX_DOWNLOAD_CHUNK_BYTES, data.length)));
    }
    await expect(t.downloads.commit(again.handle)).resolves.toBe('big.bin');
    expect(sha(readFileSync(join(t.root, 'big.bin')))).toBe(sha(data));
  });

  it('never overwrites on commit: "name (1).ext", then "name (2).ext"', async () => {
    const t = stack();
    mkdirSync(t.root, { recursive: true });
    writeFileSync(join(t.root, 'report.pdf'), 'mine');
    const names: string[] = [];
    for (const [i, key] of ['k1', 'k2'].entries()) {
      const { handle } = await t.downloads.open('report.pdf', key);
      await t.downloads.write(handle, new Uint8Array([i + 1]));
      names.push(await t.downloads.commit(handle));
    }
    expect(names).toEqual(['report (1).pdf', 'report (2).pdf']);
    expect(readFileSync(join(t.root, 'report.pdf'), 'utf8')).toBe('mine');
    expect([...readFileSync(join(t.root, 'report (2).pdf'))]).toEqual([2]);
  });

  it('discards a partial, and refuses to discard one that is open', async () => {
    const t = stack();
    const { handle } = await t.downloads.open('x.txt', KEY);
    await t.downloads.write(handle, new Uint8Array(10));
    await expect(t.downloads.discard('x.txt', KEY)).rejects.toThrow(/is open/);
    await t.downloads.close(handle);
    await t.downloads.discard('x.txt', KEY);
    expect(readdirSync(t.root)).toEqual([]);
    await expect(t.downloads.discard('x.txt', KEY)).resolves.toBeUndefined();
  });

  it('refuses a second open of the same partial while the first is open', async () => {
    const t = stack();
    await t.downloads.open('x.txt', KEY);
    await expect(t.downloads.open('x.txt', KEY)).rejects.toThrow(/already open/);
  });

  it('refuses traversal and hostile names in main, touching nothing outside the root', async () => {
    const t = stack();
    const hostile = [
      '../evil.txt',
      'a/../../evil.txt',
      '/etc/passwd',
      'C:/x.txt',
      'a\\..\\b.txt',
      'nul.txt',
      'a/CON',
      'x.',
      'a//b',
      './x',
      'evil\u202Etxt.exe',
      'tab\there',
      '',
      'a/'.repeat(40) + 'x',
    ];
    for (const path of hostile) {
      await expect(t.downloads.open(path, KEY), JSON.stringify(path)).rejects.toThrow(/invalid arguments/);
      await expect(t.downloads.discard(path, KEY), JSON.stringify(path)).rejects.toThrow(/invalid arguments/);
      await expect(t.downloads.reveal(path), JSON.stringify(path)).rejects.toThrow(/invalid arguments/);
    }
    expect(t.rejected.length).toBe(hostile.length * 3);
    // The class refuses on its own too (defence in depth, e.g. if another caller forgets the schema).
    await expect(t.sinks.open(1, '../x', KEY)).rejects.toThrow(/refused file name.*\[bad-name\]/);
    expect(readdirSync(join(t.root, '..'))).toEqual([]);
  });

  it('refuses a folder inside the root that is a symlink leading out of it', async () => {
    const t = stack();
    const outside = mkdtempSync(join(base, 'outside-'));
    mkdirSync(t.root, { recursive: true });
    symlinkSync(outside, join(t.root, 'link'));
    await expect(t.downloads.open('link/x.txt', KEY)).rejects.toThrow(/outside the receive folder.*\[bad-name\]/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("refuses another webContents' handle exactly like a made-up one", async () => {
    const t = stack();
    const { handle } = await t.downloads.open('mine.bin', KEY);
    await expect(t.otherDownloads.write(handle, new Uint8Array(1))).rejects.toThrow(/unknown file handle/);
    await expect(t.otherDownloads.read(handle, 0, 1)).rejects.toThrow(/unknown file handle/);
    await expect(t.otherDownloads.commit(handle)).rejects.toThrow(/unknown file handle/);
    await expect(t.otherDownloads.close(handle)).rejects.toThrow(/unknown file handle/);
    await expect(t.downloads.write('00000000-0000-0000-0000-000000000000', new Uint8Array(1))).rejects.toThrow(
      /unknown file handle/,
    );
    // Still the owner's.
    await t.downloads.write(handle, new Uint8Array([7]));
    await expect(t.downloads.commit(handle)).resolves.toBe('mine.bin');
  });

  it('releasing a webContents closes its files and keeps their partials', async () => {
    const t = stack();
    const { handle } = await t.downloads.open('a.bin', KEY);
    await t.downloads.write(handle, new Uint8Array(100));
    await t.sinks.releaseOwner(1);
    expect(t.sinks.openCount()).toBe(0);
    await expect(t.downloads.write(handle, new Uint8Array(1))).rejects.toThrow(/unknown file handle/);
    await expect(t.downloads.open('a.bin', KEY)).resolves.toMatchObject({ existingBytes: 100 });
  });

  it(`caps open files per webContents at ${MAX_DOWNLOADS_PER_OWNER}`, async () => {
    const t = stack();
    for (let i = 0; i < MAX_DOWNLOADS_PER_OWNER; i++) await t.downloads.open(`f${i}.bin`, KEY);
    await expect(t.downloads.open('one-more.bin', KEY)).rejects.toThrow(/too many files open/);
    await expect(t.otherDownloads.open('theirs.bin', KEY)).resolves.toMatchObject({ existingBytes: 0 });
  });

  it('refuses malformed arguments before any handler runs', async () => {
    const t = stack();
    const { handle } = await t.downloads.open('ok.bin', KEY);
    const bad: [string, ...unknown[]][] = [
      [DownloadChannel.Open, 'ok.bin'],
      [DownloadChannel.Open, 'ok.bin', 'bad key!'],
      [DownloadChannel.Open, 'ok.bin', 'k'.repeat(65)],
      [DownloadChannel.Open, 42, KEY],
      [DownloadChannel.Open, 'ok.bin', KEY, { mtime: 1, extra: true }],
      [DownloadChannel.Write, handle, 'not bytes'],
      [DownloadChannel.Write, handle, [1, 2, 3]],
      [DownloadChannel.Write, handle, new Uint8Array(0)],
      [DownloadChannel.Write, '../../etc', new Uint8Array(1)],
      [DownloadChannel.Read, handle, -1, 10],
      [DownloadChannel.Read, handle, 0, MAX_DOWNLOAD_CHUNK_BYTES + 1],
      [DownloadChannel.Read, handle, 0.5, 10],
      [DownloadChannel.Truncate, handle, Number.NaN],
      [DownloadChannel.Truncate, handle],
      [DownloadChannel.Flush, handle, 'extra'],
      [DownloadChannel.Commit, { handle }],
      [DownloadChannel.Discard, 'ok.bin'],
      [DownloadChannel.Reveal, ['ok.bin']],
    ];
    for (const [channel, ...args] of bad) {
      await expect(t.raw(channel, ...args), `${channel} ${String(args[1])}`).rejects.toThrow(/invalid arguments/);
    }
    expect(t.rejected.length).toBe(bad.length);
    expect(readdirSync(t.root)).toEqual([`ok.bin.${KEY}.part`]);
  });

  it('refuses a chunk over 1 MiB, writing nothing', async () => {
    const t = stack();
    const { handle } = await t.downloads.open('big.bin', KEY);
    await expect(t.downloads.write(handle, new Uint8Array(MAX_DOWNLOAD_CHUNK_BYTES + 1))).rejects.toThrow(
      /chunk must be 1\.\.1048576 bytes/,
    );
    await t.downloads.write(handle, new Uint8Array(MAX_DOWNLOAD_CHUNK_BYTES));
    await t.downloads.close(handle);
    expect(readFileSync(join(t.root, `big.bin.${KEY}.part`)).length).toBe(MAX_DOWNLOAD_CHUNK_BYTES);
  });

  it('refuses a sender that is not the app window', async () => {
    const t = stack();
    const stray = new FakeWebContents(2);
    await expect(t.ipcMain.invoke(stray.event(), DownloadChannel.Open, 'x.bin', KEY)).rejects.toThrow(
      /not the app window/,
    );
    await expect(t.ipcMain.invoke(t.wc.event(t.wc.subFrame), DownloadChannel.Open, 'x.bin', KEY)).rejects.toThrow(
      /not the main frame/,
    );
    expect(t.sinks.openCount()).toBe(0);
  });

  it('reveal shows the file when it exists, else opens the root folder', async () => {
    const t = stack();
    const { handle } = await t.downloads.open('sub/r.txt', KEY);
    await t.downloads.write(handle, new Uint8Array([1]));
    const saved = await t.downloads.commit(handle);
    await t.downloads.reveal(saved);
    await t.downloads.reveal('gone.txt');
    expect(t.shown.items).toEqual([join(t.root, 'sub', 'r.txt')]);
    expect(t.shown.folders).toEqual([t.root]);
  });
});
