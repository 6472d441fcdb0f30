// One call: the state machine (ring, accept, connect, reconnect, end) around a MediaPeer. Every wait is bounded
// (ring, connect, reconnect, close grace), so a call never sits in "connecting" forever.
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import type { Logger } from '../platform/types.js';
import { Emitter } from '../util/emitter.js';
import { diagnoseConnectFailure } from './diagnose.js';
import { CallError } from './errors.js';
import { MediaPeer, type PeerFailure } from './media-peer.js';
import type { IceServer } from '../platform/rtc.js';
import type { StreamLike, TrackLike, TrackOf } from './media-types.js';
import { endFromRemoteHangup, endMessage, isEndedCode } from './reasons.js';
import { statRecords, readCallStats, type StatCounters } from './stats.js';
import {
  CALL_SIGNAL_KIND,
  MAX_DIRECT_ATTEMPT,
  type CallSignal,
  type HangupReason,
  type OutgoingCallSignal,
  type RtcData,
} from './signals.js';
import { signRing, type SignedFingerprint } from './trust.js';
import type {
  Call,
  CallEnd,
  CallEndCode,
  CallEvents,
  CallFailedCode,
  CallMedia,
  CallMediaState,
  CallRelay,
  CallState,
  CallStats,
  CallTimeouts,
} from './types.js';
import type { Unsubscribe } from '../api.js';
import type { SimplePeerConstructor } from '../platform/rtc.js';
import type { AeadEngine } from '../crypto/aead-engine.js';
import type { RelayChannelSocket } from '../relay/channel.js';
import { RelayTransport, refusedRecord } from '../session/relay-transport.js';
import { RelayMediaLink } from './relay-media/link.js';
import type { RelayMediaEngine } from './relay-media/pipeline.js';
import { relayMediaStats, relayMediaTag } from './relay-media/call-path.js';
import {
  decodedVideoFrames,
  iceCheckProgress,
  inboundRtpBytes,
  inboundSilenceMs,
  PathSwitch,
  type PathDecision,
} from './path-switch.js';

/** What a call needs from its manager. */
export interface CallContext {
  relay: CallRelay;
  identity: IdentityKeyPair;
  peerKey: PublicIdentityKey;
  peerName: string;
  timeouts: CallTimeouts;
  iceServers: () => IceServer[];
  /** Relay only: TURN candidates only, so the contact never learns our addresses (read at each call). */
  relayOnly: () => boolean;
  wrtc?: unknown;
  SimplePeer?: SimplePeerConstructor;
  logger: Logger;
  stopTracksOnEnd: boolean;
  /**
   * Media over the relay when direct media does not connect in time (relay-media/): the platform's
   * encoders/decoders and a way to open a relay channel to the peer. Without both, calls are direct/TURN only.
   */
  relayMedia?: { engine: RelayMediaEngine; openChannel(to: string, tag: string): Promise<RelayChannelSocket> };
  aead?: AeadEngine;
  /** Called once when the call reaches ended/failed. */
  onFinished(call: CallImpl<StreamLike>): void;
}

export interface CallInit<S extends StreamLike> {
  id: string;
  peerId: string;
  direction: 'outgoing' | 'incoming';
  offered: CallMedia;
  localStream?: S;
  sendVideo?: boolean;
}

/** Incoming calls ring a little longer than the caller's own timeout (up to 5 s), so the caller's 'no-answer' normally arrives first. */
const incomingRingGrace = (ringMs: number): number => Math.min(5_000, ringMs / 5);
/** rtc signals held until the peer connection exists. */
const MAX_EARLY_RTC = 64;

const FINAL: ReadonlySet<CallState> = new Set(['ended', 'failed']);

/** At most this long, a hanging-up side keeps direct media open for its hangup signal to reach the relay. */
const HANGUP_BEFORE_CLOSE_MS = 1_000;
/** Direct retries while the relay carries a call: at most this many, at most this far apart. */
const MAX_DIRECT_RETRIES = 6;
const MAX_DIRECT_RETRY_MS = 60_000;
/** How often the direct peer's getStats is read for the path switch (inbound RTP stalls and recovers). */
const PATH_SAMPLE_MS = 100;
/**
 * The relay media starts this long before the first point where the call may move to the relay (direct's
 * unanswered checks, else its head start), unshown: its encoders, first key frame and the contact's decoder
 * need ~0.3-0.5 s on a busy machine, so the move shows a picture at once. Not when a direct check was already
 * answered (direct is coming); direct connecting meanwhile stops it.
 */
const RELAY_PREPARE_LEAD_MS = 700;
/** Idle relay channels re-opened after the contact closed them, per call (a bound, not an expected count). */
const MAX_IDLE_REWARMS = 32;
/**
 * A move to the relay whose contact's first relay picture has not decoded yet keeps the last direct picture
 * in view until it has (a frozen picture, not a black one), this long at most.
 */
const RELAY_VIEW_WAIT_MS = 500;
/** The relay channel tag of a call's n-th relay media channel (a fresh channel after each move back to direct). */
function relayChannelTag(callId: string, generation: number): string {
  const tag = relayMediaTag(callId);
  return generation === 0 ? tag : `${tag.slice(0, 56)}.${generation}`;
}

