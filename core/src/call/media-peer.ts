// One call's simple-peer connection: signs every offer/answer we send, verifies every one we receive before
// simple-peer sees it, keeps the order of signals both ways, and records what ICE did so a failure can be
// explained (diagnose.ts).
import { onIceState } from '../platform/ice-state.js';
import SimplePeer, { type Instance as PeerInstance, type SignalData } from 'simple-peer';
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import { silentLogger, type Logger } from '../platform/types.js';
import { Emitter } from '../util/emitter.js';
import { isRelayCandidate, type ConnectObservations } from './diagnose.js';
import type { IceServer, SimplePeerConstructor } from '../platform/rtc.js';
import { toRtcData, type RtcData } from '../platform/rtc-signal.js';
import type { StreamLike, TrackLike } from './media-types.js';
import type { CallSignalOf } from './signals.js';
import {
  signSdpFingerprint,
  TrustFailure,
  verifySdpFingerprint,
  type CallRole,
  type SignedFingerprint,
} from './trust.js';
import type { CallFailedCode } from './types.js';

export interface MediaPeerOptions {
  callId: string;
  role: CallRole;
  identity: IdentityKeyPair;
  peerId: string;
  peerKey: PublicIdentityKey;
  peerName: string;
  /** Our tracks and the stream each belongs to, added before the first negotiation. */
  tracks: ReadonlyArray<{ track: TrackLike; stream: StreamLike }>;
  iceServers: IceServer[];
  /** TURN relay candidates only (see CallManagerOptions.relayOnly). */
  relayOnly?: boolean;
  wrtc?: unknown;
  SimplePeer?: SimplePeerConstructor;
  /** Sends an `rtc` call signal through the relay. */
  send(data: RtcData, fp?: SignedFingerprint): Promise<void>;
  logger?: Logger;
}

/** Why the peer connection gave up. `beforeConnect` tells the call to diagnose instead of calling it a drop. */
export interface PeerFailure {
  code: CallFailedCode | 'diagnose' | 'offline';
  message: string;
}

interface MediaPeerEvents {
  connect: void;
  ice: string;
  stream: StreamLike;
  track: { track: TrackLike; stream: StreamLike };
  failure: PeerFailure;
  /** Closed without an error (e.g. the other side closed its connection). */
  close: void;
}

/** Candidates held before the peer exists or while an offer is being verified are bounded. */
const MAX_PENDING = 256;

