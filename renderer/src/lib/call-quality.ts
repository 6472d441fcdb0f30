// The call's quality indicator, from its live statistics: on the relay path, what the user feels (capture →
// display latency and frame rate); on a WebRTC path (direct, TURN), loss and round trip.
import type { CallStats } from '../../../core/src/call/types.js';

export type CallQuality = 'good' | 'fair' | 'poor';

export function callQuality(stats: CallStats | null): CallQuality | null {
  if (!stats || stats.path === null) return null;
  if (stats.path === 'relay') {
    const p95 = stats.relay?.latencyP95Ms ?? null;
    if (p95 === null) return null;
    const fps = stats.framesPerSecond;
    if (p95 <= 250 && (fps === null || fps >= 20)) return 'good';
    if (p95 <= 600 && (fps === null || fps >= 10)) return 'fair';
    return 'poor';
  }
  const loss = stats.packetLossPct ?? 0;
  const rtt = stats.rttMs ?? 0;
  if (loss <= 2 && rtt <= 200) return 'good';
  if (loss <= 8 && rtt <= 400) return 'fair';
  return 'poor';
}
