// Who is online, and who watches whom. Only exact identity ids can be asked about: there is no listing.
import { ErrorCode } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { presenceText } from './outbound.js';

export class Presence {
  /** identity id → its authenticated connection, or connections (several devices): most have one, so no Set. */
  private readonly online = new Map<string, Connection | Connection[]>();
  /** identity id → connections subscribed to its presence. */
  private readonly watchers = new Map<string, Set<Connection>>();

  constructor(private readonly maxSubscriptions: number) {}

  get onlineIdentities(): number {
    return this.online.size;
  }

  get watchedIdentities(): number {
    return this.watchers.size;
  }

  /** The identity's connections: one, several, or undefined when offline. */
  connectionsOf(id: string): Connection | readonly Connection[] | undefined {
    return this.online.get(id);
  }

  isOnline(id: string): boolean {
    return this.online.has(id);
  }

  /** Registers an authenticated connection; the identity's first connection announces it online. */
  add(conn: Connection, id: string): void {
    const current = this.online.get(id);
    if (current === undefined) {
      this.online.set(id, conn);
      this.announce(id, true);
    } else if (Array.isArray(current)) {
      current.push(conn);
    } else {
      this.online.set(id, [current, conn]);
    }
  }

  /** Forgets a closing connection: its presence and its subscriptions. */
  remove(conn: Connection): void {
    const id = conn.id;
    if (id !== null) {
      const current = this.online.get(id);
      if (current === conn) {
        this.online.delete(id);
        this.announce(id, false);
      } else if (Array.isArray(current)) {
        const i = current.indexOf(conn);
        if (i >= 0) current.splice(i, 1);
        if (current.length === 1) this.online.set(id, current[0]!);
      }
    }
    const subs = conn.subscriptions;
    if (subs !== null) {
      for (const watched of subs) this.unwatch(conn, watched);
      conn.subscriptions = null;
    }
  }

  subscribe(conn: Connection, ids: readonly string[]): void {
    const subs = (conn.subscriptions ??= new Set());
    const fresh = [...new Set(ids)].filter((id) => !subs.has(id));
    if (subs.size + fresh.length > this.maxSubscriptions) {
      conn.violation(
        ErrorCode.TooManySubscriptions,
        `subscribing to ${fresh.length} more would exceed ${this.maxSubscriptions} subscriptions (have ${subs.size})`,
      );
      return;
    }
    for (const id of fresh) {
      subs.add(id);
      let set = this.watchers.get(id);
      if (set === undefined) this.watchers.set(id, (set = new Set()));
      set.add(conn);
      conn.sendText(presenceText(id, this.online.has(id)));
    }
  }

  unsubscribe(conn: Connection, ids: readonly string[]): void {
    const subs = conn.subscriptions;
    if (subs === null) return;
    for (const id of ids) {
      if (subs.delete(id)) this.unwatch(conn, id);
    }
  }

  private unwatch(conn: Connection, id: string): void {
    const set = this.watchers.get(id);
    if (set?.delete(conn) && set.size === 0) this.watchers.delete(id);
  }

  private announce(id: string, online: boolean): void {
    const set = this.watchers.get(id);
    if (set === undefined) return;
    const text = presenceText(id, online);
    for (const watcher of set) watcher.sendText(text);
  }
}
