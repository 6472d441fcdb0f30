// A durable KeyValueStore for Node: an append-only JSON-lines log, replayed into memory at open.
// Every set/delete is appended and fdatasync'ed before its promise resolves (concurrent writes share
// one sync: group commit). When the log grows well past the live data it is compacted by writing a
// fresh file, syncing it and renaming it over the old one, so a crash leaves either file whole.
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyValueStore, Logger } from '../../../core/src/platform/types.js';
import { silentLogger } from '../../../core/src/platform/types.js';

const LOG_NAME = 'store.jsonl';
/** Compact when the log is this many times the live size (and above MIN_COMPACT_BYTES). */
const COMPACT_RATIO = 2;
const MIN_COMPACT_BYTES = 1024 * 1024;

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

type Record_ = { k: string; v: string } | { k: string; d: 1 };

function parseRecord(line: string): Record_ | null {
  try {
    const r = JSON.parse(line) as { k?: unknown; v?: unknown; d?: unknown };
    if (typeof r.k !== 'string') return null;
    if (r.d === 1) return { k: r.k, d: 1 };
    if (typeof r.v === 'string') return { k: r.k, v: r.v };
  } catch {
    /* torn or corrupt line */
  }
  return null;
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export class FileKeyValueStore implements KeyValueStore {
  /** key → JSON text of the value; parsed on every get so callers never share mutable objects. */
  private readonly data = new Map<string, string>();
  private sortedKeys: string[] | null = null;
  private liveBytes = 0;
  private logBytes = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Records replayed when the store was opened (how much of the disk an open read). */
  rowsRead = 0;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger = silentLogger): Promise<FileKeyValueStore> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, LOG_NAME);
    const text = await fs.readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const handle = await fs.open(path, 'a', 0o600);
    const store = new FileKeyValueStore(dir, handle, logger);
    const needsRewrite = await store.replay(text);
    if (needsRewrite) await store.compact();
    return store;
  }

  /** Loads the log; returns true when the file must be rewritten (torn tail or corrupt lines). */
  private async replay(text: string): Promise<boolean> {
    let rewrite = false;
    let corrupt = 0;
    const lines = text.split('\n');
    // The last element is what follows the final newline: empty for a clean log, else a torn write.
    const tail = lines.pop() ?? '';
    if (tail.length > 0) {
      rewrite = true;
      this.logger.warn({ bytes: tail.length }, 'store: discarding a torn final record');
    }
    for (const line of lines) {
      if (line.length === 0) continue;
      this.rowsRead++;
      const rec = parseRecord(line);
      if (!rec) {
        corrupt++;
        continue;
      }
      if ('d' in rec) this.data.delete(rec.k);
      else this.data.set(rec.k, rec.v);
    }
    if (corrupt > 0) {
      // Keep the damaged file for inspection rather than silently dropping what it held.
      const aside = join(this.dir, `${LOG_NAME}.corrupt-${Date.now()}`);
      await fs.copyFile(join(this.dir, LOG_NAME), aside);
      this.logger.error({ corrupt, copy: aside }, 'store: skipped corrupt records; original kept');
      rewrite = true;
    }
    this.logBytes = Buffer.byteLength(text);
    this.liveBytes = 0;
    for (const [k, v] of this.data) this.liveBytes += this.recordBytes(k, v);
    return rewrite;
  }

  private recordBytes(k: string, v: string): number {
    return Buffer.byteLength(JSON.stringify({ k, v })) + 1;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`store: value for ${key} is not JSON-serialisable`);
    const old = this.data.get(key);
    if (old !== undefined) this.liveBytes -= this.recordBytes(key, old);
    else this.sortedKeys = null;
    this.data.set(key, json);
    this.liveBytes += this.recordBytes(key, json);
    await this.append(JSON.stringify({ k: key, v: json }));
  }

  async delete(key: string): Promise<void> {
    const old = this.data.get(key);
    if (old === undefined) return;
    this.liveBytes -= this.recordBytes(key, old);
    this.data.delete(key);
    this.sortedKeys = null;
    await this.append(JSON.stringify({ k: key, d: 1 }));
  }

  async keys(prefix: string): Promise<string[]> {
    if (!this.sortedKeys) this.sortedKeys = [...this.data.keys()].sort();
    // Binary search for the first key ≥ prefix, then take while the prefix matches.
    const all = this.sortedKeys;
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < all.length && all[i]!.startsWith(prefix); i++) out.push(all[i]!);
    return out;
  }

  private append(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: line + '\n', resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop().finally(() => (this.flushing = null));
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const chunk = batch.map((p) => p.line).join('');
        await this.handle.write(chunk);
        await this.handle.datasync();
        this.logBytes += Buffer.byteLength(chunk);
        for (const p of batch) p.resolve();
      } catch (err) {
        // Cut off whatever part of the batch reached the file, so the next append starts on a clean line.
        await this.handle.truncate(this.logBytes).catch(() => undefined);
        for (const p of batch) p.reject(err);
        continue;
      }
      if (this.logBytes > MIN_COMPACT_BYTES && this.logBytes > COMPACT_RATIO * this.liveBytes) {
        await this.compact().catch((err: unknown) =>
          this.logger.warn({ err: String(err) }, 'store: compaction failed'),
        );
      }
    }
  }

  /** Rewrites the log with only live records: temp file, fsync, rename, fsync the directory. */
  private async compact(): Promise<void> {
    const path = join(this.dir, LOG_NAME);
    const tmp = join(this.dir, `${LOG_NAME}.tmp-${process.pid}`);
    const h = await fs.open(tmp, 'w', 0o600);
    let bytes = 0;
    try {
      let buf = '';
      for (const [k, v] of this.data) {
        buf += JSON.stringify({ k, v }) + '\n';
        if (buf.length > 1 << 20) {
          await h.write(buf);
          bytes += Buffer.byteLength(buf);
          buf = '';
        }
      }
      if (buf) {
        await h.write(buf);
        bytes += Buffer.byteLength(buf);
      }
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, path);
    await syncDir(this.dir);
    const old = this.handle;
    this.handle = await fs.open(path, 'a', 0o600);
    await old.close();
    this.logBytes = bytes;
  }

  /** Waits for pending writes, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.handle.close();
  }
}
