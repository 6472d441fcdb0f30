// Two `parley` processes in namespace hosts with the relay in a third: identities, invites both ways,
// say/listen over a direct link and over the relay, and the outbox for an offline contact.
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { startRelayHost, type RelayHandle } from '../../harness/peers/harness.js';
import { jsonOf, LiveCli, newHome, parley } from './harness.js';

describe('parley say / listen between namespace hosts', () => {
  const bed = useTestbed({ hosts: ['a', 'b', 'relay'] });
  let relay: RelayHandle | undefined;
  const homes: string[] = [];
  const live: LiveCli[] = [];
  let alice: { home: string; id: string; invite: string };
  let bob: { home: string; id: string; invite: string };

  afterEach(async () => {
    for (const l of live.splice(0)) await l.proc.stop();
    await bed().hosts.a.unblock();
  });
  afterAll(async () => {
    await relay?.proc.stop();
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  async function identity(host: 'a' | 'b', name: string): Promise<{ home: string; id: string; invite: string }> {
    const home = await newHome(name);
    homes.push(home);
    const r = await parley(bed().hosts[host], home, ['id', '--name', name, '--relay', relay!.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [j] = jsonOf<{ id: string; invite: string }>(r);
    return { home, id: j!.id, invite: j!.invite };
  }

  function listen(host: 'a' | 'b', home: string): LiveCli {
    const l = LiveCli.start(bed().hosts[host], home, ['listen']);
    live.push(l);
    return l;
  }

  it('creates identities and adds each other from invites', async () => {
    relay = await startRelayHost(bed().hosts.relay);
    alice = await identity('a', 'Alice');
    bob = await identity('b', 'Bob');
    const ab = await parley(bed().hosts.a, alice.home, ['add', bob.invite, '--json']);
    expect(ab.code, ab.stderr).toBe(0);
    expect(jsonOf(ab)[0]).toMatchObject({ id: bob.id, name: 'Bob', added: true });
    const ba = await parley(bed().hosts.b, bob.home, ['add', alice.invite, '--json']);
    expect(ba.code, ba.stderr).toBe(0);
    expect(jsonOf(ba)[0]).toMatchObject({ id: alice.id, name: 'Alice', added: true });
  });

  it('say is delivered (exit 0) and listen prints it; the link goes direct', async () => {
    const l = listen('b', bob.home);
    await l.next((x) => x['type'] === 'relay' && x['state'] === 'online');
    const r = await parley(bed().hosts.a, alice.home, ['say', 'Bob', 'hi Bob', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [said] = jsonOf(r);
    expect(said).toMatchObject({ type: 'delivered', to: bob.id, text: 'hi Bob' });
    const got = await l.next((x) => x['type'] === 'message');
    expect(got).toMatchObject({ id: said!['id'], from: alice.id, name: 'Alice', text: 'hi Bob' });
    // Both hosts share a segment: the session moves to the direct WebRTC path.
    await l.next((x) => x['type'] === 'path' && x['path'] === 'direct', 30_000);
    const code = await l.stop('SIGINT');
    expect(code, `listen ended by ${l.exitSignal}; stderr: ${l.stderr}`).toBe(0);
    expect(l.lines.filter((x) => x['type'] === 'message')).toHaveLength(1);
  });

  it('with everything but the relay port blocked, say is delivered over the relay', async () => {
    const { a, relay: relayHost } = bed().hosts;
    await a.blockAllExcept({ tcpPorts: [relay!.port], host: relayHost });
    const l = listen('b', bob.home);
    await l.next((x) => x['type'] === 'relay' && x['state'] === 'online');
    const r = await parley(a, alice.home, ['say', 'Bob', 'through the relay', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonOf(r)[0]).toMatchObject({ type: 'delivered', text: 'through the relay', path: 'relay' });
    await l.next((x) => x['type'] === 'message' && x['text'] === 'through the relay');
  });

  it('say to an offline contact exits 1 keeping the message, delivered exactly once when both are online', async () => {
    const { a } = bed().hosts;
    const r = await parley(a, alice.home, ['say', 'Bob', 'while you were out', '--timeout', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is offline');
    expect(r.stderr).toContain('stays in your outbox');

    const lb = listen('b', bob.home);
    await lb.next((x) => x['type'] === 'relay' && x['state'] === 'online');
    // Alice comes online with `listen`: her outbox goes out by itself.
    const la = listen('a', alice.home);
    const delivered = await la.next((x) => x['type'] === 'delivered', 60_000);
    const got = await lb.next((x) => x['type'] === 'message' && x['text'] === 'while you were out', 60_000);
    expect(got['id']).toBe(delivered['id']);
    // A later message arrives after it, and the first is still there exactly once.
    const again = await parley(a, alice.home, ['say', 'Bob', 'after'], 90_000);
    // Alice's listen holds her home's lock: say must refuse clearly rather than corrupt state.
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('another parley process is using');
    expect(await la.stop()).toBe(0);
    const after = await parley(a, alice.home, ['say', 'Bob', 'after', '--json']);
    expect(after.code, after.stderr).toBe(0);
    await lb.next((x) => x['type'] === 'message' && x['text'] === 'after');
    expect(await lb.stop()).toBe(0);
    expect(lb.lines.filter((x) => x['type'] === 'message').map((x) => x['text'])).toEqual([
      'while you were out',
      'after',
    ]);
  });
});
