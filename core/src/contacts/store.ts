// The contact list, persisted through the injected KeyValueStore (one record per contact).
import { z } from 'zod';
import {
  PublicIdentityKeySchema,
  WatchGrantSchema,
  identityIdOf,
  type PublicIdentityKey,
  type WatchGrant,
} from '../../../signaling/protocol/index.js';
import type { Invite } from '../identity/invite.js';
import { safetyNumber } from '../identity/safety-number.js';
import type { KeyValueStore, Logger } from '../platform/types.js';
import { silentLogger } from '../platform/types.js';
import { SerialQueue } from '../util/serial.js';

export interface StoredContact {
  id: string;
  key: PublicIdentityKey;
  name: string;
  relays: string[];
  addedAt: number;
  verified: boolean;
  /**
   * 'waiting': we sent a contact request and they have not accepted yet (no sessions, no presence).
   * Absent on records from before contact requests: those are accepted contacts.
   */
  status?: ContactStatus;
  /** The watch grant they gave us: what lets us see their presence on the relay. */
  grant?: WatchGrant;
  /** When we last gave them a watch grant (we re-issue before it expires). */
  grantIssuedAt?: number;
  /** When we last sent them our contact request (re-sent while waiting). */
  requestSentAt?: number;
}

export type ContactStatus = 'accepted' | 'waiting';

/** Fields that change after a contact is added. */
export type ContactPatch = Partial<
  Pick<StoredContact, 'status' | 'grant' | 'grantIssuedAt' | 'requestSentAt' | 'name' | 'relays'>
>;

const StoredContactSchema = z.object({
  id: z.string().length(43),
  key: PublicIdentityKeySchema,
  name: z.string().max(256),
  relays: z.array(z.string().max(512)).max(8),
  addedAt: z.number().int().nonnegative(),
  verified: z.boolean(),
  status: z.enum(['accepted', 'waiting']).optional(),
  grant: WatchGrantSchema.optional(),
  grantIssuedAt: z.number().int().nonnegative().optional(),
  requestSentAt: z.number().int().nonnegative().optional(),
});

const PREFIX = 'contact/';

export class ContactStore {
  readonly #store: KeyValueStore;
  readonly #log: Logger;
  readonly #contacts = new Map<string, StoredContact>();
  readonly #safety = new Map<string, Promise<string>>();
  readonly #queue = new SerialQueue();

  private constructor(store: KeyValueStore, log: Logger) {
    this.#store = store;
    this.#log = log;
  }

  static async open(store: KeyValueStore, logger: Logger = silentLogger): Promise<ContactStore> {
    const book = new ContactStore(store, logger);
    for (const key of await store.keys(PREFIX)) {
      const parsed = StoredContactSchema.safeParse(await store.get(key));
      // A record we cannot read is kept on disk untouched (never deleted), but not used.
      if (!parsed.success) {
        logger.warn({ key }, 'unreadable contact record skipped');
        continue;
      }
      const c = parsed.data;
      if ((await identityIdOf(c.key).catch(() => null)) !== c.id || key !== PREFIX + c.id) {
        logger.warn({ key }, 'contact record with a mismatched id skipped');
        continue;
      }
      book.#contacts.set(c.id, c);
    }
    return book;
  }

  list(): StoredContact[] {
    return [...this.#contacts.values()].sort((a, b) => a.addedAt - b.addedAt || a.id.localeCompare(b.id));
  }

  get(id: string): StoredContact | undefined {
    return this.#contacts.get(id);
  }

  has(id: string): boolean {
    return this.#contacts.has(id);
  }

  /**
   * Adds (or refreshes name and relays of) the contact an invite names. The key is what the invite
   * says; an existing contact keeps its verified flag only if the key is unchanged.
   */
  add(
    invite: Pick<Invite, 'id' | 'key' | 'name' | 'relays'>,
    now = Date.now(),
    patch: ContactPatch = {},
  ): Promise<StoredContact> {
    return this.#queue.run(async () => {
      const existing = this.#contacts.get(invite.id);
      const sameKey = existing !== undefined && existing.key.pub === invite.key.pub;
      const contact: StoredContact = {
        ...(sameKey ? existing : {}),
        id: invite.id,
        key: { alg: invite.key.alg, pub: invite.key.pub },
        name: invite.name,
        relays: [...invite.relays],
        addedAt: existing?.addedAt ?? now,
        verified: sameKey && existing.verified,
        ...patch,
      };
      await this.#store.set(PREFIX + contact.id, contact);
      this.#contacts.set(contact.id, contact);
      return contact;
    });
  }

  remove(id: string): Promise<boolean> {
    return this.#queue.run(async () => {
      if (!this.#contacts.has(id)) return false;
      await this.#store.delete(PREFIX + id);
      this.#contacts.delete(id);
      this.#safety.delete(id);
      return true;
    });
  }

  update(id: string, patch: ContactPatch): Promise<StoredContact> {
    return this.#queue.run(async () => {
      const c = this.#contacts.get(id);
      if (!c) throw new Error(`unknown contact ${id}`);
      const next = { ...c, ...patch };
      await this.#store.set(PREFIX + id, next);
      this.#contacts.set(id, next);
      return next;
    });
  }

  setVerified(id: string, verified: boolean): Promise<StoredContact> {
    return this.#queue.run(async () => {
      const c = this.#contacts.get(id);
      if (!c) throw new Error(`unknown contact ${id}`);
      const next = { ...c, verified };
      await this.#store.set(PREFIX + id, next);
      this.#contacts.set(id, next);
      return next;
    });
  }

  /** The safety number of our key and the contact's (computed once: it is deliberately slow). */
  safetyNumber(id: string, ownKey: PublicIdentityKey): Promise<string> {
    const c = this.#contacts.get(id);
    if (!c) return Promise.reject(new Error(`unknown contact ${id}`));
    let n = this.#safety.get(id);
    if (!n) {
      n = safetyNumber(ownKey, c.key);
      n.catch(() => this.#safety.delete(id));
      this.#safety.set(id, n);
    }
    return n;
  }

  get logger(): Logger {
    return this.#log;
  }
}
