// An in-memory FrameStream pair for engine tests: in-order delivery after a latency, a bounded window
// (send() resolves only when the sender's undelivered bytes drop below it), lossless path switches,
// and fault injection: drop or corrupt chosen frames, or cut the link (both ends close, frames in
// flight are lost) the way a dead session would.
import type { SessionPath, Unsubscribe } from '../../../../core/src/api.js';
import type { FrameStream } from '../../../../core/src/transfer/index.js';

export interface MemoryLinkOptions {
  latencyMs?: number;
  windowBytes?: number;
  /** Frames delivered per event-loop turn (default 64); 1 keeps the receiver's queue as short as a real one. */
  batch?: number;
}

type Fault = (frame: Uint8Array) => Uint8Array | null;

export class MemoryStream implements FrameStream {
  peer!: MemoryStream;
  closed = false;
  currentPath: SessionPath = 'direct';
  /** Bytes this side sent that the peer has not received yet. */
  inFlight = 0;
  maxInFlight = 0;
  framesSent = 0;
  private readonly handlers = new Set<(payload: Uint8Array) => void>();
  private readonly resetHandlers = new Set<() => void>();
  private readonly fifo: Array<{ frame: Uint8Array; at: number; onAcked: (() => void) | undefined }> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  /** Applied to each frame this side sends; return null to drop it. */
  fault: Fault | null = null;

  constructor(private readonly options: Required<MemoryLinkOptions>) {}

  /** `onAcked` runs once the peer's handlers had the frame (a dropped frame is never acknowledged). */
  send(payload: Uint8Array, onAcked?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('stream closed'));
    this.framesSent += 1;
    const frame = this.fault ? this.fault(payload.slice()) : payload.slice();
    if (frame) {
      this.inFlight += frame.length;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.fifo.push({ frame, at: Date.now() + this.options.latencyMs, onAcked });
      this.schedule();
    }
    if (this.inFlight < this.options.windowBytes) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onFrame(handler: (payload: Uint8Array) => void): Unsubscribe {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onReset(handler: () => void): Unsubscribe {
    this.resetHandlers.add(handler);
    return () => this.resetHandlers.delete(handler);
  }

  /** Tells this side's user that the peer restarted (what the session's 'peer-restart' does). */
  reset(): void {
    for (const handler of [...this.resetHandlers]) handler();
  }

  /** The process owning this end died: its handlers are gone, frames in flight still arrive (to whoever attaches next). */
  orphan(): void {
    this.handlers.clear();
    this.resetHandlers.clear();
  }

  path(): SessionPath {
    return this.closed ? 'none' : this.currentPath;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fifo.length = 0;
    this.inFlight = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('stream closed'));
  }

  private schedule(): void {
    if (this.timer || this.fifo.length === 0) return;
    const delay = Math.max(0, this.fifo[0]!.at - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.deliver();
    }, delay);
  }

  private deliver(): void {
    const now = Date.now();
    // Deliver a bounded batch per turn so the receiver's event loop gets to run its writes.
    let budget = this.options.batch;
    while (this.fifo.length && this.fifo[0]!.at <= now && budget-- > 0 && !this.closed) {
      const { frame, onAcked } = this.fifo.shift()!;
      this.inFlight -= frame.length;
      for (const handler of this.peer.handlers) handler(frame);
      onAcked?.();
    }
    if (this.inFlight < this.options.windowBytes) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
    }
    this.schedule();
  }
}

export interface MemoryLink {
  a: MemoryStream;
  b: MemoryStream;
  /** Cuts the link: both ends close and frames in flight are lost. */
  cut(): void;
  /** Lossless switch of the path both ends report. */
  switchPath(path: SessionPath): void;
}

export function memoryLink(options: MemoryLinkOptions = {}): MemoryLink {
  const resolved = {
    latencyMs: options.latencyMs ?? 1,
    windowBytes: options.windowBytes ?? 1024 * 1024,
    batch: options.batch ?? 64,
  };
  const a = new MemoryStream(resolved);
  const b = new MemoryStream(resolved);
  a.peer = b;
  b.peer = a;
  return {
    a,
    b,
    cut() {
      a.close();
      b.close();
    },
    switchPath(path) {
      a.currentPath = path;
      b.currentPath = path;
    },
  };
}
