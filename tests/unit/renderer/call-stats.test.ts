import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer } from './load.js';

type Stat = Record<string, unknown> & { type: string; id: string };
interface Summary {
  path: 'direct' | 'turn' | null;
  protocol: string | null;
  rttMs: number | null;
  inBitrate: number | null;
  outBitrate: number | null;
  packetLossPct: number | null;
  videoWidth: number | null;
  counters: { at: number };
}
let summarizeStats: (stats: Iterable<Stat>, now: number, prev: Summary | null) => Summary;

beforeAll(async () => {
  ({ summarizeStats } = await loadRenderer<{ summarizeStats: typeof summarizeStats }>('lib/call-stats.ts'));
});

function report(opts: { localType: string; bytesIn: number; bytesOut: number; packets: number; lost: number; rtt?: number }): Stat[] {
  return [
    { type: 'transport', id: 'T', selectedCandidatePairId: 'P' },
    { type: 'candidate-pair', id: 'P', state: 'succeeded', nominated: true, localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: opts.rtt ?? 0.042 },
    { type: 'candidate-pair', id: 'Q', state: 'failed', localCandidateId: 'L2', remoteCandidateId: 'R' },
    { type: 'local-candidate', id: 'L', candidateType: opts.localType, protocol: 'udp' },
    { type: 'local-candidate', id: 'L2', candidateType: 'relay', protocol: 'udp' },
    { type: 'remote-candidate', id: 'R', candidateType: 'host' },
    { type: 'inbound-rtp', id: 'IV', kind: 'video', bytesReceived: opts.bytesIn, packetsReceived: opts.packets, packetsLost: opts.lost, frameWidth: 640, frameHeight: 480 },
    { type: 'inbound-rtp', id: 'IA', kind: 'audio', bytesReceived: 0, packetsReceived: 0, packetsLost: 0 },
    { type: 'outbound-rtp', id: 'OV', kind: 'video', bytesSent: opts.bytesOut },
  ];
}

describe('summarizeStats', () => {
  it('reads the selected pair: direct path and RTT', () => {
    const s = summarizeStats(report({ localType: 'host', bytesIn: 0, bytesOut: 0, packets: 0, lost: 0 }), 1000, null);
    expect(s.path).toBe('direct');
    expect(s.protocol).toBe('udp');
    expect(s.rttMs).toBe(42);
    expect(s.videoWidth).toBe(640);
    // No bitrate without a previous sample.
    expect(s.inBitrate).toBeNull();
  });

  it('reports TURN when the selected local candidate is a relay candidate', () => {
    const s = summarizeStats(report({ localType: 'relay', bytesIn: 0, bytesOut: 0, packets: 0, lost: 0 }), 1000, null);
    expect(s.path).toBe('turn');
  });

  it('computes bitrates and loss between samples', () => {
    const a = summarizeStats(report({ localType: 'srflx', bytesIn: 1000, bytesOut: 2000, packets: 100, lost: 0 }), 1000, null);
    const b = summarizeStats(report({ localType: 'srflx', bytesIn: 126_000, bytesOut: 252_000, packets: 190, lost: 10 }), 2000, a);
    expect(b.inBitrate).toBe(1_000_000);
    expect(b.outBitrate).toBe(2_000_000);
    expect(b.packetLossPct).toBe(10);
  });

  it('has no path before a pair is selected', () => {
    const s = summarizeStats([{ type: 'candidate-pair', id: 'P', state: 'in-progress' }], 0, null);
    expect(s.path).toBeNull();
    expect(s.rttMs).toBeNull();
  });
});
