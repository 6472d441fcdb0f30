// Call signals (v2) travel in the same signed, sealed envelope as session signals (session/signal-envelope.ts),
// on a channel of their own: { kind: 'call-signal', v: 2, epoch, seq, key, to?, box, body, sig }, body = the
// call signal ({ kind: 'call', op, callId, … }, signals.ts). So the relay reads no SDP and no ICE candidate
// (our addresses), cannot forge or replay a hangup, and a body it alters does not verify.
// One link per contact, for the life of the CallManager (its epoch): its own ephemeral signal key, counter
// and replay window, shared by every call with that contact.
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import { CALL_SIGNAL_KIND, SEALED_CALL_SIGNAL_KIND } from './signals.js';
import { SignalKey } from '../session/signal-box.js';
import { SignalSigner, SignalVerifier, type OpenResult, type SignalChannelSpec } from '../session/signal-envelope.js';

export const CALL_SIGNAL_VERSION = 2;

export const CALL_SIGNALS: SignalChannelSpec = {
  kind: SEALED_CALL_SIGNAL_KIND,
  version: CALL_SIGNAL_VERSION,
  label: 'parley-call-signal/v2',
  noun: 'call signal',
  // v1 sent call signals ({ kind: 'call', … }) straight in the relay signal, in clear.
  legacyKinds: new Set([CALL_SIGNAL_KIND]),
};

/** Contacts with a link; the least recently used one is dropped past this (it starts a new epoch if needed). */
const MAX_LINKS = 256;

/**
 * How a call signal body travels: SDP and candidates (op 'rtc') are always sealed (held until the contact's key
 * is known); a ring is signed in clear (it must reach a contact whose current key we do not know yet, and it
 * carries no address); everything else is sealed once the key is known.
 */
export type Confidentiality = boolean | 'if-known';

interface Link {
  readonly contactKey: PublicIdentityKey;
  readonly signer: SignalSigner;
  readonly verifier: SignalVerifier;
}

export class CallSignalLinks {
  readonly #identity: IdentityKeyPair;
  readonly #deliver: (to: string, envelope: Record<string, unknown>) => Promise<void>;
  readonly #links = new Map<string, Link>();

  constructor(identity: IdentityKeyPair, deliver: (to: string, envelope: Record<string, unknown>) => Promise<void>) {
    this.#identity = identity;
    this.#deliver = deliver;
  }

  /** Signs (and seals, per `confidential`) a call signal body to a contact and hands it to the relay. */
  send(to: string, contactKey: PublicIdentityKey, body: Record<string, unknown>, confidential: Confidentiality) {
    return this.#link(to, contactKey).signer.send(body, confidential);
  }

  /** Verifies and opens an envelope from a contact. Call in arrival order, one at a time. */
  async open(from: string, contactKey: PublicIdentityKey, raw: Record<string, unknown>): Promise<OpenResult> {
    const link = this.#link(from, contactKey);
    const opened = await link.verifier
      .open(raw)
      .catch((error: unknown) => ({ ok: false as const, reason: 'malformed' as const, message: String(error) }));
    if ('key' in opened && opened.key !== undefined) link.signer.learnPeerKey(opened.key);
    if ('needsOurKey' in opened && opened.needsOurKey) void link.signer.sendKey().catch(() => {});
    return opened;
  }

  #link(contactId: string, contactKey: PublicIdentityKey): Link {
    let link = this.#links.get(contactId);
    if (link && !sameKey(link.contactKey, contactKey)) link = undefined;
    if (link) {
      // Most recently used last.
      this.#links.delete(contactId);
      this.#links.set(contactId, link);
      return link;
    }
    const ownKey = SignalKey.generate();
    ownKey.catch(() => {}); // a failure surfaces when a signal is sent or opened
    link = {
      contactKey,
      signer: new SignalSigner(
        this.#identity,
        contactId,
        Date.now(),
        ownKey,
        (envelope) => this.#deliver(contactId, envelope),
        CALL_SIGNALS,
      ),
      verifier: new SignalVerifier(contactId, contactKey, this.#identity.id, ownKey, CALL_SIGNALS),
    };
    this.#links.set(contactId, link);
    if (this.#links.size > MAX_LINKS) this.#links.delete(this.#links.keys().next().value!);
    return link;
  }
}

function sameKey(a: PublicIdentityKey, b: PublicIdentityKey): boolean {
  return a.alg === b.alg && a.pub === b.pub;
}
