// Binds a WebRTC connection's DTLS certificates to the two identities, for sessions and calls alike.
// Every offer and answer carries the sender's identity signature over (purpose, scope id, role, signer,
// receiver, DTLS fingerprint of that SDP). A relay that swaps the fingerprint (to sit in the middle of DTLS)
// cannot sign the new one; one that replays an old signed SDP cannot move it into another session, call,
// direction or purpose.
import {
  fromBase64url,
  toBase64url,
  verifySignature,
  type Bytes,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import { encodeFields } from './encoding.js';
import { fingerprintOf } from './transcript.js';

/** Domain labels: a session's statement is never valid for a call, and the reverse. */
const LABELS = { session: 'parley-sdp/v1', call: 'parley-call-fp/v1' } as const;
export type SdpPurpose = keyof typeof LABELS;

export interface SignedFingerprint {
  fingerprint: string;
  sig: string;
}

/** The statement the sender of an SDP signs. `role` is the signer's role ('initiator' | 'responder', 'caller' | 'callee'). */
export function sdpFingerprintStatement(
  purpose: SdpPurpose,
  scopeId: string,
  role: string,
  signerId: string,
  receiverId: string,
  fingerprint: string,
): Bytes {
  return encodeFields(LABELS[purpose], [scopeId, role, signerId, receiverId, fingerprint.toUpperCase()]);
}

/** Our signature over the fingerprint of an SDP we are about to send. Throws if the SDP has no usable fingerprint. */
export async function signSdpFingerprint(
  identity: Pick<IdentityKeyPair, 'alg' | 'privateKey' | 'id'>,
  purpose: SdpPurpose,
  scopeId: string,
  role: string,
  receiverId: string,
  sdp: string,
): Promise<SignedFingerprint> {
  const fingerprint = fingerprintOf(sdp);
  const sig = await signIdentity(
    identity,
    sdpFingerprintStatement(purpose, scopeId, role, identity.id, receiverId, fingerprint),
  );
  return { fingerprint, sig: toBase64url(sig) };
}

/** Why a received SDP was refused; callers word it for their users. */
export type SdpRefusal =
  /** No signature at all. */
  | 'unsigned'
  /** The signature is not the sender's over this statement: someone else speaks for the contact. */
  | 'bad-signature'
  /** The SDP has no usable DTLS fingerprint. */
  | 'no-fingerprint'
  /** The SDP's fingerprint is not the signed one: rewritten in transit. */
  | 'mismatch'
  /** A fingerprint other than the one accepted earlier on this connection. */
  | 'changed';

export class SdpTrustError extends Error {
  override readonly name = 'SdpTrustError';
  constructor(
    readonly refusal: SdpRefusal,
    message: string,
  ) {
    super(message);
  }

  /** 'impersonation' when the signature is missing or wrong, else 'tampered'. */
  get code(): 'impersonation' | 'tampered' {
    return this.refusal === 'unsigned' || this.refusal === 'bad-signature' ? 'impersonation' : 'tampered';
  }
}

export interface VerifySdpInput {
  purpose: SdpPurpose;
  scopeId: string;
  /** The role of the sender (the contact). */
  senderRole: string;
  senderId: string;
  senderKey: PublicIdentityKey;
  receiverId: string;
  sdp: string;
  fp: SignedFingerprint | undefined;
  /** The fingerprint accepted earlier on this connection, if any: it must not change. */
  pinned?: string | null;
}

/** Returns the verified fingerprint (upper-case), or throws SdpTrustError. */
export async function verifySdpFingerprint(input: VerifySdpInput): Promise<string> {
  const { fp } = input;
  if (!fp) throw new SdpTrustError('unsigned', 'the SDP is not signed');
  let signature: Bytes;
  try {
    signature = fromBase64url(fp.sig);
  } catch {
    signature = new Uint8Array(0);
  }
  const statement = sdpFingerprintStatement(
    input.purpose,
    input.scopeId,
    input.senderRole,
    input.senderId,
    input.receiverId,
    fp.fingerprint,
  );
  const valid =
    signature.length === 64 && (await verifySignature(input.senderKey, signature, statement).catch(() => false));
  if (!valid) throw new SdpTrustError('bad-signature', "the SDP is not signed by the contact's key");
  let actual: string;
  try {
    actual = fingerprintOf(input.sdp);
  } catch (error) {
    throw new SdpTrustError('no-fingerprint', `the SDP has no usable DTLS fingerprint (${(error as Error).message})`);
  }
  if (actual !== fp.fingerprint.toUpperCase())
    throw new SdpTrustError('mismatch', 'the SDP has another DTLS fingerprint than the signed one');
  if (input.pinned && input.pinned !== actual)
    throw new SdpTrustError('changed', 'the DTLS fingerprint changed on an established connection');
  return actual;
}
