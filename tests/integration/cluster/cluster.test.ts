// The relay suites' essentials with every client pair on different nodes of a 3-node cluster on one real
// redis-server: auth, presence, signals exactly once and in order, channels, limits, operations.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_CHANNEL_PAYLOAD, encodeChannelFrame } from '../../../signaling/protocol/index.js';
import { RawClient, createIdentity, watchGrant, type TestIdentity } from '../../helpers/relay/raw-client.js';
import { bulkToSlowReceiver } from '../relay/channel-scenarios.js';
import { sync } from '../relay/barriers.js';
import { clusterFixture, metricsOf } from './fixture.js';

const fixture = clusterFixture();
const authed = (url: string, identity?: TestIdentity) => fixture.authed(url, identity);

describe('cluster: auth and presence across nodes', () => {
  it('authenticates on every node and reports presence set on other nodes, without flapping on a second device', async () => {
    const { nodes } = await fixture.start(3, {}, { offlineGraceMs: 300 });
    const alice = await authed(nodes[0]!.url);
    const bobIdentity = await createIdentity();
    alice.client.send({ type: 'subscribe', grants: [await watchGrant(bobIdentity, alice.identity.id)] });
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: false });

    const bob = await authed(nodes[1]!.url, bobIdentity);
    expect(bob.ready.id).toBe(bobIdentity.id);
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: true });
    const bob2 = await authed(nodes[2]!.url, bobIdentity);
    await bob.client.close();
    await bob2.client.close();
    expect(await alice.client.next('presence')).toEqual({ type: 'presence', id: bobIdentity.id, online: false });
    expect(alice.client.received.filter((m) => m.type === 'presence')).toHaveLength(3);

    // A watcher that subscribes after the fact, on a third node, learns the state at once.
    const carol = await authed(nodes[2]!.url);
    const watcher = await authed(nodes[1]!.url);
    watcher.client.send({ type: 'subscribe', grants: [await watchGrant(carol.identity, watcher.identity.id)] });
    expect(await watcher.client.next('presence')).toEqual({ type: 'presence', id: carol.identity.id, online: true });
  });

  it('does not announce offline when the last connection moves to another node within the grace', async () => {
    const { nodes } = await fixture.start(3, {}, { offlineGraceMs: 1_500 });
    const watcher = await authed(nodes[0]!.url);
    const mover = await createIdentity();
    const first = await authed(nodes[1]!.url, mover);
    watcher.client.send({ type: 'subscribe', grants: [await watchGrant(mover, watcher.identity.id)] });
    expect(await watcher.client.next('presence')).toMatchObject({ online: true });
    await first.client.close();
    await authed(nodes[2]!.url, mover);
    // Past the grace: still no offline.
    await expect(watcher.client.next('presence', 2_500)).rejects.toThrow();
    expect(watcher.client.received.filter((m) => m.type === 'presence')).toHaveLength(1);
  });

  it('caps connections per identity across the cluster', async () => {
    const { nodes } = await fixture.start(3, {}, { maxConnectionsPerIdentity: 2 });
    const me = await createIdentity();
    await authed(nodes[0]!.url, me);
    await authed(nodes[1]!.url, me);
    const third = fixture.track(await RawClient.open(nodes[2]!.url));
    await expect(third.authenticate(me)).rejects.toThrow();
    expect(third.received.find((m) => m.type === 'error')).toMatchObject({ code: ErrorCode.TooManyConnections });
  });
});

