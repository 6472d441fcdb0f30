// In-memory platform pieces for engine tests: a KeyValueStore, a FileSource, and a "disk" FileSink
// that distinguishes written from flushed bytes and can crash (old handles go dead; optionally the
// unflushed bytes are lost, like a power cut) or run out of space.
import { createHash } from 'node:crypto';
import type { KeyValueStore } from '../../../../core/src/platform/types.js';
import {
  TransferError,
  TransferErrorCode,
  type FileSink,
  type FileSource,
  type SinkFile,
  type SourceFile,
} from '../../../../core/src/transfer/index.js';

export class MemoryKV {
  readonly data = new Map<string, string>();
  private generation = 0;
  writes = 0;

  /** A store handle; handles from before the last crash() stop writing. */
  view(): KeyValueStore {
    const generation = this.generation;
    const alive = () => generation === this.generation;
    return {
      get: async <T>(key: string) => {
        const value = this.data.get(key);
        return value === undefined ? undefined : (JSON.parse(value) as T);
      },
      set: async (key, value) => {
        await Promise.resolve();
        if (!alive()) throw new Error('process is dead');
        this.writes += 1;
        this.data.set(key, JSON.stringify(value));
      },
      delete: async (key) => {
        if (alive()) this.data.delete(key);
      },
      keys: async (prefix) => [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort(),
    };
  }

  crash(): void {
    this.generation += 1;
  }
}

export class MemorySources implements FileSource {
  readonly files = new Map<string, { data: Uint8Array; mtime?: number; failAt?: number }>();
  opens = 0;
  /** Each read takes this long (a slow disk, or a browser's Blob read through another process). */
  readDelayMs = 0;
  /** Reads started and not finished now, and the most at once. */
  reading = 0;
  maxReading = 0;
  /** Offer readFramed (as Node's file source does), its headroom full of garbage; reads of each kind. */
  framed = false;
  plainReads = 0;
  framedReads = 0;

  add(source: string, data: Uint8Array, options: { mtime?: number; failAt?: number } = {}): void {
    this.files.set(source, { data, ...options });
  }

  async open(source: string): Promise<SourceFile> {
    this.opens += 1;
    const file = this.files.get(source);
    if (!file) throw new TransferError(TransferErrorCode.SourceUnreadable, `${source}: no such file`);
    return {
      size: file.data.length,
      ...(file.mtime !== undefined ? { mtime: file.mtime } : {}),
      ...(this.framed
        ? {
            readFramed: async (offset: number, length: number, headroom: number) => {
              this.framedReads += 1;
              const data = file.data.subarray(offset, offset + length);
              const out = new Uint8Array(headroom + data.length).fill(0xee, 0, headroom);
              out.set(data, headroom);
              await Promise.resolve();
              return out;
            },
          }
        : {}),
      read: async (offset, length) => {
        this.plainReads += 1;
        this.reading += 1;
        this.maxReading = Math.max(this.maxReading, this.reading);
        try {
          if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
          else await Promise.resolve();
        } finally {
          this.reading -= 1;
        }
        if (file.failAt !== undefined && offset + length > file.failAt) {
          throw new TransferError(TransferErrorCode.SourceUnreadable, `${source}: I/O error`);
        }
        return file.data.slice(offset, offset + length);
      },
      close: async () => {},
    };
  }
}

interface DiskFile {
  data: Uint8Array;
  length: number;
  durable: number;
}

export class MemoryDisk implements FileSink {
  readonly files = new Map<string, DiskFile>();
  /** Total bytes the disk holds; writes beyond fail with 'disk full'. */
  capacity = Infinity;
  /** Delay each write by this many ms (slow disk). */
  writeDelayMs = 0;
  bytesWritten = 0;
  /** Called after each successful write (tests sample counters here). */
  onWrite: (() => void) | null = null;
  /** Files offer hashRange, as the browser's storage worker does: block hashes of what is stored. */
  hashesStored = false;
  /** hashRange calls answered. */
  rangesHashed = 0;
  private generation = 0;

