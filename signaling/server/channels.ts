// Relay channels: two connections that both asked for (peer, tag) get one channel number, and binary frames
// [u32 channel][payload] pass between them untouched. A receiver with more than the high-water mark queued
// stops the relay from reading its sender, so a slow receiver costs the relay at most ~high water per channel.
// In a cluster one end may live on another node: it is a RemoteEnd, and the same rule holds through its
// credit window (the sender is paused while the other node has not confirmed delivery of a window's worth).
import { CHANNEL_HEADER_BYTES, ErrorCode } from '../protocol/index.js';
import type { ChannelsRemote } from './cluster/hooks.js';
import type { RelayCounters } from './counters.js';
import type { RelayLimits } from './options.js';
import { channelClosedText, channelReadyText } from './outbound.js';
import type { RelayPeer } from './peer.js';

/** Channels' slot on a connection: its channels, pending opens and backpressure edges. */
export interface ChannelSlot {
  channels: Map<number, Channel> | null;
  /** Channel numbers closed lately, whose in-flight frames are dropped without complaint. */
  recentlyClosed: number[] | null;
  pendingOpens: number;
  /** Receivers whose full queues keep this connection paused. */
  blockedOn: Set<FlowReceiver> | null;
  /** Senders paused because of this connection's full queue. */
  blocking: Set<ChannelPeer> | null;
  /** Write callback for frames sent to this connection while it holds senders back. */
  readonly afterWrite: () => void;
  /** Holds this connection's writes until the end of the tick (one writev). */
  batchWrites(): void;
  /** Releases the senders it holds back once its socket has flushed everything queued. */
  releaseOnDrain(): void;
  /** Sends one binary frame whose payload is the concatenation of `parts` (`length` bytes), not joined. */
  sendBinaryParts(parts: readonly Buffer[], length: number, callback?: () => void): void;
}

export type ChannelPeer = RelayPeer & ChannelSlot;

export interface Channel {
  readonly num: number;
  readonly a: ChannelPeer;
  /** The other end on this node, or null when it is on another node (then `remote` is set). */
  readonly b: ChannelPeer | null;
  readonly remote: RemoteEnd | null;
  readonly tag: string;
}

/** Something a paused sender waits on: a local connection with a full queue, or a remote end without credit. */
export interface FlowReceiver {
  /** Receivers this one waits on itself (null for a remote end: it never waits). */
  readonly blockedOn: ReadonlySet<FlowReceiver> | null;
  /** Senders paused because of this receiver. */
  blocking: Set<ChannelPeer> | null;
}

/** The far end of a channel whose peer is connected to another node of the cluster. */
export interface RemoteEnd extends FlowReceiver {
  /** Sends one client frame (its header is rewritten for the other node); true when the window is now full. */
  send(frame: Buffer): boolean;
  /** The local side closed the channel: tell the other node. */
  close(reason: string): void;
}

interface PendingOpen {
  readonly conn: ChannelPeer;
  readonly to: string;
  readonly tag: string;
  readonly key: string;
  readonly timer: NodeJS.Timeout;
}

const OPEN = 1; // WebSocket.OPEN
/** Frames still in flight on a channel that just closed are dropped quietly, not counted as violations. */
const RECENTLY_CLOSED_KEEP = 16;

export class Channels {
  private readonly byNum = new Map<number, Channel>();
  private readonly pending = new Map<string, PendingOpen>();
  /** Numbers promised to a cross-node join under way. */
  private readonly reserved = new Set<number>();
  private remote: ChannelsRemote | null = null;
  private nextNum = 1;

  constructor(
    private readonly limits: RelayLimits,
    /** Whether `id` has a connection on this relay (node). */
    private readonly isOnline: (id: string) => boolean,
    private readonly counters: RelayCounters,
  ) {}

  joinCluster(remote: ChannelsRemote): void {
    this.remote = remote;
  }

  get size(): number {
    return this.byNum.size;
  }

  get pendingSize(): number {
    return this.pending.size;
  }

  /** One binary message from an authenticated connection. */
  forward(conn: ChannelPeer, data: Buffer): void {
    this.forwardParts(conn, [data], data.length);
  }

