// Small pieces the call state machine needs for its relay media path: the channel tag, and CallStats from
// the link's counters (the same shape the UI shows for direct and TURN calls).
import type { CallStats } from '../types.js';
import type { RelayMediaLinkStats } from './link.js';

/** The relay channel tag (and key-agreement session id) of a call's media: both sides derive the same. */
export function relayMediaTag(callId: string): string {
  return `cm.${callId.slice(0, 61)}`;
}

export interface RelayStatCounters {
  at: number;
  sent: number;
  received: number;
  frames: number;
}

/** CallStats for a call on the relay path; rates are deltas since `previous` (null on the first call). */
export function relayMediaStats(
  s: RelayMediaLinkStats,
  now: number,
  previous: RelayStatCounters | null,
): { stats: CallStats; counters: RelayStatCounters } {
  const dt = previous && now > previous.at ? (now - previous.at) / 1000 : null;
  const kbps = (bytes: number): number => Math.round((bytes * 8) / 1000 / dt!);
  return {
    stats: {
      at: now,
      path: 'relay',
      localCandidateType: null,
      remoteCandidateType: null,
      protocol: 'tcp',
      rttMs: s.rttMs === null ? null : Math.round(s.rttMs),
      inboundKbps: dt ? kbps(s.bytesReceived - previous!.received) : null,
      outboundKbps: dt ? kbps(s.bytesSent - previous!.sent) : null,
      packetLossPct: null,
      audioCodec: s.audioCodec,
      videoCodec: s.videoCodec,
      frameWidth: s.frameWidth,
      frameHeight: s.frameHeight,
      framesPerSecond: dt ? Math.round(((s.videoFramesDecoded - previous!.frames) / dt) * 10) / 10 : null,
      bytesReceived: s.bytesReceived,
      bytesSent: s.bytesSent,
      relay: {
        latencyMs: s.latencyMs,
        latencyP95Ms: s.latencyP95Ms,
        playoutDelayMs: s.playoutDelayMs,
        targetKbps: Math.round(s.bitrate / 1000),
        lateFrames: s.videoFramesLate,
        videoFramesDecoded: s.videoFramesDecoded,
        audioSamplesDecoded: s.audioSamplesDecoded,
        refused: s.refused,
        audioPlayedMs: s.audioPlayedMs,
        audioUnderrunMs: s.audioUnderrunMs,
        audioViaPeerConnection: s.audioViaPeerConnection,
        stages: s.stages,
      },
    },
    counters: { at: now, sent: s.bytesSent, received: s.bytesReceived, frames: s.videoFramesDecoded },
  };
}
