import { describe, expect, it } from 'vitest';
import type { CallStats } from '../../../../core/src/call/types.js';
import { callQuality } from '../../../../renderer/src/lib/call-quality.js';

const base: CallStats = {
  at: 0,
  path: 'direct',
  localCandidateType: 'host',
  remoteCandidateType: 'host',
  protocol: 'udp',
  rttMs: 20,
  inboundKbps: 900,
  outboundKbps: 900,
  packetLossPct: 0,
  audioCodec: 'opus',
  videoCodec: 'VP8',
  frameWidth: 640,
  frameHeight: 480,
  framesPerSecond: 30,
  bytesReceived: 1,
  bytesSent: 1,
};
const relay = (p95: number | null, fps: number | null): CallStats => ({
  ...base,
  path: 'relay',
  packetLossPct: null,
  framesPerSecond: fps,
  relay: {
    latencyMs: p95,
    latencyP95Ms: p95,
    playoutDelayMs: 40,
    targetKbps: 600,
    lateFrames: 0,
    videoFramesDecoded: 1,
    audioSamplesDecoded: 1,
    refused: 0,
    audioPlayedMs: 0,
    audioUnderrunMs: 0,
    audioViaPeerConnection: false,
    stages: {},
  },
});

describe('call quality indicator', () => {
  it('direct and TURN: from loss and round trip', () => {
    expect(callQuality(base)).toBe('good');
    expect(callQuality({ ...base, packetLossPct: 5 })).toBe('fair');
    expect(callQuality({ ...base, path: 'turn', rttMs: 900 })).toBe('poor');
  });

  it('relay: from capture → display latency and frame rate', () => {
    expect(callQuality(relay(120, 30))).toBe('good');
    expect(callQuality(relay(400, 25))).toBe('fair');
    expect(callQuality(relay(150, 5))).toBe('poor');
    expect(callQuality(relay(1_200, 30))).toBe('poor');
    expect(callQuality(relay(null, 30))).toBeNull();
  });

  it('unknown before a path is known', () => {
    expect(callQuality(null)).toBeNull();
    expect(callQuality({ ...base, path: null })).toBeNull();
  });
});