export class MediaPeer {
  readonly #o: MediaPeerOptions;
  readonly #log: Logger;
  readonly #events = new Emitter<MediaPeerEvents>();
  #peer: PeerInstance | null = null;
  #sendChain: Promise<void> = Promise.resolve();
  #receiveChain: Promise<void> = Promise.resolve();
  #pendingRemote = 0;
  #pinned: string | null = null;
  #connected = false;
  #done = false;
  readonly #senders = new Map<TrackLike, StreamLike>();
  readonly #obs = {
    remoteDescribed: false,
    localCandidates: 0,
    localRelayCandidates: 0,
    remoteCandidates: 0,
    iceStates: new Set<string>(),
  };

  constructor(options: MediaPeerOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'call peer listener threw');
  }

  on<K extends keyof MediaPeerEvents>(event: K, listener: (v: MediaPeerEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  get connected(): boolean {
    return this.#connected;
  }

  observations(): ConnectObservations {
    return {
      ...this.#obs,
      iceStates: new Set(this.#obs.iceStates),
      turnConfigured: this.#o.iceServers.some((s) =>
        (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/i.test(u)),
      ),
    };
  }

  /** Creates the RTCPeerConnection. Failures (no WebRTC here) are reported asynchronously as 'failure'. */
  start(): void {
    const Peer = this.#o.SimplePeer ?? SimplePeer;
    const relayOnly = this.#o.relayOnly === true;
    if (relayOnly && !this.observations().turnConfigured) {
      queueMicrotask(() =>
        this.#fail({
          code: 'no-path',
          message: 'relay-only mode: calls need a TURN server (none is configured), so no call connection was made',
        }),
      );
      return;
    }
    let peer: PeerInstance;
    try {
      peer = new Peer({
        initiator: this.#o.role === 'caller',
        trickle: true,
        wrtc: this.#o.wrtc,
        // Always explicit: simple-peer's default config names public STUN servers.
        config: {
          iceServers: this.#o.iceServers.map((s) => ({ ...s })),
          ...(relayOnly ? { iceTransportPolicy: 'relay' as const } : {}),
        },
      });
    } catch (error) {
      const err = error as Error & { code?: string };
      queueMicrotask(() => this.#fail(mapPeerError(err, false, this.#o.peerName)));
      return;
    }
    this.#peer = peer;
    // Added right after construction, in the same task as simple-peer's own initial negotiation request (it batches).
    for (const { track, stream } of this.#o.tracks) this.addTrack(track, stream);
    peer.on('signal', (data) => this.#onLocalSignal(data as SignalData));
    peer.on('connect', () => {
      if (this.#done) return;
      this.#connected = true;
      this.#events.emit('connect', undefined);
    });
    onIceState(peer, (s) => {
      this.#obs.iceStates.add(s);
      this.#events.emit('ice', s);
    });
    peer.on('stream', (stream) => this.#events.emit('stream', stream as StreamLike));
    peer.on('track', (track, stream) =>
      this.#events.emit('track', { track: track as TrackLike, stream: stream as StreamLike }),
    );
    peer.on('error', (err) =>
      this.#fail(mapPeerError(err as Error & { code?: string }, this.#connected, this.#o.peerName)),
    );
    peer.on('close', () => {
      if (this.#done) return;
      this.#done = true;
      this.#events.emit('close', undefined);
    });
  }

  /** A validated `rtc` signal from the contact. Applied strictly in arrival order. */
  receive(sig: CallSignalOf<'rtc'>): void {
    if (this.#done) return;
    if (++this.#pendingRemote > MAX_PENDING) {
      this.#fail({
        code: 'protocol',
        message: `${this.#o.peerName}'s device sent too many call setup messages at once`,
      });
      return;
    }
    this.#receiveChain = this.#receiveChain
      .then(() => this.#applyRemote(sig))
      .catch((error: unknown) => {
        if (error instanceof TrustFailure) this.#fail({ code: error.code, message: error.message });
        else
          this.#fail({
            code: 'protocol',
            message: `bad call setup message from ${this.#o.peerName}: ${(error as Error).message}`,
          });
      })
      .finally(() => {
        this.#pendingRemote--;
      });
  }

  addTrack(track: TrackLike, stream: StreamLike): void {
    const peer = this.#peer;
    if (!peer || this.#done) return;
    peer.addTrack(track, stream);
    this.#senders.set(track, stream);
  }

  /** Sends newTrack in place of oldTrack (no renegotiation). Throws simple-peer's error if oldTrack was never sent. */
  replaceTrack(oldTrack: TrackLike, newTrack: TrackLike): void {
    const peer = this.#peer;
    const stream = this.#senders.get(oldTrack);
    if (!peer || this.#done || !stream) return;
    peer.replaceTrack(oldTrack, newTrack, stream);
    this.#senders.delete(oldTrack);
    this.#senders.set(newTrack, stream);
  }

  async getStats(): Promise<unknown> {
    const pc = this.#peer?._pc;
    if (!pc || this.#peer?.destroyed) return null;
    return pc.getStats();
  }

  destroy(): void {
    this.#done = true;
    const peer = this.#peer;
    if (peer && !peer.destroyed) {
      try {
        peer.destroy();
      } catch {
        /* already going */
      }
    }
    this.#events.removeAll();
  }

  async #applyRemote(sig: CallSignalOf<'rtc'>): Promise<void> {
    if (this.#done || !this.#peer) return;
    const data = sig.data;
    if (data.type === 'offer' || data.type === 'answer') {
      const senderRole: CallRole = this.#o.role === 'caller' ? 'callee' : 'caller';
      // Offers come only from the caller (simple-peer's initiator renegotiates), answers only from the callee.
      if ((data.type === 'offer') !== (senderRole === 'caller')) throw new Error(`unexpected ${data.type}`);
      this.#pinned = await verifySdpFingerprint({
        callId: this.#o.callId,
        senderRole,
        senderId: this.#o.peerId,
        senderKey: this.#o.peerKey,
        receiverId: this.#o.identity.id,
        sdp: data.sdp,
        fp: sig.fp,
        pinned: this.#pinned,
        senderName: this.#o.peerName,
      });
      if (this.#done) return;
      this.#obs.remoteDescribed = true;
      this.#peer.signal({ type: data.type, sdp: data.sdp });
      return;
    }
    if (data.type === 'candidate') {
      this.#obs.remoteCandidates++;
      this.#peer.signal({ type: 'candidate', candidate: data.candidate });
      return;
    }
    if (data.type === 'renegotiate') {
      if (this.#o.role === 'caller') this.#peer.signal({ type: 'renegotiate', renegotiate: true });
      return;
    }
    if (data.type === 'transceiverRequest' && this.#o.role === 'caller') {
      this.#peer.signal({ type: 'transceiverRequest', transceiverRequest: { kind: data.transceiverRequest.kind } });
    }
  }

  #onLocalSignal(data: SignalData): void {
    if (this.#done) return;
    // One chain: the signed offer must leave before the candidates simple-peer emits right after it.
    this.#sendChain = this.#sendChain
      .then(async () => {
        if (this.#done) return;
        const out = toRtcData(data);
        if (!out) return;
        let fp: SignedFingerprint | undefined;
        if ((out.type === 'offer' || out.type === 'answer') && this.#o.relayOnly)
          out.sdp = withoutNonRelayCandidates(out.sdp);
        if (out.type === 'offer' || out.type === 'answer') {
          fp = await signSdpFingerprint(this.#o.identity, this.#o.callId, this.#o.role, this.#o.peerId, out.sdp);
        } else if (out.type === 'candidate') {
          // Relay only: a stack that gathered anything but TURN candidates anyway must not leak them.
          if (this.#o.relayOnly && !isRelayCandidate(out.candidate.candidate)) return;
          this.#obs.localCandidates++;
          if (isRelayCandidate(out.candidate.candidate)) this.#obs.localRelayCandidates++;
        }
        await this.#o.send(out, fp);
      })
      .catch((error: unknown) => {
        const code = (error as { code?: unknown }).code;
        if (code === 'offline')
          this.#fail({ code: 'offline', message: `${this.#o.peerName} went offline during the call setup` });
        else this.#log.warn({ callId: this.#o.callId, err: String(error) }, 'call setup message not delivered');
      });
  }

  #fail(failure: PeerFailure): void {
    if (this.#done) return;
    this.#done = true;
    this.#events.emit('failure', failure);
  }
}

/** An SDP without the candidate lines that would carry our own addresses (relay only). */
function withoutNonRelayCandidates(sdp: string): string {
  return sdp
    .split(/(?<=\n)/)
    .filter((line) => !/^a=candidate:/i.test(line) || isRelayCandidate(line))
    .join('');
}

function mapPeerError(err: Error & { code?: string }, connected: boolean, peerName: string): PeerFailure {
  switch (err.code) {
    case 'ERR_WEBRTC_SUPPORT':
    case 'ERR_PC_CONSTRUCTOR':
      return { code: 'unsupported', message: `calls are not available here: ${err.message}` };
    case 'ERR_ICE_CONNECTION_FAILURE':
    case 'ERR_CONNECTION_FAILURE':
      return connected
        ? { code: 'connection-lost', message: `the connection to ${peerName} was lost` }
        : { code: 'diagnose', message: err.message };
    case 'ERR_ICE_CONNECTION_CLOSED':
    case 'ERR_DATA_CHANNEL':
      return connected
        ? { code: 'connection-lost', message: `the connection to ${peerName} was lost` }
        : { code: 'error', message: err.message };
    case 'ERR_SET_REMOTE_DESCRIPTION':
    case 'ERR_ADD_ICE_CANDIDATE':
    case 'ERR_SIGNALING':
      return { code: 'protocol', message: `${peerName}'s call setup could not be applied: ${err.message}` };
    case 'ERR_SENDER_REMOVED':
    case 'ERR_SENDER_ALREADY_ADDED':
    case 'ERR_TRACK_NOT_ADDED':
    case 'ERR_ADD_TRANSCEIVER':
    case 'ERR_REMOVE_TRACK':
    case 'ERR_UNSUPPORTED_REPLACETRACK':
      return { code: 'media-error', message: `a media track could not be sent: ${err.message}` };
    default:
      return { code: 'error', message: `the call connection failed: ${err.message}` };
  }
}
