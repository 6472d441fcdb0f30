// The engine facade the UI and the CLI use: identity, contacts, presence, sessions, chat, calls and
// file transfer. Every session it creates carries chat and (when configured) file frames from the start.
import type {
  ChatMessage,
  Contact,
  ContactRequestView,
  IdentityId,
  MessengerEventMap,
  OwnIdentity,
  RelayState,
  SessionPath,
  Unsubscribe,
} from './api.js';
import { isCallSignal } from './call/signals.js';
import { CallManager } from './call/manager.js';
import type { RelayMediaEngine } from './call/relay-media/pipeline.js';
import type { CallRelay, CallTimeouts } from './call/types.js';
import { ChatService } from './chat/service.js';
import type { AeadEngine } from './crypto/aead-engine.js';
import { ChatStore } from './chat/store.js';
import { ContactRequests } from './contacts/requests.js';
import { ContactStore } from './contacts/store.js';
import { createInvite, parseInvite } from './identity/invite.js';
import { safetyNumber } from './identity/safety-number.js';
import { checkRelayList } from './identity/profile.js';
import { loadOrCreateIdentity, type IdentityKeyStore, type LocalIdentity } from './identity/store.js';
import { silentLogger, type KeyValueStore, type Logger, type WebSocketFactory } from './platform/types.js';
import { RelayClient } from './relay/client.js';
import { mergeIceServers } from './relay/turn.js';
import { RelayError } from './relay/errors.js';
import { relaySignerOf } from './relay/signer.js';
import type { IceServer, SimplePeerConstructor } from './platform/rtc.js';
import { Session, type SessionRoute } from './session/session.js';
import type { TcpPlatform } from './session/tcp-path.js';
import { SESSION_SIGNAL_KINDS } from './session/signals.js';
import { TransferEngine, type TransferEngineOptions } from './transfer/engine.js';
import { YieldToCalls } from './session/yield-to-calls.js';
import { attachSession } from './transfer/session-stream.js';
import type { OutgoingFile, TransferInfo } from './transfer/types.js';
import { Emitter } from './util/emitter.js';

/**
 * File transfer (core/src/transfer/README.md): where files are read from and saved to, and the engine's
 * policy (decide, window, ...). Offers from strangers are always declined. Its state is kept in the
 * Messenger's store unless `store` says otherwise.
 */
export type MessengerFilesOptions = Omit<TransferEngineOptions, 'store' | 'logger' | 'isKnownContact'> & {
  store?: KeyValueStore;
};

export interface MessengerCloseOptions {
  /**
   * Let work in flight finish first: transfers settle (decisions, writes, saved state), then every live
   * session's stream is acknowledged by the peer, so a final ack, a transfer result or a just-sent
   * message is not cut off by the exit. Default false.
   */
  drain?: boolean;
  /** Longest wait for the streams to drain (default 3000 ms). */
  drainTimeoutMs?: number;
}

export interface MessengerOptions {
  store: KeyValueStore;
  identityStore: IdentityKeyStore;
  webSocket: WebSocketFactory;
  /** The media lane's sockets (relay/media-lane.ts), e.g. in a worker so call media skips the window. */
  mediaLaneWebSocket?: WebSocketFactory;
  /** RTCPeerConnection implementation for Node (@roamhq/wrtc); leave undefined in browsers. */
  wrtc?: unknown;
  logger?: Logger;
  /** Our relay URLs (used when the identity is created, and to override the stored ones if given). */
  relays?: string[];
  /**
   * STUN/TURN servers the user configured. Default none: never a public server. Calls also use the TURN servers
   * our relays' operators provide (relayTurnServers), after these; data sessions use only these.
   */
  iceServers?: IceServer[];
  directHeadStartMs?: number;
  directStallMs?: number;
  /** A direct attempt not connected after this long is abandoned and retried (default 20 s). */
  directAttemptTimeoutMs?: number;
  /** Display name for a new identity. */
  name?: string;
  /** Store the private key as pkcs8 (JSON stores, Node). Default false (CryptoKey, IndexedDB). */
  extractableKey?: boolean;
  /** No WebRTC here: never attempt direct connections (sessions use the relay). */
  directDisabled?: boolean;
  /**
   * Always use the relay (IP privacy): sessions never try a direct connection and calls use TURN relay
   * candidates only (the user's TURN server or the relay's), so no address of ours reaches a contact.
   * Default false.
   */
  relayOnly?: boolean;
  /** Sockets for the direct TCP path (Node: platform/node/src/tcp); unused when relayOnly. */
  tcp?: TcpPlatform;
  SimplePeer?: SimplePeerConstructor;
  /** Unacknowledged bytes each session's stream keeps in flight (default 4 MiB; core/src/session/stream.ts). */
  streamWindowBytes?: number;
  /** Call timeouts (ring, connect, reconnect); defaults in core/src/call/manager.ts. */
  callTimeouts?: Partial<CallTimeouts>;
  /**
   * Calls: media over the relay when direct media cannot connect (core/src/call/relay-media; the browser's is
   * renderer/src/call-media). Without it a call with no direct or TURN path fails with 'no-path'.
   */
  relayMedia?: RelayMediaEngine;
  /** AES-GCM for relay records (Node: platform/node/src/aead.ts). Default WebCrypto. */
  aead?: AeadEngine;
  /** File transfer; without it the Messenger has none (`transfers` is null) and file frames are dropped. */
  files?: MessengerFilesOptions;
}

