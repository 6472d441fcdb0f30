// Which path carries an active call's media, direct (the WebRTC peer connection) or the relay (relay-media/),
// and when to move. Pure: the call feeds it samples of the direct peer's getStats, ICE and peer-connection
// events and the contact's path reports (signal op 'path'); it answers with moves and says when to report.
//
// Direct → relay, either side, as soon as direct media stalls: no inbound RTP byte for the stall threshold.
// RTP is the signal, not ICE: Chromium calls a dead path 'disconnected' only after ~2.5 s of silence, and audio
// keeps RTP flowing at 50 packets/s even when muted (a disabled track sends silence), so half a second without
// a byte is a dead path, not a quiet one. The threshold follows the path's own cadence: twice the longest
// silence that ended (packets came again) in the last `cadenceWindowMs`, between `minStallMs` and `stallMs`,
// and `stallMs` in the first `warmupMs` on direct (no cadence known yet). A quiet machine whose packets never
// pause for more than ~200 ms moves after minStallMs; a busy one, whose packets pause longer, waits up to
// stallMs, so its pauses do not move the call. ICE 'disconnected'/'failed' and a closed peer connection move
// at once too.
// Silent for `suspectMs` already, direct is `stalling`: the call starts the relay media ahead, unshown, so the
// move at stallMs only swaps the picture (the relay's encoders, first key frame and decoder are ready by then).
// Confirmed by the contact, the move comes sooner: its relay media reaching us (and decoding) while direct is
// silent says the contact sees direct silent too (it starts its relay media ahead only then), so a cut is
// seen from both ends; the threshold is then `confirmedRatio` of the stall threshold (at least suspectMs).
// One busy machine stalls only its own side; the path-steady integration test loads both sides at once.
// Relay → direct, led by the caller so both never disagree: while on the relay the direct peer connection is
// kept (ICE keeps checking and recovers by itself when the path comes back); each side reports `directOk`
// once its direct RTP has flowed again for `recoverMs`; the caller moves back when it and the callee both
// see direct media, the callee follows. A path that breaks again soon after a move back doubles `recoverMs`
// (up to `maxRecoverMs`), so a flaky path does not flap.
// Agreement: every move bumps an epoch carried in the reports; a report of an older epoch is stale. Two moves
// of the same epoch to different paths (both sides moved at once) resolve to the relay, which always works.

export type MediaPath = 'direct' | 'relay';

export interface DirectSample {
  /** Date.now() when sampled. */
  at: number;
  /** RTP bytes received so far on the direct peer connection (every inbound-rtp stream). */
  inboundBytes: number;
  /**
   * How long no RTP packet has arrived, per the report itself (its time − the newest inbound-rtp
   * lastPacketReceivedTimestamp; inboundSilenceMs). Exact whatever the sampling cadence, so a cut is seen
   * stallMs after the last packet, not after the last sample that saw bytes grow. Absent (Node's wrtc, or no
   * packet yet): byte growth between samples decides.
   */
  silentMs?: number | null;
  /** The direct peer's ICE state is connected or completed. */
  iceUp: boolean;
  /** Video frames decoded so far on the direct peer connection (inbound-rtp framesDecoded). */
  videoFrames?: number;
  /** The contact sends video now (not camera-off): direct counts as back only once its video decodes too. */
  expectVideo?: boolean;
  /**
   * On direct: the contact's relay media, started ahead of a move, reaches us and decodes (its picture, or its
   * sound when it sends no video). The contact starts it only when it sees direct silent: a confirmation.
   */
  relayReady?: boolean;
}

/** What a side tells the other (signal op 'path'). */
export interface PathReport {
  path: MediaPath;
  epoch: number;
  /** The sender receives direct media (its direct RTP flowed for recoverMs). */
  directOk: boolean;
}

export interface PathSwitchOptions {
  role: 'caller' | 'callee';
  /** The longest stall threshold: on a path whose packets pause for long, and before its cadence is known. */
  stallMs?: number;
  /** The shortest stall threshold, on a path whose packets never pause for long (at most stallMs). */
  minStallMs?: number;
  /** How long direct flows before its cadence sets the threshold (stallMs until then). */
  warmupMs?: number;
  /** How far back the silences that set the threshold are remembered. */
  cadenceWindowMs?: number;
  /**
   * Direct silent this long (less than stallMs): a cut is likely, and `stalling` says so, so the relay media
   * can start ahead of the move (not shown until the move). A suspicion that clears doubles it (up to
   * stallMs), so a busy machine's short silences do not keep starting relay encoders; cadenceWindowMs without
   * one halves it back (down to this).
   */
  suspectMs?: number;
  /**
   * With the contact's relay media ready (DirectSample.relayReady), direct silent this share of the stall
   * threshold (at least suspectMs) moves the call: the contact confirms the cut.
   */
  confirmedRatio?: number;
  recoverMs?: number;
  maxRecoverMs?: number;
  /** A break this soon after moving back to direct counts as flapping. */
  flapWindowMs?: number;
}

