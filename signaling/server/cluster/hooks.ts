// What the single-process relay asks of a cluster. Types only: the relay imports this file for its types, so
// a relay without --redis never loads the cluster code or the Redis client (see cluster/index.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../../protocol/index.js';
import type { ChannelPeer } from '../channels.js';
import type { MailStore } from '../mail-store.js';
import type { RelayPeer } from '../peer.js';

export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Presence across nodes: Presence calls these; the cluster calls Presence.announce when the cluster-wide state changes. */
export interface PresenceRemote {
  /** Counts one more connection of `id` cluster-wide, or refuses it (cap per identity). */
  admit(id: string): Promise<Refusal | null>;
  /** One admitted connection of `id` closed. */
  release(id: string): void;
  /** An admission that finished after its connection was gone (auth deadline, client left): undo it. */
  abandon(id: string): void;
  /** The first local watcher of `id`: follow its cluster-wide state. */
  watch(id: string): void;
  /** The last local watcher of `id` left. */
  unwatch(id: string): void;
  /** The cluster-wide state as last learned, undefined while not yet known (an announce follows). */
  stateOf(id: string): boolean | undefined;
}

/** Signals across nodes. */
export interface SignalRemote {
  /**
   * Publishes an already stamped and serialised signal once for every other node holding `to`. Answers the
   * sender with offline (nobody anywhere received it) or unavailable (broker down and nobody here received it).
   */
  publish(from: RelayPeer, to: string, payload: Buffer, deliveredLocally: number, ref: string | undefined): void;
}

/** A channel-open waiting for its peer, as the cluster sees it. */
export interface PendingOffer {
  readonly conn: ChannelPeer;
  readonly to: string;
  readonly tag: string;
}

/** Relay channels across nodes. */
export interface ChannelsRemote {
  /**
   * A channel-open that found no local match: if another node holds a matching open from `to`, join it there
   * and return true (the outcome arrives later); false when there is nothing to join.
   */
  join(conn: ChannelPeer, to: string, tag: string): boolean;
  /** A new local pending open: tell the target's nodes; answers offline when nobody anywhere holds `to`. */
  offer(pending: PendingOffer, onlineHere: boolean): void;
}

/** The HTTP endpoints a clustered node serves on its public port (health, metrics). */
export interface OpsRemote {
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
}

export interface ClusterHooks {
  readonly presence: PresenceRemote;
  /** Mail kept in Redis: posted on any node, delivered on whichever node the recipient connects to. */
  readonly mail: MailStore;
  readonly signals: SignalRemote;
  readonly channels: ChannelsRemote;
  readonly ops: OpsRemote;
  close(): Promise<void>;
}
