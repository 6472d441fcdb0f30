// The renderer's call state against its real types (issue 13.6/13.7): the pure reducer of engine
// events, and CallUiState with a recording engine, fake devices and a fake timer. Also issue 14.5: a call
// that ended closes its screen by itself after a moment and leaves "Call again" to the chat.
import { describe, expect, it } from 'vitest';
import type { CallStats } from '../../../../core/src/call/types.js';
import { CallDevices, type MediaAccess } from '../../../../renderer/src/state/call/devices.svelte.js';
import { dismissed, IDLE, reduceCallEvent, type CallFacts } from '../../../../renderer/src/state/call/reducer.js';
import { CallStatsMonitor, type Ticker } from '../../../../renderer/src/state/call/stats.svelte.js';
import { CallUiState, ENDED_SCREEN_MS, type CallControl } from '../../../../renderer/src/state/call.svelte.js';

class FakeTrack {
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {
    this.stopped = true;
  }
  getSettings(): { deviceId: string } {
    return { deviceId: `${this.kind}-1` };
  }
}

function fakeStream(video: boolean): MediaStream {
  const tracks = [new FakeTrack('audio'), ...(video ? [new FakeTrack('video')] : [])];
  return {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
  } as unknown as MediaStream;
}

const media: MediaAccess = {
  getUserMedia: async (c) => fakeStream(!!c.video),
  enumerateDevices: async () => [
    { kind: 'audioinput', deviceId: 'audio-1', label: 'Mic', groupId: 'g' } as MediaDeviceInfo,
  ],
};

function setup() {
  const calls: string[] = [];
  const control: CallControl = {
    start: (contactId) => (calls.push(`start ${contactId}`), 'call-1'),
    accept: async (id) => void calls.push(`accept ${id}`),
    decline: (id) => void calls.push(`decline ${id}`),
    hangup: (id) => void calls.push(`hangup ${id}`),
    setMuted: (id, m) => void calls.push(`muted ${id} ${m}`),
    setCameraOff: (id, o) => void calls.push(`camera-off ${id} ${o}`),
    replaceTrack: () => void calls.push('replace'),
    addVideo: () => void calls.push('add-video'),
    stats: async () => ({ path: 'direct' }) as unknown as CallStats,
  };
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const later = (fn: () => void, ms: number) => {
    const t = { fn, ms, cancelled: false };
    timers.push(t);
    return () => void (t.cancelled = true);
  };
  const ticks: Array<() => void> = [];
  const ticker: Ticker = { now: () => 5_000, every: (_ms, fn) => (ticks.push(fn), () => undefined) };
  const call = new CallUiState({ devices: new CallDevices(media), monitor: new CallStatsMonitor(ticker), later });
  call.bindControl(control);
  return { call, calls, timers, ticks };
}

describe('reduceCallEvent', () => {
  const ringing: CallFacts = { ...IDLE, phase: 'outgoing', callId: 'c1', contactId: 'bob' };

  it('ignores events of another call and a second ring during a call', () => {
    expect(reduceCallEvent(ringing, { type: 'connected', callId: 'other', connectedAt: 1 }).facts).toBe(ringing);
    expect(reduceCallEvent(ringing, { type: 'incoming', callId: 'c2', contactId: 'eve', video: false }).facts).toBe(
      ringing,
    );
  });

  it('connects, keeps the first connect time, and ends keeping the contact', () => {
    const active = reduceCallEvent(ringing, { type: 'connected', callId: 'c1', connectedAt: 100 });
    expect(active).toMatchObject({ facts: { phase: 'active', connectedAt: 100 }, effect: 'connected' });
    const again = reduceCallEvent(
      { ...active.facts, phase: 'reconnecting' },
      { type: 'connected', callId: 'c1', connectedAt: 900 },
    );
    expect(again.facts.connectedAt).toBe(100);
    const ended = reduceCallEvent(active.facts, { type: 'ended', callId: 'c1', reason: 'remote-hangup' });
    expect(ended).toMatchObject({
      facts: { phase: 'ended', callId: null, contactId: 'bob', endReason: 'remote-hangup' },
      effect: 'ended',
    });
  });

  it('a superseded call gives way quietly; a failure keeps its reason', () => {
    expect(reduceCallEvent(ringing, { type: 'ended', callId: 'c1', reason: 'superseded' })).toMatchObject({
      facts: { phase: 'idle' },
      effect: 'release',
    });
    expect(
      reduceCallEvent(ringing, { type: 'failed', callId: 'c1', reason: 'no-path', message: 'x' } as never),
    ).toMatchObject({
      facts: { phase: 'failed', failure: 'no-path', failureDetail: 'x', dropped: false },
      effect: 'failed',
    });
  });

  it('a call that fails after it connected dropped (the view says so), one that never connected could not connect', () => {
    const active = reduceCallEvent(ringing, { type: 'connected', callId: 'c1', connectedAt: 100 });
    const lost = { type: 'failed', callId: 'c1', reason: 'connection-lost', message: 'x' } as never;
    expect(reduceCallEvent(active.facts, lost).facts).toMatchObject({ phase: 'failed', dropped: true });
    expect(reduceCallEvent(ringing, lost).facts).toMatchObject({ phase: 'failed', dropped: false });
    // Put away, the next call starts clean.
    expect(dismissed(reduceCallEvent(active.facts, lost).facts).dropped).toBe(false);
  });
});

