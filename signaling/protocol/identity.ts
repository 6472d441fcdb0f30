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

/**
 * Decodes and checks a public key; throws a descriptive Error when it is malformed or not a usable point.
 * Every place a key enters (relay hello, invites, stored contacts and identities, signature checks) goes
 * through here, so this is the one validator: see publicKeyProblem.
 */
export function rawPublicKey(key: PublicIdentityKey): Bytes {
  const raw = fromBase64url(key.pub);
  const problem = publicKeyProblem(key.alg, raw);
  if (problem !== null) throw new Error(problem);
  return raw;
}

/**
 * Why a raw public key must be refused, or null when it is fine.
 * - Ed25519: the encoding must be canonical (y < p; x = 0 never carries the sign bit) and the point must not
 *   have small order. Whether y decodes to a curve point at all is left to signature verification, which fails
 *   for such keys (RFC 8032 decoding): checking it here costs a 255-bit exponentiation (~0.3 ms) per key.
 *   With a small-order key A (the identity point above all), the signature R = identity, S = 0 satisfies
 *   [S]B = R + [k]A for every message, so anyone could sign as that id.
 * - P-256: an uncompressed point (0x04 || X || Y) with X, Y < p on the curve.
 */
export function publicKeyProblem(alg: KeyAlgorithm, raw: Bytes): string | null {
  if (raw.length !== RAW_PUBLIC_KEY_BYTES[alg])
    return `public key for ${alg} must be ${RAW_PUBLIC_KEY_BYTES[alg]} bytes, got ${raw.length}`;
  if (alg === 'Ed25519') return ed25519Problem(raw);
  if (raw[0] !== 0x04) return 'P-256 public key must be an uncompressed point';
  return p256Problem(raw);
}

const ED_P = (1n << 255n) - 19n;
/** y of the order-8 points (the others of small order have y = 1, -1 or 0; -y8 is the fourth). */
const ED_Y8 = 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n;
const ED_SMALL_ORDER_Y = new Set([0n, 1n, ED_P - 1n, ED_Y8, ED_P - ED_Y8]);

function ed25519Problem(raw: Bytes): string | null {
  const signBit = (raw[31]! & 0x80) !== 0;
  const y = littleEndian(raw) & ((1n << 255n) - 1n);
  if (y >= ED_P) return 'Ed25519 public key is not canonically encoded (y >= p)';
  if (y === 1n && signBit) return 'Ed25519 public key is not canonically encoded (x = 0 with the sign bit set)';
  if (y === ED_P - 1n && signBit) return 'Ed25519 public key is not canonically encoded (x = 0 with the sign bit set)';
  // The eight points of order 1, 2, 4 and 8 are exactly those with these y (each y with both signs of x).
  if (ED_SMALL_ORDER_Y.has(y)) return 'Ed25519 public key is a small-order point';
  return null;
}

const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function p256Problem(raw: Bytes): string | null {
  const x = bigEndian(raw.subarray(1, 33));
  const y = bigEndian(raw.subarray(33, 65));
  if (x >= P256_P || y >= P256_P) return 'P-256 public key is not canonically encoded (coordinate >= p)';
  const rhs = (((x * x) % P256_P) * x - 3n * x + P256_B) % P256_P;
  if ((y * y) % P256_P !== (rhs + P256_P) % P256_P) return 'P-256 public key is not a point on the curve';
  return null;
}

function littleEndian(bytes: Bytes): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigEndian(bytes: Bytes): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
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
