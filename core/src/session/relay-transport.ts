// A FrameTransport over a relay channel: a signed ephemeral key agreement as the first frame each way and
// a key confirmation as the second (crypto/secure-channel), then records sealed with AES-GCM under per-direction counters. A record packs
// the frames send() got in the same tick, or while earlier records were being sealed (two at most at
// once), up to 256 KiB (crypto/record.ts): one AEAD call, one relay message and one forwarding step per
// record instead of per frame, without waiting for a timer. The relay sees only ciphertext sizes; a replayed,
// reordered, modified or malformed record kills the transport.
import { CHANNEL_HEADER_BYTES, type Bytes, type PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { AeadEngine } from '../crypto/aead-engine.js';
import type { ChannelHandOff } from '../crypto/aead-channel.js';
import {
  MAX_RECORD_BYTES,
  MAX_RECORD_FRAME,
  type FrameParts,
  RECORD_TYPE_BYTES,
  packRecord,
  packedSize,
  unpackRecord,
} from '../crypto/record.js';
import type { Role } from '../crypto/roles.js';
import { createHandshake, type EstablishedChannel } from '../crypto/secure-channel.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import { deferred, type Deferred } from '../util/deferred.js';
import { FramePipe } from '../util/frame-pipe.js';
import { isLent, releaseLease, splitLease } from './buffer-lease.js';
import type { FrameTransport, RecordSocket } from './transport.js';

/**
 * How a relay channel's close reason starts when a record failed to open: altered, forged or replayed on
 * the way (AES-GCM or the counter refused it). Only the relay in the middle can do that, never the peer
 * (whose records are authenticated), so a call ends on it as tampered, not as a lost connection.
 */
export const REFUSED_RECORD = 'refused a relay record';

/** True when a relay channel closed because the relay altered, forged or replayed one of its records. */
export function refusedRecord(reason: string): boolean {
  return reason.startsWith(`${REFUSED_RECORD}:`);
}

export interface RelayTransportOptions {
  /** A relay channel, or a direct TCP connection (the same handshake and records run over both). */
  socket: RecordSocket;
  /** What the transport reports as its path (default 'relay'). */
  path?: 'relay' | 'tcp';
  identity: IdentityKeyPair;
  peerKey: PublicIdentityKey;
  peerId: string;
  sessionId: string;
  role: Role;
  /** Bytes being sealed count as buffered; drain fires at or below this. Default 256 KiB. */
  lowWaterBytes?: number;
  handshakeTimeoutMs?: number;
  /** AES-GCM implementation for the records; default WebCrypto (crypto/aead-engine.ts). */
  aead?: AeadEngine;
}

/** What RelayTransport.handOff() gives away: the channel's state, its socket and what came meanwhile. */
export interface RelayTransportHandOff {
  channel: ChannelHandOff;
  socket: RecordSocket;
  /** Sealed records that arrived after the transport let go of the socket, in order. */
  pending: Uint8Array[];
  /** Whether the socket closed meanwhile (and why). */
  closedWith: string | null;
  /** Stops collecting into `pending`: call it in the same tick as subscribing to the socket yourself. */
  release(): void;
}

export interface RelayTransportStats {
  framesSent: number;
  /** Sealed records (= relay messages) sent; frames per record is the packing achieved. */
  recordsSent: number;
  framesReceived: number;
  recordsReceived: number;
}

const EMPTY = new Uint8Array(0);
/** Records from this size on are packed into the transport's reusable buffer; smaller ones get their own. */
const SCRATCH_FROM = 16 * 1024;
/** Records sealed at once. */
const MAX_SEALING = 2;

interface Sealing {
  /** A frame with room for the channel header, or pieces for a socket that gather-writes (sendParts). */
  sealed: Promise<Bytes | Bytes[]>;
  /** Frame bytes it carries (counted as buffered until it is handed to the relay). */
  bytes: number;
  scratch: Bytes | null;
}

export class RelayTransport extends FramePipe implements FrameTransport {
  readonly path: 'relay' | 'tcp';
  readonly #socket: RecordSocket;
  readonly #channel: EstablishedChannel;
  /** Frames accepted by send() that no record holds yet, in order; #queueHead is the first unsent. */
  #queue: Array<Uint8Array | FrameParts> = [];
  #queueHead = 0;
  #queuedBytes = 0;
  /** Reusable 256 KiB record buffers not in use by a seal. */
  readonly #scratch: Bytes[] = [];
  /** Records being sealed, in send order. */
  readonly #sealing: Sealing[] = [];
  /** Frame bytes inside records being sealed. */
  #sealingBytes = 0;
  /** A flush is scheduled or records are being sealed: frames sent now join a later record. */
  #flushing = false;
  #openChain: Promise<void> = Promise.resolve();
  #handingOff = false;
  readonly #stats: RelayTransportStats = { framesSent: 0, recordsSent: 0, framesReceived: 0, recordsReceived: 0 };
  readonly #offs: Array<() => void> = [];

  private constructor(
    socket: RecordSocket,
    channel: EstablishedChannel,
    lowWater: number,
    pending: Uint8Array[],
    path: 'relay' | 'tcp',
  ) {
    super(lowWater);
    this.path = path;
    this.#socket = socket;
    this.#channel = channel;
    this.#offs.push(socket.onFrame((m) => this.#onSealed(m)));
    // Records that arrived before the close are still opened and delivered first: a contact's last frames
    // (often its ack, just before it closes) must not be lost to the close overtaking their decryption.
    this.#offs.push(
      socket.onClose((reason) => void this.#openChain.then(() => this.close(`relay channel closed: ${reason}`))),
    );
    this.#offs.push(socket.onDrain(() => this.checkDrain()));
    for (const m of pending) this.#onSealed(m);
  }

  /**
   * Runs the handshake over a freshly paired relay channel: both handshakes, then both key confirmations
   * (crypto/secure-channel). Resolves only once the peer has proven it holds the new keys; rejects (and
   * closes the channel) if it cannot prove its identity key or the keys.
   */
  static async establish(options: RelayTransportOptions): Promise<RelayTransport> {
    const { socket } = options;
    const what = options.path === 'tcp' ? 'TCP' : 'relay';
    const hs = await createHandshake({
      identity: options.identity,
      peerKey: options.peerKey,
      peerId: options.peerId,
      sessionId: options.sessionId,
      role: options.role,
      ...(options.aead ? { aead: options.aead } : {}),
    });
    // Everything the peer sends, in order: its handshake, its confirmation, then sealed records.
    const inbox: Uint8Array[] = [];
    let waiter: Deferred<void> | null = null;
    let closedWith: string | null = null;
    const offMessage = socket.onFrame((m) => {
      inbox.push(m);
      waiter?.resolve();
    });
    const offClose = socket.onClose((reason) => {
      closedWith = reason;
      waiter?.resolve();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      waiter?.resolve();
    }, options.handshakeTimeoutMs ?? 15_000);
    const next = async (): Promise<Uint8Array> => {
      for (;;) {
        const m = inbox.shift();
        if (m) return m;
        if (closedWith !== null) throw new Error(`${what} connection closed during the handshake: ${closedWith}`);
        if (timedOut) throw new Error(`${what} handshake timed out`);
        waiter = deferred<void>();
        await waiter.promise;
        waiter = null;
      }
    };
    try {
      socket.send(utf8(JSON.stringify(hs.message)));
      const peerBytes = await next();
      let peerMessage: unknown;
      try {
        peerMessage = JSON.parse(fromUtf8(peerBytes));
      } catch {
        throw new Error(`the peer sent a malformed ${what} handshake`);
      }
      const channel = await hs.complete(peerMessage);
      socket.send(await channel.confirmation());
      await channel.checkConfirmation(await next());
      offMessage();
      offClose();
      return new RelayTransport(socket, channel, options.lowWaterBytes ?? 256 * 1024, inbox, options.path ?? 'relay');
    } catch (error) {
      offMessage();
      offClose();
      socket.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  get bufferedAmount(): number {
    return this.#queuedBytes + this.#sealingBytes + this.#socket.bufferedAmount;
  }

  /** Counters for diagnostics and tests. */
  get stats(): Readonly<RelayTransportStats> {
    return { ...this.#stats };
  }

  /**
   * Queues one frame (≤ MAX_RECORD_FRAME bytes). The frame is read later, when its record is packed:
   * callers hand it over and do not change it afterwards.
   */
  send(frame: Uint8Array): void {
    this.#enqueue(frame);
  }

  /**
   * Queues the frame `head ‖ body` without joining them: the record packing copies both pieces into place
   * (one 256 KiB copy fewer per file chunk). Same contract as send().
   */
  sendParts(head: Uint8Array, body: Uint8Array): void {
    this.#enqueue({ head, body, length: head.length + body.length });
  }

  #enqueue(frame: Uint8Array | FrameParts): void {
    if (this.closed) throw new Error('relay transport closed');
    if (frame.length > MAX_RECORD_FRAME) {
      const reason = `cannot send a frame of ${frame.length} bytes over the relay (at most ${MAX_RECORD_FRAME})`;
      this.close(reason);
      throw new Error(reason);
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    this.noteBuffered();
    if (!this.#flushing) {
      this.#flushing = true;
      // End of this tick, so every frame the caller writes in one go shares the record.
      queueMicrotask(this.#startFlush);
    }
  }

  /**
   * Gives the record layer away (e.g. to a worker: resumeAeadChannel and one record per frame there go on with
   * the same keys and counters, so the peer sees no change). Records opened before are emitted as usual; the
   * transport then closes without closing the socket. Null (and nothing changed) when the channel cannot be
   * handed off (a custom AEAD engine), frames are waiting to be sealed, or the transport is closed.
   */
  async handOff(): Promise<RelayTransportHandOff | null> {
    const handOff = this.#channel.handOff?.bind(this.#channel);
    if (!handOff || this.closed || this.#handingOff || this.#flushing || this.#queueHead < this.#queue.length)
      return null;
    this.#handingOff = true;
    for (const off of this.#offs) off();
    this.#offs.length = 0;
    const pending: Uint8Array[] = [];
    let closedWith: string | null = null;
    const offs = [
      this.#socket.onFrame((m) => pending.push(m)),
      this.#socket.onClose((reason) => (closedWith ??= reason)),
    ];
    const release = (): void => {
      for (const off of offs) off();
    };
    await this.#openChain;
    if (this.closed) {
      release();
      return null;
    }
    let channel: ChannelHandOff;
    try {
      channel = await handOff();
    } catch (error) {
      release();
      this.close(`cannot hand the relay channel off: ${(error as Error).message}`);
      return null;
    }
    this.markClosed('the record layer was handed off');
    return {
      channel,
      socket: this.#socket,
      pending,
      get closedWith() {
        return closedWith;
      },
      release,
    };
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    for (const off of this.#offs) off();
    this.#socket.close();
    this.markClosed(reason);
  }

  readonly #startFlush = (): void => {
    void this.#flush();
  };

  /**
   * Seals and sends records until the queue is empty. Up to MAX_SEALING records are sealed at once (an
   * async AES job each: overlapping them hides the hand-off latency); they go out in order. Frames sent
   * meanwhile wait for a free slot, so under load they pack into full records.
   */
  async #flush(): Promise<void> {
    const sealing = this.#sealing;
    while (!this.closed && (this.#queueHead < this.#queue.length || sealing.length > 0)) {
      while (sealing.length < MAX_SEALING && this.#queueHead < this.#queue.length) sealing.push(this.#sealNext());
      const head = sealing[0]!;
      let sealed: Bytes | Bytes[];
      try {
        sealed = await head.sealed;
      } catch (error) {
        this.close(`cannot seal: ${(error as Error).message}`);
        return;
      }
      sealing.shift();
      this.#sealingBytes -= head.bytes;
      if (head.scratch) this.#scratch.push(head.scratch);
      if (this.closed) return;
      try {
        // The channel header goes into the room seal() left: no copy to prepend it.
        // Ciphertext the engine wrote into lent memory goes back once the socket has written it.
        if (Array.isArray(sealed))
          this.#socket.sendParts!(sealed, sealed.some(isLent) ? releaseAll(sealed) : undefined);
        else this.#socket.sendFramed(sealed);
      } catch (error) {
        this.close(`relay send failed: ${(error as Error).message}`);
        return;
      }
      this.checkDrain();
    }
    this.#flushing = false;
  }

  /** Packs the next record from the queue (up to MAX_RECORD_BYTES) and starts sealing it. */
  #sealNext(): Sealing {
    const queue = this.#queue;
    const from = this.#queueHead;
    let to = from;
    let size = RECORD_TYPE_BYTES;
    let bytes = 0;
    while (to < queue.length) {
      const length = queue[to]!.length;
      if (size + packedSize(length) > MAX_RECORD_BYTES) break;
      size += packedSize(length);
      bytes += length;
      to++;
    }
    // The engine reads the plaintext before seal() settles, so a bulk record's buffer is reused once its
    // seal is done instead of allocating 256 KiB per record (less GC from external memory).
    let scratch: Bytes | null = null;
    if (size >= SCRATCH_FROM) scratch = this.#scratch.pop() ?? new Uint8Array(MAX_RECORD_BYTES);
    const record = packRecord(queue, from, to, size, scratch ?? undefined);
    this.#stats.framesSent += to - from;
    this.#stats.recordsSent++;
    if (to === queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else {
      // Drop references to packed frames; compact now and then rather than shifting per record.
      queue.fill(EMPTY, from, to);
      this.#queueHead = to;
      if (to > 1024 && to * 2 > queue.length) {
        this.#queue = queue.slice(to);
        this.#queueHead = 0;
      }
    }
    this.#queuedBytes -= bytes;
    this.#sealingBytes += bytes;
    // The counter is taken now, so records are numbered in the order they go out.
    // A socket that gather-writes takes the engine's ciphertext and tag as they are (one buffer and one
    // copy fewer per record); otherwise one frame with room for the header.
    const sealed =
      this.#socket.sendParts && this.#channel.sealParts
        ? this.#channel.sealParts(record)
        : this.#channel.seal(record, CHANNEL_HEADER_BYTES);
    sealed.catch(() => {}); // a refusal is handled when this record's turn comes
    return { sealed, bytes, scratch };
  }

  #onSealed(sealed: Uint8Array): void {
    if (this.closed) return;
    // Called now, in arrival order: open() claims the counter synchronously; decryption overlaps.
    const opened = this.#channel.open(sealed);
    // Its refusal is handled in turn below; until then it must not count as an unhandled rejection.
    opened.catch(() => {});
    this.#openChain = this.#openChain.then(async () => {
      let plain: Uint8Array;
      try {
        plain = await opened;
      } catch (error) {
        this.close(`${REFUSED_RECORD}: ${(error as Error).message}`);
        return;
      }
      // Opened: the sealed bytes are read (the engine's output is a buffer of its own).
      this.#socket.release?.(sealed);
      if (this.closed) return;
      let frames: Uint8Array[];
      try {
        frames = unpackRecord(plain);
      } catch (error) {
        this.close(`refused a malformed relay record: ${(error as Error).message}`);
        return;
      }
      this.#stats.recordsReceived++;
      this.#stats.framesReceived += frames.length;
      // A record the engine opened into lent memory (buffer-lease.ts) goes back once each frame's reader
      // released it: the stream for its own frames, the transfer engine for a chunk it wrote and hashed.
      splitLease(plain, frames.length);
      for (const frame of frames) {
        if (this.closed) return; // a handler closed us
        this.emitFrame(frame);
      }
    });
  }
}

/** Releases every lent piece of a written record (buffer-lease.ts). */
function releaseAll(parts: readonly Uint8Array[]): () => void {
  return () => {
    for (const part of parts) releaseLease(part);
  };
}