  /**
   * Hot path: one binary message from an authenticated connection, as the pieces of the socket's chunks that
   * hold it (signaling/server/frame-tap.ts). They go out as they are, gather-written: never joined.
   */
  forwardParts(conn: ChannelPeer, parts: readonly Buffer[], length: number): void {
    if (length < CHANNEL_HEADER_BYTES) {
      conn.violation(
        ErrorCode.BadMessage,
        `binary frame of ${length} bytes is shorter than the ${CHANNEL_HEADER_BYTES}-byte channel header`,
      );
      return;
    }
    const first = parts[0]!;
    const num =
      first.length >= CHANNEL_HEADER_BYTES
        ? first.readUInt32BE(0)
        : Buffer.concat(parts as Buffer[], CHANNEL_HEADER_BYTES).readUInt32BE(0);
    const channel = conn.channels?.get(num);
    if (channel === undefined) {
      if (conn.recentlyClosed?.includes(num)) return;
      conn.violation(ErrorCode.UnknownChannel, `channel ${num} is not open on this connection`);
      return;
    }
    const peer = channel.a === conn ? channel.b : channel.a;
    if (peer === null) {
      this.forwardRemote(conn, channel.remote!, parts.length === 1 ? first : Buffer.concat(parts as Buffer[], length));
      return;
    }
    if (peer.ws.readyState !== OPEN) return; // closing: the channel goes with it
    // A write callback only while the peer holds a sender back: it resumes the sender at the low-water mark.
    peer.sendBinaryParts(parts, length, peer.blocking !== null ? peer.afterWrite : undefined);
    const counters = this.counters;
    counters.framesForwarded++;
    counters.bytesForwarded += length;
    const queued = peer.ws.bufferedAmount;
    if (queued > counters.peakBufferedBytes) counters.peakBufferedBytes = queued;
    if (queued > this.limits.channelHighWaterBytes) this.block(conn, peer);
  }

  open(conn: ChannelPeer, to: string, tag: string): void {
    const me = conn.id!;
    const match = this.pending.get(pendingKey(to, me, tag));
    if (match !== undefined && match.conn !== conn) {
      if (!this.hasRoom(conn, to, tag)) return;
      this.dropPending(match);
      this.pair(match.conn, conn, tag);
      return;
    }
    const key = pendingKey(me, to, tag);
    const existing = this.pending.get(key);
    if (existing !== undefined && existing.conn === conn) return; // a repeated open is already waiting
    const remote = this.remote;
    // Non-contacts wait for the timeout like an open nobody answers: the relay does not tell them who is offline.
    if (remote === null && !this.isOnline(to) && conn.mayLearnOffline(to)) {
      conn.sendError(ErrorCode.Offline, `${to} is not connected to this relay`, { to, tag });
      return;
    }
    if (!this.hasRoom(conn, to, tag)) return;
    if (remote !== null && remote.join(conn, to, tag)) return;
    this.waitForPeer(conn, to, tag);
  }

  /** Registers `conn`'s open as waiting for its peer (in a cluster, also after a join found nothing to join). */
  waitForPeer(conn: ChannelPeer, to: string, tag: string): void {
    const key = pendingKey(conn.id!, to, tag);
    const existing = this.pending.get(key);
    if (existing !== undefined && existing.conn === conn) return;
    if (existing !== undefined) {
      // The same identity asking again from another connection (typically after a reconnect): newest wins.
      this.dropPending(existing);
      existing.conn.sendError(ErrorCode.ChannelTimeout, `channel-open for tag ${tag} was superseded by a newer one`, {
        to,
        tag,
      });
    }
    const timer = setTimeout(() => this.expire(key), this.limits.channelOpenTimeoutMs);
    timer.unref();
    const pending = { conn, to, tag, key, timer };
    this.pending.set(key, pending);
    conn.pendingOpens++;
    this.remote?.offer(pending, this.isOnline(to));
  }

  /** Takes the open `from` made towards `to` with `tag` out of the waiting list (a node joining it), if still there. */
  takePending(from: string, to: string, tag: string): ChannelPeer | null {
    const p = this.pending.get(pendingKey(from, to, tag));
    if (p === undefined || p.conn.ws.readyState !== OPEN) return null;
    this.dropPending(p);
    return p.conn;
  }

