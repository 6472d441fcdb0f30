// Contact requests (issue 14.5) and watch grants (issue 12.4).
//
// Adding someone by their invite stores them as 'waiting' and leaves a signed contact request in their relay
// mailbox (store-and-forward: the relay's answer is the same whether they are online or not). The request
// carries our watch grant for them. They accept (we get their grant in a signed accept), decline or block;
// decline and block are silent, so a stranger learns nothing. Two people who add each other accept each
// other's request automatically. Grants expire and are re-issued to accepted contacts while they last.
import { z } from 'zod';
import {
  PublicIdentityKeySchema,
  WatchGrantSchema,
  fromBase64url,
  identityIdOf,
  toBase64url,
  verifySignature,
  watchGrantStatement,
  type Bytes,
  type PublicIdentityKey,
  type WatchGrant,
} from '../../../signaling/protocol/index.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import { signIdentity } from '../identity/keys.js';
import { checkDisplayName, checkRelayList, MAX_RELAYS } from '../identity/profile.js';
import type { KeyValueStore, Logger } from '../platform/types.js';
import { silentLogger } from '../platform/types.js';
import { SerialQueue } from '../util/serial.js';
import type { ContactStore, StoredContact } from './store.js';

/** Version of the contact mail format; a newer one is refused with a clear log line, never half-read. */
export const CONTACT_MAIL_VERSION = 1;
/** Lifetime of the watch grants we issue, and how old one may get before we issue a fresh one. */
export const GRANT_LIFETIME_MS = 14 * 24 * 3600_000;
export const GRANT_REFRESH_AFTER_MS = 3 * 24 * 3600_000;
/** A waiting request is sent again after this (relay mail can be lost when a relay restarts). */
export const REQUEST_RESEND_AFTER_MS = 24 * 3600_000;
/** Incoming requests kept at once; more are dropped until the user handles some (a flood cannot evict). */
export const MAX_PENDING_REQUESTS = 50;
/** A declined sender is not shown again for this long. */
export const DECLINE_QUIET_MS = 7 * 24 * 3600_000;
const MAX_DECLINED_REMEMBERED = 500;
/** Mail older than this (sender's clock) or further in the future than the skew is refused. */
const MAX_MAIL_AGE_MS = 15 * 24 * 3600_000;
const MAX_CLOCK_SKEW_MS = 10 * 60_000;

export type ContactMailKind = 'contact-request' | 'contact-accept' | 'watch-grant';

const ContactMailSchema = z.object({
  app: z.literal('parley-contact'),
  v: z.number().int().positive(),
  kind: z.enum(['contact-request', 'contact-accept', 'watch-grant']),
  key: PublicIdentityKeySchema,
  to: z.string().length(43),
  name: z.string().max(256),
  relays: z.array(z.string().max(512)).max(MAX_RELAYS),
  sentAt: z.number().int().nonnegative(),
  grant: WatchGrantSchema,
  sig: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .max(200),
});
export type ContactMail = z.infer<typeof ContactMailSchema>;

/** An incoming request waiting for the user. */
export interface ContactRequest {
  id: string;
  key: PublicIdentityKey;
  name: string;
  relays: string[];
  /** Our clock when it arrived. */
  receivedAt: number;
  /** The watch grant they gave us, kept for when we accept. */
  grant: WatchGrant;
}

const StoredRequestSchema = z.object({
  id: z.string().length(43),
  key: PublicIdentityKeySchema,
  name: z.string().max(256),
  relays: z.array(z.string().max(512)).max(MAX_RELAYS),
  receivedAt: z.number().int().nonnegative(),
  grant: WatchGrantSchema,
});

const REQUEST_PREFIX = 'contact-request/';
const BLOCKED_PREFIX = 'contact-blocked/';
const DECLINED_PREFIX = 'contact-declined/';

export interface ContactRequestsDeps {
  identity: IdentityKeyPair & { name: string };
  /** Our relay URLs (go into requests so they can reach us). */
  relays: () => readonly string[];
  contacts: ContactStore;
  store: KeyValueStore;
  /** Leaves mail for `to` on one of `relays` (theirs). */
  sendMail: (to: string, relays: readonly string[], body: Record<string, unknown>) => Promise<void>;
  /** Watch a contact's presence with the grant they gave us. */
  watch: (contact: StoredContact) => void;
  /** A contact record changed (accepted, waiting, grant). */
  onContact: (id: string) => void;
  /** The set of incoming requests changed. */
  onRequests: () => void;
  logger?: Logger;
  now?: () => number;
}

