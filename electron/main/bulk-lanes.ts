// Bulk lanes in the main process (stage B of the desktop TCP path): main moves a file's bytes between disk
// and a TCP lane of its own (platform/node/src/bulk), the renderer's transfer engine only hands over the lane
// key and names the file, and hears progress and the outcome. File bytes never cross IPC.
// The renderer is untrusted:
//  - it names a received file only by a download handle it holds (DownloadSinks checks the owner);
//  - it names a file to send only by a token from main's own dialog (BulkSources): never a path, so a
//    compromised renderer cannot make main read and send an arbitrary file;
//  - hints must be unicast, non-loopback, unprivileged (hintProblem), and connecting has a per-window budget;
//  - lanes per window are bounded, every lane has deadlines (handshake, the peer dialling in), and everything a
//    window holds goes when it goes.
import { randomBytes, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute } from 'node:path';
import { z } from 'zod';
import type { TcpPlatform } from '../../core/src/session/tcp-path.js';
import type { BulkPlatform, BulkReceiving } from '../../core/src/transfer/bulk-platform.js';
import { TransferError } from '../../core/src/transfer/errors.js';
import type { FileSource, SourceFile } from '../../core/src/transfer/io.js';
import { nodeBulk } from '../../platform/node/src/bulk/platform.js';
import { NodeFileSource } from '../../platform/node/src/file-io.js';
import { TokenBucket } from '../../signaling/server/token-bucket.js';
import {
  BulkChannel,
  MAX_DOWNLOAD_CHUNK_BYTES,
  type BulkEventMessage,
  type BulkPickedFile,
} from '../shared/ipc-contract.js';
import type { DownloadSinks } from './download-sinks.js';
import type { ValidatedIpc } from './ipc.js';
import { MAX_PICKED_FILES, type PickedFile, type PickedFilesStore } from './picked-files.js';
import { hintProblem } from './tcp-sockets.js';

export const MAX_LANES_PER_OWNER = 4;
export const MAX_SOURCES_PER_OWNER = 4096;
/** Addresses a window's lanes may dial: this many at once, then this many per second. */
export const BULK_CONNECT_BUDGET = { burst: 32, perSecond: 1 } as const;
/** Progress events at most every this many bytes (and at the end). */
const PROGRESS_BYTES = 1024 * 1024;
const SOURCE_PREFIX_BYTES = 16;
/** Files the session stream reads stay open this long after their last read, and this many per window. */
const SOURCE_IDLE_MS = 10_000;
export const MAX_OPEN_PER_OWNER = 8;

export class BulkLaneRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BulkLaneRefused';
  }
}

/**
 * Files the user picked in main's own dialog, by opaque token. A window that uses a token owns it; when the
 * window goes (reload, crash, close) its tokens stay, unowned, for the page that comes back, so its engine's
 * unfinished sends resume. With a `store` they also outlive a restart (picked-files.ts): loaded with
 * `restore()`, unowned until a window uses them.
 */
export class BulkSources {
  private readonly entries = new Map<string, { owner: number | null; path: string; pickedAt: number }>();
  /**
   * Files open for the session stream's reads, by token: the stream reads a file ≤ 1 MiB at a time, and
   * opening and closing it for each read cost a file open per MiB. Closed when idle for `idleMs`, beyond
   * MAX_OPEN_PER_OWNER per window (least recently used first), and when the window goes.
   */
  private readonly open = new Map<string, OpenSource>();
  // Not #private fields: electronegativity's parser does not know them.
  private readonly files: FileSource;
  private readonly idleMs: number;
  private readonly store: Pick<PickedFilesStore, 'save'> | undefined;
  private readonly now: () => number;
  private readonly onStoreError: (error: unknown) => void;

  constructor(
    options: {
      files?: FileSource;
      idleMs?: number;
      /** Where picks are kept across restarts (none: they live as long as main). */
      store?: Pick<PickedFilesStore, 'save'>;
      now?: () => number;
      onStoreError?: (error: unknown) => void;
    } = {},
  ) {
    this.files = options.files ?? new NodeFileSource();
    this.idleMs = options.idleMs ?? SOURCE_IDLE_MS;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.onStoreError = options.onStoreError ?? (() => {});
  }

