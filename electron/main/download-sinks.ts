// Received files on disk for the Electron app (ParleyBridge.downloads): the transfer engine's FileSink,
// served over validated IPC by the tested Node implementation (platform/node/src/file-io.ts) rooted at
// `<Downloads>/Parley`. The renderer is untrusted: it gets opaque handles valid only for the webContents
// that opened them, every path is re-validated here, chunks are bounded, and a handle's operations run one
// at a time in arrival order (NodeFileSink's write position is not safe under concurrent calls, and the
// renderer pipelines writes). Pure: Electron's shell arrives as injected functions.
import { randomUUID } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { NodeFileSink } from '../../platform/node/src/file-io.js';
import { TransferError } from '../../core/src/transfer/errors.js';
import type { SinkFile } from '../../core/src/transfer/io.js';
import { relativePathProblem } from '../../core/src/transfer/names.js';
import { DownloadChannel, MAX_DOWNLOAD_CHUNK_BYTES } from '../shared/ipc-contract.js';
import type { ValidatedIpc } from './ipc.js';

/** Folder under the user's Downloads that received files go to. */
export const DOWNLOADS_SUBDIR = 'Parley';
export const MAX_DOWNLOADS_PER_OWNER = 64;
/** A relative path in UTF-8 is at most 1024 bytes (core/src/transfer/names.ts); 4096 UTF-16 units bound the string before that check. */
const MAX_PATH_CHARS = 4096;

export class DownloadSinkError extends Error {
  constructor(
    message: string,
    readonly code: string = 'write-failed',
  ) {
    // The code travels in the message: Electron passes only the message of a rejected invoke.
    super(`${message} [${code}]`);
    this.name = 'DownloadSinkError';
  }
}

interface Entry {
  owner: number;
  relativePath: string;
  partial: string;
  file: SinkFile;
  /** Bytes in the partial as far as this handle knows: truncate may only shorten it. */
  size: number;
  tail: Promise<unknown>;
}

export interface DownloadSinksOptions {
  /** Absolute `<Downloads>/Parley`; created on first use. */
  root: string;
  /** fdatasync on flush (default true). */
  sync?: boolean;
  newHandle?: () => string;
}

export type RevealTarget = { kind: 'file'; path: string } | { kind: 'folder'; path: string };

export class DownloadSinks {
  readonly root: string;
  private readonly sink: NodeFileSink;
  private readonly entries = new Map<string, Entry>();
  /** Partials held by an open (or closing) handle: a second open of the same one is refused. */
  private readonly busy = new Set<string>();
  private readonly newHandle: () => string;

  constructor(options: DownloadSinksOptions) {
    this.sink = new NodeFileSink(options.root, { sync: options.sync ?? true });
    this.root = this.sink.dir;
    this.newHandle = options.newHandle ?? randomUUID;
  }

  openCount(owner?: number): number {
    let n = 0;
    for (const e of this.entries.values()) if (owner === undefined || e.owner === owner) n++;
    return n;
  }

  async open(
    owner: number,
    relativePath: string,
    key: string,
    mtime?: number,
  ): Promise<{ handle: string; existingBytes: number }> {
    assertPath(relativePath);
    if (this.openCount(owner) >= MAX_DOWNLOADS_PER_OWNER)
      throw new DownloadSinkError(`too many files open (${MAX_DOWNLOADS_PER_OWNER})`);
    const partial = this.sink.partialPath(relativePath, key);
    if (this.busy.has(partial)) throw new DownloadSinkError('that file is already open');
    this.busy.add(partial);
    let file: SinkFile;
    try {
      file = await this.sink.open(relativePath, {
        key,
        size: 0,
        mime: 'application/octet-stream',
        ...(mtime !== undefined ? { mtime } : {}),
      });
    } catch (error) {
      this.busy.delete(partial);
      throw asSinkError(error);
    }
    const handle = this.newHandle();
    this.entries.set(handle, { owner, relativePath, partial, file, size: file.existingBytes, tail: Promise.resolve() });
    return { handle, existingBytes: file.existingBytes };
  }

