// What a platform provides to carry call media over the relay: encoders and decoders (in Chromium, WebCodecs
// in a worker fed by MediaStreamTrackProcessor, decoding into MediaStreamTrackGenerator). Core stays free of
// DOM types: tracks and streams are the structural shapes of media-types.ts.
import type { ChannelHandOff } from '../../crypto/aead-channel.js';
import type { Logger } from '../../platform/types.js';
import type { StreamLike, TrackLike } from '../media-types.js';
import type { SendTarget } from './congestion.js';
import type { MediaFlowCounters } from './flow.js';
import type { MediaFrame, MediaFrameHeader } from './frame.js';
import type { StageSummary } from './stages.js';

/** What the link tells the encoder side, whenever it changes. */
export interface SendControl extends SendTarget {
  /** Skip captured video frames before encoding (the path holds too much). */
  pauseVideo: boolean;
}

export interface RelayMediaStats {
  /** Decoded (received) video frames and audio samples so far. */
  videoFramesDecoded: number;
  audioSamplesDecoded: number;
  /** Encoded (sent) frames so far. */
  videoFramesEncoded: number;
  audioFramesEncoded: number;
  frameWidth: number | null;
  frameHeight: number | null;
  /** Capture (sender clock) → shown here, ms, of recent video frames: median and p95. */
  latencyMs: number | null;
  latencyP95Ms: number | null;
  /** Video frames handed to the display, and decoded frames dropped as late by the jitter buffer. */
  videoFramesShown: number;
  videoFramesLate: number;
  /** The jitter buffer's current playout delay, ms. */
  playoutDelayMs: number | null;
  /**
   * Audio playout (cumulative, ms): time played from decoded frames, and underruns (silence inserted for a
   * missing or late frame, or the output left dry). played + underrun is the time the output ran.
   */
  audioPlayedMs: number;
  audioUnderrunMs: number;
  /**
   * The parts of audioUnderrunMs (raw, at the decoder's playout): silence put in for missing or late frames
   * (audible wherever the audio plays), and the output's stalls (a late timer; audible only when the
   * generator plays directly: the peer-connection loopback's jitter buffer absorbs them). With the loopback,
   * audioUnderrunMs is the silence plus what the loopback's receiver concealed: what the speaker gets.
   */
  audioSilenceMs?: number;
  audioStallMs?: number;
  audioConcealedMs?: number | null;
  /**
   * The received audio plays out of a (local) RTCPeerConnection, whose output Chromium's echo canceller
   * hears; false: straight from the decoder (no echo cancellation of it).
   */
  audioViaPeerConnection: boolean;
  /** Capture → each stage (stages.ts), ms: where a frame's latency goes. */
  stages: Record<string, StageSummary>;
  videoCodec: string | null;
  audioCodec: string | null;
  /** With the record layer in the pipeline (attachRecordLayer): the link's counters, kept there. */
  link?: MediaFlowCounters;
  /**
   * With the record layer in the pipeline: its sealed records go through the window ('window'), or between
   * the media connection's own worker and the pipeline, never through the window ('lane-worker').
   */
  recordRoute?: 'window' | 'lane-worker';
}

/** Stats before any media moved: every count zero, nothing measured yet. */
export function emptyRelayMediaStats(): RelayMediaStats {
  return {
    videoFramesDecoded: 0,
    audioSamplesDecoded: 0,
    videoFramesEncoded: 0,
    audioFramesEncoded: 0,
    frameWidth: null,
    frameHeight: null,
    latencyMs: null,
    latencyP95Ms: null,
    videoFramesShown: 0,
    videoFramesLate: 0,
    playoutDelayMs: null,
    audioPlayedMs: 0,
    audioUnderrunMs: 0,
    audioViaPeerConnection: false,
    stages: {},
    videoCodec: null,
    audioCodec: null,
  };
}

/** What a pipeline that runs the record layer itself gets (RelayMediaPipeline.attachRecordLayer). */
export interface RecordLayerHandOff {
  /** The relay channel's secure channel, handed off after its key agreement (RelayTransport.handOff). */
  channel: ChannelHandOff;
  /** Plaintext media messages opened before the hand-off, in order: they come before any sealed record. */
  early: Uint8Array[];
  /**
   * The relay channel's peer and tag, when it is a relay channel: a platform whose media connection lives
   * off the window can route the channel's records straight to the pipeline.
   */
  route?: { peer: string; tag: string };
}

export interface RelayMediaPipeline<S extends StreamLike = StreamLike> {
  /** The received media as ordinary tracks (the call's remoteStream). */
  readonly remoteStream: S;
  /** A validated frame from the peer. */
  deliver(frame: MediaFrame): void;
  /** The congestion controller's decision (bitrate, resolution, frame rate, pause). */
  control(control: SendControl): void;
  /** Encode the next video frame as a key frame. */
  keyFrame(): void;
  /** Device switch: encode from `next` instead of `previous`. */
  replaceTrack(previous: TrackLike, next: TrackLike): void;
  stats(): RelayMediaStats;
  close(): void;
  /**
   * Optional: the record layer, numbering, feedback and congestion control run in the pipeline (a worker),
   * beside the codecs, so media never crosses to the caller in plaintext. From then on onFrame and
   * onKeyFrameNeeded are not called: `write` gets sealed records for the relay channel (CHANNEL_HEADER_BYTES
   * of room first) and the function returned takes the channel's sealed records, in order. The link's
   * counters come in stats().link; its end in onClosed.
   */
  attachRecordLayer?(handOff: RecordLayerHandOff, write: (sealed: Uint8Array) => void): (sealed: Uint8Array) => void;
}

export interface RelayMediaStartOptions {
  tracks: ReadonlyArray<{ track: TrackLike; stream: StreamLike }>;
  /** An encoded frame (without its seq: the link numbers what it sends). */
  onFrame(frame: Omit<MediaFrameHeader, 'seq'> & { payload: Uint8Array }): void;
  /** The decoder lost its reference (error, gap): ask the sender for a key frame. */
  onKeyFrameNeeded(): void;
  /** Optional: the peer's first frame of `kind` decoded (once per kind): its media is here and plays. */
  onReceived?(kind: 'audio' | 'video'): void;
  /** The pipeline cannot go on (codec unsupported, worker died). */
  onError(message: string): void;
  /** The record layer the pipeline runs (attachRecordLayer) closed: a refused record, a failed seal. */
  onClosed?(reason: string): void;
  logger: Logger;
}

export interface RelayMediaEngine<S extends StreamLike = StreamLike> {
  /** Starts encoding our tracks and decoding the peer's. */
  start(options: RelayMediaStartOptions): RelayMediaPipeline<S>;
  /**
   * Optional: get the next start() ready ahead (the browser's media worker loaded and compiled, which takes
   * 0.3–0.5 s on a busy machine and otherwise delays a move to the relay by as much). Idempotent.
   */
  prepare?(): void;
  /** Optional: drop what prepare() made ready (the call ended). */
  release?(): void;
}
