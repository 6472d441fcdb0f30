// Relay options and limits: defaults sized for a small VPS or a laptop, every one overridable.
import { isIPv4, isIPv6 } from 'node:net';
import type { ClusterOptions } from './cluster/options.js';
import type { RelayLogger } from './logger.js';
import type { RelayTurnOptions } from './turn-credentials.js';

export interface RelayLimits {
  /** Authenticated WebSocket connections. Beyond it: error 'server-full', close ServerFull. */
  maxConnections: number;
  /** WebSocket connections that have not authenticated yet (their own budget, so silent ones cannot crowd out honest users). Beyond it: HTTP 503 to the upgrade. */
  maxUnauthenticated: number;
  /** Unauthenticated WebSocket connections from one client address (IPv6: one /64). Beyond it: HTTP 503. */
  maxUnauthenticatedPerIp: number;
  /** TCP (or TLS) sockets of any kind open at once. Beyond it a new socket is closed at accept. */
  maxSockets: number;
  /** TCP sockets from one peer address (IPv6: one /64); trusted proxies are exempt. Beyond it: closed at accept. */
  maxSocketsPerIp: number;
  /** From accept (or the end of the TLS handshake) to a complete request head; a socket that sends nothing, or its headers slowly, is closed. Also the TLS handshake timeout. */
  requestHeadTimeoutMs: number;
  /** Longest an HTTP request may take to arrive in full (node's requestTimeout). */
  requestTimeoutMs: number;
  /** Identities one connection may watch for presence. */
  maxSubscriptionsPerConnection: number;
  /** Relay channels one connection may have open or pending. */
  maxChannelsPerConnection: number;
  /** Control (JSON) messages per second per connection, token bucket refill rate. Channel frames are exempt: backpressure bounds them. */
  messagesPerSecond: number;
  /** Token bucket size: how many control messages may arrive back to back. */
  messageBurst: number;
  /** Time from connect to a verified `auth`; then the relay sends AuthTimeout and terminates the socket (no close handshake to wait for). */
  authTimeoutMs: number;
  /** WebSocket ping interval; a connection that did not answer the previous ping is terminated. */
  heartbeatMs: number;
  /** Protocol violations tolerated (per minute of quiet) before the relay closes the connection. */
  maxViolations: number;
  /** Stop reading from a channel sender while its receiver has more than this many bytes queued. */
  channelHighWaterBytes: number;
  /** Resume the sender once the receiver's queue is at or below this. */
  channelLowWaterBytes: number;
  /** How long a channel-open waits for the peer's matching open. */
  channelOpenTimeoutMs: number;
  /** Identities one identity may watch across all its connections (devices, extra sockets). */
  maxSubscriptionsPerIdentity: number;
  // Store-and-forward mail (contact requests, mailbox.ts); in a cluster they hold cluster-wide.
  /** Mails kept per recipient; the oldest goes first. */
  mailPerRecipient: number;
  /** Mails one sender may have waiting for one recipient; its oldest goes first. */
  mailPerPair: number;
  /** Bytes of mail kept relay-wide; beyond it new mail is refused with mailbox-full. */
  mailTotalBytes: number;
  /** How long undelivered (unacknowledged) mail is kept. */
  mailTtlMs: number;
  /** Mails per minute one identity may send (token bucket), and its burst. */
  mailPerMinute: number;
  mailBurst: number;
}

export const DEFAULT_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 50_000,
  maxUnauthenticated: 1_024,
  maxUnauthenticatedPerIp: 16,
  maxSockets: 52_000,
  maxSocketsPerIp: 128,
  requestHeadTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  maxSubscriptionsPerConnection: 1_024,
  maxChannelsPerConnection: 32,
  messagesPerSecond: 100,
  messageBurst: 200,
  authTimeoutMs: 10_000,
  heartbeatMs: 30_000,
  maxViolations: 10,
  channelHighWaterBytes: 1024 * 1024,
  channelLowWaterBytes: 256 * 1024,
  channelOpenTimeoutMs: 30_000,
  maxSubscriptionsPerIdentity: 2_048,
  mailPerRecipient: 64,
  mailPerPair: 4,
  mailTotalBytes: 64 * 1024 * 1024,
  mailTtlMs: 14 * 24 * 3600_000,
  mailPerMinute: 12,
  mailBurst: 20,
});

export interface RelayTlsOptions {
  /** PEM certificate chain. */
  cert: string | Buffer;
  /** PEM private key. */
  key: string | Buffer;
}

