// The session's TcpPlatform in the desktop app: the sockets live in the main process (ParleyBridge.tcp,
// electron/main/tcp-sockets.ts), which listens, connects and frames records; here each is a RecordSocket the
// session's record layer (handshake, AES-GCM) runs over, exactly as over the CLI's node:net sockets, so a
// desktop app and a `parley` process speak the same TCP path.
// Backpressure: bytes of a send count as buffered until main says its socket buffer drained; received bytes
// are acked to main in batches once handed on.
import type { BridgeTcp, BridgeTcpEvent } from '../../../core/src/bridge.js';
import type { TcpHint, TcpListener, TcpPlatform } from '../../../core/src/session/tcp-path.js';
import type { RecordSocket } from '../../../core/src/session/transport.js';
import { FramePipe } from '../../../core/src/util/frame-pipe.js';

/** Received bytes acked to main in one call. */
export const TCP_ACK_BATCH_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;

class BridgeRecordSocket extends FramePipe implements RecordSocket {
  #pending = 0;
  #unacked = 0;

  constructor(
    private readonly tcp: BridgeTcp,
    readonly handle: string,
    readonly remoteAddress: string,
    private readonly forget: (handle: string) => void,
  ) {
    super(LOW_WATER_BYTES);
  }

  get bufferedAmount(): number {
    return this.closed ? 0 : this.#pending;
  }

  send(payload: Uint8Array): void {
    if (this.closed) throw new Error(`TCP connection closed: ${this.closeReason}`);
    // Exactly the record's bytes: IPC clones the whole buffer under a view.
    const data =
      payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength ? payload : payload.slice();
    const n = data.byteLength;
    this.#pending += n;
    this.noteBuffered();
    this.tcp.send(this.handle, data).then(
      () => {
        this.#pending -= n;
        this.checkDrain();
      },
      (error: unknown) => this.#closed(`TCP send failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  sendFramed(frame: Uint8Array): void {
    // Main writes the length header itself.
    this.send(frame.subarray(4));
  }

  close(): void {
    if (this.closed) return;
    this.tcp.close(this.handle).catch(() => {});
    this.#closed('closed locally');
  }

  /** From main's event stream. */
  deliver(event: BridgeTcpEvent): void {
    if (event.kind === 'close') {
      this.#closed(event.reason);
      return;
    }
    if (event.kind !== 'frame') return;
    this.emitFrame(event.data);
    this.#unacked += event.data.byteLength;
    if (this.#unacked >= TCP_ACK_BATCH_BYTES) {
      this.tcp.ack(this.handle, this.#unacked);
      this.#unacked = 0;
    }
  }

  #closed(reason: string): void {
    this.forget(this.handle);
    this.markClosed(reason);
  }
}

class BridgeTcpListener implements TcpListener {
  readonly #handlers = new Set<(socket: RecordSocket) => void>();
  #closed = false;

  constructor(
    private readonly tcp: BridgeTcp,
    readonly handle: string,
    readonly hints: readonly TcpHint[],
    private readonly forget: (handle: string) => void,
  ) {}

  onConnection(handler: (socket: RecordSocket) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** False if nobody takes it (the caller closes it). */
  accept(socket: RecordSocket): boolean {
    if (this.#closed || this.#handlers.size === 0) return false;
    for (const h of this.#handlers) h(socket);
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    this.forget(this.handle);
    this.tcp.closeListener(this.handle).catch(() => {});
  }
}

/** The TcpPlatform the desktop app gives its Messenger when the bridge has `tcp`. */
export function bridgeTcpPlatform(tcp: BridgeTcp): TcpPlatform {
  const sockets = new Map<string, BridgeRecordSocket>();
  const listeners = new Map<string, BridgeTcpListener>();
  // One subscription for the platform's life (the engine's: the page's).
  let subscribed = false;

  const adopt = (handle: string, remote: string): BridgeRecordSocket => {
    const socket = new BridgeRecordSocket(tcp, handle, remote, (h) => sockets.delete(h));
    sockets.set(handle, socket);
    // Main holds the socket's records until now, so none arrive before we know its handle.
    tcp
      .start(handle)
      .catch((error: unknown) => socket.deliver({ kind: 'close', socket: handle, reason: String(error) }));
    return socket;
  };

  const onEvent = (event: BridgeTcpEvent): void => {
    if (event.kind === 'accept') {
      const listener = listeners.get(event.listener);
      const socket = adopt(event.socket, event.remote);
      if (!listener?.accept(socket)) socket.close();
      return;
    }
    sockets.get(event.socket)?.deliver(event);
  };
  const subscribe = (): void => {
    if (subscribed) return;
    subscribed = true;
    tcp.onEvent(onEvent);
  };

  return {
    async listen(): Promise<TcpListener> {
      subscribe();
      const { listener, hints } = await tcp.listen();
      const l = new BridgeTcpListener(tcp, listener, hints, (h) => listeners.delete(h));
      listeners.set(listener, l);
      return l;
    },

    async connect(hints: readonly TcpHint[], timeoutMs: number): Promise<RecordSocket> {
      subscribe();
      const { socket } = await tcp.connect(hints, Math.max(1, Math.min(30_000, Math.round(timeoutMs))));
      return adopt(socket, '');
    },
  };
}
