// npm run bench:cluster — the relay as one process beside a 3-node cluster on one real redis-server, in one
// run, with the phases of bench:relay (shared in relay-phases.ts): (a) idle authenticated connections (1 node vs
// 3 nodes; RSS per node, Redis memory per online identity), (b) signals msgs/s and p50/p99 (same node vs across
// nodes), (c) relay channel MB/s and CPU per GB (same node vs across nodes), (d) presence convergence after a
// node is SIGKILLed. Every load is bounded in count and time. Prints a table, then one JSON line (the last line).
//
// Servers run the compiled relay (dist/, rebuilt incrementally first) as plain `node -e`; clients run this
// file with --role clients. redis-server is started here on a free loopback port, nothing saved, stopped by PID.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import type WebSocket from 'ws';
import { signWith, toBase64url, watchGrantStatement, type WatchGrant } from '../signaling/protocol/index.js';
import { RedisServer } from '../tests/harness/redis/redis-server.js';
import {
  CHANNEL_PAIRS,
  FD_LIMIT,
  MB,
  ROOT,
  SERVE_JS,
  SIGNAL_PAIRS,
  alternateSlices,
  buildRelay,
  clientPhaseHandlers,
  connectRelay,
  fmt,
  loadRows,
  printTable,
  launch as launchChild,
  relayPair,
  serve,
  stopChildren,
  type Child,
  type IdleArgs,
  type Identity,
  type LoadArgs,
  type Mem,
  type Mode,
} from './relay-phases.js';

const SELF = fileURLToPath(import.meta.url);

/** Idle connections per relay process: BENCH_IDLE, at most what one process has descriptors for. */
const IDLE_PER_NODE = Math.min(Number(process.env.BENCH_IDLE ?? 5_000), FD_LIMIT - 60);
const CLIENT_PROCESSES = 3;
const WARMUP_MS = 800;
const SLICES = 8;
const SLICE_MS = 600;
const SECRET = 'bench-cluster-secret-0123456789';
/** BENCH_RELAY_DIST: run the servers on another build of the relay (a copy of dist/ inside the repo, to compare
 * a change with what it replaces in interleaved rounds); dist/ is then not rebuilt. */
const RELAY_DIST = process.env.BENCH_RELAY_DIST ?? 'dist';

const launch = (role: string, serverCode?: string): Child => launchChild(SELF, role, serverCode);

// ---------------------------------------------------------------- server role (plain JS, run by `node -e`)
function relayJs(cluster: { redisUrl: string; nodeId: string } | null): string {
  const clusterOption = cluster ? `cluster: ${JSON.stringify({ ...cluster, secret: SECRET })},` : '';
  return `${SERVE_JS}
const { startRelay, createDefaultLogger } = await import(${JSON.stringify(pathToFileURL(join(ROOT, RELAY_DIST, 'signaling/server/index.js')).href)});
const relay = await startRelay({
  host: '127.0.0.1', port: 0, logger: createDefaultLogger('warn'), ${clusterOption}
  limits: { messagesPerSecond: 1e9, messageBurst: 1e9, maxConnections: ${IDLE_PER_NODE + 5_000}, maxSockets: 1e9, maxSocketsPerIp: 1e9, maxUnauthenticated: 1e9, maxUnauthenticatedPerIp: 1e9 },
});
serve({ ...processHandlers, info: () => ({ url: relay.url }), stats: () => relay.stats() });
process.on('disconnect', () => void relay.close().then(() => process.exit(0)));
`;
}

// ---------------------------------------------------------------- client role
/** `of`'s watch grant for `watcher`: presence is for contacts only (protocol v2). */
async function grantOf(of: Identity, watcher: string): Promise<WatchGrant> {
  const exp = Date.now() + 3600_000;
  const sig = toBase64url(await signWith('Ed25519', of.privateKey, watchGrantStatement(of.id, watcher, exp)));
  return { of: of.id, key: { alg: 'Ed25519', pub: of.pub }, to: watcher, exp, sig };
}

