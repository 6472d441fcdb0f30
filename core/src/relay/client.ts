// The relay client: one authenticated WebSocket to one relay, kept alive across drops.
//  - authenticates by challenge-response on the identity key (relayAuthStatement binds nonce, id, host);
//  - reconnects with capped exponential backoff and jitter, resubscribes presence after each reconnect;
//  - queues outgoing signals and channel opens while reconnecting (bounded; each one resolves or fails);
//  - every relay message is validated with ServerMessageSchema before use.
// Signal confirmations live in confirmations.ts, the channels multiplexed on the socket in channel-mux.ts,
// call media's own second connection in media-lane.ts.
import {
  CloseCode,
  ErrorCode,
  MAX_IDS_PER_MESSAGE,
  PROTOCOL_VERSION,
  ServerMessageSchema,
  describeIssue,
  relayAuthStatement,
  toBase64url,
  type Bytes,
  type PublicIdentityKey,
  type RelayLimitsInfo,
  type ServerMessage,
  type TurnCredentials,
  type WatchGrant,
} from '../../../signaling/protocol/index.js';
import type { RelayState } from '../api.js';
import type { IceServer } from '../platform/rtc.js';
import { silentLogger, type Logger, type WebSocketFactory, type WebSocketLike } from '../platform/types.js';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
import { deferred } from '../util/deferred.js';
import { Emitter } from '../util/emitter.js';
import type { RelayChannelSocket } from './channel.js';
import { ChannelMux } from './channel-mux.js';
import { SignalConfirmations } from './confirmations.js';
import { MediaLane, type MediaLaneOptions } from './media-lane.js';
import { RelayError } from './errors.js';
import { RelayTurnCredentials } from './turn.js';
import { relayHostOf } from './url.js';

/** Signs relay challenges with the identity key; the private key never leaves the signer. */
export interface RelaySigner {
  id: string;
  publicKey: PublicIdentityKey;
  sign(data: Bytes): Promise<Bytes>;
}

export interface RelayClientOptions {
  url: string;
  signer: RelaySigner;
  webSocket: WebSocketFactory;
  logger?: Logger;
  backoff?: BackoffOptions;
  /** Signals and channel opens held while the relay is unreachable. Default 256. */
  maxQueued?: number;
  /** How long a held item waits for the relay before failing with 'timeout'. Default 30 s. */
  queueTimeoutMs?: number;
  /** How long a channel-open waits for the peer's matching open. Default 30 s. */
  channelOpenTimeoutMs?: number;
  /** Client keepalive: ping after this much silence; a missing pong within the same time drops the connection. Default 15 s. */
  keepaliveMs?: number;
  /** bufferedAmount at or below which channels get 'drain'. Default 256 KiB. */
  lowWaterBytes?: number;
  /**
   * Media channels (openChannel with priority 'media') on a connection of their own, so they never queue
   * behind file bytes (media-lane.ts). Default on; false puts them on the one connection like any channel.
   */
  mediaLane?: boolean | Partial<MediaLaneOptions>;
}

export interface OpenChannelOptions {
  /**
   * 'media': realtime frames that must not wait behind bulk data (a call's media); carried by the client's
   * media connection when it has one. Default 'bulk': the main connection.
   */
  priority?: 'media' | 'bulk';
}

export interface RelayClientEvents {
  state: { state: RelayState; error?: string };
  presence: { id: string; online: boolean };
  signal: { from: string; data: Record<string, unknown> };
  /** Store-and-forward mail (contact requests); acknowledge with ackMail once stored, or it comes again. */
  mail: { id: string; from: string; at: number; body: Record<string, unknown> };
  /** Relay errors no pending request claimed (logged; useful for diagnostics and tests). */
  error: { code: string; message: string };
}

interface Held {
  run(): void;
  fail(error: RelayError): void;
  timer: number;
}

const KEEPALIVE_PREFIX = 'k';
const TURN_REF = 'turn';

export class RelayClient {
  readonly url: string;
  readonly host: string;
  readonly #signer: RelaySigner;
  readonly #factory: WebSocketFactory;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #events = new Emitter<RelayClientEvents>();
  readonly #maxQueued: number;
  readonly #queueTimeoutMs: number;
  readonly #keepaliveMs: number;
  readonly #confirmations: SignalConfirmations;
  readonly #mux: ChannelMux;
  readonly #mediaLane: MediaLane | null;

