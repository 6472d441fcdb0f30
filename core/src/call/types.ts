// Public types of the call engine: what the UI and the CLI program against (see README.md).
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { RelayState, Unsubscribe } from '../api.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import type { Logger } from '../platform/types.js';
import type { IceServer, SimplePeerConstructor } from '../platform/rtc.js';
import type { StreamLike, TrackOf } from './media-types.js';
import type { RelayMediaEngine } from './relay-media/pipeline.js';
import type { RelayChannelSocket } from '../relay/channel.js';
import type { AeadEngine } from '../crypto/aead-engine.js';

/**
 * Life of a call. Outgoing: calling → ringing → connecting → active. Incoming: ringing → connecting → active.
 * `reconnecting` only follows `active` (ICE lost the path; media may come back). Ends in `ended` or `failed`.
 */
export type CallState = 'calling' | 'ringing' | 'connecting' | 'active' | 'reconnecting' | 'ended' | 'failed';

/** Why a call ended normally (state `ended`). */
export type CallEndedCode =
  /** We hung up (or cancelled our outgoing call). */
  | 'hangup'
  /** The other side hung up. */
  | 'remote-hangup'
  /** We declined the incoming call. */
  | 'declined'
  /** The callee declined. */
  | 'remote-declined'
  /** The callee is in another call. */
  | 'busy'
  /** Our outgoing call was not answered in time. */
  | 'no-answer'
  /** An incoming call we did not answer (the caller gave up, or it rang out). */
  | 'missed'
  /** Both called each other at once: our outgoing call gave way to theirs (an incoming call follows). */
  | 'superseded';

/** Why a call failed (state `failed`). */
export type CallFailedCode =
  /** The contact is not connected to the relay. */
  | 'offline'
  /** We are not connected to the relay. */
  | 'relay-offline'
  /** No local (or remote) ICE candidates: a device has no usable network address. */
  | 'no-candidates'
  /** Candidates were exchanged but no pair connected: direct is blocked, a TURN server is needed. */
  | 'no-path'
  /** The configured TURN server gave no relay candidate. */
  | 'turn-unreachable'
  /** ICE reported failure. */
  | 'ice-failed'
  /** ICE connected but DTLS (the encrypted media transport) did not. */
  | 'dtls-failed'
  /** The other side did not finish the call setup in time (no offer/answer). */
  | 'timeout'
  /** The DTLS fingerprint in the SDP is not the one the contact signed: the relay altered it. */
  | 'tampered'
  /** The call setup is not signed by the contact's key. */
  | 'impersonation'
  /** An established call lost its path and did not recover. */
  | 'connection-lost'
  /** No WebRTC implementation in this runtime. */
  | 'unsupported'
  /** A local media operation failed (e.g. a track could not be added). */
  | 'media-error'
  /** The other side sent something that does not fit the protocol. */
  | 'protocol'
  | 'error';

export type CallEndCode = CallEndedCode | CallFailedCode;

export interface CallEnd {
  code: CallEndCode;
  /** English, for logs and the CLI; UIs translate from `code` (and may append `message`). */
  message: string;
  /** True when the other side reported this reason (it hung up with it). */
  remote: boolean;
}

export interface CallMedia {
  audio: boolean;
  video: boolean;
}

/** What one side sends about itself so the other side's UI can show it. */
export interface CallMediaState {
  muted: boolean;
  cameraOff: boolean;
  /** Whether this side sends video at all. */
  video: boolean;
}

export interface CallStats {
  /** Date.now() when sampled. */
  at: number;
  /**
   * 'turn' when the selected candidate pair uses a relay candidate on either side; 'relay' when the media goes
   * over the Parley relay (relay-media/: WebCodecs frames in the call's own end-to-end encrypted relay channel);
   * null before a pair is selected.
   */
  path: 'direct' | 'turn' | 'relay' | null;
  localCandidateType: string | null;
  remoteCandidateType: string | null;
  /** udp or tcp, of the local candidate of the selected pair. */
  protocol: string | null;
  rttMs: number | null;
  /** Media bitrates since the previous stats() call (null on the first call). */
  inboundKbps: number | null;
  outboundKbps: number | null;
  /** Incoming packets lost since the previous stats() call (cumulative on the first call), percent. */
  packetLossPct: number | null;
  audioCodec: string | null;
  videoCodec: string | null;
  /** Of the received video. */
  frameWidth: number | null;
  frameHeight: number | null;
  framesPerSecond: number | null;
  bytesReceived: number;
  bytesSent: number;
  /** Only on the relay path (path 'relay'): what the relay media pipeline measures. */
  relay?: RelayPathStats;
}

