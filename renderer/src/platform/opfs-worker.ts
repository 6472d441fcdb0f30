// OPFS writer worker: owns the sync access handles of files being received.
import type { WorkerReply, WorkerRequest } from './opfs-protocol.js';

// The renderer compiles against the DOM lib, not the WebWorker lib; these are the worker-only pieces used.
interface SyncAccessHandle {
  write(buffer: ArrayBufferView | ArrayBuffer, options?: { at?: number }): number;
  flush(): void;
  getSize(): number;
  close(): void;
}
interface WorkerFileHandle {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
}
interface WorkerScope {
  onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
}

const scope = self as unknown as WorkerScope;
const handles = new Map<number, SyncAccessHandle>();
let nextHandle = 1;

async function dirHandle(path: string): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
  return dir;
}

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  switch (msg.op) {
    case 'open': {
      const dir = await dirHandle(msg.dir);
      const file = (await dir.getFileHandle(msg.name, { create: true })) as unknown as WorkerFileHandle;
      const access = await file.createSyncAccessHandle();
      const id = nextHandle++;
      handles.set(id, access);
      return { req: msg.req, ok: true, handle: id, size: access.getSize() };
    }
    case 'write': {
      const access = handles.get(msg.handle);
      if (!access) throw new Error('file is not open');
      const data = new Uint8Array(msg.data);
      let done = 0;
      // write() may write less than asked (e.g. near the quota); loop until all is written or nothing moves.
      while (done < data.length) {
        const n = access.write(data.subarray(done), { at: msg.at + done });
        if (n <= 0) throw new DOMException('no space left for this file', 'QuotaExceededError');
        done += n;
      }
      return { req: msg.req, ok: true };
    }
    case 'flush': {
      handles.get(msg.handle)?.flush();
      return { req: msg.req, ok: true };
    }
    case 'close': {
      const access = handles.get(msg.handle);
      handles.delete(msg.handle);
      if (access) {
        access.flush();
        access.close();
      }
      return { req: msg.req, ok: true };
    }
  }
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  handle(msg).then(
    (reply) => scope.postMessage(reply),
    (err: unknown) =>
      scope.postMessage({
        req: msg.req,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        name: err instanceof Error ? err.name : undefined,
      }),
  );
};
