// TURN credentials from the relay (#11 item 8): coturn with use-auth-secret in its own host, the relay started
// with the same secret and the TURN URL, and clients with no TURN configured of their own. With the direct path
// blocked the call goes through TURN on the credentials the relay handed out; a relay holding the wrong secret
// hands out credentials coturn refuses, and the call then fails saying so (these Node peers have no relay media).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';
import { turnCredential, turnUsername } from '../../../signaling/server/turn-credentials.js';
import { CallEndpoint, CallPeer, RelayHost } from './peers/driver.js';

const TURN_SCRIPT = fileURLToPath(new URL('./peers/turn-host.ts', import.meta.url));
const RELAY_PORT = 8443;
const WRONG_RELAY_PORT = 8444;
const TURN_PORT = 3478;
const SECRET = 'coturn-static-auth-secret-for-tests';

describe('calls through TURN with credentials from the relay', () => {
  const bed = useTestbed({ hosts: ['relay', 'a', 'b', 'turn'] });
  const running: Array<{ stop(): Promise<unknown> }> = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await Promise.all([turn?.stop(2_000), relay?.stop(), wrongRelay?.stop()]);
  });

  let turn: NodeProcess<{ type: string; message?: string }> | null = null;
  let relay: RelayHost | null = null;
  let wrongRelay: RelayHost | null = null;

  /** coturn (use-auth-secret) in the turn host, started once for the file; its UDP URL. */
  async function coturn(): Promise<string> {
    const { turn: T } = bed().hosts;
    if (!turn) {
      expect(existsSync('/usr/bin/turnserver'), 'coturn is installed on this machine').toBe(true);
      turn = T.spawnNode<{ type: string; message?: string }>(TURN_SCRIPT, [
        JSON.stringify({ address: T.address, port: TURN_PORT, secret: SECRET }),
      ]);
      const up = await turn.next((m) => m.type === 'ready' || m.type === 'error', 20_000);
      expect(up, turn.diagnostics()).toEqual({ type: 'ready' });
    }
    return `turn:${T.address}:${TURN_PORT}?transport=udp`;
  }

  /** The relay handing out credentials made with coturn's secret, for TURN over UDP and over TCP. */
  async function goodRelay(): Promise<RelayHost> {
    const udp = await coturn();
    const tcp = udp.replace('transport=udp', 'transport=tcp');
    relay ??= await RelayHost.start(bed().hosts.relay, RELAY_PORT, { turn: { urls: [udp, tcp], secret: SECRET } });
    return relay;
  }

  it('direct blocked, no TURN configured in the clients: the call goes through TURN on the relay-provided credentials', async () => {
    const { a: A, b: B } = bed().hosts;
    const relay = await goodRelay();
    // Alice may reach only the relay (TCP) and the TURN server (UDP): nothing direct to Bob.
    await A.blockAllExcept({ tcpPorts: [RELAY_PORT], udpPorts: [TURN_PORT] });
    try {
      const [alice, bob] = await Promise.all([
        CallPeer.start(A, 'Alice', { relayUrl: relay.url }),
        CallPeer.start(B, 'Bob', { relayUrl: relay.url }),
      ]);
      running.push(alice, bob);
      await CallEndpoint.befriend(alice, bob);
      await alice.command({ type: 'call', to: bob.id, video: true });
      await bob.next('incoming');
      await bob.command({ type: 'accept', video: true });
      await Promise.all([alice.reach('active'), bob.reach('active')]);
      const media = await bob.media(20, 48_000);
      expect(media.timedOut).toBe(false);
      const [sa, sb] = await Promise.all([alice.stats(), bob.stats()]);
      console.log(`[call] via relay-provided TURN: stats at Alice ${JSON.stringify(sa)}`);
      expect(sa).toMatchObject({ path: 'turn', localCandidateType: 'relay' });
      expect(sb.path).toBe('turn');
      await alice.command({ type: 'hangup' });
      expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
    } finally {
      await A.unblock();
    }
  });

  it('all UDP blocked in one host: the call reaches TURN over TCP on the same credentials', async () => {
    const { a: A, b: B } = bed().hosts;
    const relay = await goodRelay();
    // Alice has TCP to the relay and to the TURN server, and no UDP at all.
    await A.blockAllExcept({ tcpPorts: [RELAY_PORT, TURN_PORT] });
    try {
      const [alice, bob] = await Promise.all([
        CallPeer.start(A, 'Alice', { relayUrl: relay.url }),
        CallPeer.start(B, 'Bob', { relayUrl: relay.url }),
      ]);
      running.push(alice, bob);
      await CallEndpoint.befriend(alice, bob);
      await alice.command({ type: 'call', to: bob.id, video: false });
      await bob.next('incoming');
      await bob.command({ type: 'accept', video: false });
      await Promise.all([alice.reach('active'), bob.reach('active')]);
      expect((await bob.media(0, 48_000)).timedOut).toBe(false);
      const sa = await alice.stats();
      console.log(`[call] via relay-provided TURN over TCP: stats at Alice ${JSON.stringify(sa)}`);
      expect(sa).toMatchObject({ path: 'turn', localCandidateType: 'relay' });
      await alice.command({ type: 'hangup' });
      expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
    } finally {
      await A.unblock();
    }
  });

  it('relay only, direct open: relay-provided TURN is the only path, relay candidates on both sides', async () => {
    const { a: A, b: B } = bed().hosts;
    const relay = await goodRelay();
    const [alice, bob] = await Promise.all([
      CallPeer.start(A, 'Alice', { relayUrl: relay.url, relayOnly: true }),
      CallPeer.start(B, 'Bob', { relayUrl: relay.url, relayOnly: true }),
    ]);
    running.push(alice, bob);
    await CallEndpoint.befriend(alice, bob);
    await alice.command({ type: 'call', to: bob.id, video: false });
    await bob.next('incoming');
    await bob.command({ type: 'accept', video: false });
    await Promise.all([alice.reach('active'), bob.reach('active')]);
    expect((await bob.media(0, 48_000)).timedOut).toBe(false);
    for (const stats of await Promise.all([alice.stats(), bob.stats()]))
      expect(stats).toMatchObject({ path: 'turn', localCandidateType: 'relay', remoteCandidateType: 'relay' });
    await alice.command({ type: 'hangup' });
    expect(await bob.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
  });

  it('a relay with the wrong secret: coturn refuses its credentials and the call fails saying TURN gave no relay address', async () => {
    const { a: A, b: B, relay: R } = bed().hosts;
    const url = await coturn();
    wrongRelay ??= await RelayHost.start(R, WRONG_RELAY_PORT, {
      turn: { urls: [url], secret: `${SECRET}-but-not-coturns` },
    });
    await A.blockAllExcept({ tcpPorts: [WRONG_RELAY_PORT], udpPorts: [TURN_PORT] });
    try {
      const timeouts = { connectMs: 6_000 };
      const [alice, bob] = await Promise.all([
        CallPeer.start(A, 'Alice', { relayUrl: wrongRelay.url, timeouts }),
        CallPeer.start(B, 'Bob', { relayUrl: wrongRelay.url, timeouts }),
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

  it('coturn refuses a credential whose expiry has passed (why clients drop expired ones): the call fails clearly', async () => {
    const { a: A, b: B } = bed().hosts;
    const relay = await goodRelay();
    const url = await coturn();
    // Made exactly as the relay makes them, with the right secret, but expired a minute ago; the clients get
    // only these (not the relay's fresh ones).
    const username = turnUsername(Math.floor(Date.now() / 1000) - 60, 'expired-test');
    const expired = [{ urls: url, username, credential: turnCredential(SECRET, username) }];
    await A.blockAllExcept({ tcpPorts: [RELAY_PORT], udpPorts: [TURN_PORT] });
    try {
      const timeouts = { connectMs: 6_000 };
      const [alice, bob] = await Promise.all([
        CallPeer.start(A, 'Alice', { relayUrl: relay.url, iceServers: expired, timeouts, relayTurn: false }),
        CallPeer.start(B, 'Bob', { relayUrl: relay.url, iceServers: expired, timeouts, relayTurn: false }),
      ]);
      running.push(alice, bob);
      await CallEndpoint.befriend(alice, bob);
      await alice.command({ type: 'call', to: bob.id, video: false });
      await bob.next('incoming');
      await bob.command({ type: 'accept', video: false });
      const endA = await alice.finished(20_000);
      expect(endA).toMatchObject({ state: 'failed', end: { code: 'turn-unreachable' } });
      expect(endA.end?.message).toContain('TURN server gave no relay address');
    } finally {
      await A.unblock();
    }
  });
});
