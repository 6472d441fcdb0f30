// Relay channels multiplexed on one WebSocket: pending opens (paired by the relay when both sides ask for
// the same tag), the open channels by number, binary frames routed to them, and drain detection for the
// shared socket (the `ws` send callback in Node; browsers have neither it nor a drain event, so there a
// few one-shot checks run while, and only while, the socket is above its low-water mark).
import {
  CHANNEL_HEADER_BYTES,
  channelOfFrame,
  encodeChannelFrame,
  payloadOfFrame,
  writeChannelHeader,
  type ServerMessage,
} from '../../../signaling/protocol/index.js';
import type { WebSocketLike } from '../platform/types.js';
import { byteView, concatBytes } from '../util/bytes.js';
import type { Deferred } from '../util/deferred.js';
import { RelayChannelSocket, type ChannelHost } from './channel.js';
import { RelayError } from './errors.js';

/** What the mux needs from the connection it rides on. */
export interface MuxLink {
  /** The WebSocket while authenticated and online, else null. */
  readonly onlineSocket: WebSocketLike | null;
  sendJson(msg: Record<string, unknown>): void;
}

interface PendingOpen {
  result: Deferred<RelayChannelSocket>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class ChannelMux implements ChannelHost {
  readonly #link: MuxLink;
  readonly #lowWater: number;
  readonly #openTimeoutMs: number;
  readonly #pendingOpens = new Map<string, PendingOpen>();
  readonly #channels = new Map<number, RelayChannelSocket>();
  #aboveLowWater = false;
  #callbacksWork = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #drainDelay = 0;

  constructor(link: MuxLink, options: { lowWaterBytes: number; openTimeoutMs: number }) {
    this.#link = link;
    this.#lowWater = options.lowWaterBytes;
    this.#openTimeoutMs = options.openTimeoutMs;
  }

  get bufferedAmount(): number {
    return this.#link.onlineSocket?.bufferedAmount ?? 0;
  }

  /** Asks the relay for a channel (the connection is online); `result` settles when it is paired or refused. */
  open(to: string, tag: string, result: Deferred<RelayChannelSocket>): void {
    const key = openKey(to, tag);
    this.#pendingOpens
      .get(key)
      ?.result.reject(new RelayError('refused', 'superseded by a newer open of the same channel'));
    const timer = setTimeout(() => {
      if (this.#pendingOpens.get(key)?.result !== result) return;
      this.#pendingOpens.delete(key);
      result.reject(new RelayError('timeout', 'the peer did not open the relay channel in time'));
    }, this.#openTimeoutMs);
    this.#pendingOpens.set(key, { result, timer });
    this.#link.sendJson({ type: 'channel-open', to, tag });
  }

  onChannelReady(msg: Extract<ServerMessage, { type: 'channel-ready' }>): void {
    const key = openKey(msg.peer, msg.tag);
    const open = this.#pendingOpens.get(key);
    if (!open) {
      // We gave up on it (timeout, superseded): tell the relay so the peer learns quickly.
      this.#link.sendJson({ type: 'channel-close', channel: msg.channel });
      return;
    }
    this.#pendingOpens.delete(key);
    clearTimeout(open.timer);
    const socket = new RelayChannelSocket(this, msg.channel, msg.peer, msg.tag);
    this.#channels.get(msg.channel)?.closedByRelay('replaced by the relay');
    this.#channels.set(msg.channel, socket);
    open.result.resolve(socket);
  }

  onChannelClosed(msg: Extract<ServerMessage, { type: 'channel-closed' }>): void {
    const socket = this.#channels.get(msg.channel);
    this.#channels.delete(msg.channel);
    socket?.closedByRelay(msg.reason || 'closed by the relay');
  }

  /** A relay error about an open we asked for: true if it was ours (which then fails with `error`). */
  onOpenRefused(to: string, tag: string, error: RelayError): boolean {
    const key = openKey(to, tag);
    const open = this.#pendingOpens.get(key);
    if (!open) return false;
    this.#pendingOpens.delete(key);
    clearTimeout(open.timer);
    open.result.reject(error);
    return true;
  }

  onBinary(data: unknown): void {
    const bytes = byteView(data);
    if (!bytes) return;
    const channel = channelOfFrame(bytes);
    if (channel === null) return;
    this.#channels.get(channel)?.deliver(payloadOfFrame(bytes));
  }

  /** Everything bound to the connection dies with it. */
  dropAll(code: 'disconnected' | 'closed', reason: string): void {
    for (const [, open] of this.#pendingOpens) {
      clearTimeout(open.timer);
      open.result.reject(new RelayError(code, `relay connection lost while opening a channel (${reason})`));
    }
    this.#pendingOpens.clear();
    for (const [, socket] of this.#channels) socket.closedByRelay(`relay connection lost (${reason})`);
    this.#channels.clear();
    this.#aboveLowWater = false;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  }

  // ---- ChannelHost ----

  sendFrame(channel: number, payload: Uint8Array): void {
    this.#socket().send(encodeChannelFrame(channel, payload), this.afterSend);
    this.#noteBuffered();
  }

  sendFramed(channel: number, frame: Uint8Array): void {
    this.#socket().send(writeChannelHeader(frame, channel), this.afterSend);
    this.#noteBuffered();
  }

  /** Set when the connection's WebSocket gather-writes (see RelayChannelSocket.sendParts). */
  get sendParts(): ((channel: number, parts: readonly Uint8Array[], onWritten?: () => void) => void) | undefined {
    return this.#link.onlineSocket?.sendParts ? this.#sendParts : undefined;
  }

  readonly #sendParts = (channel: number, parts: readonly Uint8Array[], onWritten?: () => void): void => {
    const ws = this.#socket();
    const head = new Uint8Array(CHANNEL_HEADER_BYTES);
    new DataView(head.buffer).setUint32(0, channel, false);
    if (ws.sendParts) {
      // The send callback runs once the socket wrote the message (or failed to): then nothing reads the parts.
      ws.sendParts(
        [head, ...parts],
        onWritten
          ? () => {
              this.afterSend();
              onWritten();
            }
          : this.afterSend,
      );
    } else {
      ws.send(concatBytes([head, ...parts]), this.afterSend);
      onWritten?.(); // joined into a copy of its own
    }
    this.#noteBuffered();
  };

  release(payload: Uint8Array): void {
    this.#link.onlineSocket?.release?.(payload);
  }

  closeChannel(channel: number): void {
    if (!this.#channels.delete(channel)) return;
    if (this.#link.onlineSocket) this.#link.sendJson({ type: 'channel-close', channel });
  }

  // ---- drain detection ----

  /** The `ws` send callback: proves callbacks work here, and re-checks the buffer. */
  readonly afterSend = (): void => {
    this.#callbacksWork = true;
    this.checkDrain();
  };

  checkDrain(): void {
    if (!this.#aboveLowWater || this.bufferedAmount > this.#lowWater) return;
    this.#aboveLowWater = false;
    for (const [, socket] of this.#channels) socket.drained();
  }

  #socket(): WebSocketLike {
    const ws = this.#link.onlineSocket;
    if (!ws) throw new RelayError('disconnected', 'the relay connection is down');
    return ws;
  }

  #noteBuffered(): void {
    if (this.bufferedAmount <= this.#lowWater) return;
    this.#aboveLowWater = true;
    // Browsers never call the send callback: fall back to a few one-shot checks while (and only while) blocked.
    if (!this.#callbacksWork && this.#drainTimer === undefined) {
      this.#drainDelay = 5;
      this.#scheduleDrainCheck();
    }
  }

  #scheduleDrainCheck(): void {
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.checkDrain();
      if (this.#aboveLowWater && !this.#callbacksWork) {
        this.#drainDelay = Math.min(this.#drainDelay * 2, 100);
        this.#scheduleDrainCheck();
      }
    }, this.#drainDelay);
  }
}

function openKey(to: string, tag: string): string {
  return `${to}\n${tag}`;
}
