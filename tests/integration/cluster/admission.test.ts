// Cluster admission (the cluster-wide per-identity cap, a Redis round trip during auth) is bounded by the auth
// deadline: with the real redis-server paused (SIGSTOP by the PID this file started), a connection waiting to
// be admitted keeps its place in the unauthenticated budget, is closed at the deadline, and once Redis answers
// nothing of it stays registered (no half-registered identity in Redis or on the node).
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, PROTOCOL_VERSION } from '../../../signaling/protocol/index.js';
import { RawClient, connectAs, createIdentity, signAuth } from '../../helpers/relay/raw-client.js';
import { clusterFixture, metricsOf } from './fixture.js';

const fixture = clusterFixture();
let paused: number | undefined;
afterAll(() => {
  if (paused !== undefined) process.kill(paused, 'SIGCONT');
});

/** Polls `read` (bounded in count and time) until it returns `want`; for states no event announces. */
async function until<T>(read: () => Promise<T>, want: T, what: string): Promise<void> {
  let last: T | undefined;
  for (let i = 0; i < 200; i++) {
    last = await read();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: still ${String(last)}`);
}

describe('cluster: admission bounded by the auth deadline', () => {
  it('with Redis stalled, an admitting connection counts as unauthenticated, is cut at the deadline, and leaves nothing registered', async () => {
    const authTimeoutMs = 800;
    const { nodes, redis, prefix } = await fixture.start(
      1,
      { limits: { authTimeoutMs, maxUnauthenticatedPerIp: 2 } },
      { maxConnectionsPerIdentity: 1 },
    );
    const node = nodes[0]!;
    const me = await createIdentity();
    const pid = redis.pid!;

    process.kill(pid, 'SIGSTOP');
    paused = pid;
    const stalled = fixture.track(await RawClient.open(node.url));
    const { nonce } = await stalled.next('challenge');
    const openedAt = performance.now();
    stalled.send({ type: 'hello', v: PROTOCOL_VERSION, alg: me.alg, pub: me.pub });
    stalled.send({ type: 'auth', sig: await signAuth(me, nonce, stalled.statementHost) });
    stalled.send({ type: 'ping', ref: 'held' }); // pipelined behind auth: held, never answered before ready

    // Its place in the unauthenticated budget is still taken: one more handshake fits, the next does not.
    const second = fixture.track(await RawClient.open(node.url));
    await expect(RawClient.open(node.url)).rejects.toThrow(/HTTP 503/);
    expect(node.stats().unauthenticated).toBe(2);
    await second.close();

    // The deadline closes it although Redis never answered.
    const closed = await stalled.closed;
    expect(closed.code).toBe(CloseCode.AuthTimeout);
    expect(performance.now() - openedAt).toBeLessThan(authTimeoutMs + 4_000);
    expect(stalled.received.map((m) => m.type)).toEqual(['challenge', 'error']);
    expect(stalled.received[1]).toMatchObject({ code: ErrorCode.AuthTimeout });
    await until(async () => node.stats().unauthenticated, 0, 'unauthenticated budget');
    expect(node.stats().identities).toBe(0);

    process.kill(pid, 'SIGCONT');
    paused = undefined;
    // Redis answers the admission late: the node undoes it.
    await until(async () => (await metricsOf(node)).get('parley_cluster_admissions_abandoned_total'), 1, 'abandoned');
    const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await probe.connect();
      await until(() => probe.hlen(`${prefix}i:${me.id}`), 0, 'identity hash in Redis');
      expect(await probe.sismember(`${prefix}n:node1`, me.id)).toBe(0);
    } finally {
      probe.disconnect();
    }
    // The identity's one cluster-wide place is free again.
    const again = await connectAs(node.url, me);
    fixture.track(again.client);
    expect(again.ready.id).toBe(me.id);
  }, 30_000);
});
