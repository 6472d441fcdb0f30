// One relay channel as its user sees it: a bidirectional byte pipe to one peer, tagged by a session id.
// Frames are forwarded by the relay untouched, so callers encrypt them end to end (session/relay-transport).
// Early frames, close and drain follow the one rule of util/frame-pipe.
import { FramePipe } from '../util/frame-pipe.js';

/** What the channel needs from the client that owns it. */
export interface ChannelHost {
  sendFrame(channel: number, payload: Uint8Array): void;
  /** Sends `frame` whose first CHANNEL_HEADER_BYTES are room for the channel header (written in place). */
  sendFramed(channel: number, frame: Uint8Array): void;
  /** Optional: one frame of the pieces' concatenation, gather-written (set only where the socket can). */
  readonly sendParts?: ((channel: number, parts: readonly Uint8Array[], onWritten?: () => void) => void) | undefined;
  closeChannel(channel: number): void;
  /** Optional: a delivered payload nobody reads any more (its memory may be reused). */
  release?(payload: Uint8Array): void;
  readonly bufferedAmount: number;
}

export class RelayChannelSocket extends FramePipe {
  readonly #host: ChannelHost;

  /**
   * Present when the connection under it gather-writes (Node's `ws`): the record layer then hands over
   * [counter, ciphertext, tag] as they come from the cipher, with no buffer to join them into.
   */
  readonly sendParts?: (parts: readonly Uint8Array[], onWritten?: () => void) => void;

  constructor(
    host: ChannelHost,
    readonly channel: number,
    readonly peer: string,
    readonly tag: string,
  ) {
    // The client owns the low-water mark of the shared WebSocket and calls drained().
    super(0);
    this.#host = host;
    const sendParts = host.sendParts;
    if (sendParts)
      this.sendParts = (parts, onWritten) => {
        if (this.closed) throw new Error(`relay channel closed: ${this.closeReason}`);
        sendParts.call(host, this.channel, parts, onWritten);
      };
  }

  /** Bytes queued in the relay WebSocket (shared by every channel on that connection). */
  get bufferedAmount(): number {
    return this.closed ? 0 : this.#host.bufferedAmount;
  }

  send(payload: Uint8Array): void {
    if (this.closed) throw new Error(`relay channel closed: ${this.closeReason}`);
    this.#host.sendFrame(this.channel, payload);
  }

  /**
   * Like send(), without copying: `frame` starts with CHANNEL_HEADER_BYTES of room for the channel header,
   * which is written into it; the payload is the rest. The caller gives the buffer up.
   */
  sendFramed(frame: Uint8Array): void {
    if (this.closed) throw new Error(`relay channel closed: ${this.closeReason}`);
    this.#host.sendFramed(this.channel, frame);
  }

  /** A delivered payload the consumer is done with (RecordSocket.release). */
  release(payload: Uint8Array): void {
    this.#host.release?.(payload);
  }

  close(): void {
    if (this.closed) return;
    this.#host.closeChannel(this.channel);
    this.closedByRelay('closed locally');
  }

  /** @internal the client routes a frame here. */
  deliver(payload: Uint8Array): void {
    this.emitFrame(payload);
  }

  /** @internal the shared WebSocket fell to its low-water mark. */
  drained(): void {
    this.emitDrain();
  }

  /** @internal the relay closed it, the connection dropped, or close() was called. */
  closedByRelay(reason: string): void {
    this.markClosed(reason);
  }
}
