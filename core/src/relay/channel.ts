// One relay channel as its user sees it: a bidirectional byte pipe to one peer, tagged by a session id.
// Frames are forwarded by the relay untouched, so callers encrypt them end to end (session/relay-transport).
import { Emitter } from '../util/emitter.js';

export interface RelayChannelEvents {
  message: Uint8Array;
  close: { reason: string };
  /** bufferedAmount fell to or below the low-water mark after having been above it. */
  drain: void;
}

/** What the channel needs from the client that owns it. */
export interface ChannelHost {
  sendFrame(channel: number, payload: Uint8Array): void;
  /** Sends `frame` whose first CHANNEL_HEADER_BYTES are room for the channel header (written in place). */
  sendFramed(channel: number, frame: Uint8Array): void;
  closeChannel(channel: number): void;
  readonly bufferedAmount: number;
}

export class RelayChannelSocket {
  readonly #host: ChannelHost;
  readonly #events = new Emitter<RelayChannelEvents>();
  #closed = false;
  #closeReason = '';
  /** Frames that arrived before anyone listened: the peer may talk first (e.g. its handshake). */
  #early: Uint8Array[] | null = [];

  constructor(
    host: ChannelHost,
    readonly channel: number,
    readonly peer: string,
    readonly tag: string,
  ) {
    this.#host = host;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closeReason(): string {
    return this.#closeReason;
  }

  /** Bytes queued in the relay WebSocket (shared by every channel on that connection). */
  get bufferedAmount(): number {
    return this.#closed ? 0 : this.#host.bufferedAmount;
  }

  send(payload: Uint8Array): void {
    if (this.#closed) throw new Error(`relay channel closed: ${this.#closeReason}`);
    this.#host.sendFrame(this.channel, payload);
  }

  /**
   * Like send(), without copying: `frame` starts with CHANNEL_HEADER_BYTES of room for the channel header,
   * which is written into it; the payload is the rest. The caller gives the buffer up.
   */
  sendFramed(frame: Uint8Array): void {
    if (this.#closed) throw new Error(`relay channel closed: ${this.#closeReason}`);
    this.#host.sendFramed(this.channel, frame);
  }

  onMessage(handler: (payload: Uint8Array) => void): () => void {
    const off = this.#events.on('message', handler);
    const early = this.#early;
    this.#early = null;
    if (early) for (const frame of early) handler(frame);
    return off;
  }

  onClose(handler: (event: { reason: string }) => void): () => void {
    if (this.#closed) {
      queueMicrotask(() => handler({ reason: this.#closeReason }));
      return () => {};
    }
    return this.#events.on('close', handler);
  }

  onDrain(handler: () => void): () => void {
    return this.#events.on('drain', handler);
  }

  close(): void {
    if (this.#closed) return;
    this.#host.closeChannel(this.channel);
    this.closedByRelay('closed locally');
  }

  /** @internal the client routes a frame here. */
  deliver(payload: Uint8Array): void {
    if (this.#closed) return;
    if (this.#early) this.#early.push(payload);
    else this.#events.emit('message', payload);
  }

  /** @internal */
  drained(): void {
    if (!this.#closed) this.#events.emit('drain', undefined);
  }

  /** @internal the relay closed it, the connection dropped, or close() was called. */
  closedByRelay(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#early = null;
    this.#events.emit('close', { reason });
    this.#events.removeAll();
  }
}
