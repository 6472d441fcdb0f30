// Node file IO for the transfer engine: FileSource over absolute paths, FileSink into one receive
// folder (positional reads/writes on FileHandles, fdatasync on checkpoints, ENOSPC → 'disk-full'),
// and the folder walk behind `parley send <path...>`.
import { constants as fsConstants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, realpath, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, posix, resolve, sep } from 'node:path';
import {
  assertRelativePath,
  relativePathProblem,
  TransferError,
  TransferErrorCode,
  type FileSink,
  type FileSource,
  type OutgoingFile,
  type SinkFile,
  type SinkOpenOptions,
  type SourceFile,
} from '../../../core/src/transfer/index.js';

const PART_SUFFIX = '.part';
const MAX_NAME_CANDIDATES = 1000;

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
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

function reason(error: unknown): string {
  const code = errnoOf(error);
  return (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
}

/** Maps a write-side failure: a full disk (or quota) is 'disk-full', anything else 'write-failed'. */
export function writeError(error: unknown, what: string): TransferError {
  if (error instanceof TransferError) return error;
  const code = errnoOf(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new TransferError(TransferErrorCode.DiskFull, `disk full while writing ${what}; the partial file is kept, free some space and resume`, { cause: error });
  }
  return new TransferError(TransferErrorCode.WriteFailed, `cannot write ${what}: ${reason(error)}`, { cause: error });
}

function readError(error: unknown, path: string): TransferError {
  if (error instanceof TransferError) return error;
  return new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${path}: ${reason(error)}`, { cause: error });
}

/** Reads files by absolute path. */
export class NodeFileSource implements FileSource {
  async open(source: string): Promise<SourceFile> {
    if (!isAbsolute(source)) throw new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${source}: not an absolute path`);
    let handle: FileHandle;
    try {
      handle = await open(source, fsConstants.O_RDONLY);
    } catch (error) {
      throw readError(error, source);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${source}: not a regular file`);
      return {
        size: info.size,
        mtime: Math.floor(info.mtimeMs),
        read: async (offset, length) => {
          const buffer = Buffer.allocUnsafe(length);
          let got = 0;
          try {
            while (got < length) {
              const { bytesRead } = await handle.read(buffer, got, length - got, offset + got);
              if (bytesRead === 0) break;
              got += bytesRead;
            }
          } catch (error) {
            throw readError(error, source);
          }
          return new Uint8Array(buffer.buffer, buffer.byteOffset, got);
        },
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close().catch(() => {});
      throw readError(error, source);
    }
  }
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
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.key)) throw new TransferError(TransferErrorCode.BadName, 'bad partial file key');
    const final = this.finalPath(relativePath);
    const parent = dirname(final);
    try {
      await mkdir(parent, { recursive: true });
    } catch (error) {
      throw writeError(error, relativePath);
    }
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

  /** Folders inside the receive dir may be symlinks the user made; none may lead outside it. */
  private async assertInside(folder: string, relativePath: string): Promise<void> {
    const [root, real] = await Promise.all([realpath(this.dir), realpath(folder)]);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new TransferError(TransferErrorCode.BadName, `refused to write ${relativePath}: its folder leads outside the receive folder`);
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

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
};

export function guessMime(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

export interface WalkResult {
  files: OutgoingFile[];
  /** Entries not sent, with why: symbolic links, special files, names the receiver would refuse. */
  skipped: Array<{ path: string; reason: string }>;
}

export interface WalkOptions {
  /** Stop with 'too-large' beyond this many files (default 100,000). */
  maxFiles?: number;
}

/**
 * Turns `parley send` arguments into files to offer: a file is sent under its own name, a folder as
 * itself with its tree ("photos/2024/a.jpg"). Symbolic links and special files are skipped (reported),
 * as are names the receiver would refuse (device names, trailing dots, ...). Throws for a missing path.
 */
export async function walkForSend(paths: readonly string[], options: WalkOptions = {}): Promise<WalkResult> {
  const maxFiles = options.maxFiles ?? 100_000;
  const result: WalkResult = { files: [], skipped: [] };
  const add = async (absolute: string, relativePath: string) => {
    const problem = relativePathProblem(relativePath);
    if (problem) {
      result.skipped.push({ path: absolute, reason: `name refused: ${problem}` });
      return;
    }
    const info = await stat(absolute);
    if (result.files.length >= maxFiles) throw new TransferError(TransferErrorCode.TooLarge, `more than ${maxFiles} files`);
    result.files.push({ relativePath, source: absolute, size: info.size, mime: guessMime(absolute), mtime: Math.floor(info.mtimeMs) });
  };
  for (const given of paths) {
    const absolute = resolve(given);
    let info;
    try {
      info = await lstat(absolute);
    } catch (error) {
      throw new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${given}: ${reason(error)}`);
    }
    const name = basename(absolute);
    if (info.isFile()) await add(absolute, name);
    else if (info.isDirectory()) {
      // Iterative, sorted: deterministic order, no recursion depth limit.
      const stack: Array<[string, string]> = [[absolute, name]];
      while (stack.length) {
        const [folder, rel] = stack.pop()!;
        let entries;
        try {
          entries = await readdir(folder, { withFileTypes: true });
        } catch (error) {
          result.skipped.push({ path: folder, reason: reason(error) });
          continue;
        }
        entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
        const folders: Array<[string, string]> = [];
        for (const entry of entries) {
          const childAbs = join(folder, entry.name);
          const childRel = `${rel}/${entry.name}`;
          if (entry.isDirectory()) folders.push([childAbs, childRel]);
          else if (entry.isFile()) await add(childAbs, childRel);
          else result.skipped.push({ path: childAbs, reason: entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
        }
        stack.push(...folders.reverse());
      }
    } else result.skipped.push({ path: absolute, reason: info.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
  return result;
}
