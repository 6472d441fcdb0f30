// The reliable ordered stream of one session, independent of the transport under it.
//
// Every application frame gets a sequence number; the receiver delivers strictly in order, drops
// duplicates and acknowledges cumulatively (piggy-backed on DATA, plus delayed standalone ACKs).
// The sender keeps every unacknowledged frame (a window bounded in bytes: send() waits for space,
// which is the callers' backpressure). Each transport attached to the stream starts with a RESUME
// exchange (each side says which of the other's frames it has), so after any switch the sender
// re-sends exactly what the peer lacks, on the new transport. Frames may arrive on several
// transports at once (an old one still draining while a new one is current): dedupe by sequence
// keeps delivery exactly-once and in order.
//
// A stream instance has a random epoch. When the peer's epoch changes (it restarted and lost its
// state), unacknowledged frames are renumbered from 1 and sent again to the new incarnation, and
// 'peer-restart' fires; within one pair of incarnations delivery is exactly once.
import type { Logger } from '../platform/types.js';
import { silentLogger } from '../platform/types.js';
import { deferred, type Deferred } from '../util/deferred.js';
import { Emitter } from '../util/emitter.js';
import { randomBytes } from '../util/ids.js';
import { releaseLease } from './buffer-lease.js';
import {
  DATA_HEADER_BYTES,
  EPOCH_BYTES,
  decodeFrame,
  encodeAck,
  encodeData,
  encodeDataHeader,
  encodeResume,
  epochFromHex,
  epochHex,
} from './stream-codec.js';
import type { FrameTransport } from './transport.js';

/** Largest payload of one stream frame. Transports carry it whole (direct fragments internally). */
// The relay transport seals each stream frame (header + payload) as one AEAD frame of at most 256 KiB.
export const MAX_STREAM_PAYLOAD = 256 * 1024 - 64;

/** Kinds 1–255 multiplex the stream. Assigned so far: */
export const StreamKind = {
  /** core/src/chat: chat messages and delivery receipts. */
  Chat: 1,
  /** Session control (reserved). */
  Control: 2,
  /** File transfer (core/src/transfer). 3–15 reserved for it. */
  File: 3,
} as const;

export interface ReliableStreamOptions {
  /** Unacknowledged bytes the sender may hold before send() waits. Default 4 MiB. */
  windowBytes?: number;
  /** Stop writing to a transport while its bufferedAmount is above this (unless it has its own highWater). Default 1 MiB. */
  transportHighWater?: number;
  /** Standalone ACK delay when no DATA goes the other way. Default 20 ms. */
  ackDelayMs?: number;
  /**
   * Received bytes after which an ACK goes out at once. Default windowBytes / 2: a file receiver answers every
   * quarter window or so (its transfer acks, DATA that carries our ack), so a standalone ACK at a quarter
   * window went out just before each of them, one record and one wake-up of the sender more per MiB.
   */
  ackEveryBytes?: number;
  logger?: Logger;
}

/**
 * Paces what the stream writes on a relay link (yield-pacer.ts: while a call shares the path). Positions are
 * cumulative stream bytes (frames with their headers) in send order.
 */
export interface StreamPacer {
  /** May a frame of `size` bytes go out with `inflight` bytes written and not yet acknowledged? */
  allows(inflight: number, size: number): boolean;
  /** If it spaces writes in time: ms until a frame of `size` bytes may go (0: now, or only an ack frees it). */
  waitMs?(size: number): number;
  onSent(upTo: number): void;
  onAcked(upTo: number): void;
}

export interface StreamStats {
  framesSent: number;
  framesResent: number;
  framesDelivered: number;
  duplicatesDropped: number;
  unackedFrames: number;
  unackedBytes: number;
}

interface Outgoing {
  seq: number;
  kind: number;
  payload: Uint8Array;
  /** Highest link generation this frame was written on (to count re-sends). */
  writtenOn: number;
  /** Stream bytes enqueued up to and including this frame (for a pacer). */
  end: number;
  onAcked?: (() => void) | undefined;
}

