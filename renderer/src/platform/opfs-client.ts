// The page side of the OPFS worker: request/reply over postMessage, one worker per page.
import type { WorkerReply, WorkerRequest } from './opfs-protocol.js';

/** Writes in flight before a write waits: keeps throughput without unbounded memory. */
export const WRITE_WINDOW = 8;

/** Bytes of one write block (the worker's unit of work). */
export const WRITE_BLOCK = 1024 * 1024;

/**
 * Write blocks, reused: the worker hands each one back with its reply. A fresh 1 MiB buffer per block
 * (and a copy of every chunk before it) cost the receiving page its allocation, zeroing and page faults
 * per MiB; now each received byte is copied once, into a block that is already mapped.
 */
const freeBlocks: ArrayBuffer[] = [];

export function takeBlock(): ArrayBuffer {
  return freeBlocks.pop() ?? new ArrayBuffer(WRITE_BLOCK);
}

export function returnBlock(block: ArrayBuffer | undefined): void {
  // A detached or foreign buffer is not reused; the pool never holds more than a full window.
  if (block && block.byteLength === WRITE_BLOCK && freeBlocks.length <= WRITE_WINDOW) freeBlocks.push(block);
}

type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };

export class OpfsWorkerClient {
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

  call(
    msg: DistributiveOmit<WorkerRequest, 'req'>,
    transfer: Transferable[] = [],
  ): Promise<WorkerReply & { ok: true }> {
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      this.w.postMessage({ ...msg, req } as WorkerRequest, transfer);
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

let client: OpfsWorkerClient | null = null;
/** The one OPFS worker of this page, started on first use. */
export const opfsWorker = (): OpfsWorkerClient => (client ??= new OpfsWorkerClient());
