// Bulk lanes in the desktop app without Electron: the renderer's transfer engine with its BulkPlatform
// (renderer/src/platform/bridge-bulk.ts) and download sink (bridge-sink.ts) -> the preload's bridges ->
// (IPC as Electron does it: structured clone, counted here) -> the validated registry -> BulkLanes and
// DownloadSinks in main -> a real loopback lane to a Node engine with nodeBulk (what the CLI would run).
// The file's bytes go from the lane to disk in main: what crosses the IPC stand-in is control only.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeBulk, BridgeDownloads } from '../../../core/src/bridge.js';
import type { BulkPlatform } from '../../../core/src/transfer/bulk-platform.js';
import type { FileSource, SourceFile } from '../../../core/src/transfer/io.js';
import { deriveLaneKey, newBulkShare } from '../../../core/src/transfer/bulk-key.js';
import { TransferEngine, type FileSink, type FrameStream } from '../../../core/src/transfer/index.js';
import {
  BulkLanes,
  BulkSources,
  MAX_LANES_PER_OWNER,
  MAX_OPEN_PER_OWNER,
  registerBulkIpc,
} from '../../../electron/main/bulk-lanes.js';
import { DownloadSinks, registerDownloadIpc } from '../../../electron/main/download-sinks.js';
import { PICKED_MAX_AGE_MS, PickedFilesStore } from '../../../electron/main/picked-files.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import { hintProblem } from '../../../electron/main/tcp-sockets.js';
import { createDownloads } from '../../../electron/preload/bridge.js';
import { createBulk } from '../../../electron/preload/bulk.js';
import { BulkChannel, RendererEvent, type BulkEventMessage } from '../../../electron/shared/ipc-contract.js';
import { nodeBulk } from '../../../platform/node/src/bulk/platform.js';
import { NodeFileSink, NodeFileSource } from '../../../platform/node/src/file-io.js';
import { nodeBlockHash } from '../../../platform/node/src/hash.js';
import { nodeTcp } from '../../../platform/node/src/tcp/index.js';
import { MemoryKV } from '../core/transfer/memory-io.js';
import { memoryLink, type MemoryStream } from '../core/transfer/memory-link.js';
import { loadRenderer } from '../renderer/load.js';
import { FakeIpcMain, FakeWebContents } from './fakes.js';
import { settled } from '../core/transfer/harness.js';

interface RendererModules {
  bridgeBulkPlatform(bulk: BridgeBulk): BulkPlatform;
  BridgeFileSink: new (downloads: BridgeDownloads) => FileSink;
}
let renderer: RendererModules;
beforeAll(async () => {
  // One after the other: loaded at once, the module runner may make two instances of bridge-sink.ts (one for
  // each specifier), and bridge-bulk.ts would not know the other's sink files.
  const bulk = await loadRenderer<Pick<RendererModules, 'bridgeBulkPlatform'>>('platform/bridge-bulk.ts');
  const sink = await loadRenderer<Pick<RendererModules, 'BridgeFileSink'>>('platform/bridge-sink.ts');
  renderer = { ...bulk, ...sink };
});

const LOOPBACK = ['127.0.0.1'];
const tcp = nodeTcp({ addresses: () => LOOPBACK });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Bytes of every Uint8Array in a value (what a structured clone of it copies of binary data). */
function binaryBytes(value: unknown, seen = new Set<unknown>()): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  let n = 0;
  for (const v of Object.values(value)) n += binaryBytes(v, seen);
  return n;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-desk-bulk-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The desktop side: main (validated IPC, DownloadSinks, BulkLanes) and the renderer's bridges, IPC counted. */
