// Chat history per contact, persisted through the KeyValueStore:
//   chat/<contact>/meta            { nextSeq, readUpTo, unread, lastMessageAt }
//   chat/<contact>/m/<seq:12>      one message (stable order = local seq, lexicographic keys)
//   chat/<contact>/id/<messageId>  its seq: dedupe of incoming ids and lookup for status updates
//   chat/<contact>/pending/<id>    outgoing messages not yet acknowledged by the contact (the outbox)
// Every mutation runs through one serial queue, so read-modify-write sequences never interleave.
// A conversation is bounded (issue 12.8: a flooding contact filled the disk and made the CLI's store so
// large that `parley listen` could not start): beyond a message count or text size the oldest messages
// are pruned (outbox entries never), and incoming messages are rate-limited per contact with a bounded
// number waiting to be stored. A refused message is not acknowledged and the refusal says when to try
// again (ChatQuotaError.retryAfterMs; the service tells the sender with a 'retry' frame), so an honest
// sender keeps it in its outbox and sends it again then; nothing acknowledged is ever dropped unseen.
// Order holds through refusals: once a message of a contact was refused, later ones of that contact are
// refused too until that one comes back (the gate's head), so nothing overtakes it.
import { z } from 'zod';
import type { ChatMessage, MessageStatus } from '../api.js';
import type { KeyValueStore } from '../platform/types.js';
import { SerialQueue } from '../util/serial.js';

interface Meta {
  nextSeq: number;
  readUpTo: number;
  unread: number;
  lastMessageAt: number | null;
  /** Lowest seq not yet pruned (absent in stores written before pruning: 1). */
  firstSeq?: number;
  /** UTF-16 code units of text stored from firstSeq on (absent: counted from then on). */
  textChars?: number;
}

export interface ChatStoreLimits {
  /** Messages kept per conversation; older ones are pruned (default 10,000). */
  maxMessages: number;
  /** Text kept per conversation, in characters (default 4 Mi, about 4-12 MiB on disk). */
  maxTextChars: number;
  /** Incoming messages stored per contact per minute, sustained (default 600). */
  incomingPerMinute: number;
  /** Incoming messages accepted at once before the rate applies (default 300). */
  incomingBurst: number;
  /** Incoming messages waiting to be stored per contact; more are refused (default 256). */
  maxQueued: number;
}

// A refused message waits in the sender's outbox and comes back after the delay the refusal named, so these
// are per-contact budgets, not a loss: a burst of 300 at once, then 10 a second.
export const DEFAULT_CHAT_LIMITS: ChatStoreLimits = {
  maxMessages: 10_000,
  maxTextChars: 4 * 1024 * 1024,
  incomingPerMinute: 600,
  incomingBurst: 300,
  maxQueued: 256,
};

/** Bounds of the delay a refusal names. */
export const MIN_RETRY_MS = 50;
export const MAX_RETRY_MS = 60_000;
/** A refused message the sender never brings back stops holding the contact's later messages after this. */
const GATE_EXPIRY_MS = 2 * MAX_RETRY_MS;

/** An incoming message refused by a per-contact limit; not acknowledged: the sender keeps it and retries after `retryAfterMs`. */
export class ChatQuotaError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'ChatQuotaError';
  }
}

export function isChatQuotaError(error: unknown): error is ChatQuotaError {
  return error instanceof ChatQuotaError;
}

const MetaSchema = z.object({
  nextSeq: z.number().int().positive(),
  readUpTo: z.number().int().nonnegative(),
  unread: z.number().int().nonnegative(),
  lastMessageAt: z.number().nullable(),
  firstSeq: z.number().int().positive().optional(),
  textChars: z.number().int().nonnegative().optional(),
});

const StoredMessageSchema = z.object({
  id: z.string().min(1).max(64),
  direction: z.enum(['out', 'in']),
  text: z.string(),
  sentAt: z.number(),
  at: z.number(),
  status: z.enum(['queued', 'sent', 'delivered', 'read', 'failed']),
  seq: z.number().int().positive(),
});
type StoredMessage = z.infer<typeof StoredMessageSchema>;

const pad = (seq: number): string => String(seq).padStart(12, '0');

/** One contact's incoming budget: token bucket, queue, and the refused message later ones wait behind. */
interface Bucket {
  tokens: number;
  at: number;
  queued: number;
  /** Arrival counter: a message that arrived before the head is not held behind it. */
  arrivals: number;
  head: { id: string; n: number } | null;
  headAt: number;
}

