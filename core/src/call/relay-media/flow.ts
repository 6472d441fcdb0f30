// The per-frame logic of a call's relay media, wherever the record layer runs (the window: link.ts; the
// media worker: record-layer.ts): numbers our encoded frames per track and writes their header, refuses the
// peer's malformed, duplicate and old messages, reports received bytes every 100 ms (the peer's congestion
// control reads them) and runs ours (congestion.ts) from the peer's reports, telling the encoder what it
// decided. It sends and receives plaintext media messages (frame.ts); sealing is its owner's job.
import type { Logger } from '../../platform/types.js';
import { CongestionController, type CongestionOptions } from './congestion.js';
import {
  decodeMediaMessage,
  encodeFeedback,
  encodeKeyRequest,
  MEDIA_HEADER_BYTES,
  seqAfter,
  writeMediaHeader,
  type MediaFrame,
  type MediaTrackKind,
} from './frame.js';
import type { SendControl } from './pipeline.js';
import { StageTimes, type StageSummary } from './stages.js';

export const FEEDBACK_INTERVAL_MS = 100;
/** Malformed messages tolerated from an authenticated peer before the link gives up on it. */
const MAX_MALFORMED = 20;

/** The link's own counters (beside the pipeline's RelayMediaStats). */
export interface MediaFlowCounters {
  bytesSent: number;
  bytesReceived: number;
  /** Capture → the receiver's report of it, back here: a round-trip estimate, ms. */
  rttMs: number | null;
  bitrate: number;
  inflightBytes: number;
  droppedAfterEncode: number;
  skippedBeforeEncode: number;
  refused: number;
  /** Capture → handed to the record layer (ours) and → opened from it (the peer's). */
  stages: Record<string, StageSummary>;
}

/** The encoder/decoder side the flow drives. */
export interface MediaFlowSink {
  deliver(frame: MediaFrame): void;
  control(control: SendControl): void;
  keyFrame(): void;
}

export interface MediaFlowOptions {
  sink: MediaFlowSink;
  /** A plaintext media message for the record layer (which owns it from now on). */
  send(message: Uint8Array): void;
  /** The flow gave up (the peer sent too many malformed messages, or send() threw). */
  onFail(reason: string): void;
  logger: Logger;
  congestion?: CongestionOptions;
  now?: () => number;
}

