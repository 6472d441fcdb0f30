// Received files on the web: written into the origin-private file system by a worker (in place, so a
// partial file survives reloads and resumes), then moved into "downloads" once complete. The user
// gets them out with "Save" (a download of the disk-backed File; nothing is read into memory).
import type { BridgeFileSink } from '../../../core/src/bridge.js';
import type { WorkerReply, WorkerRequest } from './opfs-protocol.js';
import { safeFileName, uniqueName } from './filenames.js';

export const DOWNLOADS_DIR = 'downloads';
export const PARTIAL_DIR = 'partial';
/** Writes in flight before write() waits: keeps throughput without unbounded memory. */
const WRITE_WINDOW = 8;

type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };

class OpfsWorkerClient {
  private worker: Worker | null = null;
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();

  private get w(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./opfs-worker.ts', import.meta.url), { type: 'module', name: 'parley-opfs' });
      this.worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
        const p = this.pending.get(ev.data.req);
        if (!p) return;
        this.pending.delete(ev.data.req);
        if (ev.data.ok) p.resolve(ev.data);
        else {
          const err = new Error(ev.data.error);
          if (ev.data.name) err.name = ev.data.name;
          p.reject(err);
        }
      };
      this.worker.onerror = (ev) => {
        const err = new Error(`file writer failed: ${ev.message}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
    }
    return this.worker;
  }

  call(msg: DistributiveOmit<WorkerRequest, 'req'>, transfer: Transferable[] = []): Promise<WorkerReply & { ok: true }> {
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      this.w.postMessage({ ...msg, req } as WorkerRequest, transfer);
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

let client: OpfsWorkerClient | null = null;
const worker = (): OpfsWorkerClient => (client ??= new OpfsWorkerClient());

export async function opfsDir(path: string): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
  return dir;
}

async function namesIn(dir: FileSystemDirectoryHandle): Promise<Set<string>> {
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
    const data = chunk.slice().buffer;
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
    const file = await partialDir.getFileHandle(this.partial);
    const movable = file as unknown as { move?: (dir: FileSystemDirectoryHandle, name: string) => Promise<void> };
    if (typeof movable.move === 'function') {
      await movable.move(downloads, finalName);
    } else {
      // Older engines: stream-copy, then remove the partial.
      const target = await downloads.getFileHandle(finalName, { create: true });
      const writable = await target.createWritable();
      await (await file.getFile()).stream().pipeTo(writable);
      await partialDir.removeEntry(this.partial);
    }
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

export interface StoredDownload {
  name: string;
  size: number;
  lastModified: number;
}

export async function listDownloads(): Promise<StoredDownload[]> {
  const dir = await opfsDir(DOWNLOADS_DIR);
  const out: StoredDownload[] = [];
  for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind !== 'file') continue;
    const file = await (handle as FileSystemFileHandle).getFile();
    out.push({ name, size: file.size, lastModified: file.lastModified });
  }
  return out.sort((a, b) => b.lastModified - a.lastModified);
}

export async function getDownload(name: string): Promise<File> {
  const dir = await opfsDir(DOWNLOADS_DIR);
  return (await dir.getFileHandle(safeFileName(name))).getFile();
}

export async function deleteDownload(name: string): Promise<void> {
  const dir = await opfsDir(DOWNLOADS_DIR);
  await dir.removeEntry(safeFileName(name));
}

/** Hands a stored file to the browser's download manager. The File is disk-backed: no copy in memory. */
export async function exportDownload(name: string): Promise<void> {
  const file = await getDownload(name);
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
