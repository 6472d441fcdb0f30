// Relay options and limits: defaults sized for a small VPS or a laptop, every one overridable.
import type { ClusterOptions } from './cluster/options.js';
import type { RelayLogger } from './logger.js';

export interface RelayLimits {
  /** Open WebSocket connections (authenticated or not). Beyond it: error 'server-full', close ServerFull. */
  maxConnections: number;
  /** Identities one connection may watch for presence. */
  maxSubscriptionsPerConnection: number;
  /** Relay channels one connection may have open or pending. */
  maxChannelsPerConnection: number;
  /** Control (JSON) messages per second per connection, token bucket refill rate. Channel frames are exempt: backpressure bounds them. */
  messagesPerSecond: number;
  /** Token bucket size: how many control messages may arrive back to back. */
  messageBurst: number;
  /** Time from connect to a verified `auth` before the relay closes with AuthTimeout. */
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
  /** Store-and-forward mail (contact requests): see mailbox.ts. */
  mailPerRecipient: number;
  mailPerPair: number;
  mailTotalBytes: number;
  mailTtlMs: number;
  mailPerMinute: number;
  mailBurst: number;
}

export const DEFAULT_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 50_000,
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
}

const MAX_ACCEPT_HOSTS = 32;

export function resolveLimits(overrides: Partial<RelayLimits> = {}): RelayLimits {
  const limits: RelayLimits = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(overrides) as [keyof RelayLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_LIMITS)) throw new RangeError(`unknown relay limit "${String(name)}"`);
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`relay limit ${name} must be a positive number, got ${value}`);
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
