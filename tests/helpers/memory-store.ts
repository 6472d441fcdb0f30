import type { KeyValueStore } from '../../core/src/platform/types.js';

/** In-memory KeyValueStore with JSON round-trips (what a real store does to values). */
export function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    async get<T>(key: string) {
      const v = data.get(key);
      return v === undefined ? undefined : (JSON.parse(v) as T);
    },
    async set(key, value) {
      data.set(key, JSON.stringify(value));
    },
    async delete(key) {
      data.delete(key);
    },
    async keys(prefix) {
      return [...data.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
  };
}
