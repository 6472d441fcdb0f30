// One IndexedDB database per origin for everything the web client keeps: the engine's key-value
// data, the UI's settings, and the identity's CryptoKey objects (stored by structured clone, so a
// non-extractable private key never exists as bytes anywhere).
import { openDB, type IDBPDatabase } from 'idb';
import type { KeyValueStore } from '../../../core/src/platform/types.js';

export const DB_NAME = 'parley';
const DB_VERSION = 1;
export type StoreName = 'kv' | 'ui' | 'keys' | 'handles';
const STORES: StoreName[] = ['kv', 'ui', 'keys', 'handles'];

let dbPromise: Promise<IDBPDatabase> | null = null;

export function openParleyDb(name = DB_NAME): Promise<IDBPDatabase> {
  if (name !== DB_NAME) return openDbNamed(name);
  dbPromise ??= openDbNamed(name);
  return dbPromise;
}

function openDbNamed(name: string): Promise<IDBPDatabase> {
  return openDB(name, DB_VERSION, {
    upgrade(db) {
      for (const store of STORES) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
    },
  });
}

/** KeyValueStore over one object store; keys(prefix) uses a key range, so it is ordered and indexed. */
export class IdbKeyValueStore implements KeyValueStore {
  constructor(
    private readonly db: IDBPDatabase,
    private readonly store: StoreName,
  ) {}

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.db.get(this.store, key)) as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.db.put(this.store, value, key);
  }

  async delete(key: string): Promise<void> {
    await this.db.delete(this.store, key);
  }

  async keys(prefix: string): Promise<string[]> {
    // '\uffff' sorts after every character a key can hold here, so the range covers exactly the prefix.
    const range = prefix === '' ? undefined : IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const keys = await this.db.getAllKeys(this.store, range);
    return keys.map(String);
  }
}