  #ws: WebSocketLike | null = null;
  #state: RelayState = 'offline';
  #started = false;
  #closed = false;
  #reconnectTimer: number | undefined;
  #limits: RelayLimitsInfo | null = null;

  /** Watched id → the grant it signed for us (sent again after every reconnect). */
  readonly #subscriptions = new Map<string, WatchGrant>();
  readonly #online = new Set<string>();
  readonly #held: Held[] = [];

  #lastHeard = 0;
  #keepaliveTimer: number | undefined;
  #keepaliveRef: string | null = null;
  #keepaliveCounter = 0;
  /** TURN credentials from this relay (its `ready`, then refreshed); they outlive a dropped connection. */
  readonly #turn = new RelayTurnCredentials();
  #turnTimer: number | undefined;

  constructor(options: RelayClientOptions) {
    this.url = options.url;
    this.host = relayHostOf(options.url);
    this.#signer = options.signer;
    this.#factory = options.webSocket;
    this.#log = options.logger ?? silentLogger;
    this.#backoff = new Backoff({ initialMs: 250, maxMs: 30_000, ...options.backoff });
    this.#maxQueued = options.maxQueued ?? 256;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? 30_000;
    this.#keepaliveMs = options.keepaliveMs ?? 15_000;
    const send = (msg: Record<string, unknown>): void => this.#sendJson(msg);
    this.#confirmations = new SignalConfirmations(send, () => this.#state === 'online');
    const client = this;
    this.#mux = new ChannelMux(
      {
        get onlineSocket() {
          return client.#state === 'online' ? client.#ws : null;
        },
        sendJson: send,
      },
      { lowWaterBytes: options.lowWaterBytes ?? 256 * 1024, openTimeoutMs: options.channelOpenTimeoutMs ?? 30_000 },
    );
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'relay client listener threw');
    const lane = options.mediaLane ?? true;
    this.#mediaLane =
      lane === false
        ? null
        : new MediaLane(
            // The lane is a client of its own (auth, keepalive, reconnect) watching only the contacts it opens
            // channels to; the presence, signals and mail the relay also hands it (it delivers those to every
            // connection of an identity) reach the main connection too, so nobody listens to them here.
            () =>
              new RelayClient({
                ...options,
                ...(lane !== true && lane.webSocket ? { webSocket: lane.webSocket } : {}),
                mediaLane: false,
              }),
            (id) => this.#subscriptions.get(id),
            { connectTimeoutMs: 5_000, lingerMs: 10_000, ...(lane === true ? {} : lane) },
          );
  }

  get state(): RelayState {
    return this.#state;
  }

  get id(): string {
    return this.#signer.id;
  }

  /** Limits the relay announced in `ready` (null before the first ready). */
  get limits(): RelayLimitsInfo | null {
    return this.#limits;
  }

  /** Bytes queued in the WebSocket (shared by every channel). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  on<K extends keyof RelayClientEvents>(event: K, listener: (value: RelayClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** TURN servers this relay's operator provides, with credentials valid at `now`; [] when none or expired. */
  turnServers(now: number = Date.now()): IceServer[] {
    return this.#turn.servers(now);
  }

  isOnline(id: string): boolean {
    return this.#online.has(id);
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.#closed || this.#started) return;
    this.#started = true;
    this.#connect();
  }

  /** Skips the current backoff wait (e.g. the network came back). */
  reconnectNow(): void {
    this.#mediaLane?.reconnectNow();
    if (this.#closed || !this.#started || this.#ws) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#connect();
  }

  /** Closes for good: everything held or pending fails with 'closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#mediaLane?.close();
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#turnTimer);
    this.#stopKeepalive();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(CloseCode.Normal, 'client closing');
      } catch {
        /* already closed */
      }
    }
    this.#dropConnectionState('relay client closed', 'closed');
    for (const item of this.#held.splice(0)) {
      clearTimeout(item.timer);
      item.fail(new RelayError('closed', 'the relay client was closed'));
    }
    this.#setState('offline');
    this.#events.removeAll();
  }

  // ---- presence ----

  /** Watches the presence of each grant's signer (a grant is what a contact gave us; see protocol/watch.ts). */
  subscribe(grants: readonly WatchGrant[]): void {
    const fresh = grants.filter((g) => g.of !== this.id && this.#subscriptions.get(g.of)?.sig !== g.sig);
    for (const g of fresh) this.#subscriptions.set(g.of, g);
    if (this.#state === 'online' && fresh.length > 0) this.#sendGrants(fresh);
  }

  /**
   * Leaves mail for `to` on the relay (delivered now or when they connect). Resolves once the relay queued it;
   * the answer is the same whether `to` is online or not. Fails with RelayError like signal().
   */
  sendMail(to: string, body: Record<string, unknown>): Promise<void> {
    return this.#confirmed({ type: 'mail', to, body }, to);
  }

  /** Tells the relay these mails are stored here: it forgets them. */
  ackMail(ids: readonly string[]): void {
    if (this.#state === 'online' && ids.length > 0) {
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_MESSAGE)
        this.#sendJson({ type: 'mail-ack', ids: ids.slice(i, i + MAX_IDS_PER_MESSAGE) });
    }
  }

  unsubscribe(ids: readonly string[]): void {
    const gone = ids.filter((id) => this.#subscriptions.delete(id));
    for (const id of gone) this.#online.delete(id);
    if (this.#state === 'online' && gone.length > 0) this.#sendIds('unsubscribe', gone);
  }

  // ---- signals ----

  /**
   * Sends a signal. Resolves once the relay has accepted it for an online target; rejects with
   * RelayError 'offline' when the target is not connected, 'disconnected' when the connection dropped
   * before the relay answered, 'queue-full'/'timeout' while reconnecting, 'closed' after close().
   */
  signal(to: string, data: Record<string, unknown>): Promise<void> {
    return this.#confirmed({ type: 'signal', to, data }, to);
  }

  /** Sends a message carrying a ref; resolves at the next pong barrier unless the relay answered an error. */
  #confirmed(msg: Record<string, unknown>, to: string): Promise<void> {
    const result = deferred<void>();
    this.#whenOnline(
      () => this.#confirmations.sendWithRef({ ...msg, to }, result),
      (error) => result.reject(error),
    );
    return result.promise;
  }

  // ---- channels ----

  /**
   * Asks the relay for a channel to `to` tagged `tag`; resolves when the peer asked for the same
   * (to us, same tag) and the relay paired them. Fails with RelayError like signal(). The relay pairs by
   * identity, so the two sides need not use the same kind of connection.
   */
  openChannel(to: string, tag: string, options: OpenChannelOptions = {}): Promise<RelayChannelSocket> {
    if (options.priority === 'media' && this.#mediaLane !== null && !this.#closed)
      return this.#mediaLane.open(to, tag, () => this.#openOnMain(to, tag));
    return this.#openOnMain(to, tag);
  }

  /** The media connection while one is up (diagnostics, tests). */
  get mediaConnection(): RelayClient | null {
    return this.#mediaLane?.client ?? null;
  }

  #openOnMain(to: string, tag: string): Promise<RelayChannelSocket> {
    const result = deferred<RelayChannelSocket>();
    this.#whenOnline(
      () => this.#mux.open(to, tag, result),
      (error) => result.reject(error),
    );
    return result.promise;
  }

  // ---- connection ----

  #connect(): void {
    this.#setState('connecting');
    let ws: WebSocketLike;
    try {
      ws = this.#factory(this.url);
    } catch (error) {
      this.#onDropped(`cannot open WebSocket: ${(error as Error).message}`);
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev) => {
      if (this.#ws !== ws) return;
      this.#lastHeard = Date.now();
      if (typeof ev.data === 'string') this.#onText(ev.data);
      else this.#mux.onBinary(ev.data);
      this.#mux.checkDrain();
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#onDropped(`connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    };
    ws.onerror = () => {
      // A close event always follows; it carries the useful code.
    };
  }

  #onDropped(reason: string): void {
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    }
    this.#stopKeepalive();
    this.#dropConnectionState(reason, 'disconnected');
    if (this.#closed) return;
    const delay = this.#backoff.next();
    this.#log.info({ url: this.url, delayMs: delay, reason }, 'relay connection lost; reconnecting');
    this.#setState('offline', reason);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#closed) this.#connect();
    }, delay);
  }

  /** Everything bound to one connection dies with it. */
  #dropConnectionState(reason: string, code: 'disconnected' | 'closed'): void {
    this.#confirmations.failAll(code, reason);
    this.#mux.dropAll(code, reason);
    const wasOnline = [...this.#online];
    this.#online.clear();
    if (!this.#closed) for (const id of wasOnline) this.#events.emit('presence', { id, online: false });
  }

  #onText(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.#log.warn({ url: this.url }, 'relay sent malformed JSON; ignored');
      return;
    }
    const parsed = ServerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.#log.warn({ url: this.url, issue: describeIssue(parsed.error) }, 'relay sent an invalid message; ignored');
      return;
    }
    this.#onMessage(parsed.data);
  }

  #onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case 'challenge':
        void this.#answerChallenge(msg.nonce, msg.v);
        return;
      case 'ready':
        if (msg.id !== this.id) {
          this.#log.error({ url: this.url }, 'relay bound us to another identity; dropping the connection');
          this.#onDropped('relay confirmed a different identity');
          return;
        }
        if (msg.turn) this.#onTurn(msg.turn); // before 'online': a call placed at once gets them
        this.#onReady(msg.limits);
        return;
      case 'turn-credentials':
        this.#onTurn(msg.turn);
        return;
      case 'presence':
        if (!this.#subscriptions.has(msg.id)) return;
        if (msg.online === this.#online.has(msg.id)) return;
        if (msg.online) this.#online.add(msg.id);
        else this.#online.delete(msg.id);
        this.#events.emit('presence', { id: msg.id, online: msg.online });
        return;
      case 'signal':
        this.#events.emit('signal', { from: msg.from, data: msg.data });
        return;
      case 'mail':
        this.#events.emit('mail', { id: msg.id, from: msg.from, at: msg.at, body: msg.body });
        return;
      case 'mail-queued':
        return; // confirmed by the pong barrier that follows
      case 'channel-ready':
        this.#mux.onChannelReady(msg);
        return;
      case 'channel-closed':
        this.#mux.onChannelClosed(msg);
        return;
      case 'pong':
        if (msg.ref !== undefined && !this.#confirmations.onPong(msg.ref) && msg.ref === this.#keepaliveRef)
          this.#keepaliveRef = null;
        return;
      case 'error':
        this.#onRelayError(msg);
        return;
    }
  }

  async #answerChallenge(nonce: string, version: number): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    if (version !== PROTOCOL_VERSION) {
      // Say so plainly (the state's error reaches the UI and CLI) instead of failing later with a close code.
      const fix = version < PROTOCOL_VERSION ? 'the relay needs an update' : 'update Parley';
      this.#onDropped(
        `the relay speaks protocol version ${version} and this Parley version ${PROTOCOL_VERSION}: ${fix}`,
      );
      return;
    }
    try {
      const { alg, pub } = this.#signer.publicKey;
      const sig = await this.#signer.sign(relayAuthStatement(nonce, this.id, this.host));
      if (this.#ws !== ws) return;
      ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, alg, pub }));
      ws.send(JSON.stringify({ type: 'auth', sig: toBase64url(sig) }));
    } catch (error) {
      this.#log.error({ url: this.url, err: String(error) }, 'cannot sign the relay challenge');
      if (this.#ws === ws) this.#onDropped('cannot sign the relay challenge');
    }
  }

  #onReady(limits: RelayLimitsInfo): void {
    this.#limits = limits;
    this.#backoff.reset();
    this.#setState('online');
    if (this.#subscriptions.size > 0) this.#sendGrants([...this.#subscriptions.values()]);
    this.#startKeepalive();
    for (const item of this.#held.splice(0)) {
      clearTimeout(item.timer);
      item.run();
    }
  }

  /** Stores fresh TURN credentials and asks for the next ones at half-life, while online. */
  #onTurn(turn: TurnCredentials): void {
    this.#turn.update(turn, Date.now());
    clearTimeout(this.#turnTimer);
    this.#turnTimer = setTimeout(
      () => {
        this.#turnTimer = undefined;
        // Offline: the next `ready` brings fresh ones.
        if (this.#state === 'online') this.#sendJson({ type: 'turn-credentials', ref: TURN_REF });
      },
      Math.max(0, this.#turn.refreshAt! - Date.now()),
    );
  }

  #onRelayError(msg: Extract<ServerMessage, { type: 'error' }>): void {
    if (msg.ref === TURN_REF) {
      // Refused (rate-limited): the credentials we hold stay usable until they expire; reconnects bring new ones.
      this.#log.warn({ url: this.url, code: msg.code }, 'relay refused fresh TURN credentials');
      return;
    }
    const code = msg.code === ErrorCode.Offline ? 'offline' : 'refused';
    if (msg.ref !== undefined) {
      const error = new RelayError(
        code,
        code === 'offline' ? 'the contact is not connected to the relay' : msg.message,
        msg.code,
      );
      if (this.#confirmations.onRefused(msg.ref, error)) return;
    }
    if (msg.tag !== undefined && msg.to !== undefined) {
      const why = msg.code === ErrorCode.ChannelTimeout ? 'timeout' : code;
      if (this.#mux.onOpenRefused(msg.to, msg.tag, new RelayError(why, msg.message, msg.code))) return;
    }
    this.#log.warn({ url: this.url, code: msg.code, message: msg.message }, 'relay error');
    this.#events.emit('error', { code: msg.code, message: msg.message });
  }

  // ---- keepalive ----

  #startKeepalive(): void {
    this.#stopKeepalive();
    this.#lastHeard = Date.now();
    const tick = (): void => {
      if (this.#state !== 'online') return;
      if (this.#keepaliveRef !== null) {
        this.#onDropped('the relay stopped answering');
        return;
      }
      if (Date.now() - this.#lastHeard >= this.#keepaliveMs) {
        this.#keepaliveRef = `${KEEPALIVE_PREFIX}${++this.#keepaliveCounter}`;
        this.#sendJson({ type: 'ping', ref: this.#keepaliveRef });
      }
      this.#keepaliveTimer = setTimeout(tick, this.#keepaliveMs);
    };
    this.#keepaliveTimer = setTimeout(tick, this.#keepaliveMs);
  }

  #stopKeepalive(): void {
    clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
    this.#keepaliveRef = null;
  }

  // ---- sending ----

  #whenOnline(run: () => void, fail: (error: RelayError) => void): void {
    if (this.#closed) {
      fail(new RelayError('closed', 'the relay client was closed'));
      return;
    }
    if (this.#state === 'online') {
      run();
      return;
    }
    if (this.#held.length >= this.#maxQueued) {
      fail(new RelayError('queue-full', `more than ${this.#maxQueued} messages are waiting for the relay`));
      return;
    }
    const item: Held = {
      run,
      fail,
      timer: setTimeout(() => {
        const i = this.#held.indexOf(item);
        if (i >= 0) this.#held.splice(i, 1);
        fail(new RelayError('timeout', 'the relay stayed unreachable'));
      }, this.#queueTimeoutMs),
    };
    this.#held.push(item);
  }

  #sendGrants(grants: WatchGrant[]): void {
    for (let i = 0; i < grants.length; i += MAX_IDS_PER_MESSAGE)
      this.#sendJson({ type: 'subscribe', grants: grants.slice(i, i + MAX_IDS_PER_MESSAGE) });
  }

  #sendIds(type: 'unsubscribe', ids: string[]): void {
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_MESSAGE)
      this.#sendJson({ type, ids: ids.slice(i, i + MAX_IDS_PER_MESSAGE) });
  }

  #sendJson(msg: Record<string, unknown>): void {
    const ws = this.#ws;
    if (!ws) return;
    try {
      ws.send(JSON.stringify(msg), this.#mux.afterSend);
    } catch (error) {
      this.#log.warn({ url: this.url, err: String(error) }, 'relay send failed');
    }
  }

  #setState(state: RelayState, error?: string): void {
    if (this.#state === state && error === undefined) return;
    this.#state = state;
    this.#events.emit('state', error === undefined ? { state } : { state, error });
  }
}

function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  // Not null: closing a socket that is still connecting makes `ws` emit 'error', which throws without a listener.
  ws.onerror = () => {};
}
