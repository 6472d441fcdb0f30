// One TCP connection as a message pipe (core's RecordSocket): each message is [u32 big-endian length][bytes].
// A zero-length message is a keepalive: sent when nothing else went out for keepaliveMs, never delivered;
// nothing received for idleMs closes the connection (a firewall that drops packets silently would otherwise
// leave it hanging for minutes of TCP retransmissions, and the session would not fall back).
// A length above maxMessageBytes, or an error, closes it. A message inside one of the kernel's chunks is
// handed on as a view of it; one that spans chunks is copied once into a buffer of the announced size.
import type { Socket } from 'node:net';
import type { RecordSocket } from '../../../../core/src/session/transport.js';
import { FramePipe } from '../../../../core/src/util/frame-pipe.js';

export interface FrameSocketOptions {
  /** Largest message accepted (default: one sealed 256 KiB record plus room). */
  maxMessageBytes?: number;
  keepaliveMs?: number;
  idleMs?: number;
  /** bufferedAmount at or below this fires drain (default 256 KiB). */
  lowWaterBytes?: number;
}

const HEADER = 4;
const DEFAULT_MAX = 256 * 1024 + 1024;
const KEEPALIVE = new Uint8Array(HEADER);
/** Released message buffers kept for reuse, at most. */
const MAX_SPARE = 4;

export class TcpFrameSocket extends FramePipe implements RecordSocket {
  readonly #socket: Socket;
  readonly #max: number;
  readonly #keepaliveMs: number;
  readonly #idleMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastRead = Date.now();
  #wrote = false;
  // Reassembly: the header being read, then the message being filled.
  readonly #head = new Uint8Array(HEADER);
  #headHave = 0;
  #body: Uint8Array | null = null;
  #bodyHave = 0;
  /** Message buffers of ours the consumer released (see release()), reused for messages of their size. */
  #spare: Uint8Array[] = [];
  readonly #ours = new WeakSet<Uint8Array>();

  constructor(socket: Socket, options: FrameSocketOptions = {}) {
    super(options.lowWaterBytes ?? 256 * 1024);
    this.#socket = socket;
    this.#max = options.maxMessageBytes ?? DEFAULT_MAX;
    this.#keepaliveMs = options.keepaliveMs ?? 1000;
    this.#idleMs = options.idleMs ?? 5000;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.checkDrain());
    socket.on('error', (error) => this.close(`TCP error: ${error.message}`));
    socket.on('close', () => this.close('TCP connection closed'));
    this.#timer = setInterval(() => this.#tick(), this.#keepaliveMs);
    this.#timer.unref();
  }

  get bufferedAmount(): number {
    return this.closed ? 0 : this.#socket.writableLength;
  }

  get remoteAddress(): string {
    return `${this.#socket.remoteAddress ?? '?'}:${this.#socket.remotePort ?? '?'}`;
  }

  send(payload: Uint8Array): void {
    const frame = new Uint8Array(HEADER + payload.length);
    frame.set(payload, HEADER);
    this.sendFramed(frame);
  }

  sendFramed(frame: Uint8Array): void {
    if (this.closed) throw new Error(`TCP connection closed: ${this.closeReason}`);
    const length = frame.length - HEADER;
    if (length < 1 || length > this.#max) throw new Error(`cannot send a message of ${length} bytes over TCP`);
    new DataView(frame.buffer, frame.byteOffset, HEADER).setUint32(0, length, false);
    this.#wrote = true;
    this.#socket.write(frame);
    this.noteBuffered();
  }

  /**
   * A message buffer the consumer is done with. Bulk transfers send records of one size, so a few spares
   * serve nearly every message: about a quarter of the receiver's large allocations (and their GC) gone.
   */
  release(frame: Uint8Array): void {
    if (this.#ours.has(frame) && this.#spare.length < MAX_SPARE && !this.#spare.includes(frame))
      this.#spare.push(frame);
  }

  /**
   * One message of the pieces' concatenation, gather-written (writev): the pieces are not joined. `onWritten`
   * runs once the socket wrote them all (or failed to: a destroyed socket fails its pending writes).
   */
  sendParts(parts: readonly Uint8Array[], onWritten?: () => void): void {
    if (this.closed) throw new Error(`TCP connection closed: ${this.closeReason}`);
    let length = 0;
    for (const p of parts) length += p.length;
    if (length < 1 || length > this.#max) throw new Error(`cannot send a message of ${length} bytes over TCP`);
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32BE(length, 0);
    this.#wrote = true;
    this.#socket.cork();
    this.#socket.write(head);
    let last = parts.length - 1;
    while (last >= 0 && parts[last]!.length === 0) last--;
    for (let i = 0; i < last; i++) if (parts[i]!.length > 0) this.#socket.write(parts[i]!);
    // Writes complete in order: once the last piece's callback runs, every piece was written.
    if (last >= 0) this.#socket.write(parts[last]!, onWritten && (() => onWritten()));
    else onWritten?.();
    this.#socket.uncork();
    this.noteBuffered();
  }

  close(reason = 'closed locally'): void {
    if (this.closed) return;
    clearInterval(this.#timer);
    this.#socket.destroy();
    this.markClosed(reason);
  }

  #tick(): void {
    if (this.closed) return;
    if (Date.now() - this.#lastRead > this.#idleMs) {
      this.close(`nothing received over TCP for ${this.#idleMs} ms`);
      return;
    }
    if (!this.#wrote) this.#socket.write(KEEPALIVE);
    this.#wrote = false;
  }

  #onData(chunk: Buffer): void {
    this.#lastRead = Date.now();
    let at = 0;
    const end = chunk.length;
    while (at < end && !this.closed) {
      if (this.#body === null) {
        let length: number;
        if (this.#headHave === 0 && end - at >= HEADER) {
          length = chunk.readUInt32BE(at);
          at += HEADER;
        } else {
          const take = Math.min(HEADER - this.#headHave, end - at);
          this.#head.set(chunk.subarray(at, at + take), this.#headHave);
          this.#headHave += take;
          at += take;
          if (this.#headHave < HEADER) return;
          this.#headHave = 0;
          length = new DataView(this.#head.buffer).getUint32(0, false);
        }
        if (length === 0) continue; // keepalive
        if (length > this.#max) {
          this.close(`refused a TCP message of ${length} bytes (at most ${this.#max})`);
          return;
        }
        if (end - at >= length) {
          // The whole message is in this chunk: hand on a view of it, no copy.
          const view = new Uint8Array(chunk.buffer, chunk.byteOffset + at, length);
          at += length;
          this.emitFrame(view);
          continue;
        }
        // Spans chunks: one copy into a buffer of its own (a released one of that size, or a new one not
        // zero-filled first: every byte is written).
        this.#body = this.#spare.find((b) => b.length === length) ?? null;
        if (this.#body) this.#spare.splice(this.#spare.indexOf(this.#body), 1);
        else {
          const fresh = Buffer.allocUnsafeSlow(length);
          this.#body = new Uint8Array(fresh.buffer, fresh.byteOffset, length);
          this.#ours.add(this.#body);
        }
        this.#bodyHave = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyHave, end - at);
      body.set(take === end - at && at === 0 ? chunk : chunk.subarray(at, at + take), this.#bodyHave);
      this.#bodyHave += take;
      at += take;
      if (this.#bodyHave === body.length) {
        this.#body = null;
        this.emitFrame(body);
      }
    }
  }
}