export const PATH_SWITCH_DEFAULTS = {
  stallMs: 700,
  minStallMs: 450,
  warmupMs: 2_000,
  cadenceWindowMs: 30_000,
  suspectMs: 200,
  confirmedRatio: 0.6,
  recoverMs: 1_500,
  maxRecoverMs: 30_000,
  flapWindowMs: 10_000,
} as const;

/** A move to make (null: stay), and whether to send our report now. */
export interface PathDecision {
  move: MediaPath | null;
  report: boolean;
}

export type MoveReason =
  | 'head-start'
  | 'no-answer'
  | 'stall'
  | 'confirmed-stall'
  | 'ice'
  | 'direct-lost'
  | 'peer'
  | 'recovered'
  | 'relay-lost';

const STAY: PathDecision = Object.freeze({ move: null, report: false });

export class PathSwitch {
  readonly #role: 'caller' | 'callee';
  readonly #stallMs: number;
  readonly #minStallMs: number;
  readonly #warmupMs: number;
  readonly #cadenceWindowMs: number;
  /** When direct first carried the call (the cadence is known warmupMs later). */
  #directSince: number | null = null;
  /** The longest silence seen in the current pause (not yet over), and the pauses that ended, per second. */
  #pauseMs = 0;
  readonly #pauses = new Map<number, number>();
  #suspectMs: number;
  readonly #baseSuspectMs: number;
  /** When suspectMs last doubled or halved (it halves back after cadenceWindowMs without a false suspicion). */
  #suspectChangedAt = 0;
  readonly #confirmedRatio: number;
  #stalling = false;
  readonly #maxRecoverMs: number;
  readonly #flapWindowMs: number;
  #recoverMs: number;
  /** null until the call's media first connects. */
  #path: MediaPath | null = null;
  #epoch = 0;
  #lastBytes: number | null = null;
  #lastGrowthAt = 0;
  #lastVideoFrames: number | null = null;
  #lastVideoAt = 0;
  #flowingSince: number | null = null;
  #directOk = false;
  #peerDirectOk = false;
  #directAlive = true;
  #movedToDirectAt: number | null = null;
  #lastReason: MoveReason | null = null;

  constructor(options: PathSwitchOptions) {
    this.#role = options.role;
    this.#stallMs = options.stallMs ?? PATH_SWITCH_DEFAULTS.stallMs;
    this.#minStallMs = Math.min(options.minStallMs ?? PATH_SWITCH_DEFAULTS.minStallMs, this.#stallMs);
    this.#warmupMs = options.warmupMs ?? PATH_SWITCH_DEFAULTS.warmupMs;
    this.#cadenceWindowMs = options.cadenceWindowMs ?? PATH_SWITCH_DEFAULTS.cadenceWindowMs;
    this.#suspectMs = Math.min(options.suspectMs ?? PATH_SWITCH_DEFAULTS.suspectMs, this.#stallMs);
    this.#baseSuspectMs = this.#suspectMs;
    this.#confirmedRatio = Math.min(1, options.confirmedRatio ?? PATH_SWITCH_DEFAULTS.confirmedRatio);
    this.#recoverMs = options.recoverMs ?? PATH_SWITCH_DEFAULTS.recoverMs;
    this.#maxRecoverMs = options.maxRecoverMs ?? PATH_SWITCH_DEFAULTS.maxRecoverMs;
    this.#flapWindowMs = options.flapWindowMs ?? PATH_SWITCH_DEFAULTS.flapWindowMs;
  }