export interface RelayOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Serve https/wss with this certificate instead of http/ws. */
  tls?: RelayTlsOptions;
  /** Directory of the built web client to serve over HTTP on the same port. */
  staticDir?: string;
  limits?: Partial<RelayLimits>;
  /** pino-compatible logger. Default: pino to stderr at 'info'. */
  logger?: RelayLogger;
  /**
   * Extra Host values (exactly as a client writes them, e.g. "relay.example.org" or "relay.example.org:8443")
   * a client may sign in its auth statement. Needed when clients reach the relay by a DNS name, through a
   * proxy or a port mapping: by default only the address and port the TCP connection arrived on count.
   */
  acceptHosts?: readonly string[];
  /** Join a cluster of relays sharing one Redis (signaling/server/cluster). Without it: one process, no Redis. */
  cluster?: ClusterOptions;
  /**
   * Origins (e.g. "https://parley.example.org") whose web pages may open WebSockets to this relay, besides
   * requests with no Origin (native clients), the desktop app (app://parley) and, when staticDir is set, the
   * web client this relay serves itself. Every other Origin gets HTTP 403: a page the user happens to visit
   * must not use the relay (above all the desktop app's loopback relay) as a presence oracle or exhaust it.
   */
  allowOrigins?: readonly string[];
  /**
   * Addresses of reverse proxies in front of the relay. Only a connection from one of these has its
   * X-Forwarded-For read (the client address is the last entry that is not itself a trusted proxy), and only
   * these are exempt from maxSocketsPerIp. Everyone else's X-Forwarded-For is ignored: it is client-chosen.
   */
  trustedProxies?: readonly string[];
  /**
   * Serve the web client over plain http on a non-loopback address. Off by default: over http anyone on the
   * path can replace the code that holds the user's identity key. For tests in private networks only.
   */
  insecureHttp?: boolean;
  /**
   * A TURN server (e.g. coturn with use-auth-secret) and its shared secret: every authenticated client then gets
   * short-lived TURN credentials in `ready` (turn-credentials.ts) and calls can use TURN. None by default: a
   * relay never hands out a TURN server its operator did not configure.
   */
  turn?: RelayTurnOptions;
}

const MAX_ACCEPT_HOSTS = 32;
const MAX_ALLOW_ORIGINS = 32;
const MAX_TRUSTED_PROXIES = 64;

export function resolveLimits(overrides: Partial<RelayLimits> = {}): RelayLimits {
  const limits: RelayLimits = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(overrides) as [keyof RelayLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_LIMITS)) throw new RangeError(`unknown relay limit "${String(name)}"`);
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`relay limit ${name} must be a positive number, got ${value}`);
    limits[name] = value;
  }
  if (limits.channelLowWaterBytes > limits.channelHighWaterBytes) {
    throw new RangeError('channelLowWaterBytes must not exceed channelHighWaterBytes');
  }
  return limits;
}

export function normalizeAcceptHosts(hosts: readonly string[] = []): string[] {
  if (hosts.length > MAX_ACCEPT_HOSTS) throw new RangeError(`at most ${MAX_ACCEPT_HOSTS} acceptHosts`);
  const out = new Set<string>();
  for (const host of hosts) {
    const h = host.trim().toLowerCase();
    if (!h || /[\s/\\@]/.test(h)) throw new RangeError(`acceptHosts entry "${host}" is not a Host value`);
    out.add(h);
  }
  return [...out];
}

/** Origins exactly as browsers send them: scheme://host[:port], lowercase, no path. */
export function normalizeOrigins(origins: readonly string[] = []): string[] {
  if (origins.length > MAX_ALLOW_ORIGINS) throw new RangeError(`at most ${MAX_ALLOW_ORIGINS} allowOrigins`);
  const out = new Set<string>();
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin.trim());
    } catch {
      throw new RangeError(`allowOrigins entry "${origin}" is not an origin (scheme://host[:port])`);
    }
    const text = `${url.protocol}//${url.host}`;
    if (
      !url.host ||
      url.username ||
      url.password ||
      (url.pathname !== '/' && url.pathname !== '') ||
      url.search ||
      url.hash
    ) {
      throw new RangeError(`allowOrigins entry "${origin}" is not an origin (scheme://host[:port])`);
    }
    out.add(text.toLowerCase());
  }
  return [...out];
}

export function normalizeProxies(addresses: readonly string[] = []): string[] {
  if (addresses.length > MAX_TRUSTED_PROXIES) throw new RangeError(`at most ${MAX_TRUSTED_PROXIES} trustedProxies`);
  return addresses.map((a) => {
    const canonical = canonicalAddress(a.trim());
    if (canonical === null) throw new RangeError(`trustedProxies entry "${a}" is not an IP address`);
    return canonical;
  });
}

/** Lowercase, IPv4-mapped IPv6 unmapped, IPv6 written out in full (8 groups of 4 hex digits); null when not an IP. */
export function canonicalAddress(address: string | undefined): string | null {
  if (address === undefined) return null;
  const a = address.toLowerCase();
  if (isIPv4(a)) return a;
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7);
  if (!isIPv6(a)) return null;
  if (a.includes('.')) return a; // other embedded-IPv4 forms: rare enough to count as written
  const [head = '', tail] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  const groups = tail === undefined ? left : [...left, ...Array<string>(missing).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/**
 * The key per-address budgets count by: the IPv4 address, or the /64 of an IPv6 address (one subscriber
 * usually holds a whole /64, so counting single v6 addresses would count nothing).
 */
export function addressKey(canonical: string): string {
  return canonical.includes(':') ? canonical.split(':').slice(0, 4).join(':') + '::/64' : canonical;
}
