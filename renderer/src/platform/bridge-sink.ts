// The transfer engine's FileSink over the Electron bridge (ParleyBridge.downloads): received files are
// written by the main process into <Downloads>/Parley. Each IPC call is a round trip through two
// processes, so the engine's chunks (up to 256 KiB) are gathered into 1 MiB blocks and a few blocks are kept in
// flight (the main process applies one handle's calls in order). A write error surfaces on the next call;
// the engine flushes before every checkpoint, so nothing unwritten is ever recorded as done.
import type { BridgeDownloads } from '../../../core/src/bridge.js';
import { TransferError, isTransferErrorCode } from '../../../core/src/transfer/errors.js';
import type { FileSink, SinkFile, SinkOpenOptions } from '../../../core/src/transfer/io.js';

/** Bytes per write call: the main process refuses more than 1 MiB. */
export const BRIDGE_WRITE_BLOCK = 1024 * 1024;
/** Blocks posted and not yet acknowledged. */
export const BRIDGE_WRITE_WINDOW = 4;

/**
 * Turns a rejected bridge call into a TransferError. The main process ends its messages with the
 * engine's error code in brackets ("disk full ... [disk-full]"); Electron adds a prefix of its own.
 */
export function bridgeError(err: unknown): TransferError {
  if (err instanceof TransferError) return err;
  let message = err instanceof Error ? err.message : String(err);
  message = message.replace(/^Error invoking remote method '[^']*': /, '').replace(/^(\w*Error): /, '');
  const marker = /\s*\[([a-z-]+)\]\s*$/.exec(message);
  const code = marker?.[1];
  if (marker && code && isTransferErrorCode(code)) return new TransferError(code, message.slice(0, marker.index));
  return new TransferError('write-failed', `Could not write the file: ${message}`);
}

/** The main-process handle behind each sink file this module made (bulk lanes write to it in main). */
const handles = new WeakMap<SinkFile, string>();

/** The download handle of a sink file from BridgeFileSink; undefined for any other sink. */
export function bridgeSinkHandle(file: SinkFile): string | undefined {
  return handles.get(file);
}

class BridgeSinkFile implements SinkFile {
  private block = new Uint8Array(BRIDGE_WRITE_BLOCK);
  private fill = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private error: TransferError | null = null;
  private closed = false;

  constructor(
    private readonly downloads: BridgeDownloads,
    private readonly handle: string,
    readonly existingBytes: number,
  ) {}

  private check(): void {
    if (this.error) throw this.error;
    if (this.closed) throw new TransferError('write-failed', 'the file is closed');
  }

  /** Posts the gathered bytes and waits until every posted block was written. */
  private async drain(): Promise<void> {
    await this.post();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.error) throw this.error;
  }

  private async post(): Promise<void> {
    if (this.fill === 0) return;
    // A full block goes as it is; a partial one as a copy of exactly its bytes.
    const data = this.fill === this.block.length ? this.block : this.block.slice(0, this.fill);
    this.block = new Uint8Array(BRIDGE_WRITE_BLOCK);
    this.fill = 0;
    const p: Promise<void> = this.downloads
      .write(this.handle, data)
      .catch((e: unknown) => {
        this.error ??= bridgeError(e);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= BRIDGE_WRITE_WINDOW) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check();
    await this.drain();
    const parts: Uint8Array[] = [];
    let got = 0;
    try {
      while (got < length) {
        const part = await this.downloads.read(this.handle, offset + got, Math.min(BRIDGE_WRITE_BLOCK, length - got));
        if (part.length === 0) break;
        parts.push(part);
        got += part.length;
      }
    } catch (e) {
      throw bridgeError(e);
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(got);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  async truncate(offset: number): Promise<void> {
    this.check();
    await this.drain();
    await this.downloads.truncate(this.handle, offset).catch((e: unknown) => {
      throw bridgeError(e);
    });
  }

  /** Copies at once (the chunk may be a view into a pool its owner reuses); resolves once queued. */
  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, this.block.length - this.fill);
      this.block.set(chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.block.length) await this.post();
    }
  }

  async flush(): Promise<void> {
    this.check();
    await this.drain();
    await this.downloads.flush(this.handle).catch((e: unknown) => {
      throw bridgeError(e);
    });
  }

  async commit(): Promise<string> {
    this.check();
    await this.drain();
    this.closed = true;
    return this.downloads.commit(this.handle).catch((e: unknown) => {
      throw bridgeError(e);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Keep what arrived: the partial is what a later resume continues from.
    await this.post().catch(() => undefined);
    await Promise.allSettled(this.inFlight);
    this.closed = true;
    await this.downloads.close(this.handle).catch((e: unknown) => {
      throw bridgeError(e);
    });
  }
}

export class BridgeFileSink implements FileSink {
  constructor(private readonly downloads: BridgeDownloads) {}

  async open(relativePath: string, options: SinkOpenOptions): Promise<SinkFile> {
    try {
      const { handle, existingBytes } = await this.downloads.open(relativePath, options.key);
      const file = new BridgeSinkFile(this.downloads, handle, existingBytes);
      handles.set(file, handle);
      return file;
    } catch (e) {
      throw bridgeError(e);
    }
  }

  async discard(relativePath: string, key: string): Promise<void> {
    await this.downloads.discard(relativePath, key).catch((e: unknown) => {
      throw bridgeError(e);
    });
  }
}