export interface RelayPathStats {
  /** Capture (the sender's clock) → shown here, of recent video frames, ms: median and p95. */
  latencyMs: number | null;
  latencyP95Ms: number | null;
  /** The jitter buffer's playout delay, ms. */
  playoutDelayMs: number | null;
  /** The video bitrate our congestion controller currently allows, kbit/s. */
  targetKbps: number;
  /** Received frames dropped as late by the jitter buffer, and decoded totals. */
  lateFrames: number;
  videoFramesDecoded: number;
  audioSamplesDecoded: number;
  /** Malformed or duplicate media messages refused. */
  refused: number;
  /** Audio playout, cumulative ms: played from decoded frames, and underruns (silence inserted, output dry). */
  audioPlayedMs: number;
  audioUnderrunMs: number;
  /** The received audio plays out of a local RTCPeerConnection, so the echo canceller hears it. */
  audioViaPeerConnection: boolean;
  /** Capture → each stage of the relay media path, ms (p50/p95): where latency goes. */
  stages: Record<string, { p50: number; p95: number }>;
}

export interface CallEvents<S extends StreamLike = StreamLike> {
  state: { state: CallState; previous: CallState; end?: CallEnd };
  /** A remote stream appeared (once per stream; later tracks of the same stream come as 'remote-track'). */
  'remote-stream': S;
  /** Every remote track, including ones added later (video added to an audio call). */
  'remote-track': { track: TrackOf<S>; stream: S };
  'remote-state': CallMediaState;
}

export interface Call<S extends StreamLike = StreamLike> {
  readonly id: string;
  /** The contact's identity id. */
  readonly peerId: string;
  readonly direction: 'outgoing' | 'incoming';
  /** What the caller offered in the ring. */
  readonly offered: CallMedia;
  readonly state: CallState;
  /** Set once the call is ended or failed. */
  readonly end: CallEnd | null;
  /** Date.now() at creation, and when media first connected (null until then). */
  readonly createdAt: number;
  readonly connectedAt: number | null;
  readonly localStream: S | null;
  /** The first remote stream (null until one arrives). */
  readonly remoteStream: S | null;
  readonly local: Readonly<CallMediaState>;
  readonly remote: Readonly<CallMediaState>;

  on<K extends keyof CallEvents<S>>(event: K, listener: (value: CallEvents<S>[K]) => void): Unsubscribe;

  /** Incoming, while ringing: answers with our media. Rejects (CallError) in any other state. */
  accept(localStream: S): Promise<void>;
  /** Incoming, while ringing: declines. No-op once ended. */
  decline(): void;
  /** Ends the call in any state (cancels a ringing outgoing call). No-op once ended. */
  hangup(): void;
  /** Disables/enables our audio tracks and tells the other side. */
  setMuted(muted: boolean): void;
  /** Disables/enables our video tracks and tells the other side. */
  setCameraOff(off: boolean): void;
  /** Device switch without renegotiation: sends newTrack instead of oldTrack (keeps mute/camera state). */
  replaceTrack(oldTrack: TrackOf<S>, newTrack: TrackOf<S>): void;
  /** Starts sending video in a call that had none (renegotiates, signed like the first offer). */
  addVideo(track: TrackOf<S>, stream: S): void;
  /** Live statistics; bitrates are deltas since the previous call. Rejects when there is no connection yet. */
  stats(): Promise<CallStats>;
  /** The raw RTCStatsReport entries (structural records), or null without a connection. */
  rawStats(): Promise<Array<Record<string, unknown>> | null>;
}

/** What the call engine needs from the relay client (core/src/relay RelayClient fits). */
export interface CallRelay {
  readonly state: RelayState;
  signal(to: string, data: Record<string, unknown>): Promise<void>;
  on(event: 'signal', listener: (value: { from: string; data: Record<string, unknown> }) => void): () => void;
}