  /** Picks kept from an earlier run (PickedFilesStore.load), unowned until a window uses them. */
  restore(files: readonly PickedFile[]): void {
    for (const f of files) if (!this.entries.has(f.token)) this.entries.set(f.token, { ...f, owner: null });
  }

  /** Registers a path main itself got from the user (its dialog); never a path from the renderer. */
  async register(owner: number, path: string): Promise<BulkPickedFile> {
    if (!isAbsolute(path)) throw new BulkLaneRefused('not an absolute path');
    if (this.count(owner) >= MAX_SOURCES_PER_OWNER) throw new BulkLaneRefused('too many files picked');
    const info = await stat(path);
    if (!info.isFile()) throw new BulkLaneRefused('not a regular file');
    const token = randomBytes(SOURCE_PREFIX_BYTES).toString('base64url');
    this.entries.set(token, { owner, path, pickedAt: this.now() });
    // The oldest picks go beyond the bound (Map keeps insertion order).
    for (const old of this.entries.keys()) {
      if (this.entries.size <= MAX_PICKED_FILES) break;
      this.entries.delete(old);
    }
    this.persist();
    return { token, name: basename(path), size: info.size, mtime: Math.floor(info.mtimeMs) };
  }

  count(owner: number): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.owner === owner) n++;
    return n;
  }

  /**
   * The path behind a token of this window (another window's token is reported like a made-up one). An
   * unowned token (its window reloaded, or main restarted) becomes this window's.
   */
  path(owner: number, token: string): string {
    const e = this.entries.get(token);
    if (e && e.owner === null) e.owner = owner;
    if (!e || e.owner !== owner) throw new BulkLaneRefused('unknown file');
    return e.path;
  }

  /** A FileSource for one window: the engine's `source` strings are its tokens. */
  sourceFor(owner: number): FileSource {
    return { open: (token) => this.files.open(this.path(owner, token)) };
  }

  async info(owner: number, token: string): Promise<{ size: number; mtime: number }> {
    const info = await stat(this.path(owner, token));
    return { size: info.size, mtime: Math.floor(info.mtimeMs) };
  }

  /** Up to `length` bytes at `offset` (the session stream's reads, when the file cannot go on a lane). */
  async read(owner: number, token: string, offset: number, length: number): Promise<Uint8Array> {
    const path = this.path(owner, token);
    let entry = this.open.get(token);
    if (!entry) {
      entry = { owner, file: this.files.open(path), timer: undefined, reads: 0, closing: false };
      this.open.set(token, entry);
      entry.file.catch(() => this.open.get(token) === entry && this.open.delete(token));
      this.closeOldest(owner);
    } else {
      // Most recently used last: Map keeps insertion order.
      this.open.delete(token);
      this.open.set(token, entry);
    }
    clearTimeout(entry.timer);
    const current = entry;
    entry.timer = setTimeout(() => this.close(token, current), this.idleMs);
    entry.timer.unref?.();
    entry.reads += 1;
    try {
      const file = await entry.file;
      // A copy of exactly the bytes: IPC would clone the whole pooled buffer a view points into.
      return new Uint8Array(await file.read(offset, Math.min(length, Math.max(0, file.size - offset))));
    } finally {
      entry.reads -= 1;
      if (entry.closing && entry.reads === 0) this.close(token, entry);
    }
  }

  /** The window went: its open files close, its tokens stay for the page that comes back (see path()). */
  releaseOwner(owner: number): void {
    for (const e of this.entries.values()) if (e.owner === owner) e.owner = null;
    for (const [token, e] of [...this.open]) if (e.owner === owner) this.close(token, e);
  }

  private persist(): void {
    const files = [...this.entries].map(([token, e]) => ({ token, path: e.path, pickedAt: e.pickedAt }));
    this.store?.save(files).catch((error: unknown) => this.onStoreError(error));
  }

  private closeOldest(owner: number): void {
    const mine = [...this.open].filter(([, e]) => e.owner === owner);
    for (const [token, e] of mine.slice(0, Math.max(0, mine.length - MAX_OPEN_PER_OWNER))) this.close(token, e);
  }

  private close(token: string, entry: OpenSource): void {
    clearTimeout(entry.timer);
    if (this.open.get(token) === entry) this.open.delete(token);
    entry.closing = true;
    if (entry.reads > 0) return; // the last read under way closes it
    entry.file.then((file) => file.close()).catch(() => {});
  }
}

