// Live call statistics from an RTCStatsReport, read structurally (core has no DOM types). Pure: the caller
// keeps the counters of the previous sample to get rates as deltas.
import type { CallStats } from './types.js';

export type StatRecord = Record<string, unknown>;

export interface StatCounters {
  /** The report's own timestamp (ms) when it has one, else the sampling time. */
  at: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsLost: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** A getStats() result (a Map-like RTCStatsReport, or an array) as plain records. */
export function statRecords(report: unknown): StatRecord[] {
  const out: StatRecord[] = [];
  if (Array.isArray(report)) {
    for (const r of report) if (r && typeof r === 'object') out.push(r as StatRecord);
    return out;
  }
  const forEach = (report as { forEach?: unknown } | null)?.forEach;
  if (typeof forEach === 'function') {
    (forEach as (cb: (value: unknown) => void) => void).call(report, (value) => {
      if (value && typeof value === 'object') out.push(value as StatRecord);
    });
  }
  return out;
}

/** The selected candidate pair: the transport's selectedCandidatePairId, else a nominated succeeded pair. */
export function selectedPair(
  records: readonly StatRecord[],
): { pair: StatRecord; local: StatRecord | undefined; remote: StatRecord | undefined } | null {
  const byId = new Map<string, StatRecord>();
  for (const r of records) if (typeof r.id === 'string') byId.set(r.id, r);
  let pair: StatRecord | undefined;
  const transport = records.find((r) => r.type === 'transport' && typeof r.selectedCandidatePairId === 'string');
  if (transport) pair = byId.get(transport.selectedCandidatePairId as string);
  pair ??= records.find(
    (r) => r.type === 'candidate-pair' && (r.selected === true || (r.nominated === true && r.state === 'succeeded')),
  );
  if (!pair) return null;
  return { pair, local: byId.get(String(pair.localCandidateId)), remote: byId.get(String(pair.remoteCandidateId)) };
}

function codecName(records: Map<string, StatRecord>, codecId: unknown): string | null {
  if (typeof codecId !== 'string') return null;
  const mime = str(records.get(codecId)?.mimeType);
  if (!mime) return null;
  const slash = mime.indexOf('/');
  return slash >= 0 ? mime.slice(slash + 1) : mime;
}

export function readCallStats(
  records: readonly StatRecord[],
  now: number,
  previous: StatCounters | null,
): { stats: CallStats; counters: StatCounters } {
  const byId = new Map<string, StatRecord>();
  let reportTime: number | null = null;
  for (const r of records) {
    if (typeof r.id === 'string') byId.set(r.id, r);
    const t = num(r.timestamp);
    if (t !== null && t > 0 && (reportTime === null || t > reportTime)) reportTime = t;
  }
  const sel = selectedPair(records);
  const localType = str(sel?.local?.candidateType);
  const remoteType = str(sel?.remote?.candidateType);
  const path = !sel ? null : localType === 'relay' || remoteType === 'relay' ? 'turn' : 'direct';
  const rtt = num(sel?.pair.currentRoundTripTime);

  let bytesIn = 0;
  let bytesOut = 0;
  let packetsIn = 0;
  let packetsLost = 0;
  let audioCodec: string | null = null;
  let videoCodec: string | null = null;
  let frameWidth: number | null = null;
  let frameHeight: number | null = null;
  let framesPerSecond: number | null = null;
  for (const r of records) {
    const kind = r.kind ?? r.mediaType;
    if (r.type === 'inbound-rtp') {
      bytesIn += num(r.bytesReceived) ?? 0;
      packetsIn += num(r.packetsReceived) ?? 0;
      packetsLost += Math.max(0, num(r.packetsLost) ?? 0);
      if (kind === 'video') {
        frameWidth = num(r.frameWidth) ?? frameWidth;
        frameHeight = num(r.frameHeight) ?? frameHeight;
        framesPerSecond = num(r.framesPerSecond) ?? framesPerSecond;
        videoCodec ??= codecName(byId, r.codecId);
      } else if (kind === 'audio') {
        audioCodec ??= codecName(byId, r.codecId);
      }
    } else if (r.type === 'outbound-rtp') {
      bytesOut += num(r.bytesSent) ?? 0;
      if (kind === 'video') videoCodec ??= codecName(byId, r.codecId);
      else if (kind === 'audio') audioCodec ??= codecName(byId, r.codecId);
    }
  }

  const at = reportTime ?? now;
  const counters: StatCounters = { at, bytesIn, bytesOut, packetsIn, packetsLost };
  let inboundKbps: number | null = null;
  let outboundKbps: number | null = null;
  let lost = packetsLost;
  let got = packetsIn;
  if (previous && at > previous.at) {
    const seconds = (at - previous.at) / 1000;
    inboundKbps = round1((Math.max(0, bytesIn - previous.bytesIn) * 8) / 1000 / seconds);
    outboundKbps = round1((Math.max(0, bytesOut - previous.bytesOut) * 8) / 1000 / seconds);
    lost = Math.max(0, packetsLost - previous.packetsLost);
    got = Math.max(0, packetsIn - previous.packetsIn);
  }
  const packetLossPct =
    lost + got > 0 ? round1((lost * 100) / (lost + got)) : records.some((r) => r.type === 'inbound-rtp') ? 0 : null;

  return {
    counters,
    stats: {
      at: now,
      path,
      localCandidateType: localType,
      remoteCandidateType: remoteType,
      protocol: str(sel?.local?.protocol),
      rttMs: rtt === null ? null : Math.round(rtt * 1000 * 10) / 10,
      inboundKbps,
      outboundKbps,
      packetLossPct,
      audioCodec,
      videoCodec,
      frameWidth,
      frameHeight,
      framesPerSecond,
      bytesReceived: bytesIn,
      bytesSent: bytesOut,
    },
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
