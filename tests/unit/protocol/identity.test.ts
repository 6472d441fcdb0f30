import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY_ID_LENGTH,
  identityIdOf,
  rawPublicKey,
  relayAuthStatement,
  signWith,
  toBase64url,
  verifySignature,
  type KeyAlgorithm,
} from '../../../signaling/protocol/index.js';

async function keyPair(alg: KeyAlgorithm) {
  const params = alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await crypto.subtle.generateKey(params, false, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { pair, key: { alg, pub: toBase64url(raw) }, raw };
}

describe('identity', () => {
  it('derives the id as base64url(SHA-256("parley-id/v1:" + alg + ":" + raw key))', async () => {
    const { key, raw } = await keyPair('Ed25519');
    const expected = createHash('sha256').update('parley-id/v1:Ed25519:').update(raw).digest('base64url');
    const id = await identityIdOf(key);
    expect(id).toBe(expected);
    expect(id).toHaveLength(IDENTITY_ID_LENGTH);
  });

  it('names the algorithm in the hashed input (P-256), and different keys get different ids', async () => {
    const a = await keyPair('P-256');
    const id = await identityIdOf(a.key);
    expect(id).toBe(createHash('sha256').update('parley-id/v1:P-256:').update(a.raw).digest('base64url'));
    const b = await keyPair('P-256');
    expect(await identityIdOf(b.key)).not.toBe(id);
  });

  it('refuses malformed public keys with a descriptive error', async () => {
    expect(() => rawPublicKey({ alg: 'Ed25519', pub: toBase64url(new Uint8Array(31)) })).toThrow(/32 bytes/);
    const notUncompressed = new Uint8Array(65);
    notUncompressed[0] = 0x02;
    expect(() => rawPublicKey({ alg: 'P-256', pub: toBase64url(notUncompressed) })).toThrow(/uncompressed/);
    await expect(identityIdOf({ alg: 'Ed25519', pub: '!!!' })).rejects.toThrow();
  });

  it('builds the relay auth statement with a lowercased host', () => {
    const text = new TextDecoder().decode(relayAuthStatement('NONCE', 'ID', 'Relay.Example:8443'));
    expect(text).toBe('parley-relay-auth/v1\nNONCE\nID\nrelay.example:8443');
  });

  it.each(['Ed25519', 'P-256'] as const)('signs and verifies with %s, and rejects other data', async (alg) => {
    const { pair, key } = await keyPair(alg);
    const data = relayAuthStatement('n', 'i', 'h');
    const sig = await signWith(alg, pair.privateKey, data);
    expect(sig).toHaveLength(64);
    expect(await verifySignature(key, sig, data)).toBe(true);
    expect(await verifySignature(key, sig, relayAuthStatement('n', 'i', 'other'))).toBe(false);
  });
});