interface OpenSource {
  owner: number;
  file: Promise<SourceFile>;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Reads under way; a closing file closes once they are done. */
  reads: number;
  closing: boolean;
}

interface LaneEntry {
  owner: number;
  cancel: () => void;
}

export interface BulkLanesOptions {
  /** nodeTcp() with the interface addresses main listens on, as for TcpSockets. */
  tcp: TcpPlatform;
  downloads: DownloadSinks;
  sources: BulkSources;
  /** Sends one event to the webContents `owner` (dropped if it is gone). */
  emit(owner: number, event: BulkEventMessage): void;
  newHandle?: () => string;
  /** Which hints may be dialled (default hintProblem; tests allow loopback). */
  hintPolicy?: (host: string, port: number) => string | null;
  connectBudget?: { burst: number; perSecond: number };
  handshakeMs?: number;
  expectMs?: number;
  now?: () => number;
}

export class BulkLanes {
  private readonly lanes = new Map<string, LaneEntry>();
  private readonly budgets = new Map<number, TokenBucket>();
  private readonly newHandle: () => string;
  private readonly now: () => number;
  private readonly platformFor: (owner: number) => BulkPlatform;

  constructor(private readonly options: BulkLanesOptions) {
    this.newHandle = options.newHandle ?? randomUUID;
    this.now = options.now ?? (() => performance.now());
    const policy = options.hintPolicy ?? hintProblem;
    const budget = options.connectBudget ?? BULK_CONNECT_BUDGET;
    this.platformFor = (owner) =>
      nodeBulk({
        source: options.sources.sourceFor(owner),
        ...(options.handshakeMs !== undefined ? { handshakeMs: options.handshakeMs } : {}),
        ...(options.expectMs !== undefined ? { expectMs: options.expectMs } : {}),
        tcp: {
          listen: () => options.tcp.listen(),
          connect: (hints, timeoutMs) => {
            const usable = hints.filter((h) => policy(h.host, h.port) === null);
            if (usable.length === 0) return Promise.reject(new BulkLaneRefused('no usable hint'));
            let bucket = this.budgets.get(owner);
            if (!bucket)
              this.budgets.set(owner, (bucket = new TokenBucket(budget.perSecond, budget.burst, this.now())));
            for (let i = 0; i < usable.length; i++)
              if (!bucket.take(this.now())) return Promise.reject(new BulkLaneRefused('too many lane connections'));
            return options.tcp.connect(usable, timeoutMs);
          },
        },
      });
  }

  count(owner?: number): number {
    let n = 0;
    for (const e of this.lanes.values()) if (owner === undefined || e.owner === owner) n++;
    return n;
  }