  read(owner: number, handle: string, offset: number, length: number): Promise<Uint8Array> {
    const e = this.get(owner, handle);
    return this.run(e, async () => {
      const read = e.file.read;
      if (!read) throw new DownloadSinkError('cannot read back this file');
      // A copy: the read may be a view into Node's shared buffer pool, and IPC would clone all of it.
      return new Uint8Array(await read.call(e.file, offset, Math.max(0, Math.min(length, e.size - offset))));
    });
  }

  truncate(owner: number, handle: string, offset: number): Promise<void> {
    const e = this.get(owner, handle);
    return this.run(e, async () => {
      // Growing would let a renderer make huge (sparse, or on some file systems real) files for free.
      if (offset > e.size) throw new DownloadSinkError(`truncate beyond the end of the file (${e.size} bytes)`);
      await e.file.truncate(offset);
      e.size = offset;
    });
  }

  write(owner: number, handle: string, chunk: Uint8Array): Promise<void> {
    const e = this.get(owner, handle);
    return this.run(e, async () => {
      await e.file.write(chunk);
      e.size += chunk.byteLength;
    });
  }

  flush(owner: number, handle: string): Promise<void> {
    const e = this.get(owner, handle);
    return this.run(e, () => e.file.flush());
  }

  /** Flushes, closes and names the file; returns its final path relative to the root. */
  commit(owner: number, handle: string): Promise<string> {
    const e = this.take(owner, handle);
    return this.run(e, async () => {
      await e.file.flush();
      return e.file.commit();
    }).finally(() => this.busy.delete(e.partial));
  }

  close(owner: number, handle: string): Promise<void> {
    const e = this.take(owner, handle);
    return this.run(e, () => e.file.close()).finally(() => this.busy.delete(e.partial));
  }

  async discard(relativePath: string, key: string): Promise<void> {
    assertPath(relativePath);
    if (this.busy.has(this.sink.partialPath(relativePath, key)))
      throw new DownloadSinkError('that file is open; close it first');
    try {
      await this.sink.discard(relativePath, key);
    } catch (error) {
      throw asSinkError(error);
    }
  }

  /**
   * The open partial of `handle` as a SinkFile for a bulk lane here in main (bulk-lanes.ts): its calls join
   * the handle's queue like the renderer's, so the size this handle knows stays right. It neither commits nor
   * closes: the renderer's engine still does that, by the handle.
   */
  laneFile(owner: number, handle: string): SinkFile {
    const e = this.get(owner, handle);
    return {
      existingBytes: e.size,
      read: (offset, length) => this.read(owner, handle, offset, length),
      truncate: (offset) => this.truncate(owner, handle, offset),
      write: (chunk) => this.write(owner, handle, chunk),
      flush: () => this.flush(owner, handle),
      commit: () => Promise.reject(new DownloadSinkError('a lane does not commit')),
      close: () => Promise.resolve(),
    };
  }

  /** Where "show in folder" points: the file if it is there, else the root folder (created). */
  async revealTarget(relativePath: string): Promise<RevealTarget> {
    assertPath(relativePath);
    const path = join(this.root, ...relativePath.split('/'));
    const info = await lstat(path).catch(() => null);
    if (info?.isFile()) return { kind: 'file', path };
    await mkdir(this.root, { recursive: true });
    return { kind: 'folder', path: this.root };
  }

  /** The webContents went away (closed, crashed, reloaded): close its files, keeping partials. */
  async releaseOwner(owner: number): Promise<void> {
    const mine = [...this.entries].filter(([, e]) => e.owner === owner).map(([h]) => h);
    await Promise.all(mine.map((h) => this.close(owner, h).catch(() => {})));
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.entries].map(([h, e]) => this.close(e.owner, h).catch(() => {})));
  }

  private get(owner: number, handle: string): Entry {
    const e = this.entries.get(handle);
    // Another window's handle is reported exactly like a made-up one: no oracle for guessing.
    if (!e || e.owner !== owner) throw new DownloadSinkError('unknown file handle');
    return e;
  }

  /** Removes the handle at once: calls after commit/close are refused even while it is still running. */
  private take(owner: number, handle: string): Entry {
    const e = this.get(owner, handle);
    this.entries.delete(handle);
    return e;
  }

  private run<T>(e: Entry, op: () => Promise<T>): Promise<T> {
    const result = e.tail.then(op).catch((error: unknown) => {
      throw asSinkError(error);
    });
    e.tail = result.catch(() => {});
    return result;
  }
}

