// With the direct path blocked but a TURN server (coturn, in its own namespace host) reachable and configured,
// the call connects through it and the live stats say so (path 'turn').
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { CallEndpoint, CallPeer, RelayHost } from './peers/driver.js';

const TURN_SCRIPT = fileURLToPath(new URL('./peers/turn-host.ts', import.meta.url));
const RELAY_PORT = 8443;
const TURN_PORT = 3478;

describe('calls through a TURN server', () => {
  const bed = useTestbed({ hosts: ['relay', 'a', 'b', 'turn'] });
  const running: Array<{ stop(): Promise<unknown> }> = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await Promise.all([turn?.stop(2_000), relay?.stop()]);
  });

  let turn: NodeProcess<{ type: string; message?: string }> | null = null;
  let relay: RelayHost | null = null;

  /** coturn in the turn host and the relay in the relay host, started once for the file. */
  async function infrastructure(): Promise<RelayHost> {
    const { relay: R, turn: T } = bed().hosts;
    if (!turn) {
      expect(existsSync('/usr/bin/turnserver'), 'coturn is installed on this machine').toBe(true);
      turn = T.spawnNode<{ type: string; message?: string }>(TURN_SCRIPT, [
        JSON.stringify({ address: T.address, port: TURN_PORT, user: 'parley', password: 's3cret' }),
      ]);
      const up = await turn.next((m) => m.type === 'ready' || m.type === 'error', 20_000);
      expect(up, turn.diagnostics()).toEqual({ type: 'ready' });
    }
    relay ??= await RelayHost.start(R, RELAY_PORT);
    return relay;
  }

  it('direct blocked, TURN allowed: the call connects via TURN and stats.path is "turn"', async () => {
    const { a: A, b: B, turn: T } = bed().hosts;
    const relay = await infrastructure();

    // Alice may reach only the relay (TCP) and the TURN server (UDP): nothing direct to Bob.
    await A.blockAllExcept({ tcpPorts: [RELAY_PORT], udpPorts: [TURN_PORT] });
    try {
      const iceServers = [
        { urls: `turn:${T.address}:${TURN_PORT}?transport=udp`, username: 'parley', credential: 's3cret' },
      ];
      const [alice, bob] = await Promise.all([
        CallPeer.start(A, 'Alice', { relayUrl: relay.url, iceServers }),
        CallPeer.start(B, 'Bob', { relayUrl: relay.url, iceServers }),
      ]);
      running.push(alice, bob);
      await CallEndpoint.befriend(alice, bob);
      await alice.command({ type: 'call', to: bob.id, video: true });
      await bob.next('incoming');
      const t0 = performance.now();
      await bob.command({ type: 'accept', video: true });
      await Promise.all([alice.reach('active'), bob.reach('active')]);
      console.log(`[call] via TURN: accept → active ${(performance.now() - t0).toFixed(0)} ms`);
      const media = await bob.media(20, 48_000);
      expect(media.timedOut).toBe(false);
      const [sa, sb] = await Promise.all([alice.stats(), bob.stats()]);
      console.log(`[call] via TURN: stats at Alice ${JSON.stringify(sa)}`);
      expect(sa.path).toBe('turn');
      expect(sa.localCandidateType).toBe('relay');
      expect(sb.path).toBe('turn');
      await alice.command({ type: 'hangup' });
      expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
    } finally {
      await A.unblock();
    }
  });

  it('relay only (IP privacy), direct open: the call still goes through TURN, relay candidates on both sides', async () => {
    const { a: A, b: B, turn: T } = bed().hosts;
    const relay = await infrastructure();
    const iceServers = [
      { urls: `turn:${T.address}:${TURN_PORT}?transport=udp`, username: 'parley', credential: 's3cret' },
    ];
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: relay.url, iceServers, relayOnly: true }),
      CallPeer.start(B, 'Bob', { relayUrl: relay.url, iceServers, relayOnly: true }),
    ]);
    running.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);
    await alice.command({ type: 'call', to: bob.id, video: false });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: false });
    await Promise.all([alice.reach('active'), bob.reach('active')]);
    expect((await bob.media(0, 48_000)).timedOut).toBe(false);
    // Without relay only these hosts connect directly (call.test.ts: path 'direct'): here no host or
    // server-reflexive candidate of either side was ever offered, so the only pair is relay ↔ relay.
    for (const stats of await Promise.all([alice.stats(), bob.stats()])) {
      expect(stats).toMatchObject({ path: 'turn', localCandidateType: 'relay', remoteCandidateType: 'relay' });
    }
    await alice.command({ type: 'hangup' });
    expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
  });

  it('direct blocked and the TURN credentials wrong: the call fails in bounded time saying the TURN server gave no relay address', async () => {
    const { a: A, b: B, turn: T } = bed().hosts;
    const relay = await infrastructure();
    await A.blockAllExcept({ tcpPorts: [RELAY_PORT], udpPorts: [TURN_PORT] });
    try {
      const iceServers = [
        { urls: `turn:${T.address}:${TURN_PORT}?transport=udp`, username: 'parley', credential: 'wrong' },
      ];
      const timeouts = { connectMs: 6_000 };
      const [alice, bob] = await Promise.all([
        CallPeer.start(A, 'Alice', { relayUrl: relay.url, iceServers, timeouts }),
        CallPeer.start(B, 'Bob', { relayUrl: relay.url, iceServers, timeouts }),
      ]);
      running.push(alice, bob);
      await CallEndpoint.befriend(alice, bob);
      await alice.command({ type: 'call', to: bob.id, video: false });
      await bob.next('incoming');
      await bob.command({ type: 'accept', video: false });
      const [endA, endB] = await Promise.all([alice.finished(20_000), bob.finished(20_000)]);
      expect(endA).toMatchObject({ state: 'failed', end: { code: 'turn-unreachable' } });
      expect(endA.end?.message).toContain('TURN server gave no relay address');
      expect(endB).toMatchObject({ state: 'failed', end: { code: 'turn-unreachable' } });
    } finally {
      await A.unblock();
    }
  });
});
