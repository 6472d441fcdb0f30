// How the call engine's events move the call as the UI shows it: a pure function from the facts and an
// event to the next facts and what the state class must do about media and timers. Unit-tested alone.
import type { IdentityId } from '../../../../core/src/api.js';
import type { CallEndedCode, CallFailedCode } from '../../../../core/src/call/types.js';

export type CallPhase =
  'idle' | 'outgoing' | 'incoming' | 'connecting' | 'active' | 'reconnecting' | 'ended' | 'failed';
/** Failures found before the engine is involved (media devices), plus the engine's codes. */
export type LocalFailure = 'unavailable' | 'media-denied' | 'media-not-found' | 'media-busy' | 'media-other';
export type FailureCode = CallFailedCode | LocalFailure;

export type CallEvent =
  | { type: 'incoming'; callId: string; contactId: IdentityId; video: boolean }
  | { type: 'ringing'; callId: string }
  | { type: 'connecting'; callId: string }
  | { type: 'connected'; callId: string; connectedAt: number }
  | { type: 'reconnecting'; callId: string }
  | { type: 'remote-stream'; callId: string; stream: MediaStream }
  | { type: 'remote-media'; callId: string; muted: boolean; cameraOff: boolean; video: boolean }
  | { type: 'ended'; callId: string; reason: CallEndedCode }
  | { type: 'failed'; callId: string; reason: FailureCode; message: string };

/** What the engine says about the call and the other side (our own media is the state class's). */
export interface CallFacts {
  phase: CallPhase;
  callId: string | null;
  contactId: IdentityId | null;
  /** Whether the incoming call was offered with video. */
  offeredVideo: boolean;
  remoteMuted: boolean;
  remoteCameraOff: boolean;
  remoteVideo: boolean;
  remoteStream: MediaStream | null;
  connectedAt: number | null;
  failure: FailureCode | null;
  /** The engine's English explanation of a failure (shown after the translated reason). */
  failureDetail: string | null;
  /** The call failed after it had connected (it dropped), not while connecting. */
  dropped: boolean;
  endReason: CallEndedCode | null;
}

/**
 * What to do besides taking the new facts: 'release' our media (a new ring, or a call that gave way),
 * start the clock and stats ('connected'), or wind down a call that 'ended' / 'failed' ('dismissed': and
 * close its screen at once).
 */
export type CallEffect = 'none' | 'release' | 'connected' | 'ended' | 'dismissed' | 'failed';

export const IDLE: Readonly<CallFacts> = Object.freeze({
  phase: 'idle',
  callId: null,
  contactId: null,
  offeredVideo: false,
  remoteMuted: false,
  remoteCameraOff: false,
  remoteVideo: false,
  remoteStream: null,
  connectedAt: null,
  failure: null,
  failureDetail: null,
  dropped: false,
  endReason: null,
});

const LIVE: ReadonlySet<CallPhase> = new Set(['outgoing', 'incoming', 'connecting', 'active', 'reconnecting']);

export function isLive(phase: CallPhase): boolean {
  return LIVE.has(phase);
}

/** The facts of a call that just finished: the peer's media and timing are gone, the contact stays. */
export function finished(
  f: CallFacts,
  phase: 'ended' | 'failed',
  why: { reason?: CallEndedCode; failure?: FailureCode; detail?: string },
): CallFacts {
  return {
    ...IDLE,
    contactId: f.contactId,
    offeredVideo: f.offeredVideo,
    phase,
    endReason: why.reason ?? null,
    failure: why.failure ?? null,
    failureDetail: why.detail ?? null,
    dropped: phase === 'failed' && f.connectedAt !== null,
  };
}

/** The finished screen put away. */
export function dismissed(f: CallFacts): CallFacts {
  return f.phase === 'ended' || f.phase === 'failed'
    ? { ...f, phase: 'idle', contactId: null, failure: null, failureDetail: null, dropped: false, endReason: null }
    : f;
}

export function reduceCallEvent(f: CallFacts, ev: CallEvent): { facts: CallFacts; effect: CallEffect } {
  const same = { facts: f, effect: 'none' as const };
  if (ev.type === 'incoming') {
    // The engine answers a second ring 'busy' itself; this only sees rings while idle.
    if (isLive(f.phase)) return same;
    return {
      facts: { ...IDLE, offeredVideo: ev.video, phase: 'incoming', callId: ev.callId, contactId: ev.contactId },
      effect: 'release',
    };
  }
  if (ev.callId !== f.callId) return same;
  switch (ev.type) {
    case 'ringing':
      return same;
    case 'connecting':
      return f.phase === 'outgoing' || f.phase === 'incoming'
        ? { facts: { ...f, phase: 'connecting' }, effect: 'none' }
        : same;
    case 'connected':
      return { facts: { ...f, phase: 'active', connectedAt: f.connectedAt ?? ev.connectedAt }, effect: 'connected' };
    case 'reconnecting':
      return { facts: { ...f, phase: 'reconnecting' }, effect: 'none' };
    case 'remote-stream':
      return {
        facts: { ...f, remoteStream: ev.stream, remoteVideo: f.remoteVideo || ev.stream.getVideoTracks().length > 0 },
        effect: 'none',
      };
    case 'remote-media':
      return {
        facts: { ...f, remoteMuted: ev.muted, remoteCameraOff: ev.cameraOff, remoteVideo: ev.video },
        effect: 'none',
      };
    case 'ended':
      // Both called at once: ours gives way, theirs rings next. Nothing to show.
      if (ev.reason === 'superseded')
        return { facts: { ...IDLE, contactId: f.contactId, offeredVideo: f.offeredVideo }, effect: 'release' };
      if (ev.reason === 'declined')
        return { facts: dismissed(finished(f, 'ended', { reason: ev.reason })), effect: 'dismissed' };
      return { facts: finished(f, 'ended', { reason: ev.reason }), effect: 'ended' };
    case 'failed':
      return { facts: finished(f, 'failed', { failure: ev.reason, detail: ev.message }), effect: 'failed' };
  }
}
