// Failures a cluster must ride out: a node SIGKILLed (its clients move, presence converges, other channels
// lose nothing) and Redis gone for 5 s then back empty (signals meanwhile get errors, state is rebuilt).
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, encodeChannelFrame } from '../../../signaling/protocol/index.js';
import { silentLogger, startRelay, type RunningRelay } from '../../../signaling/server/index.js';
import { createIdentity, watchGrant, type TestIdentity } from '../../helpers/relay/raw-client.js';
import { sync } from '../relay/barriers.js';
import { clusterFixture, launchNode, type NodeProcess } from './fixture.js';
import { RedisServer } from '../../harness/redis/redis-server.js';

const fixture = clusterFixture();
const authed = (url: string, identity?: TestIdentity) => fixture.authed(url, identity);
const processes: NodeProcess[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
});

describe('cluster failures', () => {
  it('SIGKILL of a node: its clients reconnect elsewhere, presence converges within 5 s, other channels lose nothing', async () => {
    const redis = await fixture.redis();
    const nodes: NodeProcess[] = [];
    for (const id of ['k1', 'k2', 'k3']) {
      const node = await launchNode(redis.url, id);
      processes.push(node);
      nodes.push(node);
    }
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const watcher = await authed(n1.url);
    const vanishing = await authed(n3.url); // never comes back
    const moverIdentity = await createIdentity();
    const mover = await authed(n3.url, moverIdentity); // comes back on another node
    watcher.client.send({
      type: 'subscribe',
      grants: [
        await watchGrant(vanishing.identity, watcher.identity.id),
        await watchGrant(moverIdentity, watcher.identity.id),
      ],
    });
    for (let i = 0; i < 2; i++) expect(await watcher.client.next('presence')).toMatchObject({ online: true });

    // A channel between n1 and n2, streaming through the kill.
    const a = await authed(n1.url);
    const b = await authed(n2.url);
    a.client.send({ type: 'channel-open', to: b.identity.id, tag: 'steady' });
    b.client.send({ type: 'channel-open', to: a.identity.id, tag: 'steady' });
    const readyA = await a.client.next('channel-ready');
    const frames = 400;
    const receivedAll = new Promise<string>((resolve) => {
      const hash = createHash('sha256');
      let got = 0;
      b.client.onFrame((frame) => {
        hash.update(frame.subarray(4));
        if (++got === frames) resolve(hash.digest('hex'));
      });
    });
    const sentHash = createHash('sha256');
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const payload = randomBytes(16 * 1024);
        sentHash.update(payload);
        await a.client.sendFrame(encodeChannelFrame(readyA.channel, payload));
      }
    };
    await send(0, 200);

    const killedAt = performance.now();
    n3.child.kill('SIGKILL');
    const moverBack = mover.client.closed.then(() => authed(n2.url, moverIdentity));
    const streaming = send(200, frames);
    // Routed around at once: a signal to the vanished identity is answered offline, not lost.
    await vanishing.client.closed;
    const offline = await watcher.client.next('presence', 8_000);
    const convergenceMs = performance.now() - killedAt;
    expect(offline).toEqual({ type: 'presence', id: vanishing.identity.id, online: false });
    expect(convergenceMs).toBeLessThan(5_000);
    await moverBack;
    watcher.client.send({ type: 'signal', to: vanishing.identity.id, data: { x: 1 }, ref: 'gone' });
    expect(await watcher.client.nextError()).toMatchObject({ code: ErrorCode.Offline, ref: 'gone' });

    await streaming;
    expect(await receivedAll).toBe(sentHash.digest('hex'));
    // The mover never flapped: its only presence report is the first online.
    await sync(watcher.client);
    expect(watcher.client.received.filter((m) => m.type === 'presence' && m.id === moverIdentity.id)).toHaveLength(1);
    // And it is reachable on its new node.
    watcher.client.send({ type: 'signal', to: moverIdentity.id, data: { welcome: true } });
    const moved = await moverBack;
    expect(await moved.client.next('signal')).toMatchObject({ from: watcher.identity.id, data: { welcome: true } });
    expect(await n3.exited).toBe('SIGKILL');
  }, 90_000);

  it('Redis down 5 s then back empty: signals in the gap get errors, presence is right again within 5 s', async () => {
    const redis = await RedisServer.start();
    const nodes = await startOn(redis);
    try {
      const [n1, n2, n3] = nodes;
      const watcher = await authed(n1.url);
      const staying = await authed(n2.url);
      const leaving = await authed(n3.url);
      const sender = await authed(n1.url);
      watcher.client.send({
        type: 'subscribe',
        grants: [
          await watchGrant(staying.identity, watcher.identity.id),
          await watchGrant(leaving.identity, watcher.identity.id),
        ],
      });
      for (let i = 0; i < 2; i++) expect(await watcher.client.next('presence')).toMatchObject({ online: true });

      await redis.stop();
      const stoppedAt = performance.now();
      // Every signal in the gap is answered (unavailable), none silently dropped.
      let errors = 0;
      for (let i = 0; i < 20; i++)
        sender.client.send({ type: 'signal', to: staying.identity.id, data: { i }, ref: `gap-${i}` });
      for (let i = 0; i < 20; i++) {
        const error = await sender.client.nextError();
        expect(error).toMatchObject({ code: ErrorCode.Unavailable, ref: `gap-${i}` });
        errors++;
      }
      expect(errors).toBe(20);
      await leaving.client.close(); // during the gap: Redis cannot be told
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (performance.now() - stoppedAt))));

      await redis.launch(); // empty
      const backAt = performance.now();
      expect(await watcher.client.next('presence', 8_000)).toEqual({
        type: 'presence',
        id: leaving.identity.id,
        online: false,
      });
      expect(performance.now() - backAt).toBeLessThan(5_000);
      // Signals flow again; nothing from the gap is replayed late. Each attempt waits for its own outcome.
      let delivered = false;
      for (let i = 0; i < 50 && !delivered; i++) {
        sender.client.send({ type: 'signal', to: staying.identity.id, data: { after: i }, ref: `after-${i}` });
        const until = performance.now() + 2_000;
        for (;;) {
          delivered = staying.client.received.some((m) => m.type === 'signal' && m.data.after === i);
          const failed = sender.client.received.some((m) => m.type === 'error' && m.ref === `after-${i}`);
          if (delivered || failed || performance.now() > until) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      expect(delivered).toBe(true);
      expect(
        staying.client.received
          .filter((m) => m.type === 'signal')
          .every((m) => m.type === 'signal' && 'after' in m.data),
      ).toBe(true);
      // The staying identity was never reported offline, and a new watcher on another node sees it online.
      await sync(watcher.client);
      expect(watcher.client.received.filter((m) => m.type === 'presence' && m.id === staying.identity.id)).toHaveLength(
        1,
      );
      const late = await authed(n3.url);
      late.client.send({
        type: 'subscribe',
        grants: [
          await watchGrant(staying.identity, late.identity.id),
          await watchGrant(leaving.identity, late.identity.id),
        ],
      });
      const states = [await late.client.next('presence'), await late.client.next('presence')];
      expect(states).toEqual(
        expect.arrayContaining([
          { type: 'presence', id: staying.identity.id, online: true },
          { type: 'presence', id: leaving.identity.id, online: false },
        ]),
      );
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await redis.dispose();
    }
  }, 90_000);
});

async function startOn(redis: RedisServer): Promise<[RunningRelay, RunningRelay, RunningRelay]> {
  const nodes: RunningRelay[] = [];
  for (const nodeId of ['r1', 'r2', 'r3']) {
    nodes.push(
      await startRelay({
        host: '127.0.0.1',
        port: 0,
        logger: silentLogger,
        cluster: { redisUrl: redis.url, nodeId, secret: 'another-test-secret-1234' },
      }),
    );
  }
  return nodes as [RunningRelay, RunningRelay, RunningRelay];
}
