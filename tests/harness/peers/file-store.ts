// A small file-backed KeyValueStore for test peers: an in-memory map written through to an append-only
// JSON-lines log (synchronous appends, so a killed process keeps everything it acknowledged).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { KeyValueStore } from '../../../core/src/platform/types.js';
import type { IdentityKeyStore, StoredIdentity } from '../../../core/src/identity/store.js';

export class TestFileStore implements KeyValueStore {
  readonly #map = new Map<string, string>();

  constructor(readonly path: string) {
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as { k: string; v?: string };
        if (r.v === undefined) this.#map.delete(r.k);
        else this.#map.set(r.k, r.v);
      } catch {
        /* torn last line */
      }
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    const v = this.#map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    const v = JSON.stringify(value);
    appendFileSync(this.path, `${JSON.stringify({ k: key, v })}\n`);
    this.#map.set(key, v);
  }

  async delete(key: string): Promise<void> {
    appendFileSync(this.path, `${JSON.stringify({ k: key })}\n`);
    this.#map.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.#map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

export class TestIdentityStore implements IdentityKeyStore {
  constructor(readonly path: string) {}

  async load(): Promise<StoredIdentity | undefined> {
    return existsSync(this.path) ? (JSON.parse(readFileSync(this.path, 'utf8')) as StoredIdentity) : undefined;
  }

  async save(identity: StoredIdentity): Promise<void> {
    appendFileSync(this.path, '', { flag: 'w' });
    appendFileSync(this.path, JSON.stringify(identity));
  }
}
