import { describe, expect, it } from 'vitest';
import { EarlyAudioGate } from '../../../../core/src/call/relay-media/early-audio.js';

/** Feeds 20 ms frames arriving at `at(i)`; returns the indexes handed on. */
function feed(gate: EarlyAudioGate, n: number, at: (i: number) => number): number[] {
  const handed: number[] = [];
  for (let i = 0; i < n; i++) if (gate.admit(at(i), 20)) handed.push(i);
  return handed;
}

describe('early relay audio gate (start-up backlog into the downstream buffer)', () => {
  it('drops a backlog arriving faster than real time at the start, down to the first frame pace', () => {
    const gate = new EarlyAudioGate();
    // 200 ms of backlog (10 frames) arrives within 20 ms, then frames come in real time.
    const handed = feed(gate, 100, (i) => 1_000 + (i < 10 ? i * 2 : (i - 10) * 20 + 20));
    // What is handed on never runs more than the slack (30 ms) ahead of the time elapsed.
    expect(gate.droppedMs).toBeGreaterThanOrEqual(160);
    expect(gate.droppedMs).toBeLessThanOrEqual(200);
    expect(handed.length * 20).toBe(2_000 - gate.droppedMs);
    // Once the backlog is gone, every real-time frame goes on.
    expect(handed.slice(-80)).toEqual(Array.from({ length: 80 }, (_, k) => 20 + k));
  });

  it('never drops late frames or a jittery real-time stream (a stall, then its burst)', () => {
    const gate = new EarlyAudioGate();
    const jitter = [0, 12, 3, 18, 7, 0, 15, 9];
    // Jitter up to 18 ms, and a 150 ms stall at frame 40 whose frames then arrive together.
    const handed = feed(
      gate,
      200,
      (i) => 5_000 + i * 20 + jitter[i % 8]! + (i >= 40 && i < 48 ? 150 - (i - 40) * 18 : 0),
    );
    expect(handed).toHaveLength(200);
    expect(gate.droppedMs).toBe(0);
  });

  it('acts only in the first seconds: a later burst goes on (the buffer downstream answers for it)', () => {
    const gate = new EarlyAudioGate({ forMs: 5_000 });
    feed(gate, 300, (i) => i * 20); // 6 s in real time
    const late = feed(gate, 10, () => 6_000); // 200 ms at once
    expect(late).toHaveLength(10);
    expect(gate.droppedMs).toBe(0);
  });
});