function mailStatement(m: Omit<ContactMail, 'sig'>): Bytes {
  const g = m.grant;
  return new TextEncoder().encode(
    JSON.stringify([
      'parley-contact-mail/v1',
      m.v,
      m.kind,
      m.key.alg,
      m.key.pub,
      m.to,
      m.name,
      m.relays,
      m.sentAt,
      g.of,
      g.to,
      g.exp,
      g.sig,
    ]),
  );
}

/** Issues a watch grant: `watcher` may see `identity`'s presence until exp. */
export async function issueWatchGrant(identity: IdentityKeyPair, watcher: string, exp: number): Promise<WatchGrant> {
  const sig = await signIdentity(identity, watchGrantStatement(identity.id, watcher, exp));
  return {
    of: identity.id,
    key: { alg: identity.publicKey.alg, pub: identity.publicKey.pub },
    to: watcher,
    exp,
    sig: toBase64url(sig),
  };
}

/** Checks a grant the way the relay will: signed by its `of`, naming `watcher`, not expired. */
export async function verifyWatchGrant(grant: WatchGrant, of: string, watcher: string, now: number): Promise<boolean> {
  if (grant.of !== of || grant.to !== watcher || grant.exp <= now) return false;
  try {
    if ((await identityIdOf(grant.key)) !== of) return false;
    return await verifySignature(
      grant.key,
      fromBase64url(grant.sig),
      watchGrantStatement(grant.of, grant.to, grant.exp),
    );
  } catch {
    return false;
  }
}

export type MailOutcome =
  | { handled: 'request'; id: string }
  | { handled: 'accepted'; id: string }
  | { handled: 'grant'; id: string }
  | { handled: 'ignored'; reason: string };

export class ContactRequests {
  readonly #d: ContactRequestsDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #requests = new Map<string, ContactRequest>();
  readonly #blocked = new Set<string>();
  /** id → when declined (persisted, so a CLI that declines and exits remembers too). */
  readonly #declined = new Map<string, number>();
  readonly #queue = new SerialQueue();

  private constructor(deps: ContactRequestsDeps) {
    this.#d = deps;
    this.#log = deps.logger ?? silentLogger;
    this.#now = deps.now ?? Date.now;
  }

  static async open(deps: ContactRequestsDeps): Promise<ContactRequests> {
    const r = new ContactRequests(deps);
    for (const key of await deps.store.keys(REQUEST_PREFIX)) {
      const parsed = StoredRequestSchema.safeParse(await deps.store.get(key));
      if (parsed.success && key === REQUEST_PREFIX + parsed.data.id) r.#requests.set(parsed.data.id, parsed.data);
    }
    for (const key of await deps.store.keys(BLOCKED_PREFIX)) r.#blocked.add(key.slice(BLOCKED_PREFIX.length));
    const now = r.#now();
    for (const key of await deps.store.keys(DECLINED_PREFIX)) {
      const at = ((await deps.store.get<{ at?: unknown }>(key)) ?? {}).at;
      if (typeof at === 'number' && now - at < DECLINE_QUIET_MS && r.#declined.size < MAX_DECLINED_REMEMBERED)
        r.#declined.set(key.slice(DECLINED_PREFIX.length), at);
      else await deps.store.delete(key);
    }
    return r;
  }

  list(): ContactRequest[] {
    return [...this.#requests.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  }

  get(id: string): ContactRequest | undefined {
    return this.#requests.get(id);
  }

  isBlocked(id: string): boolean {
    return this.#blocked.has(id);
  }

  /** Adds someone from their invite: accepts their pending request, or sends ours and waits. */
  add(invite: { id: string; key: PublicIdentityKey; name: string; relays: string[] }): Promise<StoredContact> {
    return this.#queue.run(async () => {
      if (this.#blocked.has(invite.id)) await this.#unblock(invite.id);
      const pending = this.#requests.get(invite.id);
      if (pending && pending.key.pub === invite.key.pub) return this.#accept(pending, invite.name);
      const existing = this.#d.contacts.get(invite.id);
      if (existing && existing.status !== 'waiting' && existing.key.pub === invite.key.pub) {
        // Already a contact: refresh name and relays only.
        return this.#d.contacts.add(invite);
      }
      const contact = await this.#d.contacts.add(invite, this.#now(), { status: 'waiting' });
      return this.#sendRequest(contact);
    });
  }

  accept(id: string): Promise<StoredContact> {
    return this.#queue.run(async () => {
      const request = this.#requests.get(id);
      if (!request) throw new Error('There is no contact request from this person.');
      return this.#accept(request, request.name);
    });
  }

