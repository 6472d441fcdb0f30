// A path break in the middle of a call: the call shows 'reconnecting', comes back to 'active' when the path
// heals, and ends with 'connection-lost' (both sides, bounded) when it does not.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { CallEndpoint, CallPeer, RelayHost } from './peers/driver.js';

describe('a call whose network path breaks', () => {
  const bed = useTestbed({ hosts: ['relay', 'a', 'b'] });
  const running: Array<CallPeer | RelayHost> = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  it('shows reconnecting while the path is cut, and is active with media flowing again once it heals', async () => {
    const { relay: R, a: A, b: B } = bed().hosts;
    const relay = await RelayHost.start(R, 8443);
    running.push(relay);
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: relay.url, timeouts: { reconnectMs: 20_000 } }),
      CallPeer.start(B, 'Bob', { relayUrl: relay.url, timeouts: { reconnectMs: 20_000 } }),
    ]);
    running.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);
    await alice.command({ type: 'call', to: bob.id, video: true });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: true });
    await Promise.all([alice.reach('active'), bob.reach('active')]);
    await bob.media(15, 0);

    try {
      // Only the path between the two peers breaks; both keep their relay connection.
      const cutAt = performance.now();
      await A.cutLink({ peers: [B] });
      await alice.reach('reconnecting', 60_000);
      console.log(`[call] path cut → reconnecting after ${(performance.now() - cutAt).toFixed(0)} ms`);
      await A.restoreLink();
      await alice.reach('active', 30_000);
      const before = (await bob.media(0, 0)).videoFrames;
      const after = await bob.media(before + 15, 0);
      expect(after.timedOut).toBe(false);
    } finally {
      await A.restoreLink();
    }
  });

  it('a path that stays broken ends the call on both sides with connection-lost within the reconnect bound', async () => {
    const { relay: R, a: A, b: B } = bed().hosts;
    const relay = await RelayHost.start(R, 8444);
    running.push(relay);
    const timeouts = { reconnectMs: 3_000 };
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: relay.url, timeouts }),
      CallPeer.start(B, 'Bob', { relayUrl: relay.url, timeouts }),
    ]);
    running.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);
    await alice.command({ type: 'call', to: bob.id, video: false });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: false });
    await Promise.all([alice.reach('active'), bob.reach('active')]);
    try {
      await A.cutLink({ peers: [B] });
      const [endA, endB] = await Promise.all([alice.finished(60_000), bob.finished(60_000)]);
      expect(endA).toMatchObject({ state: 'failed', end: { code: 'connection-lost' } });
      expect(endB).toMatchObject({ state: 'failed', end: { code: 'connection-lost' } });
      expect(alice.statesSeen(endA.callId)).toContain('reconnecting');
    } finally {
      await A.restoreLink();
    }
  });
});