  used(): number {
    let used = 0;
    for (const file of this.files.values()) used += file.length;
    return used;
  }

  /** Final (committed) files: everything that is not a partial. */
  finals(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [name, file] of this.files)
      if (!name.endsWith('.part')) out.set(name, file.data.subarray(0, file.length));
    return out;
  }

  partials(): string[] {
    return [...this.files.keys()].filter((n) => n.endsWith('.part'));
  }

  /** The process died: its handles stop working. 'power-loss' also drops bytes never flushed. */
  crash(mode: 'kill' | 'power-loss' = 'kill'): void {
    this.generation += 1;
    if (mode === 'power-loss')
      for (const file of this.files.values()) file.length = Math.min(file.length, file.durable);
  }

  async discard(relativePath: string, key: string): Promise<void> {
    this.files.delete(`${relativePath}.${key}.part`);
  }

  async open(relativePath: string, options: { key: string }): Promise<SinkFile> {
    const generation = this.generation;
    const alive = () => {
      if (generation !== this.generation) throw new Error('process is dead');
    };
    const partName = `${relativePath}.${options.key}.part`;
    let file = this.files.get(partName);
    if (!file) {
      file = { data: new Uint8Array(1024), length: 0, durable: 0 };
      this.files.set(partName, file);
    }
    const f = file;
    const disk = this;
    return {
      existingBytes: f.length,
      read: async (offset, length) => f.data.slice(offset, Math.min(f.length, offset + length)),
      ...(disk.hashesStored
        ? {
            hashRange: async (offset: number, length: number) => {
              await Promise.resolve();
              alive();
              // Asked only for stored bytes (the engine's contract): anything else is a bug to catch.
              if (offset + length > f.length) throw new Error(`hashRange past the stored bytes: ${offset}+${length}`);
              disk.rangesHashed += 1;
              return new Uint8Array(
                createHash('sha256')
                  .update(f.data.subarray(offset, offset + length))
                  .digest(),
              );
            },
          }
        : {}),
      truncate: async (offset) => {
        alive();
        f.length = Math.min(f.length, offset);
        f.durable = Math.min(f.durable, offset);
      },
      write: async (chunk) => {
        if (disk.writeDelayMs) await new Promise((r) => setTimeout(r, disk.writeDelayMs));
        else await Promise.resolve();
        alive();
        if (disk.used() + chunk.length > disk.capacity) {
          // Like a real disk: as much as fits is written, then ENOSPC.
          const fits = Math.max(0, disk.capacity - disk.used());
          grow(f, f.length + fits);
          f.data.set(chunk.subarray(0, fits), f.length);
          f.length += fits;
          throw new TransferError(TransferErrorCode.DiskFull, `disk full while writing ${relativePath}`);
        }
        grow(f, f.length + chunk.length);
        f.data.set(chunk, f.length);
        f.length += chunk.length;
        disk.bytesWritten += chunk.length;
        disk.onWrite?.();
      },
      flush: async () => {
        // Like fsync: covers the writes completed before the call.
        const length = f.length;
        await Promise.resolve();
        alive();
        f.durable = Math.max(f.durable, Math.min(length, f.length));
      },
      commit: async () => {
        alive();
        let name = relativePath;
        for (let n = 1; disk.files.has(name); n++) name = `${relativePath} (${n})`;
        disk.files.delete(partName);
        disk.files.set(name, f);
        return name;
      },
      close: async () => {},
    };
  }
}

function grow(file: DiskFile, size: number): void {
  if (size <= file.data.length) return;
  const next = new Uint8Array(Math.max(size, file.data.length * 2));
  next.set(file.data.subarray(0, file.length));
  file.data = next;
}

/** Deterministic pseudo-random bytes (xorshift32), fast enough for tens of MB. */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, Math.floor(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  for (let i = words.length * 4; i < length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) & 0xff;
  return out;
}
