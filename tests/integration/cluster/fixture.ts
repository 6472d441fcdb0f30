// Starts clusters of in-process relay nodes on one real redis-server per test file, and closes everything
// (clients, nodes, redis-server by PID) after the file.
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { silentLogger, startRelay, type RelayOptions, type RunningRelay } from '../../../signaling/server/index.js';
import type { ClusterOptions } from '../../../signaling/server/cluster/options.js';
import { connectAs, type RawClient, type TestIdentity } from '../../helpers/relay/raw-client.js';
import { RedisServer } from '../../harness/redis/redis-server.js';

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
    async start(
      count: number,
      options: RelayOptions = {},
      cluster: Partial<ClusterOptions> = {},
    ): Promise<TestCluster> {
      const server = await this.redis();
      const prefix = `t${randomBytes(4).toString('hex')}:`;
      const nodes: RunningRelay[] = [];
      for (let i = 0; i < count; i++) {
        const relay = await startRelay({
          host: '127.0.0.1',
          port: 0,
          logger: silentLogger,
          ...options,
          cluster: {
            redisUrl: server.url,
            nodeId: `node${i + 1}`,
            secret: CLUSTER_SECRET,
            keyPrefix: prefix,
            ...cluster,
          },
        });
        relays.push(relay);
        nodes.push(relay);
      }
      return { redis: server, nodes, prefix };
    },
    /** A client authenticated on `url` (as `identity`, or a fresh one), closed after the file. */
    async authed(url: string, identity?: TestIdentity) {
      const r = await connectAs(url, identity);
      clients.push(r.client);
      return r;
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

/** A relay node in its own process (the real command), so it can be SIGKILLed. */
export interface NodeProcess {
  readonly url: string;
  readonly httpUrl: string;
  readonly child: import('node:child_process').ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string | null>;
}

export async function launchNode(redisUrl: string, nodeId: string, extra: string[] = []): Promise<NodeProcess> {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'tests/helpers/relay/cli-entry.ts',
      '--port',
      '0',
      '--no-static',
      '--log-level',
      'warn',
      '--redis',
      redisUrl,
      '--node-id',
      nodeId,
      ...extra,
    ],
    {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PARLEY_CLUSTER_SECRET: CLUSTER_SECRET },
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${nodeId} did not start:\n${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${nodeId} exited (${code}):\n${stderr}`));
    });
  });
  return { url, httpUrl: url.replace(/^ws/, 'http').replace(/\/ws$/, '/'), child, exited };
}
