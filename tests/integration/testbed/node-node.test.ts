// Node ↔ Node (@roamhq/wrtc via simple-peer) between two namespace hosts: direct transfer, ICE-TCP when UDP is
// blocked, no connection when everything is blocked, and a cut link that breaks a path and heals on restore.
import { describe, expect, it } from 'vitest';
import { NodePeer, TimeoutError, connectPeers, relaySignals, type Host } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';

const MB = 1024 * 1024;
const BROKEN = new Set(['disconnected', 'failed', 'closed']);

async function spawnPair(a: Host, b: Host): Promise<[NodePeer, NodePeer]> {
  return Promise.all([NodePeer.spawn(a), NodePeer.spawn(b)]);
}

async function closeAll(...peers: Array<NodePeer | undefined>): Promise<void> {
  await Promise.all(peers.map((p) => p?.close()));
}

describe('Node ↔ Node in namespaces', () => {
  const bed = useTestbed({ hosts: ['a', 'b'] });

  it('connects directly and moves 5 MB intact', async () => {
    const { a: A, b: B } = bed().hosts;
    const [a, b] = await spawnPair(A, B);
    try {
      const { ms } = await connectPeers(a, b);
      const pair = await a.pair();
      console.log(`[testbed] node↔node connect ${ms.toFixed(0)} ms, pair ${JSON.stringify(pair)}`);
      expect(pair?.local.candidateType).toBe('host');
      expect(pair?.local.address).toBe(A.address);
      await b.expect(5 * MB);
      await a.pump(5 * MB);
      const [sent, got] = await Promise.all([a.next('pumped', 60_000), b.next('received', 60_000)]);
      expect(got.bytes).toBe(5 * MB);
      expect(got.sha256).toBe(sent.sha256);
      console.log(`[testbed] node→node 5 MB in ${got.ms.toFixed(0)} ms`);
    } finally {
      await closeAll(a, b);
    }
  });

  it('still connects with UDP blocked in one host (ICE-TCP)', async () => {
    const { a: A, b: B } = bed().hosts;
    let a: NodePeer | undefined;
    let b: NodePeer | undefined;
    try {
      await A.blockUdp();
      [a, b] = await spawnPair(A, B);
      const { ms } = await connectPeers(a, b, { timeoutMs: 30_000 });
      const pair = await a.pair();
      console.log(`[testbed] node↔node, UDP blocked in a: connect ${ms.toFixed(0)} ms, pair ${JSON.stringify(pair)}`);
      expect(pair?.local.protocol).toBe('tcp');
      await a.sendText('over tcp');
      expect((await b.next('text')).text).toBe('over tcp');
    } finally {
      await A.unblock();
      await closeAll(a, b);
    }
  });

  it('does not connect with UDP and TCP blocked (except a relay port) in one host', async () => {
    const { a: A, b: B } = bed().hosts;
    let a: NodePeer | undefined;
    let b: NodePeer | undefined;
    try {
      await A.blockAllExcept({ tcpPorts: [8443], host: B });
      [a, b] = await spawnPair(A, B);
      const relay = relaySignals(a, b);
      await b.create({ initiator: false });
      await a.create({ initiator: true });
      // An assertion on absence over a fixed 5 s window: ICE keeps checking but never connects.
      await expect(a.connected(5_000)).rejects.toBeInstanceOf(TimeoutError);
      const seen = [...a.events.recent, ...b.events.recent];
      expect(seen.some((e) => e.type === 'connect')).toBe(false);
      expect(seen.some((e) => e.type === 'ice' && (e.state === 'connected' || e.state === 'completed'))).toBe(false);
      expect(seen.some((e) => e.type === 'signal')).toBe(true); // signaling did flow, only the path is blocked
      relay.stop();
      expect(relay.errors).toEqual([]);
    } finally {
      await A.unblock();
      await closeAll(a, b);
    }
  });

  it('cutLink breaks an established connection; after restoreLink a new one connects', async () => {
    const { a: A, b: B } = bed().hosts;
    let a: NodePeer | undefined;
    let b: NodePeer | undefined;
    try {
      [a, b] = await spawnPair(A, B);
      await connectPeers(a, b);
      a.events.discard((e) => e.type === 'ice');
      b.events.discard((e) => e.type === 'ice');
      const cutAt = performance.now();
      await A.cutLink();
      const [ea, eb] = await Promise.all([
        a.next('ice', 60_000, (e) => BROKEN.has(e.state)),
        b.next('ice', 60_000, (e) => BROKEN.has(e.state)),
      ]);
      console.log(
        `[testbed] cutLink → ICE ${ea.state} in a after ${(performance.now() - cutAt).toFixed(0)} ms (b: ${eb.state})`,
      );
      await A.restoreLink();
      await closeAll(a, b);
      [a, b] = await spawnPair(A, B);
      const { ms } = await connectPeers(a, b);
      console.log(`[testbed] after restoreLink a new pair connects in ${ms.toFixed(0)} ms`);
      await a.sendText('back');
      expect((await b.next('text')).text).toBe('back');
    } finally {
      await A.restoreLink();
      await closeAll(a, b);
    }
  });
});