async function desktop(root: string, picked: string[] = []) {
  const ipcMain = new FakeIpcMain();
  const rejected: string[] = [];
  const ipc = createValidatedIpc({
    ipcMain,
    isAppWebContents: (wc) => wc.id === 1 || wc.id === 2,
    onRejected: (c, r) => rejected.push(`${c}: ${r}`),
  });
  const listeners = new Map<number, Set<(...args: unknown[]) => void>>();
  const ipcBytes = { invoke: 0, reply: 0, events: 0 };
  const downloads = new DownloadSinks({ root, sync: false });
  registerDownloadIpc(ipc, downloads, { showItemInFolder: () => {}, openPath: async () => '' });
  const sources = new BulkSources();
  const lanes = new BulkLanes({
    tcp: nodeTcp({ addresses: () => LOOPBACK }),
    downloads,
    sources,
    emit: (owner: number, event: BulkEventMessage) => {
      const [copy] = structuredClone([event]);
      ipcBytes.events += binaryBytes(copy);
      queueMicrotask(() => {
        for (const l of listeners.get(owner) ?? []) l(copy);
      });
    },
    hintPolicy: (host, port) => (host === '127.0.0.1' ? null : hintProblem(host, port)),
    handshakeMs: 2000,
  });
  registerBulkIpc(ipc, lanes, sources, { pickFiles: async () => picked });
  cleanups.push(async () => {
    lanes.releaseAll();
    await downloads.releaseAll();
  });
  const window = (id: number) => {
    const wc = new FakeWebContents(id);
    const preloadIpc = {
      invoke: async (channel: string, ...args: unknown[]) => {
        ipcBytes.invoke += binaryBytes(args);
        const reply = await ipcMain.invoke(wc.event(), channel, ...args);
        ipcBytes.reply += binaryBytes(reply);
        return reply;
      },
      on: (channel: string, l: (...args: unknown[]) => void) => {
        expect(channel).toBe(RendererEvent.Bulk);
        if (!listeners.has(id)) listeners.set(id, new Set());
        listeners.get(id)!.add(l);
        return () => listeners.get(id)!.delete(l);
      },
    };
    const bulk = createBulk(preloadIpc);
    return {
      wc,
      raw: (channel: string, ...args: unknown[]) => ipcMain.invoke(wc.event(), channel, ...args),
      bulk,
      downloads: createDownloads(preloadIpc),
      platform: renderer.bridgeBulkPlatform(bulk),
    };
  };
  return { rejected, ipcBytes, lanes, sources, downloads, one: window(1), two: window(2) };
}

function onTcp(s: MemoryStream): FrameStream {
  return {
    send: (p) => s.send(p),
    onFrame: (h) => s.onFrame(h),
    onReset: (h) => s.onReset(h),
    path: () => s.path(),
    route: () => (s.closed ? 'none' : 'tcp'),
  };
}

async function engine(options: { sink: FileSink; bulk: BulkPlatform }): Promise<TransferEngine> {
  const e = new TransferEngine({
    store: new MemoryKV().view(),
    source: new NodeFileSource(),
    sink: options.sink,
    bulk: options.bulk,
    isKnownContact: () => true,
    decide: () => 'accept',
    progressIntervalMs: 0,
    blockHash: nodeBlockHash,
  });
  await e.start();
  cleanups.push(() => e.close());
  return e;
}