interface Link {
  transport: FrameTransport;
  id: number;
  /** The peer sent RESUME on this link: we know where to (re)start writing. */
  peerResumed: boolean;
  /** Next sequence number to write on this link. */
  cursor: number;
  /** recvNext value for which we already asked this link for a re-sync (gap), to ask once. */
  resyncAskedAt: number;
  offs: Array<() => void>;
}

interface StreamEvents {
  /** The peer's stream restarted (new epoch): unacked frames were renumbered and will be re-sent. */
  'peer-restart': void;
  /** A transport attached to this stream closed. */
  'transport-closed': { transport: FrameTransport; reason: string };
  /** Everything sent so far has been acknowledged. */
  idle: void;
}

type FrameHandler = (payload: Uint8Array) => void;

export class ReliableStream {
  readonly #log: Logger;
  readonly #window: number;
  readonly #highWater: number;
  readonly #ackDelayMs: number;
  readonly #ackEveryBytes: number;
  readonly #events = new Emitter<StreamEvents>();
  readonly #handlers = new Map<number, FrameHandler>();
  readonly #epoch = randomBytes(EPOCH_BYTES);
  readonly #epochHex = epochHex(this.#epoch);

  // sender
  #nextSeq = 1;
  readonly #unacked: Outgoing[] = [];
  #unackedBytes = 0;
  /** Stream bytes enqueued and acknowledged so far (frame positions for a pacer). */
  #enqueuedBytes = 0;
  #ackedBytes = 0;
  #pacer: StreamPacer | null = null;
  /** Resumes writing when the pacer spaced a frame out (not an ack or a drain). */
  #paceTimer: ReturnType<typeof setTimeout> | undefined;
  /** send() calls waiting for window space, in call order; admitted (enqueued) strictly FIFO. */
  readonly #waiters: Array<{
    size: number;
    kind: number;
    payload: Uint8Array;
    ready: Deferred<void>;
    onAcked: (() => void) | undefined;
  }> = [];

  // receiver
  #peerEpoch: string | null = null;
  #recvNext = 1;
  #bytesSinceAck = 0;
  #ackOwed = false;
  #ackTimer: number | undefined;

  readonly #links: Link[] = [];
  #current: Link | null = null;
  #linkIds = 0;
  #closed = false;
  readonly #stats = { framesSent: 0, framesResent: 0, framesDelivered: 0, duplicatesDropped: 0 };

  constructor(options: ReliableStreamOptions = {}) {
    this.#log = options.logger ?? silentLogger;
    this.#window = options.windowBytes ?? 4 * 1024 * 1024;
    this.#highWater = options.transportHighWater ?? 1024 * 1024;
    this.#ackDelayMs = options.ackDelayMs ?? 20;
    this.#ackEveryBytes = options.ackEveryBytes ?? Math.floor(this.#window / 2);
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'stream listener threw');
  }

  get epoch(): string {
    return this.#epochHex;
  }

  get stats(): StreamStats {
    return { ...this.#stats, unackedFrames: this.#unacked.length, unackedBytes: this.#unackedBytes };
  }

  /** The transport data is written on, or null. */
  get current(): FrameTransport | null {
    return this.#current?.transport ?? null;
  }

  /**
   * Queues one frame. Resolves once the frame is inside the send window (not when it is delivered);
   * waits while the window is full: that wait is the backpressure for callers. Frames of all kinds
   * are delivered in the order their send() calls were made. With `transfer`, the payload is kept
   * without a copy: the caller must not modify it afterwards. `onAcked` runs once, when the peer has
   * acknowledged the frame and the stream dropped it (never if the stream closes first): from then on a
   * `transfer` payload is the caller's again (e.g. a read buffer to fill anew). A transport that still
   * held it (an old one draining after a switch) sends it under the old sequence number, which the peer
   * drops as a duplicate.
   */
  send(kind: number, payload: Uint8Array, options: { transfer?: boolean; onAcked?: () => void } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('stream closed'));
    if (!Number.isInteger(kind) || kind < 1 || kind > 255) return Promise.reject(new RangeError('kind must be 1..255'));
    if (payload.length > MAX_STREAM_PAYLOAD)
      return Promise.reject(new RangeError(`payload larger than ${MAX_STREAM_PAYLOAD} bytes`));
    // `transfer`: the caller hands the buffer over and never touches it again, so it is kept as is.
    const copy = options.transfer ? payload : new Uint8Array(payload);
    const size = copy.length + DATA_HEADER_BYTES;
    if (this.#waiters.length === 0 && this.#fits(size)) {
      this.#enqueue(kind, copy, options.onAcked);
      return Promise.resolve();
    }
    const ready = deferred<void>();
    this.#waiters.push({ size, kind, payload: copy, ready, onAcked: options.onAcked });
    return ready.promise;
  }

  /**
   * Sends an acknowledgement we owe now rather than after the delay. Before closing: the peer waits for it
   * (its drain, or its window), and closing cancels the delayed one.
   */
  ackNow(): void {
    if (this.#closed || !this.#ackOwed) return;
    this.#sendAck();
  }

  /** Registers the handler of one kind (one per kind). Returns an unsubscribe function. */
  onFrame(kind: number, handler: FrameHandler): () => void {
    if (this.#handlers.has(kind)) throw new Error(`kind ${kind} already has a handler`);
    this.#handlers.set(kind, handler);
    return () => {
      if (this.#handlers.get(kind) === handler) this.#handlers.delete(kind);
    };
  }

  on<K extends keyof StreamEvents>(event: K, listener: (value: StreamEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves when every frame sent so far has been acknowledged by the peer. */
  flushed(): Promise<void> {
    if (this.#unacked.length === 0 && this.#waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.#events.on('idle', () => {
        if (this.#waiters.length > 0) return;
        off();
        resolve();
      });
    });
  }

  /**
   * Adds a verified transport. It starts with a RESUME exchange; data is written on it once it is
   * current (setCurrent) and the peer's RESUME arrived. Frames arriving on it are always accepted.
   */
  attach(transport: FrameTransport, options: { current?: boolean } = {}): void {
    if (this.#closed || transport.closed || this.#links.some((l) => l.transport === transport)) return;
    const link: Link = { transport, id: ++this.#linkIds, peerResumed: false, cursor: 1, resyncAskedAt: 0, offs: [] };
    this.#links.push(link);
    link.offs.push(transport.onClose((reason) => this.#detachLink(link, reason)));
    link.offs.push(
      transport.onDrain(() => {
        if (this.#current === link) this.#pump();
      }),
    );
    this.#write(link, encodeResume(this.#epoch, epochFromHex(this.#peerEpoch), this.#recvNext));
    link.offs.push(transport.onFrame((frame) => this.#onFrame(link, frame)));
    if (options.current) this.setCurrent(transport);
  }

  /** Chooses the transport data is written on (null: hold everything until one is chosen). */
  setCurrent(transport: FrameTransport | null): void {
    const link = transport ? (this.#links.find((l) => l.transport === transport) ?? null) : null;
    if (transport && !link) throw new Error('transport not attached');
    this.#current = link;
    this.#pump();
  }

  /**
   * Paces writes on relay links (null: none). While a call shares the relay with this stream, the stream
   * yields to it (yield-to-calls.ts); frames wait in the window, nothing is dropped or reordered.
   */
  setPacer(pacer: StreamPacer | null): void {
    this.#pacer = pacer;
    this.#pump();
  }

  /** A pacer is set and data goes on a relay link: senders should use small frames (YIELD_CHUNK_BYTES). */
  get yielding(): boolean {
    return this.#pacer !== null && this.#current?.transport.path === 'relay';
  }

  /** Stops using a transport (it is not closed). */
  detach(transport: FrameTransport): void {
    const link = this.#links.find((l) => l.transport === transport);
    if (link) this.#detachLink(link, 'detached');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#paceTimer);
    for (const w of this.#waiters.splice(0)) w.ready.reject(new Error('stream closed'));
    for (const link of [...this.#links]) this.#detachLink(link, 'stream closed');
    this.#unacked.length = 0;
    this.#unackedBytes = 0;
    this.#handlers.clear();
    this.#events.removeAll();
  }

  // ---- sender ----

  #fits(size: number): boolean {
    // An empty window always takes one frame, so a frame larger than the window cannot deadlock.
    return this.#unacked.length === 0 || this.#unackedBytes + size <= this.#window;
  }

  #enqueue(kind: number, payload: Uint8Array, onAcked: (() => void) | undefined): void {
    if (this.#closed) throw new Error('stream closed');
    this.#unackedBytes += payload.length + DATA_HEADER_BYTES;
    this.#enqueuedBytes += payload.length + DATA_HEADER_BYTES;
    this.#unacked.push({ seq: this.#nextSeq++, kind, payload, writtenOn: 0, end: this.#enqueuedBytes, onAcked });
    this.#pump();
  }

  #admitWaiters(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0]!.size)) {
      const w = this.#waiters.shift()!;
      this.#enqueue(w.kind, w.payload, w.onAcked);
      w.ready.resolve();
    }
  }

  #pump(): void {
    const link = this.#current;
    if (!link || !link.peerResumed || this.#closed) return;
    const first = this.#unacked[0]?.seq ?? this.#nextSeq;
    if (link.cursor < first) link.cursor = first;
    while (link.cursor < this.#nextSeq) {
      // Resumed by the transport's drain event.
      if (link.transport.bufferedAmount > (link.transport.highWater ?? this.#highWater)) return;
      const frame = this.#unacked[link.cursor - first];
      if (!frame) return;
      const pacer = link.transport.path === 'relay' ? this.#pacer : null;
      const size = frame.payload.length + DATA_HEADER_BYTES;
      if (pacer && !pacer.allows(frame.end - size - this.#ackedBytes, size)) {
        // Resumed by an ack, or (spaced in time) by a timer.
        const wait = pacer.waitMs?.(size) ?? 0;
        if (wait > 0 && this.#paceTimer === undefined) {
          this.#paceTimer = setTimeout(() => {
            this.#paceTimer = undefined;
            this.#pump();
          }, wait);
        }
        return;
      }
      if (!this.#writeData(link, frame)) return;
      pacer?.onSent(frame.end);
      if (frame.writtenOn === 0) this.#stats.framesSent++;
      else this.#stats.framesResent++;
      frame.writtenOn = link.id;
      link.cursor++;
      this.#ackSent();
    }
  }

  #onAck(ackNext: number): void {
    if (ackNext > this.#nextSeq) {
      this.#log.warn({ ackNext, nextSeq: this.#nextSeq }, 'peer acknowledged frames never sent; ignored');
      return;
    }
    let freed = false;
    while (this.#unacked.length > 0 && this.#unacked[0]!.seq < ackNext) {
      const f = this.#unacked.shift()!;
      this.#unackedBytes -= f.payload.length + DATA_HEADER_BYTES;
      this.#ackedBytes = f.end;
      freed = true;
      if (f.onAcked) {
        try {
          f.onAcked();
        } catch (error) {
          this.#log.error({ err: String(error) }, 'onAcked threw');
        }
      }
    }
    if (!freed) return;
    if (this.#pacer) {
      this.#pacer.onAcked(this.#ackedBytes);
      this.#pump();
    }
    this.#admitWaiters();
    if (this.#unacked.length === 0 && this.#waiters.length === 0) this.#events.emit('idle', undefined);
  }

  // ---- receiver ----

  #onFrame(link: Link, bytes: Uint8Array): void {
    if (this.#closed) return;
    const frame = decodeFrame(bytes);
    if (!frame) {
      this.#log.warn({ path: link.transport.path, size: bytes.length }, 'malformed stream frame dropped');
      releaseLease(bytes);
      return;
    }
    switch (frame.type) {
      case 'data':
        // The payload's reader releases it (buffer-lease.ts): its handler, or #onData when none takes it.
        this.#onData(link, frame.seq, frame.kind, frame.payload);
        this.#onAck(frame.ackNext);
        return;
      case 'ack':
        this.#onAck(frame.ackNext);
        releaseLease(bytes);
        return;
      case 'resume':
        this.#onResume(link, frame.epoch, frame.knownPeerEpoch, frame.recvNext);
        releaseLease(bytes);
        return;
    }
  }

  #onData(link: Link, seq: number, kind: number, payload: Uint8Array): void {
    if (seq < this.#recvNext) {
      this.#stats.duplicatesDropped++;
      releaseLease(payload);
      this.#oweAck(0);
      return;
    }
    if (seq > this.#recvNext) {
      releaseLease(payload);
      // A transport lost frames (only when it died mid-flight): ask this link to re-sync, once per position.
      if (link.resyncAskedAt !== this.#recvNext) {
        link.resyncAskedAt = this.#recvNext;
        this.#write(link, encodeResume(this.#epoch, epochFromHex(this.#peerEpoch), this.#recvNext));
      }
      return;
    }
    this.#recvNext++;
    this.#stats.framesDelivered++;
    const handler = this.#handlers.get(kind);
    const length = payload.length;
    if (handler) {
      // The payload is the handler's now: it releases it when done (or never, and it is never reused).
      try {
        handler(payload);
      } catch (error) {
        this.#log.error({ kind, err: String(error) }, 'stream frame handler threw');
      }
    } else {
      this.#log.debug({ kind }, 'no handler for stream frame kind; dropped');
      releaseLease(payload);
    }
    this.#oweAck(length + DATA_HEADER_BYTES);
  }

  #onResume(link: Link, epoch: string, knownPeerEpoch: string, recvNext: number): void {
    if (this.#peerEpoch !== epoch) {
      if (this.#peerEpoch !== null) this.#peerRestarted();
      this.#peerEpoch = epoch;
    }
    // The peer's position counts only if it refers to this stream incarnation.
    const position = knownPeerEpoch === this.#epochHex ? Math.min(recvNext, this.#nextSeq) : 1;
    if (position > 1) this.#onAck(position);
    link.peerResumed = true;
    link.cursor = position;
    this.#pump();
  }

  #peerRestarted(): void {
    this.#log.info({}, 'peer stream restarted; re-sending unacknowledged frames');
    let seq = 1;
    for (const f of this.#unacked) f.seq = seq++;
    this.#nextSeq = seq;
    for (const l of this.#links) {
      l.cursor = 1;
      l.peerResumed = false;
    }
    this.#recvNext = 1;
    this.#events.emit('peer-restart', undefined);
  }

  #oweAck(bytes: number): void {
    this.#ackOwed = true;
    this.#bytesSinceAck += bytes;
    if (this.#bytesSinceAck >= this.#ackEveryBytes) {
      this.#sendAck();
      return;
    }
    if (this.#ackTimer === undefined) {
      this.#ackTimer = setTimeout(() => {
        this.#ackTimer = undefined;
        if (this.#ackOwed) this.#sendAck();
      }, this.#ackDelayMs);
    }
  }

  #sendAck(): void {
    const link = this.#current ?? this.#links.find((l) => !l.transport.closed) ?? null;
    if (!link) return;
    if (this.#write(link, encodeAck(this.#recvNext))) this.#ackSent();
  }

  /** An ack went out (standalone or piggy-backed on DATA). */
  #ackSent(): void {
    this.#ackOwed = false;
    this.#bytesSinceAck = 0;
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  // ---- links ----

  #write(link: Link, frame: Uint8Array): boolean {
    return this.#attempt(link, (transport) => transport.send(frame));
  }

  /** A DATA frame: header and payload as parts where the transport takes them (one copy fewer). */
  #writeData(link: Link, frame: Outgoing): boolean {
    const { seq, kind, payload } = frame;
    const ackNext = this.#recvNext;
    return this.#attempt(link, (transport) =>
      transport.sendParts
        ? transport.sendParts(encodeDataHeader(seq, ackNext, kind), payload)
        : transport.send(encodeData(seq, ackNext, kind, payload)),
    );
  }

  #attempt(link: Link, send: (transport: FrameTransport) => void): boolean {
    if (link.transport.closed) return false;
    try {
      send(link.transport);
      return true;
    } catch (error) {
      this.#log.warn({ path: link.transport.path, err: String(error) }, 'transport send failed');
      return false;
    }
  }

  #detachLink(link: Link, reason: string): void {
    const i = this.#links.indexOf(link);
    if (i < 0) return;
    this.#links.splice(i, 1);
    for (const off of link.offs) off();
    if (this.#current === link) this.#current = null;
    this.#events.emit('transport-closed', { transport: link.transport, reason });
  }
}
