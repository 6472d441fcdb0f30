// Pure pieces of the call engine: why a call did not connect, and live stats read from RTCStatsReport entries.
import { describe, expect, it } from 'vitest';
import {
  diagnoseConnectFailure,
  isRelayCandidate,
  type ConnectObservations,
} from '../../../../core/src/call/diagnose.js';
import { CallSignalSchema } from '../../../../core/src/call/signals.js';
import { readCallStats, statRecords, type StatRecord } from '../../../../core/src/call/stats.js';

const base: ConnectObservations = {
  remoteDescribed: true,
  localCandidates: 3,
  localRelayCandidates: 0,
  remoteCandidates: 2,
  iceStates: new Set(['new', 'checking']),
  turnConfigured: false,
};

describe('diagnoseConnectFailure', () => {
  it('candidates exchanged but no pair connected → a TURN server is needed', () => {
    expect(diagnoseConnectFailure(base, 'Bob')).toEqual({
      code: 'no-path',
      message: 'no network path between you; a TURN server is needed on this network',
    });
    expect(diagnoseConnectFailure({ ...base, iceStates: new Set(['checking', 'failed']) }, 'Bob').code).toBe('no-path');
  });
  it('tells apart: no answer, ICE up but not DTLS, no local or remote candidates, TURN unreachable, TURN not enough', () => {
    expect(diagnoseConnectFailure({ ...base, remoteDescribed: false }, 'Bob')).toMatchObject({
      code: 'timeout',
      message: expect.stringContaining("Bob's device"),
    });
    expect(diagnoseConnectFailure({ ...base, iceStates: new Set(['checking', 'connected']) }, 'Bob').code).toBe(
      'dtls-failed',
    );
    expect(diagnoseConnectFailure({ ...base, localCandidates: 0 }, 'Bob')).toMatchObject({
      code: 'no-candidates',
      message: expect.stringContaining('your device'),
    });
    expect(diagnoseConnectFailure({ ...base, remoteCandidates: 0 }, 'Bob')).toMatchObject({
      code: 'no-candidates',
      message: expect.stringContaining("Bob's device"),
    });
    expect(diagnoseConnectFailure({ ...base, turnConfigured: true }, 'Bob').code).toBe('turn-unreachable');
    expect(diagnoseConnectFailure({ ...base, turnConfigured: true, localRelayCandidates: 1 }, 'Bob').code).toBe(
      'ice-failed',
    );
  });
  it('recognises relay candidates', () => {
    expect(isRelayCandidate('candidate:1 1 udp 41885439 10.99.0.3 50000 typ relay raddr 10.99.0.1 rport 40000')).toBe(
      true,
    );
    expect(isRelayCandidate('candidate:1 1 udp 2122260223 10.99.0.1 40000 typ host generation 0')).toBe(false);
  });
});

function report(o: {
  bytesIn: number;
  bytesOut: number;
  got: number;
  lost: number;
  t: number;
  relay?: boolean;
}): StatRecord[] {
  return [
    { id: 'T', type: 'transport', timestamp: o.t, selectedCandidatePairId: 'P' },
    {
      id: 'P',
      type: 'candidate-pair',
      timestamp: o.t,
      localCandidateId: 'L',
      remoteCandidateId: 'R',
      state: 'succeeded',
      nominated: true,
      currentRoundTripTime: 0.0123,
    },
    { id: 'L', type: 'local-candidate', timestamp: o.t, candidateType: o.relay ? 'relay' : 'host', protocol: 'udp' },
    { id: 'R', type: 'remote-candidate', timestamp: o.t, candidateType: 'host', protocol: 'udp' },
    { id: 'CV', type: 'codec', timestamp: o.t, mimeType: 'video/VP8' },
    { id: 'CA', type: 'codec', timestamp: o.t, mimeType: 'audio/opus' },
    {
      id: 'IV',
      type: 'inbound-rtp',
      kind: 'video',
      timestamp: o.t,
      codecId: 'CV',
      bytesReceived: o.bytesIn,
      packetsReceived: o.got,
      packetsLost: o.lost,
      frameWidth: 320,
      frameHeight: 240,
      framesPerSecond: 15,
    },
    {
      id: 'IA',
      type: 'inbound-rtp',
      kind: 'audio',
      timestamp: o.t,
      codecId: 'CA',
      bytesReceived: 0,
      packetsReceived: 0,
      packetsLost: 0,
    },
    { id: 'OV', type: 'outbound-rtp', kind: 'video', timestamp: o.t, codecId: 'CV', bytesSent: o.bytesOut },
  ];
}

