// Nothing lost, nothing duplicated: 1,000 numbered messages across a direct-link cut, and a relay restart.
import { afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { MessengerPeer, startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';

describe('session resilience', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  const started: Array<MessengerPeer | RelayHandle> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => ('close' in p ? p.close() : p.proc.stop())));
    await bed().hosts.a.restoreLink();
  });

  async function pair(relayPort = 0) {
    const { a, b, relay } = bed().hosts;
    const r = await startRelayHost(relay, 'honest', relayPort);
    started.push(r);
    const [pa, pb] = await Promise.all([MessengerPeer.spawn(a, 'alice', r.url), MessengerPeer.spawn(b, 'bob', r.url)]);
    started.push(pa, pb);
    await pa.add(pb);
    await pb.add(pa);
    await Promise.all([pa.waitOnline(pb.id), pb.waitOnline(pa.id)]);
    return { pa, pb, r };
  }

  /** Collects `count` incoming texts at `peer` (bounded in time). */
  async function collect(peer: MessengerPeer, count: number, timeoutMs: number): Promise<string[]> {
    const texts: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (texts.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${texts.length}/${count} messages arrived`);
      texts.push((await peer.nextIncoming(() => true, left)).message.text);
    }
    return texts;
  }

  it('1,000 numbered messages sent while the direct link is cut mid-way arrive exactly once and in order', async () => {
    const { a, b } = bed().hosts;
    const { pa, pb } = await pair();
    await pa.send(pb.id, 'warm-up');
    await pb.nextIncoming((m) => m.text === 'warm-up');
    await pa.waitPath(pb.id, 'direct');

    const first = pa.request({ cmd: 'sendMany', contactId: pb.id, prefix: 'n', from: 0, count: 500 }, 60_000);
    const arriving = collect(pb, 1000, 120_000);
    await first;
    await a.cutLink({ peers: [b] }); // the relay stays reachable
    await pa.request({ cmd: 'sendMany', contactId: pb.id, prefix: 'n', from: 500, count: 500 }, 60_000);
    await pa.waitPath(pb.id, 'relay', 30_000);
    const texts = await arriving;
    expect(texts).toEqual(Array.from({ length: 1000 }, (_, i) => `n${i}`));

    const history = await pb.history(pa.id);
    const numbered = history.filter((m) => m.text.startsWith('n'));
    expect(new Set(numbered.map((m) => m.id)).size).toBe(numbered.length);
    // No late duplicates: one more message is the next thing to arrive.
    await pa.send(pb.id, 'after');
    expect((await pb.nextIncoming()).message.text).toBe('after');

    // Direct comes back once the link is restored.
    await a.restoreLink();
    await pa.waitPath(pb.id, 'direct', 60_000);
  });

  it('reconnects after the relay restarts mid-session with no loss', async () => {
    const { relay } = bed().hosts;
    const { a } = bed().hosts;
    const { pa, pb, r } = await pair();
    // Relay-only data path, so the restart hits the path in use.
    await a.blockAllExcept({ tcpPorts: [r.port], host: relay });
    await pa.send(pb.id, 'm0');
    await pb.nextIncoming((m) => m.text === 'm0', 20_000);
    await pa.waitPath(pb.id, 'relay');

    await r.proc.stop();
    started.splice(started.indexOf(r), 1);
    const sends = pa.request({ cmd: 'sendMany', contactId: pb.id, prefix: 'm', from: 1, count: 20 }, 60_000);
    const r2 = await startRelayHost(relay, 'honest', r.port);
    started.push(r2);
    await sends;
    const texts = await collect(pb, 20, 60_000);
    expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    await a.unblock();
  });
});
