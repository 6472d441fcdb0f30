// One Session per contact. It owns the contact's reliable stream and whichever transports currently
// exist, and decides which one carries data:
//   - the leader (lower identity id) makes every direct attempt and opens every relay channel, so
//     there is no glare; the follower asks it to ('session' signal) when it wants connectivity or
//     lost a transport;
//   - direct gets a head start (directHeadStartMs, 3 s); the relay is opened at its end, or sooner
//     when the attempt is seen stalling: offer and answer applied but no connection within
//     directStallMs (on a reachable path ICE completes in a few round trips), or the attempt failed;
//   - data moves to direct as soon as it is verified; when direct drops, data moves to the relay at
//     once (opened on the spot if it was not open) and a fresh direct attempt is scheduled with backoff;
//   - the stream re-sends across every switch, so nothing is lost or duplicated.
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { SessionActivity, SessionPath } from '../api.js';
import type { AeadEngine } from '../crypto/aead-engine.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import { silentLogger, type Logger } from '../platform/types.js';
import type { Role } from '../crypto/roles.js';
import type { RelayChannelSocket } from '../relay/channel.js';
import type { RelayClient } from '../relay/client.js';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
import { systemClock, type Clock, type TimerId } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { randomId } from '../util/ids.js';
import type { IceServer, SimplePeerConstructor } from '../platform/rtc.js';
import { DirectAttempt } from './direct-attempt.js';
import { SessionError } from './errors.js';
import { RelayTransport } from './relay-transport.js';
import { SignalKey } from './signal-box.js';
import { KEY_SIGNAL, SignalSigner, SignalVerifier } from './signal-envelope.js';
import {
  connectTcp,
  TcpAccept,
  TcpSignalSchema,
  type TcpHint,
  type TcpListener,
  type TcpPlatform,
  type TcpSignal,
} from './tcp-path.js';
import { PeerSignalSchema, type PeerSignal, type RtcSignal } from './signals.js';
import { ReliableStream, type ReliableStreamOptions } from './stream.js';
import type { FrameTransport } from './transport.js';

/** The session's timing policy. Every default lives here. */
export interface SessionPolicy {
  /** How long direct has alone before the relay is opened. */
  directHeadStartMs: number;
  /** Offer/answer applied but not connected after this long: open the relay now. */
  directStallMs: number;
  /** A direct attempt that has not connected after this long is abandoned (and retried). */
  directAttemptTimeoutMs: number;
  /** ICE `disconnected` for longer than this is a drop. */
  disconnectGraceMs: number;
  /** After a refusal (tampering, impersonation) nothing is tried for this long. */
  refusalCooldownMs: number;
  /** The follower asks the leader to connect at most this often (a lost transport is news and goes at once). */
  askLeaderEveryMs: number;
  /** A direct connection that lived this long resets the direct retry backoff when it drops. */
  stableDirectMs: number;
  /** Delays between direct attempts after failures. */
  directBackoff: BackoffOptions;
  /** Delays between relay channel attempts after failures. */
  relayBackoff: BackoffOptions;
  /** TCP path: connecting plus the signed handshake must finish within this, or the connection is dropped. */
  tcpHandshakeMs: number;
  /** TCP path: the follower listens this long for a connection that verifies; the leader waits this long for hints. */
  tcpListenMs: number;
  /** Delays between TCP attempts after failures (a firewall that drops TCP will not change in a second). */
  tcpBackoff: BackoffOptions;
  /**
   * The leader's WebRTC attempt waits this long for a TCP attempt under way (at once when TCP fails first).
   * On a LAN TCP verifies within milliseconds and no peer connection is made at all: libwebrtc's threads,
   * ICE and DTLS would cost CPU the whole transfer for a fallback the relay provides anyway.
   */
  tcpHeadStartMs: number;
}

export const DEFAULT_SESSION_POLICY: Readonly<SessionPolicy> = Object.freeze({
  directHeadStartMs: 3000,
  directStallMs: 1000,
  directAttemptTimeoutMs: 20_000,
  disconnectGraceMs: 2500,
  refusalCooldownMs: 60_000,
  askLeaderEveryMs: 1000,
  stableDirectMs: 30_000,
  directBackoff: { initialMs: 500, maxMs: 30_000 },
  relayBackoff: { initialMs: 250, maxMs: 10_000 },
  tcpHandshakeMs: 5000,
  tcpListenMs: 15_000,
  tcpBackoff: { initialMs: 5000, maxMs: 60_000 },
  tcpHeadStartMs: 1000,
});

/** Which transport carries data: the session's path, told apart by kind ('tcp' and 'webrtc' are both 'direct'). */
export type SessionRoute = 'tcp' | 'webrtc' | 'relay' | 'none';

/** What a session needs from a direct attempt (DirectAttempt; fakes in tests). */
export interface DirectAttemptLike {
  readonly sid: string;
  /** Resolves with the verified transport; rejects (SessionError) when the attempt ends without one. */
  readonly ready: Promise<FrameTransport>;
  /** 'described': offer and answer are applied, from here ICE alone decides (stall detection). */
  on(event: 'described', listener: () => void): () => void;
  onRemoteSignal(msg: RtcSignal): void;
  destroy(reason?: string): void;
}