function assertPath(relativePath: string): void {
  const problem = relativePathProblem(relativePath);
  if (problem) throw new DownloadSinkError(`refused file name: ${problem}`, 'bad-name');
}

function asSinkError(error: unknown): DownloadSinkError {
  if (error instanceof DownloadSinkError) return error;
  if (error instanceof TransferError) return new DownloadSinkError(error.message, error.code);
  return new DownloadSinkError(error instanceof Error ? error.message : String(error));
}

const handleSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'not a file handle');
const keySchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a partial file key');
// Shape only; relativePathProblem (the engine's own rule) decides in DownloadSinks.
const pathSchema = z
  .string()
  .min(1)
  .max(MAX_PATH_CHARS)
  .refine((p) => relativePathProblem(p) === null, { message: 'not a safe relative path' });
const offsetSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

export const downloadSchemas = {
  open: z.tuple([pathSchema, keySchema, z.strictObject({ mtime: z.int().min(0).max(8.64e15).optional() }).optional()]),
  read: z.tuple([handleSchema, offsetSchema, z.int().min(1).max(MAX_DOWNLOAD_CHUNK_BYTES)]),
  truncate: z.tuple([handleSchema, offsetSchema]),
  write: z.tuple([
    handleSchema,
    z.instanceof(Uint8Array).refine((b) => b.byteLength > 0 && b.byteLength <= MAX_DOWNLOAD_CHUNK_BYTES, {
      message: `chunk must be 1..${MAX_DOWNLOAD_CHUNK_BYTES} bytes`,
    }),
  ]),
  handle: z.tuple([handleSchema]),
  discard: z.tuple([pathSchema, keySchema]),
  reveal: z.tuple([pathSchema]),
};

export interface DownloadIpcDeps {
  /** shell.showItemInFolder */
  showItemInFolder(path: string): void;
  /** shell.openPath; resolves to an error message, '' on success. */
  openPath(path: string): Promise<string>;
}

export function registerDownloadIpc(ipc: ValidatedIpc, sinks: DownloadSinks, deps: DownloadIpcDeps): void {
  ipc.handle(DownloadChannel.Open, downloadSchemas.open, ({ sender }, path, key, options) =>
    sinks.open(sender.id, path, key, options?.mtime),
  );
  ipc.handle(DownloadChannel.Read, downloadSchemas.read, ({ sender }, handle, offset, length) =>
    sinks.read(sender.id, handle, offset, length),
  );
  ipc.handle(DownloadChannel.Truncate, downloadSchemas.truncate, ({ sender }, handle, offset) =>
    sinks.truncate(sender.id, handle, offset),
  );
  ipc.handle(DownloadChannel.Write, downloadSchemas.write, ({ sender }, handle, chunk) =>
    sinks.write(sender.id, handle, chunk),
  );
  ipc.handle(DownloadChannel.Flush, downloadSchemas.handle, ({ sender }, handle) => sinks.flush(sender.id, handle));
  ipc.handle(DownloadChannel.Commit, downloadSchemas.handle, ({ sender }, handle) => sinks.commit(sender.id, handle));
  ipc.handle(DownloadChannel.Close, downloadSchemas.handle, ({ sender }, handle) => sinks.close(sender.id, handle));
  ipc.handle(DownloadChannel.Discard, downloadSchemas.discard, (_ctx, path, key) => sinks.discard(path, key));
  ipc.handle(DownloadChannel.Reveal, downloadSchemas.reveal, async (_ctx, path) => {
    const target = await sinks.revealTarget(path);
    if (target.kind === 'file') {
      deps.showItemInFolder(target.path);
      return;
    }
    const error = await deps.openPath(target.path);
    if (error) throw new Error(error);
  });
}