  /** Drops a waiting open (cluster: nobody anywhere holds its target) and tells its opener why. */
  refusePending(
    pending: { readonly conn: ChannelPeer; readonly to: string; readonly tag: string },
    code: ErrorCode,
    message: string,
  ): void {
    const p = this.pending.get(pendingKey(pending.conn.id!, pending.to, pending.tag));
    if (p === undefined || p.conn !== pending.conn) return;
    // Offline, to someone without a grant for the target: keep waiting for the timeout (no presence oracle).
    if (code === ErrorCode.Offline && !p.conn.mayLearnOffline(p.to)) return;
    this.dropPending(p);
    p.conn.sendError(code, message, { to: p.to, tag: p.tag });
  }

  /** A channel number for a cross-node join, promised before the other node answers. */
  reserve(): number {
    const num = this.allocate();
    this.reserved.add(num);
    return num;
  }

  unreserve(num: number): void {
    this.reserved.delete(num);
  }

  /** Opens channel `num` (from `reserve`, or fresh when omitted) between a local connection and a remote end. */
  openRemote(conn: ChannelPeer, peerId: string, tag: string, end: RemoteEnd, num = this.allocate()): Channel {
    this.reserved.delete(num);
    const channel: Channel = { num, a: conn, b: null, remote: end, tag };
    this.byNum.set(num, channel);
    (conn.channels ??= new Map()).set(num, channel);
    conn.sendText(channelReadyText(num, peerId, tag));
    return channel;
  }

  /** A cross-node channel's local end, for frames arriving from the other node. */
  remoteChannel(num: number, end: RemoteEnd): Channel | null {
    const channel = this.byNum.get(num);
    return channel !== undefined && channel.remote === end ? channel : null;
  }

  /** The other node closed a cross-node channel (or the link to it failed). */
  closeRemote(channel: Channel, reason: string): void {
    if (this.byNum.get(channel.num) !== channel) return;
    this.byNum.delete(channel.num);
    forget(channel.a, channel.num);
    const end = channel.remote!;
    unblockEdge(channel.a, end);
    channel.a.sendText(channelClosedText(channel.num, reason));
  }

  /** A remote end got credit back: senders paused on it read again. */
  releaseRemote(end: RemoteEnd): void {
    this.release(end);
  }

  private forwardRemote(conn: ChannelPeer, end: RemoteEnd, data: Buffer): void {
    const counters = this.counters;
    counters.framesForwarded++;
    counters.bytesForwarded += data.length;
    if (end.send(data) && !conn.blockedOn?.has(end)) {
      (conn.blockedOn ??= new Set()).add(end);
      (end.blocking ??= new Set()).add(conn);
      if (conn.blockedOn.size === 1) {
        conn.ws.pause();
        counters.backpressurePauses++;
      }
    }
  }

  /** A client's channel-close. */
  close(conn: ChannelPeer, num: number): void {
    const channel = conn.channels?.get(num);
    if (channel === undefined) {
      if (conn.recentlyClosed?.includes(num)) return; // the peer closed it first
      conn.sendError(ErrorCode.UnknownChannel, `channel ${num} is not open on this connection`);
      return;
    }
    this.teardown(channel, conn, 'closed by peer');
  }

  /** Everything a closing connection held: its channels, pending opens and backpressure links. */
  dropConnection(conn: ChannelPeer, reason: string): void {
    if (conn.channels !== null) {
      for (const channel of [...conn.channels.values()]) this.teardown(channel, conn, reason);
    }
    if (conn.pendingOpens > 0) {
      for (const p of [...this.pending.values()]) if (p.conn === conn) this.dropPending(p);
    }
    this.release(conn);
    if (conn.blockedOn !== null) {
      for (const receiver of conn.blockedOn) receiver.blocking?.delete(conn);
      conn.blockedOn = null;
    }
  }

