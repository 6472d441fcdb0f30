import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY_ID_LENGTH,
  identityIdOf,
  publicKeyProblem,
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

  it('refuses the eight small-order Ed25519 points, canonical and not, so R = identity, S = 0 forges nothing', async () => {
    // libsodium's blocklist (ed25519_ref10.c) plus the sign-bit twins of each point.
    const smallOrder = [
      '0000000000000000000000000000000000000000000000000000000000000000', // order 4
      '0000000000000000000000000000000000000000000000000000000000000080', // order 4, other x
      '0100000000000000000000000000000000000000000000000000000000000000', // identity
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
    ];
    for (const hex of smallOrder) {
      expect(publicKeyProblem('Ed25519', Buffer.from(hex, 'hex')), hex).toMatch(/small-order/);
    }
    const nonCanonical = [
      '0100000000000000000000000000000000000000000000000000000000000080', // identity, x = 0 with sign bit
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p - 1, x = 0 with sign bit
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (0 reduced)
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (the identity reduced)
      'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = 2^255 - 1
    ];
    for (const hex of nonCanonical) {
      expect(publicKeyProblem('Ed25519', Buffer.from(hex, 'hex')), hex).toMatch(/canonical/);
    }

    // The forgery: identity as public key, R = identity, S = 0 verifies for any message with plain
    // Ed25519 (node:crypto says so), and Parley refuses the key before it gets that far.
    const identityKey = { alg: 'Ed25519' as const, pub: toBase64url(Buffer.from(smallOrder[2]!, 'hex')) };
    const forged = new Uint8Array(64);
    forged[0] = 1;
    const message = relayAuthStatement('nonce', 'id', 'relay.example');
    const { createPublicKey, verify } = await import('node:crypto');
    const nodeKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: identityKey.pub }, format: 'jwk' });
    expect(verify(null, message, nodeKey, forged)).toBe(true);
    expect(() => rawPublicKey(identityKey)).toThrow(/small-order/);
    await expect(identityIdOf(identityKey)).rejects.toThrow(/small-order/);
    await expect(verifySignature(identityKey, forged, message)).rejects.toThrow(/small-order/);
  });

  it('accepts real keys of both algorithms and refuses a P-256 point off the curve', async () => {
    for (let i = 0; i < 20; i++) {
      for (const alg of ['Ed25519', 'P-256'] as const) {
        const { raw } = await keyPair(alg);
        expect(publicKeyProblem(alg, raw)).toBeNull();
      }
    }
    const { raw } = await keyPair('P-256');
    const off = Uint8Array.from(raw);
    off[64] = off[64]! ^ 1;
    expect(publicKeyProblem('P-256', off)).toMatch(/not a point/);
    const big = Uint8Array.from(raw);
    big.fill(0xff, 1, 33);
    expect(publicKeyProblem('P-256', big)).toMatch(/canonical/);
  });
});
