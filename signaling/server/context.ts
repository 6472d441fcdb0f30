// State shared by every connection of one relay instance.
import type { RelayLimitsInfo } from '../protocol/index.js';
import type { Channels } from './channels.js';
import type { ClusterHooks } from './cluster/hooks.js';
import type { MailStore } from './mail-store.js';
import type { RelayCounters } from './counters.js';
import type { RelayLogger } from './logger.js';
import type { RelayLimits } from './options.js';
import type { RelayPeer } from './peer.js';
import type { Presence } from './presence.js';
import type { AddressBudget } from './sockets.js';
import type { RelayTurn } from './turn-credentials.js';

export interface RelayContext {
  readonly limits: RelayLimits;
  /** The limits as announced to clients in `ready`. */
  readonly limitsInfo: RelayLimitsInfo;
  readonly logger: RelayLogger;
  readonly presence: Presence;
  readonly channels: Channels;
  /** Store-and-forward mail (contact requests): in memory, or in Redis once the node joined a cluster. */
  mailbox: MailStore;
  readonly counters: RelayCounters;
  /** Set when the relay runs as one node of a cluster (--redis). */
  cluster: ClusterHooks | null;
  readonly acceptHosts: readonly string[];
  /** TURN credentials handed to authenticated clients (RelayOptions.turn); null without a TURN server. */
  readonly turn: RelayTurn | null;
  /** Connections currently authenticated. */
  authenticated: number;
  /** Connections still authenticating, in total (limits.maxUnauthenticated) ... */
  unauthenticatedCount: number;
  /** ... and per client address (limits.maxUnauthenticatedPerIp). */
  readonly unauthenticated: AddressBudget;
  /** Called once per connection after it closed and was cleaned up. */
  onConnectionClosed(conn: RelayPeer): void;
}