describe('CallUiState', () => {
  it('places a call on the chosen devices and counts the call time from the engine', async () => {
    const { call, calls, ticks } = setup();
    await call.start('bob', true);
    expect(calls).toEqual(['start bob']);
    expect(call).toMatchObject({
      phase: 'outgoing',
      callId: 'call-1',
      video: true,
      micId: 'audio-1',
      cameraId: 'video-1',
    });
    call.handle({ type: 'connected', callId: 'call-1', connectedAt: 2_000 });
    expect(call.phase).toBe('active');
    expect(call.elapsedMs).toBe(3_000);
    expect(ticks).toHaveLength(2);
    call.toggleMute();
    expect(calls.at(-1)).toBe('muted call-1 true');
  });

  it('after hang-up the screen closes by itself, and "Call again" stays for the chat', async () => {
    const { call, calls, timers } = setup();
    await call.start('bob', false);
    const stream = call.localStream!;
    call.handle({ type: 'connected', callId: 'call-1', connectedAt: 1 });
    call.hangup();
    expect(calls.at(-1)).toBe('hangup call-1');
    expect(call.phase).toBe('ended');
    expect(stream.getTracks().every((t) => (t as unknown as FakeTrack).stopped)).toBe(true);
    expect(call.lastEnded).toEqual({ contactId: 'bob', video: false, reason: 'hangup' });
    expect(timers).toHaveLength(1);
    expect(timers[0]!.ms).toBe(ENDED_SCREEN_MS);
    timers[0]!.fn();
    expect(call.phase).toBe('idle');
    expect(call.lastEnded?.contactId).toBe('bob');
    await call.start('bob', false);
    expect(call.lastEnded).toBeNull();
  });

  it('a failed call stays on screen to say why', async () => {
    const { call, timers } = setup();
    await call.start('bob', false);
    call.handle({ type: 'failed', callId: 'call-1', reason: 'no-path', message: 'no network path' } as never);
    expect(call.phase).toBe('failed');
    expect(timers).toHaveLength(0);
    call.dismiss();
    expect(call.phase).toBe('idle');
  });

  it('the other side hanging up closes the screen after a moment too; a new ring cancels that', async () => {
    const { call, timers } = setup();
    await call.start('bob', false);
    call.handle({ type: 'ended', callId: 'call-1', reason: 'remote-hangup' });
    expect(timers).toHaveLength(1);
    call.handle({ type: 'incoming', callId: 'call-2', contactId: 'carol', video: true });
    expect(timers[0]!.cancelled).toBe(true);
    expect(call).toMatchObject({ phase: 'incoming', contactId: 'carol', offeredVideo: true, lastEnded: null });
  });

  it('a call in progress shrinks to its small window and back; a failure comes back full screen to say why; the next call starts full screen', async () => {
    const { call } = setup();
    call.minimize();
    expect(call.minimized).toBe(false); // nothing to shrink without a call
    await call.start('bob', true);
    call.handle({ type: 'connected', callId: 'call-1', connectedAt: 1 });
    call.minimize();
    expect(call.minimized).toBe(true);
    expect(call.phase).toBe('active'); // the call goes on
    call.expand();
    expect(call.minimized).toBe(false);
    call.minimize();
    call.handle({ type: 'failed', callId: 'call-1', reason: 'connection-lost', message: 'lost' } as never);
    expect(call).toMatchObject({ phase: 'failed', minimized: false });
    call.dismiss();
    await call.start('bob', false);
    call.handle({ type: 'connected', callId: 'call-1', connectedAt: 1 });
    call.minimize();
    call.hangup();
    expect(call).toMatchObject({ phase: 'ended', minimized: true }); // "Call ended" shows in the small window
    call.dismiss();
    expect(call.minimized).toBe(false);
    await call.start('bob', false);
    expect(call.minimized).toBe(false);
  });

  it('without an engine a call fails as unavailable', async () => {
    const { call } = setup();
    call.bindControl(null);
    await call.start('bob', false);
    expect(call).toMatchObject({ phase: 'failed', failure: 'unavailable' });
  });
});
