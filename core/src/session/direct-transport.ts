// A verified direct connection (a simple-peer data channel) as a FrameTransport. The attempt that
// verifies it lives in direct-attempt.ts.
//
// Data channel messages: [type u8][bytes]; 0 = whole frame, 1 = fragment (more follow), 2 = last
// fragment, 3 = transcript (JSON). Frames travel as one message up to the negotiated SCTP
// max-message-size (at most 256 KiB; 64 KiB, the size every stack accepts, when unknown) and are cut
// into pieces of that size beyond it.
import { onIceState } from '../platform/ice-state.js';
import type { Instance as PeerInstance } from 'simple-peer';
import type { Logger } from '../platform/types.js';
import { byteView, concatBytes } from '../util/bytes.js';
import { deferred } from '../util/deferred.js';
import { FramePipe } from '../util/frame-pipe.js';
import type { FrameTransport } from './transport.js';

/** Data channel message size every stack accepts. */
const SAFE_MESSAGE = 64 * 1024;
/**
 * Largest message we send when both ends negotiated it (SCTP max-message-size; Chromium and libwebrtc
 * offer 256 KiB): a file chunk then travels as one message instead of four, which cut the WebRTC
 * thread's CPU per byte by a fifth in bench:transfer.
 */
const LARGE_MESSAGE = 256 * 1024;
/** Bytes sent between two real readings of the channel's bufferedAmount (see DirectTransport.bufferedAmount). */
const READ_EVERY_BYTES = 256 * 1024;
/**
 * The stream keeps writing until the channel holds this much (FrameTransport.highWater). 4 MiB against the
 * stream's default 1 MiB: bench:e2e in two Chromiums, interleaved rounds, faster in 6 of 9 (median +3 %,
 * up to +54 % at load 7-11, a wash at load 4-6): a page refills the channel late on a loaded machine and a
 * fuller SCTP queue rides over it. 256 KiB and 128 KiB had fewer UDP receive drops and moved 10-25 % less.
 * Chat waits behind no more than before: the stream's window bounds what is queued either way.
 */
const HIGH_WATER = 4 * 1024 * 1024;
/**
 * bufferedAmountLowThreshold, and the mark below which 'drain' fires: a quarter of HIGH_WATER. HIGH_WATER must
 * stay above LOW_WATER + READ_EVERY_BYTES: after a drain the estimate (bufferedAmount) may stay that high until
 * the next real reading, and a stream stopped on a stale estimate would wait for a drain that never comes.
 */
const LOW_WATER = 1024 * 1024;
const MSG_WHOLE = 0;
const MSG_MORE = 1;
const MSG_LAST = 2;
/** The signed transcript each side sends first, before any frame (direct-attempt.ts). */
export const MSG_TRANSCRIPT = 3;