export class CallImpl<S extends StreamLike = StreamLike> implements Call<S> {
  readonly id: string;
  readonly peerId: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly offered: CallMedia;
  readonly createdAt = Date.now();
  readonly #ctx: CallContext;
  readonly #events = new Emitter<CallEvents<S>>();
  #state: CallState;
  #end: CallEnd | null = null;
  #connectedAt: number | null = null;
  #localStream: S | null;
  #remoteStream: S | null = null;
  /** Our tracks as sent (replaceTrack/addVideo update this, not the caller's stream object). */
  #tracks: Array<{ track: TrackLike; stream: StreamLike }> = [];
  readonly #local: CallMediaState;
  #remote: CallMediaState;
  #remoteRev = -1;
  #rev = 0;
  #peer: MediaPeer | null = null;
  #earlyRtc: Array<Extract<CallSignal, { op: 'rtc' }>> = [];
  #ringTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #statCounters: StatCounters | null = null;
  #relayTimer: ReturnType<typeof setTimeout> | undefined;
  #prepareTimer: ReturnType<typeof setTimeout> | undefined;
  #noAnswerTimer: ReturnType<typeof setTimeout> | undefined;
  #relayLink: RelayMediaLink | null = null;
  /** The relay link runs ahead of a likely move (direct is stalling), not shown. */
  #relayAhead = false;
  #viewTimer: ReturnType<typeof setTimeout> | undefined;
  #peerOffs: Array<() => void> = [];
  #relayStatAt: { at: number; sent: number; received: number; frames: number } | null = null;
  /** With relay media: which path carries the call and when to move (path-switch.ts). */
  #switch: PathSwitch | null = null;
  /** The call's relay channel, opened and key-agreed early and kept idle until media moves onto it. */
  #relayChannel: { generation: number; transport: Promise<RelayTransport | null> } | null = null;
  #relayGeneration = 0;
  #idleRewarms = 0;
  #role: 'caller' | 'callee' = 'caller';
  /** The direct peer's remote stream (kept while the relay carries the call, for the move back). */
  #directStream: S | null = null;
  #iceUp = false;
  #sampler: ReturnType<typeof setInterval> | undefined;
  /** A sample taken right when a silence of direct reaches the stall threshold (not at the next period). */
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #sampling = false;
  #pathRev = 0;
  /** The direct attempt in use (0: the first; retries count up, led by the caller). */
  #attempt = 0;
  #peerStarted = false;
  #retries = 0;
  /** Direct media connected at least once in this call (only then is it worth trying again). */
  #directEverConnected = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attemptTimer: ReturnType<typeof setTimeout> | undefined;
  #peerPathRev = -1;

