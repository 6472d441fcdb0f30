// Node file IO for the transfer engine: FileSource over absolute paths, FileSink into one receive
// folder (positional reads/writes on FileHandles, fdatasync on checkpoints, ENOSPC → 'disk-full').
// Used by the CLI, the Electron main process (received files) and the tests.
import { constants as fsConstants } from 'node:fs';
import { link, lstat, mkdir, open, realpath, rename, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import {
  assertRelativePath,
  TransferError,
  TransferErrorCode,
  type FileSink,
  type FileSource,
  type SinkFile,
  type SinkOpenOptions,
  type SourceFile,
} from '../../../core/src/transfer/index.js';

const PART_SUFFIX = '.part';
const MAX_NAME_CANDIDATES = 1000;

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder',
  EIO: 'I/O error',
  EROFS: 'read-only file system',
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/** A short human reason for a file-system error ("permission denied"), else its message. */
export function describeFsError(error: unknown): string {
  const code = errnoOf(error);
  return (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
}

/** Maps a write-side failure: a full disk (or quota) is 'disk-full', anything else 'write-failed'. */
export function writeError(error: unknown, what: string): TransferError {
  if (error instanceof TransferError) return error;
  const code = errnoOf(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new TransferError(
      TransferErrorCode.DiskFull,
      `disk full while writing ${what}; the partial file is kept, free some space and resume`,
      { cause: error },
    );
  }
  return new TransferError(TransferErrorCode.WriteFailed, `cannot write ${what}: ${describeFsError(error)}`, {
    cause: error,
  });
}

function readError(error: unknown, path: string): TransferError {
  if (error instanceof TransferError) return error;
  return new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${path}: ${describeFsError(error)}`, {
    cause: error,
  });
}

/** Reads files by absolute path. */
export class NodeFileSource implements FileSource {
  async open(source: string): Promise<SourceFile> {
    if (!isAbsolute(source))
      throw new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${source}: not an absolute path`);
    let handle: FileHandle;
    try {
      handle = await open(source, fsConstants.O_RDONLY);
    } catch (error) {
      throw readError(error, source);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile())
        throw new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${source}: not a regular file`);
      const buffers = new ReadBuffers();
      return {
        size: info.size,
        mtime: Math.floor(info.mtimeMs),
        read: (offset, length) => readAt(handle, source, offset, length, 0, Buffer.allocUnsafe(length)),
        readFramed: (offset, length, headroom) =>
          readAt(handle, source, offset, length, headroom, buffers.take(headroom + length)),
        release: (buffer) => buffers.release(buffer),
        close: () => {
          buffers.close();
          return handle.close();
        },
      };
    } catch (error) {
      await handle.close().catch(() => {});
      throw readError(error, source);
    }
  }
}

/**
 * Framed-read buffers given back through SourceFile.release(), reused for reads of their size. A fresh
 * 256 KiB buffer is fresh memory from the kernel (a page fault per 4 KiB on first write, and unmapped again
 * when collected): reading a file into reused buffers took about half the CPU (1.15 → 0.55 s/GB, 256 KiB
 * reads from the page cache on this machine). At most MAX_SPARE are kept, none after close().
 */
class ReadBuffers {
  static readonly MAX_SPARE = 32;
  readonly #ours = new WeakSet<ArrayBuffer>();
  #spare: ArrayBuffer[] = [];
  #closed = false;

  /** A buffer of `size` bytes, contents unspecified: a released one (the latest first) or a new one. */
  take(size: number): Buffer {
    for (let i = this.#spare.length - 1; i >= 0; i--) {
      if (this.#spare[i]!.byteLength === size) return Buffer.from(this.#spare.splice(i, 1)[0]!);
    }
    // Not zero-filled: the caller writes the headroom, and only the bytes read are handed on.
    const fresh = Buffer.allocUnsafeSlow(size);
    this.#ours.add(fresh.buffer as ArrayBuffer);
    return fresh;
  }

  /** A view of a buffer take() gave; anything else (or a second release) is ignored. */
  release(view: Uint8Array): void {
    const buffer = view.buffer;
    if (this.#closed || !(buffer instanceof ArrayBuffer) || !this.#ours.has(buffer)) return;
    if (this.#spare.length >= ReadBuffers.MAX_SPARE || this.#spare.includes(buffer)) return;
    this.#spare.push(buffer);
  }

  close(): void {
    this.#closed = true;
    this.#spare = [];
  }
}

/** Up to `length` bytes at `offset` (fewer only at end of file) into `buffer`, after `headroom` bytes left as they are. */
async function readAt(
  handle: FileHandle,
  source: string,
  offset: number,
  length: number,
  headroom: number,
  buffer: Buffer,
): Promise<Uint8Array> {
  let got = 0;
  try {
    while (got < length) {
      const { bytesRead } = await handle.read(buffer, headroom + got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
  } catch (error) {
    throw readError(error, source);
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, headroom + got);
}

export interface NodeFileSinkOptions {
  /** fdatasync on flush() and after commit (default true; tests of throughput may turn it off). */
  sync?: boolean;
}

/** Writes received files under one folder, keeping their relative paths. */
export class NodeFileSink implements FileSink {
  readonly dir: string;
  private readonly sync: boolean;

  constructor(dir: string, options: NodeFileSinkOptions = {}) {
    this.dir = resolve(dir);
    this.sync = options.sync ?? true;
  }

  /** Absolute path of the partial for (relativePath, key). */
  partialPath(relativePath: string, key: string): string {
    const final = this.finalPath(relativePath);
    return join(dirname(final), `${basename(final)}.${key}${PART_SUFFIX}`);
  }

  async open(relativePath: string, options: SinkOpenOptions): Promise<SinkFile> {
    assertRelativePath(relativePath);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.key))
      throw new TransferError(TransferErrorCode.BadName, 'bad partial file key');
    const final = this.finalPath(relativePath);
    const parent = dirname(final);
    await this.makeFolders(parent, relativePath);
    await this.assertInside(parent, relativePath);
    const partial = join(parent, `${basename(final)}.${options.key}${PART_SUFFIX}`);
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a symlink planted where the partial goes is refused, never followed.
      handle = await open(partial, fsConstants.O_RDWR | fsConstants.O_CREAT | (fsConstants.O_NOFOLLOW ?? 0), 0o666);
    } catch (error) {
      throw writeError(error, relativePath);
    }
    let position: number;
    try {
      position = (await handle.stat()).size;
    } catch (error) {
      await handle.close().catch(() => {});
      throw writeError(error, relativePath);
    }
    const sync = this.sync;
    const sink = this;
    let closed = false;
    const closeHandle = async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    return {
      existingBytes: position,
      async read(offset, length) {
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
      },
      async truncate(offset) {
        try {
          await handle.truncate(offset);
        } catch (error) {
          throw writeError(error, relativePath);
        }
        position = offset;
      },
      async write(chunk) {
        let done = 0;
        try {
          while (done < chunk.length) {
            const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position);
            done += bytesWritten;
            position += bytesWritten;
          }
        } catch (error) {
          throw writeError(error, relativePath);
        }
      },
      async writev(chunks) {
        let left = chunks.reduce((n, c) => n + c.length, 0);
        let pieces = chunks;
        try {
          while (left > 0) {
            const { bytesWritten } = await handle.writev(pieces, position);
            position += bytesWritten;
            left -= bytesWritten;
            if (left > 0) pieces = dropFront(pieces, bytesWritten);
          }
        } catch (error) {
          throw writeError(error, relativePath);
        }
      },
      async flush() {
        if (!sync) return;
        try {
          await handle.datasync();
        } catch (error) {
          throw writeError(error, relativePath);
        }
      },
      async commit() {
        try {
          // The engine flushed just before: the data is durable, only the new name needs syncing.
          await closeHandle();
          if (options.mtime !== undefined) {
            const seconds = options.mtime / 1000;
            await utimes(partial, seconds, seconds).catch(() => {});
          }
          const saved = await sink.placeFinal(partial, final);
          if (sync) await syncDir(parent);
          return posix.join(posix.dirname(relativePath), basename(saved));
        } catch (error) {
          throw writeError(error, relativePath);
        }
      },
      close: closeHandle,
    };
  }

  async discard(relativePath: string, key: string): Promise<void> {
    assertRelativePath(relativePath);
    try {
      await unlink(this.partialPath(relativePath, key));
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw writeError(error, relativePath);
    }
  }

  private finalPath(relativePath: string): string {
    return join(this.dir, ...relativePath.split('/'));
  }

  /**
   * Creates the folders from the receive dir down to `parent` one segment at a time, checking each before
   * going further: `mkdir -p` would follow a symlinked folder already present (`docs -> /etc`) and create
   * directories outside before any check could object. mkdir itself never follows a symlink in its last
   * segment (it fails with EEXIST), so each new segment is created in a folder already checked.
   */
  private async makeFolders(parent: string, relativePath: string): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw writeError(error, relativePath);
    }
    let at = this.dir;
    for (const segment of relative(this.dir, parent)
      .split(sep)
      .filter((s) => s !== '')) {
      at = join(at, segment);
      const st = await lstat(at).catch((error: unknown) => {
        if (errnoOf(error) === 'ENOENT') return null;
        throw writeError(error, relativePath);
      });
      if (st === null) {
        try {
          await mkdir(at);
        } catch (error) {
          if (errnoOf(error) !== 'EEXIST') throw writeError(error, relativePath);
          // Raced with another file of the offer creating it: check it like an existing one.
          await this.assertInside(at, relativePath);
        }
      } else if (st.isSymbolicLink()) {
        await this.assertInside(at, relativePath);
      } else if (!st.isDirectory()) {
        throw new TransferError(
          TransferErrorCode.BadName,
          `refused to write ${relativePath}: ${segment} exists and is not a folder`,
        );
      }
    }
  }

  /** Folders inside the receive dir may be symlinks the user made; none may lead outside it. */
  private async assertInside(folder: string, relativePath: string): Promise<void> {
    const [root, real] = await Promise.all([realpath(this.dir), realpath(folder)]);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new TransferError(
        TransferErrorCode.BadName,
        `refused to write ${relativePath}: its folder leads outside the receive folder`,
      );
    }
  }

  /**
   * Gives the partial its final name without ever replacing a file: link() fails if the name exists
   * (atomic no-clobber), then the partial is unlinked. File systems without hard links fall back to
   * check-then-rename.
   */
  private async placeFinal(partial: string, final: string): Promise<string> {
    const ext = extname(final);
    const stem = final.slice(0, final.length - ext.length);
    for (let n = 0; n < MAX_NAME_CANDIDATES; n++) {
      const candidate = n === 0 ? final : `${stem} (${n})${ext}`;
      try {
        await link(partial, candidate);
        await unlink(partial);
        return candidate;
      } catch (error) {
        const code = errnoOf(error);
        if (code === 'EEXIST') continue;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
      }
      const taken = await lstat(candidate).then(
        () => true,
        (e: unknown) => (errnoOf(e) === 'ENOENT' ? false : Promise.reject(e)),
      );
      if (taken) continue;
      await rename(partial, candidate);
      return candidate;
    }
    throw new Error(`no free name for ${basename(final)} after ${MAX_NAME_CANDIDATES} tries`);
  }
}

/** The pieces left after the first `bytes` bytes were written (a short writev). */
function dropFront(pieces: Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const piece of pieces) {
    if (bytes >= piece.length) {
      bytes -= piece.length;
      continue;
    }
    out.push(bytes > 0 ? piece.subarray(bytes) : piece);
    bytes = 0;
  }
  return out;
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Not every platform can fsync a folder (Windows); the rename itself already happened.
  } finally {
    await handle?.close().catch(() => {});
  }
}
