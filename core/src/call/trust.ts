// Binds a call's DTLS certificates to the two identities. Every offer and answer carries the sender's identity
// signature over (callId, role, signer, receiver, DTLS fingerprint of that SDP). A relay that swaps the
// fingerprint (to sit in the middle of DTLS) cannot sign the new one; one that replays an old signed SDP
// cannot move it into another call or direction.
import { fromBase64url, toBase64url, verifySignature, type Bytes, type PublicIdentityKey } from '../../../signaling/protocol/index.js';
import { encodeFields } from '../crypto/encoding.js';
import { fingerprintOf } from '../crypto/transcript.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import type { CallFailedCode } from './types.js';

export const CALL_FP_LABEL = 'parley-call-fp/v1';
export const CALL_RING_LABEL = 'parley-call-ring/v1';

export type CallRole = 'caller' | 'callee';

export interface SignedFingerprint {
  fingerprint: string;
  sig: string;
}

export function callFpStatement(callId: string, role: CallRole, signerId: string, receiverId: string, fingerprint: string): Bytes {
  return encodeFields(CALL_FP_LABEL, [callId, role, signerId, receiverId, fingerprint.toUpperCase()]);
}

/** Our signature over the fingerprint of an SDP we are about to send. Throws if the SDP has no usable fingerprint. */
export async function signSdpFingerprint(
  identity: Pick<IdentityKeyPair, 'alg' | 'privateKey' | 'id'>,
  callId: string,
  role: CallRole,
  receiverId: string,
  sdp: string,
): Promise<SignedFingerprint> {
  const fingerprint = fingerprintOf(sdp);
  const sig = await signIdentity(identity, callFpStatement(callId, role, identity.id, receiverId, fingerprint));
  return { fingerprint, sig: toBase64url(sig) };
}

export class TrustFailure extends Error {
  override readonly name = 'TrustFailure';
  constructor(
    readonly code: Extract<CallFailedCode, 'tampered' | 'impersonation'>,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifySdpInput {
  callId: string;
  /** The role of the sender (the contact). */
  senderRole: CallRole;
  senderId: string;
  senderKey: PublicIdentityKey;
  receiverId: string;
  sdp: string;
  fp: SignedFingerprint | undefined;
  /** The fingerprint accepted earlier in this call, if any: it must not change. */
  pinned?: string | null;
  /** For messages ("Alice"). */
  senderName: string;
}

/** Returns the verified fingerprint (upper-case), or throws TrustFailure with a message the UI can show. */
export async function verifySdpFingerprint(input: VerifySdpInput): Promise<string> {
  const { fp, senderName } = input;
  if (!fp) throw new TrustFailure('impersonation', `the call setup from ${senderName} is not signed; refusing it`);
  let signature: Bytes;
  try {
    signature = fromBase64url(fp.sig);
  } catch {
    signature = new Uint8Array(0);
  }
  const statement = callFpStatement(input.callId, input.senderRole, input.senderId, input.receiverId, fp.fingerprint);
  const valid = signature.length === 64 && (await verifySignature(input.senderKey, signature, statement).catch(() => false));
  if (!valid) throw new TrustFailure('impersonation', `the call setup is not signed by ${senderName}'s key: someone else is answering for them`);
  let actual: string;
  try {
    actual = fingerprintOf(input.sdp);
  } catch (error) {
    throw new TrustFailure('tampered', `the call setup has no usable encryption fingerprint (${(error as Error).message}): the relay may have altered it`);
  }
  const signed = fp.fingerprint.toUpperCase();
  if (actual !== signed) throw new TrustFailure('tampered', "the relay altered the call's encryption fingerprint; the call was refused");
  if (input.pinned && input.pinned !== actual) {
    throw new TrustFailure('tampered', "the call's encryption fingerprint changed in the middle of the call; the call was refused");
  }
  return actual;
}

// ---- rings ----
// A ring is signed too, so a relay cannot make a phone ring "from Alice"; `at` and the callId bound replays
// (the receiver refuses rings outside a time window and callIds it has seen).

export interface RingFields {
  callId: string;
  callerId: string;
  calleeId: string;
  media: { audio: boolean; video: boolean };
  at: number;
}

export function ringStatement(f: RingFields): Bytes {
  return encodeFields(CALL_RING_LABEL, [f.callId, f.callerId, f.calleeId, f.media.audio ? 'audio' : '-', f.media.video ? 'video' : '-', String(f.at)]);
}

export async function signRing(identity: Pick<IdentityKeyPair, 'alg' | 'privateKey'>, fields: RingFields): Promise<string> {
  return toBase64url(await signIdentity(identity, ringStatement(fields)));
}

/** False for a wrong or malformed signature. */
export async function verifyRing(callerKey: PublicIdentityKey, fields: RingFields, sig: string): Promise<boolean> {
  let signature: Bytes;
  try {
    signature = fromBase64url(sig);
  } catch {
    return false;
  }
  if (signature.length !== 64) return false;
  return verifySignature(callerKey, signature, ringStatement(fields)).catch(() => false);
}
