// Persisting the identity through an injected store. Browsers keep the private key as a
// non-extractable CryptoKey (IndexedDB clones it); Node stores it as pkcs8 (there is no key store).
import { z } from 'zod';
import {
  KEY_ALGORITHMS,
  PublicIdentityKeySchema,
  identityIdOf,
  rawPublicKey,
  type KeyAlgorithm,
  type PublicIdentityKey,
} from '../../../signaling/protocol/index.js';
import {
  exportPrivateKey,
  generateIdentityKeyPair,
  importPrivateKey,
  keysMatch,
  type IdentityKeyPair,
} from './keys.js';
import { checkDisplayName, checkRelayList } from './profile.js';

export interface StoredIdentity {
  alg: KeyAlgorithm;
  publicKey: PublicIdentityKey;
  /** A CryptoKey (structured-clone stores) or pkcs8 base64url (JSON stores). */
  privateKey: CryptoKey | { pkcs8: string };
  name: string;
  relays: string[];
  createdAt: number;
}

export interface IdentityKeyStore {
  load(): Promise<StoredIdentity | undefined>;
  save(identity: StoredIdentity): Promise<void>;
}

export type LocalIdentity = IdentityKeyPair & { name: string; relays: string[]; createdAt: number };

export interface LoadOrCreateOptions {
  /** Used only when a new identity is created. */
  name: string;
  /** Used only when a new identity is created. */
  relays: string[];
  /** true: the private key is exported and stored as pkcs8 (JSON stores, Node). false: stored as a CryptoKey. */
  extractable: boolean;
  /** Force an algorithm for a new identity (tests); default Ed25519 with P-256 fallback. */
  algorithm?: KeyAlgorithm;
}

/** The stored identity cannot be used; never silently replaced, since that would lose the identity. */
export class IdentityStoreError extends Error {
  override readonly name = 'IdentityStoreError';
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey === 'function' && value instanceof CryptoKey;
}

const StoredIdentitySchema = z.object({
  alg: z.enum(KEY_ALGORITHMS),
  publicKey: PublicIdentityKeySchema,
  privateKey: z.union([
    z.custom<CryptoKey>((v) => isCryptoKey(v) && v.type === 'private', 'not a private CryptoKey'),
    z.object({
      pkcs8: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/)
        .max(1024),
    }),
  ]),
  name: z.string(),
  relays: z.array(z.string()),
  createdAt: z.number().int().nonnegative(),
});

async function fromStored(raw: unknown): Promise<LocalIdentity> {
  const parsed = StoredIdentitySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IdentityStoreError(
      `The stored identity is unreadable (${issue ? `${issue.path.join('.') || 'record'}: ${issue.message}` : 'invalid'}).`,
    );
  }
  const s = parsed.data;
  if (s.publicKey.alg !== s.alg)
    throw new IdentityStoreError('The stored identity is inconsistent (key algorithm mismatch).');
  try {
    rawPublicKey(s.publicKey);
  } catch (error) {
    throw new IdentityStoreError(`The stored public key is invalid: ${(error as Error).message}.`);
  }
  let privateKey: CryptoKey;
  try {
    privateKey = isCryptoKey(s.privateKey)
      ? s.privateKey
      : await importPrivateKey(s.alg, (s.privateKey as { pkcs8: string }).pkcs8);
  } catch (error) {
    throw new IdentityStoreError(`The stored private key cannot be imported: ${(error as Error).message}.`);
  }
  if (!(await keysMatch(s.alg, privateKey, s.publicKey))) {
    throw new IdentityStoreError('The stored private key does not match the stored public key.');
  }
  const name = checkDisplayName(s.name);
  const relays = checkRelayList(s.relays);
  return {
    alg: s.alg,
    privateKey,
    publicKey: { alg: s.publicKey.alg, pub: s.publicKey.pub },
    id: await identityIdOf(s.publicKey),
    // A profile saved by an older, laxer version stays usable rather than locking the user out.
    name: name.ok ? name.value : '',
    relays: relays.ok ? relays.value : [],
    createdAt: s.createdAt,
  };
}

function checkedProfile(name: string, relays: readonly string[]): { name: string; relays: string[] } {
  const n = checkDisplayName(name);
  if (!n.ok) throw new IdentityStoreError(n.error);
  const r = checkRelayList(relays);
  if (!r.ok) throw new IdentityStoreError(r.error);
  return { name: n.value, relays: r.value };
}

/** Loads the identity, or creates and saves one on first use. Verifies the saved copy reads back. */
export async function loadOrCreateIdentity(
  store: IdentityKeyStore,
  options: LoadOrCreateOptions,
): Promise<LocalIdentity> {
  const existing = await store.load();
  if (existing !== undefined) return fromStored(existing);

  const profile = checkedProfile(options.name, options.relays);
  const kp = await generateIdentityKeyPair({
    extractable: options.extractable,
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
  });
  const stored: StoredIdentity = {
    alg: kp.alg,
    publicKey: kp.publicKey,
    privateKey: options.extractable ? { pkcs8: await exportPrivateKey(kp.privateKey) } : kp.privateKey,
    name: profile.name,
    relays: profile.relays,
    createdAt: Date.now(),
  };
  await store.save(stored);
  // A JSON-only store given a CryptoKey would keep `{}`: find out now, not after the next restart.
  const reread = await store.load();
  if (reread === undefined) throw new IdentityStoreError('The identity store did not keep the new identity.');
  let back: LocalIdentity;
  try {
    back = await fromStored(reread);
  } catch (error) {
    throw new IdentityStoreError(
      `The identity store cannot keep this key (${(error as Error).message}) ${options.extractable ? '' : 'Use extractable: true with stores that serialise to JSON.'}`.trim(),
    );
  }
  if (back.id !== kp.id)
    throw new IdentityStoreError('The identity store returned a different identity than was saved.');
  // Hand out the stored form: in Node the private key is re-imported non-extractable.
  return back;
}

/** Changes the display name and/or relays, persisting them; the key pair is unchanged. */
export async function updateProfile(
  store: IdentityKeyStore,
  identity: LocalIdentity,
  changes: { name?: string; relays?: string[] },
): Promise<LocalIdentity> {
  const current = await store.load();
  if (current === undefined) throw new IdentityStoreError('No identity is stored.');
  const parsed = StoredIdentitySchema.safeParse(current);
  if (
    !parsed.success ||
    parsed.data.publicKey.pub !== identity.publicKey.pub ||
    parsed.data.publicKey.alg !== identity.publicKey.alg
  ) {
    throw new IdentityStoreError('The stored identity is not the one being updated.');
  }
  const profile = checkedProfile(changes.name ?? identity.name, changes.relays ?? identity.relays);
  await store.save({ ...current, name: profile.name, relays: profile.relays });
  return { ...identity, name: profile.name, relays: profile.relays };
}