  get path(): MediaPath | null {
    return this.#path;
  }
  get epoch(): number {
    return this.#epoch;
  }
  get directOk(): boolean {
    return this.#directOk;
  }
  /** How long direct must flow again before it counts as back (grows when the path flaps). */
  get recoverMs(): number {
    return this.#recoverMs;
  }
  /**
   * On direct, its media has been silent for suspectMs (not yet stallMs): a move to the relay is likely. The
   * call starts the relay media now, unshown, so the move only swaps the picture.
   */
  get stalling(): boolean {
    return this.#stalling;
  }
  /**
   * How long direct may be silent before the call moves to the relay, at `now`: twice the longest pause of
   * the last cadenceWindowMs that ended, between minStallMs and stallMs (stallMs while warming up).
   */
  stallMsAt(now: number): number {
    if (this.#directSince === null || now - this.#directSince < this.#warmupMs) return this.#stallMs;
    let longest = 0;
    for (const [second, ms] of this.#pauses) {
      if (now - second * 1000 > this.#cadenceWindowMs) this.#pauses.delete(second);
      else longest = Math.max(longest, ms);
    }
    return Math.min(this.#stallMs, Math.max(this.#minStallMs, 2 * longest));
  }

  /**
   * On direct, while its media is silent: when the silence reaches the stall threshold (Date.now() clock),
   * so the caller can sample right then instead of at its next periodic sample. null: flowing, or not direct.
   */
  stallDueAt(now: number, relayReady = false): number | null {
    if (this.#path !== 'direct' || !this.#stalling) return null;
    return this.#lastGrowthAt + (relayReady ? this.confirmedStallMsAt(now) : this.stallMsAt(now));
  }

  /** The stall threshold when the contact's relay media confirms the cut: a share of stallMsAt, ≥ suspectMs. */
  confirmedStallMsAt(now: number): number {
    const stallMs = this.stallMsAt(now);
    return Math.min(stallMs, Math.max(this.#suspectMs, Math.round(stallMs * this.#confirmedRatio)));
  }

  /** The current suspicion threshold (grows when suspicions clear). */
  get suspectMs(): number {
    return this.#suspectMs;
  }
  /** Why the last move happened (for logs). */
  get lastReason(): MoveReason | null {
    return this.#lastReason;
  }
  /** The direct peer connection still exists (a way back is possible). */
  get directAlive(): boolean {
    return this.#directAlive;
  }

  /** Our report, to send to the contact. */
  report(): PathReport | null {
    return this.#path ? { path: this.#path, epoch: this.#epoch, directOk: this.#directOk } : null;
  }

  /** Direct media connected (the peer connection's 'connect'). Before any path: the call starts on direct. */
  directConnected(now: number): PathDecision {
    this.#lastGrowthAt = now;
    if (this.#path !== null) return STAY;
    this.#directSince = now;
    this.#path = 'direct';
    this.#directOk = true;
    this.#lastReason = null;
    return { move: 'direct', report: false };
  }

  /**
   * Direct did not connect within its head start, or its ICE checks went unanswered ('no-answer'): the call
   * starts on the relay.
   */
  headStartOver(now: number, why: 'head-start' | 'no-answer' = 'head-start'): PathDecision {
    if (this.#path !== null) return STAY;
    return this.#toRelay(now, why);
  }

  /** A getStats sample of the direct peer connection. */
  sample(s: DirectSample): PathDecision {
    if (!this.#directAlive) return STAY;
    const grew = this.#lastBytes !== null && s.inboundBytes > this.#lastBytes;
    const first = this.#lastBytes === null;
    this.#lastBytes = s.inboundBytes;
    const silentMs = typeof s.silentMs === 'number' && Number.isFinite(s.silentMs) ? Math.max(0, s.silentMs) : null;
    if (silentMs !== null) this.#lastGrowthAt = Math.max(this.#lastGrowthAt, s.at - silentMs);
    else if (grew || first) this.#lastGrowthAt = Math.max(this.#lastGrowthAt, s.at);
    const silence = s.at - this.#lastGrowthAt;
    const stallMs = this.stallMsAt(s.at);
    const flowing = silence < stallMs;
    if (s.videoFrames !== undefined) {
      if (this.#lastVideoFrames !== null && s.videoFrames > this.#lastVideoFrames) this.#lastVideoAt = s.at;
      this.#lastVideoFrames = s.videoFrames;
    }
    // Back on direct, the remote view switches streams at once: its video must already decode, or the
    // picture would freeze until a key frame arrives.
    const videoOk = !s.expectVideo || s.at - this.#lastVideoAt < this.#stallMs;
    if (this.#path === 'direct') {
      if (!flowing) return this.#toRelay(s.at, 'stall');
      if (s.relayReady && silence >= this.confirmedStallMsAt(s.at)) return this.#toRelay(s.at, 'confirmed-stall');
      this.#notePause(s.at, silence);
      const stalling = silence >= Math.min(this.#suspectMs, stallMs);
      // Media flows again after a suspicion: a busy machine, not a cut. Suspect later from now on.
      if (this.#stalling && !stalling) {
        this.#suspectMs = Math.min(this.#suspectMs * 2, this.#stallMs);
        this.#suspectChangedAt = s.at;
      } else if (this.#suspectMs > this.#baseSuspectMs && s.at - this.#suspectChangedAt >= this.#cadenceWindowMs) {
        // No false suspicion for a while: suspect sooner again, or a long call on a once-busy machine would
        // start its relay media ahead only at stallMs (so late that the move waits for the relay's first frame).
        this.#suspectMs = Math.max(this.#baseSuspectMs, this.#suspectMs / 2);
        this.#suspectChangedAt = s.at;
      }
      this.#stalling = stalling;
      return STAY;
    }
    if (this.#path !== 'relay') return STAY;
    if (flowing && s.iceUp && grew && videoOk) this.#flowingSince ??= s.at;
    else if (!flowing || !s.iceUp || !videoOk) this.#flowingSince = null;
    const ok = this.#flowingSince !== null && s.at - this.#flowingSince >= this.#recoverMs;
    const changed = ok !== this.#directOk;
    this.#directOk = ok;
    if (ok && this.#peerDirectOk && this.#role === 'caller') return this.#toDirect(s.at);
    return changed ? { move: null, report: true } : STAY;
  }

  /** ICE says the direct path is gone ('disconnected' or 'failed'). */
  iceDown(now: number): PathDecision {
    this.#flowingSince = null;
    if (this.#path === 'direct') return this.#toRelay(now, 'ice');
    return this.#dropOk();
  }

  /** The direct peer connection failed or closed (before or after connecting): the relay carries the call. */
  directLost(now: number): PathDecision {
    this.#directAlive = false;
    this.#flowingSince = null;
    if (this.#path !== 'relay') return this.#toRelay(now, 'direct-lost');
    return this.#dropOk();
  }

  /** A new direct attempt started (the previous peer connection was lost): a way back exists again. */
  directRestarted(now: number): void {
    this.#directAlive = true;
    this.#lastBytes = null;
    this.#lastVideoFrames = null;
    this.#flowingSince = null;
    this.#lastGrowthAt = now - this.#stallMs;
  }

  /** The relay media link died while it carried the call: back to direct if direct media flows, else stay. */
  relayLost(now: number): PathDecision {
    if (this.#path !== 'relay') return STAY;
    if (this.#directAlive && now - this.#lastGrowthAt < this.#stallMs) {
      this.#epoch++;
      return this.#moveDirect(now, 'relay-lost');
    }
    return STAY;
  }

  /** The contact's report (signal op 'path'), in arrival order. */
  peer(r: PathReport, now: number): PathDecision {
    if (r.epoch < this.#epoch) return STAY; // from before the last move: stale
    if (r.epoch > this.#epoch) {
      // The contact moved: follow (only the caller moves back to direct).
      if (r.path === 'direct' && this.#role === 'caller') return STAY;
      this.#epoch = r.epoch;
      this.#peerDirectOk = r.directOk;
      if (r.path === this.#path) return { move: null, report: false };
      return r.path === 'relay' ? this.#moveRelay(now, 'peer') : this.#moveDirect(now, 'peer');
    }
    this.#peerDirectOk = r.directOk;
    // Both moved at once, to different paths: the relay wins (a new epoch both reach).
    if (r.path === 'relay' && this.#path === 'direct') return this.#toRelay(now, 'peer');
    if (this.#path === 'relay' && this.#directOk && this.#peerDirectOk && this.#role === 'caller')
      return this.#toDirect(now);
    return STAY;
  }

  /**
   * Direct's cadence: a silence shorter than the one before means packets came again, so the pause before it
   * ended (a pause that turns into a stall is a cut, not cadence, and is never recorded).
   */
  #notePause(at: number, silence: number): void {
    if (silence >= this.#pauseMs) {
      this.#pauseMs = silence;
      return;
    }
    const second = Math.floor(at / 1000);
    this.#pauses.set(second, Math.max(this.#pauses.get(second) ?? 0, this.#pauseMs));
    this.#pauseMs = silence;
  }

  #dropOk(): PathDecision {
    if (!this.#directOk || this.#path !== 'relay') return STAY;
    this.#directOk = false;
    return { move: null, report: true };
  }

  #toRelay(now: number, why: MoveReason): PathDecision {
    this.#epoch++;
    return this.#moveRelay(now, why);
  }

  #moveRelay(now: number, why: MoveReason): PathDecision {
    this.#stalling = false;
    this.#pauseMs = 0;
    if (this.#movedToDirectAt !== null && now - this.#movedToDirectAt < this.#flapWindowMs)
      this.#recoverMs = Math.min(this.#recoverMs * 2, this.#maxRecoverMs);
    this.#path = 'relay';
    this.#lastReason = why;
    this.#directOk = false;
    this.#peerDirectOk = false;
    this.#flowingSince = null;
    return { move: 'relay', report: true };
  }

  #toDirect(now: number): PathDecision {
    this.#epoch++;
    return this.#moveDirect(now, 'recovered');
  }

  #moveDirect(now: number, why: MoveReason): PathDecision {
    this.#stalling = false;
    this.#pauseMs = 0;
    this.#directSince ??= now;
    this.#path = 'direct';
    this.#lastReason = why;
    this.#movedToDirectAt = now;
    // A fresh stall window: direct must stall again for stallMs from now before moving away.
    this.#lastGrowthAt = now;
    this.#directOk = true;
    return { move: 'direct', report: true };
  }
}

/**
 * Checks sent without an answer before direct counts as blocked. ICE paces a pair's checks every 50 ms and
 * retransmits unanswered ones (from 250 ms, doubling): several unanswered checks over a second are a path that
 * drops them, where a working one answers within a round trip.
 */
export const MIN_UNANSWERED_CHECKS = 6;

/**
 * How far direct's ICE checks got, from a getStats report's candidate-pair records: 'answered' when a check
 * of some pair got a response (the path works or is about to), 'unanswered' when at least `minChecks` checks
 * went out and none was answered (UDP blocked, a firewall dropping them), 'unknown' otherwise (no pair yet:
 * the candidates are still on their way; too few checks; an implementation without these counters).
 */
export function iceCheckProgress(
  records: ReadonlyArray<Record<string, unknown>>,
  minChecks = MIN_UNANSWERED_CHECKS,
): 'answered' | 'unanswered' | 'unknown' {
  let sent = 0;
  for (const r of records) {
    if (r.type !== 'candidate-pair') continue;
    const responses = r.responsesReceived;
    if (r.state === 'succeeded' || (typeof responses === 'number' && responses > 0)) return 'answered';
    if (typeof r.requestsSent === 'number' && Number.isFinite(r.requestsSent)) sent += r.requestsSent;
  }
  return sent >= minChecks ? 'unanswered' : 'unknown';
}

/** Video frames decoded so far, summed over a getStats report's inbound-rtp video records. */
export function decodedVideoFrames(records: ReadonlyArray<Record<string, unknown>>): number {
  let total = 0;
  for (const r of records) {
    if (r.type === 'inbound-rtp' && r.kind === 'video' && typeof r.framesDecoded === 'number') total += r.framesDecoded;
  }
  return total;
}

/**
 * How long no RTP packet has arrived on any inbound-rtp stream: the report's time minus the newest
 * lastPacketReceivedTimestamp (both the report's own clock). null when the report does not say (no packet yet,
 * or an implementation without the field) or says something impossible (a packet from the future beyond
 * rounding, a clock mix-up).
 */
export function inboundSilenceMs(records: ReadonlyArray<Record<string, unknown>>): number | null {
  let newestPacket: number | null = null;
  let reportAt: number | null = null;
  for (const r of records) {
    if (r.type !== 'inbound-rtp') continue;
    const last = r.lastPacketReceivedTimestamp;
    const at = r.timestamp;
    if (typeof last === 'number' && Number.isFinite(last) && last > 0) newestPacket = Math.max(newestPacket ?? 0, last);
    if (typeof at === 'number' && Number.isFinite(at) && at > 0) reportAt = Math.max(reportAt ?? 0, at);
  }
  if (newestPacket === null || reportAt === null) return null;
  const silent = reportAt - newestPacket;
  // Beyond a minute either way the two are not on one clock: let byte growth decide.
  if (silent < -1_000 || silent > 60_000) return null;
  return Math.max(0, silent);
}

/** RTP bytes received so far, summed over a getStats report's inbound-rtp records. */
export function inboundRtpBytes(records: ReadonlyArray<Record<string, unknown>>): number {
  let total = 0;
  for (const r of records) {
    if (r.type === 'inbound-rtp' && typeof r.bytesReceived === 'number' && Number.isFinite(r.bytesReceived))
      total += r.bytesReceived;
  }
  return total;
}
