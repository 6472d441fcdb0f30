// The transfer engine's file IO in the browser (core/src/transfer/io.ts).
// Sending: the user's File objects, read through one byte stream per file (blob-reader.ts).
// Receiving: the origin-private file system through the worker's sync access handles, written in place
// as `partial/<key>.part` (so a reload resumes it), moved to `downloads/<path>` after verification.
import { TransferError } from '../../../core/src/transfer/errors.js';
import type { FileSink, FileSource, SinkFile, SinkOpenOptions, SourceFile } from '../../../core/src/transfer/io.js';
import { assertRelativePath } from '../../../core/src/transfer/names.js';
import { BlobReader } from './blob-reader.js';
import { uniqueName } from './filenames.js';
import { DOWNLOADS_DIR, PARTIAL_DIR, moveFile, namesIn, opfsDir } from './opfs.js';
import { WRITE_BLOCK, WRITE_WINDOW, opfsWorker, returnBlock, takeBlock } from './opfs-client.js';

/** Files the user picked this session, by the opaque id given to the engine as `source`. */
export class BrowserFileSource implements FileSource {
  private readonly files = new Map<string, File>();
  private next = 1;

  /** Registers a picked file; returns the `source` id for OutgoingFile. */
  add(file: File): string {
    const id = `file-${Date.now().toString(36)}-${this.next++}`;
    this.files.set(id, file);
    return id;
  }

