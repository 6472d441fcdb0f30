import { afterEach, describe, expect, it, vi } from 'vitest';
import { identityIdOf, verifySignature } from '../../../../signaling/protocol/index.js';
import {
  exportPrivateKey,
  generateIdentityKeyPair,
  importPrivateKey,
  keysMatch,
  signIdentity,
} from '../../../../core/src/identity/index.js';

const data = new TextEncoder().encode('hello parley');

describe('generateIdentityKeyPair', () => {
  afterEach(() => vi.restoreAllMocks());

  it('creates an Ed25519 identity by default whose id is identityIdOf(publicKey)', async () => {
    const kp = await generateIdentityKeyPair({ extractable: false });
    expect(kp.alg).toBe('Ed25519');
    expect(kp.publicKey.alg).toBe('Ed25519');
    expect(kp.publicKey.pub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(kp.id).toBe(await identityIdOf(kp.publicKey));
    expect(kp.id).toHaveLength(43);
    expect(kp.privateKey.extractable).toBe(false);
    const sig = await signIdentity(kp, data);
    expect(sig).toHaveLength(64);
    expect(await verifySignature(kp.publicKey, sig, data)).toBe(true);
  });

  it('makes a P-256 identity when forced, with a 65-byte uncompressed public key', async () => {
    const kp = await generateIdentityKeyPair({ extractable: false, algorithm: 'P-256' });
    expect(kp.alg).toBe('P-256');
    expect(kp.publicKey.pub).toHaveLength(87);
    const sig = await signIdentity(kp, data);
    expect(await verifySignature(kp.publicKey, sig, data)).toBe(true);
    expect(await verifySignature(kp.publicKey, sig, new TextEncoder().encode('other'))).toBe(false);
  });

  it('falls back to P-256 when the platform throws NotSupportedError for Ed25519', async () => {
    // Simulates an older browser: the real generateKey for everything but Ed25519.
    const real = crypto.subtle.generateKey.bind(crypto.subtle) as (...args: unknown[]) => Promise<unknown>;
    const spy = vi.spyOn(crypto.subtle, 'generateKey').mockImplementation(((alg: unknown, ...rest: unknown[]) => {
      const name = typeof alg === 'string' ? alg : (alg as { name: string }).name;
      if (name === 'Ed25519') return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
      return real(alg, ...rest);
    }) as typeof crypto.subtle.generateKey);
    const kp = await generateIdentityKeyPair({ extractable: false });
    expect(spy).toHaveBeenCalledTimes(2);
    expect(kp.alg).toBe('P-256');
    expect(await verifySignature(kp.publicKey, await signIdentity(kp, data), data)).toBe(true);
  });

  it('does not hide other generateKey failures, nor fall back when an algorithm is forced', async () => {
    vi.spyOn(crypto.subtle, 'generateKey').mockRejectedValue(new DOMException('nope', 'NotSupportedError'));
    await expect(generateIdentityKeyPair({ extractable: false, algorithm: 'Ed25519' })).rejects.toThrow('nope');
    vi.restoreAllMocks();
    vi.spyOn(crypto.subtle, 'generateKey').mockRejectedValue(new TypeError('broken'));
    await expect(generateIdentityKeyPair({ extractable: false })).rejects.toThrow('broken');
  });

  it.each(['Ed25519', 'P-256'] as const)('round-trips a %s private key through pkcs8', async (algorithm) => {
    const kp = await generateIdentityKeyPair({ extractable: true, algorithm });
    const pkcs8 = await exportPrivateKey(kp.privateKey);
    expect(pkcs8).toMatch(/^[A-Za-z0-9_-]+$/);
    const imported = await importPrivateKey(kp.alg, pkcs8);
    expect(imported.extractable).toBe(false);
    expect(await keysMatch(kp.alg, imported, kp.publicKey)).toBe(true);
    const sig = await signIdentity({ alg: kp.alg, privateKey: imported }, data);
    expect(await verifySignature(kp.publicKey, sig, data)).toBe(true);
  });

  it('keysMatch detects a private key that belongs to another identity', async () => {
    const a = await generateIdentityKeyPair({ extractable: false });
    const b = await generateIdentityKeyPair({ extractable: false });
    expect(await keysMatch('Ed25519', a.privateKey, b.publicKey)).toBe(false);
  });
});
