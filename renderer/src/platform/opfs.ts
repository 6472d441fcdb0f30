// Received files on the web: written into the origin-private file system by a worker (in place, so a
// partial file survives reloads and resumes), then moved into "downloads" once complete. The user
// gets them out with "Save" (a download of the disk-backed File; nothing is read into memory).
import type { BridgeFileSink } from '../../../core/src/bridge.js';
import { WRITE_WINDOW, copyOf, opfsWorker as worker } from './opfs-client.js';
import { safeFileName, uniqueName } from './filenames.js';

export const DOWNLOADS_DIR = 'downloads';
export const PARTIAL_DIR = 'partial';

export async function opfsDir(path: string): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
  return dir;
}

export async function namesIn(dir: FileSystemDirectoryHandle): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.add(key);
  return names;
}

/** The partial file of a download is keyed by its name and size, so an offer re-sent after a restart finds it. */
export function partialName(suggestedName: string, size: number): string {
  return `${size}-${safeFileName(suggestedName)}.part`;
}

export class OpfsSink implements BridgeFileSink {
  private inFlight = new Set<Promise<unknown>>();
  private error: Error | null = null;
  private position: number;
  private closed = false;
  /** Final file name inside DOWNLOADS_DIR, known after close(). */
  savedAs: string | null = null;

  private constructor(
    readonly name: string,
    readonly existingBytes: number,
    private readonly handle: number,
    private readonly partial: string,
  ) {
    this.position = existingBytes;
  }

  static async open(suggestedName: string, size: number): Promise<OpfsSink> {
    const partial = partialName(suggestedName, size);
    const reply = await worker().call({ op: 'open', dir: PARTIAL_DIR, name: partial });
    // A partial longer than the offered size cannot be ours: start over.
    let existing = reply.size ?? 0;
    if (existing > size) existing = 0;
    return new OpfsSink(safeFileName(suggestedName), existing, reply.handle!, partial);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed) throw new Error('file is closed');
    // Copy: the chunk may be a view into a larger buffer the caller reuses; the copy is transferred.
    const data = copyOf(chunk);
    const at = this.position;
    this.position += chunk.length;
    const p = worker()
      .call({ op: 'write', handle: this.handle, at, data }, [data])
      .catch((err: unknown) => {
        this.error ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= WRITE_WINDOW) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain();
    await worker().call({ op: 'close', handle: this.handle });
    if (this.error) throw this.error;
    const partialDir = await opfsDir(PARTIAL_DIR);
    const downloads = await opfsDir(DOWNLOADS_DIR);
    const taken = await namesIn(downloads);
    const finalName = uniqueName(this.name, (n) => taken.has(n));
    await moveFile(partialDir, this.partial, downloads, finalName);
    this.savedAs = finalName;
  }

  /** Stops writing but keeps the partial file, so a later offer of the same file resumes it. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain().catch(() => undefined);
    await worker().call({ op: 'close', handle: this.handle });
  }
}

/** Moves a closed file between OPFS folders: move() where the engine has it, else copy and delete. */
export async function moveFile(fromDir: FileSystemDirectoryHandle, fromName: string, toDir: FileSystemDirectoryHandle, toName: string): Promise<void> {
  const file = await fromDir.getFileHandle(fromName);
  const movable = file as unknown as { move?: (dir: FileSystemDirectoryHandle, name: string) => Promise<void> };
  if (typeof movable.move === 'function') {
    await movable.move(toDir, toName);
    return;
  }
  const target = await toDir.getFileHandle(toName, { create: true });
  const writable = await target.createWritable();
  await (await file.getFile()).stream().pipeTo(writable);
  await fromDir.removeEntry(fromName);
}

export interface StoredDownload {
  /** Path inside the downloads folder, `/`-separated (offers may carry folders). */
  name: string;
  size: number;
  lastModified: number;
}

type Entries = { entries(): AsyncIterable<[string, FileSystemHandle]> };

export async function listDownloads(): Promise<StoredDownload[]> {
  const out: StoredDownload[] = [];
  const walk = async (dir: FileSystemDirectoryHandle, prefix: string, depth: number): Promise<void> => {
    for await (const [name, handle] of (dir as unknown as Entries).entries()) {
      if (handle.kind === 'directory') {
        if (depth < 32) await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`, depth + 1);
        continue;
      }
      const file = await (handle as FileSystemFileHandle).getFile();
      out.push({ name: prefix + name, size: file.size, lastModified: file.lastModified });
    }
  };
  await walk(await opfsDir(DOWNLOADS_DIR), '', 0);
  return out.sort((a, b) => b.lastModified - a.lastModified);
}

/** Resolves a stored download's `/`-separated path; refuses anything that is not plain names. */
async function locate(path: string): Promise<{ dir: FileSystemDirectoryHandle; name: string }> {
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new Error('invalid file path');
  let dir = await opfsDir(DOWNLOADS_DIR);
  for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
  return { dir, name: parts[parts.length - 1]! };
}

export async function getDownload(path: string): Promise<File> {
  const { dir, name } = await locate(path);
  return (await dir.getFileHandle(name)).getFile();
}

export async function deleteDownload(path: string): Promise<void> {
  const { dir, name } = await locate(path);
  await dir.removeEntry(name);
}

/** Hands a stored file to the browser's download manager. The File is disk-backed: no copy in memory. */
export async function exportDownload(path: string): Promise<void> {
  const file = await getDownload(path);
  const url = URL.createObjectURL(file);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = file.name;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // The download manager has the URL once click() returns; revoke later so it can start.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
