// Identity keys as they appear on the wire, the identity id derived from them, and the
// relay authentication statement. WebCrypto only, so relay (Node) and clients (Node, Chromium) share it.
import { fromBase64url, toBase64url, type Bytes } from './base64url.js';

/** Signature algorithms an identity key may use. Ed25519 first; ECDSA P-256 where Ed25519 is missing. */
export const KEY_ALGORITHMS = ['Ed25519', 'P-256'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Raw public key length per algorithm (P-256: uncompressed point). */
export const RAW_PUBLIC_KEY_BYTES: Record<KeyAlgorithm, number> = { Ed25519: 32, 'P-256': 65 };

/** A public identity key: algorithm + raw public key, base64url. */
export interface PublicIdentityKey {
  alg: KeyAlgorithm;
  pub: string;
}

const encoder = new TextEncoder();

export function importParams(alg: KeyAlgorithm): EcKeyImportParams | Algorithm {
  return alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
}

export function signParams(alg: KeyAlgorithm): EcdsaParams | Algorithm {
  return alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
}

/** Decodes and checks a public key's length; throws a descriptive Error when malformed. */
export function rawPublicKey(key: PublicIdentityKey): Bytes {
  const raw = fromBase64url(key.pub);
  if (raw.length !== RAW_PUBLIC_KEY_BYTES[key.alg]) {
    throw new Error(`public key for ${key.alg} must be ${RAW_PUBLIC_KEY_BYTES[key.alg]} bytes, got ${raw.length}`);
  }
  if (key.alg === 'P-256' && raw[0] !== 0x04) throw new Error('P-256 public key must be an uncompressed point');
  return raw;
}

/**
 * The identity id: base64url(SHA-256("parley-id/v1:" + alg + ":" + raw public key)), 43 characters.
 * Everything that addresses a person (relay routing, contacts, invites) uses this id.
 */
export async function identityIdOf(key: PublicIdentityKey): Promise<string> {
  return toBase64url(new Uint8Array(await crypto.subtle.digest('SHA-256', identityIdPreimage(key))));
}

/** The bytes whose SHA-256 is the identity id, for callers that hash synchronously (the relay, with node:crypto). */
export function identityIdPreimage(key: PublicIdentityKey): Bytes {
  const raw = rawPublicKey(key);
  const prefix = encoder.encode(`parley-id/v1:${key.alg}:`);
  const input = new Uint8Array(prefix.length + raw.length);
  input.set(prefix, 0);
  input.set(raw, prefix.length);
  return input;
}

export async function importPublicKey(key: PublicIdentityKey): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', rawPublicKey(key), importParams(key.alg), true, ['verify']);
}

/**
 * The statement a client signs to authenticate to a relay. It binds the relay's one-time nonce,
 * the identity id and the host the client believes it is talking to, so a challenge can be neither
 * replayed nor forwarded from a malicious relay to an honest one.
 */
export function relayAuthStatement(nonce: string, id: string, host: string): Bytes {
  return encoder.encode(`parley-relay-auth/v1\n${nonce}\n${id}\n${host.toLowerCase()}`);
}

export async function verifySignature(key: PublicIdentityKey, signature: Bytes, data: Bytes): Promise<boolean> {
  const publicKey = await importPublicKey(key);
  return crypto.subtle.verify(signParams(key.alg), publicKey, signature, data);
}

export async function signWith(alg: KeyAlgorithm, privateKey: CryptoKey, data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign(signParams(alg), privateKey, data));
}