  constructor(ctx: CallContext, init: CallInit<S>) {
    this.#ctx = ctx;
    this.id = init.id;
    this.peerId = init.peerId;
    this.direction = init.direction;
    this.offered = { ...init.offered };
    this.#state = init.direction === 'outgoing' ? 'calling' : 'ringing';
    this.#localStream = init.localStream ?? null;
    if (init.localStream) this.#adoptStream(init.localStream);
    this.#local = { muted: false, cameraOff: false, video: init.sendVideo ?? this.#hasVideo() };
    this.#remote = {
      muted: false,
      cameraOff: false,
      video: init.direction === 'incoming' ? init.offered.video : false,
    };
    this.#events.onListenerError = (error) =>
      ctx.logger.error({ callId: this.id, err: String(error) }, 'call listener threw');
  }

  get state(): CallState {
    return this.#state;
  }
  get end(): CallEnd | null {
    return this.#end;
  }
  get connectedAt(): number | null {
    return this.#connectedAt;
  }
  get localStream(): S | null {
    return this.#localStream;
  }
  get remoteStream(): S | null {
    return this.#remoteStream;
  }
  get local(): Readonly<CallMediaState> {
    return { ...this.#local };
  }
  get remote(): Readonly<CallMediaState> {
    return { ...this.#remote };
  }
  get finished(): boolean {
    return FINAL.has(this.#state);
  }
  /**
   * The relay media's latest round trip (ms, capture → the peer's feedback on it) while media goes over the
   * relay, else null. Synchronous and cheap: session streams read it as their congestion signal (yield-pacer.ts).
   */
  get relayRttMs(): number | null {
    return this.#switch?.path === 'relay' ? (this.#relayLink?.stats().rttMs ?? null) : null;
  }

  on<K extends keyof CallEvents<S>>(event: K, listener: (value: CallEvents<S>[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  // ---- lifecycle driven by the manager ----

  /** Outgoing: rings the contact. Fails at once when we or they are not on the relay. */
  begin(): void {
    if (this.finished) return;
    if (this.#ctx.relay.state !== 'online') {
      this.#finish('relay-offline', {
        message: `you are not connected to the relay, so ${this.#ctx.peerName} cannot be called`,
      });
      return;
    }
    this.#ringTimer = setTimeout(() => {
      if (this.#state === 'calling' || this.#state === 'ringing') this.#finish('no-answer', { notify: 'no-answer' });
    }, this.#ctx.timeouts.ringMs);
    const media = { ...this.offered };
    const at = Date.now();
    signRing(this.#ctx.identity, { callId: this.id, callerId: this.#ctx.identity.id, calleeId: this.peerId, media, at })
      .then((sig) => (this.#state === 'calling' ? this.#send({ op: 'ring', media, at, sig }) : undefined))
      .catch((error: unknown) => {
        if (this.#state !== 'calling' && this.#state !== 'ringing') return;
        if ((error as { code?: unknown }).code === 'offline') this.#finish('offline', {});
        else
          this.#finish('relay-offline', {
            message: `${this.#ctx.peerName} could not be reached through the relay (${(error as Error).message})`,
          });
      });
  }

  /** Incoming: tells the caller it rings here, and bounds how long it rings. */
  ringIncoming(): void {
    this.#ringTimer = setTimeout(
      () => {
        if (this.#state === 'ringing') this.#finish('missed', {});
      },
      this.#ctx.timeouts.ringMs + incomingRingGrace(this.#ctx.timeouts.ringMs),
    );
    this.#send({ op: 'ringing' }).catch(() => undefined);
  }

  /** The manager refused a signal of this call's contact while it was being set up (altered, or another version). */
  refuse(code: Extract<CallFailedCode, 'tampered' | 'unsupported'>, message: string): void {
    if (!this.finished) this.#finish(code, { message, notify: code });
  }

  /** Both called each other: this outgoing call gives way to the contact's. */
  supersede(): void {
    if (!this.finished) this.#finish('superseded', { notify: 'superseded' });
  }

  /** A validated signal from this call's contact. */
  handle(sig: CallSignal): void {
    if (this.finished) return;
    switch (sig.op) {
      case 'ring':
        return;
      case 'ringing':
        if (this.direction === 'outgoing' && this.#state === 'calling') this.#setState('ringing');
        return;
      case 'accept':
        if (this.direction === 'outgoing' && (this.#state === 'calling' || this.#state === 'ringing'))
          this.#onAccepted();
        return;
      case 'decline':
        if (this.direction === 'outgoing' && (this.#state === 'calling' || this.#state === 'ringing')) {
          this.#finish(sig.reason === 'busy' ? 'busy' : 'remote-declined', {});
        }
        return;
      case 'hangup':
        this.#finishWith(
          endFromRemoteHangup(
            sig.reason,
            this.#ctx.peerName,
            this.direction === 'incoming' && this.#state === 'ringing',
          ),
        );
        return;
      case 'rtc': {
        const attempt = sig.attempt ?? 0;
        if (attempt < this.#attempt) return; // a late signal of an earlier direct attempt
        // The caller tries direct again (the relay carries the call meanwhile): a fresh peer connection here.
        if (attempt > this.#attempt && !this.#answerRetry(attempt)) return;
        if (this.#peer) this.#peer.receive(sig);
        else if (!this.#peerStarted && this.#earlyRtc.length < MAX_EARLY_RTC) this.#earlyRtc.push(sig);
        return;
      }
      case 'state':
        if (sig.rev <= this.#remoteRev) return; // stale or replayed
        this.#remoteRev = sig.rev;
        this.#remote = { muted: sig.muted, cameraOff: sig.cameraOff, video: sig.video ?? this.#remote.video };
        this.#events.emit('remote-state', { ...this.#remote });
        return;
      case 'path':
        if (!this.#switch || sig.rev <= this.#peerPathRev) return; // no relay media here, or stale/replayed
        this.#peerPathRev = sig.rev;
        this.#apply(this.#switch.peer({ path: sig.path, epoch: sig.epoch, directOk: sig.directOk }, Date.now()));
        return;
    }
  }

  // ---- user operations ----

  async accept(localStream: S): Promise<void> {
    if (this.direction !== 'incoming' || this.#state !== 'ringing') {
      throw new CallError(
        'invalid-state',
        `only a ringing incoming call can be accepted (this one is ${this.direction}, ${this.#state})`,
      );
    }
    if (!localStream || localStream.getTracks().length === 0)
      throw new CallError('invalid-media', 'accept needs a stream with at least one track');
    this.#localStream = localStream;
    this.#adoptStream(localStream);
    this.#local.video = this.#hasVideo();
    this.#applyEnabled();
    clearTimeout(this.#ringTimer);
    if (this.#ctx.relay.state !== 'online') {
      this.#finish('relay-offline', {
        message: `you are not connected to the relay, so the call from ${this.#ctx.peerName} cannot be answered`,
      });
      return;
    }
    this.#setState('connecting');
    this.#startPeer('callee');
    try {
      await this.#send({ op: 'accept' });
    } catch (error) {
      if (this.finished) return;
      if ((error as { code?: unknown }).code === 'offline')
        this.#finish('offline', { message: `${this.#ctx.peerName} is no longer online` });
      else
        this.#finish('relay-offline', {
          message: `the answer could not be sent through the relay (${(error as Error).message})`,
        });
    }
  }

  decline(): void {
    if (this.finished) return;
    if (this.direction === 'incoming' && this.#state === 'ringing') {
      this.#send({ op: 'decline', reason: 'declined' }).catch(() => undefined);
      this.#finish('declined', {});
      return;
    }
    this.hangup();
  }

  hangup(): void {
    if (this.finished) return;
    if (this.direction === 'incoming' && this.#state === 'ringing') {
      this.decline();
      return;
    }
    const cancelling = this.#state === 'calling' || this.#state === 'ringing';
    this.#finish('hangup', {
      notify: cancelling ? 'cancelled' : 'hangup',
      message: cancelling ? 'you cancelled the call' : undefined,
    });
  }

  setMuted(muted: boolean): void {
    if (this.finished || this.#local.muted === muted) return;
    this.#local.muted = muted;
    this.#applyEnabled();
    this.#sendState();
  }

  setCameraOff(off: boolean): void {
    if (this.finished || this.#local.cameraOff === off) return;
    this.#local.cameraOff = off;
    this.#applyEnabled();
    this.#sendState();
  }

  replaceTrack(oldTrack: TrackOf<S>, newTrack: TrackOf<S>): void {
    if (this.finished) throw new CallError('invalid-state', 'the call has ended');
    const entry = this.#tracks.find((t) => t.track === oldTrack);
    if (!entry) throw new CallError('invalid-media', 'replaceTrack: the old track is not one this call sends');
    if (newTrack.kind !== oldTrack.kind)
      throw new CallError(
        'invalid-media',
        `replaceTrack: a ${oldTrack.kind} track cannot be replaced by a ${newTrack.kind} track`,
      );
    newTrack.enabled = this.#enabledFor(newTrack.kind);
    try {
      this.#peer?.replaceTrack(oldTrack, newTrack);
      this.#relayLink?.pipeline.replaceTrack(oldTrack, newTrack);
    } catch (error) {
      throw new CallError('invalid-media', `replaceTrack failed: ${(error as Error).message}`);
    }
    entry.track = newTrack;
  }

  addVideo(track: TrackOf<S>, stream: S): void {
    if (this.finished) throw new CallError('invalid-state', 'the call has ended');
    if (track.kind !== 'video') throw new CallError('invalid-media', 'addVideo needs a video track');
    if (this.#tracks.some((t) => t.track.kind === 'video'))
      throw new CallError('invalid-media', 'the call already sends video: use replaceTrack to switch cameras');
    this.#local.video = true;
    this.#local.cameraOff = false;
    track.enabled = true;
    try {
      this.#peer?.addTrack(track, stream);
    } catch (error) {
      this.#local.video = false;
      throw new CallError('invalid-media', `addVideo failed: ${(error as Error).message}`);
    }
    this.#tracks.push({ track, stream });
    this.#sendState();
  }

  async rawStats(): Promise<Array<Record<string, unknown>> | null> {
    const report = await this.#peer?.getStats();
    return report ? statRecords(report) : null;
  }

  async stats(): Promise<CallStats> {
    if (this.#switch?.path === 'relay' && this.#relayLink) {
      const now = Date.now();
      const { stats, counters } = relayMediaStats(this.#relayLink.stats(), now, this.#relayStatAt);
      this.#relayStatAt = counters;
      return stats;
    }
    const records = await this.rawStats();
    if (!records) throw new CallError('invalid-state', 'the call has no media connection');
    const { stats, counters } = readCallStats(records, Date.now(), this.#statCounters);
    this.#statCounters = counters;
    return stats;
  }

  /** The manager is closing: end without waiting. */
  close(): void {
    this.hangup();
  }

  // ---- internals ----

  #onAccepted(): void {
    clearTimeout(this.#ringTimer);
    this.#setState('connecting');
    this.#startPeer('caller');
  }

  #startPeer(role: 'caller' | 'callee'): void {
    this.#role = role;
    this.#peerStarted = true;
    if (this.#ctx.relayMedia) {
      this.#switch = new PathSwitch({ role });
      // The relay channel and its key agreement are made ready now, beside the direct attempt, and stay idle
      // until media moves onto them (an idle channel costs the relay one channel slot and no traffic), so a
      // move to the relay only starts the encoders.
      this.#warmRelay();
    }
    const peer = this.#newPeer(role);
    // Direct media gets a head start; if it has not connected by then, media goes over the relay (the direct
    // attempt goes on: if it connects later, the call moves back to it).
    const sw = this.#switch;
    if (sw) {
      const headStart = (): void => {
        if (this.#state !== 'connecting' || this.#peer !== peer) return;
        // ICE found a path and DTLS is finishing (a loaded machine): wait for it; a failure still falls back.
        const ice = peer.observations().iceStates;
        if ((ice.has('connected') || ice.has('completed')) && !ice.has('failed')) {
          this.#relayTimer = setTimeout(headStart, this.#ctx.timeouts.relayHeadStartMs);
          return;
        }
        this.#apply(sw.headStartOver(Date.now()));
      };
      const t = this.#ctx.timeouts;
      this.#relayTimer = setTimeout(headStart, t.relayHeadStartMs);
      const pending = (): boolean =>
        this.#state === 'connecting' && this.#peer === peer && sw.path === null && !peer.connected;
      // Direct's checks unanswered (UDP blocked, a firewall): the relay carries the call before the head start
      // ends. Not with TURN configured: its allocation can take longer, and TURN is preferred to relay media.
      const noAnswer = !peer.observations().turnConfigured && t.relayNoAnswerMs < t.relayHeadStartMs;
      if (noAnswer) {
        this.#noAnswerTimer = setTimeout(() => {
          if (!pending()) return;
          void this.#iceProgress(peer).then((progress) => {
            if (!pending() || progress !== 'unanswered') return;
            this.#ctx.logger.info({ callId: this.id }, "direct media's ICE checks unanswered; relay media");
            this.#apply(sw.headStartOver(Date.now(), 'no-answer'));
          });
        }, t.relayNoAnswerMs);
      }
      // The relay media gets ready ahead of that, unshown, so the move only swaps the picture.
      const firstMove = noAnswer ? t.relayNoAnswerMs : t.relayHeadStartMs;
      this.#prepareTimer = setTimeout(
        () => {
          if (!pending()) return;
          void this.#iceProgress(peer).then((progress) => {
            if (pending() && progress !== 'answered') this.#startRelayAhead();
          });
        },
        Math.max(0, firstMove - RELAY_PREPARE_LEAD_MS),
      );
    }
    this.#connectTimer = setTimeout(() => {
      if (this.#state !== 'connecting') return;
      const d = diagnoseConnectFailure(peer.observations(), this.#ctx.peerName);
      this.#finish(d.code, { message: d.message, notify: d.code });
    }, this.#ctx.timeouts.connectMs);
    peer.start();
    for (const sig of this.#earlyRtc.splice(0)) peer.receive(sig);
  }

  /** How far the direct attempt's ICE checks got (ICE connected counts as answered). */
  async #iceProgress(peer: MediaPeer): Promise<'answered' | 'unanswered' | 'unknown'> {
    const ice = peer.observations().iceStates;
    if (ice.has('connected') || ice.has('completed')) return 'answered';
    try {
      const report = await peer.getStats();
      return report ? iceCheckProgress(statRecords(report)) : 'unknown';
    } catch {
      return 'unknown';
    }
  }

  #newPeer(role: 'caller' | 'callee'): MediaPeer {
    const attempt = this.#attempt;
    const peer = new MediaPeer({
      callId: this.id,
      role,
      identity: this.#ctx.identity,
      peerId: this.peerId,
      peerKey: this.#ctx.peerKey,
      peerName: this.#ctx.peerName,
      tracks: this.#tracks,
      iceServers: this.#ctx.iceServers(),
      relayOnly: this.#ctx.relayOnly(),
      wrtc: this.#ctx.wrtc,
      SimplePeer: this.#ctx.SimplePeer,
      logger: this.#ctx.logger,
      send: (data: RtcData, fp?: SignedFingerprint) =>
        this.#send({ op: 'rtc', data, ...(fp ? { fp } : {}), ...(attempt > 0 ? { attempt } : {}) }),
    });
    this.#peer = peer;
    this.#peerOffs = [
      peer.on('connect', () => this.#onDirectConnected()),
      peer.on('ice', (state) => this.#onIce(state)),
      peer.on('stream', (stream) => {
        this.#directStream ??= stream as S;
        // While the relay carries the call, the direct stream waits for the move back.
        if (this.#switch?.path === 'relay') return;
        this.#remoteStream ??= stream as S;
        this.#events.emit('remote-stream', stream as S);
      }),
      peer.on('track', ({ track, stream }) => {
        if (track.kind === 'video') this.#remote.video = true;
        // On the relay, the move back shows the direct stream with all its tracks.
        if (this.#switch?.path === 'relay') return;
        this.#events.emit('remote-track', { track: track as TrackOf<S>, stream: stream as S });
      }),
      peer.on('failure', (f) => this.#onPeerFailure(f)),
      peer.on('close', () => this.#onPeerClosed()),
    ];
    return peer;
  }

  #onDirectConnected(): void {
    const sw = this.#switch;
    if (!sw) {
      this.#onConnected();
      return;
    }
    this.#directEverConnected = true;
    this.#ctx.relayMedia?.engine.prepare?.();
    this.#startSampling();
    this.#apply(sw.directConnected(Date.now()));
  }

  /** Carries out a path decision: move the media, and tell the contact where ours goes. */
  #apply(d: PathDecision): void {
    if (this.finished || !this.#switch) return;
    if (d.move === 'relay') this.#toRelay();
    else if (d.move === 'direct') this.#toDirect();
    if (d.report) this.#sendPath();
  }

  #sendPath(): void {
    const report = this.#switch?.report();
    if (!report || this.finished) return;
    this.#send({ op: 'path', ...report, rev: ++this.#pathRev }).catch(() => undefined);
  }

  /** Media onto the relay channel (kept ready): start the encoders; the remote view shows the relay's tracks. */
  #toRelay(): void {
    const sw = this.#switch!;
    this.#ctx.logger.info({ callId: this.id, why: sw.lastReason, epoch: sw.epoch }, 'call media moves to the relay');
    if (this.#relayLink) {
      // Started ahead while direct stalled: its frames already flow; only the picture swaps.
      if (this.#relayAhead) this.#showRelay(this.#relayLink);
      return;
    }
    if (this.#state === 'active') {
      // Bounded: if the relay cannot carry it either, the call ends with 'connection-lost'.
      this.#setState('reconnecting');
      this.#armReconnect();
    }
    const channel = this.#relayChannel ?? this.#warmRelay();
    void channel.transport.then((transport) => {
      if (this.finished || this.#switch?.path !== 'relay') return;
      if (this.#relayLink) {
        if (this.#relayAhead) this.#showRelay(this.#relayLink);
        return;
      }
      if (!transport || transport.closed) {
        // The connect/reconnect bound ends the call unless direct media comes back meanwhile.
        if (this.#relayChannel === channel) this.#relayChannel = null;
        this.#ctx.logger.warn({ callId: this.id }, 'relay media could not start');
        return;
      }
      this.#startRelayLink(transport);
    });
  }

  /**
   * Direct is stalling (silent for the switch's suspectMs): the relay media starts now, unshown, so that a move
   * at stallMs finds the relay's encoders running and its first frames decoded. Direct flowing again stops it.
   */
  #startRelayAhead(): void {
    if (this.#relayLink || this.finished || !this.#ctx.relayMedia) return;
    const channel = this.#relayChannel ?? this.#warmRelay();
    void channel.transport.then((transport) => {
      const sw = this.#switch;
      if (this.finished || this.#relayLink || !sw || !transport || transport.closed) return;
      if (sw.path === 'direct' && !sw.stalling) return; // flowing again meanwhile
      this.#startRelayLink(transport);
    });
  }

  /**
   * The relay media started ahead shows the contact's media already (its picture, or its sound when it sends
   * no video): the contact started it, so it sees direct silent too.
   */
  #relayReady(): boolean {
    const link = this.#relayLink;
    if (!link || !this.#relayAhead) return false;
    return link.received(this.#expectsVideo() ? 'video' : 'audio');
  }

  /** Direct flows again after a stall: the relay media started ahead stops (its channel closes with it). */
  #stopRelayAhead(): void {
    const link = this.#relayLink;
    if (!link || !this.#relayAhead) return;
    this.#ctx.logger.info({ callId: this.id }, 'direct media flows again; relay media started ahead stops');
    this.#relayLink = null;
    this.#relayAhead = false;
    link.close('direct media flows again');
    this.#warmRelay();
  }

  /** The relay link starts; shown at once on the relay path, kept unshown (ahead of a move) on direct. */
  #startRelayLink(transport: RelayTransport): void {
    const relayMedia = this.#ctx.relayMedia!;
    // The link owns this channel now (it closes it); the next move to the relay gets a fresh one.
    this.#relayChannel = null;
    const link = new RelayMediaLink({
      transport,
      engine: relayMedia.engine,
      tracks: this.#tracks,
      logger: this.#ctx.logger,
    });
    this.#relayLink = link;
    this.#relayAhead = true;
    this.#relayStatAt = null;
    link.on('closed', (reason) => this.#onRelayLinkClosed(link, reason));
    // Started ahead, the contact's media decoding here confirms the cut (the contact sees it too): sample now.
    link.on('received', () => {
      if (this.#relayLink === link && this.#relayAhead && this.#switch?.path === 'direct') void this.#sampleDirect();
    });
    if (this.#switch?.path === 'relay') this.#showRelay(link);
  }

  /** The relay link carries the call: the remote view shows its tracks (once its first picture decoded). */
  #showRelay(link: RelayMediaLink): void {
    this.#relayAhead = false;
    this.#relayStatAt = null;
    // Only over a picture direct has shown (a call still connecting has none to keep).
    const shown = this.#directEverConnected && this.#remoteStream !== null && this.#remoteStream === this.#directStream;
    const waitForPicture = shown && this.#expectsVideo() && !link.received('video');
    if (!waitForPicture) {
      this.#viewRelay(link);
      return;
    }
    this.#ctx.logger.info({ callId: this.id }, 'call media over the relay; the view waits for its first picture');
    this.#onConnected();
    clearTimeout(this.#viewTimer);
    const show = (): void => {
      clearTimeout(this.#viewTimer);
      off();
      if (!this.finished && this.#relayLink === link && this.#switch?.path === 'relay') this.#viewRelay(link);
    };
    const off = link.on('received', (kind) => {
      if (kind === 'video') show();
    });
    this.#viewTimer = setTimeout(show, RELAY_VIEW_WAIT_MS);
  }

  /** The contact sends video now (not camera-off). */
  #expectsVideo(): boolean {
    return this.#remote.video && !this.#remote.cameraOff;
  }

  /** The remote view shows the relay link's tracks. */
  #viewRelay(link: RelayMediaLink): void {
    if (this.#remoteStream !== (link.remoteStream as unknown as S)) {
      this.#remoteStream = link.remoteStream as unknown as S;
      this.#events.emit('remote-stream', this.#remoteStream);
    }
    this.#ctx.logger.info({ callId: this.id }, 'call media over the relay');
    this.#onConnected();
  }

  /**
   * Media back onto the direct path: the remote view switches to the direct tracks in one step (whose frames
   * already flow: direct counts as back only once its RTP has flowed for a while), then the relay encoders
   * stop. The relay channel closes with them and a fresh one is made ready for a next move.
   */
  #toDirect(): void {
    clearTimeout(this.#viewTimer);
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    const link = this.#relayLink;
    if (link) this.#ctx.logger.info({ callId: this.id, epoch: this.#switch?.epoch }, 'call media moves to direct');
    const direct = this.#directStream;
    if (direct && this.#remoteStream !== direct) {
      this.#remoteStream = direct;
      this.#events.emit('remote-stream', direct);
    }
    this.#statCounters = null;
    if (link) {
      this.#relayLink = null;
      this.#relayAhead = false;
      link.close('the call moved to the direct path');
      this.#warmRelay();
    }
    this.#onConnected();
  }

  #onRelayLinkClosed(link: RelayMediaLink, reason: string): void {
    if (this.#relayLink !== link) return;
    this.#relayLink = null;
    if (this.finished) return;
    if (this.#relayAhead) {
      // Started ahead and never shown: direct still carries the call.
      this.#relayAhead = false;
      this.#warmRelay();
      return;
    }
    const sw = this.#switch!;
    const d = sw.relayLost(Date.now());
    if (d.move) {
      this.#warmRelay();
      this.#apply(d);
      return;
    }
    if (refusedRecord(reason)) {
      // The relay altered, forged or replayed a sealed media record (the contact's are authenticated): with
      // no direct media to go back to, the call ends now and both sides say why, rather than freezing until
      // the grace below runs out and reading as a lost connection. A fresh channel would cross the same relay.
      this.#finish('tampered', {
        message: `the relay altered ${this.#ctx.peerName}'s call media on the way (${reason}); the call was ended`,
        notify: 'tampered',
      });
      return;
    }
    this.#warmRelay();
    // Closed without a move: normally the other side moved back to direct or hung up, its signal on the way.
    if (this.#closeTimer !== undefined) return;
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined;
      if (this.finished || this.#switch?.path !== 'relay' || this.#relayLink) return;
      this.#finish('connection-lost', {
        message: `the relay media connection to ${this.#ctx.peerName} closed (${reason})`,
        notify: 'connection-lost',
      });
    }, this.#ctx.timeouts.closeGraceMs);
  }

  /** Opens the call's next relay channel and runs its key agreement (both sides open the same tag). */
  #warmRelay(): { generation: number; transport: Promise<RelayTransport | null> } {
    const relayMedia = this.#ctx.relayMedia!;
    // The media pipeline too (its worker), so a move off a working direct path does not wait for it to load.
    // Not before direct connected: a call that starts on the relay starts its pipeline as it always did.
    if (this.#directEverConnected) relayMedia.engine.prepare?.();
    const generation = this.#relayGeneration++;
    const tag = relayChannelTag(this.id, generation);
    const log = this.#ctx.logger;
    const transport = (async (): Promise<RelayTransport | null> => {
      let socket: RelayChannelSocket | null = null;
      try {
        socket = await relayMedia.openChannel(this.peerId, tag);
        if (this.finished) {
          socket.close();
          return null;
        }
        const t = await RelayTransport.establish({
          socket,
          identity: this.#ctx.identity,
          peerKey: this.#ctx.peerKey,
          peerId: this.peerId,
          sessionId: tag,
          role: this.#role === 'caller' ? 'initiator' : 'responder',
          handshakeTimeoutMs: this.#ctx.timeouts.connectMs,
          ...(this.#ctx.aead ? { aead: this.#ctx.aead } : {}),
        });
        if (this.finished) {
          t.close('the call ended');
          return null;
        }
        return t;
      } catch (error) {
        socket?.close();
        if (!this.finished) log.warn({ callId: this.id, err: (error as Error).message }, 'relay media channel failed');
        return null;
      }
    })();
    const channel = { generation, transport };
    this.#relayChannel = channel;
    void transport.then((t) => {
      if (!t) {
        // The open failed (the relay's open timeout, a refusal): the next move opens a fresh one.
        if (this.#relayChannel === channel) this.#relayChannel = null;
        return;
      }
      t.onClose(() => {
        if (this.#relayChannel !== channel) return;
        this.#relayChannel = null;
        // An idle channel that died: normally the contact closed it (its relay media started ahead of a move
        // and stopped again), and it has opened the next channel already. Open the same one now, so both sides
        // stay on one generation (and the contact's open does not time out at the relay waiting for ours).
        if (!this.finished && !this.#relayLink && this.#idleRewarms++ < MAX_IDLE_REWARMS) this.#warmRelay();
      });
    });
    return channel;
  }

  #closeRelayChannel(reason: string): void {
    const channel = this.#relayChannel;
    this.#relayChannel = null;
    void channel?.transport.then((t) => t?.close(reason));
  }

  #startSampling(): void {
    if (this.#sampler !== undefined || !this.#switch) return;
    this.#sampler = setInterval(() => void this.#sampleDirect(), PATH_SAMPLE_MS);
  }

  async #sampleDirect(): Promise<void> {
    const peer = this.#peer;
    if (this.#sampling || !peer || this.finished) return;
    this.#sampling = true;
    try {
      const report = await peer.getStats();
      const sw = this.#switch;
      if (!report || !sw || this.finished || this.#peer !== peer) return;
      const records = statRecords(report);
      const relayReady = this.#relayReady();
      this.#apply(
        sw.sample({
          at: Date.now(),
          inboundBytes: inboundRtpBytes(records),
          silentMs: inboundSilenceMs(records),
          iceUp: this.#iceUp,
          videoFrames: decodedVideoFrames(records),
          expectVideo: this.#remote.video && !this.#remote.cameraOff,
          relayReady,
        }),
      );
      clearTimeout(this.#stallTimer);
      const due = sw.stallDueAt(Date.now(), relayReady);
      if (due !== null && !this.finished)
        this.#stallTimer = setTimeout(() => void this.#sampleDirect(), Math.max(0, due + 1 - Date.now()));
      if (sw.path === 'direct' && !this.finished) {
        if (sw.stalling) this.#startRelayAhead();
        else this.#stopRelayAhead();
      }
    } catch {
      /* the peer connection closed meanwhile */
    } finally {
      this.#sampling = false;
    }
  }

  /**
   * Caller: the direct peer connection that carried this call was lost while the relay carries it; try again
   * later (bounded). A call whose direct media never connected (a firewall) is not retried: the relay carries it.
   */
  #scheduleRetry(): void {
    if (this.#role !== 'caller' || !this.#switch || this.finished || this.#retryTimer !== undefined) return;
    if (!this.#directEverConnected) return;
    if (this.#retries >= MAX_DIRECT_RETRIES || this.#attempt >= MAX_DIRECT_ATTEMPT) return;
    const delay = Math.min(this.#ctx.timeouts.directRetryMs * 2 ** this.#retries, MAX_DIRECT_RETRY_MS);
    this.#retries++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.finished || this.#peer || this.#switch?.path !== 'relay') return;
      this.#ctx.logger.info({ callId: this.id, attempt: this.#attempt + 1 }, 'trying direct media again');
      this.#startAttempt(this.#attempt + 1);
    }, delay);
  }

  /** Callee: the caller tries direct again; answers with a fresh peer connection. */
  #answerRetry(attempt: number): boolean {
    if (this.#role !== 'callee' || !this.#switch || !this.#peerStarted) return false;
    if (this.#state !== 'active' && this.#state !== 'reconnecting') return false;
    if (this.#peer) this.#dropDirect();
    this.#startAttempt(attempt);
    return true;
  }

  /** A later direct attempt: a fresh peer connection, bounded by connectMs like the first. */
  #startAttempt(attempt: number): void {
    this.#attempt = attempt;
    const peer = this.#newPeer(this.#role);
    this.#switch!.directRestarted(Date.now());
    clearTimeout(this.#attemptTimer);
    this.#attemptTimer = setTimeout(() => {
      if (this.finished || this.#peer !== peer || peer.connected) return;
      this.#ctx.logger.info({ callId: this.id, attempt }, 'direct media retry did not connect');
      this.#dropDirect();
      this.#apply(this.#switch!.directLost(Date.now()));
      this.#scheduleRetry();
    }, this.#ctx.timeouts.connectMs);
    peer.start();
  }

  /** The direct attempt is over: its events no longer move the call. */
  #dropDirect(): void {
    for (const off of this.#peerOffs.splice(0)) off();
    clearInterval(this.#sampler);
    this.#sampler = undefined;
    this.#peer?.destroy();
    this.#peer = null;
    this.#directStream = null;
    this.#iceUp = false;
  }

  #armReconnect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      if (this.#state === 'reconnecting') {
        this.#finish('connection-lost', {
          message: `the connection to ${this.#ctx.peerName} was lost and did not come back`,
          notify: 'connection-lost',
        });
      }
    }, this.#ctx.timeouts.reconnectMs);
  }

  #onConnected(): void {
    if (this.#state !== 'connecting' && this.#state !== 'reconnecting') return;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#reconnectTimer);
    this.#connectedAt ??= Date.now();
    this.#setState('active');
    // The other side's UI learns our starting mute/camera state.
    this.#sendState();
  }

  #onIce(state: string): void {
    if (this.finished) return;
    const sw = this.#switch;
    if (sw) {
      this.#iceUp = state === 'connected' || state === 'completed';
      // Direct lost its path mid-call: the relay carries the media (the stall of its RTP usually said so first).
      if ((state === 'disconnected' || state === 'failed') && sw.path !== null) this.#apply(sw.iceDown(Date.now()));
      return;
    }
    if (state === 'disconnected' && this.#state === 'active') {
      this.#setState('reconnecting');
      this.#armReconnect();
    } else if ((state === 'connected' || state === 'completed') && this.#state === 'reconnecting') {
      clearTimeout(this.#reconnectTimer);
      this.#setState('active');
    }
  }

  #onPeerFailure(f: PeerFailure): void {
    if (this.finished) return;
    // Direct media cannot connect or was lost: the relay carries the call (a forged or tampered setup is never
    // a reason to fall back: it ends the call as before). 'no-path' is "always use the relay" with no TURN
    // server: relay media reveals no address either, so the call goes there rather than failing.
    const sw = this.#switch;
    const fallsBack = ['diagnose', 'ice-failed', 'connection-lost', 'no-path'].includes(f.code);
    if (sw && fallsBack) {
      this.#ctx.logger.info({ callId: this.id, code: f.code }, 'direct media failed; relay media');
      this.#dropDirect();
      this.#apply(sw.directLost(Date.now()));
      this.#scheduleRetry();
      return;
    }
    if (f.code === 'diagnose') {
      const d = diagnoseConnectFailure(this.#peer?.observations() ?? emptyObservations(), this.#ctx.peerName);
      this.#finish(d.code, { message: d.message, notify: d.code });
      return;
    }
    if (f.code === 'offline') {
      this.#finish('offline', { message: f.message });
      return;
    }
    this.#finish(f.code, { message: f.message, notify: f.code });
  }

  /** The connection closed without an error: normally the other side hung up, and its signal is on the way. */
  #onPeerClosed(): void {
    if (this.finished) return;
    const sw = this.#switch;
    if (sw) {
      // The relay carries on (a hangup on its way still ends the call; the bounds hold if nothing carries it).
      this.#dropDirect();
      this.#apply(sw.directLost(Date.now()));
      this.#scheduleRetry();
      return;
    }
    if (this.#closeTimer !== undefined) return;
    this.#closeTimer = setTimeout(() => {
      if (this.finished) return;
      if (this.#state === 'connecting') {
        const d = diagnoseConnectFailure(this.#peer?.observations() ?? emptyObservations(), this.#ctx.peerName);
        this.#finish(d.code, { message: d.message, notify: d.code });
      } else {
        this.#finish('connection-lost', {
          message: `the connection to ${this.#ctx.peerName} closed`,
          notify: 'connection-lost',
        });
      }
    }, this.#ctx.timeouts.closeGraceMs);
  }

  #finish(code: CallEndCode, opts: { message?: string | undefined; notify?: HangupReason | CallFailedCode }): void {
    this.#finishWith(
      { code, message: opts.message ?? endMessage(code, this.#ctx.peerName), remote: false },
      opts.notify,
    );
  }

  #finishWith(end: CallEnd, notify?: HangupReason | CallFailedCode): void {
    if (this.finished) return;
    this.#end = end;
    clearTimeout(this.#ringTimer);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#relayTimer);
    clearTimeout(this.#prepareTimer);
    clearTimeout(this.#noAnswerTimer);
    clearInterval(this.#sampler);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#attemptTimer);
    clearTimeout(this.#stallTimer);
    clearTimeout(this.#viewTimer);
    this.#relayLink?.close('the call ended');
    this.#closeRelayChannel('the call ended');
    this.#ctx.relayMedia?.engine.release?.();
    const peer = this.#peer;
    if (notify !== undefined && notify !== 'offline' && notify !== 'relay-offline') {
      // The other side learns why from this signal. Close direct media once the relay has it (or after a
      // bound): a connection closing first reads there as a lost connection, and the (sealed, signed) signal
      // can lose that race.
      const told = this.#send({ op: 'hangup', reason: notify }).catch(() => undefined);
      const bound = new Promise<void>((resolve) => setTimeout(resolve, HANGUP_BEFORE_CLOSE_MS));
      void Promise.race([told, bound]).then(() => peer?.destroy());
    } else {
      peer?.destroy();
    }
    this.#earlyRtc = [];
    if (this.#ctx.stopTracksOnEnd) {
      for (const { track } of this.#tracks) {
        try {
          track.stop();
        } catch {
          /* already stopped */
        }
      }
    }
    this.#ctx.logger.info({ callId: this.id, code: end.code, remote: end.remote }, 'call finished');
    this.#setState(isEndedCode(end.code) ? 'ended' : 'failed', end);
    this.#ctx.onFinished(this as unknown as CallImpl<StreamLike>);
    this.#events.removeAll();
  }

  #setState(state: CallState, end?: CallEnd): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#ctx.logger.debug({ callId: this.id, from: previous, to: state }, 'call state');
    this.#events.emit('state', end ? { state, previous, end } : { state, previous });
  }

  #send(signal: OutgoingCallSignal): Promise<void> {
    return this.#ctx.relay.signal(this.peerId, { kind: CALL_SIGNAL_KIND, callId: this.id, ...signal });
  }

  #sendState(): void {
    if (this.finished) return;
    this.#send({
      op: 'state',
      muted: this.#local.muted,
      cameraOff: this.#local.cameraOff,
      video: this.#local.video,
      rev: ++this.#rev,
    }).catch(() => undefined);
  }

  #adoptStream(stream: S): void {
    this.#tracks = stream.getTracks().map((track) => ({ track, stream }));
  }

  #hasVideo(): boolean {
    return this.#tracks.some((t) => t.track.kind === 'video');
  }

  #enabledFor(kind: string): boolean {
    if (kind === 'audio') return !this.#local.muted;
    if (kind === 'video') return !this.#local.cameraOff;
    return true;
  }

  #applyEnabled(): void {
    for (const { track } of this.#tracks) track.enabled = this.#enabledFor(track.kind);
  }
}

function emptyObservations(): Parameters<typeof diagnoseConnectFailure>[0] {
  return {
    remoteDescribed: false,
    localCandidates: 0,
    localRelayCandidates: 0,
    remoteCandidates: 0,
    iceStates: new Set(),
    turnConfigured: false,
  };
}
