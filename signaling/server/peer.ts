// What the relay's modules know of a client connection: who it is and how to answer it. Modules that keep
// state per connection declare their own slot on it (Presence: PresenceSlot in presence.ts; Channels:
// ChannelSlot in channels.ts) and work on RelayPeer plus that slot, so they import this file, not each other
// and not Connection, the one class that implements every slot (connection.ts).
import type { WebSocket } from 'ws';
import type { ErrorCode } from '../protocol/index.js';
import type { ErrorExtras } from './outbound.js';

export interface RelayPeer {
  /** Per relay process, for logs. */
  readonly serial: number;
  /** The authenticated identity id; null until `ready`. */
  readonly id: string | null;
  readonly ws: WebSocket;
  sendText(text: string): void;
  /** A text frame already encoded (shared by several recipients). */
  sendControl(payload: Buffer): void;
  /** An error message; "offline" only about identities `mayLearnOffline` allows. */
  sendError(code: ErrorCode, message: string, extras?: ErrorExtras): void;
  /** An error the client caused; repeated ones close the connection. */
  violation(code: ErrorCode, message: string, extras?: ErrorExtras): void;
  /** True when the relay may tell this connection that `id` is offline (it holds a watch grant for it). */
  mayLearnOffline(id: string): boolean;
}

/** Who is connected here: one peer, several (devices of one identity), or undefined. */
export interface PeerDirectory {
  connectionsOf(id: string): RelayPeer | readonly RelayPeer[] | undefined;
}
