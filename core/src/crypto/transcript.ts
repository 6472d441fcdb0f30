// The signed session transcript: binds both identities, the session id and both DTLS certificate
// fingerprints. A relay that rewrites a fingerprint in forwarded SDP (to sit in the middle of DTLS)
// makes the two sides' transcripts differ, so the peer's signature fails and the session is refused.
import {
  IDENTITY_ID_LENGTH,
  MAX_TAG_LENGTH,
  fromBase64url,
  rawPublicKey,
  toBase64url,
  verifySignature,
  type Bytes,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import { encodeFields } from './encoding.js';
import { CryptoError } from './errors.js';
import type { Role } from './roles.js';

export const TRANSCRIPT_LABEL = 'parley-transcript/v1';

const FINGERPRINT_LINE = /^a=fingerprint:(\S+)[ \t]+(\S+)[ \t]*$/i;
const SHA256_HEX = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;

/**
 * The DTLS certificate fingerprints in an SDP (session- or media-level `a=fingerprint:` lines),
 * normalised to upper-case hex, distinct. Only sha-256 is accepted (what Chromium, Firefox and
 * libwebrtc emit): a line with another hash could point DTLS at a certificate we never compare.
 * Today the result always has exactly one element, since one peer connection has one certificate;
 * throws CryptoError when there is none, or more than one distinct value.
 */
export function fingerprintsOf(sdp: string): string[] {
  if (typeof sdp !== 'string') throw new CryptoError('invalid-input', 'SDP must be a string.');
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    if (!/^a=fingerprint:/i.test(line)) continue;
    const m = FINGERPRINT_LINE.exec(line);
    if (!m) throw new CryptoError('bad-fingerprint', 'The SDP has a malformed DTLS fingerprint line.');
    if (m[1]!.toLowerCase() !== 'sha-256')
      throw new CryptoError(
        'bad-fingerprint',
        `The SDP uses an unsupported fingerprint hash "${m[1]!.slice(0, 16)}" (only sha-256 is accepted).`,
      );
    const value = m[2]!.toUpperCase();
    if (!SHA256_HEX.test(value))
      throw new CryptoError('bad-fingerprint', 'The SDP has a malformed sha-256 DTLS fingerprint.');
    found.add(value);
  }
  if (found.size === 0) throw new CryptoError('no-fingerprint', 'The SDP has no DTLS fingerprint.');
  if (found.size > 1) throw new CryptoError('bad-fingerprint', 'The SDP has conflicting DTLS fingerprints.');
  return [...found];
}

/** The single DTLS fingerprint of an SDP (see fingerprintsOf). */
export function fingerprintOf(sdp: string): string {
  return fingerprintsOf(sdp)[0]!;
}

export interface TranscriptFields {
  sessionId: string;
  initiatorId: string;
  responderId: string;
  initiatorFingerprint: string;
  responderFingerprint: string;
}

function checkId(name: string, id: string): void {
  if (typeof id !== 'string' || id.length !== IDENTITY_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(id)) {
    throw new CryptoError('invalid-input', `${name} is not an identity id.`);
  }
}

function normaliseFingerprint(name: string, fp: string): string {
  const value = typeof fp === 'string' ? fp.toUpperCase() : '';
  if (!SHA256_HEX.test(value)) throw new CryptoError('invalid-input', `${name} is not a sha-256 fingerprint.`);
  return value;
}

export function checkSessionId(sessionId: string): void {
  if (
    typeof sessionId !== 'string' ||
    sessionId.length < 1 ||
    sessionId.length > MAX_TAG_LENGTH ||
    !/^[A-Za-z0-9_.:-]+$/.test(sessionId)
  ) {
    throw new CryptoError(
      'invalid-input',
      `The session id must be 1-${MAX_TAG_LENGTH} characters of A-Z a-z 0-9 _ . : -.`,
    );
  }
}

/** Canonical transcript bytes. Fingerprints are case-normalised here, so callers need not. */
export function buildTranscript(fields: TranscriptFields): Bytes {
  checkSessionId(fields.sessionId);
  checkId('initiatorId', fields.initiatorId);
  checkId('responderId', fields.responderId);
  if (fields.initiatorId === fields.responderId)
    throw new CryptoError('invalid-input', 'A session needs two different identities.');
  return encodeFields(TRANSCRIPT_LABEL, [
    fields.sessionId,
    fields.initiatorId,
    fields.responderId,
    normaliseFingerprint('initiatorFingerprint', fields.initiatorFingerprint),
    normaliseFingerprint('responderFingerprint', fields.responderFingerprint),
  ]);
}

export interface TranscriptView {
  sessionId: string;
  initiatorId: string;
  responderId: string;
  /** Our role in the session. */
  role: Role;
  /** SDP we generated (local description). */
  localSdp: string;
  /** SDP we received from the peer (remote description). */
  remoteSdp: string;
}

/** The transcript as this side sees it: our fingerprint from our SDP, theirs from the SDP we received. */
export function transcriptFromSdp(view: TranscriptView): Bytes {
  const local = fingerprintOf(view.localSdp);
  const remote = fingerprintOf(view.remoteSdp);
  const initiator = view.role === 'initiator';
  return buildTranscript({
    sessionId: view.sessionId,
    initiatorId: view.initiatorId,
    responderId: view.responderId,
    initiatorFingerprint: initiator ? local : remote,
    responderFingerprint: initiator ? remote : local,
  });
}

export async function signTranscript(
  identity: Pick<IdentityKeyPair, 'alg' | 'privateKey'>,
  transcript: Bytes,
): Promise<string> {
  return toBase64url(await signIdentity(identity, transcript));
}

/** Ed25519 and ECDSA P-256 (IEEE P1363) signatures are both 64 bytes. */
const SIGNATURE_BYTES = 64;

/** False for a wrong signature and for one that is not even well-formed. Throws only if peerKey itself is invalid. */
export async function verifyTranscript(peerKey: PublicIdentityKey, transcript: Bytes, sig: string): Promise<boolean> {
  try {
    rawPublicKey(peerKey);
  } catch (error) {
    throw new CryptoError('wrong-key', `The peer's identity key is invalid: ${(error as Error).message}.`);
  }
  let signature: Bytes;
  try {
    signature = fromBase64url(typeof sig === 'string' ? sig : '');
  } catch {
    return false;
  }
  if (signature.length !== SIGNATURE_BYTES) return false;
  return verifySignature(peerKey, signature, transcript);
}
