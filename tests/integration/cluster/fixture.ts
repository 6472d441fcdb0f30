// Starts clusters of in-process relay nodes on one real redis-server per test file, and closes everything
// (clients, nodes, redis-server by PID) after the file.
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { silentLogger, startRelay, type RelayOptions, type RunningRelay } from '../../../signaling/server/index.js';
import type { ClusterOptions } from '../../../signaling/server/cluster/options.js';
import type { RawClient } from '../../helpers/relay/raw-client.js';
import { RedisServer } from './redis-server.js';

export const CLUSTER_SECRET = 'test-cluster-secret-0123456789';

export interface TestCluster {
  readonly redis: RedisServer;
  readonly nodes: RunningRelay[];
  readonly prefix: string;
}

export function clusterFixture() {
  let redis: RedisServer | null = null;
  const relays: RunningRelay[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(relays.map((r) => r.close().catch(() => undefined)));
    await redis?.dispose();
  });
  return {
    async redis(): Promise<RedisServer> {
      return (redis ??= await RedisServer.start());
    },
    /** `count` nodes on one Redis, isolated from other clusters of the file by their key prefix. */
    async start(count: number, options: RelayOptions = {}, cluster: Partial<ClusterOptions> = {}): Promise<TestCluster> {
      const server = await this.redis();
      const prefix = `t${randomBytes(4).toString('hex')}:`;
      const nodes: RunningRelay[] = [];
      for (let i = 0; i < count; i++) {
        const relay = await startRelay({
          host: '127.0.0.1',
          port: 0,
          logger: silentLogger,
          ...options,
          cluster: { redisUrl: server.url, nodeId: `node${i + 1}`, secret: CLUSTER_SECRET, keyPrefix: prefix, ...cluster },
        });
        relays.push(relay);
        nodes.push(relay);
      }
      return { redis: server, nodes, prefix };
    },
    track<T extends RawClient>(client: T): T {
      clients.push(client);
      return client;
    },
  };
}

/** One node's Prometheus metrics as name → value. */
export async function metricsOf(relay: RunningRelay): Promise<Map<string, number>> {
  const text = await (await fetch(new URL('/metrics', relay.httpUrl))).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{[^}]*\} (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
