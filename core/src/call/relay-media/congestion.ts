// Send-side congestion control for relay media, driven by the receiver's feedback (bytes received per
// track, every ~100 ms), never by WebSocket.bufferedAmount: that stays near 0 while the relay's queue
// holds hundreds of KB. Keeping the unacknowledged bytes under ~0.25 s of the send rate, and the oldest
// unacknowledged frame younger than ~250 ms, bounds the queue anywhere on the path, so latency stays
// bounded on a slow link. Pure (injected clock), so it is tested on a simulated link.
//
// What it decides:
//  - skipVideo(): skip a captured video frame before encoding (the cheapest drop);
//  - admit(frame): drop an encoded temporal-layer > 0 video frame (nothing depends on it); never audio,
//    never a base-layer frame (later frames reference it);
//  - the target (AIMD bitrate; then half resolution, then half frame rate, then audio only);
//  - key frames: at start, after a switch (reset), on the receiver's request (≤ 1/s), every 15 s.

export interface CongestionOptions {
  /** Video bitrate to start at, bit/s. */
  startBitrate?: number;
  minBitrate?: number;
  maxBitrate?: number;
  /** Audio bitrate, bit/s (never adapted: audio is never dropped). */
  audioBitrate?: number;
  /** Unacknowledged bytes allowed, as seconds of the current send rate. */
  inflightSeconds?: number;
  /** The oldest unacknowledged frame may be this old (ms). */
  maxAgeMs?: number;
  keyFrameIntervalMs?: number;
  minKeyRequestGapMs?: number;
}

export interface SendTarget {
  /** Video encoder bitrate, bit/s. */
  bitrate: number;
  /** Divides the captured resolution (1 = as captured, 2 = half width and height). */
  scaleDown: 1 | 2;
  /** Frames per second to encode (frames beyond are skipped before encoding). */
  fps: number;
  /** No video at all: the link cannot carry it. */
  audioOnly: boolean;
}

interface InFlight {
  /** Cumulative bytes sent on the track once this frame was sent. */
  upTo: number;
  sentAt: number;
}

const DEFAULTS = {
  startBitrate: 600_000,
  minBitrate: 60_000,
  maxBitrate: 1_500_000,
  audioBitrate: 32_000,
  inflightSeconds: 0.25,
  maxAgeMs: 250,
  keyFrameIntervalMs: 15_000,
  minKeyRequestGapMs: 1_000,
};

/** Below these video bitrates the sender steps down (and back up at 1.5× with hysteresis). */
const HALF_RES_BELOW = 250_000;
const HALF_FPS_BELOW = 120_000;
/** Congested at the lowest video bitrate this long: audio only. */
const AUDIO_ONLY_AFTER_MS = 1_500;
/** Video's first bitrate after audio only. */
const PROBE_BITRATE = 100_000;
const FULL_FPS = 30;
/** Decrease at most this often (one reaction per round of feedback about the same queue). */
const DECREASE_GAP_MS = 300;
/**
 * Audio only is left only after this long: a link that cannot carry video can only be probed by sending video,
 * and a probe's key frame queues audio behind it. Doubles when video fails again within PROBE_FAILED_MS.
 */
const AUDIO_ONLY_HOLD_MS = 30_000;
const MAX_AUDIO_ONLY_HOLD_MS = 5 * 60_000;
const PROBE_FAILED_MS = 10_000;
/** Headroom over the minimum budget, so a single key frame does not count as congestion. */
const MIN_BUDGET_BYTES = 12_000;
/**
 * The feedback loop's own delay (a frame's send → its acknowledgement, the least seen in this window) is not
 * a queue: a busy machine's timers and threads stretch it to a few hundred ms on an idle link. The bounds on
 * bytes in flight and on the oldest frame's age apply beyond it (up to this much of it).
 */
const BASE_DELAY_WINDOW_MS = 5_000;
const MAX_BASE_DELAY_MS = 150;

class TrackCounter {
  sent = 0;
  acked = 0;
  readonly frames: InFlight[] = [];

  onSent(bytes: number, now: number): void {
    this.sent += bytes;
    this.frames.push({ upTo: this.sent, sentAt: now });
  }

  /** `received` is the receiver's cumulative count mod 2^32. Records the newest acknowledged frame's delay. */
  onAck(received: number, now: number, delays: Array<{ at: number; ms: number }>): number {
    // Unwrap the u32 counter against what we sent.
    const lag = (this.sent - received) >>> 0;
    // A report ahead of what we sent is bogus (or stale by 2^31 bytes): count it as everything received.
    const acked = Math.max(this.acked, lag >= 0x80000000 ? this.sent : this.sent - lag);
    const delta = acked - this.acked;
    this.acked = acked;
    let newest: InFlight | undefined;
    while (this.frames.length > 0 && this.frames[0]!.upTo <= acked) newest = this.frames.shift();
    if (newest) delays.push({ at: now, ms: now - newest.sentAt });
    return delta;
  }

