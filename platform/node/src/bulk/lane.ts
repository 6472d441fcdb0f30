// One bulk lane on one connection (any RecordSocket: node:net via nodeTcp(), or the desktop main's own
// TcpSockets): the key confirmation of core's bulk-handshake.ts under a deadline, then lane frames
// (bulk-frame.ts) sealed with the session's AES-GCM record layer under this connection's fresh secrets.
// Records are opened strictly in arrival order (the channel refuses replays and reordering); anything that
// fails (handshake, authentication, a malformed frame) closes the connection with a reason.
import { nodeAead } from '../aead.js';
import { createAeadChannel, type AeadEngine, type SecureChannel } from '../../../../core/src/crypto/index.js';
import type { RecordSocket } from '../../../../core/src/session/transport.js';
import { ConnectorHandshake, ListenerHandshake, type LaneKeys } from '../../../../core/src/transfer/bulk-handshake.js';
import {
  BulkLaneError,
  decodeLaneFrame,
  encodeLaneFrame,
  type LaneFrame,
} from '../../../../core/src/transfer/bulk-frame.js';
import type { LaneRole } from '../../../../core/src/transfer/bulk-key.js';

/** The whole key confirmation must be through within this (a silent or slow connector is dropped). */
export const DEFAULT_HANDSHAKE_MS = 5000;
/** Sends wait for the socket to drain below this before they seal more. */
const HIGH_WATER = 2 * 1024 * 1024;
/** Record bytes received and not yet opened and handed on, at most: a peer that floods is cut off. */
export const MAX_OPENING_BYTES = 8 * 1024 * 1024;
/** Messages held while the handshake finishes: the connector's first records may arrive before it does. */
const MAX_EARLY = 64;

export interface LaneOptions {
  handshakeMs?: number;
  engine?: AeadEngine;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Reads the handshake's messages one at a time, with one deadline for all of them. */
class HandshakeReader {
  readonly #queue: Uint8Array[] = [];
  #waiter: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  #error: Error | null = null;
  readonly #offs: Array<() => void>;

  constructor(socket: RecordSocket) {
    this.#offs = [
      socket.onFrame((m) => {
        // Records may follow the peer's last handshake message at once (they go to the lane); a peer that
        // floods a handshake is cut off.
        if (this.#queue.length >= MAX_EARLY) return this.#fail(new BulkLaneError('bad-handshake', 'too many messages'));
        const copy = m;
        if (this.#waiter) {
          const w = this.#waiter;
          this.#waiter = null;
          w.resolve(copy);
        } else this.#queue.push(copy);
      }),
      socket.onClose((reason) => this.#fail(new BulkLaneError('closed', `lane closed in its handshake: ${reason}`))),
    ];
  }

  #fail(error: Error): void {
    this.#error ??= error;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(error);
  }

  timeout(ms: number): void {
    this.#fail(new BulkLaneError('timeout', `the lane handshake took longer than ${ms} ms`));
  }

