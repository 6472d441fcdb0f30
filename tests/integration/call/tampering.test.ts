// A hostile relay that rewrites the DTLS fingerprint in call SDP (to sit in the middle of DTLS) gets the call
// refused on both sides with the clear reason, and media never connects.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { CallEndpoint, CallPeer, RelayHost } from './peers/driver.js';

describe('a relay that alters call fingerprints', () => {
  const bed = useTestbed({ hosts: ['relay', 'a', 'b'] });
  const running: Array<CallPeer | RelayHost> = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  it('the call is refused: "the relay altered the call\'s encryption fingerprint", never active', async () => {
    const { relay: R, a: A, b: B } = bed().hosts;
    const relay = await RelayHost.start(R, 8443, { tamper: true });
    running.push(relay);
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: relay.url }),
      CallPeer.start(B, 'Bob', { relayUrl: relay.url }),
    ]);
    running.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);

    await alice.command({ type: 'call', to: bob.id, video: true });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: true });
    const [endA, endB] = await Promise.all([alice.finished(), bob.finished()]);

    // Bob received the rewritten offer and refused it before it reached WebRTC; Alice learns why from Bob.
    expect(endB).toMatchObject({ state: 'failed', end: { code: 'tampered', remote: false } });
    expect(endB.end?.message).toContain("the relay altered the call's encryption fingerprint");
    expect(endA).toMatchObject({ state: 'failed', end: { code: 'tampered' } });
    expect(relay.tamperedCount()).toBeGreaterThanOrEqual(1);
    for (const [peer, end] of [
      [alice, endA],
      [bob, endB],
    ] as const) {
      expect(peer.statesSeen(end.callId)).not.toContain('active');
    }
  });
});
