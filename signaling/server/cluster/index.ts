// One relay node of a cluster: presence and signals through Redis (small atomic scripts, pub/sub), relay
// channel bytes over direct node-to-node links. Loaded only when the relay is started with a cluster
// option (dynamic import in relay.ts), so the embedded relay never loads this code or the Redis client.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { ErrorCode, IdentityIdSchema } from '../../protocol/index.js';
import type { RelayPeer } from '../peer.js';
import type { RelayContext } from '../context.js';
import { deliverLive } from '../mailbox.js';
import type { RelayStats } from '../relay.js';
import type { ClusterHooks, PresenceRemote, Refusal, SignalRemote } from './hooks.js';
import { LinkPool } from './link.js';
import { RedisMailStore } from './mail-store.js';
import { prometheusText, type Metric } from './metrics.js';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './options.js';
import { RemoteChannels, type Offer } from './remote-channels.js';
import { ASSERT, DOWN, LEAVE, PUBLISH_MANY, STATE, TICK, UP } from './scripts.js';

export type { ClusterOptions } from './options.js';

interface Scripts {
  parleyUp(p: string, node: string, id: string, max: number): Promise<number>;
  parleyDown(p: string, node: string, id: string, grace: number): Promise<number>;
  parleyTick(p: string, node: string, ttl: number, grace: number): Promise<(number | string)[]>;
  parleyAssert(p: string, node: string, ttl: number, grace: number, ...pairs: (string | number)[]): Promise<number>;
  parleyLeave(p: string, node: string, grace: number): Promise<number>;
  parleyState(p: string, ...ids: string[]): Promise<number[]>;
  parleyPublish(...channelsAndMessages: (string | Buffer)[]): Promise<number[]>;
}

const OfferSchema = z.object({
  from: IdentityIdSchema,
  to: IdentityIdSchema,
  tag: z.string().min(1).max(128),
  home: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  address: z.string().max(300),
});

const NEWLINE = Buffer.from('\n');

/** Signals to one identity within one tick: one message of newline-separated signals, and who sent them. */
interface SignalBatch {
  readonly parts: Buffer[];
  readonly senders: { from: RelayPeer; deliveredLocally: number; ref: string | undefined }[];
}
/** SUBSCRIBE/UNSUBSCRIBE at most this many channels per command when resubscribing. */
const SUBSCRIBE_BATCH = 500;

export async function joinCluster(
  ctx: RelayContext,
  options: ClusterOptions,
  stats: () => RelayStats,
): Promise<ClusterHooks> {
  const node = new ClusterNode(ctx, resolveClusterOptions(options), stats);
  try {
    await node.start();
  } catch (err) {
    await node.close();
    throw err;
  }
  return node;
}

class ClusterNode implements ClusterHooks, PresenceRemote, SignalRemote {
  readonly presence = this;
  readonly signals = this;
  readonly channels: RemoteChannels;
  readonly mail: RedisMailStore;
  readonly ops = { handleHttp: (req: IncomingMessage, res: ServerResponse) => this.handleHttp(req, res) };

  private readonly cmd: Redis & Scripts;
  private readonly sub: Redis;
  private readonly links: LinkPool;
  private readonly P: string;
  /** Admitted local connections per identity (what this node asserts in Redis). */
  private readonly local = new Map<string, number>();
  /** Identities watched here → cluster-wide state as last learned, ordered by Redis's announcement counter. */
  private readonly watched = new Map<string, { online: boolean | undefined; seq: number }>();
  /** Channels this node wants subscribed (resubscribed after every reconnect). */
  private readonly desired = new Set<string>();
  private readonly subscribing = new Map<string, Promise<void>>();
  private readonly signalPrefix: Buffer;
  private readonly nodeIdBytes: Buffer;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  private started = false;
  /** Something may not have reached Redis (it was down): re-assert at the next chance. */
  private dirty = false;
  private redisRttMs = 0;
  private readonly m = {
    signalsPublished: 0,
    signalsReceived: 0,
    signalErrors: 0,
    nodesReaped: 0,
    reasserts: 0,
    refusedAtCap: 0,
    admissionsAbandoned: 0,
    redisErrors: 0,
    peakLinkQueued: 0,
  };

