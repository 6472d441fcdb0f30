// The install's identity key pair: Ed25519 where WebCrypto has it, ECDSA P-256 otherwise.
import {
  fromBase64url,
  identityIdOf,
  importParams,
  signWith,
  toBase64url,
  verifySignature,
  type Bytes,
  type KeyAlgorithm,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';

export interface IdentityKeyPair {
  alg: KeyAlgorithm;
  privateKey: CryptoKey;
  publicKey: PublicIdentityKey;
  /** identityIdOf(publicKey): the id everything addresses this identity by. */
  id: string;
}

export interface GenerateIdentityOptions {
  /** Whether the private key may be exported (Node stores it as pkcs8; browsers keep it non-extractable). */
  extractable: boolean;
  /** Force one algorithm (no fallback). Default: Ed25519, falling back to P-256 when unsupported. */
  algorithm?: KeyAlgorithm;
}

function isNotSupported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'NotSupportedError';
}

async function generateFor(alg: KeyAlgorithm, extractable: boolean): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(importParams(alg) as EcKeyGenParams, extractable, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

export async function generateIdentityKeyPair(options: GenerateIdentityOptions): Promise<IdentityKeyPair> {
  const { extractable, algorithm } = options;
  let alg: KeyAlgorithm = algorithm ?? 'Ed25519';
  let pair: CryptoKeyPair;
  try {
    pair = await generateFor(alg, extractable);
  } catch (error) {
    if (algorithm !== undefined || !isNotSupported(error)) throw error;
    alg = 'P-256';
    pair = await generateFor(alg, extractable);
  }
  return identityFromKeys(alg, pair.privateKey, pair.publicKey);
}

/** Builds an IdentityKeyPair from WebCrypto keys (the public key is always exportable). */
export async function identityFromKeys(
  alg: KeyAlgorithm,
  privateKey: CryptoKey,
  publicKey: CryptoKey,
): Promise<IdentityKeyPair> {
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
  const pub: PublicIdentityKey = { alg, pub: toBase64url(raw) };
  return { alg, privateKey, publicKey: pub, id: await identityIdOf(pub) };
}

/** Imports a pkcs8 private key (base64url) as a non-extractable signing key. */
export async function importPrivateKey(alg: KeyAlgorithm, pkcs8: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', fromBase64url(pkcs8), importParams(alg), false, ['sign']);
}

/** Exports an extractable private key as pkcs8, base64url. */
export async function exportPrivateKey(privateKey: CryptoKey): Promise<string> {
  return toBase64url(new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey)));
}

export async function signIdentity(kp: Pick<IdentityKeyPair, 'alg' | 'privateKey'>, data: Bytes): Promise<Bytes> {
  return signWith(kp.alg, kp.privateKey, data);
}

/** True when privateKey signs what publicKey verifies: catches a corrupt or mismatched stored pair. */
export async function keysMatch(
  alg: KeyAlgorithm,
  privateKey: CryptoKey,
  publicKey: PublicIdentityKey,
): Promise<boolean> {
  const probe = new TextEncoder().encode('parley-key-check/v1');
  try {
    return await verifySignature(publicKey, await signWith(alg, privateKey, probe), probe);
  } catch {
    return false;
  }
}
