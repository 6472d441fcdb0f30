// What every frame pipe shares (the direct data channel, the relay transport, one relay channel):
//  - frames that arrive before the first onFrame handler are kept and handed to it, in order (the peer
//    may speak first, e.g. its handshake or the frames right after its transcript);
//  - one close, with a reason. A handler given to onClose after the close is called once with that
//    reason, a microtask later: someone who subscribes late (the transport died between "ready" and
//    "attach") still learns, and never synchronously inside onClose();
//  - the drain flag: 'drain' fires once bufferedAmount falls to the low-water mark after a send pushed
//    it above, never spuriously.
import { Emitter } from './emitter.js';

interface PipeEvents {
  frame: Uint8Array;
  drain: void;
  close: string;
}

export abstract class FramePipe {
  readonly #events = new Emitter<PipeEvents>();
  readonly #lowWater: number;
  #early: Uint8Array[] | null = [];
  #closeReason: string | null = null;
  #above = false;

  protected constructor(lowWaterBytes: number) {
    this.#lowWater = lowWaterBytes;
  }

  /** Bytes accepted and not yet handed to the network. */
  abstract get bufferedAmount(): number;

  get closed(): boolean {
    return this.#closeReason !== null;
  }

  /** Why it closed ('' while open). */
  get closeReason(): string {
    return this.#closeReason ?? '';
  }

  protected get lowWaterBytes(): number {
    return this.#lowWater;
  }

  /** Called with every listener exception, so one faulty listener never breaks the pipe. */
  protected set onListenerError(handler: (error: unknown) => void) {
    this.#events.onListenerError = handler;
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    if (this.closed) return () => {};
    const off = this.#events.on('frame', handler);
    const early = this.#early;
    this.#early = null;
    if (early) for (const frame of early) handler(frame);
    return off;
  }

  onDrain(handler: () => void): () => void {
    if (this.closed) return () => {};
    return this.#events.on('drain', handler);
  }

  /** Once, when the pipe dies for any reason (see the header for a handler added after that). */
  onClose(handler: (reason: string) => void): () => void {
    const reason = this.#closeReason;
    if (reason !== null) {
      let live = true;
      queueMicrotask(() => {
        if (live) handler(reason);
      });
      return () => {
        live = false;
      };
    }
    return this.#events.on('close', handler);
  }

  /** Whether frames go straight to a handler (false: they are kept until onFrame). */
  protected get hasFrameHandler(): boolean {
    return this.#early === null;
  }

  /** Hands a frame to the handler, or keeps it until there is one. */
  protected emitFrame(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.#early) this.#early.push(frame);
    else this.#events.emit('frame', frame);
  }

  /** After a send: remembers that bufferedAmount went above the low-water mark. Returns whether it is above. */
  protected noteBuffered(buffered: number = this.bufferedAmount): boolean {
    if (buffered > this.#lowWater) this.#above = true;
    return this.#above;
  }

  /** Whether a send pushed the buffer above the low-water mark and no drain has followed yet. */
  protected get aboveLowWater(): boolean {
    return this.#above;
  }

  /** Fires 'drain' if the buffer was above the mark and `read()` (default: bufferedAmount) is now at or below it. */
  protected checkDrain(read: () => number = () => this.bufferedAmount): void {
    if (!this.#above || this.closed || read() > this.#lowWater) return;
    this.#above = false;
    this.#events.emit('drain', undefined);
  }

  /** Fires 'drain' unconditionally (the owner tracked the mark itself). */
  protected emitDrain(): void {
    if (!this.closed) this.#events.emit('drain', undefined);
  }

  /** Marks the pipe closed and tells every close handler once. False if it was already closed. */
  protected markClosed(reason: string): boolean {
    if (this.#closeReason !== null) return false;
    this.#closeReason = reason;
    this.#early = null;
    this.#above = false;
    this.#events.emit('close', reason);
    this.#events.removeAll();
    return true;
  }
}
