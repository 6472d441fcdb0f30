// Binds a call's DTLS certificates to the two identities with the signed-fingerprint statement sessions use
// too (crypto/sdp-fingerprint.ts, purpose 'call'): this file words its refusals for the call UI.
import {
  fromBase64url,
  toBase64url,
  verifySignature,
  type Bytes,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import { encodeFields } from '../crypto/encoding.js';
import * as sdpTrust from '../crypto/sdp-fingerprint.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import type { CallFailedCode } from './types.js';

export type { SignedFingerprint } from '../crypto/sdp-fingerprint.js';
export const CALL_RING_LABEL = 'parley-call-ring/v1';

export type CallRole = 'caller' | 'callee';

export function callFpStatement(
  callId: string,
  role: CallRole,
  signerId: string,
  receiverId: string,
  fingerprint: string,
): Bytes {
  return sdpTrust.sdpFingerprintStatement('call', callId, role, signerId, receiverId, fingerprint);
}

/** Our signature over the fingerprint of an SDP we are about to send. Throws if the SDP has no usable fingerprint. */
export function signSdpFingerprint(
  identity: Pick<IdentityKeyPair, 'alg' | 'privateKey' | 'id'>,
  callId: string,
  role: CallRole,
  receiverId: string,
  sdp: string,
): Promise<sdpTrust.SignedFingerprint> {
  return sdpTrust.signSdpFingerprint(identity, 'call', callId, role, receiverId, sdp);
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
  fp: sdpTrust.SignedFingerprint | undefined;
  /** The fingerprint accepted earlier in this call, if any: it must not change. */
  pinned?: string | null;
  /** For messages ("Alice"). */
  senderName: string;
}

/** Returns the verified fingerprint (upper-case), or throws TrustFailure with a message the UI can show. */
export async function verifySdpFingerprint(input: VerifySdpInput): Promise<string> {
  const { senderName } = input;
  try {
    return await sdpTrust.verifySdpFingerprint({ ...input, purpose: 'call', scopeId: input.callId });
  } catch (error) {
    if (!(error instanceof sdpTrust.SdpTrustError)) throw error;
    const message = {
      unsigned: `the call setup from ${senderName} is not signed; refusing it`,
      'bad-signature': `the call setup is not signed by ${senderName}'s key: someone else is answering for them`,
      'no-fingerprint': `the call setup has no usable encryption fingerprint (${error.message}): the relay may have altered it`,
      mismatch: "the relay altered the call's encryption fingerprint; the call was refused",
      changed: "the call's encryption fingerprint changed in the middle of the call; the call was refused",
    }[error.refusal];
    throw new TrustFailure(error.code, message);
  }
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
  return encodeFields(CALL_RING_LABEL, [
    f.callId,
    f.callerId,
    f.calleeId,
    f.media.audio ? 'audio' : '-',
    f.media.video ? 'video' : '-',
    String(f.at),
  ]);
}

export async function signRing(
  identity: Pick<IdentityKeyPair, 'alg' | 'privateKey'>,
  fields: RingFields,
): Promise<string> {
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
