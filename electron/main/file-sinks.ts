// Streamed writes of incoming files. The renderer never names a path: the main process picks it (a save
// dialog or the downloads folder with a sanitized name) and gives the renderer an opaque handle, valid
// only for the webContents that opened it. Data goes to "<name>.parley-partial" through a write stream
// with backpressure (memory stays flat for any size) and is renamed to its final name only after the
// declared size was written and flushed to disk. An interrupted transfer leaves the partial file, and a
// later save of the same name and size continues after the bytes already there.
import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { SaveFileOpened } from '../shared/ipc-contract.js';
import { numberedName, sanitizeFileName } from './file-names.js';

export const PARTIAL_SUFFIX = '.parley-partial';
export const MAX_SINKS_PER_OWNER = 64;
const MAX_NAME_CANDIDATES = 1000;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

export class FileSinkError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'FileSinkError';
  }
}

interface Sink {
  handle: string;
  owner: number;
  /** Where the file ends up; in the downloads folder it may get a number if the name got taken meanwhile. */
  finalPath: string;
  partialPath: string;
  /** Set when we chose the name (downloads folder): re-pick a free numbered name at close if it got taken. */
  auto: { dir: string; name: string } | null;
  size: number;
  written: number;
  fh: FileHandle;
  stream: Writable;
  error: Error | null;
  state: 'open' | 'closing';
}

export interface FileSinksOptions {
  highWaterMark?: number;
  newHandle?: () => string;
}

export class FileSinks {
  private readonly sinks = new Map<string, Sink>();
  private readonly highWaterMark: number;
  private readonly newHandle: () => string;

  constructor(options: FileSinksOptions = {}) {
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.newHandle = options.newHandle ?? randomUUID;
  }

  openCount(owner?: number): number {
    let n = 0;
    for (const s of this.sinks.values()) if (owner === undefined || s.owner === owner) n++;
    return n;
  }

  /** A file in `dir` (the downloads folder) named after the sanitized suggestion, numbered if taken. */
  async openInDirectory(owner: number, dir: string, suggestedName: string, size: number): Promise<SaveFileOpened> {
    this.checkQuota(owner);
    const name = sanitizeFileName(suggestedName);
    for (let n = 0; n < MAX_NAME_CANDIDATES; n++) {
      const finalPath = join(dir, numberedName(name, n));
      const partialPath = finalPath + PARTIAL_SUFFIX;
      if (this.partialInUse(partialPath)) continue;
      const partial = await statOrNull(partialPath);
      if (partial) {
        // Same name, not larger than the declared size: the interrupted transfer of this file.
        if (partial.isFile() && partial.size <= size) return this.start(owner, finalPath, partialPath, { dir, name }, size, partial.size, 'a');
        continue;
      }
      if (await statOrNull(finalPath)) continue;
      return this.start(owner, finalPath, partialPath, { dir, name }, size, 0, 'wx');
    }
    throw new FileSinkError(`no free file name for "${name}" in the downloads folder`);
  }

  /** A path the user chose in the save dialog (the dialog already confirmed any overwrite). */
  async openAtPath(owner: number, path: string, size: number): Promise<SaveFileOpened> {
    this.checkQuota(owner);
    const partialPath = path + PARTIAL_SUFFIX;
    if (this.partialInUse(partialPath)) throw new FileSinkError('that file is already being written');
    const partial = await statOrNull(partialPath);
    if (partial && !partial.isFile()) throw new FileSinkError(`${partialPath} exists and is not a regular file`);
    if (partial && partial.size <= size) return this.start(owner, path, partialPath, null, size, partial.size, 'a');
    return this.start(owner, path, partialPath, null, size, 0, 'w');
  }

  async write(owner: number, handle: string, chunk: Uint8Array): Promise<void> {
    const sink = this.get(owner, handle);
    if (sink.state !== 'open') throw new FileSinkError('file is closing');
    if (sink.error) throw describeIoError(sink.error, sink.partialPath);
    if (sink.written + chunk.byteLength > sink.size) {
      throw new FileSinkError(`write beyond the declared size (${sink.size} bytes)`);
    }
    sink.written += chunk.byteLength;
    if (!sink.stream.write(chunk)) await drained(sink);
    if (sink.error) throw describeIoError(sink.error, sink.partialPath);
  }