export class MediaFlow {
  readonly #o: MediaFlowOptions;
  readonly #cc: CongestionController;
  readonly #now: () => number;
  readonly #seqOut: Record<MediaTrackKind, number> = { audio: 0, video: 0 };
  readonly #seqIn: Record<MediaTrackKind, number | null> = { audio: null, video: null };
  readonly #received: Record<MediaTrackKind, number> = { audio: 0, video: 0 };
  readonly #stages = new StageTimes();
  #newestCapture = 0;
  #receivedSinceFeedback = false;
  #bytesSent = 0;
  #bytesReceived = 0;
  #rttMs: number | null = null;
  #refused = 0;
  #lastControl = '';
  #stopped = false;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(options: MediaFlowOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#cc = new CongestionController(options.congestion);
    this.#timer = setInterval(() => this.#tick(), FEEDBACK_INTERVAL_MS);
    options.sink.keyFrame();
    this.#pushControl();
  }

  counters(): MediaFlowCounters {
    const c = this.#cc.counters;
    return {
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      rttMs: this.#rttMs,
      bitrate: this.#cc.target().bitrate,
      inflightBytes: this.#cc.inflightBytes,
      droppedAfterEncode: c.droppedAfterEncode,
      skippedBeforeEncode: c.skippedBeforeEncode,
      refused: this.#refused,
      stages: this.#stages.summary(),
    };
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** An encoded frame from our encoder. */
  send(f: Omit<MediaFrame, 'seq'>): void {
    if (this.#stopped) return;
    const now = this.#now();
    if (!this.#cc.admit(f.track, f.layer, now)) {
      this.#pushControl();
      return;
    }
    const bytes = new Uint8Array(MEDIA_HEADER_BYTES + f.payload.length);
    const seq = this.#seqOut[f.track];
    this.#seqOut[f.track] = (seq + 1) >>> 0;
    writeMediaHeader(bytes, { ...f, seq });
    bytes.set(f.payload, MEDIA_HEADER_BYTES);
    if (!this.#write(bytes)) return;
    this.#bytesSent += bytes.length;
    this.#stages.record(`${f.track}.sent`, now - f.captureMs);
    this.#cc.onSent(f.track, bytes.length, f.key, now);
    this.#pushControl();
  }

  /** Our decoder lost its reference: ask the peer for a key frame. */
  requestKeyFrame(): void {
    if (!this.#stopped) this.#write(encodeKeyRequest());
  }

  /** A plaintext message the record layer opened. */
  receive(bytes: Uint8Array): void {
    if (this.#stopped) return;
    let msg;
    try {
      msg = decodeMediaMessage(bytes);
    } catch (error) {
      this.#refused++;
      this.#o.logger.warn({ err: (error as Error).message }, 'malformed relay media message refused');
      if (this.#refused > MAX_MALFORMED) this.#fail('the contact sent malformed media');
      return;
    }
    const now = this.#now();
    switch (msg.type) {
      case 'feedback':
        if (msg.echoCaptureMs > 0 && msg.echoCaptureMs <= now) this.#rttMs = now - msg.echoCaptureMs;
        this.#cc.onFeedback(msg.audioBytes, msg.videoBytes, now);
        this.#pushControl();
        return;
      case 'key-request':
        this.#cc.onKeyRequest(now);
        this.#pushControl();
        return;
      case 'media': {
        const last = this.#seqIn[msg.track];
        if (last !== null && !seqAfter(msg.seq, last)) {
          this.#refused++; // a duplicate or an old frame: never decoded twice
          return;
        }
        this.#seqIn[msg.track] = msg.seq;
        this.#received[msg.track] += bytes.length;
        this.#bytesReceived += bytes.length;
        if (msg.captureMs > this.#newestCapture) this.#newestCapture = msg.captureMs;
        this.#receivedSinceFeedback = true;
        this.#stages.record(`${msg.track}.arrived`, now - msg.captureMs);
        this.#o.sink.deliver(msg);
        return;
      }
    }
  }

  #fail(reason: string): void {
    if (this.#stopped) return;
    this.stop();
    this.#o.onFail(reason);
  }

  #write(bytes: Uint8Array): boolean {
    try {
      this.#o.send(bytes);
      return true;
    } catch (error) {
      this.#fail(`relay media send failed: ${(error as Error).message}`);
      return false;
    }
  }

  #tick(): void {
    if (this.#stopped) return;
    if (this.#receivedSinceFeedback) {
      this.#receivedSinceFeedback = false;
      const ok = this.#write(
        encodeFeedback({
          audioBytes: this.#received.audio,
          videoBytes: this.#received.video,
          videoSeq: this.#seqIn.video ?? 0,
          receiverMs: this.#now(),
          echoCaptureMs: this.#newestCapture,
        }),
      );
      if (!ok) return;
    }
    this.#pushControl();
  }

  /** Tells the encoder what the controller decided, only when something changed. */
  #pushControl(): void {
    const now = this.#now();
    if (this.#cc.wantsKeyFrame(now)) {
      this.#o.sink.keyFrame();
      // Counted as sent when the key frame goes out; until then do not ask again every frame.
      this.#cc.onSent('video', 0, true, now);
    }
    const target = this.#cc.target();
    const control: SendControl = { ...target, pauseVideo: target.audioOnly || this.#cc.congested(now) };
    const key = `${control.bitrate}|${control.scaleDown}|${control.fps}|${control.audioOnly}|${control.pauseVideo}`;
    if (key === this.#lastControl) return;
    this.#lastControl = key;
    this.#o.sink.control(control);
  }
}
