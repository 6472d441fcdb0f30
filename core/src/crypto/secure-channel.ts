// End-to-end encrypted channel over the untrusted relay: a signed ephemeral key agreement.
// Each side sends { v, sessionId, role, ephPub: [{alg, pub}...], sig }, where sig is its identity
// signature over (sessionId, initiator id, responder id, role, every ephemeral key it offers).
// Both sides offer X25519 when their WebCrypto has it and always P-256 (universally available), and
// pick the first common one in preference order, so a mixed pair agrees without another round trip;
// the signature covers the whole offer, so nobody in the middle can strip X25519 to force a downgrade.
// Shared secret → HKDF-SHA-256 (salt = hash of both signed offers and the choice) → one base secret
// and nonce prefix per direction → AES-256-GCM frames (aead-channel.ts).
// Key confirmation (v2): each side's first sealed frame is its confirmation (label, its role, the salt).
// The channel is up only once the peer's confirmation opens: a signed offer proves who made an
// ephemeral key, not that its owner is here now, so a replayed initiator handshake (old, validly signed)
// must not bring a channel up whose other end nobody holds.
import { z } from 'zod';
import {
  describeIssue,
  fromBase64url,
  identityIdOf,
  toBase64url,
  verifySignature,
  type Bytes,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import { signIdentity, type IdentityKeyPair } from '../identity/keys.js';
import { createAeadChannel, NONCE_PREFIX_BYTES, type SecureChannel } from './aead-channel.js';
import type { AeadEngine } from './aead-engine.js';
import { encodeFields, sha256 } from './encoding.js';
import { CryptoError } from './errors.js';
import type { Role } from './roles.js';
import { checkSessionId } from './transcript.js';

export type { SecureChannel } from './aead-channel.js';

export const HANDSHAKE_VERSION = 2;
export const KEX_ALGORITHMS = ['X25519', 'P-256'] as const;
export type KexAlgorithm = (typeof KEX_ALGORITHMS)[number];

const RAW_KEX_BYTES: Record<KexAlgorithm, number> = { X25519: 32, 'P-256': 65 };
const HANDSHAKE_LABEL = 'parley-secure-channel/v2 handshake';
const SALT_LABEL = 'parley-secure-channel/v2 salt';
const CONFIRM_LABEL = 'parley-secure-channel/v2 key confirmation';
const INFO_I2R = 'parley-secure-channel/v1 initiator->responder';
const INFO_R2I = 'parley-secure-channel/v1 responder->initiator';

export interface EphemeralPublicKey {
  alg: KexAlgorithm;
  /** Raw public key, base64url (X25519: 32 bytes; P-256: 65-byte uncompressed point). */
  pub: string;
}

export interface HandshakeMessage {
  v: typeof HANDSHAKE_VERSION;
  sessionId: string;
  role: Role;
  /** Offered ephemeral keys, in the sender's order of preference. */
  ephPub: EphemeralPublicKey[];
  /** Identity signature (base64url) over the handshake statement. */
  sig: string;
}

export interface HandshakeOptions {
  identity: IdentityKeyPair;
  /** The peer's identity key as we know it (from contacts), never as the relay tells us. */
  peerKey: PublicIdentityKey;
  peerId: string;
  /** Unique per session (random); both sides must use the same. */
  sessionId: string;
  role: Role;
  /** Key-agreement algorithms to offer, in preference order (tests force one). Default: X25519, P-256. */
  kex?: readonly KexAlgorithm[];
  /** AES-GCM implementation for the channel's frames; default WebCrypto. */
  aead?: AeadEngine;
}

/** A SecureChannel that also says which key agreement produced it (for diagnostics). */
export interface EstablishedChannel extends SecureChannel {
  readonly kex: KexAlgorithm;
  /** Our key confirmation, sealed: send it as the channel's first frame (before any other seal). */
  confirmation(): Promise<Bytes>;
  /** Checks that the peer's first frame is its key confirmation; rejects with CryptoError otherwise. */
  checkConfirmation(sealed: Uint8Array): Promise<void>;
}

export interface Handshake {
  /** Send this to the peer (JSON-serialisable). */
  message: HandshakeMessage;
  /** Verifies the peer's message and derives the channel. Usable once. */
  complete(peerMessage: unknown): Promise<EstablishedChannel>;
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
const HandshakeMessageSchema = z.object({
  v: z.literal(HANDSHAKE_VERSION),
  sessionId: z.string().max(256),
  role: z.enum(['initiator', 'responder']),
  ephPub: z
    .array(z.object({ alg: z.enum(KEX_ALGORITHMS), pub: b64url.max(100) }))
    .min(1)
    .max(KEX_ALGORITHMS.length),
  sig: b64url.max(200),
});

function kexParams(alg: KexAlgorithm): Algorithm | EcKeyImportParams {
  return alg === 'X25519' ? { name: 'X25519' } : { name: 'ECDH', namedCurve: 'P-256' };
}

function isNotSupported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'NotSupportedError';
}

interface Ephemeral {
  alg: KexAlgorithm;
  privateKey: CryptoKey;
  raw: Bytes;
}

async function generateEphemeral(alg: KexAlgorithm): Promise<Ephemeral | undefined> {
  try {
    const pair = (await crypto.subtle.generateKey(kexParams(alg), false, ['deriveBits'])) as CryptoKeyPair;
    return {
      alg,
      privateKey: pair.privateKey,
      raw: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
    };
  } catch (error) {
    if (isNotSupported(error)) return undefined;
    throw error;
  }
}

/** The statement a side signs: binds session, both identities in role order, its role and its whole offer. */
function handshakeStatement(
  sessionId: string,
  initiatorId: string,
  responderId: string,
  role: Role,
  offer: readonly { alg: KexAlgorithm; raw: Uint8Array }[],
): Bytes {
  const fields: (string | Uint8Array)[] = [sessionId, initiatorId, responderId, role, String(offer.length)];
  for (const key of offer) fields.push(key.alg, key.raw);
  return encodeFields(HANDSHAKE_LABEL, fields);
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

export async function createHandshake(options: HandshakeOptions): Promise<Handshake> {
  const { identity, peerKey, peerId, sessionId, role } = options;
  checkSessionId(sessionId);
  if (role !== 'initiator' && role !== 'responder')
    throw new CryptoError('invalid-input', 'role must be "initiator" or "responder".');
  let expectedPeerId: string;
  try {
    expectedPeerId = await identityIdOf(peerKey);
  } catch (error) {
    throw new CryptoError('wrong-key', `The peer's identity key is invalid: ${(error as Error).message}.`);
  }
  if (expectedPeerId !== peerId)
    throw new CryptoError('wrong-key', `The peer id ${shortId(peerId)} does not belong to the given peer key.`);
  if (peerId === identity.id)
    throw new CryptoError('invalid-input', 'A secure channel needs two different identities.');

  const preference = options.kex ?? KEX_ALGORITHMS;
  if (
    preference.length === 0 ||
    new Set(preference).size !== preference.length ||
    preference.some((a) => !KEX_ALGORITHMS.includes(a))
  ) {
    throw new CryptoError('invalid-input', 'kex must list distinct algorithms among X25519 and P-256.');
  }
  const ours = (await Promise.all(preference.map(generateEphemeral))).filter((e): e is Ephemeral => e !== undefined);
  if (ours.length === 0)
    throw new CryptoError(
      'unsupported',
      'This platform supports none of the key-agreement algorithms (X25519, P-256).',
    );

  const initiatorId = role === 'initiator' ? identity.id : peerId;
  const responderId = role === 'initiator' ? peerId : identity.id;
  const peerRole: Role = role === 'initiator' ? 'responder' : 'initiator';
  const ownStatement = handshakeStatement(sessionId, initiatorId, responderId, role, ours);
  const message: HandshakeMessage = {
    v: HANDSHAKE_VERSION,
    sessionId,
    role,
    ephPub: ours.map((e) => ({ alg: e.alg, pub: toBase64url(e.raw) })),
    sig: toBase64url(await signIdentity(identity, ownStatement)),
  };

  let used = false;
  async function complete(peerMessage: unknown): Promise<EstablishedChannel> {
    if (used) throw new CryptoError('handshake-used', 'This handshake was already completed; start a new one.');
    used = true;
    const version =
      typeof peerMessage === 'object' && peerMessage !== null ? (peerMessage as { v?: unknown }).v : undefined;
    if (typeof version === 'number' && Number.isInteger(version) && version !== HANDSHAKE_VERSION) {
      throw new CryptoError(
        'version',
        `The contact's Parley speaks secure channel v${version}; this one speaks v${HANDSHAKE_VERSION}. ${version < HANDSHAKE_VERSION ? 'The contact needs to update Parley.' : 'Update Parley to talk to this contact.'}`,
      );
    }
    const parsed = HandshakeMessageSchema.safeParse(peerMessage);
    if (!parsed.success)
      throw new CryptoError('bad-handshake', `The peer's handshake is malformed (${describeIssue(parsed.error)}).`);
    const peer = parsed.data;
    if (peer.sessionId !== sessionId)
      throw new CryptoError('wrong-session', "The peer's handshake belongs to another session.");
    if (peer.role !== peerRole) throw new CryptoError('bad-handshake', `Both sides claim the ${role} role.`);

    const theirs: { alg: KexAlgorithm; raw: Bytes }[] = [];
    for (const key of peer.ephPub) {
      if (theirs.some((k) => k.alg === key.alg))
        throw new CryptoError('bad-handshake', `The peer offered ${key.alg} twice.`);
      let raw: Bytes;
      try {
        raw = fromBase64url(key.pub);
      } catch {
        throw new CryptoError('bad-handshake', `The peer's ${key.alg} key is not base64url.`);
      }
      if (raw.length !== RAW_KEX_BYTES[key.alg])
        throw new CryptoError('bad-handshake', `The peer's ${key.alg} key must be ${RAW_KEX_BYTES[key.alg]} bytes.`);
      theirs.push({ alg: key.alg, raw });
    }
    let signature: Bytes;
    try {
      signature = fromBase64url(peer.sig);
    } catch {
      throw new CryptoError('bad-handshake', "The peer's handshake signature is not base64url.");
    }
    if (signature.length !== 64)
      throw new CryptoError('bad-handshake', "The peer's handshake signature has the wrong length.");
    const peerStatement = handshakeStatement(sessionId, initiatorId, responderId, peerRole, theirs);
    if (!(await verifySignature(peerKey, signature, peerStatement))) {
      throw new CryptoError(
        'bad-signature',
        `The handshake is not signed by ${shortId(peerId)}'s identity key: someone (possibly the relay) is impersonating the contact or tampering with the session.`,
      );
    }

    // Our preference order decides; both sides compute the same choice only if they agree on the
    // order, so the initiator's order wins.
    const order = role === 'initiator' ? ours.map((e) => e.alg) : theirs.map((k) => k.alg);
    const chosen = order.find((alg) => ours.some((e) => e.alg === alg) && theirs.some((k) => k.alg === alg));
    if (chosen === undefined) {
      throw new CryptoError(
        'unsupported',
        `No common key-agreement algorithm (we offer ${ours.map((e) => e.alg).join(', ')}; the peer offers ${theirs.map((k) => k.alg).join(', ')}).`,
      );
    }
    const mine = ours.find((e) => e.alg === chosen)!;
    const their = theirs.find((k) => k.alg === chosen)!;

    let shared: Bytes;
    try {
      const peerPublic = await crypto.subtle.importKey('raw', their.raw, kexParams(chosen), false, []);
      shared = new Uint8Array(
        await crypto.subtle.deriveBits(
          { name: kexParams(chosen).name, public: peerPublic } as EcdhKeyDeriveParams,
          mine.privateKey,
          256,
        ),
      );
    } catch (error) {
      throw new CryptoError('bad-handshake', `The peer's ${chosen} key is invalid.`, { cause: error });
    }
    // A low-order X25519 point gives an all-zero secret that anyone can compute.
    if (shared.every((b) => b === 0))
      throw new CryptoError('bad-handshake', `The peer's ${chosen} key is a weak point.`);

    const initiatorOffer = role === 'initiator' ? ownStatement : peerStatement;
    const responderOffer = role === 'initiator' ? peerStatement : ownStatement;
    const salt = await sha256(encodeFields(SALT_LABEL, [initiatorOffer, responderOffer, chosen]));
    const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
    shared.fill(0); // safe: the import above has completed
    const derive = async (info: string) => {
      const bits = new Uint8Array(
        await crypto.subtle.deriveBits(
          { name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode(info) },
          ikm,
          (32 + NONCE_PREFIX_BYTES) * 8,
        ),
      );
      return { base: bits.slice(0, 32), noncePrefix: bits.slice(32) };
    };
    const [i2r, r2i] = await Promise.all([derive(INFO_I2R), derive(INFO_R2I)]);
    const channel = createAeadChannel({
      sessionId,
      send: role === 'initiator' ? i2r : r2i,
      receive: role === 'initiator' ? r2i : i2r,
      ...(options.aead ? { engine: options.aead } : {}),
    });
    const confirmationOf = (of: Role) => encodeFields(CONFIRM_LABEL, [of, salt]);
    const ownConfirmation = confirmationOf(role);
    const peerConfirmation = confirmationOf(peerRole);
    return Object.assign(channel, {
      kex: chosen,
      confirmation: () => channel.seal(ownConfirmation),
      async checkConfirmation(sealed: Uint8Array): Promise<void> {
        let plain: Bytes;
        try {
          plain = await channel.open(sealed);
        } catch (error) {
          throw new CryptoError(
            'key-confirmation',
            `The peer's key confirmation does not open (${(error as Error).message}): it does not hold this session's keys.`,
            { cause: error },
          );
        }
        if (plain.length !== peerConfirmation.length || plain.some((b, i) => b !== peerConfirmation[i])) {
          throw new CryptoError('key-confirmation', "The peer's first frame is not its key confirmation.");
        }
      },
    });
  }

  return { message, complete };
}