describe('readCallStats', () => {
  it('reads path, RTT, codecs, video size; rates and loss are deltas between samples', () => {
    const first = readCallStats(report({ bytesIn: 10_000, bytesOut: 20_000, got: 90, lost: 10, t: 1_000 }), 5, null);
    expect(first.stats).toMatchObject({
      path: 'direct',
      localCandidateType: 'host',
      protocol: 'udp',
      rttMs: 12.3,
      inboundKbps: null,
      outboundKbps: null,
      packetLossPct: 10,
      audioCodec: 'opus',
      videoCodec: 'VP8',
      frameWidth: 320,
      frameHeight: 240,
      framesPerSecond: 15,
      bytesReceived: 10_000,
      bytesSent: 20_000,
    });
    const second = readCallStats(
      report({ bytesIn: 135_000, bytesOut: 270_000, got: 190, lost: 10, t: 2_000 }),
      6,
      first.counters,
    );
    expect(second.stats.inboundKbps).toBe(1000);
    expect(second.stats.outboundKbps).toBe(2000);
    expect(second.stats.packetLossPct).toBe(0);
  });
  it('path is turn when the selected pair uses a relay candidate, null before a pair is selected', () => {
    expect(
      readCallStats(report({ bytesIn: 0, bytesOut: 0, got: 0, lost: 0, t: 1, relay: true }), 1, null).stats.path,
    ).toBe('turn');
    const none = readCallStats([{ id: 'x', type: 'candidate-pair', state: 'in-progress' }], 1, null).stats;
    expect(none.path).toBeNull();
    expect(none.packetLossPct).toBeNull();
  });
  it('reads Map-like reports and arrays, skipping non-objects', () => {
    const m = new Map<string, unknown>([
      ['a', { id: 'a', type: 'codec' }],
      ['b', 7],
    ]);
    expect(statRecords(m)).toEqual([{ id: 'a', type: 'codec' }]);
    expect(statRecords([{ id: 'a' }, null, 'x'])).toEqual([{ id: 'a' }]);
    expect(statRecords(null)).toEqual([]);
  });
});

describe('CallSignalSchema', () => {
  const id = 'abcdefghijklmnopqrstuv';
  it('accepts each op and keeps only simple-peer fields of rtc data', () => {
    for (const s of [
      { kind: 'call', callId: id, op: 'ring', media: { audio: true, video: false }, at: 1, sig: 'AAAA' },
      { kind: 'call', callId: id, op: 'ringing' },
      { kind: 'call', callId: id, op: 'accept' },
      { kind: 'call', callId: id, op: 'decline', reason: 'busy' },
      { kind: 'call', callId: id, op: 'hangup', reason: 'no-path' },
      { kind: 'call', callId: id, op: 'rtc', data: { type: 'renegotiate', renegotiate: true } },
      { kind: 'call', callId: id, op: 'state', muted: true, cameraOff: false, rev: 3 },
    ]) {
      expect(CallSignalSchema.safeParse(s).success).toBe(true);
    }
    const parsed = CallSignalSchema.parse({
      kind: 'call',
      callId: id,
      op: 'rtc',
      data: { type: 'transceiverRequest', transceiverRequest: { kind: 'video', init: { sendEncodings: [{}] } } },
    });
    expect(parsed).toEqual({
      kind: 'call',
      callId: id,
      op: 'rtc',
      data: { type: 'transceiverRequest', transceiverRequest: { kind: 'video' } },
    });
  });
  it('refuses malformed input', () => {
    for (const s of [
      { kind: 'call', callId: id, op: 'decline', reason: 'whatever' },
      { kind: 'call', callId: id, op: 'rtc', data: { type: 'offer', sdp: 'x'.repeat(49 * 1024) } },
      { kind: 'call', callId: id, op: 'rtc', data: { type: 'offer' } },
      { kind: 'call', callId: id, op: 'rtc', data: { type: 'candidate', candidate: { candidate: 5 } } },
      { kind: 'call', callId: id, op: 'rtc', data: { type: 'offer', sdp: 'v=0' }, fp: { fingerprint: 'AB', sig: 'x' } },
      { kind: 'call', callId: id, op: 'state', muted: true, cameraOff: false, rev: 1.5 },
      { kind: 'call', callId: id, op: 'ring', media: { audio: true } },
      { kind: 'call', callId: `${id}/`, op: 'ringing' },
    ]) {
      expect(CallSignalSchema.safeParse(s).success).toBe(false);
    }
  });
});