  decline(id: string): Promise<void> {
    return this.#queue.run(async () => {
      await this.#dropRequest(id);
      const at = this.#now();
      this.#declined.set(id, at);
      await this.#d.store.set(DECLINED_PREFIX + id, { at });
      if (this.#declined.size > MAX_DECLINED_REMEMBERED) {
        const oldest = this.#declined.keys().next().value!;
        this.#declined.delete(oldest);
        await this.#d.store.delete(DECLINED_PREFIX + oldest);
      }
    });
  }

  /** Declines and never shows this identity's requests again (until the user adds them). */
  block(id: string): Promise<void> {
    return this.#queue.run(async () => {
      await this.#dropRequest(id);
      this.#blocked.add(id);
      await this.#d.store.set(BLOCKED_PREFIX + id, { at: this.#now() });
    });
  }

  /**
   * Housekeeping after we connect to a relay: re-send requests still waiting, re-issue grants that are
   * getting old (and to contacts from before grants existed).
   */
  refresh(): Promise<void> {
    return this.#queue.run(async () => {
      const now = this.#now();
      for (const c of this.#d.contacts.list()) {
        try {
          if (c.status === 'waiting') {
            if (c.requestSentAt === undefined || now - c.requestSentAt >= REQUEST_RESEND_AFTER_MS)
              await this.#sendRequest(c);
          } else if (c.grantIssuedAt === undefined) {
            // Accepted but they never got our answer (sent while offline, or a contact from before requests).
            await this.#sendMail(c, 'contact-accept');
          } else if (now - c.grantIssuedAt >= GRANT_REFRESH_AFTER_MS) {
            await this.#sendMail(c, 'watch-grant');
          }
        } catch (error) {
          this.#log.debug({ err: String(error) }, 'contact mail not sent; will retry at the next connect');
        }
      }
    });
  }

  /** One mail from the relay (`from` is what the relay authenticated). Never throws. */
  handleMail(from: string, body: Record<string, unknown>): Promise<MailOutcome> {
    return this.#queue.run(async () => {
      try {
        return await this.#handle(from, body);
      } catch (error) {
        this.#log.warn({ err: String(error) }, 'contact mail could not be handled');
        return { handled: 'ignored', reason: 'error' };
      }
    });
  }

  async #handle(from: string, body: Record<string, unknown>): Promise<MailOutcome> {
    if (body.app !== 'parley-contact') return { handled: 'ignored', reason: 'not contact mail' };
    if (typeof body.v === 'number' && body.v > CONTACT_MAIL_VERSION) {
      this.#log.warn(
        { v: body.v },
        'contact mail from a newer Parley (version not understood); update Parley to read it',
      );
      return { handled: 'ignored', reason: 'newer version' };
    }
    const parsed = ContactMailSchema.safeParse(body);
    if (!parsed.success) return { handled: 'ignored', reason: 'malformed' };
    const mail = parsed.data;
    const me = this.#d.identity.id;
    const now = this.#now();
    if (mail.to !== me) return { handled: 'ignored', reason: 'addressed to someone else' };
    if ((await identityIdOf(mail.key).catch(() => null)) !== from)
      return { handled: 'ignored', reason: 'key is not the sender' };
    if (mail.sentAt > now + MAX_CLOCK_SKEW_MS || mail.sentAt < now - MAX_MAIL_AGE_MS)
      return { handled: 'ignored', reason: 'stale' };
    const { sig, ...signed } = mail;
    const sigOk = await verifySignature(mail.key, fromBase64url(sig), mailStatement(signed)).catch(() => false);
    if (!sigOk) return { handled: 'ignored', reason: 'bad signature' };
    if (!(await verifyWatchGrant(mail.grant, from, me, now))) return { handled: 'ignored', reason: 'bad grant' };
    if (this.#blocked.has(from)) return { handled: 'ignored', reason: 'blocked' };
    const name = checkDisplayName(mail.name);
    const relays = checkRelayList(mail.relays);
    const profile = { id: from, key: mail.key, name: name.ok ? name.value : '', relays: relays.ok ? relays.value : [] };
    const contact = this.#d.contacts.get(from);
    const sameKey = contact !== undefined && contact.key.pub === mail.key.pub;

    if (mail.kind === 'watch-grant') {
      if (!sameKey || contact.status === 'waiting') return { handled: 'ignored', reason: 'not a contact' };
      await this.#d.contacts.update(from, { grant: mail.grant });
      this.#d.watch(this.#d.contacts.get(from)!);
      this.#d.onContact(from);
      return { handled: 'grant', id: from };
    }
    if (mail.kind === 'contact-accept') {
      if (!sameKey) return { handled: 'ignored', reason: 'we never asked' };
      // Our request already carried our grant; their accept carries theirs.
      const updated = await this.#d.contacts.update(from, { status: 'accepted', grant: mail.grant });
      this.#d.watch(updated);
      this.#d.onContact(from);
      return { handled: 'accepted', id: from };
    }
    // contact-request
    if (sameKey) {
      // We asked them too (mutual invites), or they are a contact who lost their data: accept without a prompt.
      const wasWaiting = contact.status === 'waiting';
      const updated = await this.#d.contacts.update(from, { status: 'accepted', grant: mail.grant });
      // A contact repeating requests gets at most one answer a minute (our mail budget is not theirs to spend).
      const answeredLately = !wasWaiting && contact.grantIssuedAt !== undefined && now - contact.grantIssuedAt < 60_000;
      const answered = answeredLately ? updated : await this.#sendMail(updated, 'contact-accept').catch(() => updated);
      this.#d.watch(answered);
      this.#d.onContact(from);
      return { handled: 'accepted', id: from };
    }
    const declinedAt = this.#declined.get(from);
    if (declinedAt !== undefined && now - declinedAt < DECLINE_QUIET_MS)
      return { handled: 'ignored', reason: 'declined lately' };
    if (!this.#requests.has(from) && this.#requests.size >= MAX_PENDING_REQUESTS)
      return { handled: 'ignored', reason: 'too many pending requests' };
    const request: ContactRequest = {
      ...profile,
      receivedAt: this.#requests.get(from)?.receivedAt ?? now,
      grant: mail.grant,
    };
    await this.#d.store.set(REQUEST_PREFIX + from, request);
    this.#requests.set(from, request);
    this.#d.onRequests();
    return { handled: 'request', id: from };
  }

  async #accept(request: ContactRequest, name: string): Promise<StoredContact> {
    const contact = await this.#d.contacts.add({ ...request, name: name || request.name }, this.#now(), {
      status: 'accepted',
      grant: request.grant,
    });
    await this.#dropRequest(request.id);
    let sent = contact;
    try {
      sent = await this.#sendMail(contact, 'contact-accept');
    } catch (error) {
      // Accepted here either way; the grant goes out with the next refresh.
      this.#log.debug({ err: String(error) }, 'accept not sent yet');
    }
    this.#d.watch(sent);
    this.#d.onContact(contact.id);
    return sent;
  }

  async #sendRequest(contact: StoredContact): Promise<StoredContact> {
    try {
      return await this.#sendMail(contact, 'contact-request');
    } catch (error) {
      this.#log.debug({ err: String(error) }, 'contact request not sent yet; it is sent again at the next connect');
      return contact;
    }
  }

  /** Signs and leaves one contact mail for `contact`, with a fresh grant; records what was sent. */
  async #sendMail(contact: StoredContact, kind: ContactMailKind): Promise<StoredContact> {
    const { identity } = this.#d;
    const now = this.#now();
    const grant = await issueWatchGrant(identity, contact.id, now + GRANT_LIFETIME_MS);
    const unsigned: Omit<ContactMail, 'sig'> = {
      app: 'parley-contact',
      v: CONTACT_MAIL_VERSION,
      kind,
      key: { alg: identity.publicKey.alg, pub: identity.publicKey.pub },
      to: contact.id,
      name: identity.name,
      relays: [...this.#d.relays()],
      sentAt: now,
      grant,
    };
    const sig = toBase64url(await signIdentity(identity, mailStatement(unsigned)));
    await this.#d.sendMail(contact.id, contact.relays, { ...unsigned, sig });
    return this.#d.contacts.update(
      contact.id,
      kind === 'contact-request' ? { grantIssuedAt: now, requestSentAt: now } : { grantIssuedAt: now },
    );
  }

  async #dropRequest(id: string): Promise<void> {
    if (!this.#requests.delete(id)) return;
    await this.#d.store.delete(REQUEST_PREFIX + id);
    this.#d.onRequests();
  }

  async #unblock(id: string): Promise<void> {
    this.#blocked.delete(id);
    await this.#d.store.delete(BLOCKED_PREFIX + id);
  }
}