export interface AttemptSpec {
  sid: string;
  role: Role;
  /** Sends a signal to the contact through the relay. */
  sendSignal(data: Record<string, unknown>): Promise<void>;
}

export interface RelayTransportSpec {
  socket: RelayChannelSocket;
  sid: string;
  role: Role;
}

/** What a session needs from the relay client. */
export type SessionRelay = Pick<RelayClient, 'state' | 'isOnline' | 'signal' | 'openChannel' | 'on'>;

export interface SessionOptions {
  identity: IdentityKeyPair;
  contactId: string;
  contactKey: PublicIdentityKey;
  relay: SessionRelay;
  wrtc?: unknown;
  iceServers?: IceServer[];
  /** Overrides of DEFAULT_SESSION_POLICY. */
  policy?: Partial<SessionPolicy>;
  /** Disable direct attempts altogether (relay only). */
  directDisabled?: boolean;
  stream?: ReliableStreamOptions;
  SimplePeer?: SimplePeerConstructor;
  /** AES-GCM implementation for relay records; default WebCrypto. */
  aead?: AeadEngine;
  /** Sockets for the direct TCP path (Node only); absent: no TCP path (browsers, relay only). */
  tcp?: TcpPlatform;
  logger?: Logger;
  /** Time and timers (default: the system's). */
  clock?: Clock;
  /** Makes direct attempts (default: a WebRTC DirectAttempt). */
  createAttempt?: (spec: AttemptSpec) => DirectAttemptLike;
  /** Runs the secure-channel handshake over a paired relay channel (default: RelayTransport.establish). */
  establishRelay?: (spec: RelayTransportSpec) => Promise<FrameTransport>;
}

export interface SessionEvents {
  path: SessionPath;
  /** Which transport carries data (see SessionRoute). */
  route: SessionRoute;
  activity: SessionActivity;
  /** A refusal (tampering, impersonation) or a failure worth showing. */
  error: SessionError;
}

export class Session {
  readonly contactId: string;
  /** The reliable ordered stream to this contact. See README.md in this folder. */
  readonly stream: ReliableStream;
  readonly #o: SessionOptions;
  readonly #policy: Readonly<SessionPolicy>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #relay: SessionRelay;
  readonly #events = new Emitter<SessionEvents>();
  readonly #leader: boolean;
  readonly #directBackoff: Backoff;
  readonly #relayBackoff: Backoff;
  readonly #createAttempt: (spec: AttemptSpec) => DirectAttemptLike;
  readonly #establishRelay: (spec: RelayTransportSpec) => Promise<FrameTransport>;
  readonly #offs: Array<() => void> = [];
  readonly #signer: SignalSigner;
  readonly #verifier: SignalVerifier;
  /** Inbound signals are verified one at a time, in arrival order. */
  #inbound: Promise<void> = Promise.resolve();
  #versionReported = false;
  #forgeryReportedUntil = 0;

  #wanted = false;
  #closed = false;
  #path: SessionPath = 'none';
  #refusedUntil = 0;

  #attempt: DirectAttemptLike | null = null;
  #direct: FrameTransport | null = null;
  #directRetryTimer: TimerId | undefined;
  #attemptTimer: TimerId | undefined;
  #stallTimer: TimerId | undefined;
  #headStartTimer: TimerId | undefined;
  /** Leader: the WebRTC attempt waits for the TCP attempt under way (policy.tcpHeadStartMs). */
  #tcpHeadStartTimer: TimerId | undefined;

  #relayTransport: FrameTransport | null = null;
  #relayOpening: string | null = null;

