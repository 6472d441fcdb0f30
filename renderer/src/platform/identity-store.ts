// The browser's IdentityKeyStore: the identity record, with its private key as a non-extractable
// CryptoKey, kept in IndexedDB by structured clone. The key bytes are never exposed to script.
import type { IDBPDatabase } from 'idb';
import type { IdentityKeyStore, StoredIdentity } from '../../../core/src/identity/index.js';

const KEY = 'identity';

export class IdbIdentityKeyStore implements IdentityKeyStore {
  constructor(private readonly db: IDBPDatabase) {}

  async load(): Promise<StoredIdentity | undefined> {
    return (await this.db.get('keys', KEY)) as StoredIdentity | undefined;
  }

  async save(identity: StoredIdentity): Promise<void> {
    if ('pkcs8' in identity.privateKey) {
      // Refuse to write key bytes into the browser's storage; create the identity with extractable: false.
      throw new Error('the browser identity store keeps only non-extractable CryptoKeys');
    }
    await this.db.put('keys', identity, KEY);
  }

  /** Whether an identity exists, without validating it (the first-run screen needs only this). */
  async exists(): Promise<boolean> {
    return (await this.db.count('keys', KEY)) > 0;
  }
}
