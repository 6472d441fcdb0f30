// Calls between two real Node peers (core CallManager + @roamhq/wrtc) in namespace hosts, signalling through the
// real relay in a third host: media both ways, mute/camera state, device switch, video added to an audio call,
// hang up, decline, an offline contact, a blocked network (fails with the TURN reason, never stuck connecting).
import { afterEach, describe, expect, it } from 'vitest';
import { issueWatchGrant } from '../../../core/src/contacts/requests.js';
import { generateIdentityKeyPair } from '../../../core/src/identity/keys.js';
import { useTestbed } from '../../testbed/vitest.js';
import { CallEndpoint, CallPeer, RelayHost } from './peers/driver.js';

const RELAY_PORT = 8443;
/** One second of audio at the sinks' rate (48 kHz). */
const AUDIO_SECOND = 48_000;

describe('calls between Node peers in namespace hosts', () => {
  const bed = useTestbed({ hosts: ['relay', 'a', 'b'] });
  let relay: RelayHost | null = null;
  const peers: CallPeer[] = [];

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });

  async function relayUrl(): Promise<string> {
    relay ??= await RelayHost.start(bed().hosts.relay, RELAY_PORT);
    return relay.url;
  }

  async function pair(timeouts?: { connectMs?: number }): Promise<[CallPeer, CallPeer]> {
    const url = await relayUrl();
    const { a: A, b: B } = bed().hosts;
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: url, ...(timeouts ? { timeouts } : {}) }),
      CallPeer.start(B, 'Bob', { relayUrl: url, ...(timeouts ? { timeouts } : {}) }),
    ]);
    peers.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);
    return [alice, bob];
  }

  /** Alice calls Bob, Bob accepts; resolves when both are active. */
  async function connect(
    alice: CallPeer,
    bob: CallPeer,
    video: { caller: boolean; callee: boolean },
  ): Promise<{ ms: number }> {
    await alice.command({ type: 'call', to: bob.id, video: video.caller });
    const ring = await bob.next('incoming');
    expect(ring.from).toBe(alice.id);
    expect(ring.offered).toEqual({ audio: true, video: video.caller });
    await alice.reach('ringing');
    const t0 = performance.now();
    await bob.command({ type: 'accept', video: video.callee });
    await Promise.all([alice.reach('active'), bob.reach('active')]);
    return { ms: performance.now() - t0 };
  }

  it('video call: frames and audio arrive both ways, stats say direct, mute/camera-off reach the other side, camera switch keeps media flowing, hang up ends both', async () => {
    const [alice, bob] = await pair();
    const { ms } = await connect(alice, bob, { caller: true, callee: true });
    console.log(`[call] node↔node accept → active ${ms.toFixed(0)} ms`);

    const [atBob, atAlice] = await Promise.all([bob.media(30, AUDIO_SECOND), alice.media(30, AUDIO_SECOND)]);
    for (const r of [atBob, atAlice]) {
      expect(r.timedOut).toBe(false);
      expect(r.videoFrames).toBeGreaterThanOrEqual(30);
      expect(r.distinctFrames).toBeGreaterThanOrEqual(10); // the picture advances
      expect([r.width, r.height]).toEqual([320, 240]);
      expect(r.audioSamples).toBeGreaterThanOrEqual(AUDIO_SECOND);
      expect(r.audioPeak).toBeGreaterThan(1_000); // the 440 Hz tone, not silence
    }

    await alice.stats(); // first sample: rates need a previous one
    await bob.media(atBob.videoFrames + 15, 0);
    const stats = await alice.stats();
    console.log(`[call] stats at Alice: ${JSON.stringify(stats)}`);
    expect(stats.path).toBe('direct');
    expect(stats.localCandidateType).toBe('host');
    expect(stats.videoCodec).toBe('VP8');
    expect(String(stats.audioCodec).toLowerCase()).toBe('opus');
    expect(stats.inboundKbps).toBeGreaterThan(0);
    expect(stats.outboundKbps).toBeGreaterThan(0);
    expect(stats.frameWidth).toBe(320);
    expect(typeof stats.rttMs === 'number' || stats.rttMs === null).toBe(true);

    await alice.command({ type: 'mute', muted: true });
    expect(await bob.next('remote-state', 10_000, (s) => s.muted)).toMatchObject({
      muted: true,
      cameraOff: false,
      video: true,
    });
    await alice.command({ type: 'camera-off', off: true });
    expect(await bob.next('remote-state', 10_000, (s) => s.cameraOff)).toMatchObject({ muted: true, cameraOff: true });
    await alice.command({ type: 'camera-off', off: false });
    expect(await bob.next('remote-state', 10_000, (s) => s.muted && !s.cameraOff)).toMatchObject({
      muted: true,
      cameraOff: false,
    });

    // Device switch: a new camera track replaces the old one without renegotiating; Bob keeps getting frames.
    const before = (await bob.media(0, 0)).videoFrames;
    await alice.command({ type: 'replace-video' });
    const after = await bob.media(before + 30, 0);
    expect(after.timedOut).toBe(false);
    expect(after.videoFrames).toBeGreaterThanOrEqual(before + 30);

    await alice.command({ type: 'hangup' });
    const [endA, endB] = await Promise.all([alice.finished(), bob.finished()]);
    expect(endA).toMatchObject({ state: 'ended', end: { code: 'hangup' } });
    expect(endB).toMatchObject({ state: 'ended', end: { code: 'remote-hangup', remote: true } });
  });

  it('audio call, then each side adds video (renegotiation signed like the first offer): video arrives both ways', async () => {
    const [alice, bob] = await pair();
    await connect(alice, bob, { caller: false, callee: false });
    const audioOnly = await bob.media(0, AUDIO_SECOND / 2);
    expect(audioOnly.videoFrames).toBe(0);
    expect(audioOnly.audioSamples).toBeGreaterThanOrEqual(AUDIO_SECOND / 2);

    await alice.command({ type: 'add-video' });
    await bob.next('remote-track', 15_000, (t) => t.kind === 'video');
    expect(await bob.next('remote-state', 10_000, (s) => s.video)).toMatchObject({ video: true, cameraOff: false });
    const atBob = await bob.media(20, 0);
    expect(atBob.timedOut).toBe(false);
    expect(atBob.videoFrames).toBeGreaterThanOrEqual(20);

    await bob.command({ type: 'add-video' }); // the callee asks the caller to renegotiate
    await alice.next('remote-track', 15_000, (t) => t.kind === 'video');
    const atAlice = await alice.media(20, 0);
    expect(atAlice.timedOut).toBe(false);
    expect(atAlice.videoFrames).toBeGreaterThanOrEqual(20);

    await bob.command({ type: 'hangup' });
    expect(await alice.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
    expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'hangup' } });
  });

  it('decline ends both sides; a contact who is offline fails at once with a reason', async () => {
    const [alice, bob] = await pair();
    await alice.command({ type: 'call', to: bob.id, video: true });
    await bob.next('incoming');
    await bob.command({ type: 'decline' });
    expect(await alice.finished()).toMatchObject({
      state: 'ended',
      end: { code: 'remote-declined', message: 'Bob declined the call' },
    });
    expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'declined' } });

    const carol = await generateIdentityKeyPair({ extractable: false }); // a contact with no device online
    // Carol accepted Alice earlier: Alice holds her watch grant, so the relay may tell Alice she is offline.
    const grant = await issueWatchGrant(carol, alice.id, Date.now() + 3600_000);
    await alice.command({ type: 'contact', id: carol.id, key: carol.publicKey, name: 'Carol', grant });
    await alice.command({ type: 'call', to: carol.id, video: false });
    const end = await alice.finished(5_000);
    expect(end).toMatchObject({ state: 'failed', end: { code: 'offline', message: 'Carol is offline' } });
    expect(alice.statesSeen(end.callId)).toEqual(['failed']);
  });

  it('with everything but the relay port blocked between the hosts, the call fails within the connect bound with the TURN reason', async () => {
    const { a: A, relay: R } = bed().hosts;
    await A.blockAllExcept({ tcpPorts: [RELAY_PORT], host: R });
    try {
      const [alice, bob] = await pair({ connectMs: 8_000 });
      await alice.command({ type: 'call', to: bob.id, video: true });
      await bob.next('incoming');
      await bob.command({ type: 'accept', video: true });
      const [endA, endB] = await Promise.all([alice.finished(25_000), bob.finished(25_000)]);
      for (const [peer, end] of [
        [alice, endA],
        [bob, endB],
      ] as const) {
        expect(end.state).toBe('failed');
        expect(end.end?.code).toBe('no-path');
        expect(end.end?.message).toContain('a TURN server is needed on this network');
        expect(peer.statesSeen(end.callId)).not.toContain('active');
      }
      console.log(`[call] blocked network: failed ${endA.end?.code} / ${endB.end?.code}`);
    } finally {
      await A.unblock();
    }
  });
});