describe('cluster: signals across nodes', () => {
  it('delivers exactly once and in order to every device of the target, on every node, sender stamped', async () => {
    const { nodes } = await fixture.start(3, { limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
    const alice = await authed(nodes[0]!.url);
    const bobIdentity = await createIdentity();
    const bobs = [
      await authed(nodes[1]!.url, bobIdentity),
      await authed(nodes[2]!.url, bobIdentity),
      await authed(nodes[0]!.url, bobIdentity),
    ];
    const mallory = await createIdentity();
    const count = 300;
    for (let i = 0; i < count; i++)
      alice.client.send({ type: 'signal', to: bobIdentity.id, from: mallory.id, data: { i, from: mallory.id } });
    for (const bob of bobs) {
      for (let i = 0; i < count; i++) {
        const signal = await bob.client.next('signal');
        expect(signal.from).toBe(alice.identity.id);
        expect(signal.data).toEqual({ i, from: mallory.id });
      }
      await sync(bob.client);
      expect(bob.client.received.filter((m) => m.type === 'signal')).toHaveLength(count);
    }
    await sync(alice.client);
    expect(alice.client.received.some((m) => m.type === 'error')).toBe(false);
  });

  it("reaches one's own devices on other nodes but not the sender, and says offline when nobody anywhere holds the target", async () => {
    const { nodes } = await fixture.start(3);
    const me = await createIdentity();
    const phone = await authed(nodes[0]!.url, me);
    const laptop = await authed(nodes[1]!.url, me);
    phone.client.send({ type: 'signal', to: me.id, data: { hi: 1 } });
    expect(await laptop.client.next('signal')).toMatchObject({ from: me.id, data: { hi: 1 } });
    await sync(phone.client);
    expect(phone.client.received.some((m) => m.type === 'signal')).toBe(false);
    await laptop.client.close();
    phone.client.send({ type: 'signal', to: me.id, data: { hi: 2 }, ref: 'self' });
    expect(await phone.client.nextError()).toMatchObject({ code: ErrorCode.Offline, ref: 'self', to: me.id });
    const ghost = await createIdentity();
    phone.client.send({ type: 'subscribe', grants: [await watchGrant(ghost, me.id)] }); // a contact of ours
    phone.client.send({ type: 'signal', to: ghost.id, data: { offer: 1 }, ref: 'abc' });
    expect(await phone.client.nextError()).toMatchObject({ code: ErrorCode.Offline, ref: 'abc', to: ghost.id });
  });
});

async function crossPair(urlA: string, urlB: string, tag = 'session-1', openBFirst = false) {
  const a = await authed(urlA);
  const b = await authed(urlB);
  if (openBFirst) {
    b.client.send({ type: 'channel-open', to: a.identity.id, tag });
    await sync(b.client);
    a.client.send({ type: 'channel-open', to: b.identity.id, tag });
  } else {
    a.client.send({ type: 'channel-open', to: b.identity.id, tag });
    b.client.send({ type: 'channel-open', to: a.identity.id, tag });
  }
  const readyA = await a.client.next('channel-ready');
  const readyB = await b.client.next('channel-ready');
  return { a, b, readyA, readyB };
}

describe('cluster: relay channels across nodes', () => {
  it('pairs opens made on two nodes (in either order or at once) and forwards frames both ways byte for byte', async () => {
    const { nodes } = await fixture.start(3);
    for (const [order, openBFirst] of [
      ['at once', false],
      ['b first', true],
    ] as const) {
      const { a, b, readyA, readyB } = await crossPair(
        nodes[0]!.url,
        nodes[1]!.url,
        `t-${order.replace(' ', '-')}`,
        openBFirst,
      );
      expect(readyA).toMatchObject({ type: 'channel-ready', peer: b.identity.id });
      expect(readyB).toMatchObject({ type: 'channel-ready', peer: a.identity.id });
      const payload = randomBytes(1000);
      a.client.sendRaw(Buffer.from(encodeChannelFrame(readyA.channel, payload)));
      const got = await b.client.nextFrame();
      // Only the channel header differs: each side sees its own node's channel number.
      expect(got.readUInt32BE(0)).toBe(readyB.channel);
      expect(got.subarray(4).equals(payload)).toBe(true);
      const big = randomBytes(MAX_CHANNEL_PAYLOAD);
      b.client.sendRaw(Buffer.from(encodeChannelFrame(readyB.channel, big)));
      const back = await a.client.nextFrame();
      expect(back.readUInt32BE(0)).toBe(readyA.channel);
      expect(back.subarray(4).equals(big)).toBe(true);

      a.client.send({ type: 'channel-close', channel: readyA.channel });
      expect(await b.client.next('channel-closed')).toMatchObject({ channel: readyB.channel });
      // Late frames on the just-closed channel are dropped quietly.
      b.client.sendRaw(Buffer.from(encodeChannelFrame(readyB.channel, Buffer.from('late'))));
      await sync(b.client);
      expect(b.client.received.some((m) => m.type === 'error')).toBe(false);
    }
    // A peer disconnecting closes the channel on the other node.
    const third = await crossPair(nodes[1]!.url, nodes[2]!.url, 'drop-me');
    await third.a.client.close();
    expect(await third.b.client.next('channel-closed')).toMatchObject({ channel: third.readyB.channel });
  });

  it('answers an open towards an identity offline everywhere with offline, and expires an unanswered one', async () => {
    const { nodes } = await fixture.start(3, { limits: { channelOpenTimeoutMs: 300 } });
    const a = await authed(nodes[0]!.url);
    const b = await authed(nodes[1]!.url);
    const ghost = await createIdentity();
    // A stranger (no grant for ghost) is not told: its open times out like one nobody answers.
    b.client.send({ type: 'channel-open', to: ghost.id, tag: 's1' });
    expect(await b.client.nextError()).toMatchObject({ code: ErrorCode.ChannelTimeout, to: ghost.id, tag: 's1' });
    a.client.send({ type: 'subscribe', grants: [await watchGrant(ghost, a.identity.id)] }); // a contact of ghost
    a.client.send({ type: 'channel-open', to: ghost.id, tag: 't1' });
    expect(await a.client.nextError()).toMatchObject({ code: ErrorCode.Offline, to: ghost.id, tag: 't1' });
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 't2' });
    expect(await a.client.nextError()).toMatchObject({ code: ErrorCode.ChannelTimeout, to: b.identity.id, tag: 't2' });
    expect(nodes[0]!.stats().pendingChannelOpens).toBe(0);
  });

  it('carries 50 MB intact to a slow receiver on another node with memory bounded on both nodes', async () => {
    await bulkToSlowReceiver({
      async start(options) {
        const { nodes } = await fixture.start(3, options);
        return { sender: nodes[0]!, receiver: nodes[2]! };
      },
      // What the sending node holds: its client queues and its link to the receiving node.
      senderQueue: async (node) =>
        (await metricsOf(node)).get('parley_cluster_link_queued_bytes')! + node.stats().bufferedBytes,
      slackFrames: 3,
      async afterBulk(node, bound) {
        expect((await metricsOf(node)).get('parley_cluster_link_peak_queued_bytes')!).toBeLessThanOrEqual(bound);
      },
      track: (client) => fixture.track(client),
    });
  }, 150_000);
});

describe('cluster: operations', () => {
  it('serves /healthz and Prometheus metrics naming the node', async () => {
    const { nodes } = await fixture.start(2);
    await authed(nodes[1]!.url);
    const health = await fetch(new URL('/healthz', nodes[1]!.httpUrl));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', node: 'node2', redis: 'up' });
    const res = await fetch(new URL('/metrics', nodes[1]!.httpUrl));
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('# TYPE parley_relay_connections gauge');
    expect(text).toMatch(/^parley_relay_authenticated_connections\{node="node2"\} 1$/m);
    expect(text).toMatch(/^parley_cluster_redis_up\{node="node2"\} 1$/m);
  });
});
