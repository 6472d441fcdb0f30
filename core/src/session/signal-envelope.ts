// Session signals (v3) travel signed and, where they carry addresses, encrypted end to end:
//   { kind: 'session-signal', v, epoch, seq, key, to?, box, body, sig }
// sig is the sender's identity signature over (sender, receiver, epoch, seq, key, to, box, body).
//  - Signed: a relay can neither forge a signal (e.g. `session {direct:false}` to tear down a working
//    direct connection and pull traffic onto itself) nor replay an old one (an old signed offer): each
//    Session numbers what it sends (seq) within its epoch (its start time, so a restarted peer's signals
//    supersede its old ones), and the receiver accepts only a newer epoch or a higher seq in the current one.
//  - Encrypted (box): `key` is the sender's ephemeral signal key, `to` the receiver's as the sender knows
//    it; bodies that carry SDP or ICE candidates are sealed to `to` (signal-box.ts), so the relay never
//    reads an address. Until a side knows the other's key it holds such signals (only those) and sends a
//    key-only signal; the other side answers any envelope that lacks its key with one of its own.
// One mechanism for every signal between two contacts: sessions and calls each use it as a channel of its
// own (SignalChannelSpec: envelope kind, version and signature label), so an envelope of one channel is
// never valid on the other, and each keeps its own key, epoch and counter.
import { z } from 'zod';
import {
  fromBase64url,
  toBase64url,
  verifySignature,
  type Bytes,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import { encodeFields } from '../crypto/encoding.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import { SignatureSchema } from '../platform/rtc-signal.js';
import { deferred, type Deferred } from '../util/deferred.js';
import { boxKey, openBody, sealBody, type SignalKey } from './signal-box.js';

export const SESSION_SIGNAL_VERSION = 3;
export const SIGNED_SIGNAL_KIND = 'session-signal';
/** The body of a signal that only carries the sender's key (answers "I do not know your key"). */
export const KEY_SIGNAL = { kind: 'key' } as const;
/** The unsigned signal kinds of v1: a contact that still sends them runs an older Parley. */
export const V1_SIGNAL_KINDS: ReadonlySet<string> = new Set(['rtc', 'session', 'relay']);

/** What makes a channel of signed (and sealed) signals distinct from another: sessions, calls. */
export interface SignalChannelSpec {
  /** The relay signal `kind` of its envelopes. */
  readonly kind: string;
  readonly version: number;
  /** Domain label of the signature (and, + ' header', of the sealed body's associated data). */
  readonly label: string;
  /** For messages: 'session signal', 'call signal'. */
  readonly noun: string;
  /** Unsigned kinds of an older version of this channel: a contact sending them gets a version error. */
  readonly legacyKinds: ReadonlySet<string>;
}

export const SESSION_SIGNALS: SignalChannelSpec = {
  kind: SIGNED_SIGNAL_KIND,
  version: SESSION_SIGNAL_VERSION,
  label: 'parley-session-signal/v3',
  noun: 'session signal',
  legacyKinds: V1_SIGNAL_KINDS,
};
const MAX_BODY = 80 * 1024;
/** Signals held while the peer's key is unknown (an attempt's offer and candidates). */
const MAX_HELD = 256;

const KeySchema = z.string().regex(/^[A-Za-z0-9_-]{87}$/, 'a P-256 public key');

export const SignalEnvelopeSchema = z.object({
  kind: z.string().max(32),
  v: z.number().int(),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  key: KeySchema,
  to: KeySchema.optional(),
  box: z.boolean(),
  body: z.string().max(MAX_BODY),
  sig: SignatureSchema,
});
export type SignalEnvelope = z.infer<typeof SignalEnvelopeSchema>;

type Header = Pick<SignalEnvelope, 'epoch' | 'seq' | 'key' | 'to'>;

function header(spec: SignalChannelSpec, senderId: string, receiverId: string, h: Header): Bytes {
  return encodeFields(`${spec.label} header`, [
    senderId,
    receiverId,
    String(h.epoch),
    String(h.seq),
    h.key,
    h.to ?? '',
  ]);
}

function statement(
  spec: SignalChannelSpec,
  senderId: string,
  receiverId: string,
  e: Omit<SignalEnvelope, 'kind' | 'v' | 'sig'>,
): Bytes {
  return encodeFields(spec.label, [
    senderId,
    receiverId,
    String(e.epoch),
    String(e.seq),
    e.key,
    e.to ?? '',
    e.box ? 'box' : 'clear',
    e.body,
  ]);
}

/** Direction keys, derived once per pair of signal keys. */
class BoxKeys {
  readonly #cache = new Map<string, Promise<CryptoKey>>();
  get(
    own: SignalKey,
    peerKey: string,
    senderId: string,
    receiverId: string,
    senderKey: string,
    receiverKey: string,
  ): Promise<CryptoKey> {
    const id = `${senderId}|${senderKey}|${receiverKey}`;
    let key = this.#cache.get(id);
    if (!key) {
      if (this.#cache.size > 8) this.#cache.clear();
      key = boxKey(own, peerKey, senderId, receiverId, senderKey, receiverKey);
      key.catch(() => this.#cache.delete(id));
      this.#cache.set(id, key);
    }
    return key;
  }
}

type Deliver = (envelope: SignalEnvelope) => Promise<void>;

/** Signs, numbers and (for confidential bodies) seals what one Session sends to one contact, in order. */
export class SignalSigner {
  readonly #identity: IdentityKeyPair;
  readonly #receiverId: string;
  readonly #epoch: number;
  readonly #ownKey: Promise<SignalKey>;
  readonly #boxKeys = new BoxKeys();
  readonly #deliver: Deliver;
  readonly #spec: SignalChannelSpec;
  #peerKey: string | null = null;
  #seq = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #held: Array<{ data: Record<string, unknown>; confidential: boolean; result: Deferred<void> }> = [];

  constructor(
    identity: IdentityKeyPair,
    receiverId: string,
    epoch: number,
    ownKey: Promise<SignalKey>,
    deliver: Deliver,
    spec: SignalChannelSpec = SESSION_SIGNALS,
  ) {
    this.#identity = identity;
    this.#receiverId = receiverId;
    this.#epoch = epoch;
    this.#ownKey = ownKey;
    this.#deliver = deliver;
    this.#spec = spec;
  }

  /** The contact's current signal key, as learned from a verified envelope: held signals go now. */
  learnPeerKey(key: string): void {
    if (key === this.#peerKey) return;
    this.#peerKey = key;
    for (const held of this.#held.splice(0)) {
      this.#dispatch(held.data, held.confidential).then(held.result.resolve, held.result.reject);
    }
  }

  /** Sends our key alone (the contact showed it does not know it). */
  sendKey(): Promise<void> {
    return this.#dispatch({ ...KEY_SIGNAL }, false);
  }

  /**
   * Signs `data` (sealing it when `confidential`) and hands it to deliver() once every earlier signal was
   * handed over; returns what deliver() returns. A confidential signal waits for the contact's key, in
   * order with the other confidential ones, and asks for the key (again every 16 held signals, in case an
   * answer was lost). Clear signals never wait: a relay open must not hang on a key exchange.
   * 'if-known': sealed when the contact's key is known, else signed in clear without waiting.
   */
  send(data: Record<string, unknown>, confidential: boolean | 'if-known'): Promise<void> {
    if (confidential === 'if-known') return this.#dispatch(data, this.#peerKey !== null && this.#held.length === 0);
    if (confidential && (this.#held.length > 0 || this.#peerKey === null)) {
      if (this.#held.length >= MAX_HELD)
        return Promise.reject(new Error("too many signals wait for the contact's key"));
      const result = deferred<void>();
      this.#held.push({ data, confidential, result });
      if (this.#held.length % 16 === 1) void this.sendKey().catch(() => {});
      return result.promise;
    }
    return this.#dispatch(data, confidential);
  }

  #dispatch(data: Record<string, unknown>, confidential: boolean): Promise<void> {
    const seq = this.#seq++;
    const peerKey = this.#peerKey;
    const handed = this.#chain.then(async () => {
      const own = await this.#ownKey;
      const h: Header = { epoch: this.#epoch, seq, key: own.publicKey, ...(peerKey ? { to: peerKey } : {}) };
      let body = JSON.stringify(data);
      const box = confidential && peerKey !== null;
      if (box) {
        const key = await this.#boxKeys.get(own, peerKey, this.#identity.id, this.#receiverId, own.publicKey, peerKey);
        body = await sealBody(key, seq, header(this.#spec, this.#identity.id, this.#receiverId, h), body);
      }
      const unsigned = { ...h, box, body };
      const sig = toBase64url(
        await signIdentity(this.#identity, statement(this.#spec, this.#identity.id, this.#receiverId, unsigned)),
      );
      // Wrapped, so the chain waits for the hand-over, not for the relay's confirmation.
      return { delivered: this.#deliver({ kind: this.#spec.kind, v: this.#spec.version, ...unsigned, sig }) };
    });
    this.#chain = handed.catch(() => {});
    return handed.then(({ delivered }) => delivered);
  }
}

export type OpenResult =
  | {
      ok: true;
      data: Record<string, unknown>;
      /** The sender's signal key. */
      key: string;
      /** The sender does not know our current key: answer with ours. */
      needsOurKey: boolean;
    }
  | {
      ok: false;
      reason: 'version' | 'malformed' | 'signature' | 'replay' | 'sealed';
      message: string;
      key?: string;
      needsOurKey?: boolean;
    };

/** Checks (and opens) what one contact sends to one Session. Call open() in arrival order, one at a time. */
export class SignalVerifier {
  readonly #senderId: string;
  readonly #senderKey: PublicIdentityKey;
  readonly #receiverId: string;
  readonly #ownKey: Promise<SignalKey>;
  readonly #boxKeys = new BoxKeys();
  readonly #spec: SignalChannelSpec;
  #epoch = -1;
  #seq = -1;

  constructor(
    senderId: string,
    senderKey: PublicIdentityKey,
    receiverId: string,
    ownKey: Promise<SignalKey>,
    spec: SignalChannelSpec = SESSION_SIGNALS,
  ) {
    this.#senderId = senderId;
    this.#senderKey = senderKey;
    this.#receiverId = receiverId;
    this.#ownKey = ownKey;
    this.#spec = spec;
  }

  async open(raw: Record<string, unknown>): Promise<OpenResult> {
    const { noun, version } = this.#spec;
    if (typeof raw.kind === 'string' && this.#spec.legacyKinds.has(raw.kind)) {
      return {
        ok: false,
        reason: 'version',
        message: `the contact's Parley sends unsigned ${noun}s (v1); this one needs v${version}: the contact needs to update Parley`,
      };
    }
    if (raw.kind === this.#spec.kind && typeof raw.v === 'number' && raw.v !== version) {
      const advice =
        raw.v < version ? 'the contact needs to update Parley' : 'update Parley to connect to this contact';
      return {
        ok: false,
        reason: 'version',
        message: `the contact's Parley speaks ${noun}s v${raw.v}; this one speaks v${version}: ${advice}`,
      };
    }
    const parsed = SignalEnvelopeSchema.safeParse(raw);
    if (!parsed.success || parsed.data.kind !== this.#spec.kind)
      return { ok: false, reason: 'malformed', message: `malformed ${noun}` };
    const e = parsed.data;
    const stale = () => e.epoch < this.#epoch || (e.epoch === this.#epoch && e.seq <= this.#seq);
    if (stale()) return { ok: false, reason: 'replay', message: `an old ${noun} was replayed` };
    let sig: Bytes;
    try {
      sig = fromBase64url(e.sig);
    } catch {
      return { ok: false, reason: 'signature', message: `${noun} signature is not base64url` };
    }
    const valid =
      sig.length === 64 &&
      (await verifySignature(this.#senderKey, sig, statement(this.#spec, this.#senderId, this.#receiverId, e)).catch(
        () => false,
      ));
    if (!valid) return { ok: false, reason: 'signature', message: `a ${noun} is not signed by the contact's key` };
    // Checked again: another signal may have been accepted while this one was verified.
    if (stale()) return { ok: false, reason: 'replay', message: `an old ${noun} was replayed` };
    this.#epoch = e.epoch;
    this.#seq = e.seq;
    const own = await this.#ownKey;
    const needsOurKey = e.to !== own.publicKey;
    let body = e.body;
    if (e.box) {
      if (needsOurKey)
        return {
          ok: false,
          reason: 'sealed',
          message: `a sealed ${noun} for another key of ours (we restarted?)`,
          key: e.key,
          needsOurKey,
        };
      try {
        const key = await this.#boxKeys.get(own, e.key, this.#senderId, this.#receiverId, e.key, own.publicKey);
        body = await openBody(key, e.seq, header(this.#spec, this.#senderId, this.#receiverId, e), e.body);
      } catch {
        return {
          ok: false,
          reason: 'sealed',
          message: `a sealed ${noun} does not open`,
          key: e.key,
          needsOurKey,
        };
      }
    }
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      return { ok: false, reason: 'malformed', message: `${noun} body is not JSON` };
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      return { ok: false, reason: 'malformed', message: `${noun} body is not an object` };
    return { ok: true, data: data as Record<string, unknown>, key: e.key, needsOurKey };
  }
}
