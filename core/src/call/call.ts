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
import { RelayTransport } from '../session/relay-transport.js';
import { RelayMediaLink } from './relay-media/link.js';
import type { RelayMediaEngine } from './relay-media/pipeline.js';
import { relayMediaStats, relayMediaTag } from './relay-media/call-path.js';

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
  /** Which path carries the media once active. */
  #path: 'peer' | 'relay' | null = null;
  #relayTimer: ReturnType<typeof setTimeout> | undefined;
  #relayStarted = false;
  #relayLink: RelayMediaLink | null = null;
  #peerOffs: Array<() => void> = [];
  #relayStatAt: { at: number; sent: number; received: number; frames: number } | null = null;

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
      case 'rtc':
        if (this.#peer) this.#peer.receive(sig);
        else if (this.#earlyRtc.length < MAX_EARLY_RTC) this.#earlyRtc.push(sig);
        return;
      case 'state':
        if (sig.rev <= this.#remoteRev) return; // stale or replayed
        this.#remoteRev = sig.rev;
        this.#remote = { muted: sig.muted, cameraOff: sig.cameraOff, video: sig.video ?? this.#remote.video };
        this.#events.emit('remote-state', { ...this.#remote });
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
    if (this.#path === 'relay' && this.#relayLink) {
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
      send: (data: RtcData, fp?: SignedFingerprint) => this.#send(fp ? { op: 'rtc', data, fp } : { op: 'rtc', data }),
    });
    this.#peer = peer;
    this.#peerOffs = [
      peer.on('connect', () => {
        this.#path ??= 'peer';
        this.#onConnected();
      }),
      peer.on('ice', (state) => this.#onIce(state)),
      peer.on('stream', (stream) => {
        this.#remoteStream ??= stream as S;
        this.#events.emit('remote-stream', stream as S);
      }),
      peer.on('track', ({ track, stream }) => {
        if (track.kind === 'video') this.#remote.video = true;
        this.#events.emit('remote-track', { track: track as TrackOf<S>, stream: stream as S });
      }),
      peer.on('failure', (f) => this.#onPeerFailure(f)),
      peer.on('close', () => this.#onPeerClosed()),
    ];
    // Direct media gets a head start; if it has not connected by then, media goes over the relay.
    if (this.#ctx.relayMedia) {
      const headStart = (): void => {
        if (this.#state !== 'connecting') return;
        // ICE found a path and DTLS is finishing (a loaded machine): wait for it; a failure still falls back.
        const ice = peer.observations().iceStates;
        if ((ice.has('connected') || ice.has('completed')) && !ice.has('failed')) {
          this.#relayTimer = setTimeout(headStart, this.#ctx.timeouts.relayHeadStartMs);
          return;
        }
        this.#startRelay(role);
      };
      this.#relayTimer = setTimeout(headStart, this.#ctx.timeouts.relayHeadStartMs);
    }
    this.#connectTimer = setTimeout(() => {
      if (this.#state !== 'connecting') return;
      const d = diagnoseConnectFailure(peer.observations(), this.#ctx.peerName);
      this.#finish(d.code, { message: d.message, notify: d.code });
    }, this.#ctx.timeouts.connectMs);
    peer.start();
    for (const sig of this.#earlyRtc.splice(0)) peer.receive(sig);
  }

  /**
   * Media over the relay: a channel of this call's own (both sides open the same tag; the relay pairs them),
   * its own key agreement, then WebCodecs media (relay-media/). The direct attempt is dropped: from here the
   * relay carries the call, and the call is active as soon as the channel's keys are confirmed.
   */
  #startRelay(role: 'caller' | 'callee'): void {
    const relayMedia = this.#ctx.relayMedia;
    if (!relayMedia || this.#relayStarted || this.finished) return;
    this.#relayStarted = true;
    clearTimeout(this.#relayTimer);
    const log = this.#ctx.logger;
    void (async () => {
      let socket: RelayChannelSocket | null = null;
      try {
        socket = await relayMedia.openChannel(this.peerId, relayMediaTag(this.id));
        if (this.finished || this.#directWon()) {
          socket.close();
          return;
        }
        const transport = await RelayTransport.establish({
          socket,
          identity: this.#ctx.identity,
          peerKey: this.#ctx.peerKey,
          peerId: this.peerId,
          sessionId: relayMediaTag(this.id),
          role: role === 'caller' ? 'initiator' : 'responder',
          handshakeTimeoutMs: this.#ctx.timeouts.connectMs,
          ...(this.#ctx.aead ? { aead: this.#ctx.aead } : {}),
        });
        // Both sides completed the key agreement (it needs both): both now move to the relay, even if direct
        // connected meanwhile, so the two never disagree about the path.
        if (this.finished) {
          transport.close('the call ended');
          return;
        }
        this.#useRelay(new RelayMediaLink({ transport, engine: relayMedia.engine, tracks: this.#tracks, logger: log }));
      } catch (error) {
        socket?.close();
        if (this.finished) return;
        log.warn({ callId: this.id, err: (error as Error).message }, 'relay media could not start');
        // The connect bound still runs: it ends the call with a diagnosed reason.
      }
    })();
  }

  /** Direct media connected (or recovered) while the relay path was being set up: it carries the call. */
  #directWon(): boolean {
    return this.#path === 'peer' && this.#state === 'active';
  }

  #useRelay(link: RelayMediaLink): void {
    this.#relayLink = link;
    this.#path = 'relay';
    // The direct attempt is over: its events must no longer move the call.
    for (const off of this.#peerOffs.splice(0)) off();
    this.#peer?.destroy();
    this.#peer = null;
    // Closed without an error is normally the other side hanging up, its signal on the way (as #onPeerClosed).
    link.on('closed', (reason) => {
      if (this.finished || this.#closeTimer !== undefined) return;
      this.#closeTimer = setTimeout(() => {
        if (this.finished) return;
        this.#finish('connection-lost', {
          message: `the relay media connection to ${this.#ctx.peerName} closed (${reason})`,
          notify: 'connection-lost',
        });
      }, this.#ctx.timeouts.closeGraceMs);
    });
    this.#remoteStream = link.remoteStream as unknown as S;
    this.#events.emit('remote-stream', this.#remoteStream);
    this.#ctx.logger.info({ callId: this.id }, 'call media over the relay');
    this.#onConnected();
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
    if (state === 'disconnected' && this.#state === 'active') {
      this.#setState('reconnecting');
      // Direct media dropped mid-call: carry it over the relay rather than wait for ICE (the other side sees
      // the same loss and opens the same channel; the call is active again once both confirmed its keys).
      if (this.#ctx.relayMedia) this.#startRelay(this.direction === 'outgoing' ? 'caller' : 'callee');
      this.#reconnectTimer = setTimeout(() => {
        if (this.#state === 'reconnecting') {
          this.#finish('connection-lost', {
            message: `the connection to ${this.#ctx.peerName} was lost and did not come back`,
            notify: 'connection-lost',
          });
        }
      }, this.#ctx.timeouts.reconnectMs);
    } else if ((state === 'connected' || state === 'completed') && this.#state === 'reconnecting') {
      clearTimeout(this.#reconnectTimer);
      this.#setState('active');
    }
  }

  #onPeerFailure(f: PeerFailure): void {
    if (this.finished) return;
    // Direct media cannot connect: carry the media over the relay instead (a forged or tampered setup is
    // never a reason to fall back: it ends the call as before).
    if (
      this.#ctx.relayMedia &&
      this.#state === 'connecting' &&
      (f.code === 'diagnose' || f.code === 'ice-failed' || f.code === 'connection-lost')
    ) {
      this.#ctx.logger.info({ callId: this.id, code: f.code }, 'direct media failed; relay media');
      this.#startRelay(this.direction === 'outgoing' ? 'caller' : 'callee');
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
    if (this.finished || this.#closeTimer !== undefined || this.#relayStarted) return;
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
    this.#relayLink?.close('the call ended');
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
