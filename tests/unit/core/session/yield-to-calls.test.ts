// YieldToCalls (core/src/session/yield-to-calls.ts): session streams get a pacer while a call is connecting or
// up (each stream its own), keep it through a second overlapping call, and lose it when the last call ends or
// fails; a session made during a call yields from the start; ringing alone does not make files yield.
import { describe, expect, it, vi } from 'vitest';
import type { StreamPacer } from '../../../../core/src/session/stream.js';
import { MEDIA_SAMPLE_MS, YieldToCalls, type YieldCall } from '../../../../core/src/session/yield-to-calls.js';
import { YieldPacer } from '../../../../core/src/session/yield-pacer.js';

class FakeCall implements YieldCall {
  readonly #listeners = new Set<(v: { state: string }) => void>();
  relayRttMs: number | null = null;
  constructor(public state: string) {}
  on(_event: 'state', listener: (v: { state: string }) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  set(state: string): void {
    this.state = state;
    for (const l of [...this.#listeners]) l({ state });
  }
  get listeners(): number {
    return this.#listeners.size;
  }
}

class FakeCalls {
  readonly #listeners = new Set<(call: YieldCall) => void>();
  on(_event: 'call', listener: (call: YieldCall) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(call: FakeCall): void {
    for (const l of this.#listeners) l(call);
  }
}

class FakeStream {
  pacer: StreamPacer | null = null;
  setPacer(p: StreamPacer | null): void {
    this.pacer = p;
  }
}

describe('YieldToCalls', () => {
  it('streams yield while a call is connecting or up, and take the link back when the last call is over', () => {
    const calls = new FakeCalls();
    const streams = [new FakeStream(), new FakeStream()];
    const y = new YieldToCalls(calls, () => streams);
    const first = new FakeCall('calling');
    calls.emit(first);
    expect(streams.map((s) => s.pacer)).toEqual([null, null]); // ringing: no media yet
    first.set('connecting');
    expect(streams.every((s) => s.pacer instanceof YieldPacer)).toBe(true);
    expect(streams[0]!.pacer).not.toBe(streams[1]!.pacer); // each stream its own controller
    const second = new FakeCall('active');
    const held = streams[0]!.pacer;
    calls.emit(second);
    expect(streams[0]!.pacer).toBe(held); // not reset by a second call
    first.set('ended');
    expect(streams[0]!.pacer).toBe(held);
    second.set('reconnecting');
    expect(streams[0]!.pacer).toBe(held);
    second.set('failed');
    expect(streams.map((s) => s.pacer)).toEqual([null, null]);
    expect(first.listeners + second.listeners).toBe(0);
    y.close();
  });

  it('a session made during a call yields from the start; none after the call', () => {
    const calls = new FakeCalls();
    const y = new YieldToCalls(calls, () => []);
    const call = new FakeCall('active');
    calls.emit(call);
    const during = new FakeStream();
    y.adopt(during);
    expect(during.pacer).toBeInstanceOf(YieldPacer);
    call.set('ended');
    const after = new FakeStream();
    y.adopt(after);
    expect(after.pacer).toBeNull();
    y.close();
  });

  it('close() stops following calls', () => {
    const calls = new FakeCalls();
    const stream = new FakeStream();
    const y = new YieldToCalls(calls, () => [stream]);
    const call = new FakeCall('calling');
    calls.emit(call);
    y.close();
    call.set('active');
    calls.emit(new FakeCall('active'));
    expect(stream.pacer).toBeNull();
    expect(call.listeners).toBe(0);
  });

  it("the pacers read the queue from the live call's relay media round trip, sampled while yielding", () => {
    vi.useFakeTimers();
    try {
      const calls = new FakeCalls();
      let reading: (() => number | null) | null = null;
      const y = new YieldToCalls(
        calls,
        () => [new FakeStream()],
        (mediaQueueingMs) => {
          reading = mediaQueueingMs;
          return new YieldPacer({ mediaQueueingMs });
        },
      );
      const call = new FakeCall('active');
      calls.emit(call);
      expect(reading!()).toBeNull(); // no relay media yet (a direct call has none)
      call.relayRttMs = 50;
      vi.advanceTimersByTime(20 * MEDIA_SAMPLE_MS);
      expect(reading!()).toBe(0);
      call.relayRttMs = 110; // a queue on the shared path
      vi.advanceTimersByTime(20 * MEDIA_SAMPLE_MS);
      expect(reading!()).toBe(60);
      call.set('ended'); // sampling stops with the yield
      expect(vi.getTimerCount()).toBe(0);
      y.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