describe('bulk lanes in the desktop main process', () => {
  it('receives a 48 MiB file from a Node peer on a lane into Downloads: only control crosses IPC', async () => {
    const dir = await tempDir();
    const size = 48 * 1024 * 1024;
    const data = randomBytes(size);
    const path = join(dir, 'big.bin');
    await writeFile(path, data);
    const desk = await desktop(join(dir, 'Downloads'));
    // Main's flushed checkpoints reach the engine (it records them, so a restart continues there).
    const checkpoints: number[] = [];
    const platform = desk.one.platform;
    const counting: BulkPlatform = {
      ...platform,
      receive: (r) =>
        platform.receive({
          ...r,
          onCheckpoint: (point) => {
            checkpoints.push(point.offset);
            r.onCheckpoint?.(point);
          },
        }),
    };
    const receiver = await engine({ sink: new renderer.BridgeFileSink(desk.one.downloads), bulk: counting });
    const sender = await engine({ sink: new NodeFileSink(join(dir, 'unused')), bulk: nodeBulk({ tcp }) });
    const link = memoryLink({ windowBytes: 4 * 1024 * 1024 });
    sender.attach('desk', onTcp(link.a));
    receiver.attach('cli', onTcp(link.b));
    const [offer] = await sender.send('desk', [{ relativePath: 'big.bin', source: path, size }]);
    const [out, inc] = await Promise.all([settled(sender, offer!.offerId), settled(receiver, offer!.offerId)]);
    expect([out.state, inc.state]).toEqual(['done', 'done']);
    expect(inc.files[0]!.state).toBe('verified');
    const got = await readFile(join(dir, 'Downloads', 'big.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(receiver.stats.laneBytesReceived).toBe(size);
    expect(receiver.stats.chunkBytesReceived).toBe(0);
    // Every 4 MiB (the engine's default for 48 MiB), at block boundaries, going forward.
    expect(checkpoints.length).toBeGreaterThanOrEqual(10);
    expect(checkpoints.every((o, i) => o % (1024 * 1024) === 0 && (i === 0 || o > checkpoints[i - 1]!))).toBe(true);
    // Keys, digest states and nothing else binary: far below one chunk, let alone the file.
    const total = desk.ipcBytes.invoke + desk.ipcBytes.reply + desk.ipcBytes.events;
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(4096);
    expect(desk.rejected).toEqual([]);
    expect(desk.lanes.count()).toBe(0);
  });

  it('refuses what a renderer may not name: another window’s download, a partial of another length, bad keys', async () => {
    const dir = await tempDir();
    const desk = await desktop(join(dir, 'Downloads'));
    const { handle } = await desk.one.downloads.open('a.bin', 'k1');
    const request = {
      handle,
      key: new Uint8Array(32),
      size: 10,
      from: 0,
      digestFrom: { offset: 0, state: new Uint8Array(116) },
    };
    await expect(desk.two.raw(BulkChannel.Receive, request)).rejects.toThrow(/unknown file handle/);
    await expect(desk.one.raw(BulkChannel.Receive, { ...request, from: 5 })).rejects.toThrow(/holds 0 bytes/);
    await expect(desk.one.raw(BulkChannel.Receive, { ...request, key: new Uint8Array(31) })).rejects.toThrow();
    await expect(desk.one.raw(BulkChannel.Receive, { ...request, path: '/etc/passwd' })).rejects.toThrow();
    expect(desk.rejected.length).toBe(2);
    expect(desk.lanes.count()).toBe(0);
  });

  it('sends only files main picked itself, by token, per window; a path is never accepted', async () => {
    const dir = await tempDir();
    const file = join(dir, 'picked.bin');
    await writeFile(file, randomBytes(1000));
    const desk = await desktop(join(dir, 'Downloads'), [file]);
    const [picked] = await desk.one.bulk.pick();
    expect(picked).toMatchObject({ name: 'picked.bin', size: 1000 });
    const send = { key: new Uint8Array(32), hints: [{ host: '127.0.0.1', port: 9 }], size: 1000 };
    // A token of window 1 is unknown to window 2; a path is not a token.
    await expect(desk.two.raw(BulkChannel.Send, { ...send, token: picked!.token })).rejects.toThrow(/unknown file/);
    await expect(desk.one.raw(BulkChannel.Send, { ...send, token: '/etc/passwd' })).rejects.toThrow();
    // The stream path's reads (a peer without lanes) are the picking window's only.
    expect(await desk.one.bulk.sourceInfo(picked!.token)).toMatchObject({ size: 1000 });
    expect((await desk.one.bulk.readSource(picked!.token, 990, 100)).byteLength).toBe(10);
    await expect(desk.two.bulk.readSource(picked!.token, 0, 10)).rejects.toThrow(/unknown file/);
    await expect(desk.two.bulk.sourceInfo(picked!.token)).rejects.toThrow(/unknown file/);
    // Window 1 reloads: the page that comes back still sends its pick (its engine's unfinished offer names
    // it); once it did, the token is its own again.
    desk.lanes.releaseOwner(1);
    expect((await desk.one.bulk.readSource(picked!.token, 0, 10)).byteLength).toBe(10);
    await expect(desk.two.bulk.readSource(picked!.token, 0, 10)).rejects.toThrow(/unknown file/);
  });

  it('a sender window reaches a Node receiver on a lane with a picked file, the default policy refuses loopback', async () => {
    const dir = await tempDir();
    const size = 3 * 1024 * 1024 + 5;
    const data = randomBytes(size);
    const file = join(dir, 'picked.bin');
    await writeFile(file, data);
    const desk = await desktop(join(dir, 'Downloads'), [file]);
    const [picked] = await desk.one.bulk.pick();
    // The receiver: Node's lane pieces on loopback, expecting the lane's key.
    const receiver = nodeBulk({ tcp });
    const key = await deriveLaneKey({
      sessionId: '',
      offerId: 'AAAAAAAAAAAAAAAAAAAAAA',
      fileId: 0,
      senderShare: newBulkShare(),
      receiverShare: newBulkShare(),
    });
    const sink = await new NodeFileSink(join(dir, 'in'), { sync: false }).open('got.bin', { key: 'k', size, mime: '' });
    cleanups.push(() => sink.close());
    const { FileDigest } = await import('../../../core/src/transfer/hash.js');
    const receiving = await receiver.receive({
      key,
      sink,
      size,
      from: 0,
      digestFrom: await FileDigest.origin(),
      onWritten: () => {},
    });
    // The file's digest states at each MiB, as the engine would remember them.
    const local = await FileDigest.create(undefined, nodeBlockHash);
    const states: Array<{ offset: number; state: Uint8Array }> = [];
    local.onBoundary = (point) => states.push(point);
    local.update(data);
    await local.settled();
    const checkpoints: Array<{ offset: number; state: Uint8Array }> = [];
    const sent = await desk.one.platform.send({
      key,
      hints: receiving.hints,
      source: `main:${picked!.token}`,
      size,
      mtime: picked!.mtime,
      // A state past where the receiver starts (0): main hashes from byte 0 instead.
      digestFrom: states[0]!,
      checkpointBytes: 1024 * 1024,
      onCheckpoint: (point) => checkpoints.push(point),
      onAcked: () => {},
    });
    const result = await receiving.done;
    expect(result.written).toBe(size);
    expect(result.sha256).toBe(sent.sha256);
    expect(sent.sha256).toBe(await local.hex());
    // Main's digest states came back over IPC, each the file's own.
    expect(checkpoints.map((p) => p.offset)).toEqual(states.map((p) => p.offset));
    expect(checkpoints.map((p) => Buffer.from(p.state).toString('hex'))).toEqual(
      states.map((p) => Buffer.from(p.state).toString('hex')),
    );
    expect(
      createHash('sha256')
        .update(await readFile(new NodeFileSink(join(dir, 'in')).partialPath('got.bin', 'k')))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
    expect(desk.ipcBytes.invoke + desk.ipcBytes.reply + desk.ipcBytes.events).toBeLessThan(4096);
    // Without the test's loopback allowance main refuses to dial loopback: the lane ends, no bytes go.
    expect(hintProblem('127.0.0.1', 40000)).not.toBeNull();
    expect(desk.one.platform.canSend?.('file-123')).toBe(false);
  });

  it('bounds lanes per window and ends a window’s lanes when it goes', async () => {
    const dir = await tempDir();
    const desk = await desktop(join(dir, 'Downloads'));
    const lanes: string[] = [];
    for (let i = 0; i < MAX_LANES_PER_OWNER; i++) {
      const { handle } = await desk.one.downloads.open(`f${i}.bin`, `k${i}`);
      const r = await desk.one.bulk.receive({
        handle,
        key: randomBytes(32),
        size: 100,
        from: 0,
        digestFrom: await (await import('../../../core/src/transfer/hash.js')).FileDigest.origin(),
      });
      lanes.push(r.lane);
    }
    const { handle } = await desk.one.downloads.open('extra.bin', 'kx');
    await expect(
      desk.one.bulk.receive({
        handle,
        key: randomBytes(32),
        size: 100,
        from: 0,
        digestFrom: { offset: 0, state: new Uint8Array(116) },
      }),
    ).rejects.toThrow(/too many lanes/);
    expect(desk.lanes.count(1)).toBe(MAX_LANES_PER_OWNER);
    desk.lanes.releaseOwner(1);
    expect(desk.lanes.count()).toBe(0);
  });
});

/** NodeFileSource, counting opens and closes; `closed` resolves at each close. */
function countingFiles(): FileSource & { opens: string[]; closes: number; closed: () => Promise<void> } {
  const files = new NodeFileSource();
  let wake: () => void = () => {};
  const self = {
    opens: [] as string[],
    closes: 0,
    closed: () => new Promise<void>((resolve) => (wake = resolve)),
    async open(path: string): Promise<SourceFile> {
      self.opens.push(path);
      const file = await files.open(path);
      return {
        ...file,
        read: (offset, length) => file.read(offset, length),
        close: async () => {
          await file.close();
          self.closes += 1;
          wake();
        },
      };
    },
  };
  return self;
}

describe('files main picked, kept for the page that comes back and across restarts', () => {
  it('a reloaded window and a restarted main still send an unfinished pick; other windows cannot', async () => {
    const dir = await tempDir();
    const path = join(dir, 'picked.bin');
    await writeFile(path, randomBytes(100));
    let now = 1_000_000;
    const store = new PickedFilesStore(join(dir, 'userData'), () => now);
    const before = new BulkSources({ store, now: () => now });
    const { token } = await before.register(7, path);
    await store.flush();
    // Main restarts: the new run loads the picks, unowned until a window uses them.
    const loaded = await store.load();
    expect(loaded.files).toEqual([{ token, path, pickedAt: now }]);
    const after = new BulkSources({ store });
    after.restore(loaded.files);
    expect((await after.read(1, token, 90, 100)).byteLength).toBe(10);
    await expect(after.read(2, token, 0, 10)).rejects.toThrow(/unknown file/);
    // Window 1 reloads: its tokens stay for the page that comes back.
    after.releaseOwner(1);
    expect(after.path(1, token)).toBe(path);
    // Two weeks on, a pick is forgotten.
    now += PICKED_MAX_AGE_MS + 1;
    expect((await store.load()).files).toEqual([]);
  });

  it('an unreadable picks file is set aside and the list starts empty', async () => {
    const dir = await tempDir();
    const store = new PickedFilesStore(dir, () => 42);
    for (const text of [
      '{not json',
      JSON.stringify({ version: 1, files: [{ token: 'x', path: 'relative', pickedAt: 1 }] }),
    ]) {
      await writeFile(store.path, text);
      const loaded = await store.load();
      expect(loaded.files).toEqual([]);
      expect(loaded.problem).toBeTruthy();
      expect(await readFile(loaded.movedTo!, 'utf8')).toBe(text);
    }
    expect((await store.load()).files).toEqual([]); // no file now: nothing picked, no problem
  });
});

describe('files main picked, read for the session stream', () => {
  it('are read through one open file, closed when idle, beyond the window’s limit and when the window goes', async () => {
    const dir = await tempDir();
    const bytes = randomBytes(3 * 1024 * 1024);
    const paths = await Promise.all(
      Array.from({ length: MAX_OPEN_PER_OWNER + 1 }, async (_, i) => {
        const path = join(dir, `picked-${i}.bin`);
        await writeFile(path, bytes);
        return path;
      }),
    );
    const files = countingFiles();
    const sources = new BulkSources({ files, idleMs: 60_000 });
    const tokens = await Promise.all(paths.map(async (p) => (await sources.register(1, p)).token));
    // The stream reads a file a MiB at a time, four reads at once: one open, the bytes exact.
    const first = tokens[0]!;
    const reads = await Promise.all([0, 1, 2, 3].map((i) => sources.read(1, first, i * 1024 * 1024, 1024 * 1024)));
    expect(Buffer.concat(reads).equals(bytes)).toBe(true);
    expect(files.opens).toEqual([paths[0]]);
    // One file more than a window keeps open: the least recently used one closes.
    for (const t of tokens.slice(1, MAX_OPEN_PER_OWNER)) await sources.read(1, t, 0, 10);
    await sources.read(1, first, 0, 10); // used again: no longer the oldest
    const evicted = files.closed();
    await sources.read(1, tokens[MAX_OPEN_PER_OWNER]!, 0, 10);
    await evicted;
    expect(files.closes).toBe(1);
    expect(files.opens).toHaveLength(MAX_OPEN_PER_OWNER + 1);
    await sources.read(1, tokens[1]!, 0, 10); // the evicted one (tokens[1]) opens again when read
    expect(files.opens).toHaveLength(MAX_OPEN_PER_OWNER + 2);
    expect(files.opens.at(-1)).toBe(paths[1]);
    // The window goes: every file it had open closes.
    sources.releaseOwner(1);
    await expect.poll(() => files.closes).toBe(files.opens.length);
    // Idle: a file read once closes by itself.
    const idle = new BulkSources({ files, idleMs: 20 });
    const token = (await idle.register(2, paths[0]!)).token;
    const closed = files.closed();
    expect((await idle.read(2, token, 0, 10)).byteLength).toBe(10);
    await closed;
    expect(files.closes).toBe(files.opens.length);
  });
});
