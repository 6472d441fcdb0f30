// Relay audio plays out of Chromium's NetEq in the echo canceller's loopback receiver (aec-loopback.ts); the
// media worker hands each decoded frame on as it arrives. In the first seconds of a relay call more audio
// arrives than plays (the contact's start-up backlog, sent faster than real time): NetEq's buffer then held
// 200–250 ms against its own target of 80–100 ms and took ~5 s to play the excess down, and video, timed to
// where the audio plays, waited as long. This gate drops, for the first seconds after the downstream buffer
// took over, frames that arrive ahead of the pace the first frame set (more than `slackMs` early).
//
// It drops only early frames, never late ones. Dropping a frame makes every later frame look 20 ms later to
// NetEq (the loopback's sender numbers RTP timestamps by samples sent), which NetEq reads as jitter and
// answers by raising its target: a frame that came early only comes back to the pace; a skip of audio that
// arrived on time (trimming the buffer from outside) raised NetEq's target by the amount skipped (measured:
// targets of 260–560 ms after trims of 100–300 ms), so there is no such trim. Pure: times are passed in.

export interface EarlyAudioOptions {
  /** How early (ms, against the first frame's pace) a frame may come and still be handed on. */
  slackMs?: number;
  /** How long after the first frame the gate acts (the start-up backlog), ms. */
  forMs?: number;
}

export class EarlyAudioGate {
  readonly #slack: number;
  readonly #for: number;
  #start: number | null = null;
  /** Media time handed on so far, ms. */
  #handed = 0;
  /** Audio dropped as early, ms. */
  droppedMs = 0;

  constructor(options: EarlyAudioOptions = {}) {
    this.#slack = options.slackMs ?? 30;
    this.#for = options.forMs ?? 5_000;
  }

  /** A decoded frame of `ms` at `now`: true to hand it on, false to drop it (it came early). */
  admit(now: number, ms: number): boolean {
    this.#start ??= now;
    // How far the frame is ahead of the first frame's pace: media handed on beyond the time elapsed.
    const ahead = this.#handed - (now - this.#start);
    if (now - this.#start < this.#for && ahead > this.#slack) {
      this.droppedMs += ms;
      return false;
    }
    this.#handed += ms;
    return true;
  }
}
