// OPFS worker: owns the sync access handles of files being received.
import type { WorkerReply, WorkerRequest } from './opfs-protocol.js';

// The renderer compiles against the DOM lib, not the WebWorker lib; these are the worker-only pieces used.
interface SyncAccessHandle {
  read(buffer: ArrayBufferView, options?: { at?: number }): number;
  write(buffer: ArrayBufferView, options?: { at?: number }): number;
  truncate(size: number): void;
  flush(): void;
  getSize(): number;
  close(): void;
}
interface WorkerFileHandle {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
}
interface WorkerScope {
  onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const handles = new Map<number, SyncAccessHandle>();
/** Largest range hashed at once: one digest block (core/src/transfer/hash.ts DIGEST_BLOCK_BYTES). */
const HASH_SCRATCH_BYTES = 1024 * 1024;
let hashScratch: Uint8Array<ArrayBuffer> | null = null;
let nextHandle = 1;

async function dirHandle(path: string): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
  return dir;
}

function access(handle: number): SyncAccessHandle {
  const a = handles.get(handle);
  if (!a) throw new Error('file is not open');
  return a;
}

async function handle(msg: WorkerRequest): Promise<[WorkerReply, Transferable[]]> {
  switch (msg.op) {
    case 'warm': {
      await dirHandle(msg.dir);
      return [{ req: msg.req, ok: true }, []];
    }
    case 'open': {
      const dir = await dirHandle(msg.dir);
      const file = (await dir.getFileHandle(msg.name, { create: true })) as unknown as WorkerFileHandle;
      const a = await file.createSyncAccessHandle();
      const id = nextHandle++;
      handles.set(id, a);
      return [{ req: msg.req, ok: true, handle: id, size: a.getSize() }, []];
    }
    case 'write': {
      const a = access(msg.handle);
      const data = new Uint8Array(msg.data, 0, msg.length);
      let done = 0;
      // write() may write less than asked (near the quota): loop until done or nothing moves.
      while (done < data.length) {
        const n = a.write(data.subarray(done), { at: msg.at + done });
        if (n <= 0) throw new DOMException('no space left for this file', 'QuotaExceededError');
        done += n;
      }
      // The buffer goes back to the page's pool: no allocation per block on either side.
      return [{ req: msg.req, ok: true, data: msg.data }, [msg.data]];
    }
    case 'read': {
      const a = access(msg.handle);
      const buf = new Uint8Array(Math.max(0, Math.min(msg.length, a.getSize() - msg.at)));
      let done = 0;
      while (done < buf.length) {
        const n = a.read(buf.subarray(done), { at: msg.at + done });
        if (n <= 0) break;
        done += n;
      }
      const data = buf.buffer.slice(0, done);
      return [{ req: msg.req, ok: true, data }, [data]];
    }
    case 'hash': {
      // The file digest's block hashes, off the page's thread: read back what was written (page cache),
      // then WebCrypto, which copies its input at once, so one scratch buffer serves every request.
      const a = access(msg.handle);
      if (!(msg.length >= 0 && msg.length <= HASH_SCRATCH_BYTES)) throw new RangeError('hash range too long');
      const buf = (hashScratch ??= new Uint8Array(HASH_SCRATCH_BYTES)).subarray(0, msg.length);
      let done = 0;
      while (done < buf.length) {
        const n = a.read(buf.subarray(done), { at: msg.at + done });
        if (n <= 0) break;
        done += n;
      }
      if (done !== buf.length) throw new Error(`the partial holds ${done} of the ${buf.length} bytes to hash`);
      const digest = await crypto.subtle.digest('SHA-256', buf);
      return [{ req: msg.req, ok: true, data: digest }, [digest]];
    }
    case 'truncate': {
      access(msg.handle).truncate(msg.size);
      return [{ req: msg.req, ok: true }, []];
    }
    case 'flush': {
      access(msg.handle).flush();
      return [{ req: msg.req, ok: true }, []];
    }
    case 'close': {
      const a = handles.get(msg.handle);
      handles.delete(msg.handle);
      if (a) {
        a.flush();
        a.close();
      }
      return [{ req: msg.req, ok: true }, []];
    }
  }
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  handle(msg).then(
    ([reply, transfer]) => scope.postMessage(reply, transfer),
    (err: unknown) =>
      scope.postMessage({
        req: msg.req,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        ...(err instanceof Error ? { name: err.name } : {}),
      }),
  );
};
