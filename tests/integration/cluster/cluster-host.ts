// A whole relay cluster inside one test-bed host: redis-server on its loopback, three relay nodes, and a
// source-address TCP load balancer in front of them (like haproxy `balance source`), so every client uses
// one relay URL while the test decides which node each host lands on.
// argv: <listen address> <load balancer port> <routes JSON: {"10.99.0.1": 0, ...} source address → node index>
// IPC: sends {type:'listening', url, port}; answers {cmd:'stats'} with {type:'stats', nodes:[...]}.
import { connect, createServer } from 'node:net';
import { silentLogger, startRelay, type RunningRelay } from '../../../signaling/server/index.js';
import { RedisServer } from '../../harness/redis/redis-server.js';

const [address = '127.0.0.1', portText = '0', routesJson = '{}'] = process.argv.slice(2);
const routes = JSON.parse(routesJson) as Record<string, number>;
const lbPort = Number(portText);

const redis = await RedisServer.start();
const nodes: RunningRelay[] = [];
for (let i = 0; i < 3; i++) {
  nodes.push(
    await startRelay({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      // Clients sign the load balancer's address: every node accepts it, as an operator sets --accept-host.
      acceptHosts: [`${address}:${lbPort}`],
      cluster: { redisUrl: redis.url, nodeId: `ns-node${i + 1}`, secret: 'namespace-cluster-secret' },
    }),
  );
}

const lb = createServer((client) => {
  const source = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
  const target = nodes[routes[source] ?? 2]!;
  const upstream = connect({ host: '127.0.0.1', port: target.port });
  client.pipe(upstream).pipe(client);
  const drop = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', drop);
  upstream.on('error', drop);
  client.on('close', drop);
  upstream.on('close', drop);
});
await new Promise<void>((resolve) => lb.listen(lbPort, address, resolve));
process.send?.({ type: 'listening', port: lbPort, url: `ws://${address}:${lbPort}/ws` });

process.on('message', (m) => {
  if ((m as { cmd?: string }).cmd === 'stats') process.send?.({ type: 'stats', nodes: nodes.map((n) => n.stats()) });
});
process.on('SIGTERM', () => {
  lb.close();
  void Promise.all(nodes.map((n) => n.close()))
    .then(() => redis.dispose())
    .finally(() => process.exit(0));
});