  get inflight(): number {
    return this.sent - this.acked;
  }

  oldest(): number | null {
    return this.frames[0]?.sentAt ?? null;
  }
}

export class CongestionController {
  readonly #o: Required<CongestionOptions>;
  readonly #audio = new TrackCounter();
  readonly #video = new TrackCounter();
  #bitrate: number;
  #scaleDown: 1 | 2 = 1;
  #fps = FULL_FPS;
  #audioOnly = false;
  #lastDecrease = -Infinity;
  #lastFeedback: number | null = null;
  #lastKey = -Infinity;
  #keyWanted = true;
  #lastKeyRequest = -Infinity;
  #lastEncodedAt = -Infinity;
  /** Delivered rate (bit/s) measured from acknowledgements, smoothed. */
  #deliveredBps: number | null = null;
  #droppedAfterEncode = 0;
  #skippedBeforeEncode = 0;
  /** Audio only since, and for how long before video is tried again (doubles when a try fails). */
  #audioOnlySince = 0;
  #audioOnlyHoldMs = AUDIO_ONLY_HOLD_MS;
  #videoBackAt = -Infinity;
  #wasCongested = false;
  #floorCongestedSince: number | null = null;
  /** Acknowledgement delays of recent reports (send → ack of the newest frame each acknowledged). */
  readonly #ackDelays: Array<{ at: number; ms: number }> = [];
  #baseDelay = 0;
  /** Cumulative bytes sent and acknowledged at recent reports: does the path keep up with what we send? */
  readonly #progress: Array<{ at: number; sent: number; acked: number }> = [];

  constructor(options: CongestionOptions = {}) {
    this.#o = { ...DEFAULTS, ...options };
    this.#bitrate = this.#o.startBitrate;
  }