  /** Receives a file on a lane into the window's open download `handle`, from `from` on. */
  async receive(
    owner: number,
    request: {
      handle: string;
      key: Uint8Array;
      size: number;
      from: number;
      digestFrom: { offset: number; state: Uint8Array };
      checkpointBytes?: number | undefined;
    },
  ): Promise<{ lane: string; hints: Array<{ host: string; port: number }> }> {
    this.checkRoom(owner);
    const sink = this.options.downloads.laneFile(owner, request.handle);
    if (sink.existingBytes !== request.from)
      throw new BulkLaneRefused(`the partial holds ${sink.existingBytes} bytes, not ${request.from}`);
    const lane = this.newHandle();
    const progress = this.progress(owner, lane);
    // Reserved before the await: the limit holds for receives that start at once.
    this.lanes.set(lane, { owner, cancel: () => {} });
    let receiving: BulkReceiving;
    try {
      receiving = await this.platformFor(owner).receive({
        key: request.key,
        sink,
        size: request.size,
        from: request.from,
        digestFrom: request.digestFrom,
        onWritten: progress,
        ...(request.checkpointBytes !== undefined
          ? {
              checkpointBytes: request.checkpointBytes,
              onCheckpoint: (point: { offset: number; state: Uint8Array }) => {
                if (this.lanes.has(lane))
                  this.options.emit(owner, {
                    kind: 'checkpoint',
                    lane,
                    point: { offset: point.offset, state: point.state },
                  });
              },
            }
          : {}),
      });
    } catch (error) {
      this.lanes.delete(lane);
      throw error;
    }
    const entry = this.lanes.get(lane);
    if (!entry) {
      receiving.cancel(); // the window went meanwhile
      throw new BulkLaneRefused('the window went away');
    }
    entry.cancel = receiving.cancel;
    void receiving.done.then((result) => {
      if (this.lanes.get(lane) !== entry) return;
      this.lanes.delete(lane);
      this.options.emit(owner, {
        kind: 'received',
        lane,
        written: result.written,
        sha256: result.sha256,
        boundary: { offset: result.boundary.offset, state: result.boundary.state.slice() },
      });
    });
    return { lane, hints: receiving.hints.map((h) => ({ host: h.host, port: h.port })) };
  }

  /** Sends a picked file (its token) on a lane to `hints`; the outcome comes as an event. */
  send(
    owner: number,
    request: {
      token: string;
      key: Uint8Array;
      hints: ReadonlyArray<{ host: string; port: number }>;
      size: number;
      mtime?: number;
      /** The engine's digest state to hash on from (a block boundary at or before the receiver's start). */
      digestFrom?: { offset: number; state: Uint8Array } | undefined;
      /** Main's digest states come back as `checkpoint` events about this often (and where a cut left it). */
      checkpointBytes?: number | undefined;
    },
  ): { lane: string } {
    this.checkRoom(owner);
    this.options.sources.path(owner, request.token); // unknown tokens are refused now, not in an event
    const lane = this.newHandle();
    const abort = new AbortController();
    const entry: LaneEntry = { owner, cancel: () => abort.abort() };
    this.lanes.set(lane, entry);
    const progress = this.progress(owner, lane);
    void this.platformFor(owner)
      .send({
        key: request.key,
        hints: request.hints,
        source: request.token,
        size: request.size,
        ...(request.mtime !== undefined ? { mtime: request.mtime } : {}),
        ...(request.digestFrom ? { digestFrom: request.digestFrom } : {}),
        ...(request.checkpointBytes !== undefined
          ? {
              checkpointBytes: request.checkpointBytes,
              onCheckpoint: (point: { offset: number; state: Uint8Array }) => {
                if (this.lanes.get(lane) === entry)
                  this.options.emit(owner, {
                    kind: 'checkpoint',
                    lane,
                    point: { offset: point.offset, state: point.state.slice() },
                  });
              },
            }
          : {}),
        signal: abort.signal,
        onAcked: progress,
      })
      .then(
        (result): BulkEventMessage => ({ kind: 'sent', lane, from: result.from, sha256: result.sha256 }),
        (error: unknown): BulkEventMessage => ({
          kind: 'failed',
          lane,
          message: error instanceof Error ? error.message : String(error),
          ...(error instanceof TransferError ? { code: error.code } : {}),
        }),
      )
      .then((event) => {
        if (this.lanes.get(lane) !== entry) return;
        this.lanes.delete(lane);
        this.options.emit(owner, event);
      });
    return { lane };
  }

  cancel(owner: number, lane: string): void {
    const e = this.lanes.get(lane);
    if (!e || e.owner !== owner) return; // ended already: fine
    e.cancel();
  }

  /** The webContents went away (closed, crashed, reloaded): its lanes end, its picked files are forgotten. */
  releaseOwner(owner: number): void {
    for (const [lane, e] of [...this.lanes]) {
      if (e.owner !== owner) continue;
      this.lanes.delete(lane);
      e.cancel();
    }
    this.options.sources.releaseOwner(owner);
  }