  next(): Promise<Uint8Array> {
    const m = this.#queue.shift();
    if (m) return Promise.resolve(m);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** Stops reading; returns what came after the handshake (the lane's first records). */
  stop(): Uint8Array[] {
    for (const off of this.#offs) off();
    return this.#queue.splice(0);
  }
}

async function withDeadline(
  socket: RecordSocket,
  options: LaneOptions,
  run: (reader: HandshakeReader) => Promise<LaneKeys>,
): Promise<BulkLane> {
  const ms = options.handshakeMs ?? DEFAULT_HANDSHAKE_MS;
  const reader = new HandshakeReader(socket);
  const timer = setTimeout(() => reader.timeout(ms), ms);
  let keys: LaneKeys;
  try {
    keys = await run(reader);
  } catch (error) {
    reader.stop();
    socket.close();
    throw error instanceof BulkLaneError ? error : new BulkLaneError('bad-handshake', (error as Error).message);
  } finally {
    clearTimeout(timer);
  }
  if (socket.closed) {
    reader.stop();
    throw new BulkLaneError('closed', 'lane closed in its handshake');
  }
  // Synchronously: no record can slip between the reader and the lane.
  return new BulkLane(socket, keys, options.engine ?? nodeAead, reader.stop());
}

/** Dials side: proves the key on `socket` (just connected) and returns the lane. */
export function connectLane(
  socket: RecordSocket,
  key: Uint8Array,
  role: LaneRole,
  options: LaneOptions = {},
): Promise<BulkLane> {
  return withDeadline(socket, options, async (reader) => {
    const hs = new ConnectorHandshake(key, role);
    socket.send(await hs.hello());
    const { finish, keys } = await hs.proof(await reader.next());
    socket.send(finish);
    return keys;
  });
}

/** Accepting side: finds the lane by the connector's tag (`lookup`), proves the key, returns the lane. */
export function acceptLane(
  socket: RecordSocket,
  lookup: (tag: Uint8Array) => { key: Uint8Array; role: LaneRole } | undefined,
  options: LaneOptions = {},
): Promise<BulkLane> {
  return withDeadline(socket, options, async (reader) => {
    const hs = new ListenerHandshake();
    const { proof } = await hs.hello(await reader.next(), lookup);
    socket.send(proof);
    return hs.finish(await reader.next());
  });
}

/** A confirmed lane: sealed lane frames both ways, in order. */
export class BulkLane {
  readonly role: LaneRole;
  /** The lane's public name (hex of its tag): which file this connection carries. */
  readonly tag: string;
  readonly #socket: RecordSocket;
  readonly #channel: SecureChannel;
  #opening: Promise<void> = Promise.resolve();
  #sending: Promise<void> = Promise.resolve();
  #handler: ((frame: LaneFrame) => void) | null = null;
  readonly #early: LaneFrame[] = [];
  #closeReason: string | null = null;
  readonly #closeHandlers = new Set<(reason: string) => void>();
  #drainWaiters: Array<() => void> = [];
  #openingBytes = 0;

  constructor(socket: RecordSocket, keys: LaneKeys, engine: AeadEngine, early: readonly Uint8Array[] = []) {
    this.#socket = socket;
    this.role = keys.role;
    this.tag = hex(keys.tag);
    const { toReceiver, toSender } = keys.directions;
    this.#channel = createAeadChannel({
      sessionId: `bulk:${this.tag}`,
      send: keys.role === 'sender' ? toReceiver : toSender,
      receive: keys.role === 'sender' ? toSender : toReceiver,
      engine,
    });
    for (const record of early) this.#onRecord(record);
    socket.onFrame((record) => this.#onRecord(record));
    socket.onDrain(() => this.#drained());
    socket.onClose((reason) => this.#closed(reason));
  }

  get closed(): boolean {
    return this.#closeReason !== null;
  }

  get closeReason(): string {
    return this.#closeReason ?? '';
  }

  /** Frames from the peer, in order (those that came before the first handler are kept for it). */
  onFrame(handler: (frame: LaneFrame) => void): void {
    this.#handler = handler;
    for (const frame of this.#early.splice(0)) if (!this.closed) handler(frame);
  }

  onClose(handler: (reason: string) => void): () => void {
    if (this.#closeReason !== null) {
      const reason = this.#closeReason;
      queueMicrotask(() => handler(reason));
      return () => {};
    }
    this.#closeHandlers.add(handler);
    return () => this.#closeHandlers.delete(handler);
  }

  /**
   * Seals and sends one frame (an encoded lane frame: a DATA frame from allocDataFrame, or encodeLaneFrame's).
   * Resolves once it is handed to the socket and the socket is below its high-water mark; frames go out in
   * call order. Rejects once the lane is closed.
   */
  send(frame: LaneFrame | Uint8Array): Promise<void> {
    const plaintext = frame instanceof Uint8Array ? frame : encodeLaneFrame(frame);
    // The counter is claimed now, so records go out in call order.
    const sealed = this.#channel.sealParts
      ? this.#channel.sealParts(plaintext)
      : this.#channel.seal(plaintext).then((f) => [f]);
    const turn = this.#sending.then(async () => {
      const parts = await sealed;
      if (this.closed) throw new BulkLaneError('closed', `lane closed: ${this.closeReason}`);
      if (this.#socket.sendParts) this.#socket.sendParts(parts);
      else this.#socket.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      if (this.#socket.bufferedAmount > HIGH_WATER) await this.#drain();
    });
    this.#sending = turn.catch(() => {});
    return turn;
  }

  /** Sends FAIL (best effort) and closes. */
  fail(reason: string): void {
    if (this.closed) return;
    void this.send({ kind: 'fail', reason }).catch(() => {});
    // Give the FAIL record its turn before the close.
    void this.#sending.then(() => this.close(reason));
  }

  close(reason = 'closed locally'): void {
    if (this.closed) return;
    // Our reason first: the socket's own close event (its reason is 'closed locally') comes after.
    this.#closed(reason);
    this.#socket.close();
  }

  #drain(): Promise<void> {
    if (this.closed) return Promise.reject(new BulkLaneError('closed', `lane closed: ${this.closeReason}`));
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #closed(reason: string): void {
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#drained(); // sends waiting for room find the lane closed
    for (const h of this.#closeHandlers) h(reason);
    this.#closeHandlers.clear();
  }

  #onRecord(record: Uint8Array): void {
    if (this.closed) return;
    // open() takes the counter at once (replays and reordering refused); results are handled in order.
    // No copy: a socket reuses a message's memory only after release(), which nothing here calls.
    this.#openingBytes += record.byteLength;
    if (this.#openingBytes > MAX_OPENING_BYTES) {
      this.close(`the peer sent more than ${MAX_OPENING_BYTES} bytes ahead of their opening`);
      return;
    }
    const opened = this.#channel.open(record);
    opened.catch(() => {});
    this.#opening = this.#opening.then(async () => {
      if (this.closed) return;
      let frame: LaneFrame;
      try {
        frame = decodeLaneFrame(await opened);
        this.#openingBytes -= record.byteLength;
      } catch (error) {
        this.close(`lane record refused: ${(error as Error).message}`);
        return;
      }
      if (this.#handler) this.#handler(frame);
      else this.#early.push(frame);
    });
  }
}
