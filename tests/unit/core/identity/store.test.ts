import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../../../signaling/protocol/index.js';
import {
  IdentityStoreError,
  loadOrCreateIdentity,
  signIdentity,
  updateProfile,
  type IdentityKeyStore,
  type StoredIdentity,
} from '../../../../core/src/identity/index.js';

/** Structured-clone store, like IndexedDB: keeps CryptoKey objects. */
function cloneStore(): IdentityKeyStore & { value?: StoredIdentity; saves: number } {
  const s: IdentityKeyStore & { value?: StoredIdentity; saves: number } = {
    saves: 0,
    async load() {
      return s.value === undefined ? undefined : structuredClone(s.value);
    },
    async save(v) {
      s.saves++;
      s.value = structuredClone(v);
    },
  };
  return s;
}

/** JSON store, like a file on disk in Node: a CryptoKey would not survive it. */
function jsonStore(): IdentityKeyStore & { text?: string } {
  const s: IdentityKeyStore & { text?: string } = {
    async load() {
      return s.text === undefined ? undefined : (JSON.parse(s.text) as StoredIdentity);
    },
    async save(v) {
      s.text = JSON.stringify(v);
    },
  };
  return s;
}

const data = new TextEncoder().encode('probe');
const relays = ['wss://relay.example.com/ws'];

describe('loadOrCreateIdentity', () => {
  it('creates once with a non-extractable CryptoKey (browser shape) and loads the same identity later', async () => {
    const store = cloneStore();
    const first = await loadOrCreateIdentity(store, { name: '  Alice ', relays, extractable: false });
    expect(first.name).toBe('Alice');
    expect(first.relays).toEqual(relays);
    expect(store.value?.privateKey).toBeInstanceOf(CryptoKey);
    expect(first.privateKey.extractable).toBe(false);
    const again = await loadOrCreateIdentity(store, { name: 'Ignored', relays: [], extractable: false });
    expect(store.saves).toBe(1);
    expect(again.id).toBe(first.id);
    expect(again.name).toBe('Alice');
    expect(again.createdAt).toBe(first.createdAt);
    expect(await verifySignature(first.publicKey, await signIdentity(again, data), data)).toBe(true);
  });

  it.each(['Ed25519', 'P-256'] as const)(
    'stores %s as pkcs8 in a JSON store (Node shape) and signs after reload',
    async (algorithm) => {
      const store = jsonStore();
      const created = await loadOrCreateIdentity(store, { name: 'Bob', relays, extractable: true, algorithm });
      const onDisk = JSON.parse(store.text!) as { privateKey: { pkcs8: string }; alg: string };
      expect(onDisk.alg).toBe(algorithm);
      expect(onDisk.privateKey.pkcs8).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const loaded = await loadOrCreateIdentity(store, { name: 'x', relays: [], extractable: true });
      expect(loaded.id).toBe(created.id);
      expect(loaded.alg).toBe(algorithm);
      expect(loaded.privateKey.extractable).toBe(false);
      expect(await verifySignature(created.publicKey, await signIdentity(loaded, data), data)).toBe(true);
    },
  );

  it('fails at creation, not after a restart, when a JSON store is given a non-extractable key', async () => {
    const store = jsonStore();
    const err = await loadOrCreateIdentity(store, { name: 'Carol', relays, extractable: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdentityStoreError);
    expect((err as Error).message).toMatch(/extractable: true/);
  });

  it('refuses a corrupt or mismatched stored identity instead of silently replacing it', async () => {
    const a = jsonStore();
    await loadOrCreateIdentity(a, { name: 'A', relays, extractable: true });
    const b = jsonStore();
    await loadOrCreateIdentity(b, { name: 'B', relays, extractable: true });
    const recordA = JSON.parse(a.text!) as StoredIdentity;
    const recordB = JSON.parse(b.text!) as StoredIdentity;

    const swapped = jsonStore();
    swapped.text = JSON.stringify({ ...recordA, privateKey: recordB.privateKey });
    await expect(loadOrCreateIdentity(swapped, { name: 'x', relays: [], extractable: true })).rejects.toThrow(
      /does not match/,
    );

    const truncated = jsonStore();
    truncated.text = JSON.stringify({ ...recordA, privateKey: { pkcs8: 'AAAA' } });
    await expect(loadOrCreateIdentity(truncated, { name: 'x', relays: [], extractable: true })).rejects.toThrow(
      IdentityStoreError,
    );

    const garbage = jsonStore();
    garbage.text = JSON.stringify({ hello: 'world' });
    await expect(loadOrCreateIdentity(garbage, { name: 'x', relays: [], extractable: true })).rejects.toThrow(
      /unreadable/,
    );
    expect(garbage.text).toBe(JSON.stringify({ hello: 'world' }));
  });

  it('validates the profile at creation', async () => {
    await expect(
      loadOrCreateIdentity(cloneStore(), { name: 'x'.repeat(65), relays, extractable: false }),
    ).rejects.toThrow(/too long/);
    await expect(
      loadOrCreateIdentity(cloneStore(), { name: 'ok', relays: ['ftp://x.example'], extractable: false }),
    ).rejects.toThrow(/ws:\/\//);
  });
});

describe('updateProfile', () => {
  it('changes name and relays, persists them, keeps the key', async () => {
    const store = cloneStore();
    const id = await loadOrCreateIdentity(store, { name: 'Alice', relays, extractable: false });
    const updated = await updateProfile(store, id, {
      name: 'Alice W.',
      relays: ['ws://127.0.0.1:9000/ws', 'wss://b.example/ws'],
    });
    expect(updated.id).toBe(id.id);
    expect(updated.name).toBe('Alice W.');
    const reloaded = await loadOrCreateIdentity(store, { name: '', relays: [], extractable: false });
    expect(reloaded.name).toBe('Alice W.');
    expect(reloaded.relays).toEqual(['ws://127.0.0.1:9000/ws', 'wss://b.example/ws']);
    expect(reloaded.id).toBe(id.id);
    await expect(updateProfile(store, id, { name: 'bad\u0007' })).rejects.toThrow(/control/);
  });

  it('refuses to overwrite a different stored identity', async () => {
    const s1 = cloneStore();
    const s2 = cloneStore();
    const a = await loadOrCreateIdentity(s1, { name: 'A', relays, extractable: false });
    await loadOrCreateIdentity(s2, { name: 'B', relays, extractable: false });
    await expect(updateProfile(s2, a, { name: 'C' })).rejects.toThrow(/not the one/);
    expect(s2.value?.name).toBe('B');
  });
});
