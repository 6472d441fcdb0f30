// `parley-relay` / `npm run relay`: the standalone relay. Prints its URLs, closes gracefully on SIGINT/SIGTERM.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createDefaultLogger } from './logger.js';
import { startRelay } from './relay.js';
import { DEFAULT_TURN_TTL_SECONDS, TurnIssuer, type RelayTurnOptions } from './turn-credentials.js';

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
    .option(
      '--turn-url <url>',
      'TURN server for calls, e.g. turn:turn.example.org:3478?transport=udp or turns:turn.example.org:5349 (repeatable; needs --turn-secret-file)',
      collect,
      [],
    )
    .option(
      '--turn-secret-file <file>',
      "file holding the TURN server's shared secret (coturn: static-auth-secret); clients get short-lived credentials",
    )
    .option(
      '--turn-ttl <seconds>',
      `lifetime of the TURN credentials handed out (default ${DEFAULT_TURN_TTL_SECONDS})`,
      integer(1, 10_000_000),
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
    turnUrl: string[];
    turnSecretFile?: string;
    turnTtl?: number;
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

  const turn = turnOptions(opts.turnUrl, opts.turnSecretFile, opts.turnTtl, (message) => program.error(message));

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
    ...(turn !== undefined ? { turn } : {}),
  });

  process.stdout.write(`Parley relay listening on ${relay.url}\n`);
  if (opts.insecureHttp && staticDir !== undefined && !relay.httpUrl.startsWith('https:')) {
    process.stderr.write(
      `\nWARNING: the web client is served over plain http (--insecure-http). Anyone between its users and this relay\n` +
        `can replace the code and take their identity keys. Use --cert/--key or a TLS proxy for anything real.\n\n`,
    );
  }
  if (staticDir !== undefined) process.stdout.write(`Web client at ${relay.httpUrl}\n`);
  if (turn !== undefined) process.stdout.write(`TURN credentials for ${turn.urls.join(', ')}\n`);

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

/**
 * --turn-url, --turn-secret-file and --turn-ttl, checked as a whole. The secret comes from a file only: a
 * command line is readable by every local user (ps, /proc) and environments leak into logs and crash reports.
 */
export function turnOptions(
  urls: readonly string[],
  secretFile: string | undefined,
  ttlSeconds: number | undefined,
  fail: (message: string) => never,
): RelayTurnOptions | undefined {
  if (urls.length === 0 && secretFile === undefined) {
    if (ttlSeconds !== undefined) fail('--turn-ttl needs --turn-url and --turn-secret-file');
    return undefined;
  }
  if (urls.length === 0) fail('--turn-secret-file needs at least one --turn-url');
  if (secretFile === undefined) fail("--turn-url needs --turn-secret-file (the TURN server's shared secret)");
  let secret: string;
  try {
    // One line; the newline an editor or `echo` leaves at the end is not part of the secret.
    secret = readFileSync(secretFile, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    return fail(
      `--turn-secret-file: cannot read ${secretFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const options: RelayTurnOptions = { urls, secret, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) };
  try {
    new TurnIssuer(options);
  } catch (error) {
    return fail(`--turn: ${(error as Error).message.replace(/^turn: /, '')}`);
  }
  if ((statSync(secretFile).mode & 0o077) !== 0)
    process.stderr.write(`WARNING: ${secretFile} is readable by other users; chmod 600 it.\n`);
  return options;
}