export class Messenger {
  readonly #o: MessengerOptions;
  readonly #log: Logger;
  readonly #identity: LocalIdentity;
  readonly #relayUrls: string[];
  readonly #contacts: ContactStore;
  readonly #chat: ChatStore;
  readonly #chatService: ChatService;
  readonly #events = new Emitter<MessengerEventMap>();
  readonly #relays = new Map<string, RelayClient>();
  readonly #sessions = new Map<string, Session>();
  /** Call signals from every relay, fanned in for the call manager. */
  readonly #callSignals = new Emitter<{ signal: { from: string; data: Record<string, unknown> } }>();
  /** Audio/video calls with contacts (core/src/call/README.md). */
  readonly calls: CallManager;
  /** File transfer with contacts; null when opened without `files`. */
  readonly transfers: TransferEngine | null;
  /** The transfer engine's hold on each session's file frames. */
  readonly #fileLinks = new Map<string, Unsubscribe>();
  readonly #yieldToCalls: YieldToCalls;
  /** Contact requests in both directions and watch grants (core/src/contacts/requests.ts). */
  #requests!: ContactRequests;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(
    options: MessengerOptions,
    identity: LocalIdentity,
    contacts: ContactStore,
    chat: ChatStore,
    relayUrls: string[],
  ) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#identity = identity;
    this.#contacts = contacts;
    this.#chat = chat;
    this.#relayUrls = relayUrls;
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'messenger listener threw');
    this.#chatService = new ChatService(chat, (m) => this.#onChatMessage(m), this.#log);
    this.calls = new CallManager({
      relay: this.#callRelay(),
      identity,
      contactKey: (id) => contacts.get(id)?.key,
      contactName: (id) => contacts.get(id)?.name,
      ...(options.wrtc !== undefined ? { wrtc: options.wrtc } : {}),
      iceServers: () => this.#callIceServers(),
      relayOnly: () => this.#o.relayOnly === true,
      logger: this.#log,
      ...(options.callTimeouts ? { timeouts: options.callTimeouts } : {}),
      ...(options.SimplePeer
        ? { SimplePeer: options.SimplePeer as NonNullable<ConstructorParameters<typeof CallManager>[0]['SimplePeer']> }
        : {}),
      ...(options.relayMedia
        ? {
            relayMedia: {
              engine: options.relayMedia,
              openChannel: (to: string, tag: string) => {
                const relay = this.#relayFor(to);
                return relay
                  ? relay.openChannel(to, tag, { priority: 'media' })
                  : Promise.reject(new RelayError('closed', 'No relay is configured to reach this contact.'));
              },
            },
          }
        : {}),
      ...(options.aead ? { aead: options.aead } : {}),
    });
    // While a call is up, session streams on the relay yield to its media (issue #11).
    this.#yieldToCalls = new YieldToCalls(this.calls, () => Array.from(this.#sessions.values(), (s) => s.stream));
    const files = options.files;
    this.transfers = files
      ? new TransferEngine({
          ...files,
          store: files.store ?? options.store,
          logger: this.#log,
          isKnownContact: (id) => contacts.has(id),
        })
      : null;
  }

  /** Calls reach a contact through the same relay as their session; signals from any relay come back here. */
  #callRelay(): CallRelay {
    // `state` is read by the call manager to fail a call at once when we are not connected.
    const messenger = this;
    return {
      get state() {
        return messenger.relayState().state;
      },
      signal: (to, data) => {
        const relay = this.#relayFor(to);
        return relay
          ? relay.signal(to, data)
          : Promise.reject(new RelayError('closed', 'No relay is configured to reach this contact.'));
      },
      on: (_event, listener) => this.#callSignals.on('signal', listener),
    };
  }

  static async open(options: MessengerOptions): Promise<Messenger> {
    const log = options.logger ?? silentLogger;
    const identity = await loadOrCreateIdentity(options.identityStore, {
      name: options.name ?? '',
      relays: options.relays ?? [],
      extractable: options.extractableKey ?? false,
    });
    let relays = identity.relays;
    if (options.relays) {
      const checked = checkRelayList(options.relays);
      if (!checked.ok) throw new Error(checked.error);
      relays = checked.value;
    }
    const contacts = await ContactStore.open(options.store, log);
    const messenger = new Messenger(options, identity, contacts, new ChatStore(options.store), relays);
    await messenger.transfers?.start();
    messenger.#requests = await ContactRequests.open({
      identity,
      relays: () => messenger.#relayUrls,
      contacts,
      store: options.store,
      sendMail: (to, urls, body) => messenger.#mailRelay(urls).sendMail(to, body),
      watch: (c) => messenger.#watch(c.id),
      onContact: (id) => void messenger.#onContactChanged(id),
      onRequests: () => messenger.#events.emit('requests', messenger.requests()),
      logger: log,
    });
    messenger.#start();
    return messenger;
  }

  // ---- identity and contacts ----

  get identity(): OwnIdentity {
    return {
      id: this.#identity.id,
      name: this.#identity.name,
      invite: createInvite({ publicKey: this.#identity.publicKey, name: this.#identity.name, relays: this.#relayUrls }),
    };
  }

  async contacts(): Promise<Contact[]> {
    return Promise.all(this.#contacts.list().map((c) => this.#contactView(c.id)));
  }

  async addContact(invite: string): Promise<Contact> {
    const parsed = await parseInvite(invite);
    if (parsed.id === this.#identity.id) throw new Error('That invite is your own.');
    const stored = await this.#requests.add(parsed);
    this.#watch(stored.id);
    const view = await this.#contactView(stored.id);
    this.#events.emit('contact', view);
    return view;
  }

  async removeContact(contactId: IdentityId): Promise<void> {
    const c = this.#contacts.get(contactId);
    if (!c) return;
    this.#sessions.get(contactId)?.close();
    this.#sessions.delete(contactId);
    this.#chatService.detach(contactId);
    this.#fileLinks.get(contactId)?.();
    this.#fileLinks.delete(contactId);
    for (const relay of this.#relays.values()) relay.unsubscribe([contactId]);
    await this.#contacts.remove(contactId);
    await this.#chat.forget(contactId);
  }

  safetyNumber(contactId: IdentityId): Promise<string> {
    const request = this.#requests.get(contactId);
    if (request && !this.#contacts.has(contactId)) return safetyNumber(this.#identity.publicKey, request.key);
    return this.#contacts.safetyNumber(contactId, this.#identity.publicKey);
  }

  // ---- contact requests ----

  requests(): ContactRequestView[] {
    return this.#requests.list().map(({ id, name, relays, receivedAt }) => ({ id, name, relays, receivedAt }));
  }

  async acceptRequest(id: IdentityId): Promise<Contact> {
    const c = await this.#requests.accept(id);
    const view = await this.#contactView(c.id);
    this.#events.emit('contact', view);
    return view;
  }

  declineRequest(id: IdentityId): Promise<void> {
    return this.#requests.decline(id);
  }

  blockRequest(id: IdentityId): Promise<void> {
    return this.#requests.block(id);
  }

  async setVerified(contactId: IdentityId, verified: boolean): Promise<Contact> {
    await this.#contacts.setVerified(contactId, verified);
    const view = await this.#contactView(contactId);
    this.#events.emit('contact', view);
    return view;
  }

  // ---- chat ----

  async send(contactId: IdentityId, text: string): Promise<ChatMessage> {
    // To someone who has not accepted yet, messages wait in the outbox and go once they accept.
    if (this.#requireContact(contactId).status !== 'waiting') this.sessionFor(contactId);
    return this.#chatService.send(contactId, text);
  }

  history(contactId: IdentityId, options: { before?: number; limit?: number } = {}): Promise<ChatMessage[]> {
    this.#requireContact(contactId);
    return this.#chat.history(contactId, options);
  }

  async markRead(contactId: IdentityId): Promise<void> {
    this.#requireContact(contactId);
    await this.#chatService.markRead(contactId);
    this.#events.emit('contact', await this.#contactView(contactId));
  }

  // ---- files ----

  /** Offers files to a contact (connecting to them if needed); see `transfers` for progress and answers. */
  async sendFiles(contactId: IdentityId, files: readonly OutgoingFile[]): Promise<TransferInfo[]> {
    if (!this.transfers) throw new Error('File transfer is not set up (the Messenger was opened without files).');
    this.#requireContact(contactId);
    this.#requireOpen();
    this.sessionFor(contactId);
    return this.transfers.send(contactId, files);
  }

  /**
   * Connects to a contact ahead of need (the user opened their chat), so the first message, file or call
   * starts on an open path. Only for an accepted contact the relay reports online; otherwise it does nothing
   * (a waiting contact's client ignores our signals; an offline one cannot answer).
   */
  connect(contactId: IdentityId): void {
    if (this.#closed) return;
    const contact = this.#contacts.get(contactId);
    if (!contact || contact.status === 'waiting' || !this.#relayFor(contactId)?.isOnline(contactId)) return;
    this.sessionFor(contactId);
  }

  pathOf(contactId: IdentityId): SessionPath {
    return this.#sessions.get(contactId)?.path ?? 'none';
  }

  /** Which transport carries data to the contact ('tcp' and 'webrtc' are both path 'direct'). */
  routeOf(contactId: IdentityId): SessionRoute {
    return this.#sessions.get(contactId)?.route ?? 'none';
  }

  relayState(): { state: RelayState; url: string | null } {
    for (const [url, client] of this.#relays) if (client.state === 'online') return { state: 'online', url };
    const first = this.#relays.values().next().value;
    return { state: first ? first.state : 'offline', url: first?.url ?? null };
  }

  on<K extends keyof MessengerEventMap>(event: K, listener: (value: MessengerEventMap[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * The contact's session (created on first use, and asked to connect): the hook for file transfer
   * and calls. Its `stream` carries frames of any kind; see core/src/session/README.md.
   */
  sessionFor(contactId: IdentityId): Session {
    // A session made after close would never be closed (nor its relay client).
    this.#requireOpen();
    const existing = this.#sessions.get(contactId);
    if (existing) {
      existing.ensure();
      return existing;
    }
    // A contact still 'waiting' may get a session (file transfers ask for one): it connects once they accept,
    // since until then their client ignores our signals.
    const contact = this.#requireContact(contactId);
    const relay = this.#relayFor(contactId);
    if (!relay) throw new Error('No relay is configured to reach this contact.');
    const session = new Session({
      identity: this.#identity,
      contactId,
      contactKey: contact.key,
      relay,
      ...(this.#o.wrtc !== undefined ? { wrtc: this.#o.wrtc } : {}),
      // The user's servers only, not the relays' TURN: a session's relay fallback is already a reliable,
      // end-to-end-encrypted stream with no real-time need, and file bytes do not belong on a TURN server an
      // operator sized for calls.
      iceServers: this.#o.iceServers ?? [],
      policy: {
        ...(this.#o.directHeadStartMs !== undefined ? { directHeadStartMs: this.#o.directHeadStartMs } : {}),
        ...(this.#o.directStallMs !== undefined ? { directStallMs: this.#o.directStallMs } : {}),
        ...(this.#o.directAttemptTimeoutMs !== undefined
          ? { directAttemptTimeoutMs: this.#o.directAttemptTimeoutMs }
          : {}),
      },
      ...(this.#o.directDisabled || this.#o.relayOnly ? { directDisabled: true } : {}),
      ...(this.#o.SimplePeer ? { SimplePeer: this.#o.SimplePeer } : {}),
      ...(this.#o.streamWindowBytes !== undefined ? { stream: { windowBytes: this.#o.streamWindowBytes } } : {}),
      ...(this.#o.aead ? { aead: this.#o.aead } : {}),
      // Always relay means no address of ours reaches the contact: no listener, no hints.
      ...(this.#o.tcp && !this.#o.relayOnly ? { tcp: this.#o.tcp } : {}),
      logger: this.#log,
    });
    this.#sessions.set(contactId, session);
    session.on('path', (path) => {
      this.#events.emit('path', { contactId, path });
      void this.#emitContact(contactId);
    });
    session.on('activity', () => void this.#emitContact(contactId));
    session.on('error', (error) => this.#events.emit('error', { contactId, message: error.message }));
    this.#chatService.attach(contactId, session);
    this.#yieldToCalls.adopt(session.stream);
    // Attached now, before any frame can arrive: a stream drops frames of a kind nobody listens to.
    if (this.transfers) this.#fileLinks.set(contactId, attachSession(this.transfers, contactId, session));
    session.ensure();
    return session;
  }

  /** Closes calls, transfers (partials are kept), sessions and relays; with `drain`, lets work in flight finish first. */
  close(options: MessengerCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: MessengerCloseOptions): Promise<void> {
    if (options.drain) {
      // Transfers first: their last acks and results are frames the streams must then deliver.
      await this.transfers?.idle();
      // And our acks of what contacts sent last (a transfer's result): closing would cancel the delayed ACK,
      // and a contact draining its own stream (`parley receive --once` after the file) waited it out, 3 s.
      // With a synchronous AEAD (node:crypto, the CLI) the ack is on the socket before the transports close.
      for (const s of this.#sessions.values()) s.stream.ackNow();
      await this.#drainStreams(options.drainTimeoutMs ?? 3000);
    }
    this.#closed = true;
    this.#yieldToCalls.close();
    this.calls.close();
    this.#chatService.close();
    for (const off of this.#fileLinks.values()) off();
    this.#fileLinks.clear();
    await this.transfers?.close();
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
    for (const r of this.#relays.values()) r.close();
    this.#relays.clear();
    this.#events.removeAll();
  }

  // ---- internals ----

  /** Waits (at most `ms`) until every live session's stream has been acknowledged by the peer. */
  async #drainStreams(ms: number): Promise<void> {
    // Chat acks are batched on a zero timer: let pending ones be written first.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const live = [...this.#sessions.values()].filter((s) => s.path !== 'none');
    if (live.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(live.map((s) => s.stream.flushed())),
      new Promise((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  #start(): void {
    for (const url of this.#relayUrls) this.#client(url);
    for (const c of this.#contacts.list()) this.#watch(c.id);
    // Messages left in the outbox by a previous run go as soon as their contact is reachable.
    void this.#chat.contactsWithPending().then((ids) => {
      for (const id of ids)
        if (this.#contacts.get(id)?.status !== 'waiting' && this.#contacts.has(id) && !this.#closed)
          this.sessionFor(id);
    });
    // So do transfers left unfinished (either direction): each side re-offers or says where to resume.
    for (const id of this.transfers?.contactsWithUnfinished() ?? []) {
      if (!this.#contacts.has(id)) continue;
      try {
        this.sessionFor(id);
      } catch (error) {
        this.#log.warn({ err: String(error) }, 'unfinished transfer: contact not reachable');
      }
    }
  }

  #client(url: string): RelayClient {
    let client = this.#relays.get(url);
    if (client) return client;
    client = new RelayClient({
      url,
      signer: relaySignerOf(this.#identity),
      webSocket: this.#o.webSocket,
      logger: this.#log,
      ...(this.#o.mediaLaneWebSocket ? { mediaLane: { webSocket: this.#o.mediaLaneWebSocket } } : {}),
    });
    this.#relays.set(url, client);
    client.on('state', ({ state, error }) =>
      this.#events.emit('relay', error === undefined ? { state, url } : { state, url, error }),
    );
    client.on('presence', ({ id }) => void this.#emitContact(id));
    client.on('signal', ({ from, data }) => this.#onSignal(from, data));
    client.on(
      'mail',
      ({ id, from, body }) => void this.#requests.handleMail(from, body).then(() => client.ackMail([id])),
    );
    client.on('state', ({ state }) => {
      if (state === 'online') void this.#requests.refresh();
    });
    client.start();
    return client;
  }

  /**
   * TURN servers our relays' operators provide (credentials valid now; our own relays first), for the status
   * the settings show. Calls use them besides the user's own (`#callIceServers`).
   */
  relayTurnServers(now: number = Date.now()): IceServer[] {
    const own = this.#relayUrls.flatMap((u) => this.#relays.get(u) ?? []);
    const others = [...this.#relays].filter(([u]) => !this.#relayUrls.includes(u)).map(([, c]) => c);
    return mergeIceServers(
      [],
      [...own, ...others].flatMap((c) => c.turnServers(now)),
    );
  }

  /** Read at every call (and so fresh each time): the user's ICE servers, then the relays' TURN servers. */
  #callIceServers(): IceServer[] {
    return mergeIceServers(this.#o.iceServers ?? [], this.relayTurnServers());
  }

  /** The relay we reach a contact through: one we share, else the contact's first (we connect to it). */
  #relayFor(contactId: string): RelayClient | null {
    const contact = this.#contacts.get(contactId);
    if (!contact) return null;
    const shared = contact.relays.find((u) => this.#relayUrls.includes(u));
    const url = shared ?? contact.relays[0] ?? this.#relayUrls[0];
    return url ? this.#client(url) : null;
  }

  /** Watches a contact's presence with the grant they gave us (none yet: nothing to watch with). */
  #watch(contactId: string): void {
    const grant = this.#contacts.get(contactId)?.grant;
    if (grant) this.#relayFor(contactId)?.subscribe([grant]);
  }

  /** The relay to leave mail on for someone reachable at `urls`: one we share, else their first. */
  #mailRelay(urls: readonly string[]): RelayClient {
    const url = urls.find((u) => this.#relayUrls.includes(u)) ?? urls[0] ?? this.#relayUrls[0];
    if (!url) throw new RelayError('closed', 'No relay is configured to reach this person.');
    return this.#client(url);
  }

  #onSignal(from: string, data: Record<string, unknown>): void {
    if (this.#closed) return;
    // Only contacts may reach us; the relay authenticated `from`, the session checks signatures with the stored key.
    // Someone we asked to connect ('waiting') may already have accepted: their signals are signed like anyone's.
    if (!this.#contacts.has(from)) {
      this.#log.debug({}, 'signal from a stranger dropped');
      return;
    }
    if (isCallSignal(data)) {
      this.#callSignals.emit('signal', { from, data });
      return;
    }
    if (typeof data.kind !== 'string' || !SESSION_SIGNAL_KINDS.has(data.kind)) return;
    this.sessionFor(from).handleSignal(data);
  }

  /** A contact was accepted (or got a new grant): show it, and send what waited in the outbox for them. */
  async #onContactChanged(contactId: string): Promise<void> {
    await this.#emitContact(contactId);
    const c = this.#contacts.get(contactId);
    if (!c || c.status === 'waiting' || this.#closed) return;
    const session = this.#sessions.get(contactId);
    if (session) session.ensure();
    else if ((await this.#chat.contactsWithPending()).includes(contactId)) this.sessionFor(contactId);
  }

  #onChatMessage(message: ChatMessage): void {
    this.#events.emit('message', message);
    if (message.direction === 'in') void this.#emitContact(message.contactId);
  }

  async #emitContact(contactId: string): Promise<void> {
    if (!this.#contacts.has(contactId) || this.#closed) return;
    this.#events.emit('contact', await this.#contactView(contactId));
  }

  async #contactView(contactId: string): Promise<Contact> {
    const c = this.#requireContact(contactId);
    const summary = await this.#chat.summary(contactId);
    const relay = this.#relayFor(contactId);
    return {
      id: c.id,
      name: c.name,
      relays: c.relays,
      addedAt: c.addedAt,
      online: relay?.isOnline(contactId) ?? false,
      verified: c.verified,
      path: this.pathOf(contactId),
      activity: this.#sessions.get(contactId)?.activity ?? 'idle',
      unread: summary.unread,
      lastMessageAt: summary.lastMessageAt,
      status: c.status ?? 'accepted',
    };
  }

  #requireOpen(): void {
    if (this.#closed) throw new Error('The Messenger is closed.');
  }

  #requireContact(contactId: string) {
    const c = this.#contacts.get(contactId);
    if (!c) throw new Error(`Unknown contact ${String(contactId).slice(0, 12)}.`);
    return c;
  }
}
