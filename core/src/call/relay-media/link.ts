// One call's media over the relay: a relay channel of its own with its own signed key agreement and
// AES-GCM counters (session/relay-transport.ts, reused as is: a replayed, reordered or forged record kills
// it), one message per encoded frame (frame.ts), the receiver's feedback every 100 ms and the congestion
// controller (congestion.ts) between the encoder and the channel. Media never goes through the session's
// reliable stream: its retransmission and resume would replay stale media.
import type { Logger } from '../../platform/types.js';
import type { RelayTransport } from '../../session/relay-transport.js';
import { Emitter } from '../../util/emitter.js';
import type { StreamLike } from '../media-types.js';
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
import type { RelayMediaEngine, RelayMediaPipeline, RelayMediaStats, SendControl } from './pipeline.js';
import { StageTimes } from './stages.js';

export const FEEDBACK_INTERVAL_MS = 100;
/** Malformed messages tolerated from an authenticated peer before the link gives up on it. */
const MAX_MALFORMED = 20;

export interface RelayMediaLinkStats extends RelayMediaStats {
  bytesSent: number;
  bytesReceived: number;
  /** Capture → the receiver's report of it, back here: a round-trip estimate, ms. */
  rttMs: number | null;
  bitrate: number;
  inflightBytes: number;
  droppedAfterEncode: number;
  skippedBeforeEncode: number;
  refused: number;
}

interface LinkEvents {
  /** The link is gone (the channel closed, a record was refused, the pipeline failed). */
  closed: string;
}

export interface RelayMediaLinkOptions<S extends StreamLike> {
  transport: RelayTransport;
  engine: RelayMediaEngine<S>;
  tracks: ReadonlyArray<{ track: import('../media-types.js').TrackLike; stream: StreamLike }>;
  logger: Logger;
  congestion?: CongestionOptions;
  now?: () => number;
}

export class RelayMediaLink<S extends StreamLike = StreamLike> {
  readonly #transport: RelayTransport;
  readonly #pipeline: RelayMediaPipeline<S>;
  readonly #cc: CongestionController;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #events = new Emitter<LinkEvents>();
  readonly #seqOut: Record<MediaTrackKind, number> = { audio: 0, video: 0 };
  readonly #seqIn: Record<MediaTrackKind, number | null> = { audio: null, video: null };
  readonly #received: Record<MediaTrackKind, number> = { audio: 0, video: 0 };
  #newestCapture = 0;
  #receivedSinceFeedback = false;
  #bytesSent = 0;
  #bytesReceived = 0;
  #rttMs: number | null = null;
  #refused = 0;
  #lastControl = '';
  #closed = false;
  /** Capture → handed to the channel (ours) and → opened from the channel (the peer's). */
  readonly #stages = new StageTimes();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #offs: Array<() => void> = [];

  constructor(options: RelayMediaLinkOptions<S>) {
    this.#transport = options.transport;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
    this.#cc = new CongestionController(options.congestion);
    this.#pipeline = options.engine.start({
      tracks: options.tracks,
      onFrame: (f) => this.#send(f),
      onKeyFrameNeeded: () => this.#sendControl(encodeKeyRequest()),
      onError: (message) => this.close(`media pipeline failed: ${message}`),
      logger: options.logger,
    });
    this.#offs.push(this.#transport.onFrame((bytes) => this.#onMessage(bytes)));
    this.#offs.push(this.#transport.onClose((reason) => this.close(reason)));
    this.#timer = setInterval(() => this.#tick(), FEEDBACK_INTERVAL_MS);
    this.#pipeline.keyFrame();
    this.#pushControl();
  }

  get remoteStream(): S {
    return this.#pipeline.remoteStream;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pipeline(): RelayMediaPipeline<S> {
    return this.#pipeline;
  }

  on<K extends keyof LinkEvents>(event: K, listener: (value: LinkEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  stats(): RelayMediaLinkStats {
    const c = this.#cc.counters;
    const pipeline = this.#pipeline.stats();
    return {
      ...pipeline,
      stages: { ...pipeline.stages, ...this.#stages.summary() },
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      rttMs: this.#rttMs,
      bitrate: this.#cc.target().bitrate,
      inflightBytes: this.#cc.inflightBytes,
      droppedAfterEncode: c.droppedAfterEncode,
      skippedBeforeEncode: c.skippedBeforeEncode,
      refused: this.#refused,
    };
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const off of this.#offs) off();
    this.#pipeline.close();
    this.#transport.close(reason);
    this.#events.emit('closed', reason);
    this.#events.removeAll();
  }

  #send(f: Omit<MediaFrame, 'seq'>): void {
    if (this.#closed) return;
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
    try {
      this.#transport.send(bytes);
    } catch (error) {
      this.close(`relay media send failed: ${(error as Error).message}`);
      return;
    }
    this.#bytesSent += bytes.length;
    this.#stages.record(`${f.track}.sent`, now - f.captureMs);
    this.#cc.onSent(f.track, bytes.length, f.key, now);
    this.#pushControl();
  }

  #sendControl(bytes: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#transport.send(bytes);
    } catch (error) {
      this.close(`relay media send failed: ${(error as Error).message}`);
    }
  }

  #onMessage(bytes: Uint8Array): void {
    if (this.#closed) return;
    let msg;
    try {
      msg = decodeMediaMessage(bytes);
    } catch (error) {
      this.#refused++;
      this.#log.warn({ err: (error as Error).message }, 'malformed relay media message refused');
      if (this.#refused > MAX_MALFORMED) this.close('the contact sent malformed media');
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
        this.#pipeline.deliver(msg);
        return;
      }
    }
  }

  #tick(): void {
    if (this.#closed) return;
    if (this.#receivedSinceFeedback) {
      this.#receivedSinceFeedback = false;
      this.#sendControl(
        encodeFeedback({
          audioBytes: this.#received.audio,
          videoBytes: this.#received.video,
          videoSeq: this.#seqIn.video ?? 0,
          receiverMs: this.#now(),
          echoCaptureMs: this.#newestCapture,
        }),
      );
    }
    this.#pushControl();
  }

  /** Tells the encoder what the controller decided, only when something changed. */
  #pushControl(): void {
    const now = this.#now();
    if (this.#cc.wantsKeyFrame(now)) {
      this.#pipeline.keyFrame();
      // Counted as sent when the key frame goes out; until then do not ask again every frame.
      this.#cc.onSent('video', 0, true, now);
    }
    const target = this.#cc.target();
    const control: SendControl = { ...target, pauseVideo: target.audioOnly || this.#cc.congested(now) };
    const key = `${control.bitrate}|${control.scaleDown}|${control.fps}|${control.audioOnly}|${control.pauseVideo}`;
    if (key === this.#lastControl) return;
    this.#lastControl = key;
    this.#pipeline.control(control);
  }
}
