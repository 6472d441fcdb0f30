// The engine's public surface, as the renderer and the `parley` command see it.
// core/src/messenger.ts implements it; the UI and CLI depend only on these types.

export type IdentityId = string;

/** Which way data to a contact currently flows. */
export type SessionPath = 'direct' | 'relay' | 'none';
export type RelayState = 'connecting' | 'online' | 'offline';

export interface OwnIdentity {
  id: IdentityId;
  name: string;
  /** The `parley:` invite link naming our key, name and relay URL(s). */
  invite: string;
}

/**
 * What a contact's session is doing while nothing carries data, for the UI ("Connecting…" says little):
 * trying direct, opening the relay, or waiting for the contact to answer.
 */
export type SessionActivity = 'connected' | 'direct' | 'relay' | 'waiting' | 'idle';

export interface Contact {
  id: IdentityId;
  name: string;
  relays: string[];
  addedAt: number;
  online: boolean;
  /** True once the user confirmed the safety number out of band. */
  verified: boolean;
  path: SessionPath;
  /** What the session is doing meanwhile when path is 'none'. */
  activity: SessionActivity;
  unread: number;
  lastMessageAt: number | null;
  /** 'waiting': we asked them to connect and they have not accepted yet (no chat, no presence until then). */
  status: 'accepted' | 'waiting';
}

/** Someone who asked to connect with us (they hold our invite); we accept, decline or block. */
export interface ContactRequestView {
  id: IdentityId;
  name: string;
  relays: string[];
  receivedAt: number;
}

/** An outgoing message's progress: 'delivered' = stored by the contact, 'read' = shown to them on screen. */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface ChatMessage {
  /** Globally unique id (random, chosen by the author). */
  id: string;
  contactId: IdentityId;
  direction: 'out' | 'in';
  text: string;
  /** Author's clock, ms since epoch. */
  sentAt: number;
  /** Our clock when it was received (incoming) or created (outgoing). */
  at: number;
  status: MessageStatus;
  /** Position in this conversation's stable order. */
  seq: number;
  read: boolean;
}

export interface MessengerEventMap {
  relay: { state: RelayState; url: string | null; error?: string };
  contact: Contact;
  message: ChatMessage;
  path: { contactId: IdentityId; path: SessionPath };
  error: { contactId?: IdentityId; message: string };
  /** The incoming contact requests, whenever they change. */
  requests: ContactRequestView[];
}

export type Unsubscribe = () => void;