  /** Shutdown: clear the timers; connections are closing anyway. */
  clear(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  /** Called when a receiver's queue drains to the low-water mark: every sender waiting on it reads again. */
  release(receiver: FlowReceiver): void {
    const waiting = receiver.blocking;
    if (waiting === null) return;
    receiver.blocking = null;
    for (const sender of waiting) unblockEdge(sender, receiver);
  }

  private block(sender: ChannelPeer, receiver: ChannelPeer): void {
    if (sender.blockedOn?.has(receiver)) return;
    (sender.blockedOn ??= new Set()).add(receiver);
    (receiver.blocking ??= new Set()).add(sender);
    // Frames already queued carry no write callback: the socket's 'drain' (queue empty) is the fallback.
    receiver.releaseOnDrain();
    if (sender.blockedOn.size === 1) {
      sender.ws.pause();
      this.counters.backpressurePauses++;
    }
  }

  private hasRoom(conn: ChannelPeer, to: string, tag: string): boolean {
    const used = (conn.channels?.size ?? 0) + conn.pendingOpens;
    if (used < this.limits.maxChannelsPerConnection) return true;
    conn.violation(
      ErrorCode.TooManyChannels,
      `at most ${this.limits.maxChannelsPerConnection} channels (open or pending) per connection`,
      { to, tag },
    );
    return false;
  }

  private pair(first: ChannelPeer, second: ChannelPeer, tag: string): void {
    const num = this.allocate();
    const channel: Channel = { num, a: first, b: second, remote: null, tag };
    this.byNum.set(num, channel);
    (first.channels ??= new Map()).set(num, channel);
    (second.channels ??= new Map()).set(num, channel);
    first.sendText(channelReadyText(num, second.id!, tag));
    second.sendText(channelReadyText(num, first.id!, tag));
  }

  private allocate(): number {
    // u32, unique among open channels; wraps after 4 billion opens, skipping numbers still in use.
    for (;;) {
      const num = this.nextNum;
      this.nextNum = num >= 0xffffffff ? 1 : num + 1;
      if (!this.byNum.has(num) && !this.reserved.has(num)) return num;
    }
  }

  private teardown(channel: Channel, closer: ChannelPeer, reason: string): void {
    const { a, b, num } = channel;
    this.byNum.delete(num);
    if (b === null) {
      // The local end closed a cross-node channel: the other node tells its client.
      forget(a, num);
      unblockEdge(a, channel.remote!);
      channel.remote!.close(reason);
      return;
    }
    forget(a, num);
    forget(b, num);
    const other = closer === a ? b : a;
    if (!sharesChannel(a, b)) {
      unblockEdge(a, b);
      unblockEdge(b, a);
    }
    other.sendText(channelClosedText(num, reason));
  }

  private dropPending(p: PendingOpen): void {
    clearTimeout(p.timer);
    if (this.pending.get(p.key) === p) this.pending.delete(p.key);
    p.conn.pendingOpens--;
  }

  private expire(key: string): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    this.dropPending(p);
    p.conn.sendError(
      ErrorCode.ChannelTimeout,
      `no matching channel-open from ${p.to} within ${this.limits.channelOpenTimeoutMs} ms`,
      {
        to: p.to,
        tag: p.tag,
      },
    );
  }
}

function pendingKey(from: string, to: string, tag: string): string {
  return `${from} ${to} ${tag}`;
}

function forget(conn: ChannelPeer, num: number): void {
  conn.channels?.delete(num);
  const recent = (conn.recentlyClosed ??= []);
  recent.push(num);
  if (recent.length > RECENTLY_CLOSED_KEEP) recent.shift();
}

function sharesChannel(a: ChannelPeer, b: FlowReceiver): boolean {
  if (a.channels === null) return false;
  for (const channel of a.channels.values()) if (channel.a === b || channel.b === b) return true;
  return false;
}

/** Removes "sender waits on receiver"; a sender waiting on nobody reads again. */
function unblockEdge(sender: ChannelPeer, receiver: FlowReceiver): void {
  receiver.blocking?.delete(sender);
  const on = sender.blockedOn;
  if (on === null || !on.delete(receiver)) return;
  if (on.size === 0) {
    sender.blockedOn = null;
    sender.ws.resume();
  }
}
