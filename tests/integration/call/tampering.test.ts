// Issue 12.16 for calls, against a real relay behind a proxy that sees (and may alter) every call signal it
// forwards: call signals travel sealed end to end (v2), so the relay reads no SDP, no ICE candidate and no
// address of either host while the call connects with media; and a relay that alters a sealed offer gets the
// call refused on both sides with the clear reason, never active.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { CallEndpoint, CallPeer, RelayHost } from './peers/driver.js';

const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/;

describe('what a relay can do to calls', () => {
  const bed = useTestbed({ hosts: ['relay', 'a', 'b'] });
  const running: Array<CallPeer | RelayHost> = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  async function start(opts: { tamper?: boolean; observe?: boolean }, port: number) {
    const { relay: R, a: A, b: B } = bed().hosts;
    const relay = await RelayHost.start(R, port, opts);
    running.push(relay);
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: relay.url }),
      CallPeer.start(B, 'Bob', { relayUrl: relay.url }),
    ]);
    running.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);
    return { relay, alice, bob, addresses: [A.address, B.address] };
  }

  it('the relay reads no SDP, candidate or address of a call that connects with media both ways', async () => {
    const { relay, alice, bob, addresses } = await start({ observe: true }, 8443);
    await alice.command({ type: 'call', to: bob.id, video: false });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: false });
    await Promise.all([alice.reach('active'), bob.reach('active')]);
    const media = await Promise.all([bob.media(0, 48_000), alice.media(0, 48_000)]);
    for (const report of media) expect(report).toMatchObject({ timedOut: false });
    await alice.command({ type: 'hangup' });
    await Promise.all([alice.finished(), bob.finished()]);

    const forwarded = relay.forwarded();
    // ring, ringing, accept, offer, answer, candidates, states, hangup: all of them went through this relay.
    expect(forwarded.length).toBeGreaterThanOrEqual(8);
    for (const text of forwarded) {
      const msg = JSON.parse(text) as { type: string; data: { kind: string; v: number } };
      expect(msg.data).toMatchObject({ kind: 'call-signal', v: 2 });
      for (const secret of ['sdp', 'candidate', 'a=fingerprint', 'typ host', 'offer', 'answer', ...addresses])
        expect(text).not.toContain(secret);
      expect(text).not.toMatch(IPV4);
    }
  });

  it('a sealed offer the relay altered gets the call refused on both sides, "altered on the way", never active', async () => {
    const { relay, alice, bob } = await start({ tamper: true }, 8444);
    await alice.command({ type: 'call', to: bob.id, video: true });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: true });
    const [endA, endB] = await Promise.all([alice.finished(), bob.finished()]);

    // Bob got the altered offer and refused it before it reached WebRTC; Alice learns why from Bob.
    expect(endB).toMatchObject({ state: 'failed', end: { code: 'tampered', remote: false } });
    expect(endB.end?.message).toMatch(/a call signal from Alice was altered on the way .*the call was refused/);
    expect(endA).toMatchObject({ state: 'failed', end: { code: 'tampered', remote: true } });
    expect(relay.tamperedCount()).toBeGreaterThanOrEqual(1);
    for (const [peer, end] of [
      [alice, endA],
      [bob, endB],
    ] as const) {
      expect(peer.statesSeen(end.callId)).not.toContain('active');
    }
  });
});