  releaseAll(): void {
    for (const owner of new Set([...this.lanes.values()].map((e) => e.owner))) this.releaseOwner(owner);
  }

  private checkRoom(owner: number): void {
    if (this.count(owner) >= MAX_LANES_PER_OWNER) throw new BulkLaneRefused(`too many lanes (${MAX_LANES_PER_OWNER})`);
  }

  /** Progress events for a lane, at most one per PROGRESS_BYTES. */
  private progress(owner: number, lane: string): (offset: number) => void {
    let last = -1;
    return (offset) => {
      if (last >= 0 && offset - last < PROGRESS_BYTES) return;
      last = offset;
      if (this.lanes.has(lane)) this.options.emit(owner, { kind: 'progress', lane, offset });
    };
  }
}

const handleSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'not a handle');
const tokenSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a file token');
const keySchema = z.instanceof(Uint8Array).refine((k) => k.byteLength === 32, { message: 'a lane key is 32 bytes' });
const offsetSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const digestPointSchema = z.strictObject({
  offset: offsetSchema,
  state: z.instanceof(Uint8Array).refine((s) => s.byteLength > 0 && s.byteLength <= 1024, {
    message: 'not a digest state',
  }),
});
const checkpointBytesSchema = z
  .int()
  .min(1024 * 1024)
  .max(Number.MAX_SAFE_INTEGER);
const hintSchema = z.strictObject({ host: z.string().min(2).max(64), port: z.int().min(1).max(65535) });

export const bulkSchemas = {
  receive: z.tuple([
    z.strictObject({
      handle: handleSchema,
      key: keySchema,
      size: offsetSchema,
      from: offsetSchema,
      digestFrom: digestPointSchema,
      // A flush per checkpoint: not more often than every MiB.
      checkpointBytes: checkpointBytesSchema.optional(),
    }),
  ]),
  send: z.tuple([
    z.strictObject({
      token: tokenSchema,
      key: keySchema,
      hints: z.array(hintSchema).min(1).max(8),
      size: offsetSchema,
      mtime: z.int().min(0).max(8.64e15).optional(),
      digestFrom: digestPointSchema.optional(),
      // A digest state event per checkpoint: not more often than every MiB.
      checkpointBytes: checkpointBytesSchema.optional(),
    }),
  ]),
  lane: z.tuple([handleSchema]),
  none: z.tuple([]),
  token: z.tuple([tokenSchema]),
  read: z.tuple([tokenSchema, offsetSchema, z.int().min(1).max(MAX_DOWNLOAD_CHUNK_BYTES)]),
};

export interface BulkIpcDeps {
  /** dialog.showOpenDialog for the sender's window: the absolute paths the user picked ([] if cancelled). */
  pickFiles(owner: number): Promise<string[]>;
}

export function registerBulkIpc(ipc: ValidatedIpc, lanes: BulkLanes, sources: BulkSources, deps: BulkIpcDeps): void {
  ipc.handle(BulkChannel.Receive, bulkSchemas.receive, ({ sender }, request) => lanes.receive(sender.id, request));
  ipc.handle(BulkChannel.Send, bulkSchemas.send, ({ sender }, request) => lanes.send(sender.id, request));
  ipc.handle(BulkChannel.Cancel, bulkSchemas.lane, ({ sender }, lane) => lanes.cancel(sender.id, lane));
  ipc.handle(BulkChannel.Pick, bulkSchemas.none, async ({ sender }) => {
    const paths = await deps.pickFiles(sender.id);
    return Promise.all(paths.map((p) => sources.register(sender.id, p)));
  });
  ipc.handle(BulkChannel.SourceInfo, bulkSchemas.token, ({ sender }, token) => sources.info(sender.id, token));
  ipc.handle(BulkChannel.ReadSource, bulkSchemas.read, ({ sender }, token, offset, length) =>
    sources.read(sender.id, token, offset, length),
  );
}
