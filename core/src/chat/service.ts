// Chat over the session streams: messages out (persisted first, then written to the stream),
// messages in (persisted, then acknowledged: an ack means "stored", so 'delivered' is durable),
// and the outbox: every unacknowledged message is written again after a restart of either side;
// the receiver drops ids it has already stored, so each message is shown exactly once.
import type { ChatMessage } from '../api.js';
import type { Logger } from '../platform/types.js';
import type { Session } from '../session/session.js';
import { StreamKind } from '../session/stream.js';
import { randomId } from '../util/ids.js';
import { MAX_TEXT_CHARS, boundSentAt, decodeChatFrame, encodeChatFrame, type ChatFrame } from './protocol.js';
import { isChatQuotaError, type ChatStore } from './store.js';

/** What chat needs of a contact's session: its stream, its path, and a way to ask it to connect. */
export type ChatSession = Pick<Session, 'stream' | 'path' | 'on' | 'ensure'>;

export class ChatService {
  readonly #store: ChatStore;
  readonly #emit: (message: ChatMessage) => void;
  readonly #log: Logger;
  readonly #sessions = new Map<string, { session: ChatSession; offs: Array<() => void> }>();
  readonly #ackBatch = new Map<string, string[]>();

  constructor(store: ChatStore, emit: (message: ChatMessage) => void, log: Logger) {
    this.#store = store;
    this.#emit = emit;
    this.#log = log;
  }

  /** Binds a contact's session: handles its chat frames and writes the outbox to it. */
  attach(contactId: string, session: ChatSession): void {
    if (this.#sessions.has(contactId)) return;
    const offs = [
      session.stream.onFrame(StreamKind.Chat, (payload) => this.#onFrame(contactId, session, payload)),
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
  }

  async send(contactId: string, text: string): Promise<ChatMessage> {
    if (typeof text !== 'string' || text.length === 0) throw new Error('message text is empty');
    if (text.length > MAX_TEXT_CHARS) throw new Error(`message text is longer than ${MAX_TEXT_CHARS} characters`);
    const session = this.#sessions.get(contactId)?.session ?? null;
    const status = session && session.path !== 'none' ? 'sent' : 'queued';
    const message = await this.#store.addOutgoing(contactId, { id: randomId(16), text, sentAt: Date.now() }, status);
    this.#emit(message);
    if (session) this.#write(session, { t: 'msg', id: message.id, text: message.text, sentAt: message.sentAt });
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

  #onFrame(contactId: string, session: ChatSession, payload: Uint8Array): void {
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
          this.#queueAck(contactId, session, frame.id);
        },
        (error: unknown) =>
          // A flood past the contact's limits is expected input, not a fault: quiet, and unacknowledged.
          isChatQuotaError(error)
            ? this.#log.debug(
                { contact: contactId, err: error.message },
                'incoming message refused by a limit; not acknowledged',
              )
            : this.#log.error(
                { contact: contactId, err: String(error) },
                'could not store an incoming message; not acknowledged',
              ),
      );
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

  /** Acks of one burst go in one frame. */
  #queueAck(contactId: string, session: ChatSession, id: string): void {
    let batch = this.#ackBatch.get(contactId);
    if (!batch) {
      batch = [];
      this.#ackBatch.set(contactId, batch);
      setTimeout(() => {
        const ids = this.#ackBatch.get(contactId) ?? [];
        this.#ackBatch.delete(contactId);
        for (let i = 0; i < ids.length; i += 512) this.#write(session, { t: 'ack', ids: ids.slice(i, i + 512) });
      }, 0);
    }
    batch.push(id);
  }
}
