// An in-memory FrameTransport pair for stream tests: ordered and reliable while alive, delivered
// asynchronously in random-sized batches; can die dropping a random subset of what is in flight.
import type { FrameTransport, TransportPath } from '../../../../core/src/session/transport.js';

export type Random = () => number;

/** mulberry32: a seeded PRNG so a failing run can be replayed from its seed. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class End implements FrameTransport {
  peer!: End;
  closed = false;
  readonly queue: Uint8Array[] = [];
  queuedBytes = 0;
  /** The most bytes ever queued at once. */
  peakQueued = 0;
  /** FrameTransport.highWater, when a test gives the transport its own. */
  highWater?: number;
  #frameHandlers: Array<(f: Uint8Array) => void> = [];
  #early: Uint8Array[] = [];
  #drain: Array<() => void> = [];
  #close: Array<(r: string) => void> = [];
  #above = false;
  #scheduled = false;

  constructor(
    readonly path: TransportPath,
    readonly random: Random,
    readonly lowWater: number,
  ) {}

  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  send(frame: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    this.queue.push(new Uint8Array(frame));
    this.queuedBytes += frame.length;
    this.peakQueued = Math.max(this.peakQueued, this.queuedBytes);
    if (this.queuedBytes > this.lowWater) this.#above = true;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.closed) return;
      const n = 1 + Math.floor(this.random() * 16);
      for (let i = 0; i < n && this.queue.length > 0 && !this.closed; i++) {
        const f = this.queue.shift()!;
        this.queuedBytes -= f.length;
        this.peer.receive(f);
      }
      if (this.#above && this.queuedBytes <= this.lowWater) {
        this.#above = false;
        for (const h of [...this.#drain]) h();
      }
      if (this.queue.length > 0) this.#schedule();
    });
  }

  receive(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.#frameHandlers.length === 0) this.#early.push(frame);
    else for (const h of this.#frameHandlers) h(frame);
  }

  onFrame(handler: (f: Uint8Array) => void): () => void {
    this.#frameHandlers.push(handler);
    const early = this.#early.splice(0);
    for (const f of early) handler(f);
    return () => {
      this.#frameHandlers = this.#frameHandlers.filter((h) => h !== handler);
    };
  }

  onDrain(handler: () => void): () => void {
    this.#drain.push(handler);
    return () => {
      this.#drain = this.#drain.filter((h) => h !== handler);
    };
  }

  onClose(handler: (reason: string) => void): () => void {
    this.#close.push(handler);
    return () => {
      this.#close = this.#close.filter((h) => h !== handler);
    };
  }

  close(reason = 'closed'): void {
    this.#die(reason, 0);
  }

  /** Delivers each in-flight frame with probability `keep` (order kept, gaps allowed), then dies. */
  #die(reason: string, keep: number): void {
    if (this.closed) return;
    const inflight = this.queue.splice(0);
    this.queuedBytes = 0;
    for (const f of inflight) if (this.random() < keep) this.peer.receive(f);
    this.closed = true;
    for (const h of this.#close.splice(0)) h(reason);
    this.peer.#die(reason, keep);
  }

  kill(keep: number): void {
    this.#die('killed', keep);
  }
}

export function memoryPair(random: Random, path: TransportPath = 'direct', lowWater = 16 * 1024): [End, End] {
  const a = new End(path, random, lowWater);
  const b = new End(path, random, lowWater);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export type MemoryEnd = End;