  target(): SendTarget {
    return {
      bitrate: Math.round(this.#bitrate),
      scaleDown: this.#scaleDown,
      fps: this.#fps,
      audioOnly: this.#audioOnly,
    };
  }

  get inflightBytes(): number {
    return this.#audio.inflight + this.#video.inflight;
  }

  get counters(): { droppedAfterEncode: number; skippedBeforeEncode: number; deliveredBps: number | null } {
    return {
      droppedAfterEncode: this.#droppedAfterEncode,
      skippedBeforeEncode: this.#skippedBeforeEncode,
      deliveredBps: this.#deliveredBps,
    };
  }

  /** The feedback loop's own delay (ms): the least acknowledgement delay seen recently, capped. */
  get baseDelayMs(): number {
    return this.#baseDelay;
  }

  /** Bytes allowed in flight: ~0.25 s of what we send now, beyond what the feedback loop itself holds. */
  budgetBytes(): number {
    const rate = (this.#audioOnly ? 0 : this.#bitrate) + this.#o.audioBitrate;
    return Math.max(MIN_BUDGET_BYTES, (rate / 8) * (this.#o.inflightSeconds + this.#baseDelay / 1000));
  }

  /** True while the path holds more than it should: too many bytes, or a frame waiting too long. */
  congested(now: number): boolean {
    if (this.inflightBytes > this.budgetBytes()) return true;
    const oldest = minOf(this.#audio.oldest(), this.#video.oldest());
    return oldest !== null && now - oldest > this.#o.maxAgeMs + this.#baseDelay;
  }

  /** Before encoding a captured video frame: skip it? (congested, above the frame rate, or audio only). */
  skipVideo(now: number): boolean {
    const skip =
      this.#audioOnly || this.congested(now) || now - this.#lastEncodedAt < 1000 / this.#fps - 1000 / FULL_FPS / 2;
    if (skip) this.#skippedBeforeEncode++;
    else this.#lastEncodedAt = now;
    return skip;
  }

  /** After encoding: send this frame? Audio and base-layer video always go; upper layers only when not congested. */
  admit(track: 'audio' | 'video', layer: number, now: number): boolean {
    if (track === 'audio' || layer === 0) return true;
    if (!this.congested(now)) return true;
    this.#droppedAfterEncode++;
    return false;
  }

  onSent(track: 'audio' | 'video', bytes: number, key: boolean, now: number): void {
    (track === 'audio' ? this.#audio : this.#video).onSent(bytes, now);
    if (key) {
      this.#lastKey = now;
      this.#keyWanted = false;
    }
  }

  /** The receiver's report. Adjusts the bitrate (AIMD) and the resolution/frame-rate/audio-only steps. */
  onFeedback(audioBytes: number, videoBytes: number, now: number): void {
    const delays = this.#ackDelays;
    const delivered = this.#audio.onAck(audioBytes, now, delays) + this.#video.onAck(videoBytes, now, delays);
    while (delays.length > 0 && now - delays[0]!.at > BASE_DELAY_WINDOW_MS) delays.shift();
    let base = Infinity;
    for (const d of delays) base = Math.min(base, d.ms);
    // The allowance only while the path delivers what we send (over the last 2 s or more): a path that
    // falls behind is a queue, however slow the loop.
    const progress = this.#progress;
    progress.push({ at: now, sent: this.#audio.sent + this.#video.sent, acked: this.#audio.acked + this.#video.acked });
    while (progress.length > 2 && now - progress[1]!.at >= 2_000) progress.shift();
    const first = progress[0]!;
    const keepsUp =
      now - first.at >= 2_000 &&
      this.#audio.acked + this.#video.acked - first.acked >= 0.8 * (this.#audio.sent + this.#video.sent - first.sent);
    this.#baseDelay = keepsUp && base !== Infinity ? Math.min(MAX_BASE_DELAY_MS, Math.max(0, base)) : 0;
    const since = this.#lastFeedback;
    this.#lastFeedback = now;
    const congested = this.congested(now);
    // Only while a queue stood the whole interval is the delivered rate the path's capacity (else it is
    // just what we sent).
    if (since !== null && now > since && this.#wasCongested && congested) {
      const bps = (delivered * 8 * 1000) / (now - since);
      this.#deliveredBps = this.#deliveredBps === null ? bps : this.#deliveredBps * 0.7 + bps * 0.3;
    }
    this.#wasCongested = congested;
    if (congested) {
      if (now - this.#lastDecrease >= DECREASE_GAP_MS) {
        this.#lastDecrease = now;
        let next = this.#bitrate * 0.8;
        // What got through bounds what we try next (minus audio, with headroom), at most halving per step.
        if (this.#deliveredBps !== null)
          next = Math.min(next, Math.max(this.#bitrate * 0.5, (this.#deliveredBps - this.#o.audioBitrate) * 0.9));
        this.#bitrate = Math.max(this.#o.minBitrate, next);
      }
    } else if (this.#audioOnly) {
      if (now - this.#audioOnlySince >= this.#audioOnlyHoldMs) {
        this.#bitrate = PROBE_BITRATE; // try video again, at a low step
        this.#lastDecrease = now;
      }
    } else if (this.inflightBytes < this.budgetBytes() / 2 && now - this.#lastDecrease > 1_000) {
      // Additive increase: ~+5 % of the maximum per second, in 100 ms steps.
      this.#bitrate = Math.min(this.#o.maxBitrate, this.#bitrate + this.#o.maxBitrate * 0.005);
    }
    this.#steps(now, congested);
  }

  /** The receiver asked for a key frame (it lost one, or started decoding): honoured at most once a second. */
  onKeyRequest(now: number): void {
    if (now - this.#lastKeyRequest < this.#o.minKeyRequestGapMs) return;
    this.#lastKeyRequest = now;
    this.#keyWanted = true;
  }

  /** A new path (or a restart): start with a key frame and a fresh view of the path. */
  reset(): void {
    this.#keyWanted = true;
    this.#audio.acked = this.#audio.sent;
    this.#video.acked = this.#video.sent;
    this.#audio.frames.length = 0;
    this.#video.frames.length = 0;
  }

  /** Should the next video frame be a key frame? */
  wantsKeyFrame(now: number): boolean {
    return this.#keyWanted || now - this.#lastKey >= this.#o.keyFrameIntervalMs;
  }

  #steps(now: number, congested: boolean): void {
    const b = this.#bitrate;
    // Audio only when even the lowest video bitrate keeps the path congested for a while (one bad report,
    // or a burst on a TCP path, is not enough).
    const atFloor = congested && b <= this.#o.minBitrate;
    if (!atFloor) this.#floorCongestedSince = null;
    else this.#floorCongestedSince ??= now;
    if (this.#audioOnly) {
      if (b >= PROBE_BITRATE) {
        this.#audioOnly = false;
        this.#videoBackAt = now;
        this.#keyWanted = true; // the receiver's decoder has nothing to continue from
      }
    } else if (this.#floorCongestedSince !== null && now - this.#floorCongestedSince >= AUDIO_ONLY_AFTER_MS) {
      this.#audioOnly = true;
      this.#audioOnlyHoldMs =
        now - this.#videoBackAt < PROBE_FAILED_MS
          ? Math.min(MAX_AUDIO_ONLY_HOLD_MS, this.#audioOnlyHoldMs * 2)
          : AUDIO_ONLY_HOLD_MS;
      this.#audioOnlySince = now;
      this.#floorCongestedSince = null;
    }
    if (this.#fps < FULL_FPS) {
      if (b >= HALF_FPS_BELOW * 1.5) this.#fps = FULL_FPS;
    } else if (b < HALF_FPS_BELOW) this.#fps = FULL_FPS / 2;
    if (this.#scaleDown === 2) {
      if (b >= HALF_RES_BELOW * 1.5) this.#scaleDown = 1;
    } else if (b < HALF_RES_BELOW) this.#scaleDown = 2;
  }
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