  constructor(
    private readonly ctx: RelayContext,
    private readonly o: ResolvedClusterOptions,
    private readonly stats: () => RelayStats,
  ) {
    this.P = o.keyPrefix;
    this.signalPrefix = Buffer.from(`S${o.nodeId}\n`);
    this.nodeIdBytes = Buffer.from(o.nodeId);
    const common: RedisOptions = {
      lazyConnect: true,
      // Nothing replayed late: a command that cannot be sent now fails now, and the sender hears of it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(50 * times, 500),
      connectionName: `parley-${o.nodeId}`,
    };
    this.cmd = new Redis(o.redisUrl, {
      ...common,
      enableAutoPipelining: true,
      // One command per tick already (flushBatches): auto-pipelining would only add its per-command bookkeeping.
      autoPipeliningIgnoredCommands: ['parleyPublish'],
      commandTimeout: 2_000,
    }) as Redis & Scripts;
    this.sub = new Redis(o.redisUrl, common);
    for (const [name, lua] of Object.entries({
      parleyUp: UP,
      parleyDown: DOWN,
      parleyTick: TICK,
      parleyAssert: ASSERT,
      parleyLeave: LEAVE,
      parleyState: STATE,
      parleyPublish: PUBLISH_MANY,
    })) {
      this.cmd.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.mail = new RedisMailStore(this.cmd, this.P, o.nodeId, ctx.limits);
    this.links = new LinkPool(
      o.nodeId,
      o.secret,
      {
        control: (link, msg) => this.channels.onControl(link, msg),
        data: (link, body) => this.channels.onData(link, body),
        credit: (link, chan, bytes) => this.channels.onCredit(link, chan, bytes),
        closed: (link) => this.channels.onLinkClosed(link),
      },
      ctx.logger,
    );
    this.channels = new RemoteChannels(
      o.nodeId,
      ctx.channels,
      this.links,
      { offer: (to, json) => this.publishFor(to, Buffer.from(`O${o.nodeId}\n${json}`)) },
      ctx.counters,
      ctx.logger,
      ctx.limits.channelOpenTimeoutMs,
      ctx.limits.channelHighWaterBytes,
    );
  }

  async start(): Promise<void> {
    const log = this.ctx.logger;
    for (const [name, client] of [
      ['commands', this.cmd],
      ['subscriber', this.sub],
    ] as const) {
      client.on('error', (err: Error) => {
        this.m.redisErrors++;
        log.debug({ redis: name, err: err.message }, 'redis error');
      });
      client.on('close', () => {
        if (!this.closing && this.started) log.warn({ redis: name }, 'redis connection lost');
      });
    }
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.onMessage(channel.toString('latin1'), message),
    );
    await this.links.listen(this.o.linkHost, this.o.linkPort, this.o.advertiseHost);
    await Promise.all([this.cmd.connect(), this.sub.connect()]);
    await this.sub.subscribe(`${this.P}c:${this.o.nodeId}`);
    this.desired.add(`${this.P}c:${this.o.nodeId}`);
    // Reconnected (Redis restarted, failed over or the network came back): subscriptions first, then state.
    this.sub.on('ready', () => void this.resubscribe());
    this.cmd.on('ready', () => void this.recover());
    await this.reassert();
    await this.tick();
    this.ctx.presence.joinCluster(this);
    this.ctx.channels.joinCluster(this.channels);
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => void fn(), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.heartbeatMs / 2, () => this.tick());
    every(this.o.reassertMs, () => this.reassert());
    every(this.o.reassertMs, () => this.mail.sweep().catch(() => undefined));
    every(1_000, () => {
      for (const link of this.links.all)
        if (link.queuedBytes > this.m.peakLinkQueued) this.m.peakLinkQueued = link.queuedBytes;
    });
    this.started = true;
    log.info({ redis: redactUrl(this.o.redisUrl), link: this.links.address }, 'cluster node joined');
  }

  // ---- presence ----

  async admit(id: string): Promise<Refusal | null> {
    const n = this.local.get(id) ?? 0;
    this.local.set(id, n + 1);
    // Reachable before announced: the identity's channel is subscribed before its count can make it online.
    await this.want(`${this.P}s:${id}`);
    let total: number;
    try {
      total = await this.cmd.parleyUp(this.P, this.o.nodeId, id, this.o.maxConnectionsPerIdentity);
    } catch {
      // Redis down: serve the connection here; the re-assert on Redis's return counts it.
      this.dirty = true;
      return null;
    }
    if (total >= 0) return null;
    this.m.refusedAtCap++;
    this.dropLocal(id);
    return {
      code: ErrorCode.TooManyConnections,
      message: `this identity already has ${this.o.maxConnectionsPerIdentity} connections to this relay cluster`,
    };
  }

  release(id: string): void {
    this.dropLocal(id);
    this.cmd.parleyDown(this.P, this.o.nodeId, id, this.o.offlineGraceMs).catch(() => {
      this.dirty = true;
    });
  }

  abandon(id: string): void {
    this.m.admissionsAbandoned++;
    this.release(id);
  }

  watch(id: string): void {
    this.watched.set(id, { online: undefined, seq: -1 });
    void this.want(`${this.P}p:${id}`).then(() => this.query([id]));
  }

  unwatch(id: string): void {
    this.watched.delete(id);
    this.unwant(`${this.P}p:${id}`);
  }

  stateOf(id: string): boolean | undefined {
    return this.watched.get(id)?.online;
  }

  // ---- signals ----

  publish(from: RelayPeer, to: string, payload: Buffer, deliveredLocally: number, ref: string | undefined): void {
    // Signals to one identity within one tick leave in one PUBLISH (newline-separated: a serialised signal
    // never contains a raw newline): the Redis client's cost is per command, and bursts (ICE candidates) are
    // the common case. Order is kept: batches leave in order on one connection.
    let batch = this.batches.get(to);
    if (batch === undefined) {
      batch = { parts: [this.signalPrefix], senders: [] };
      this.batches.set(to, batch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flushBatches);
      }
    } else {
      batch.parts.push(NEWLINE);
    }
    batch.parts.push(payload);
    batch.senders.push({ from, deliveredLocally, ref });
  }

  private readonly batches = new Map<string, SignalBatch>();
  private flushScheduled = false;
  /** Every target's batch of this tick in one command; each sender hears its own outcome. */
  private readonly flushBatches = (): void => {
    this.flushScheduled = false;
    const batches = [...this.batches];
    this.batches.clear();
    const args: (string | Buffer)[] = [];
    for (const [to, { parts }] of batches) {
      args.push(
        `${this.P}s:${to}`,
        parts.length === 2 ? Buffer.concat(parts, parts[0]!.length + parts[1]!.length) : Buffer.concat(parts),
      );
    }
    this.cmd.parleyPublish(...args).then(
      (receivers) => {
        batches.forEach(([to, { senders }], i) => {
          const elsewhere = (receivers[i] ?? 0) - (this.local.has(to) ? 1 : 0);
          if (elsewhere > 0) this.m.signalsPublished += senders.length;
          else {
            for (const s of senders) {
              if (s.deliveredLocally === 0)
                s.from.sendError(ErrorCode.Offline, `${to} is not connected to this relay`, { ref: s.ref, to });
            }
          }
        });
      },
      () => {
        for (const [to, { senders }] of batches) {
          for (const s of senders) {
            if (s.deliveredLocally > 0) continue; // delivered here; other nodes cannot be reached now
            this.m.signalErrors++;
            s.from.sendError(
              ErrorCode.Unavailable,
              'relay cluster broker unavailable: signal not delivered; try again',
              { ref: s.ref, to },
            );
          }
        }
      },
    );
  };

  /** Publishes on `to`'s channel; resolves with how many other nodes hold `to`. */
  private async publishFor(to: string, message: Buffer): Promise<number> {
    const receivers = await this.cmd.publish(`${this.P}s:${to}`, message);
    return receivers - (this.local.has(to) ? 1 : 0);
  }

  // ---- messages from Redis ----

  private onMessage(channel: string, message: Buffer): void {
    const P = this.P;
    if (!channel.startsWith(P)) return;
    const kind = channel.charCodeAt(P.length);
    const id = channel.slice(P.length + 2);
    try {
      if (kind === 0x73 /* s */) {
        const nl = message.indexOf(10);
        if (nl < 2) return;
        if (message.subarray(1, nl).equals(this.nodeIdBytes)) return; // our own: delivered locally already
        if (message[0] === 0x53 /* S */) this.deliverSignals(id, message, nl + 1);
        else if (message[0] === 0x4d /* M */) this.deliverMail(id, message, nl + 1);
        else if (message[0] === 0x4f /* O */) {
          const parsed = OfferSchema.safeParse(JSON.parse(message.toString('utf8', nl + 1)));
          if (parsed.success && parsed.data.to === id) {
            this.channels.onOffer({
              ...parsed.data,
              expires: Date.now() + this.ctx.limits.channelOpenTimeoutMs,
            } satisfies Offer);
          }
        }
      } else if (kind === 0x70 /* p */) {
        const [seq, online] = message.toString('latin1').split(' ');
        this.apply(id, online === '1', Number(seq));
      }
    } catch (err) {
      this.ctx.counters.internalErrors++;
      this.ctx.logger.error({ err: err instanceof Error ? err.name : typeof err }, 'bad message from redis');
    }
  }

  /** One or more newline-separated signals for `id`, from `start` in `message`. */
  private deliverSignals(id: string, message: Buffer, start: number): void {
    const targets = this.ctx.presence.connectionsOf(id);
    if (targets === undefined) return;
    while (start < message.length) {
      let end = message.indexOf(10, start);
      if (end < 0) end = message.length;
      const payload = message.subarray(start, end);
      start = end + 1;
      if (Array.isArray(targets)) for (const t of targets as readonly RelayPeer[]) t.sendControl(payload);
      else (targets as RelayPeer).sendControl(payload);
      this.m.signalsReceived++;
    }
  }

  /** Mail stored on another node for `id`: "<mail id>\n<mail message>" from `start`. */
  private deliverMail(id: string, message: Buffer, start: number): void {
    const nl = message.indexOf(10, start);
    if (nl < 0) return;
    deliverLive(
      this.ctx,
      id,
      { id: message.toString('latin1', start, nl), text: message.toString('utf8', nl + 1) },
      null,
    );
  }

  private apply(id: string, online: boolean, seq: number): void {
    const w = this.watched.get(id);
    if (w === undefined || !(seq > w.seq)) return;
    w.seq = seq;
    if (w.online === online) return;
    w.online = online;
    this.ctx.presence.announce(id, online);
  }

  /**
   * Reads the cluster-wide state of `ids`. After a reconnect (`recovering`) Redis may be empty and other nodes
   * still re-asserting: "offline" for an identity we knew online is then read again after the grace, so a
   * Redis restart makes nobody flap.
   */
  private async query(ids: readonly string[], recovering = false): Promise<void> {
    const later: string[] = [];
    for (let i = 0; i < ids.length; i += SUBSCRIBE_BATCH) {
      const batch = ids.slice(i, i + SUBSCRIBE_BATCH);
      try {
        const [seq, ...states] = await this.cmd.parleyState(this.P, ...batch);
        batch.forEach((id, k) => {
          const online = states[k] === 1;
          if (recovering && !online && this.watched.get(id)?.online === true) later.push(id);
          else this.apply(id, online, seq!);
        });
      } catch {
        return; // Redis down: queried again when it is back
      }
    }
    if (later.length > 0) {
      const t = setTimeout(() => void this.query(later.filter((id) => this.watched.has(id))), this.o.offlineGraceMs);
      t.unref();
    }
  }

  // ---- subscriptions ----

  private want(channel: string): Promise<void> {
    this.desired.add(channel);
    const inFlight = this.subscribing.get(channel);
    if (inFlight !== undefined) return inFlight;
    const p = this.sub
      .subscribe(channel)
      .then(
        () => undefined,
        () => undefined, // down: resubscribed on reconnect
      )
      .finally(() => this.subscribing.delete(channel));
    this.subscribing.set(channel, p);
    return p;
  }

  private unwant(channel: string): void {
    this.desired.delete(channel);
    void this.sub.unsubscribe(channel).catch(() => undefined);
  }

  private dropLocal(id: string): void {
    const n = (this.local.get(id) ?? 1) - 1;
    if (n > 0) {
      this.local.set(id, n);
      return;
    }
    this.local.delete(id);
    this.unwant(`${this.P}s:${id}`);
  }

  private async resubscribe(): Promise<void> {
    if (this.closing) return;
    const all = [...this.desired];
    try {
      for (let i = 0; i < all.length; i += SUBSCRIBE_BATCH)
        await this.sub.subscribe(...all.slice(i, i + SUBSCRIBE_BATCH));
    } catch {
      return; // lost again: the next 'ready' retries
    }
    // Announcements may have been missed while the subscriber was away.
    await this.query([...this.watched.keys()], true);
  }

  private async recover(): Promise<void> {
    if (this.closing || !this.started) return;
    // Redis may have restarted empty, its announcement counter from 0: accept any new announcement.
    for (const w of this.watched.values()) w.seq = -1;
    await this.reassert();
    await this.query([...this.watched.keys()], true);
  }

  // ---- heartbeat, reaping, re-assert ----

  private async tick(): Promise<void> {
    if (this.closing || this.sub.status !== 'ready') return; // without our subscriber we are not reachable
    const t0 = performance.now();
    let out: (number | string)[];
    try {
      out = await this.cmd.parleyTick(this.P, this.o.nodeId, this.o.heartbeatMs * 3, this.o.offlineGraceMs);
    } catch {
      this.dirty = true;
      return;
    }
    this.redisRttMs = performance.now() - t0;
    const [fresh, ...reaped] = out;
    for (const dead of reaped) {
      this.m.nodesReaped++;
      this.ctx.logger.warn({ reaped: dead }, 'reaped a dead relay node');
    }
    if ((fresh === 1 && this.started) || this.dirty) await this.reassert();
  }

  private async reassert(): Promise<void> {
    if (this.closing) return;
    const pairs: (string | number)[] = [];
    for (const [id, n] of this.local) pairs.push(id, n);
    try {
      await this.cmd.parleyAssert(this.P, this.o.nodeId, this.o.heartbeatMs * 3, this.o.offlineGraceMs, ...pairs);
      this.dirty = false;
      this.m.reasserts++;
    } catch {
      this.dirty = true;
    }
  }

  // ---- operations ----

  private handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/healthz' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return true;
    }
    if (path === '/healthz') {
      const redis = this.cmd.status === 'ready' && this.sub.status === 'ready';
      const ok = redis && !this.closing;
      const body = JSON.stringify({
        status: ok ? 'ok' : 'degraded',
        node: this.o.nodeId,
        redis: redis ? 'up' : 'down',
        links: this.links.all.size,
      });
      res
        .writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : prometheusText(this.o.nodeId, this.metrics()));
    return true;
  }

  metrics(): Metric[] {
    const s = this.stats();
    let linkQueued = 0;
    let linkSent = 0;
    let linkReceived = 0;
    for (const link of this.links.all) {
      linkQueued += link.queuedBytes;
      linkSent += link.bytesSent;
      linkReceived += link.bytesReceived;
    }
    const g = (name: string, help: string, value: number): Metric => ({ name, help, type: 'gauge', value });
    const c = (name: string, help: string, value: number): Metric => ({ name, help, type: 'counter', value });
    return [
      g('parley_relay_connections', 'Open WebSocket connections on this node.', s.connections),
      g('parley_relay_authenticated_connections', 'Authenticated connections on this node.', s.authenticated),
      g('parley_relay_identities', 'Distinct identities connected to this node.', s.identities),
      g('parley_relay_watched_identities', 'Identities watched from this node.', s.watchedIdentities),
      g('parley_relay_channels', 'Relay channels open on this node.', s.channels),
      g('parley_relay_pending_channel_opens', 'Channel opens waiting for their peer.', s.pendingChannelOpens),
      g('parley_relay_buffered_bytes', 'Bytes queued towards clients.', s.bufferedBytes),
      g('parley_relay_paused_connections', 'Connections not read because a receiver is slow.', s.pausedConnections),
      c('parley_relay_connections_accepted_total', 'Connections accepted.', s.connectionsAccepted),
      c('parley_relay_auth_failures_total', 'Failed authentications.', s.authFailures),
      c(
        'parley_relay_signals_forwarded_total',
        'Signals delivered to connections of this node by senders on this node.',
        s.signalsForwarded,
      ),
      c('parley_relay_frames_forwarded_total', 'Channel frames forwarded.', s.framesForwarded),
      c('parley_relay_bytes_forwarded_total', 'Channel bytes forwarded.', s.bytesForwarded),
      c('parley_relay_backpressure_pauses_total', 'Senders paused for a slow receiver.', s.backpressurePauses),
      c('parley_relay_internal_errors_total', 'Internal errors.', s.internalErrors),
      c(
        'parley_cluster_signals_published_total',
        'Signals received by at least one other node.',
        this.m.signalsPublished,
      ),
      c('parley_cluster_signals_received_total', 'Signals from other nodes delivered here.', this.m.signalsReceived),
      c('parley_cluster_signal_errors_total', 'Signals answered with unavailable (broker down).', this.m.signalErrors),
      c(
        'parley_cluster_refused_at_identity_cap_total',
        'Connections refused at the per-identity cap.',
        this.m.refusedAtCap,
      ),
      c(
        'parley_cluster_admissions_abandoned_total',
        'Admissions undone because their connection was gone when Redis answered (auth deadline, client left).',
        this.m.admissionsAbandoned,
      ),
      c('parley_cluster_nodes_reaped_total', 'Dead nodes this node reaped.', this.m.nodesReaped),
      c('parley_cluster_reasserts_total', 'Times this node re-asserted its connections.', this.m.reasserts),
      c('parley_cluster_redis_errors_total', 'Redis connection errors.', this.m.redisErrors),
      g(
        'parley_cluster_redis_up',
        '1 when both Redis connections are ready.',
        this.cmd.status === 'ready' && this.sub.status === 'ready' ? 1 : 0,
      ),
      g('parley_cluster_redis_rtt_seconds', 'Round trip of the last heartbeat script.', this.redisRttMs / 1000),
      g('parley_cluster_links', 'Node-to-node links up.', this.links.all.size),
      g('parley_cluster_link_queued_bytes', 'Bytes queued on node-to-node links.', linkQueued),
      g(
        'parley_cluster_link_peak_queued_bytes',
        'Largest link queue seen (sampled each second).',
        this.m.peakLinkQueued,
      ),
      c('parley_cluster_link_sent_bytes_total', 'Bytes sent on node-to-node links.', linkSent),
      c('parley_cluster_link_received_bytes_total', 'Bytes received on node-to-node links.', linkReceived),
      g(
        'parley_cluster_channel_offers',
        'Channel opens offered by other nodes, remembered here.',
        this.channels.offerCount,
      ),
    ];
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.channels.close();
    await this.links.close();
    if (this.cmd.status === 'ready') {
      await this.cmd.parleyLeave(this.P, this.o.nodeId, this.o.offlineGraceMs).catch(() => undefined);
    }
    this.cmd.disconnect();
    this.sub.disconnect();
    this.ctx.logger.info({}, 'cluster node left');
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
