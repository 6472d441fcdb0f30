// Chat over the session streams: messages out (persisted first, then written to the stream),
// messages in (persisted, then acknowledged: an ack means "stored", so 'delivered' is durable),
// and the outbox: every unacknowledged message is written again after a restart of either side;
// the receiver drops ids it has already stored, so each message is shown exactly once.
// Backpressure (issue 12.8): a message the receiver refuses (a per-contact limit) is answered with
// { t: 'retry', ids, afterMs }; the sender keeps it in the outbox and writes it again, with everything
// after it, once afterMs has passed, on the same session. The receiver stores nothing of that contact
// past a refused message until it comes back, so order holds.
import type { ChatMessage } from '../api.js';
import type { Logger } from '../platform/types.js';
import type { Session } from '../session/session.js';
import { StreamKind } from '../session/stream.js';
import { randomId } from '../util/ids.js';
import {
  MAX_RETRY_AFTER_MS,
  MAX_TEXT_CHARS,
  boundSentAt,
  decodeChatFrame,
  encodeChatFrame,
  type ChatFrame,
} from './protocol.js';
import { isChatQuotaError, type ChatStore } from './store.js';

/** What chat needs of a contact's session: its stream, its path, and a way to ask it to connect. */
export type ChatSession = Pick<Session, 'stream' | 'path' | 'on' | 'ensure'>;

export class ChatService {
  readonly #store: ChatStore;
  readonly #emit: (message: ChatMessage) => void;
  readonly #log: Logger;
  readonly #sessions = new Map<string, { session: ChatSession; offs: Array<() => void> }>();
  readonly #ackBatch = new Map<string, string[]>();
  readonly #retryBatch = new Map<string, { ids: string[]; afterMs: number }>();
  /** Per contact: messages the contact refused, written again when the timer fires. */
  readonly #retries = new Map<string, { timer: ReturnType<typeof setTimeout>; due: number; ids: Set<string> }>();

  constructor(store: ChatStore, emit: (message: ChatMessage) => void, log: Logger) {
    this.#store = store;
    this.#emit = emit;
    this.#log = log;
  }

