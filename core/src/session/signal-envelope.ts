// Session signals (v2) travel signed: { kind: 'session-signal', v, epoch, seq, body, sig }, where body is
// the signal's JSON and sig the sender's identity signature over (sender, receiver, epoch, seq, body).
// A relay can then neither forge a signal (e.g. `session {direct:false}` to tear down a working direct
// connection and pull traffic onto itself) nor replay an old one (an old signed offer): each Session
// numbers what it sends (seq) within its epoch (its start time, so a restarted peer's signals supersede
// its old ones), and the receiver accepts only a newer epoch or a higher seq in the current one.
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

export const SESSION_SIGNAL_VERSION = 2;
export const SIGNED_SIGNAL_KIND = 'session-signal';
/** The unsigned signal kinds of v1: a contact that still sends them runs an older Parley. */
export const V1_SIGNAL_KINDS: ReadonlySet<string> = new Set(['rtc', 'session', 'relay']);
const STATEMENT_LABEL = 'parley-session-signal/v2';
const MAX_BODY = 56 * 1024;

export const SignalEnvelopeSchema = z.object({
  kind: z.literal(SIGNED_SIGNAL_KIND),
  v: z.number().int(),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  body: z.string().max(MAX_BODY),
  sig: SignatureSchema,
});
export type SignalEnvelope = z.infer<typeof SignalEnvelopeSchema>;

function statement(senderId: string, receiverId: string, epoch: number, seq: number, body: string) {
  return encodeFields(STATEMENT_LABEL, [senderId, receiverId, String(epoch), String(seq), body]);
}

/** Signs and numbers what one Session sends to one contact, in the order send() is called. */
export class SignalSigner {
  readonly #identity: IdentityKeyPair;
  readonly #receiverId: string;
  readonly #epoch: number;
  #seq = 0;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(identity: IdentityKeyPair, receiverId: string, epoch: number) {
    this.#identity = identity;
    this.#receiverId = receiverId;
    this.#epoch = epoch;
  }

  /**
   * Signs `data` and hands the envelope to `deliver` once every earlier one was handed over (signing is
   * asynchronous; the order on the wire is the seq order). Returns what `deliver` returns.
   */
  send(data: Record<string, unknown>, deliver: (envelope: SignalEnvelope) => Promise<void>): Promise<void> {
    const seq = this.#seq++;
    const body = JSON.stringify(data);
    const handed = this.#chain.then(async () => {
      const sig = toBase64url(
        await signIdentity(this.#identity, statement(this.#identity.id, this.#receiverId, this.#epoch, seq, body)),
      );
      // Wrapped, so the chain waits for the hand-over, not for the relay's confirmation.
      return {
        delivered: deliver({ kind: SIGNED_SIGNAL_KIND, v: SESSION_SIGNAL_VERSION, epoch: this.#epoch, seq, body, sig }),
      };
    });
    this.#chain = handed.catch(() => {});
    return handed.then(({ delivered }) => delivered);
  }
}

export type OpenResult =
  | { ok: true; data: unknown }
  | { ok: false; reason: 'version' | 'malformed' | 'signature' | 'replay'; message: string };

/** Checks what one contact sends to one Session. Call open() in arrival order, one at a time. */
export class SignalVerifier {
  readonly #senderId: string;
  readonly #senderKey: PublicIdentityKey;
  readonly #receiverId: string;
  #epoch = -1;
  #seq = -1;

  constructor(senderId: string, senderKey: PublicIdentityKey, receiverId: string) {
    this.#senderId = senderId;
    this.#senderKey = senderKey;
    this.#receiverId = receiverId;
  }

  async open(raw: Record<string, unknown>): Promise<OpenResult> {
    if (typeof raw.kind === 'string' && V1_SIGNAL_KINDS.has(raw.kind)) {
      return {
        ok: false,
        reason: 'version',
        message: `the contact's Parley sends unsigned session signals (v1); this one needs v${SESSION_SIGNAL_VERSION}: the contact needs to update Parley`,
      };
    }
    const parsed = SignalEnvelopeSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: 'malformed', message: 'malformed session signal' };
    const e = parsed.data;
    if (e.v !== SESSION_SIGNAL_VERSION) {
      const advice =
        e.v < SESSION_SIGNAL_VERSION
          ? 'the contact needs to update Parley'
          : 'update Parley to connect to this contact';
      return {
        ok: false,
        reason: 'version',
        message: `the contact's Parley speaks session signals v${e.v}; this one speaks v${SESSION_SIGNAL_VERSION}: ${advice}`,
      };
    }
    if (e.epoch < this.#epoch || (e.epoch === this.#epoch && e.seq <= this.#seq)) {
      return { ok: false, reason: 'replay', message: 'an old session signal was replayed' };
    }
    let sig: Bytes;
    try {
      sig = fromBase64url(e.sig);
    } catch {
      return { ok: false, reason: 'signature', message: 'session signal signature is not base64url' };
    }
    const valid =
      sig.length === 64 &&
      (await verifySignature(
        this.#senderKey,
        sig,
        statement(this.#senderId, this.#receiverId, e.epoch, e.seq, e.body),
      ).catch(() => false));
    if (!valid)
      return { ok: false, reason: 'signature', message: "a session signal is not signed by the contact's key" };
    // Checked again: another signal may have been accepted while this one was verified.
    if (e.epoch < this.#epoch || (e.epoch === this.#epoch && e.seq <= this.#seq)) {
      return { ok: false, reason: 'replay', message: 'an old session signal was replayed' };
    }
    this.#epoch = e.epoch;
    this.#seq = e.seq;
    let data: unknown;
    try {
      data = JSON.parse(e.body);
    } catch {
      return { ok: false, reason: 'malformed', message: 'session signal body is not JSON' };
    }
    return { ok: true, data };
  }
}