export class ChatStore {
  readonly #store: KeyValueStore;
  readonly #queue = new SerialQueue();
  readonly #meta = new Map<string, Meta>();
  readonly #limits: ChatStoreLimits;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(store: KeyValueStore, limits: Partial<ChatStoreLimits> = {}, now: () => number = Date.now) {
    this.#store = store;
    this.#limits = { ...DEFAULT_CHAT_LIMITS, ...limits };
    this.#now = now;
  }

  #bucket(contactId: string): Bucket {
    const { incomingPerMinute, incomingBurst } = this.#limits;
    const now = this.#now();
    let b = this.#buckets.get(contactId);
    if (!b) {
      b = { tokens: incomingBurst, at: now, queued: 0, arrivals: 0, head: null, headAt: 0 };
      this.#buckets.set(contactId, b);
    }
    b.tokens = Math.min(incomingBurst, b.tokens + ((now - b.at) * incomingPerMinute) / 60_000);
    b.at = now;
    if (b.head !== null && now - b.headAt > GATE_EXPIRY_MS) b.head = null;
    return b;
  }

  /** Refuses message `id` (arrival `n`); the earliest refused one is the gate's head (later ones wait behind it). */
  #refuse(b: Bucket, id: string, n: number, message: string, afterMs: number): ChatQuotaError {
    if (b.head === null || n < b.head.n) {
      b.head = { id, n };
      b.headAt = this.#now();
    }
    return new ChatQuotaError(message, Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, Math.ceil(afterMs))));
  }

  /** Takes a place in the contact's queue (and an arrival number), or throws ChatQuotaError. Synchronous. */
  #enqueue(contactId: string, id: string): { n: number; release(): void } {
    const b = this.#bucket(contactId);
    const n = b.arrivals++;
    if (b.queued >= this.#limits.maxQueued)
      throw this.#refuse(b, id, n, `too many messages from this contact waiting to be stored (${b.queued})`, 0);
    b.queued++;
    return { n, release: () => void b.queued-- };
  }

  /** Takes one incoming-message token (in order behind a refused message), or throws ChatQuotaError. */
  #admit(contactId: string, id: string, n: number): void {
    const { incomingPerMinute } = this.#limits;
    const b = this.#bucket(contactId);
    const wait = b.tokens >= 1 ? 0 : ((1 - b.tokens) * 60_000) / incomingPerMinute;
    if (b.head !== null && b.head.id !== id && n > b.head.n)
      throw this.#refuse(b, id, n, 'an earlier message of this contact was refused and has not come back yet', wait);
    if (b.tokens < 1)
      throw this.#refuse(b, id, n, `this contact sends more than ${incomingPerMinute} messages a minute`, wait);
    b.tokens -= 1;
    if (b.head?.id === id) b.head = null;
  }

  /**
   * Drops the oldest messages until the conversation fits its limits. Outgoing messages still in the
   * outbox are kept (they are ours and not yet delivered); their seq is passed over.
   */
  async #prune(contactId: string, meta: Meta): Promise<Meta> {
    let first = meta.firstSeq ?? 1;
    let chars = meta.textChars ?? 0;
    let unread = meta.unread;
    const { maxMessages, maxTextChars } = this.#limits;
    while (first < meta.nextSeq && (meta.nextSeq - first > maxMessages || chars > maxTextChars)) {
      const key = `chat/${contactId}/m/${pad(first)}`;
      const parsed = StoredMessageSchema.safeParse(await this.#store.get(key));
      if (parsed.success) {
        const m = parsed.data;
        chars = Math.max(0, chars - m.text.length);
        const inOutbox =
          m.direction === 'out' && (await this.#store.get(`chat/${contactId}/pending/${m.id}`)) !== undefined;
        if (!inOutbox) {
          await this.#store.delete(key);
          await this.#store.delete(`chat/${contactId}/id/${m.id}`);
          if (m.direction === 'in' && m.seq > meta.readUpTo) unread = Math.max(0, unread - 1);
        }
      }
      first++;
    }
    return first === (meta.firstSeq ?? 1) ? meta : { ...meta, firstSeq: first, textChars: chars, unread };
  }

  /** Accounts one stored message and prunes what no longer fits; returns the meta to save. */
  async #grow(contactId: string, meta: Meta, text: string): Promise<Meta> {
    return this.#prune(contactId, { ...meta, textChars: (meta.textChars ?? 0) + text.length });
  }

  async #loadMeta(contactId: string): Promise<Meta> {
    let meta = this.#meta.get(contactId);
    if (meta) return meta;
    const parsed = MetaSchema.safeParse(await this.#store.get(`chat/${contactId}/meta`));
    meta = parsed.success ? parsed.data : await this.#rebuildMeta(contactId);
    this.#meta.set(contactId, meta);
    return meta;
  }

  /** A missing or damaged meta record is rebuilt from the messages, so no seq is ever reused. */
  async #rebuildMeta(contactId: string): Promise<Meta> {
    const keys = await this.#store.keys(`chat/${contactId}/m/`);
    const last = keys.length > 0 ? Number(keys[keys.length - 1]!.slice(-12)) : 0;
    return { nextSeq: last + 1, readUpTo: last, unread: 0, lastMessageAt: null };
  }

  #view(contactId: string, m: StoredMessage, meta: Meta): ChatMessage {
    return { ...m, contactId, read: m.direction === 'out' || m.seq <= meta.readUpTo };
  }

  /** Appends an outgoing message and puts it in the outbox. */
  addOutgoing(
    contactId: string,
    message: { id: string; text: string; sentAt: number },
    status: MessageStatus,
  ): Promise<ChatMessage> {
    return this.#queue.run(async () => {
      const meta = await this.#loadMeta(contactId);
      const stored: StoredMessage = { ...message, direction: 'out', at: message.sentAt, status, seq: meta.nextSeq };
      await this.#store.set(`chat/${contactId}/m/${pad(stored.seq)}`, stored);
      await this.#store.set(`chat/${contactId}/id/${stored.id}`, stored.seq);
      await this.#store.set(`chat/${contactId}/pending/${stored.id}`, stored.seq);
      const next = await this.#grow(
        contactId,
        { ...meta, nextSeq: meta.nextSeq + 1, lastMessageAt: message.sentAt },
        stored.text,
      );
      await this.#store.set(`chat/${contactId}/meta`, next);
      this.#meta.set(contactId, next);
      return this.#view(contactId, stored, next);
    });
  }

  /**
   * Persists an incoming message unless its id was seen before. Returns the stored message, or null
   * for a duplicate (which must still be acknowledged: the first ack may have been lost).
   */
  addIncoming(
    contactId: string,
    message: { id: string; text: string; sentAt: number },
    now = Date.now(),
  ): Promise<ChatMessage | null> {
    let slot: { n: number; release(): void };
    try {
      slot = this.#enqueue(contactId, message.id);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const done = this.#queue.run(async () => {
      // A duplicate is answered (acknowledged) whatever the limits: its first ack may have been lost.
      if ((await this.#store.get(`chat/${contactId}/id/${message.id}`)) !== undefined) return null;
      this.#admit(contactId, message.id, slot.n);
      const meta = await this.#loadMeta(contactId);
      const stored: StoredMessage = { ...message, direction: 'in', at: now, status: 'delivered', seq: meta.nextSeq };
      await this.#store.set(`chat/${contactId}/m/${pad(stored.seq)}`, stored);
      const next = await this.#grow(
        contactId,
        { ...meta, nextSeq: meta.nextSeq + 1, unread: meta.unread + 1, lastMessageAt: now },
        stored.text,
      );
      // The id record goes last: a crash before it leaves a message the sender will resend, and the
      // resend is stored again rather than lost (at worst a visible duplicate, never a missing message).
      await this.#store.set(`chat/${contactId}/meta`, next);
      await this.#store.set(`chat/${contactId}/id/${stored.id}`, stored.seq);
      this.#meta.set(contactId, next);
      return this.#view(contactId, stored, next);
    });
    return done.finally(() => slot.release());
  }

  /**
   * Updates an outgoing message's status; 'delivered' and 'read' also remove it from the outbox, and
   * nothing goes back from them ('read' may overtake its 'delivered'). Null if unknown or unchanged.
   */
  setStatus(contactId: string, id: string, status: MessageStatus): Promise<ChatMessage | null> {
    return this.#queue.run(async () => {
      const seq = await this.#store.get<number>(`chat/${contactId}/id/${id}`);
      if (typeof seq !== 'number') return null;
      const key = `chat/${contactId}/m/${pad(seq)}`;
      const parsed = StoredMessageSchema.safeParse(await this.#store.get(key));
      if (!parsed.success || parsed.data.direction !== 'out') return null;
      const m = parsed.data;
      if (m.status === status || m.status === 'read' || (m.status === 'delivered' && status !== 'read')) return null;
      const next = { ...m, status };
      await this.#store.set(key, next);
      if (status === 'delivered' || status === 'read') await this.#store.delete(`chat/${contactId}/pending/${id}`);
      return this.#view(contactId, next, await this.#loadMeta(contactId));
    });
  }

  /** Outgoing messages not yet acknowledged, in conversation order. */
  pending(contactId: string): Promise<ChatMessage[]> {
    return this.#queue.run(async () => {
      const meta = await this.#loadMeta(contactId);
      const out: ChatMessage[] = [];
      for (const key of await this.#store.keys(`chat/${contactId}/pending/`)) {
        const seq = await this.#store.get<number>(key);
        if (typeof seq !== 'number') continue;
        const parsed = StoredMessageSchema.safeParse(await this.#store.get(`chat/${contactId}/m/${pad(seq)}`));
        if (parsed.success) out.push(this.#view(contactId, parsed.data, meta));
      }
      return out.sort((a, b) => a.seq - b.seq);
    });
  }

  /** Contacts that have anything in the outbox. */
  async contactsWithPending(): Promise<string[]> {
    const ids = new Set<string>();
    for (const key of await this.#store.keys('chat/')) {
      const m = /^chat\/([^/]+)\/pending\//.exec(key);
      if (m) ids.add(m[1]!);
    }
    return [...ids];
  }

  /**
   * Up to `limit` messages before seq `before` (default: the newest), oldest first. Pages from the end by
   * seq, reading only the messages it returns (and pruned gaps), never listing the conversation.
   */
  history(contactId: string, options: { before?: number; limit?: number } = {}): Promise<ChatMessage[]> {
    return this.#queue.run(async () => {
      const meta = await this.#loadMeta(contactId);
      const limit = Math.max(1, Math.min(options.limit ?? 50, 500));
      const first = meta.firstSeq ?? 1;
      const out: ChatMessage[] = [];
      let seq = Math.min(meta.nextSeq, Math.max(0, options.before ?? meta.nextSeq)) - 1;
      for (; seq >= first && out.length < limit; seq--) {
        const parsed = StoredMessageSchema.safeParse(await this.#store.get(`chat/${contactId}/m/${pad(seq)}`));
        if (parsed.success) out.push(this.#view(contactId, parsed.data, meta));
      }
      if (out.length < limit && seq >= 1) {
        // Below the pruned range only outbox messages were kept: few, found by listing.
        const bound = `chat/${contactId}/m/${pad(seq + 1)}`;
        const keys = (await this.#store.keys(`chat/${contactId}/m/`)).filter((k) => k < bound);
        for (const key of keys.slice(-(limit - out.length)).reverse()) {
          const parsed = StoredMessageSchema.safeParse(await this.#store.get(key));
          if (parsed.success) out.push(this.#view(contactId, parsed.data, meta));
        }
      }
      return out.reverse();
    });
  }

  /** Marks everything up to now as read; returns the ids of the incoming messages this newly read (for receipts). */
  markRead(contactId: string): Promise<string[]> {
    return this.#queue.run(async () => {
      const meta = await this.#loadMeta(contactId);
      if (meta.unread === 0 && meta.readUpTo === meta.nextSeq - 1) return [];
      const next = { ...meta, unread: 0, readUpTo: meta.nextSeq - 1 };
      const ids: string[] = [];
      // Newest first, bounded: receipts for a long unread backlog are not worth a full scan.
      for (let seq = next.readUpTo; seq > meta.readUpTo && ids.length < 512; seq--) {
        const parsed = StoredMessageSchema.safeParse(await this.#store.get(`chat/${contactId}/m/${pad(seq)}`));
        if (parsed.success && parsed.data.direction === 'in') ids.push(parsed.data.id);
      }
      await this.#store.set(`chat/${contactId}/meta`, next);
      this.#meta.set(contactId, next);
      return ids;
    });
  }

  async summary(contactId: string): Promise<{ unread: number; lastMessageAt: number | null }> {
    const meta = await this.#queue.run(() => this.#loadMeta(contactId));
    return { unread: meta.unread, lastMessageAt: meta.lastMessageAt };
  }

  /** Deletes a conversation (when the contact is removed). */
  forget(contactId: string): Promise<void> {
    return this.#queue.run(async () => {
      for (const key of await this.#store.keys(`chat/${contactId}/`)) await this.#store.delete(key);
      this.#meta.delete(contactId);
      this.#buckets.delete(contactId);
    });
  }
}
