// startRelay: composes the HTTP(S) server, the WebSocket endpoint on RELAY_PATH and the relay state.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CloseCode,
  ErrorCode,
  MAX_CHANNEL_PAYLOAD,
  MAX_CONTROL_BYTES,
  MAX_FRAME_BYTES,
  RELAY_PATH,
} from '../protocol/index.js';
import { Channels } from './channels.js';
import { Mailbox } from './mailbox.js';
import { Connection } from './connection.js';
import type { RelayContext } from './context.js';
import { RelayCounters } from './counters.js';
import { createStaticHandler, sendStatus, type RequestHandler } from './http-static.js';
import { createDefaultLogger, type RelayLogger } from './logger.js';
import {
  addressKey,
  normalizeAcceptHosts,
  normalizeOrigins,
  normalizeProxies,
  resolveLimits,
  type RelayLimits,
  type RelayOptions,
} from './options.js';
import { originAllowed, originPolicy } from './origin.js';
import { errorText } from './outbound.js';
import { Presence } from './presence.js';
import { AddressBudget, SocketGuard, clientAddress } from './sockets.js';
import { relayTurnOf } from './turn-credentials.js';

export interface RelayStats extends RelayCounters {
  /** Open WebSocket connections. */
  connections: number;
  /** Connections that completed authentication. */
  authenticated: number;
  /** Connections still authenticating. */
  unauthenticated: number;
  /** TCP sockets open (HTTP, WebSocket, handshaking). */
  sockets: number;
  /** Distinct identities online. */
  identities: number;
  /** Identities somebody watches. */
  watchedIdentities: number;
  /** Open relay channels. */
  channels: number;
  pendingChannelOpens: number;
  /** Bytes queued by the relay towards all clients right now. */
  bufferedBytes: number;
  /** Connections the relay currently does not read from because a receiver is slow. */
  pausedConnections: number;
}

export interface RunningRelay {
  /** WebSocket URL clients connect to, e.g. ws://127.0.0.1:8787/ws. */
  readonly url: string;
  /** HTTP(S) URL of the same port (the web client when staticDir is set). */
  readonly httpUrl: string;
  readonly host: string;
  readonly port: number;
  readonly limits: Readonly<RelayLimits>;
  /** Stops accepting, closes every client with 1001 and resolves once all are gone. Idempotent. */
  close(): Promise<void>;
  stats(): RelayStats;
}

/** Clients that do not answer a going-away close are cut after this. */
const CLOSE_GRACE_MS = 3_000;
/** How often node checks its HTTP header and request timeouts (its default, 30 s, would let them run long). */
const HTTP_TIMEOUT_CHECK_MS = 1_000;