  async open(source: string): Promise<SourceFile> {
    const file = this.files.get(source);
    if (!file) {
      throw new TransferError(
        'source-unreadable',
        'The file is no longer available (the page was reloaded). Send it again.',
      );
    }
    const reader = new BlobReader(file);
    return {
      size: file.size,
      mtime: file.lastModified,
      async read(offset: number, length: number): Promise<Uint8Array> {
        try {
          return await reader.read(offset, length);
        } catch (err) {
          throw new TransferError(
            'source-unreadable',
            `Cannot read ${file.name}: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      },
      async close() {
        reader.close();
      },
    };
  }
}

function writeError(err: unknown): TransferError {
  if (err instanceof TransferError) return err;
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  const detail = err instanceof Error ? err.message : String(err);
  return name === 'QuotaExceededError'
    ? new TransferError('disk-full', 'The browser has no more storage for this site; the partial file is kept.')
    : new TransferError('write-failed', `Could not write the file: ${detail}`);
}

class OpfsSinkFile implements SinkFile {
  /** File offset where the block being gathered starts. */
  private position: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The block being gathered (a pooled buffer), and its bytes so far. */
  private block: Uint8Array<ArrayBuffer> | null = null;
  private fill = 0;
  private error: TransferError | null = null;
  private closed = false;

  constructor(
    readonly existingBytes: number,
    private readonly handle: number,
    private readonly partial: string,
    private readonly relativePath: string,
  ) {
    this.position = existingBytes;
  }

  private check(): void {
    if (this.error) throw this.error;
    if (this.closed) throw new TransferError('write-failed', 'the file is closed');
  }

  private async drain(): Promise<void> {
    await this.post();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.error) throw this.error;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check();
    await this.drain();
    const reply = await opfsWorker()
      .call({ op: 'read', handle: this.handle, at: offset, length })
      .catch((e: unknown) => {
        throw writeError(e);
      });
    return new Uint8Array(reply.data ?? new ArrayBuffer(0));
  }

  /**
   * The file digest's block hashes, computed by the worker from what it wrote (core/src/transfer/io.ts):
   * the page neither copies nor hashes received bytes. Bytes still gathered here are posted first; the
   * worker serves requests in order, so it hashes them after writing them.
   */
  async hashRange(offset: number, length: number): Promise<Uint8Array> {
    this.check();
    if (offset + length > this.position) await this.post();
    const reply = await opfsWorker()
      .call({ op: 'hash', handle: this.handle, at: offset, length })
      .catch((e: unknown) => {
        throw writeError(e);
      });
    return new Uint8Array(reply.data!);
  }

  async truncate(offset: number): Promise<void> {
    this.check();
    await this.drain();
    await opfsWorker()
      .call({ op: 'truncate', handle: this.handle, size: offset })
      .catch((e: unknown) => {
        throw writeError(e);
      });
    this.position = offset;
  }

  /**
   * Pipelined: chunks are copied into blocks that end on WRITE_BLOCK boundaries of the file, each posted
   * to the worker (transferred) with a few in flight; resolves once copied. Errors surface on the next
   * call (flush() before every checkpoint).
   */
  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    let at = 0;
    while (at < chunk.length) {
      // The first block after an open or a truncate is short, so later blocks sit at whole multiples.
      const room = WRITE_BLOCK - ((this.position + this.fill) % WRITE_BLOCK);
      const n = Math.min(room, chunk.length - at);
      this.block ??= new Uint8Array(takeBlock());
      this.block.set(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (n === room) await this.post();
    }
  }

  /** Sends the gathered block as one write. */
  private async post(): Promise<void> {
    if (!this.block || this.fill === 0) return;
    const buffer = this.block.buffer;
    const length = this.fill;
    const position = this.position;
    this.block = null;
    this.fill = 0;
    this.position += length;
    const p: Promise<unknown> = opfsWorker()
      .call({ op: 'write', handle: this.handle, at: position, data: buffer, length }, [buffer])
      .then(
        (reply) => returnBlock(reply.data),
        (e: unknown) => {
          this.error ??= writeError(e);
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= WRITE_WINDOW) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
  }

  async flush(): Promise<void> {
    this.check();
    await this.drain();
    await opfsWorker()
      .call({ op: 'flush', handle: this.handle })
      .catch((e: unknown) => {
        throw writeError(e);
      });
  }

  async commit(): Promise<string> {
    await this.drain();
    await this.close();
    const parts = this.relativePath.split('/');
    const dirs = parts.slice(0, -1);
    const target = await opfsDir([DOWNLOADS_DIR, ...dirs].join('/'));
    const taken = await namesIn(target);
    // The path was checked when the file was opened (core/src/transfer/names.ts): its last segment is a safe name.
    const finalName = uniqueName(parts[parts.length - 1]!, (n) => taken.has(n));
    try {
      await moveFile(await opfsDir(PARTIAL_DIR), this.partial, target, finalName);
    } catch (err) {
      throw writeError(err);
    }
    return [...dirs, finalName].join('/');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Keep what arrived: the partial is what a later resume continues from.
    await this.post().catch(() => undefined);
    await Promise.allSettled(this.inFlight);
    this.closed = true;
    await opfsWorker().call({ op: 'close', handle: this.handle });
  }
}

export class OpfsFileSink implements FileSink {
  /**
   * Starts the storage worker and its folder while an offer waits for the user. Done at the first open
   * instead, it held back the first file's first bytes by 0.9-1 s (bench:e2e's first round).
   */
  warm(): void {
    opfsWorker()
      .call({ op: 'warm', dir: PARTIAL_DIR })
      .catch(() => undefined);
  }

  async open(relativePath: string, options: SinkOpenOptions): Promise<SinkFile> {
    assertRelativePath(relativePath);
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(options.key)) throw new TransferError('bad-name', 'invalid partial file key');
    const partial = `${options.key}.part`;
    try {
      const reply = await opfsWorker().call({ op: 'open', dir: PARTIAL_DIR, name: partial });
      return new OpfsSinkFile(reply.size ?? 0, reply.handle!, partial, relativePath);
    } catch (err) {
      throw writeError(err);
    }
  }

  async discard(_relativePath: string, key: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(key)) return;
    const dir = await opfsDir(PARTIAL_DIR);
    await dir.removeEntry(`${key}.part`).catch(() => undefined);
  }
}
