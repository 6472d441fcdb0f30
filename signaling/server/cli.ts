// `parley-relay` / `npm run relay`: the standalone relay. Prints its URLs, closes gracefully on SIGINT/SIGTERM.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createDefaultLogger } from './logger.js';
import { startRelay } from './relay.js';

/** The web client built by `npm run build:renderer` (dist/renderer), from dist/signaling/server or from source. */
function defaultStaticDir(): string | undefined {
  const candidates = [new URL('../../renderer/', import.meta.url), new URL('../../dist/renderer/', import.meta.url)];
  const found = candidates.find(
    (dir) => dir.pathname.endsWith('/dist/renderer/') && existsSync(new URL('index.html', dir)),
  );
  return found ? fileURLToPath(found) : undefined;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  const program = new Command()
    .name('parley-relay')
    .description(
      'Parley relay: authenticated signalling, presence and end-to-end-encrypted relay channels over WebSocket',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', integer(0, 65535), 8787)
    .option('--cert <file>', 'TLS certificate chain (PEM): serve https/wss')
    .option('--key <file>', 'TLS private key (PEM)')
    .option('--static <dir>', 'serve this built web client over HTTP (default: dist/renderer when it exists)')
    .option('--no-static', 'do not serve the web client')
    .option(
      '--accept-host <host>',
      'extra Host a client may sign in, e.g. relay.example.org:443 (repeatable)',
      collect,
      [],
    )
    .option(
      '--allow-origin <origin>',
      'web origin (scheme://host[:port]) whose pages may connect, besides the served web client (repeatable)',
      collect,
      [],
    )
    .option(
      '--trusted-proxy <address>',
      'IP address of a reverse proxy whose X-Forwarded-For is believed (repeatable)',
      collect,
      [],
    )
    .option(
      '--insecure-http',
      'serve the web client over plain http on a non-loopback address (anyone on the path can replace its code)',
    )
    .option('--max-connections <n>', 'maximum simultaneous authenticated connections', integer(1, 10_000_000))
    .option('--max-unauthenticated <n>', 'maximum connections still authenticating', integer(1, 10_000_000))
    .option('--max-per-ip <n>', 'maximum TCP connections from one address (IPv6: one /64)', integer(1, 10_000_000))
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info')
    .option(
      '--redis <url>',
      'join a relay cluster through this Redis (redis://host:port); without it the relay is one process',
    )
    .option('--node-id <id>', "cluster: this node's unique name")
    .option(
      '--cluster-secret <secret>',
      'cluster: shared secret of the node-to-node links (or env PARLEY_CLUSTER_SECRET)',
    )
    .option('--link-host <host>', 'cluster: address the node-to-node link listens on', '127.0.0.1')
    .option('--link-port <port>', 'cluster: port of the node-to-node link (0 = any free port)', integer(0, 65535), 0)
    .option('--advertise-host <host>', "cluster: address other nodes reach this node's link at (default: --link-host)")
    .option(
      '--max-connections-per-identity <n>',
      'cluster: connections one identity may hold across the cluster',
      integer(1, 100_000),
    )
    .showHelpAfterError();
  program.parse(argv as string[]);
  const opts = program.opts<{
    host: string;
    port: number;
    cert?: string;
    key?: string;
    static?: string | boolean;
    acceptHost: string[];
    allowOrigin: string[];
    trustedProxy: string[];
    insecureHttp?: boolean;
    maxConnections?: number;
    maxUnauthenticated?: number;
    maxPerIp?: number;
    logLevel: string;
    redis?: string;
    nodeId?: string;
    clusterSecret?: string;
    linkHost: string;
    linkPort: number;
    advertiseHost?: string;
    maxConnectionsPerIdentity?: number;
  }>();

  if ((opts.cert === undefined) !== (opts.key === undefined)) program.error('--cert and --key go together');
  // Commander leaves `static` undefined when neither --static nor --no-static is given: that means the default.
  const staticDir =
    typeof opts.static === 'string' ? opts.static : opts.static !== false ? defaultStaticDir() : undefined;

  const clusterSecret = opts.clusterSecret ?? process.env.PARLEY_CLUSTER_SECRET;
  if (opts.redis !== undefined && (opts.nodeId === undefined || clusterSecret === undefined)) {
    program.error('--redis needs --node-id and --cluster-secret (or PARLEY_CLUSTER_SECRET)');
  }
  const cluster =
    opts.redis !== undefined
      ? {
          redisUrl: opts.redis,
          nodeId: opts.nodeId!,
          secret: clusterSecret!,
          linkHost: opts.linkHost,
          linkPort: opts.linkPort,
          ...(opts.advertiseHost !== undefined ? { advertiseHost: opts.advertiseHost } : {}),
          ...(opts.maxConnectionsPerIdentity !== undefined
            ? { maxConnectionsPerIdentity: opts.maxConnectionsPerIdentity }
            : {}),
        }
      : undefined;

  const logger = createDefaultLogger(opts.logLevel);
  const relay = await startRelay({
    host: opts.host,
    port: opts.port,
    ...(opts.cert !== undefined && opts.key !== undefined
      ? { tls: { cert: readFileSync(opts.cert), key: readFileSync(opts.key) } }
      : {}),
    ...(staticDir !== undefined ? { staticDir } : {}),
    limits: {
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      ...(opts.maxUnauthenticated !== undefined ? { maxUnauthenticated: opts.maxUnauthenticated } : {}),
      ...(opts.maxPerIp !== undefined ? { maxSocketsPerIp: opts.maxPerIp } : {}),
    },
    acceptHosts: opts.acceptHost,
    allowOrigins: opts.allowOrigin,
    trustedProxies: opts.trustedProxy,
    insecureHttp: opts.insecureHttp === true,
    logger,
    ...(cluster !== undefined ? { cluster } : {}),
  });

  process.stdout.write(`Parley relay listening on ${relay.url}\n`);
  if (opts.insecureHttp && staticDir !== undefined && !relay.httpUrl.startsWith('https:')) {
    process.stderr.write(
      `\nWARNING: the web client is served over plain http (--insecure-http). Anyone between its users and this relay\n` +
        `can replace the code and take their identity keys. Use --cert/--key or a TLS proxy for anything real.\n\n`,
    );
  }
  if (staticDir !== undefined) process.stdout.write(`Web client at ${relay.httpUrl}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