  /** Flushes, syncs and renames to the final name. Returns the final path. */
  async close(owner: number, handle: string): Promise<string> {
    const sink = this.get(owner, handle);
    if (sink.state !== 'open') throw new FileSinkError('file is already closing');
    if (sink.written !== sink.size) {
      throw new FileSinkError(`file incomplete: ${sink.written} of ${sink.size} bytes written`);
    }
    sink.state = 'closing';
    try {
      await endStream(sink);
      await sink.fh.sync();
    } catch (e) {
      await this.discard(sink);
      throw describeIoError(e, sink.partialPath);
    }
    await this.discard(sink);
    const finalPath = sink.auto && (await statOrNull(sink.finalPath)) ? await freeName(sink.auto.dir, sink.auto.name) : sink.finalPath;
    try {
      await rename(sink.partialPath, finalPath);
    } catch (e) {
      throw describeIoError(e, finalPath);
    }
    return finalPath;
  }

  /** Stops writing and keeps the partial file for a later resume. */
  async abort(owner: number, handle: string): Promise<void> {
    const sink = this.get(owner, handle);
    await this.discard(sink);
  }

  /** The webContents went away (closed, crashed, reloaded): stop its writes, keep partial files. */
  async releaseOwner(owner: number): Promise<void> {
    await Promise.all([...this.sinks.values()].filter((s) => s.owner === owner).map((s) => this.discard(s)));
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((s) => this.discard(s)));
  }

  private get(owner: number, handle: string): Sink {
    const sink = this.sinks.get(handle);
    // Another window's handle is reported exactly like a made-up one: no oracle for guessing.
    if (!sink || sink.owner !== owner) throw new FileSinkError('unknown file handle');
    return sink;
  }

  private checkQuota(owner: number): void {
    if (this.openCount(owner) >= MAX_SINKS_PER_OWNER) throw new FileSinkError(`too many files open (${MAX_SINKS_PER_OWNER})`);
  }

  private partialInUse(partialPath: string): boolean {
    for (const s of this.sinks.values()) if (s.partialPath === partialPath) return true;
    return false;
  }

  private async start(owner: number, finalPath: string, partialPath: string, auto: Sink['auto'], size: number, existingBytes: number, flags: string): Promise<SaveFileOpened> {
    let fh: FileHandle;
    try {
      fh = await open(partialPath, flags, 0o644);
    } catch (e) {
      throw describeIoError(e, partialPath);
    }
    const stream = fh.createWriteStream({ highWaterMark: this.highWaterMark, autoClose: false, emitClose: false });
    const handle = this.newHandle();
    const sink: Sink = { handle, owner, finalPath, partialPath, auto, size, written: existingBytes, fh, stream, error: null, state: 'open' };
    // Record the first I/O error; the next write or close reports it (an 'error' without a listener would crash).
    stream.on('error', (e) => {
      sink.error ??= e;
    });
    this.sinks.set(handle, sink);
    return { handle, name: finalPath, existingBytes };
  }

  private async discard(sink: Sink): Promise<void> {
    if (this.sinks.get(sink.handle) !== sink) return;
    this.sinks.delete(sink.handle);
    if (!sink.stream.writableFinished && !sink.stream.destroyed) {
      // Flush what was accepted: those bytes count as written for a later resume.
      await endStream(sink).catch(() => {});
    }
    // The stream holds a reference on the FileHandle; close() would wait forever while it lives.
    sink.stream.destroy();
    await sink.fh.close().catch(() => {});
  }
}

function drained(sink: Sink): Promise<void> {
  return new Promise((resolve) => {
    if (sink.stream.destroyed || sink.error) {
      resolve();
      return;
    }
    const done = (): void => {
      sink.stream.off('drain', done);
      sink.stream.off('error', done);
      resolve();
    };
    sink.stream.once('drain', done);
    sink.stream.once('error', done);
  });
}

function endStream(sink: Sink): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sink.error) {
      reject(sink.error);
      return;
    }
    const onError = (e: Error): void => reject(e);
    sink.stream.once('error', onError);
    sink.stream.end(() => {
      sink.stream.off('error', onError);
      if (sink.error) reject(sink.error);
      else resolve();
    });
  });
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw describeIoError(e, path);
  }
}

async function freeName(dir: string, name: string): Promise<string> {
  for (let n = 0; n < MAX_NAME_CANDIDATES; n++) {
    const candidate = join(dir, numberedName(name, n));
    if (!(await statOrNull(candidate))) return candidate;
  }
  throw new FileSinkError(`no free file name for "${name}"`);
}

function describeIoError(e: unknown, path: string): FileSinkError {
  if (e instanceof FileSinkError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const what =
    code === 'ENOSPC' ? 'disk full' :
    code === 'EDQUOT' ? 'disk quota exceeded' :
    code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
    code === 'EROFS' ? 'read-only file system' :
    code === 'EEXIST' ? 'file exists' :
    (e as Error | undefined)?.message ?? String(e);
  return new FileSinkError(`${what}${code ? ` (${code})` : ''}: ${path}`, code);
}
