// Call media's own relay connection (a second authenticated WebSocket of the same identity), so media never
// queues behind file bytes. One connection per client carries chat and files; a running transfer keeps every
// queue on that path full — the sender's WebSocket and TCP buffers, the relay's queue for the recipient (and
// its pause of the sender's socket when that queue is high), the relay's TCP buffers — and a media frame put
// on the same socket waits behind all of them (seconds on a slow link; `bufferedAmount` shows little of it:
// the kernel's buffers and the relay's queue are out of its sight). On its own connection a media frame
// waits behind none of those queues, on both hops: only behind what the network link itself holds.
//
// The lane exists only while media channels are open or being opened (plus a short linger, so back-to-back
// calls reuse it), so an idle client holds one relay connection as before and a file transfer with no call
// running takes exactly the path it took before. If the lane cannot come online quickly (e.g. a cluster at
// its per-identity connection cap), the channel is opened on the main connection instead: the call still
// connects, only without the priority.
import type { WatchGrant } from '../../../signaling/protocol/index.js';
import type { WebSocketFactory } from '../platform/types.js';
import type { RelayChannelSocket } from './channel.js';
import type { RelayClient } from './client.js';

export interface MediaLaneOptions {
  /** How long an open waits for the lane to come online before using the main connection. */
  connectTimeoutMs: number;
  /** How long the lane stays up after its last channel closed. */
  lingerMs: number;
  /**
   * The lane's own WebSocket factory (default: the client's). The browser puts the lane's socket in a worker
   * (renderer/src/call-media/lane-socket.ts), so a call's media records can skip the window.
   */
  webSocket?: WebSocketFactory;
}

export class MediaLane {
  readonly #make: () => RelayClient;
  readonly #grantOf: (id: string) => WatchGrant | undefined;
  readonly #o: MediaLaneOptions;
  #client: RelayClient | null = null;
  /** Channels open or being opened on the lane. */
  #users = 0;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** `grantOf`: the main connection's watch grant for a contact (see open()). */
  constructor(make: () => RelayClient, grantOf: (id: string) => WatchGrant | undefined, options: MediaLaneOptions) {
    this.#make = make;
    this.#grantOf = grantOf;
    this.#o = options;
  }

  /** The lane's connection while it exists (tests and diagnostics). */
  get client(): RelayClient | null {
    return this.#client;
  }

  /**
   * Opens a channel on the lane; `fallback` opens it on the main connection when the lane is not online
   * within connectTimeoutMs. A refusal from the relay (peer offline, timeout) is the answer, not a reason to
   * fall back: the main connection would get the same one.
   */
  async open(to: string, tag: string, fallback: () => Promise<RelayChannelSocket>): Promise<RelayChannelSocket> {
    if (this.#closed) return fallback();
    clearTimeout(this.#linger);
    this.#linger = undefined;
    const client = (this.#client ??= this.#start());
    this.#users++;
    let socket: RelayChannelSocket;
    try {
      if (!(await online(client, this.#o.connectTimeoutMs)) || this.#client !== client) {
        this.#release();
        return await fallback();
      }
      // The relay tells a connection that a peer is offline only if it holds that peer's grant: the lane
      // watches the one contact it opens to, so an open to an offline contact fails at once, as on the main.
      const grant = this.#grantOf(to);
      if (grant !== undefined) client.subscribe([grant]);
      socket = await client.openChannel(to, tag);
    } catch (error) {
      this.#release();
      throw error;
    }
    socket.onClose(() => this.#release());
    return socket;
  }

  reconnectNow(): void {
    this.#client?.reconnectNow();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#linger);
    this.#client?.close();
    this.#client = null;
  }

  #start(): RelayClient {
    const client = this.#make();
    client.start();
    return client;
  }

  #release(): void {
    if (--this.#users > 0 || this.#closed) return;
    clearTimeout(this.#linger);
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      if (this.#users > 0) return;
      this.#client?.close();
      this.#client = null;
    }, this.#o.lingerMs);
  }
}

/** Resolves true once `client` is online, false after `timeoutMs` (or if it closes first). */
function online(client: RelayClient, timeoutMs: number): Promise<boolean> {
  if (client.state === 'online') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, timeoutMs);
    const off = client.on('state', ({ state }) => {
      if (state !== 'online') return;
      clearTimeout(timer);
      off();
      resolve(true);
    });
  });
}