export interface CallTimeouts {
  /** An outgoing call rings this long before 'no-answer' (incoming side: plus 5 s, then 'missed'). Default 45 s. */
  ringMs: number;
  /** From accept to media connected; past it the call fails with a diagnosed reason. Default 10 s. */
  connectMs: number;
  /** How long an active call may stay 'reconnecting' before it fails with 'connection-lost'. Default 6 s. */
  reconnectMs: number;
  /** After the peer connection closes, how long to wait for the other side's hangup signal. Default 3 s (sealed signals on a loaded machine take over 1.5 s). */
  closeGraceMs: number;
  /**
   * Direct media's head start: not connected after this long (from accept), the call's media goes over the
   * relay (when the platform has relay media, `relayMedia`). Default 2.5 s.
   */
  relayHeadStartMs: number;
  /**
   * Sooner than the head start: this long after accept, when direct's ICE checks have gone out and none was
   * answered (UDP blocked, a firewall) and no TURN server is configured, the call's media goes over the relay
   * now. A check answered, or none sent yet (candidates still on their way), waits for the head start.
   * Default 1.5 s.
   */
  relayNoAnswerMs: number;
  /**
   * While the relay carries a call whose direct peer connection had connected and was lost, the caller tries
   * direct again after this long, then twice as long each time (at most 60 s apart, at most 6 tries); a try
   * that has not connected within `connectMs` counts as failed. Default 5 s.
   */
  directRetryMs: number;
}

export interface CallManagerOptions {
  relay: CallRelay;
  identity: IdentityKeyPair;
  /** The contact's key, or undefined for a stranger (their call signals are ignored). */
  contactKey: (id: string) => PublicIdentityKey | undefined;
  /** For messages such as "Alice is offline". */
  contactName?: (id: string) => string | undefined;
  /** RTCPeerConnection implementation for Node (@roamhq/wrtc); leave undefined in browsers. */
  wrtc?: unknown;
  /**
   * The user's TURN servers, then those the relays hand out (the Messenger merges them); read at every call
   * so settings changes and refreshed credentials apply. Default none.
   */
  iceServers?: IceServer[] | (() => IceServer[]);
  /**
   * Relay only (privacy): direct media goes through TURN only (iceTransportPolicy 'relay'), so no
   * host or server-reflexive candidate, and no address of ours, reaches the contact. Without a TURN server
   * the direct attempt fails at once with 'no-path': with relay media the call goes over the relay, without
   * it (Node) the call ends 'no-path'. Read at every call. Default false.
   */
  relayOnly?: boolean | (() => boolean);
  logger?: Logger;
  timeouts?: Partial<CallTimeouts>;
  /** Stop our local tracks when a call ends (default true: the camera light goes off). */
  stopTracksOnEnd?: boolean;
  /** simple-peer constructor (default: the `simple-peer` package; the browser build may pass its bundle). */
  SimplePeer?: SimplePeerConstructor;
  /**
   * Media over the relay (relay-media/pipeline.ts: in Chromium, WebCodecs in a worker) and a way to open a relay
   * channel to a contact (RelayClient.openChannel). With both, a call whose direct media has not connected
   * within `relayHeadStartMs` carries its media over the relay instead of failing.
   */
  relayMedia?: {
    engine: RelayMediaEngine;
    openChannel(to: string, tag: string): Promise<RelayChannelSocket>;
  };
  /** AES-GCM for the relay media channel (Node: platform/node/src/aead.ts). Default WebCrypto. */
  aead?: AeadEngine;
}

export interface CallManagerEvents<S extends StreamLike = StreamLike> {
  /** An incoming call is ringing (answer with call.accept(stream) or call.decline()). */
  incoming: Call<S>;
  /** Every new call, outgoing or incoming (for call history). */
  call: Call<S>;
  /** A contact called while we were busy; we answered 'busy' for us. */
  missed: { peerId: string; callId: string; offered: CallMedia; at: number };
  /** A contact's Parley speaks another version of call signals (e.g. rang us in clear, v1): no call is possible. */
  incompatible: { peerId: string; message: string; at: number };
}
