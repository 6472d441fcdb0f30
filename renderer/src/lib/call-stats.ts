// Live call statistics from an RTCStatsReport: path (direct or TURN), round-trip time, bitrates,
// packet loss. Pure: takes the report's entries and the previous summary's counters; unit-tested.

export type MediaPath = 'direct' | 'turn';

export interface CallStatsSummary {
  path: MediaPath | null;
  /** Local candidate type of the selected pair (host, srflx, prflx, relay). */
  localCandidate: string | null;
  protocol: string | null;
  rttMs: number | null;
  /** Received and sent media bitrate, bits per second (null on the first sample). */
  inBitrate: number | null;
  outBitrate: number | null;
  /** Incoming packets lost since the previous sample, percent. */
  packetLossPct: number | null;
  videoWidth: number | null;
  videoHeight: number | null;
  framesPerSecond: number | null;
  /** Counters carried to the next sample. */
  counters: { at: number; bytesIn: number; bytesOut: number; packetsIn: number; packetsLost: number };
}

type Stat = Record<string, unknown> & { type: string; id: string };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function summarizeStats(stats: Iterable<Stat>, now: number, prev: CallStatsSummary | null): CallStatsSummary {
  const byId = new Map<string, Stat>();
  const all: Stat[] = [];
  for (const s of stats) {
    byId.set(s.id, s);
    all.push(s);
  }
  // The selected pair: from the transport when it names one, else the nominated succeeded pair.
  let pair: Stat | undefined;
  const transport = all.find((s) => s.type === 'transport' && typeof s.selectedCandidatePairId === 'string');
  if (transport) pair = byId.get(transport.selectedCandidatePairId as string);
  pair ??= all.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated === true || s.selected === true));

  const local = pair ? byId.get(String(pair.localCandidateId)) : undefined;
  const remote = pair ? byId.get(String(pair.remoteCandidateId)) : undefined;
  const localType = str(local?.candidateType);
  const remoteType = str(remote?.candidateType);
  const path: MediaPath | null = !pair ? null : localType === 'relay' || remoteType === 'relay' ? 'turn' : 'direct';

  let bytesIn = 0;
  let bytesOut = 0;
  let packetsIn = 0;
  let packetsLost = 0;
  let videoWidth: number | null = null;
  let videoHeight: number | null = null;
  let fps: number | null = null;
  for (const s of all) {
    if (s.type === 'inbound-rtp') {
      bytesIn += num(s.bytesReceived) ?? 0;
      packetsIn += num(s.packetsReceived) ?? 0;
      packetsLost += num(s.packetsLost) ?? 0;
      if (s.kind === 'video') {
        videoWidth = num(s.frameWidth) ?? videoWidth;
        videoHeight = num(s.frameHeight) ?? videoHeight;
        fps = num(s.framesPerSecond) ?? fps;
      }
    } else if (s.type === 'outbound-rtp') {
      bytesOut += num(s.bytesSent) ?? 0;
    }
  }

  let inBitrate: number | null = null;
  let outBitrate: number | null = null;
  let packetLossPct: number | null = null;
  if (prev && now > prev.counters.at) {
    const dt = (now - prev.counters.at) / 1000;
    inBitrate = Math.max(0, ((bytesIn - prev.counters.bytesIn) * 8) / dt);
    outBitrate = Math.max(0, ((bytesOut - prev.counters.bytesOut) * 8) / dt);
    const lost = Math.max(0, packetsLost - prev.counters.packetsLost);
    const got = Math.max(0, packetsIn - prev.counters.packetsIn);
    packetLossPct = lost + got > 0 ? (lost * 100) / (lost + got) : 0;
  }
  const rtt = num(pair?.currentRoundTripTime);
  return {
    path,
    localCandidate: localType,
    protocol: str(local?.protocol),
    rttMs: rtt === null ? null : Math.round(rtt * 1000),
    inBitrate,
    outBitrate,
    packetLossPct,
    videoWidth,
    videoHeight,
    framesPerSecond: fps,
    counters: { at: now, bytesIn, bytesOut, packetsIn, packetsLost },
  };
}