function runClients(): void {
  const held = new Map<string, WebSocket>();
  const heldIdentities = new Map<string, Identity>();
  let watcher: WebSocket | null = null;
  serve({
    ...clientPhaseHandlers(
      (args: IdleArgs & { urls: string[] }, n) =>
        connectRelay(args.urls[n % args.urls.length]!, args.localAddresses[n % args.localAddresses.length]),
      (args: LoadArgs & { urlA: string; urlB: string }, i) =>
        relayPair(args.urlA, args.urlB, `${args.key}${i}`, args.mode === 'relay'),
    ),
    /** Connects identities to hold (online until their node dies). */
    async hold(args: { url: string; count: number }) {
      const ids: string[] = [];
      for (let i = 0; i < args.count; i++) {
        const { ws, id, identity } = await connectRelay(args.url);
        held.set(id, ws);
        heldIdentities.set(id, identity);
        ids.push(id);
      }
      return ids;
    },
    /** Connects the watcher; returns its id (the held identities sign grants for it). */
    async connectWatcher(args: { url: string }) {
      const { ws, id } = await connectRelay(args.url);
      watcher = ws;
      return id;
    },
    /** The held identities' watch grants for `watcher`. */
    async grantsFor(args: { ids: string[]; watcher: string }) {
      return Promise.all(args.ids.map((id) => grantOf(heldIdentities.get(id)!, args.watcher)));
    },
    /** The watcher (connectWatcher first) of the grants' signers: resolves (epoch ms) when every one is reported offline. */
    async watchUntilOffline(args: { grants: WatchGrant[]; timeoutMs: number }) {
      const ws = watcher!;
      const ids = args.grants.map((g) => g.of);
      const remaining = new Set(ids);
      const online = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`still online after ${args.timeoutMs} ms: ${remaining.size}`)),
          args.timeoutMs,
        );
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) return;
          const msg = JSON.parse(String(data)) as { type: string; id?: string; online?: boolean };
          if (msg.type !== 'presence') return;
          if (msg.online) {
            online.add(msg.id!);
            if (online.size === ids.length) process.send!({ event: 'watching' });
          } else if (remaining.delete(msg.id!) && remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        ws.send(JSON.stringify({ type: 'subscribe', grants: args.grants }));
      });
      ws.terminate();
      return performance.timeOrigin + performance.now();
    },
  });
}

