// Relay channels whose two ends are on different nodes. Pairing goes through Redis (an open is offered on
// the target identity's channel; a node holding a matching open joins it at the opener's node, the channel's
// home); bytes go over the direct node-to-node link, never through Redis. Each direction has a credit window:
// the receiving node grants credit back only once frames have left it for its client, so a slow receiver
// pauses its sender across nodes and costs each node about one window.
import { ErrorCode } from '../../protocol/index.js';
import type { Channel, ChannelPeer, Channels, RemoteEnd } from '../channels.js';
import type { RelayCounters } from '../counters.js';
import type { RelayLogger } from '../logger.js';
import type { ChannelsRemote, PendingOffer } from './hooks.js';
import type { Link, LinkControl, LinkPool } from './link.js';

const OPEN = 1;
const FRAME_OPTIONS = { binary: true, compress: false, fin: true } as const;
/** Remote offers remembered at most (oldest dropped first): bounds memory against a flood of opens. */
const MAX_OFFERS = 100_000;
const JOIN_TIMEOUT_MS = 10_000;

export interface Offer {
  /** The opener, its target and tag. */
  readonly from: string;
  readonly to: string;
  readonly tag: string;
  /** The opener's node (the home) and its link address. */
  readonly home: string;
  readonly address: string;
  readonly expires: number;
}

interface Join {
  readonly conn: ChannelPeer;
  readonly opener: string;
  readonly tag: string;
  readonly num: number;
  readonly timer: NodeJS.Timeout;
  link: Link | null;
}

export interface Publisher {
  /** Publishes an offer for `to`'s nodes; resolves with how many other nodes hold `to`. */
  offer(to: string, json: string): Promise<number>;
}

export class ClusterEnd implements RemoteEnd {
  readonly blockedOn = null;
  blocking: Set<ChannelPeer> | null = null;
  channel: Channel | null = null;
  /** Bytes sent to the other node and not yet credited back. */
  inflight = 0;
  /** Bytes from the other node written out to our client and not yet credited back. */
  private uncredited = 0;
  /** Lengths of frames handed to our client's socket, in order, until written. */
  private readonly lengths: number[] = [];
  readonly onWritten: () => void;

  constructor(
    readonly link: Link,
    /** The other node's channel number. */
    readonly remoteNum: number,
    private readonly owner: RemoteChannels,
  ) {
    this.onWritten = () => {
      this.uncredited += this.lengths.shift() ?? 0;
      if (this.uncredited >= this.owner.creditBatch) {
        this.link.sendCredit(this.remoteNum, this.uncredited);
        this.uncredited = 0;
      }
    };
  }

  send(frame: Buffer): boolean {
    frame.writeUInt32BE(this.remoteNum, 0); // the only byte the relay changes: the channel header
    this.link.sendData(frame);
    this.inflight += frame.length;
    return this.inflight > this.owner.window;
  }

  close(reason: string): void {
    this.link.sendControl({ t: 'close', chan: this.remoteNum, reason: reason.slice(0, 200) });
    this.owner.forget(this);
  }

  /** A frame from the other node for our client. */
  deliver(conn: ChannelPeer, body: Buffer, counters: RelayCounters): void {
    if (conn.ws.readyState !== OPEN) {
      this.link.sendCredit(this.remoteNum, body.length); // dropped with the channel: never hold the sender
      return;
    }
    this.lengths.push(body.length);
    conn.batchWrites();
    conn.ws.send(body, FRAME_OPTIONS, this.onWritten);
    const queued = conn.ws.bufferedAmount;
    if (queued > counters.peakBufferedBytes) counters.peakBufferedBytes = queued;
  }
}

