import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../../../signaling/protocol/index.js';
import { ContactStore } from '../../../../core/src/contacts/store.js';
import { createInvite, parseInvite } from '../../../../core/src/identity/invite.js';
import { generateIdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { memoryStore } from '../../../helpers/memory-store.js';

async function invite(name: string) {
  const kp = await generateIdentityKeyPair({ extractable: false });
  return {
    kp,
    invite: await parseInvite(createInvite({ publicKey: kp.publicKey, name, relays: ['ws://10.99.0.3:8800/ws'] })),
  };
}

describe('ContactStore', () => {
  it('adds from an invite, persists, verifies and removes', async () => {
    const kv = memoryStore();
    const book = await ContactStore.open(kv);
    const bob = await invite('Bob');
    const added = await book.add(bob.invite, 1000);
    expect(added).toMatchObject({
      id: bob.kp.id,
      name: 'Bob',
      relays: ['ws://10.99.0.3:8800/ws'],
      verified: false,
      addedAt: 1000,
    });
    await book.setVerified(bob.kp.id, true);

    const reopened = await ContactStore.open(kv);
    expect(reopened.get(bob.kp.id)).toMatchObject({ name: 'Bob', verified: true, key: bob.kp.publicKey });
    // Re-adding the same key keeps verification and the original date.
    expect(await reopened.add({ ...bob.invite, name: 'Robert' }, 2000)).toMatchObject({
      name: 'Robert',
      verified: true,
      addedAt: 1000,
    });

    expect(await reopened.remove(bob.kp.id)).toBe(true);
    expect((await ContactStore.open(kv)).list()).toEqual([]);
  });

  it('skips records whose id does not match their key, without deleting them', async () => {
    const kv = memoryStore();
    const book = await ContactStore.open(kv);
    const bob = await invite('Bob');
    const eve = await invite('Eve');
    await book.add(bob.invite);
    // Tampered record: Bob's id with Eve's key.
    const key = `contact/${bob.kp.id}`;
    kv.data.set(key, JSON.stringify({ ...JSON.parse(kv.data.get(key)!), key: eve.kp.publicKey }));
    const reopened = await ContactStore.open(kv);
    expect(reopened.has(bob.kp.id)).toBe(false);
    expect(kv.data.has(key)).toBe(true);
  });

  it('skips a stored contact whose key is a small-order point', async () => {
    const kv = memoryStore();
    const book = await ContactStore.open(kv);
    const bob = await invite('Bob');
    await book.add(bob.invite);
    // A record planted with the identity point as key and the id that key would have.
    const pub = toBase64url(Uint8Array.of(1, ...new Uint8Array(31)));
    const id = createHash('sha256').update('parley-id/v1:Ed25519:').update(fromBase64url(pub)).digest('base64url');
    const record = { ...JSON.parse(kv.data.get(`contact/${bob.kp.id}`)!), id, key: { alg: 'Ed25519', pub } };
    kv.data.set(`contact/${id}`, JSON.stringify(record));
    const reopened = await ContactStore.open(kv);
    expect(reopened.has(bob.kp.id)).toBe(true);
    expect(reopened.has(id)).toBe(false);
  });

  it('gives the same safety number from both sides', async () => {
    const me = await generateIdentityKeyPair({ extractable: false });
    const bob = await invite('Bob');
    const book = await ContactStore.open(memoryStore());
    await book.add(bob.invite);
    const mine = await book.safetyNumber(bob.kp.id, me.publicKey);
    const theirs = await (
      await ContactStore.open(memoryStore())
    ).add(await parseInvite(createInvite({ publicKey: me.publicKey, name: 'me', relays: [] })));
    expect(mine).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(theirs.id).toBe(me.id);
  });
});