// ---------------------------------------------------------------- orchestration
async function main(): Promise<void> {
  const benchStarted = performance.now();
  if (RELAY_DIST === 'dist') buildRelay();
  const redis = await RedisServer.start();
  const single = launch('single', relayJs(null));
  const nodes = [1, 2, 3].map((i) => launch(`node${i}`, relayJs({ redisUrl: redis.url, nodeId: `bench${i}` })));
  const clients = Array.from({ length: CLIENT_PROCESSES }, () => launch('clients'));
  const children = [single, ...nodes, ...clients];
  const redisClient = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redisClient.connect();
    const urlOf = async (c: Child) => (await c.call<{ url: string }>('info', undefined, 30_000)).url;
    const singleUrl = await urlOf(single);
    const nodeUrls = await Promise.all(nodes.map(urlOf));
    const net = `127.${2 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    let block = 0;
    const addresses = (count: number) => {
      const base = block++ * count;
      return Array.from({ length: count }, (_, k) => `${net}.${1 + ((base + k) % 250)}`);
    };
    const redisMemory = async () => Number(/used_memory:(\d+)/.exec(await redisClient.info('memory'))![1]);

    // (a) idle connections: one process vs three nodes, each node as full as one process can be.
    const idleRun = async (urls: string[], total: number) => {
      const per = Math.ceil(total / CLIENT_PROCESSES);
      const results = await Promise.all(
        clients.map((c) =>
          c.call<{ opened: number; failed: number; reasons: Record<string, number> }>('idle', {
            urls,
            count: per,
            localAddresses: addresses(8),
            concurrency: 48,
          }),
        ),
      );
      for (const r of results)
        if (r.failed) console.error(`${r.failed} connections failed: ${JSON.stringify(r.reasons)}`);
      return results.reduce((s, r) => s + r.opened, 0);
    };
    const singleBase = await single.call<Mem>('mem');
    const singleOpened = await idleRun([singleUrl], IDLE_PER_NODE);
    const singleMem = await single.call<Mem>('mem');
    await Promise.all(clients.map((c) => c.call('closeIdle')));
    const nodeBase = await Promise.all(nodes.map((n) => n.call<Mem>('mem')));
    const redisBase = await redisMemory();
    const clusterOpened = await idleRun(nodeUrls, IDLE_PER_NODE * 3);
    const nodeMem = await Promise.all(nodes.map((n) => n.call<Mem>('mem')));
    const redisWith = await redisMemory();
    const nodeStats = await Promise.all(nodes.map((n) => n.call<{ authenticated: number }>('stats')));
    const clusterAuthenticated = nodeStats.reduce((s, x) => s + x.authenticated, 0);
    if (clusterAuthenticated !== clusterOpened)
      throw new Error(`nodes report ${clusterAuthenticated} authenticated, clients hold ${clusterOpened}`);
    await Promise.all(clients.map((c) => c.call('closeIdle')));

    // (b) signals and (c) relay channels: the same load on one process (same node) and across two nodes,
    // in alternating slices; CPU is summed over the relay processes that carried it.
    const client = clients[0]!;
    type Result = {
      msgsPerSec: number;
      mbPerSec: number;
      p50: number;
      p99: number;
      errors: number;
      cpuSec: number;
      perCore: number;
      perNodeCore: number;
    };
    async function measure(mode: Mode): Promise<{ same: Result; cross: Result }> {
      const setups = {
        same: { urlA: singleUrl, urlB: singleUrl, procs: [single] },
        cross: { urlA: nodeUrls[0]!, urlB: nodeUrls[1]!, procs: [nodes[0]!, nodes[1]!] },
      } as const;
      const kinds = ['same', 'cross'] as const;
      for (const kind of kinds) {
        await client.call('loadStart', {
          key: `${mode}-${kind}-`,
          mode,
          urlA: setups[kind].urlA,
          urlB: setups[kind].urlB,
          pairs: mode === 'signals' ? SIGNAL_PAIRS : CHANNEL_PAIRS,
        });
      }
      const totals = await alternateSlices(
        client,
        mode,
        kinds.map((kind) => ({ key: `${mode}-${kind}-`, procs: setups[kind].procs })),
        { slices: SLICES, sliceMs: SLICE_MS, warmupMs: WARMUP_MS },
      );
      const out = {} as { same: Result; cross: Result };
      kinds.forEach((kind, k) => {
        const t = totals[k]!;
        const work = mode === 'signals' ? t.count : t.bytes / 1e6;
        const cpuSec = t.cpu.reduce((s, c) => s + c, 0);
        out[kind] = {
          msgsPerSec: t.count / t.seconds,
          mbPerSec: t.bytes / 1e6 / t.seconds,
          p50: t.p50,
          p99: t.p99,
          errors: t.errors,
          cpuSec,
          perCore: work / cpuSec,
          // What one node can carry: the work over the busiest node's CPU.
          perNodeCore: work / Math.max(...t.cpu),
        };
      });
      return out;
    }
    const signals = await measure('signals');
    const relayed = await measure('relay');

    // (d) presence convergence: identities held on node 3, watched from node 1; node 3 SIGKILLed.
    const victims = await clients[1]!.call<string[]>('hold', { url: nodeUrls[2]!, count: 20 });
    const watching = new Promise<void>((resolve) => {
      const onMsg = (m: { event?: string }) => {
        if (m.event === 'watching') {
          clients[2]!.proc.off('message', onMsg);
          resolve();
        }
      };
      clients[2]!.proc.on('message', onMsg);
    });
    const watcherId = await clients[2]!.call<string>('connectWatcher', { url: nodeUrls[0]! });
    const grants = await clients[1]!.call<WatchGrant[]>('grantsFor', { ids: victims, watcher: watcherId });
    const offlineAt = clients[2]!.call<number>('watchUntilOffline', { grants, timeoutMs: 20_000 }, 30_000);
    await watching;
    const killedAt = performance.timeOrigin + performance.now();
    nodes[2]!.proc.kill('SIGKILL');
    const convergenceMs = (await offlineAt) - killedAt;
    const onlineIdentities = clusterOpened;
    const redisBytesPerIdentity = (redisWith - redisBase) / onlineIdentities;

    const f = fmt;
    const load = loadRows([signals.same, signals.cross], [relayed.same, relayed.cross]);
    const rssRow = nodeMem.map((m, i) => `${f(nodeBase[i]!.rss / MB)}→${f(m.rss / MB)}`).join(', ');
    const rows: [string, string, string][] = [
      ['idle authenticated connections', `${singleOpened} (1 process)`, `${clusterOpened} (3 nodes)`],
      ['RSS before → with them (MB)', `${f(singleBase.rss / MB)}→${f(singleMem.rss / MB)}`, rssRow],
      [
        'memory per idle connection (KB)',
        f((singleMem.rss - singleBase.rss) / singleOpened / 1024, 2),
        f(nodeMem.reduce((s, m, i) => s + m.rss - nodeBase[i]!.rss, 0) / clusterOpened / 1024, 2),
      ],
      ['Redis memory per online identity (bytes)', '-', f(redisBytesPerIdentity, 0)],
      ...load.signals,
      ['  msgs per relay CPU-second (all relay processes)', f(signals.same.perCore, 0), f(signals.cross.perCore, 0)],
      ['  msgs per CPU-second of the busiest node', f(signals.same.perNodeCore, 0), f(signals.cross.perNodeCore, 0)],
      load.channels,
      [
        '  relay CPU per GB (s, all relay processes)',
        f(1000 / relayed.same.perCore, 2),
        f(1000 / relayed.cross.perCore, 2),
      ],
      ['presence convergence after SIGKILL (ms)', '-', f(convergenceMs, 0)],
    ];
    printTable('same node', 'across nodes', rows);
    console.log(
      `\nsignal errors ${signals.same.errors}/${signals.cross.errors}; fd limit ${FD_LIMIT}; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; ` +
        `bench ${f((performance.now() - benchStarted) / 1000)} s. Everything shares 2 cores: wall rates include the load generator and Redis.`,
    );
    const r3 = (n: number) => (Number.isFinite(n) ? Number(n.toFixed(3)) : null);
    console.log(
      JSON.stringify({
        // Cross-node signals a node carries per CPU-second (busiest of the two) ÷ the single process's.
        crossNodeSignalRatio: r3(signals.cross.perNodeCore / signals.same.perNodeCore),
        crossNodeSignalWallRatio: r3(signals.cross.msgsPerSec / signals.same.msgsPerSec),
        crossNodeChannelRatio: r3(relayed.cross.mbPerSec / relayed.same.mbPerSec),
        crossNodeChannelCpuPerGBRatio: r3(relayed.same.perCore / relayed.cross.perCore),
        convergenceMs: r3(convergenceMs),
        idleConnectionsRatio: r3(clusterOpened / singleOpened),
        idleConnectionsSingle: singleOpened,
        idleConnectionsCluster: clusterOpened,
        redisBytesPerIdentity: r3(redisBytesPerIdentity),
        sameNodeMsgsPerSec: r3(signals.same.msgsPerSec),
        crossNodeMsgsPerSec: r3(signals.cross.msgsPerSec),
        sameNodeP50Ms: r3(signals.same.p50),
        sameNodeP99Ms: r3(signals.same.p99),
        crossNodeP50Ms: r3(signals.cross.p50),
        crossNodeP99Ms: r3(signals.cross.p99),
        sameNodeMBps: r3(relayed.same.mbPerSec),
        crossNodeMBps: r3(relayed.cross.mbPerSec),
      }),
    );
  } finally {
    redisClient.disconnect();
    await stopChildren(children);
    await redis.dispose();
  }
}

if (process.argv.includes('--role')) runClients();
else await main();
