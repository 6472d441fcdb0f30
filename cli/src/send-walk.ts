// The folder walk behind `parley send <path...>`: arguments to the files to offer.
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import {
  relativePathProblem,
  TransferError,
  TransferErrorCode,
  type OutgoingFile,
} from '../../core/src/transfer/index.js';
import { describeFsError } from '../../platform/node/src/file-io.js';

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
    if (result.files.length >= maxFiles)
      throw new TransferError(TransferErrorCode.TooLarge, `more than ${maxFiles} files`);
    result.files.push({
      relativePath,
      source: absolute,
      size: info.size,
      mime: guessMime(absolute),
      mtime: Math.floor(info.mtimeMs),
    });
  };
  for (const given of paths) {
    const absolute = resolve(given);
    let info;
    try {
      info = await lstat(absolute);
    } catch (error) {
      throw new TransferError(TransferErrorCode.SourceUnreadable, `cannot read ${given}: ${describeFsError(error)}`);
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
          result.skipped.push({ path: folder, reason: describeFsError(error) });
          continue;
        }
        entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
        const folders: Array<[string, string]> = [];
        for (const entry of entries) {
          const childAbs = join(folder, entry.name);
          const childRel = `${rel}/${entry.name}`;
          if (entry.isDirectory()) folders.push([childAbs, childRel]);
          else if (entry.isFile()) await add(childAbs, childRel);
          else
            result.skipped.push({
              path: childAbs,
              reason: entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file',
            });
        }
        stack.push(...folders.reverse());
      }
    } else
      result.skipped.push({ path: absolute, reason: info.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
  return result;
}
