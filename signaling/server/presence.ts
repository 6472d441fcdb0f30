// Who is online, and who watches whom. Only exact identity ids can be asked about: there is no listing.
// Alone, the relay announces presence itself; in a cluster (`remote` set) the cluster-wide state comes from
// Redis, and this class keeps the local half: this node's connections and watchers.
import { ErrorCode } from '../protocol/index.js';
import type { PresenceRemote, Refusal } from './cluster/hooks.js';
import { presenceText } from './outbound.js';
import type { PeerDirectory, RelayPeer } from './peer.js';

/** Presence's slot on a connection: the identities it watches. */
export interface PresenceSlot {
  subscriptions: Set<string> | null;
}

export type PresencePeer = RelayPeer & PresenceSlot;

export class Presence implements PeerDirectory {
  /** identity id → its authenticated connection, or connections (several devices): most have one, so no Set. */
  private readonly online = new Map<string, PresencePeer | PresencePeer[]>();
  /** identity id → connections subscribed to its presence. */
  private readonly watchers = new Map<string, Set<PresencePeer>>();

  private remote: PresenceRemote | null = null;

  constructor(private readonly maxSubscriptions: number) {}

  /** Joins a cluster: from now on presence is announced from the cluster-wide state. */
  joinCluster(remote: PresenceRemote): void {
    this.remote = remote;
  }

  /**
   * Before an authenticated connection becomes ready: null when it may go ahead at once (single process),
   * otherwise the cluster's answer (it counts the connection cluster-wide, or refuses it at the cap).
   * A connection admitted but closed before `add` must be handed to `release`.
   */
  admit(id: string): Promise<Refusal | null> | null {
    return this.remote === null ? null : this.remote.admit(id);
  }

  /** An admitted connection that closed before it was added. */
  release(id: string): void {
    this.remote?.abandon(id);
  }

  get onlineIdentities(): number {
    return this.online.size;
  }

  get watchedIdentities(): number {
    return this.watchers.size;
  }

  /** The identity's connections: one, several, or undefined when offline. */
  connectionsOf(id: string): PresencePeer | readonly PresencePeer[] | undefined {
    return this.online.get(id);
  }

  isOnline(id: string): boolean {
    return this.online.has(id);
  }

  /** Registers an authenticated connection; the identity's first connection announces it online. */
  add(conn: PresencePeer, id: string): void {
    const current = this.online.get(id);
    if (current === undefined) {
      this.online.set(id, conn);
      if (this.remote === null) this.announce(id, true);
    } else if (Array.isArray(current)) {
      current.push(conn);
    } else {
      this.online.set(id, [current, conn]);
    }
  }

  /** Forgets a closing connection: its presence and its subscriptions. */
  remove(conn: PresencePeer): void {
    const id = conn.id;
    if (id !== null) {
      const current = this.online.get(id);
      if (current === conn) {
        this.online.delete(id);
        if (this.remote === null) this.announce(id, false);
        else this.remote.release(id);
      } else if (Array.isArray(current)) {
        const i = current.indexOf(conn);
        if (i >= 0) {
          current.splice(i, 1);
          this.remote?.release(id);
        }
        if (current.length === 1) this.online.set(id, current[0]!);
      }
    }
    const subs = conn.subscriptions;
    if (subs !== null) {
      for (const watched of subs) this.unwatch(conn, watched);
      conn.subscriptions = null;
    }
  }

  subscribe(conn: PresencePeer, ids: readonly string[]): void {
    const subs = (conn.subscriptions ??= new Set());
    const fresh = [...new Set(ids)].filter((id) => !subs.has(id));
    if (subs.size + fresh.length > this.maxSubscriptions) {
      conn.violation(
        ErrorCode.TooManySubscriptions,
        `subscribing to ${fresh.length} more would exceed ${this.maxSubscriptions} subscriptions (have ${subs.size})`,
      );
      return;
    }
    const remote = this.remote;
    for (const id of fresh) {
      subs.add(id);
      let set = this.watchers.get(id);
      if (set === undefined) {
        this.watchers.set(id, (set = new Set()));
        remote?.watch(id);
      }
      set.add(conn);
      // In a cluster the state may not be known yet: the announce that follows reaches this watcher too.
      const online = remote === null ? this.online.has(id) : remote.stateOf(id);
      if (online !== undefined) conn.sendText(presenceText(id, online));
    }
  }

  unsubscribe(conn: PresencePeer, ids: readonly string[]): void {
    const subs = conn.subscriptions;
    if (subs === null) return;
    for (const id of ids) {
      if (subs.delete(id)) this.unwatch(conn, id);
    }
  }

  private unwatch(conn: PresencePeer, id: string): void {
    const set = this.watchers.get(id);
    if (set?.delete(conn) && set.size === 0) {
      this.watchers.delete(id);
      this.remote?.unwatch(id);
    }
  }

  /** Tells every local watcher of `id` its new state (the cluster calls this on a cluster-wide change). */
  announce(id: string, online: boolean): void {
    const set = this.watchers.get(id);
    if (set === undefined) return;
    const text = presenceText(id, online);
    for (const watcher of set) watcher.sendText(text);
  }
}