  /** The verified TCP transport (ranked above the data channel). */
  #tcp: FrameTransport | null = null;
  /** The TCP attempt under way (leader: waiting for hints or connecting; follower: listening). */
  #tcpSid: string | null = null;
  #tcpAccept: TcpAccept | null = null;
  #tcpHints: {
    sid: string;
    resolve: (hints: TcpHint[]) => void;
    reject: (error: Error) => void;
    /** No answer yet (then connecting). */
    waiting: boolean;
  } | null = null;
  /** The epoch (process start) of the contact's newest verified signal. */
  #contactEpoch: number | null = null;
  #tcpHintsTimer: TimerId | undefined;
  #tcpRetryTimer: TimerId | undefined;
  /** The contact answered a TCP attempt once: it speaks the TCP path, so failures are retried. */
  #tcpAnswered = false;
  readonly #tcpBackoff: Backoff;
  #route: SessionRoute = 'none';
  #relayRetryTimer: TimerId | undefined;
  #lastStartSent = -Infinity;
  #startTimer: TimerId | undefined;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.#policy = { ...DEFAULT_SESSION_POLICY, ...options.policy };
    this.#clock = options.clock ?? systemClock;
    this.contactId = options.contactId;
    this.#relay = options.relay;
    this.#log = options.logger ?? silentLogger;
    const signalKey = SignalKey.generate();
    signalKey.catch(() => {}); // a failure surfaces when a signal is sent or opened
    this.#signer = new SignalSigner(options.identity, options.contactId, this.#clock.now(), signalKey, (envelope) =>
      this.#relay.signal(this.contactId, envelope),
    );
    this.#verifier = new SignalVerifier(options.contactId, options.contactKey, options.identity.id, signalKey);
    this.#directBackoff = new Backoff(this.#policy.directBackoff);
    this.#relayBackoff = new Backoff(this.#policy.relayBackoff);
    this.#tcpBackoff = new Backoff(this.#policy.tcpBackoff);
    this.#createAttempt = options.createAttempt ?? ((spec) => this.#webRtcAttempt(spec));
    this.#establishRelay =
      options.establishRelay ??
      ((spec) =>
        RelayTransport.establish({
          socket: spec.socket,
          identity: options.identity,
          peerKey: options.contactKey,
          peerId: options.contactId,
          sessionId: spec.sid,
          role: spec.role,
          ...(options.aead ? { aead: options.aead } : {}),
        }));
    this.#leader = options.identity.id < options.contactId;
    this.stream = new ReliableStream({ logger: this.#log, ...options.stream });
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'session listener threw');
    this.#offs.push(
      this.#relay.on('state', ({ state }) => {
        if (state === 'online') this.#reviveSoon();
      }),
      this.#relay.on('presence', ({ id, online }) => {
        if (id === this.contactId && online) this.#reviveSoon();
      }),
    );
  }

  get path(): SessionPath {
    return this.#path;
  }

  /** Which transport carries data: 'tcp' and 'webrtc' are both path 'direct'. */
  get route(): SessionRoute {
    return this.#route;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  on<K extends keyof SessionEvents>(event: K, listener: (v: SessionEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Asks for connectivity to the contact (idempotent): call when there is something to send. */
  /** See SessionActivity. */
  get activity(): SessionActivity {
    if (this.#path !== 'none') return 'connected';
    if (this.#closed || this.#clock.now() < this.#refusedUntil) return 'idle';
    if (this.#attempt || this.#tcpHeadStartTimer !== undefined) return 'direct';
    if (this.#relayOpening) return 'relay';
    return this.#wanted ? 'waiting' : 'idle';
  }

  #lastActivity: SessionActivity = 'idle';
  /** Emits 'activity' when what the session is doing changed (called after each change of its parts). */
  #noteActivity(): void {
    const now = this.activity;
    if (now === this.#lastActivity) return;
    this.#lastActivity = now;
    this.#events.emit('activity', now);
  }

  ensure(): void {
    if (this.#closed || this.#clock.now() < this.#refusedUntil) return;
    this.#wanted = true;
    queueMicrotask(() => this.#noteActivity());
    if (this.#direct || this.#relayTransport || this.#tcp) return;
    if (this.#leader) {
      this.#startTcp();
      if (!this.#attempt && this.#directRetryTimer === undefined) this.#startDirectAfterTcp();
      if (this.#o.directDisabled) this.#openRelay();
      else if (!this.#relayTransport && this.#headStartTimer === undefined && !this.#relayOpening) {
        this.#headStartTimer = this.#clock.setTimeout(() => {
          this.#headStartTimer = undefined;
          if (!this.#direct && !this.#tcp) this.#openRelay();
        }, this.#policy.directHeadStartMs);
      }
    } else {
      this.#askLeader(false);
    }
  }

  /**
   * Routes a relay signal from this contact. The relay authenticated the sender's connection, not the
   * signal: only signals the contact signed for this pair, newer than every one accepted before, count
   * (signal-envelope.ts); the rest are dropped without touching any transport.
   */
  handleSignal(data: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#inbound = this.#inbound.then(async () => {
      const opened = await this.#verifier
        .open(data)
        .catch((error: unknown) => ({ ok: false as const, reason: 'malformed' as const, message: String(error) }));
      if (this.#closed) return;
      if ('key' in opened && opened.key !== undefined) this.#signer.learnPeerKey(opened.key);
      if ('needsOurKey' in opened && opened.needsOurKey) void this.#signer.sendKey().catch(() => {});
      if (!opened.ok) {
        if (opened.reason === 'version') {
          this.#log.warn({ contact: this.contactId, reason: opened.message }, 'session signal of another version');
          if (!this.#versionReported) {
            this.#versionReported = true;
            this.#events.emit('error', new SessionError('version', opened.message));
          }
        } else {
          this.#log.warn({ contact: this.contactId, reason: opened.message }, 'session signal refused');
          // Worth showing (the relay or someone else is speaking for the contact), at most once per cooldown;
          // it tears nothing down, or a forger could do exactly that.
          const now = this.#clock.now();
          if (opened.reason === 'signature' && now >= this.#forgeryReportedUntil) {
            this.#forgeryReportedUntil = now + this.#policy.refusalCooldownMs;
            this.#events.emit(
              'error',
              new SessionError('impersonation', `${opened.message}: the relay may be tampering; it was ignored`),
            );
          }
        }
        return;
      }
      this.#noteEpoch(data['epoch']);
      if (opened.data.kind === KEY_SIGNAL.kind) return;
      if (opened.data.kind === 'tcp') {
        const tcp = TcpSignalSchema.safeParse(opened.data);
        if (tcp.success) this.#onTcpSignal(tcp.data);
        else this.#log.warn({ contact: this.contactId }, 'malformed TCP signal dropped');
        return;
      }
      const parsed = PeerSignalSchema.safeParse(opened.data);
      if (!parsed.success) {
        this.#log.warn({ contact: this.contactId }, 'malformed session signal dropped');
        return;
      }
      this.#onSignal(parsed.data);
    });
  }

  /**
   * Signs and numbers a signal to the contact (signal-envelope.ts) and sends it through the relay; SDP and
   * ICE candidates (kind 'rtc') and TCP hints (kind 'tcp') are sealed to the contact, so the relay never
   * reads our addresses.
   */
  #send(data: Record<string, unknown>): Promise<void> {
    return this.#signer.send(data, data.kind === 'rtc' || data.kind === 'tcp');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.#clearTimers();
    this.#attempt?.destroy('session closed');
    this.#tcpAccept?.cancel('session closed');
    this.#tcp?.close('session closed');
    this.#direct?.close('session closed');
    this.#relayTransport?.close('session closed');
    this.stream.close();
    this.#setPath('none');
    this.#events.removeAll();
  }

  // ---- signals ----

  #onSignal(msg: PeerSignal): void {
    if (this.#clock.now() < this.#refusedUntil) return;
    switch (msg.kind) {
      case 'session':
        if (!this.#leader) return;
        // The follower lost a transport we still believe in: ours is dead too, replace it.
        if (!msg.pending) {
          if (!msg.direct && this.#direct) this.#direct.close('the contact lost the direct connection');
          if (!msg.relay && this.#relayTransport && !msg.direct)
            this.#relayTransport.close('the contact lost the relay channel');
          // Nothing carries data and the contact has no attempt running, so ours (or the retry we wait
          // for) talks to nobody: its offer went out before the contact knew us (one side added the
          // other first) and was dropped. Start over at once rather than wait out the attempt timeout
          // or the backoff (this kept a new contact on "Connecting…" for 11–24 s).
          const idle = !msg.direct && !this.#direct && !this.#relayTransport && !this.#tcp;
          if (idle && (this.#attempt || this.#directRetryTimer !== undefined)) this.#restartDirect();
        }
        this.#wanted = true;
        this.ensure();
        return;
      case 'relay':
        if (this.#leader) return; // only the leader opens relay channels
        void this.#acceptRelay(msg.sid);
        return;
      case 'rtc':
        this.#onRtc(msg);
        return;
    }
  }

  #onRtc(msg: RtcSignal): void {
    if (this.#attempt?.sid === msg.sid) {
      this.#attempt.onRemoteSignal(msg);
      return;
    }
    // Only the leader's offers start attempts; stray candidates of old attempts are ignored.
    if (this.#leader || msg.signal.type !== 'offer' || this.#o.directDisabled) return;
    this.#wanted = true;
    this.#attempt?.destroy('superseded by a new offer');
    this.#direct?.close('superseded by a new offer');
    const attempt = this.#newAttempt(msg.sid, 'responder');
    attempt.onRemoteSignal(msg);
  }

  #askLeader(lost: boolean): void {
    if (this.#closed || this.#relay.state !== 'online' || !this.#relay.isOnline(this.contactId)) return;
    const now = this.#clock.now();
    // Rate limit (a lost transport is news and goes at once).
    if (!lost && now - this.#lastStartSent < this.#policy.askLeaderEveryMs) {
      if (this.#startTimer === undefined) {
        this.#startTimer = this.#clock.setTimeout(() => {
          this.#startTimer = undefined;
          if (!this.#direct && !this.#relayTransport) this.#askLeader(false);
        }, this.#policy.askLeaderEveryMs);
      }
      return;
    }
    this.#lastStartSent = now;
    void this.#send({
      kind: 'session',
      op: 'start',
      direct: this.#direct !== null,
      relay: this.#relayTransport !== null,
      pending: this.#attempt !== null || this.#relayOpening !== null,
    }).catch((error: unknown) => this.#log.debug({ err: String(error) }, 'could not ask the contact to connect'));
  }

  // ---- direct ----

  #startDirect(): void {
    if (this.#closed || this.#o.directDisabled || this.#attempt || this.#direct) return;
    if (!this.#relay.isOnline(this.contactId)) return; // revived by presence
    const attempt = this.#newAttempt(randomId(16), 'initiator');
    this.#attemptTimer = this.#clock.setTimeout(
      () => attempt.destroy('the direct attempt timed out'),
      this.#policy.directAttemptTimeoutMs,
    );
    attempt.on('described', () => {
      this.#clock.clearTimeout(this.#stallTimer);
      this.#stallTimer = this.#clock.setTimeout(() => {
        if (this.#attempt === attempt && !this.#direct && !this.#tcp) {
          this.#log.info({ contact: this.contactId }, 'direct attempt stalled; opening the relay');
          this.#openRelay();
        }
      }, this.#policy.directStallMs);
    });
  }

  /** Leader: WebRTC now, or after the head start of a TCP attempt under way (see policy.tcpHeadStartMs). */
  #startDirectAfterTcp(): void {
    if (this.#tcpSid === null || this.#policy.tcpHeadStartMs <= 0) {
      this.#startDirect();
      return;
    }
    if (this.#tcpHeadStartTimer !== undefined || this.#o.directDisabled) return;
    this.#tcpHeadStartTimer = this.#clock.setTimeout(() => {
      this.#tcpHeadStartTimer = undefined;
      if (!this.#tcp && !this.#attempt && this.#directRetryTimer === undefined) this.#startDirect();
      this.#noteActivity();
    }, this.#policy.tcpHeadStartMs);
  }

  /** The TCP attempt settled: a WebRTC attempt waiting for it starts now unless TCP carries the session. */
  #endTcpHeadStart(): void {
    if (this.#tcpHeadStartTimer === undefined) return;
    this.#clock.clearTimeout(this.#tcpHeadStartTimer);
    this.#tcpHeadStartTimer = undefined;
    if (!this.#tcp && !this.#closed && !this.#attempt && this.#directRetryTimer === undefined) this.#startDirect();
    this.#noteActivity();
  }

  #restartDirect(): void {
    const stale = this.#attempt;
    this.#attempt = null;
    this.#clock.clearTimeout(this.#attemptTimer);
    this.#clock.clearTimeout(this.#stallTimer);
    this.#clock.clearTimeout(this.#directRetryTimer);
    this.#directRetryTimer = undefined;
    stale?.destroy('the contact was not part of this attempt');
    this.#log.info({ contact: this.contactId }, 'the contact has no direct attempt running; starting a new one');
    this.#startDirect();
  }

  #webRtcAttempt(spec: AttemptSpec): DirectAttemptLike {
    return new DirectAttempt({
      ...spec,
      identity: this.#o.identity,
      peerId: this.contactId,
      peerKey: this.#o.contactKey,
      ...(this.#o.wrtc !== undefined ? { wrtc: this.#o.wrtc } : {}),
      iceServers: this.#o.iceServers ?? [],
      disconnectGraceMs: this.#policy.disconnectGraceMs,
      ...(this.#o.SimplePeer ? { SimplePeer: this.#o.SimplePeer } : {}),
      logger: this.#log,
    });
  }

  #newAttempt(sid: string, role: Role): DirectAttemptLike {
    const attempt = this.#createAttempt({ sid, role, sendSignal: (data) => this.#send(data) });
    this.#attempt = attempt;
    attempt.ready
      .then(
        (transport) => this.#onDirectReady(attempt, transport),
        (error: unknown) => this.#onAttemptFailed(attempt, error),
      )
      .finally(() => this.#noteActivity());
    queueMicrotask(() => this.#noteActivity());
    return attempt;
  }

  #onDirectReady(attempt: DirectAttemptLike, transport: FrameTransport): void {
    if (this.#attempt === attempt) this.#attempt = null;
    this.#clock.clearTimeout(this.#attemptTimer);
    this.#clock.clearTimeout(this.#stallTimer);
    if (this.#closed) {
      transport.close('session closed');
      return;
    }
    this.#direct?.close('replaced by a newer direct connection');
    this.#direct = transport;
    this.#clock.clearTimeout(this.#headStartTimer);
    this.#headStartTimer = undefined;
    const connectedAt = this.#clock.now();
    transport.onClose((reason) => this.#onDirectLost(transport, reason, this.#clock.now() - connectedAt));
    // A verified TCP connection stays ranked above the data channel, which waits as its fallback.
    this.stream.attach(transport, { current: this.#tcp === null });
    this.#setPath('direct');
  }

  #onAttemptFailed(attempt: DirectAttemptLike, error: unknown): void {
    // A replaced attempt (restarted, superseded, refused) fails quietly: its timers are not its own any more.
    if (this.#attempt !== attempt) return;
    this.#attempt = null;
    this.#clock.clearTimeout(this.#attemptTimer);
    this.#clock.clearTimeout(this.#stallTimer);
    if (this.#closed) return;
    const e = error instanceof SessionError ? error : new SessionError('failed', String(error));
    if (e.refusal) {
      this.#refuse(e);
      return;
    }
    this.#log.info({ contact: this.contactId, reason: e.message }, 'direct attempt failed');
    if (this.#direct) return;
    if (this.#tcp) {
      if (this.#leader) this.#scheduleDirectRetry();
      return;
    }
    if (this.#leader) {
      this.#openRelay();
      this.#scheduleDirectRetry();
    } else {
      this.#askLeader(true);
    }
  }

  #onDirectLost(transport: FrameTransport, reason: string, livedMs: number): void {
    if (this.#direct !== transport) return;
    this.#direct = null;
    if (this.#closed) return;
    this.#log.info({ contact: this.contactId, reason }, 'direct connection lost');
    if (livedMs > this.#policy.stableDirectMs) this.#directBackoff.reset();
    if (this.#tcp) {
      // TCP carries data; the data channel was only its fallback.
      this.#setPath('direct');
      if (this.#leader) this.#scheduleDirectRetry();
      return;
    }
    if (this.#relayTransport) {
      this.stream.setCurrent(this.#relayTransport);
      this.#setPath('relay');
    } else {
      this.#setPath('none');
    }
    if (this.#leader) {
      this.#openRelay();
      this.#scheduleDirectRetry();
    } else {
      this.#askLeader(true);
    }
  }

  #scheduleDirectRetry(): void {
    if (this.#o.directDisabled || this.#directRetryTimer !== undefined || this.#closed) return;
    this.#directRetryTimer = this.#clock.setTimeout(() => {
      this.#directRetryTimer = undefined;
      if (!this.#direct && !this.#attempt) this.#startDirect();
    }, this.#directBackoff.next());
  }

  // ---- relay ----

  #openRelay(): void {
    if (this.#closed || !this.#leader || this.#relayTransport || this.#relayOpening) return;
    this.#clock.clearTimeout(this.#headStartTimer);
    this.#headStartTimer = undefined;
    if (this.#relay.state !== 'online' || !this.#relay.isOnline(this.contactId)) return; // revived by state/presence
    const sid = randomId(16);
    this.#relayOpening = sid;
    const opening = (async () => {
      await this.#send({ kind: 'relay', sid });
      const socket = await this.#relay.openChannel(this.contactId, sid);
      return this.#establishRelay({ socket, sid, role: 'initiator' });
    })();
    opening
      .then(
        (t) => this.#onRelayReady(sid, t),
        (error: unknown) => this.#onRelayFailed(sid, error),
      )
      .finally(() => this.#noteActivity());
    this.#noteActivity();
  }

  async #acceptRelay(sid: string): Promise<void> {
    this.#relayOpening = sid;
    this.#noteActivity();
    try {
      const socket = await this.#relay.openChannel(this.contactId, sid);
      const t = await this.#establishRelay({ socket, sid, role: 'responder' });
      this.#onRelayReady(sid, t);
    } catch (error) {
      this.#onRelayFailed(sid, error);
    }
    this.#noteActivity();
  }

  #onRelayReady(sid: string, transport: FrameTransport): void {
    if (this.#relayOpening === sid) this.#relayOpening = null;
    if (this.#closed) {
      transport.close('session closed');
      return;
    }
    this.#relayBackoff.reset();
    const old = this.#relayTransport;
    this.#relayTransport = transport;
    old?.close('replaced by a newer relay channel');
    transport.onClose((reason) => this.#onRelayLost(transport, reason));
    this.stream.attach(transport, { current: this.#direct === null && this.#tcp === null });
    if (!this.#direct && !this.#tcp) this.#setPath('relay');
  }

  #onRelayFailed(sid: string, error: unknown): void {
    if (this.#relayOpening === sid) this.#relayOpening = null;
    if (this.#closed) return;
    const message = (error as Error).message ?? String(error);
    const code = (error as { code?: unknown }).code;
    if (code === 'bad-signature' || code === 'wrong-key') {
      this.#refuse(
        new SessionError('impersonation', `the relay channel handshake is not signed by the contact's key: ${message}`),
      );
      return;
    }
    this.#log.info({ contact: this.contactId, reason: message }, 'relay channel failed');
    if (this.#leader && !this.#direct && !this.#tcp && this.#wanted) this.#scheduleRelayRetry();
  }

  #onRelayLost(transport: FrameTransport, reason: string): void {
    if (this.#relayTransport !== transport) return;
    this.#relayTransport = null;
    if (this.#closed) return;
    this.#log.info({ contact: this.contactId, reason }, 'relay channel lost');
    if (this.#direct || this.#tcp) {
      this.#noteRoute();
      return;
    }
    this.#setPath('none');
    if (this.#leader) this.#scheduleRelayRetry();
    else this.#askLeader(true);
  }

  #scheduleRelayRetry(): void {
    if (this.#relayRetryTimer !== undefined || this.#closed) return;
    this.#relayRetryTimer = this.#clock.setTimeout(() => {
      this.#relayRetryTimer = undefined;
      if (!this.#direct && !this.#tcp && !this.#relayTransport) this.#openRelay();
    }, this.#relayBackoff.next());
  }

  /** The relay came back or the contact came online: pick up where we stopped. */
  #reviveSoon(): void {
    if (!this.#wanted || this.#closed) return;
    queueMicrotask(() => {
      if (this.#closed) return;
      if (this.#leader && !this.#tcp) this.#startTcp();
      if (this.#direct || this.#tcp) return;
      if (this.#leader) {
        if (!this.#attempt && this.#directRetryTimer === undefined) this.#startDirectAfterTcp();
        // Something was already tried and failed: do not wait for a head start again.
        if (!this.#relayTransport && (this.#headStartTimer === undefined || this.#directBackoff.attempt > 0))
          this.#openRelay();
      } else if (!this.#relayTransport) {
        this.#askLeader(true);
      }
    });
  }

  #refuse(error: SessionError): void {
    this.#log.warn({ contact: this.contactId, code: error.code, reason: error.message }, 'session refused');
    this.#refusedUntil = this.#clock.now() + this.#policy.refusalCooldownMs;
    this.#clearTimers();
    this.#attempt?.destroy('session refused');
    this.#attempt = null;
    this.#tcpAccept?.cancel('session refused');
    this.#tcpSid = null;
    this.#tcp?.close('session refused');
    this.#direct?.close('session refused');
    this.#relayTransport?.close('session refused');
    this.#setPath('none');
    this.#events.emit('error', error);
  }

  #clearTimers(): void {
    for (const t of [
      this.#directRetryTimer,
      this.#attemptTimer,
      this.#stallTimer,
      this.#headStartTimer,
      this.#relayRetryTimer,
      this.#startTimer,
      this.#tcpRetryTimer,
      this.#tcpHintsTimer,
      this.#tcpHeadStartTimer,
    ])
      this.#clock.clearTimeout(t);
    this.#tcpRetryTimer = this.#tcpHintsTimer = this.#tcpHeadStartTimer = undefined;
    this.#directRetryTimer =
      this.#attemptTimer =
      this.#stallTimer =
      this.#headStartTimer =
      this.#relayRetryTimer =
      this.#startTimer =
        undefined;
  }

  #setPath(path: SessionPath): void {
    if (this.#path !== path) {
      this.#path = path;
      this.#events.emit('path', path);
      this.#noteActivity();
    }
    this.#noteRoute();
  }

  #noteRoute(): void {
    const route: SessionRoute =
      this.#path === 'none'
        ? 'none'
        : this.#tcp
          ? 'tcp'
          : this.#direct
            ? 'webrtc'
            : this.#relayTransport
              ? 'relay'
              : 'none';
    if (route === this.#route) return;
    this.#route = route;
    this.#events.emit('route', route);
  }

  // ---- TCP ----

  #tcpOptions(sid: string) {
    return {
      identity: this.#o.identity,
      peerKey: this.#o.contactKey,
      peerId: this.contactId,
      sid,
      handshakeTimeoutMs: this.#policy.tcpHandshakeMs,
      ...(this.#o.aead ? { aead: this.#o.aead } : {}),
    };
  }

  /** Leader: asks the contact for TCP hints, then races them (alongside the WebRTC attempt). */
  #startTcp(): void {
    const platform = this.#o.tcp;
    if (!platform || !this.#leader || this.#closed || this.#tcp || this.#tcpSid !== null) return;
    if (this.#relay.state !== 'online' || !this.#relay.isOnline(this.contactId)) return; // revived by presence
    this.#clock.clearTimeout(this.#tcpRetryTimer);
    this.#tcpRetryTimer = undefined;
    const sid = randomId(16);
    this.#tcpSid = sid;
    const hints = new Promise<TcpHint[]>((resolve, reject) => {
      this.#tcpHints = { sid, resolve, reject, waiting: true };
      this.#tcpHintsTimer = this.#clock.setTimeout(
        () => reject(new Error('the contact sent no TCP hints (it may not speak the TCP path)')),
        this.#policy.tcpListenMs,
      );
    });
    void (async () => {
      // Both at once: the want can wait long to be sent (held until the contact's key is known) while the
      // hint deadline or a restart ends the wait; awaited one after the other, a rejection of `hints` before
      // the want went out was unhandled and ended the process.
      const [, got] = await Promise.all([this.#send({ kind: 'tcp', op: 'want', sid }), hints]);
      this.#tcpAnswered = true;
      return connectTcp(platform, got, this.#tcpOptions(sid));
    })()
      .finally(() => {
        if (this.#tcpHints?.sid !== sid) return; // superseded: the timer is a newer attempt's
        this.#tcpHints = null;
        this.#clock.clearTimeout(this.#tcpHintsTimer);
      })
      .then(
        (t) => this.#onTcpReady(sid, t),
        (error: unknown) => this.#onTcpFailed(sid, error),
      );
  }

  /**
   * A verified signal's epoch: a newer one than before means the contact's process started afresh (a restarted
   * `parley receive`). If it spoke the TCP path, the leader tries TCP at once instead of after the backoff
   * of the connection it lost (or the 15 s wait for hints from the process that is gone), which left the
   * rest of a transfer on WebRTC or the relay.
   */
  #noteEpoch(epoch: unknown): void {
    if (typeof epoch !== 'number') return;
    const before = this.#contactEpoch;
    if (before !== null && epoch <= before) return;
    this.#contactEpoch = epoch;
    if (before !== null && this.#leader && this.#tcpAnswered && !this.#tcp) this.#restartTcp();
  }

  /**
   * Leader: a TCP attempt now. One under way concerns a process that is gone, so it is dropped: waiting for
   * its hints, or dialling its old address (a dial to a port nobody listens on any more, or one a firewall
   * drops, would only end at its connect timeout, and the retry after it at the backoff's delay). A dial that
   * completes anyway is closed as superseded (#onTcpReady).
   */
  #restartTcp(): void {
    const waiting = this.#tcpHints;
    if (waiting?.waiting) {
      this.#clock.clearTimeout(this.#tcpHintsTimer);
      waiting.reject(new Error('superseded: the contact started afresh'));
    }
    this.#tcpHints = null;
    this.#tcpSid = null;
    this.#startTcp();
  }

  #onTcpSignal(msg: TcpSignal): void {
    if (msg.op === 'hints' || msg.op === 'none') {
      if (!this.#leader || this.#tcpHints?.sid !== msg.sid) return;
      this.#tcpHints.waiting = false;
      if (msg.op === 'hints') this.#tcpHints.resolve(msg.hints);
      else this.#tcpHints.reject(new Error('the contact does not listen for the TCP path (relay only, or no sockets)'));
      return;
    }
    // 'want': only the leader starts TCP attempts. Without sockets (or relay only) we say so at once, so the
    // leader does not wait out its hint deadline for nothing.
    const platform = this.#o.tcp;
    if (this.#leader) return;
    if (!platform) {
      void this.#send({ kind: 'tcp', op: 'none', sid: msg.sid }).catch(() => {});
      return;
    }
    this.#tcpAccept?.cancel('superseded by a new TCP attempt');
    // The leader only asks when it has no TCP connection: ours is dead on its side.
    this.#tcp?.close('the contact started a new TCP attempt');
    const sid = msg.sid;
    this.#tcpSid = sid;
    void (async () => {
      let listener: TcpListener;
      try {
        listener = await platform.listen();
      } catch (error) {
        // No address to listen on: the leader need not wait for hints either.
        if (!this.#closed && this.#tcpSid === sid) void this.#send({ kind: 'tcp', op: 'none', sid }).catch(() => {});
        throw error;
      }
      if (this.#closed || this.#tcpSid !== sid) {
        listener.close();
        throw new Error('superseded');
      }
      const accept = new TcpAccept(listener, this.#tcpOptions(sid), this.#policy.tcpListenMs, this.#log);
      this.#tcpAccept = accept;
      await this.#send({ kind: 'tcp', op: 'hints', sid, hints: listener.hints });
      return accept.ready;
    })().then(
      (t) => this.#onTcpReady(sid, t),
      (error: unknown) => this.#onTcpFailed(sid, error),
    );
  }

  #onTcpReady(sid: string, transport: FrameTransport): void {
    if (this.#closed || this.#tcpSid !== sid) {
      transport.close(this.#closed ? 'session closed' : 'superseded by a newer TCP attempt');
      return;
    }
    this.#tcpSid = null;
    this.#tcpAccept = null;
    this.#tcp?.close('replaced by a newer TCP connection');
    this.#tcp = transport;
    this.#clock.clearTimeout(this.#headStartTimer);
    this.#headStartTimer = undefined;
    this.#endTcpHeadStart();
    const connectedAt = this.#clock.now();
    transport.onClose((reason) => this.#onTcpLost(transport, reason, this.#clock.now() - connectedAt));
    this.#log.info({ contact: this.contactId }, 'TCP path verified');
    this.stream.attach(transport, { current: true });
    this.#setPath('direct');
  }

  #onTcpFailed(sid: string, error: unknown): void {
    if (this.#tcpSid !== sid) return;
    this.#tcpSid = null;
    this.#tcpAccept = null;
    if (this.#closed) return;
    this.#log.info({ contact: this.contactId, reason: String(error) }, 'TCP attempt failed');
    this.#endTcpHeadStart();
    if (this.#leader && this.#tcpAnswered) this.#scheduleTcpRetry();
  }

  #onTcpLost(transport: FrameTransport, reason: string, livedMs: number): void {
    if (this.#tcp !== transport) return;
    this.#tcp = null;
    if (this.#closed) return;
    this.#log.info({ contact: this.contactId, reason }, 'TCP connection lost');
    if (livedMs > this.#policy.stableDirectMs) this.#tcpBackoff.reset();
    // Data moves at once to what else is up; the stream re-sends what the peer has not acknowledged.
    const next = this.#direct ?? this.#relayTransport;
    this.stream.setCurrent(next);
    this.#setPath(this.#direct ? 'direct' : this.#relayTransport ? 'relay' : 'none');
    if (this.#leader) {
      if (!this.#direct) {
        this.#openRelay();
        if (!this.#attempt && this.#directRetryTimer === undefined) this.#startDirect();
      }
      this.#scheduleTcpRetry();
    } else if (!this.#direct && !this.#relayTransport) {
      this.#askLeader(true);
    }
  }

  #scheduleTcpRetry(): void {
    if (!this.#o.tcp || this.#tcpRetryTimer !== undefined || this.#closed) return;
    this.#tcpRetryTimer = this.#clock.setTimeout(() => {
      this.#tcpRetryTimer = undefined;
      this.#startTcp();
    }, this.#tcpBackoff.next());
  }
}
