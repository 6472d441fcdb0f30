// A FrameTransport over a relay channel: a signed ephemeral key agreement as the first frame each way
// (crypto/secure-channel), then every frame sealed with AES-GCM under per-direction counters. The relay
// sees only ciphertext sizes; a replayed, reordered or modified frame kills the transport.
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import { createHandshake, type EstablishedChannel, type Role } from '../crypto/secure-channel.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import type { RelayChannelSocket } from '../relay/channel.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import { deferred } from '../util/deferred.js';
import { Emitter } from '../util/emitter.js';
import type { FrameTransport } from './transport.js';

export interface RelayTransportOptions {
  socket: RelayChannelSocket;
  identity: IdentityKeyPair;
  peerKey: PublicIdentityKey;
  peerId: string;
  sessionId: string;
  role: Role;
  /** Bytes being sealed count as buffered; drain fires at or below this. Default 256 KiB. */
  lowWaterBytes?: number;
  handshakeTimeoutMs?: number;
}

interface Events {
  frame: Uint8Array;
  drain: void;
  close: string;
}

export class RelayTransport implements FrameTransport {
  readonly path = 'relay' as const;
  readonly #socket: RelayChannelSocket;
  readonly #channel: EstablishedChannel;
  readonly #events = new Emitter<Events>();
  readonly #lowWater: number;
  #closed = false;
  #early: Uint8Array[] | null = [];
  #sealing = 0;
  #sendChain: Promise<void> = Promise.resolve();
  #openChain: Promise<void> = Promise.resolve();
  #above = false;
  readonly #offs: Array<() => void> = [];

  private constructor(socket: RelayChannelSocket, channel: EstablishedChannel, lowWater: number, pending: Uint8Array[]) {
    this.#socket = socket;
    this.#channel = channel;
    this.#lowWater = lowWater;
    this.#offs.push(socket.onMessage((m) => this.#onSealed(m)));
    this.#offs.push(socket.onClose(({ reason }) => this.close(`relay channel closed: ${reason}`)));
    this.#offs.push(socket.onDrain(() => this.#checkDrain()));
    for (const m of pending) this.#onSealed(m);
  }

  /** Runs the handshake over a freshly paired relay channel; rejects (and closes it) if the peer cannot prove its key. */
  static async establish(options: RelayTransportOptions): Promise<RelayTransport> {
    const { socket } = options;
    const hs = await createHandshake({
      identity: options.identity,
      peerKey: options.peerKey,
      peerId: options.peerId,
      sessionId: options.sessionId,
      role: options.role,
    });
    const first = deferred<Uint8Array>();
    const after: Uint8Array[] = [];
    const offMessage = socket.onMessage((m) => {
      if (!first.settled) first.resolve(m);
      else after.push(m); // sealed frames the peer sent right after its handshake
    });
    const offClose = socket.onClose(({ reason }) => first.reject(new Error(`relay channel closed during the handshake: ${reason}`)));
    const timer = setTimeout(() => first.reject(new Error('relay handshake timed out')), options.handshakeTimeoutMs ?? 15_000);
    try {
      socket.send(utf8(JSON.stringify(hs.message)));
      const peerBytes = await first.promise;
      let peerMessage: unknown;
      try {
        peerMessage = JSON.parse(fromUtf8(peerBytes));
      } catch {
        throw new Error('the peer sent a malformed relay handshake');
      }
      const channel = await hs.complete(peerMessage);
      offMessage();
      offClose();
      return new RelayTransport(socket, channel, options.lowWaterBytes ?? 256 * 1024, after);
    } catch (error) {
      offMessage();
      offClose();
      socket.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bufferedAmount(): number {
    return this.#sealing + this.#socket.bufferedAmount;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) throw new Error('relay transport closed');
    // The counter is taken now, so frames are sealed and sent in call order.
    const sealed = this.#channel.seal(frame);
    this.#sealing += frame.length;
    if (this.bufferedAmount > this.#lowWater) this.#above = true;
    this.#sendChain = this.#sendChain.then(async () => {
      let bytes: Uint8Array;
      try {
        bytes = await sealed;
      } catch (error) {
        this.close(`cannot seal: ${(error as Error).message}`);
        return;
      } finally {
        this.#sealing -= frame.length;
      }
      if (this.#closed) return;
      try {
        this.#socket.send(bytes);
      } catch (error) {
        this.close(`relay send failed: ${(error as Error).message}`);
        return;
      }
      this.#checkDrain();
    });
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    const off = this.#events.on('frame', handler);
    const early = this.#early;
    this.#early = null;
    if (early) for (const f of early) handler(f);
    return off;
  }

  onDrain(handler: () => void): () => void {
    return this.#events.on('drain', handler);
  }

  onClose(handler: (reason: string) => void): () => void {
    return this.#events.on('close', handler);
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.#socket.close();
    this.#events.emit('close', reason);
    this.#events.removeAll();
  }

  #onSealed(sealed: Uint8Array): void {
    if (this.#closed) return;
    const opened = this.#channel.open(sealed);
    this.#openChain = this.#openChain.then(async () => {
      let plain: Uint8Array;
      try {
        plain = await opened;
      } catch (error) {
        this.close(`refused a relay frame: ${(error as Error).message}`);
        return;
      }
      if (this.#closed) return;
      if (this.#early) this.#early.push(plain);
      else this.#events.emit('frame', plain);
    });
  }

  #checkDrain(): void {
    if (!this.#above || this.bufferedAmount > this.#lowWater) return;
    this.#above = false;
    this.#events.emit('drain', undefined);
  }
}
