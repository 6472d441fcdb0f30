// The CLI's key-value store with chat history kept out of the main log (issue 12.8: a long or flooded history
// made `parley listen` replay every message at start). The main FileKeyValueStore keeps everything small
// (identity, contacts, chat meta and outbox, transfers); each contact's messages live in their own logs under
// <dir>/chat/<contact>/, opened only when used:
//   chat/<c>/m/<seq:12>  → segment log m-<seq / 1000> (1,000 messages each: history pages from the end
//                           by opening the newest segments only)
//   chat/<c>/id/<id>     → log ids (opened when a message of that contact arrives or changes status)
// keys(prefix) lists the partition keys only for a prefix that names one contact (`chat/<c>/…`): a scan of
// `chat/` sees the main store's chat keys (meta, outbox), which is what such a scan is for.
// Keys written by an older Parley into the main store are still read (and deleted) there.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { KeyValueStore, Logger } from '../../../core/src/platform/types.js';
import { silentLogger } from '../../../core/src/platform/types.js';
import { FileKeyValueStore } from './file-store.js';

const SEGMENT = 1000;
const PARTITIONED = /^chat\/([A-Za-z0-9_-]{1,64})\/(m|id)\/(.*)$/;
const CONTACT_PREFIX = /^chat\/([A-Za-z0-9_-]{1,64})\//;

export class PartitionedChatStore implements KeyValueStore {
  readonly #parts = new Map<string, Promise<FileKeyValueStore>>();
  #closed = false;

  private constructor(
    readonly main: FileKeyValueStore,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger = silentLogger): Promise<PartitionedChatStore> {
    return new PartitionedChatStore(await FileKeyValueStore.open(dir, logger), dir, logger);
  }

  /** Rows replayed so far by every log opened (the main one and the partitions). */
  get rowsRead(): number {
    return this.main.rowsRead + this.#partRows;
  }
  #partRows = 0;

  #partName(key: string): { contact: string; part: string } | null {
    const m = PARTITIONED.exec(key);
    if (!m) return null;
    const [, contact, family, rest] = m as unknown as [string, string, string, string];
    if (family === 'id') return { contact, part: 'ids' };
    const seq = Number(rest);
    if (!/^\d{12}$/.test(rest) || !Number.isSafeInteger(seq)) return null;
    return { contact, part: `m-${Math.floor(seq / SEGMENT)}` };
  }

  #part(contact: string, part: string): Promise<FileKeyValueStore> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    const name = `${contact}/${part}`;
    let store = this.#parts.get(name);
    if (!store) {
      store = FileKeyValueStore.open(join(this.dir, 'chat', contact, part), this.logger).then((s) => {
        this.#partRows += s.rowsRead;
        return s;
      });
      store.catch(() => this.#parts.delete(name));
      this.#parts.set(name, store);
    }
    return store;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const where = this.#partName(key);
    if (!where) return this.main.get<T>(key);
    const value = await (await this.#part(where.contact, where.part)).get<T>(key);
    return value !== undefined ? value : this.main.get<T>(key);
  }

  async set(key: string, value: unknown): Promise<void> {
    const where = this.#partName(key);
    if (!where) return this.main.set(key, value);
    await (await this.#part(where.contact, where.part)).set(key, value);
  }

  async delete(key: string): Promise<void> {
    const where = this.#partName(key);
    if (where) await (await this.#part(where.contact, where.part)).delete(key);
    await this.main.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    const main = await this.main.keys(prefix);
    const match = CONTACT_PREFIX.exec(prefix);
    if (!match) return main;
    const contact = match[1]!;
    const rest = prefix.slice(match[0].length);
    const wants = (family: string) => family.startsWith(rest) || rest.startsWith(family);
    const wantMessages = wants('m/');
    const wantIds = wants('id/');
    if (!wantMessages && !wantIds) return main;
    let names: string[];
    try {
      names = await fs.readdir(join(this.dir, 'chat', contact));
    } catch {
      return main;
    }
    const all = new Set(main);
    for (const part of names.filter((n) => (wantIds && n === 'ids') || (wantMessages && /^m-\d+$/.test(n)))) {
      for (const k of await (await this.#part(contact, part)).keys(prefix)) all.add(k);
    }
    return [...all].sort();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const parts = await Promise.allSettled(this.#parts.values());
    for (const p of parts) if (p.status === 'fulfilled') await p.value.close();
    await this.main.close();
  }
}
