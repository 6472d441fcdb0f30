// Options of a relay node in a cluster. Every node of one cluster shares the Redis URL and the cluster secret.

export interface ClusterOptions {
  /** redis://[user:password@]host:port[/db] (rediss:// for TLS). */
  redisUrl: string;
  /** Unique and stable per node: names it in Redis, in logs and in metrics. */
  nodeId: string;
  /** Shared by every node: authenticates the node-to-node links (HMAC challenge). At least 16 characters. */
  secret: string;
  /** Address the node-to-node link listens on. Default 127.0.0.1. */
  linkHost?: string;
  /** Port of the node-to-node link; 0 picks a free one. Default 0. */
  linkPort?: number;
  /** Address other nodes use to reach this node's link (defaults to linkHost; needed when it listens on 0.0.0.0). */
  advertiseHost?: string;
  /** Connections one identity may hold across the whole cluster. Default 16. */
  maxConnectionsPerIdentity?: number;
  /** Redis key and channel prefix, so several clusters can share one Redis. Default "parley:". */
  keyPrefix?: string;
  /** How long an identity that lost its last connection stays "online" for watchers (reconnects do not flap). */
  offlineGraceMs?: number;
  /** Heartbeat period; a node whose heartbeat key expires (3 beats) or whose channel loses its subscriber is reaped. */
  heartbeatMs?: number;
  /** Each node re-asserts all its connections this often (and after every Redis reconnect). */
  reassertMs?: number;
}

export interface ResolvedClusterOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  readonly secret: string;
  readonly linkHost: string;
  readonly linkPort: number;
  readonly advertiseHost: string;
  readonly maxConnectionsPerIdentity: number;
  readonly keyPrefix: string;
  readonly offlineGraceMs: number;
  readonly heartbeatMs: number;
  readonly reassertMs: number;
}

export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  if (!/^rediss?:\/\//.test(o.redisUrl)) throw new RangeError('cluster redisUrl must start with redis:// or rediss://');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.nodeId))
    throw new RangeError('cluster nodeId must be 1-64 characters of A-Z a-z 0-9 _ . -');
  if (o.secret.length < 16) throw new RangeError('cluster secret must be at least 16 characters');
  const linkHost = o.linkHost ?? '127.0.0.1';
  const advertiseHost = o.advertiseHost ?? linkHost;
  if (advertiseHost === '0.0.0.0' || advertiseHost === '::')
    throw new RangeError('set advertiseHost: other nodes cannot reach a wildcard address');
  const positive = (name: string, v: number | undefined, d: number): number => {
    const n = v ?? d;
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`cluster ${name} must be a positive number`);
    return n;
  };
  return {
    redisUrl: o.redisUrl,
    nodeId: o.nodeId,
    secret: o.secret,
    linkHost,
    linkPort: o.linkPort ?? 0,
    advertiseHost,
    maxConnectionsPerIdentity: positive('maxConnectionsPerIdentity', o.maxConnectionsPerIdentity, 16),
    keyPrefix: o.keyPrefix ?? 'parley:',
    offlineGraceMs: positive('offlineGraceMs', o.offlineGraceMs, 2_000),
    heartbeatMs: positive('heartbeatMs', o.heartbeatMs, 1_000),
    reassertMs: positive('reassertMs', o.reassertMs, 60_000),
  };
}