export class DirectTransport extends FramePipe implements FrameTransport {
  readonly path = 'direct' as const;
  readonly highWater = HIGH_WATER;
  readonly #peer: PeerInstance;
  readonly #log: Logger;
  readonly #transcript = deferred<Uint8Array>();
  #fragments: Uint8Array[] = [];
  #eventWorks = false;
  #drainTimer: number | undefined;
  /** Measured drain speed of the channel's buffer, bytes per ms (0: not measured yet). */
  #drainRate = 0;
  #readAt = 0;
  #iceTimer: number | undefined;
  #lastRead = 0;
  #sentSinceRead = 0;
  #messageSize = 0;
  readonly #onLow = (): void => {
    this.#eventWorks = true;
    this.#checkDrain();
  };

  constructor(peer: PeerInstance, graceMs: number, log: Logger) {
    super(LOW_WATER);
    this.#peer = peer;
    this.#log = log;
    const channel = peer._channel;
    if (channel) {
      channel.bufferedAmountLowThreshold = LOW_WATER;
      channel.addEventListener?.('bufferedamountlow', this.#onLow);
    }
    peer.on('close', () => this.close('direct connection closed'));
    peer.on('error', (err) => this.close(`direct connection error: ${(err as Error).message}`));
    onIceState(peer, (state) => {
      if (state === 'disconnected') {
        if (this.#iceTimer === undefined) {
          this.#iceTimer = setTimeout(() => this.close(`ICE disconnected for more than ${graceMs} ms`), graceMs);
        }
      } else if (state === 'connected' || state === 'completed') {
        clearTimeout(this.#iceTimer);
        this.#iceTimer = undefined;
      } else if (state === 'failed' || state === 'closed') {
        this.close(`ICE ${String(state)}`);
      }
    });
  }

  /**
   * An upper bound of the channel's buffered bytes: the last reading plus what was sent since.
   * Reading the real value is a synchronous hop to WebRTC's thread on node-wrtc (measured ~0.3 CPU-s
   * per 100 MB when read per frame), so it is read again only every READ_EVERY_BYTES sent and in
   * drain checks. The bound only ever errs high, so callers stop writing early, never late.
   */
  get bufferedAmount(): number {
    if (this.closed) return 0;
    if (this.#sentSinceRead >= READ_EVERY_BYTES) this.#readBuffered();
    return this.#lastRead + this.#sentSinceRead;
  }

  #readBuffered(): number {
    const value = this.closed ? 0 : (this.#peer._channel?.bufferedAmount ?? 0);
    const now = Date.now();
    const drained = this.#lastRead + this.#sentSinceRead - value;
    const elapsed = now - this.#readAt;
    if (this.#readAt > 0 && elapsed >= 1 && drained > 0) {
      const rate = drained / elapsed;
      // While the buffer stayed non-empty the channel drained the whole interval: a measurement.
      // Found empty, it drained at least this fast: only ever raises the estimate (else a low
      // estimate would keep checking late, find it empty, and never learn).
      if (value > 0) this.#drainRate = this.#drainRate > 0 ? this.#drainRate * 0.7 + rate * 0.3 : rate;
      else if (rate > this.#drainRate) this.#drainRate = rate;
    }
    this.#readAt = now;
    this.#lastRead = value;
    this.#sentSinceRead = 0;
    return value;
  }

  /** @internal the peer's transcript message. */
  get transcript(): Promise<Uint8Array> {
    return this.#transcript.promise;
  }

  send(frame: Uint8Array): void {
    if (this.closed) throw new Error('direct transport closed');
    const piece = this.#messageBytes() - 1;
    if (frame.length <= piece) {
      this.sendRaw(MSG_WHOLE, frame);
    } else {
      for (let at = 0; at < frame.length; at += piece) {
        const end = Math.min(frame.length, at + piece);
        this.sendRaw(end === frame.length ? MSG_LAST : MSG_MORE, frame.subarray(at, end));
      }
    }
    this.#afterSend();
  }

  #afterSend(): void {
    if (this.noteBuffered()) {
      // Stacks without 'bufferedamountlow' (node wrtc): incoming frames (the peer's acks) re-check;
      // a one-shot timer covers the quiet case, only while blocked and only until the event is seen to work.
      if (!this.#eventWorks && this.#drainTimer === undefined) this.#scheduleDrainCheck();
    }
  }

  /** head ‖ body as one message with a single copy of each (the common case: a frame fits a message). */
  sendParts(head: Uint8Array, body: Uint8Array): void {
    const length = head.length + body.length;
    if (this.closed || length > this.#messageBytes() - 1) {
      this.send(concatBytes([head, body]));
      return;
    }
    const msg = new Uint8Array(1 + length);
    msg[0] = MSG_WHOLE;
    msg.set(head, 1);
    msg.set(body, 1 + head.length);
    this.#sendMessage(msg);
    this.#afterSend();
  }

  /** Message size to cut frames into: the negotiated SCTP maximum, at most 256 KiB (64 KiB if unknown). */
  #messageBytes(): number {
    if (this.#messageSize === 0) {
      const max = this.#peer._pc?.sctp?.maxMessageSize;
      // 0 means "no limit" in the WebRTC spec; absent (older stacks) means we know nothing.
      const size =
        typeof max !== 'number' || !Number.isFinite(max) || (max > 0 && max < 1024)
          ? SAFE_MESSAGE
          : max === 0
            ? LARGE_MESSAGE
            : max;
      this.#messageSize = Math.min(LARGE_MESSAGE, size);
    }
    return this.#messageSize;
  }

  /** @internal */
  sendRaw(type: number, bytes: Uint8Array): void {
    const msg = new Uint8Array(1 + bytes.length);
    msg[0] = type;
    msg.set(bytes, 1);
    this.#sendMessage(msg);
  }

  #sendMessage(msg: Uint8Array): void {
    try {
      this.#peer.send(msg);
      this.#sentSinceRead += msg.length;
    } catch (error) {
      this.close(`data channel send failed: ${(error as Error).message}`);
      throw error;
    }
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    clearTimeout(this.#iceTimer);
    clearTimeout(this.#drainTimer);
    this.#peer._channel?.removeEventListener?.('bufferedamountlow', this.#onLow);
    this.#transcript.reject(new Error(reason));
    this.#peer.destroy();
    this.#log.info({ reason }, 'direct transport closed');
    this.markClosed(reason);
  }

  /** @internal raw data channel message. */
  receive(data: unknown): void {
    if (this.closed) return;
    const bytes = byteView(data);
    if (!bytes || bytes.length < 1) return;
    const body = bytes.subarray(1);
    switch (bytes[0]) {
      case MSG_TRANSCRIPT:
        this.#transcript.resolve(body);
        break;
      case MSG_WHOLE:
        this.#deliver(body);
        break;
      case MSG_MORE:
        this.#fragments.push(new Uint8Array(body));
        if (this.#fragments.length > 64) this.close('peer sent an oversized frame');
        break;
      case MSG_LAST:
        this.#fragments.push(body);
        this.#deliver(concatBytes(this.#fragments));
        this.#fragments = [];
        break;
      default:
        this.#log.warn({ type: bytes[0] }, 'unknown data channel message type; dropped');
    }
    this.#checkDrain();
  }

  #deliver(frame: Uint8Array): void {
    // A frame kept for later must not alias the data channel's buffer.
    this.emitFrame(this.hasFrameHandler ? frame : new Uint8Array(frame));
  }

  /**
   * Without 'bufferedamountlow', checks again when the buffer should have drained to the low-water
   * mark at the rate measured so far (1–25 ms). Backing off blindly instead left the channel idle:
   * measured blocked ~10–35 ms per 400 KB drained, half the bare data channel's speed.
   */
  #scheduleDrainCheck(): void {
    const excess = this.#lastRead + this.#sentSinceRead - LOW_WATER;
    const delay = this.#drainRate > 0 ? Math.min(25, Math.max(1, Math.floor(excess / this.#drainRate))) : 2;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#checkDrain();
      if (this.aboveLowWater && !this.#eventWorks && !this.closed) this.#scheduleDrainCheck();
    }, delay);
  }

  #checkDrain(): void {
    this.checkDrain(() => this.#readBuffered());
  }
}
