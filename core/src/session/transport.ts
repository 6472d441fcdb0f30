// What the reliable stream needs from a transport (a verified direct data channel or an end-to-end
// encrypted relay channel): an ordered, reliable pipe of frames while it lives, with flow control.
export type TransportPath = 'direct' | 'relay' | 'tcp';

export interface FrameTransport {
  readonly path: TransportPath;
  readonly closed: boolean;
  /** Bytes accepted by send() and not yet handed to the network. */
  readonly bufferedAmount: number;
  /**
   * Optional: bufferedAmount above which the stream stops writing to this transport (its own fit, e.g. the
   * data channel's); without it, the stream's transportHighWater.
   */
  readonly highWater?: number;
  /** Queues one frame (ordered). Throws if the transport is closed. */
  send(frame: Uint8Array): void;
  /**
   * Optional: queues the frame `head ‖ body` without the caller joining them first (one copy fewer
   * per frame for large payloads). Same contract as send().
   */
  sendParts?(head: Uint8Array, body: Uint8Array): void;
  /** Frames that arrive before the first handler is set are kept and handed to it. */
  onFrame(handler: (frame: Uint8Array) => void): () => void;
  /** bufferedAmount fell to its low-water mark after send() had pushed it above. */
  onDrain(handler: () => void): () => void;
  /** Once, when the transport dies for any reason. */
  onClose(handler: (reason: string) => void): () => void;
  close(reason?: string): void;
}

/**
 * A message pipe the secure record layer (relay-transport.ts) runs over: a relay channel, or a direct TCP
 * connection (platform/node/src/tcp) framed by length. Messages arrive whole and in order.
 */
export interface RecordSocket {
  readonly closed: boolean;
  readonly bufferedAmount: number;
  send(payload: Uint8Array): void;
  /** Like send(), without copying: the first 4 bytes of `frame` are room for a header the socket writes in place. */
  sendFramed(frame: Uint8Array): void;
  /**
   * Optional: send() of the pieces' concatenation, gather-written without joining them first. `onWritten`
   * runs once the socket no longer reads the pieces (written to the kernel, or the write failed), so lent
   * memory among them (buffer-lease.ts) can be released.
   */
  sendParts?(parts: readonly Uint8Array[], onWritten?: () => void): void;
  onFrame(handler: (frame: Uint8Array) => void): () => void;
  onDrain(handler: () => void): () => void;
  onClose(handler: (reason: string) => void): () => void;
  close(): void;
  /**
   * Optional: the consumer is done with a frame this socket delivered (nothing reads it any more), so the
   * socket may reuse its memory for a later frame: fewer large allocations, less garbage collection.
   */
  release?(frame: Uint8Array): void;
}