  /** Binds a contact's session: handles its chat frames and writes the outbox to it. */
  attach(contactId: string, session: ChatSession): void {
    if (this.#sessions.has(contactId)) return;
    const offs = [
      session.stream.onFrame(StreamKind.Chat, (payload) => this.#onFrame(contactId, payload)),
      // The peer lost its state: anything it may not have stored goes again (it dedupes by id).
      session.stream.on('peer-restart', () => void this.#writePending(contactId, session)),
      session.on('path', (path) => {
        if (path !== 'none') void this.#markQueuedSent(contactId);
      }),
    ];
    this.#sessions.set(contactId, { session, offs });
    void this.#writePending(contactId, session);
  }

  detach(contactId: string): void {
    const entry = this.#sessions.get(contactId);
    if (!entry) return;
    for (const off of entry.offs) off();
    this.#sessions.delete(contactId);
    this.#cancelRetry(contactId);
  }

  /** Stops the retry timers (the outbox keeps what they would have written). */
  close(): void {
    for (const contactId of [...this.#retries.keys()]) this.#cancelRetry(contactId);
  }

  #cancelRetry(contactId: string): void {
    const retry = this.#retries.get(contactId);
    if (retry) clearTimeout(retry.timer);
    this.#retries.delete(contactId);
  }

  async send(contactId: string, text: string): Promise<ChatMessage> {
    if (typeof text !== 'string' || text.length === 0) throw new Error('message text is empty');
    if (text.length > MAX_TEXT_CHARS) throw new Error(`message text is longer than ${MAX_TEXT_CHARS} characters`);
    const session = this.#sessions.get(contactId)?.session ?? null;
    const status = session && session.path !== 'none' ? 'sent' : 'queued';
    const message = await this.#store.addOutgoing(contactId, { id: randomId(16), text, sentAt: Date.now() }, status);
    this.#emit(message);
    const retry = this.#retries.get(contactId);
    // While the contact asked us to wait, new messages wait too (they go after the refused ones).
    if (retry) retry.ids.add(message.id);
    else if (session) this.#write(session, { t: 'msg', id: message.id, text: message.text, sentAt: message.sentAt });
    return message;
  }

  async #writePending(contactId: string, session: ChatSession): Promise<void> {
    const pending = await this.#store.pending(contactId);
    if (this.#sessions.get(contactId)?.session !== session) return;
    for (const m of pending) this.#write(session, { t: 'msg', id: m.id, text: m.text, sentAt: m.sentAt });
  }

  async #markQueuedSent(contactId: string): Promise<void> {
    for (const m of await this.#store.pending(contactId)) {
      if (m.status !== 'queued') continue;
      const updated = await this.#store.setStatus(contactId, m.id, 'sent');
      if (updated) this.#emit(updated);
    }
  }

  #write(session: ChatSession, frame: ChatFrame): void {
    // Not awaited: a full window (contact offline for long) must not block the caller; the stream keeps order.
    session.stream.send(StreamKind.Chat, encodeChatFrame(frame)).catch((error: unknown) => {
      this.#log.debug({ err: String(error) }, 'chat frame not written (session closed); the outbox keeps it');
    });
    session.ensure();
  }

  #onFrame(contactId: string, payload: Uint8Array): void {
    const frame = decodeChatFrame(payload);
    if (!frame) {
      this.#log.warn({ contact: contactId }, 'malformed chat frame dropped');
      return;
    }
    if (frame.t === 'msg') {
      const now = Date.now();
      const message = { id: frame.id, text: frame.text, sentAt: boundSentAt(frame.sentAt, now) };
      void this.#store.addIncoming(contactId, message, now).then(
        (stored) => {
          if (stored) this.#emit(stored);
          this.#queueAck(contactId, frame.id);
        },
        (error: unknown) => {
          if (isChatQuotaError(error)) {
            // A flood past the contact's limits is expected input, not a fault: quiet, and the sender is told when to retry.
            this.#log.debug({ contact: contactId, err: error.message }, 'incoming message refused by a limit');
            this.#queueRetry(contactId, frame.id, error.retryAfterMs);
          } else {
            this.#log.error(
              { contact: contactId, err: String(error) },
              'could not store an incoming message; not acknowledged',
            );
          }
        },
      );
      return;
    }
    if (frame.t === 'retry') {
      this.#onRetry(contactId, frame.ids, frame.afterMs);
      return;
    }
    const status = frame.t === 'read' ? 'read' : 'delivered';
    for (const id of frame.ids) {
      void this.#store.setStatus(contactId, id, status).then(
        (updated) => updated && this.#emit(updated),
        (error: unknown) => this.#log.error({ err: String(error) }, 'could not record a delivery'),
      );
    }
  }

  /** Marks the conversation read and tells the contact which of its messages were seen (read receipts). */
  async markRead(contactId: string): Promise<void> {
    const ids = await this.#store.markRead(contactId);
    const session = this.#sessions.get(contactId)?.session;
    if (!session || ids.length === 0) return;
    for (let i = 0; i < ids.length; i += 512) this.#write(session, { t: 'read', ids: ids.slice(i, i + 512) });
  }

  /** The contact refused these messages of ours: write them (and everything after them) again after afterMs. */
  #onRetry(contactId: string, ids: string[], afterMs: number): void {
    if (!this.#sessions.has(contactId)) return;
    const due = Date.now() + Math.min(afterMs, MAX_RETRY_AFTER_MS);
    let retry = this.#retries.get(contactId);
    if (!retry) {
      retry = { timer: setTimeout(() => void this.#retryNow(contactId), due - Date.now()), due, ids: new Set() };
      this.#retries.set(contactId, retry);
    } else if (due > retry.due) {
      clearTimeout(retry.timer);
      retry.due = due;
      retry.timer = setTimeout(() => void this.#retryNow(contactId), due - Date.now());
    }
    // Only the earliest refused one matters (everything after it goes again): a bounded set is enough.
    for (const id of ids) if (retry.ids.size < 4096) retry.ids.add(id);
  }

  async #retryNow(contactId: string): Promise<void> {
    const retry = this.#retries.get(contactId);
    this.#retries.delete(contactId);
    const session = this.#sessions.get(contactId)?.session;
    if (!retry || !session) return;
    const pending = await this.#store.pending(contactId);
    if (this.#sessions.get(contactId)?.session !== session) return;
    const from = pending.findIndex((m) => retry.ids.has(m.id));
    if (from < 0) return;
    for (const m of pending.slice(from)) this.#write(session, { t: 'msg', id: m.id, text: m.text, sentAt: m.sentAt });
  }

  /** Refusals of one burst go in one frame, with the longest delay asked. */
  #queueRetry(contactId: string, id: string, afterMs: number): void {
    let batch = this.#retryBatch.get(contactId);
    if (!batch) {
      batch = { ids: [], afterMs };
      this.#retryBatch.set(contactId, batch);
      setTimeout(() => {
        const b = this.#retryBatch.get(contactId);
        this.#retryBatch.delete(contactId);
        const session = this.#sessions.get(contactId)?.session;
        if (!b || !session) return;
        for (let i = 0; i < b.ids.length; i += 512)
          this.#write(session, { t: 'retry', ids: b.ids.slice(i, i + 512), afterMs: b.afterMs });
      }, 0);
    }
    batch.afterMs = Math.max(batch.afterMs, afterMs);
    // A hostile flood is refused by the thousand: the sender needs the first ids, not every one.
    if (batch.ids.length < 2048) batch.ids.push(id);
  }

  /**
   * Acks of one burst go in one frame. It goes on the contact's session of the moment it is written, not the one
   * the messages came on: when the contact's stream was replaced in between (a restart), the old one is closed,
   * and an ack written there would be lost while the sender, already resending, waits for it.
   */
  #queueAck(contactId: string, id: string): void {
    let batch = this.#ackBatch.get(contactId);
    if (!batch) {
      batch = [];
      this.#ackBatch.set(contactId, batch);
      setTimeout(() => {
        const ids = this.#ackBatch.get(contactId) ?? [];
        this.#ackBatch.delete(contactId);
        // Detached meanwhile: the sender writes its outbox again when we are back, and we ack that copy.
        const session = this.#sessions.get(contactId)?.session;
        if (!session) return;
        for (let i = 0; i < ids.length; i += 512) this.#write(session, { t: 'ack', ids: ids.slice(i, i + 512) });
      }, 0);
    }
    batch.push(id);
  }
}