export async function startRelay(options: RelayOptions = {}): Promise<RunningRelay> {
  const limits = resolveLimits(options.limits);
  const acceptHosts = normalizeAcceptHosts(options.acceptHosts);
  const baseLogger = options.logger ?? createDefaultLogger();
  // Every line of a cluster node names the node.
  const logger = options.cluster ? withFields(baseLogger, { node: options.cluster.nodeId }) : baseLogger;
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls;
  if (options.staticDir !== undefined && !tls && !isLoopbackHost(host)) {
    if (!options.insecureHttp) {
      throw new Error(
        `refusing to serve the web client over plain http on ${host}: anyone on the network path could replace the code ` +
          "that holds its users' identity keys. Give a certificate (--cert/--key), listen on a loopback address behind a " +
          'TLS proxy, or pass --insecure-http if you really mean it.',
      );
    }
  }
  const trustedProxies = normalizeProxies(options.trustedProxies);
  const turn = relayTurnOf(options.turn);
  const counters = new RelayCounters();
  const presence = new Presence(limits.maxSubscriptionsPerConnection);
  const channels = new Channels(limits, (id) => presence.isOnline(id), counters);
  const connections = new Set<Connection>();
  let onAllClosed: (() => void) | null = null;
  const ctx: RelayContext = {
    limits,
    limitsInfo: {
      maxControlBytes: MAX_CONTROL_BYTES,
      maxChannelPayload: MAX_CHANNEL_PAYLOAD,
      maxSubscriptions: limits.maxSubscriptionsPerConnection,
      maxChannels: limits.maxChannelsPerConnection,
      heartbeatMs: limits.heartbeatMs,
    },
    logger,
    presence,
    channels,
    mailbox: new Mailbox(limits),
    counters,
    cluster: null,
    acceptHosts,
    turn,
    authenticated: 0,
    unauthenticatedCount: 0,
    unauthenticated: new AddressBudget(limits.maxUnauthenticatedPerIp),
    onConnectionClosed(conn) {
      connections.delete(conn as Connection);
      if (onAllClosed !== null && connections.size === 0) onAllClosed();
    },
  };

  const staticHandler: RequestHandler | null = options.staticDir ? await createStaticHandler(options.staticDir) : null;
  const httpTimeouts = {
    headersTimeout: limits.requestHeadTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.requestHeadTimeoutMs),
    connectionsCheckingInterval: HTTP_TIMEOUT_CHECK_MS,
  };
  const server: Server = tls
    ? createHttpsServer({
        cert: tls.cert,
        key: tls.key,
        handshakeTimeout: limits.requestHeadTimeoutMs,
        ...httpTimeouts,
      })
    : createHttpServer(httpTimeouts);
  const guard = new SocketGuard(limits, trustedProxies, counters, logger);
  const origins = originPolicy(normalizeOrigins(options.allowOrigins), options.staticDir !== undefined, acceptHosts);
  server.on('connection', (socket: Socket) => {
    guard.admit(socket);
    if (!tls && !socket.destroyed) guard.startHeadDeadline(socket);
  });
  if (tls) server.on('secureConnection', (socket: Socket) => guard.startHeadDeadline(socket));
  server.on('request', (req, res) => {
    guard.headReceived(req.socket);
    if (ctx.cluster?.ops.handleHttp(req, res)) return;
    if (staticHandler) staticHandler(req, res);
    else sendStatus(res, 404, 'Not Found');
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  let closing = false;
  let serial = 0;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    guard.headReceived(req.socket);
    if (closing) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const target = req.url ?? '';
    const q = target.indexOf('?');
    if ((q < 0 ? target : target.slice(0, q)) !== RELAY_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    const arrival = arrivalOf(req);
    if (!originAllowed(req.headers.origin, arrival, origins)) {
      counters.originsRefused++;
      logger.debug({ origin: req.headers.origin?.slice(0, 100) }, 'upgrade refused for its Origin');
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    // Unauthenticated connections have their own budget, in total and per client address: silent sockets
    // cannot take the places of users who authenticate (they are refused here, cheaply, before any WebSocket).
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], guard.trusted);
    const key = address === null ? 'unknown' : addressKey(address);
    if (ctx.unauthenticatedCount >= limits.maxUnauthenticated || !ctx.unauthenticated.take(key)) {
      counters.unauthenticatedRefused++;
      return rejectUpgrade(socket, 503, 'Service Unavailable', 'Retry-After: 5\r\n');
    }
    ctx.unauthenticatedCount++;
    let handed = false;
    const giveBack = (): void => {
      if (handed) return;
      handed = true;
      ctx.unauthenticatedCount--;
      ctx.unauthenticated.release(key);
    };
    // handleUpgrade may fail the handshake (bad headers) without calling back: the budget comes back on close.
    socket.once('close', giveBack);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', giveBack);
      try {
        accept(ws, req, arrival, giveBack);
      } catch (err) {
        counters.internalErrors++;
        logger.error({ err: err instanceof Error ? err.name : typeof err }, 'internal error accepting a connection');
        ws.terminate();
      }
    });
  });

  function arrivalOf(req: IncomingMessage) {
    const socket = req.socket;
    return {
      hostHeader: req.headers.host,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      tls: tls !== undefined,
    };
  }

  function accept(
    ws: WebSocket,
    req: IncomingMessage,
    arrival: ReturnType<typeof arrivalOf>,
    releaseBudget: () => void,
  ): void {
    counters.connectionsAccepted++;
    if (ctx.authenticated >= limits.maxConnections || closing) {
      ws.once('close', releaseBudget);
      ws.send(errorText(ErrorCode.ServerFull, `relay is at its limit of ${limits.maxConnections} connections`));
      ws.close(CloseCode.ServerFull, 'server full');
      return;
    }
    const conn = new Connection(++serial, ws, req.socket, arrival, ctx, releaseBudget);
    connections.add(conn);
  }

  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      try {
        conn.tick();
      } catch (err) {
        counters.internalErrors++;
        logger.error(
          { conn: conn.serial, err: err instanceof Error ? err.name : typeof err },
          'internal error in heartbeat',
        );
      }
    }
  }, limits.heartbeatMs);
  heartbeat.unref();

  if (options.cluster) {
    // Loaded only here: a relay without --redis never loads the cluster code or the Redis client.
    const { joinCluster } = await import('./cluster/index.js');
    try {
      ctx.cluster = await joinCluster(ctx, options.cluster, () => stats());
      ctx.mailbox = ctx.cluster.mail;
    } catch (err) {
      clearInterval(heartbeat);
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err: err.message }, 'server error'));
  const port = (server.address() as AddressInfo).port;
  const urlHost = urlHostOf(host);
  const url = `${tls ? 'wss' : 'ws'}://${urlHost}:${port}${RELAY_PATH}`;
  const httpUrl = `${tls ? 'https' : 'http'}://${urlHost}:${port}/`;
  logger.info(
    { url, static: options.staticDir ?? null, acceptHosts, turn: turn?.issuer.toJSON() ?? null },
    'relay listening',
  );
  if (options.staticDir !== undefined && !tls && !isLoopbackHost(host)) {
    logger.warn(
      { url: httpUrl },
      "INSECURE: serving the web client over plain http on a non-loopback address (--insecure-http): anyone on the path can replace its code and take its users' identity keys",
    );
  }

  let closed: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing = true;
    clearInterval(heartbeat);
    channels.clear();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (connections.size > 0) {
      const allClosed = new Promise<void>((resolve) => {
        onAllClosed = resolve;
      });
      for (const conn of connections) conn.shutdown();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      await Promise.race([allClosed, grace]);
      clearTimeout(timer);
      for (const conn of [...connections]) conn.terminate();
    }
    server.closeAllConnections();
    await serverClosed;
    await ctx.cluster?.close();
    logger.info({ url }, 'relay closed');
  }

  return {
    url,
    httpUrl,
    host,
    port,
    limits,
    close: () => (closed ??= close()),
    stats,
  };

  function stats(): RelayStats {
    let bufferedBytes = 0;
    let pausedConnections = 0;
    for (const conn of connections) {
      bufferedBytes += conn.ws.bufferedAmount;
      if (conn.blockedOn !== null) pausedConnections++;
    }
    return {
      ...counters,
      connections: connections.size,
      authenticated: ctx.authenticated,
      unauthenticated: ctx.unauthenticatedCount,
      sockets: guard.open,
      identities: presence.onlineIdentities,
      watchedIdentities: presence.watchedIdentities,
      channels: channels.size,
      pendingChannelOpens: channels.pendingSize,
      bufferedBytes,
      pausedConnections,
    };
  }
}

function withFields(logger: RelayLogger, fields: object): RelayLogger {
  return {
    debug: (obj, msg) => logger.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  };
}

function rejectUpgrade(socket: Duplex, status: number, text: string, extraHeaders = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extraHeaders}Content-Length: 0\r\n\r\n`);
}

function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1'
  );
}

function urlHostOf(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
