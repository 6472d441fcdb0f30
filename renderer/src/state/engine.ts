// The slice of core's Messenger the UI uses, calls and file transfer included. Kept as an interface so
// the state classes can be exercised before and independently of the engine; core/src/messenger.ts
// satisfies it.
import type {
  ChatMessage,
  Contact,
  ContactRequestView,
  IdentityId,
  MessengerEventMap,
  OwnIdentity,
  RelayState,
  SessionPath,
  Unsubscribe,
} from '../../../core/src/api.js';
import type { CallManager } from '../../../core/src/call/index.js';
import type { OutgoingFile, TransferEngine, TransferInfo } from '../../../core/src/transfer/index.js';

export interface HistoryQuery {
  /** Only messages with seq below this (older), for paging on scroll-up. */
  before?: number;
  limit?: number;
}

export interface EngineLike {
  readonly identity: OwnIdentity;
  contacts(): Promise<Contact[]>;
  addContact(invite: string): Promise<Contact>;
  /** Incoming contact requests (people who added us from our invite). */
  requests(): ContactRequestView[];
  acceptRequest(id: IdentityId): Promise<Contact>;
  declineRequest(id: IdentityId): Promise<void>;
  blockRequest(id: IdentityId): Promise<void>;
  send(contactId: IdentityId, text: string): Promise<ChatMessage>;
  history(contactId: IdentityId, query: HistoryQuery): Promise<ChatMessage[]>;
  markRead(contactId: IdentityId): Promise<void>;
  safetyNumber(contactId: IdentityId): Promise<string>;
  setVerified(contactId: IdentityId, verified: boolean): Promise<Contact>;
  /** Connects ahead of need (an open chat with an online, accepted contact); does nothing otherwise. */
  connect(contactId: IdentityId): void;
  pathOf(contactId: IdentityId): SessionPath;
  relayState(): { state: RelayState; url: string | null };
  /** TURN servers our relays' operators provide for calls (valid credentials now); optional for test engines. */
  relayTurnServers?(): Array<{ urls: string | string[] }>;
  on<K extends keyof MessengerEventMap>(event: K, listener: (value: MessengerEventMap[K]) => void): Unsubscribe;
  /** Audio/video calls. */
  readonly calls: CallManager;
  /** File transfer; null when the engine was opened without files. */
  readonly transfers: TransferEngine | null;
  sendFiles(contactId: IdentityId, files: readonly OutgoingFile[]): Promise<TransferInfo[]>;
  close(): Promise<void>;
}