export class RemoteChannels implements ChannelsRemote {
  readonly window: number;
  readonly creditBatch: number;
  private readonly offers = new Map<string, Offer>();
  private readonly joins = new Map<number, Join>();
  private joinSerial = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly nodeId: string,
    private readonly channels: Channels,
    private readonly links: LinkPool,
    private readonly publisher: Publisher,
    private readonly counters: RelayCounters,
    private readonly logger: RelayLogger,
    private readonly openTimeoutMs: number,
    window: number,
  ) {
    this.window = window;
    this.creditBatch = Math.max(1, Math.floor(window / 4));
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  get offerCount(): number {
    return this.offers.size;
  }

  join(conn: ChannelPeer, to: string, tag: string): boolean {
    const key = offerKey(to, conn.id!, tag);
    const offer = this.offers.get(key);
    if (offer === undefined) return false;
    this.offers.delete(key);
    if (offer.expires < Date.now()) return false;
    this.startJoin(conn, offer);
    return true;
  }

  offer(pending: PendingOffer, onlineHere: boolean): void {
    const json = JSON.stringify({
      from: pending.conn.id,
      to: pending.to,
      tag: pending.tag,
      home: this.nodeId,
      address: this.links.address,
    });
    this.publisher.offer(pending.to, json).then(
      (elsewhere) => {
        if (elsewhere <= 0 && !onlineHere) {
          this.channels.refusePending(pending, ErrorCode.Offline, `${pending.to} is not connected to this relay`);
        }
      },
      () => {
        if (!onlineHere)
          this.channels.refusePending(pending, ErrorCode.Unavailable, 'relay cluster broker unavailable; try again');
      },
    );
  }

  /** An offer published by another node for one of our identities. */
  onOffer(offer: Offer): void {
    if (offer.home === this.nodeId) return;
    const key = offerKey(offer.from, offer.to, offer.tag);
    this.offers.delete(key); // re-insert: newest last, for the size bound
    if (this.offers.size >= MAX_OFFERS) this.offers.delete(this.offers.keys().next().value!);
    this.offers.set(key, offer);
    // Both sides opened at once on different nodes: the smaller (identity, node) is the home, the other joins.
    if (`${offer.from} ${offer.home}` < `${offer.to} ${this.nodeId}`) {
      const conn = this.channels.takePending(offer.to, offer.from, offer.tag);
      if (conn !== null) {
        this.offers.delete(key);
        this.startJoin(conn, offer);
      }
    }
  }

  onControl(link: Link, msg: LinkControl): void {
    switch (msg.t) {
      case 'join': {
        const conn = this.channels.takePending(msg.opener, msg.peer, msg.tag);
        if (conn === null) {
          link.sendControl({ t: 'gone', j: msg.j });
          return;
        }
        const end = new ClusterEnd(link, msg.chan, this);
        const channel = this.channels.openRemote(conn, msg.peer, msg.tag, end);
        end.channel = channel;
        link.ends.set(channel.num, end);
        link.sendControl({ t: 'joined', j: msg.j, chan: channel.num });
        return;
      }
      case 'joined':
      case 'gone': {
        const join = this.joins.get(msg.j);
        if (join === undefined || join.link !== link) {
          if (msg.t === 'joined') link.sendControl({ t: 'close', chan: msg.chan, reason: 'join abandoned' });
          return;
        }
        this.endJoin(msg.j, join);
        if (msg.t === 'gone' || join.conn.ws.readyState !== OPEN) {
          this.channels.unreserve(join.num);
          if (msg.t === 'joined') link.sendControl({ t: 'close', chan: msg.chan, reason: 'peer disconnected' });
          else if (join.conn.ws.readyState === OPEN) this.channels.waitForPeer(join.conn, join.opener, join.tag);
          return;
        }
        const end = new ClusterEnd(link, msg.chan, this);
        end.channel = this.channels.openRemote(join.conn, join.opener, join.tag, end, join.num);
        link.ends.set(join.num, end);
        return;
      }
      case 'close': {
        const end = link.ends.get(msg.chan) as ClusterEnd | undefined;
        if (end === undefined) return;
        link.ends.delete(msg.chan);
        if (end.channel !== null) this.channels.closeRemote(end.channel, msg.reason);
        return;
      }
    }
  }

  onData(link: Link, body: Buffer): void {
    const num = body.readUInt32BE(0);
    const end = link.ends.get(num) as ClusterEnd | undefined;
    // Closed here while frames were in flight: dropped (our close tells the sender, which forgets its window).
    if (end === undefined || end.channel === null) return;
    end.deliver(end.channel.a, body, this.counters);
  }

  onCredit(link: Link, num: number, bytes: number): void {
    const end = link.ends.get(num) as ClusterEnd | undefined;
    if (end === undefined) return;
    end.inflight = Math.max(0, end.inflight - bytes);
    if (end.blocking !== null && end.inflight <= this.window / 2) this.channels.releaseRemote(end);
  }

  /** A link failed: its channels close, joins through it fall back to waiting. */
  onLinkClosed(link: Link): void {
    for (const [num, value] of link.ends) {
      const end = value as ClusterEnd;
      link.ends.delete(num);
      if (end.channel !== null) this.channels.closeRemote(end.channel, 'relay node unreachable');
    }
    for (const [j, join] of this.joins) {
      if (join.link === link) this.failJoin(j, join);
    }
  }

  /** @internal A local end closed its channel. */
  forget(end: ClusterEnd): void {
    if (end.channel !== null) end.link.ends.delete(end.channel.num);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const [j, join] of this.joins) this.endJoin(j, join);
  }

  private startJoin(conn: ChannelPeer, offer: Offer): void {
    const num = this.channels.reserve();
    const j = ++this.joinSerial;
    const timer = setTimeout(() => {
      const join = this.joins.get(j);
      if (join !== undefined) this.failJoin(j, join);
    }, JOIN_TIMEOUT_MS);
    timer.unref();
    const join: Join = { conn, opener: offer.from, tag: offer.tag, num, timer, link: null };
    this.joins.set(j, join);
    conn.pendingOpens++;
    this.links.to(offer.home, offer.address).then(
      (link) => {
        if (this.joins.get(j) !== join) return;
        join.link = link;
        link.sendControl({ t: 'join', j, opener: offer.from, peer: conn.id!, tag: offer.tag, chan: num });
      },
      (err: unknown) => {
        this.logger.warn(
          { peer: offer.home, err: err instanceof Error ? err.message : String(err) },
          'cannot reach node to join a channel',
        );
        const current = this.joins.get(j);
        if (current === join) this.failJoin(j, join);
      },
    );
  }

  private endJoin(j: number, join: Join): void {
    clearTimeout(join.timer);
    this.joins.delete(j);
    join.conn.pendingOpens--;
  }

  /** The home did not answer: the open waits here instead, offered again. */
  private failJoin(j: number, join: Join): void {
    this.endJoin(j, join);
    this.channels.unreserve(join.num);
    if (join.conn.ws.readyState === OPEN) this.channels.waitForPeer(join.conn, join.opener, join.tag);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, offer] of this.offers) if (offer.expires < now) this.offers.delete(key);
  }
}

function offerKey(from: string, to: string, tag: string): string {
  return `${from} ${to} ${tag}`;
}
