// File IO the transfer engine needs, injected by each runtime: Node (platform/node/src/file-io.ts)
// and the browser (renderer/src/platform/: Blob slicing to read, OPFS to write; Electron writes through the bridge into Downloads).
// All sizes and offsets are byte counts; all methods may throw TransferError (or anything else, which
// the engine wraps with a code of its own choosing).

/** Opens files to send, by an opaque source string the runtime chose when the user picked them. */
export interface FileSource {
  /**
   * Opens a source. `source` is whatever the runtime put in OutgoingFile.source: an absolute path in
   * Node, an id of a File / FileSystemFileHandle in the browser. It must still name the same file after
   * an app restart for a sender-side resume to work; otherwise throw (the file then fails clearly).
   */
  open(source: string): Promise<SourceFile>;
}

export interface SourceFile {
  readonly size: number;
  /** Modification time in ms since epoch, when the platform knows it (used to detect a changed source). */
  readonly mtime?: number;
  /**
   * Reads up to `length` bytes at `offset`. Returns fewer only at end of file. The engine keeps
   * at most four reads outstanding (reading ahead of the chunk being sent), sequential except after a resume,
   * and awaits them in call order.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: read() into a buffer that begins with `headroom` bytes of room for the caller (their content is
   * unspecified), so the result is `headroom` + the bytes read. A sender builds its chunk frame around the data
   * in place: no zero-filled frame to allocate and no copy of the chunk into it. Same order rules as read().
   */
  readFramed?(offset: number, length: number, headroom: number): Promise<Uint8Array>;
  /**
   * Optional: a buffer readFramed() returned is no longer read by anyone (its frame was acknowledged by the
   * peer), so the source may read into it again instead of allocating a new one. Fresh large buffers cost a
   * page fault per 4 KiB when first written: reusing them made reading a file about half as costly.
   * May come after close() (acknowledgements arrive later): then it is ignored.
   */
  release?(buffer: Uint8Array): void;
  close(): Promise<void>;
}

export interface SinkOpenOptions {
  /** Stable id of this incoming file (offer id + file id), safe as part of a file name: [A-Za-z0-9_-]. */
  key: string;
  /** Expected final size. */
  size: number;
  mime: string;
  mtime?: number;
}

/**
 * Writes incoming files. A file is written as a partial (e.g. `name.<key>.part`) next to where it will
 * end, and becomes its final name only through commit(), after the engine verified its SHA-256.
 */
export interface FileSink {
  /**
   * Opens the partial for `relativePath` (already validated by the engine: relative, no `..`, no device
   * names), creating folders as needed. If a partial for `key` exists it is kept and reported in
   * `existingBytes`; the engine then calls truncate() to the offset it wants to continue from.
   */
  open(relativePath: string, options: SinkOpenOptions): Promise<SinkFile>;
  /** Deletes a partial that is no longer wanted (cancelled, or proven corrupt). Missing → no error. */
  discard(relativePath: string, key: string): Promise<void>;
}

export interface SinkFile {
  /** Bytes found in the partial when opened (0 for a new file). */
  readonly existingBytes: number;
  /**
   * Reads back bytes of the partial. Optional: with it the engine can keep bytes written after the last
   * flush() (a crash loses little); without it, it resumes from its last durable checkpoint.
   */
  read?(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: SHA-256 of the partial's bytes [offset, offset + length) (at most 1 MiB) as stored. A sink
   * whose bytes already pass through another thread (the browser's storage worker) hashes there, so the
   * engine's thread neither copies nor hashes them. The engine asks only for bytes whose write() has
   * resolved, or that the partial held when opened; the sink serves the request after those writes.
   */
  hashRange?(offset: number, length: number): Promise<Uint8Array>;
  /** Drops everything from `offset` on; later writes append from there. */
  truncate(offset: number): Promise<void>;
  /**
   * Appends. The engine never calls write() again before the previous one settled. Once it settled, the
   * chunk's memory may be reused for other bytes (received records are lent, session/buffer-lease.ts): a sink
   * that keeps bytes beyond that copies them.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Optional: appends several pieces in one call (Node: FileHandle.writev), used when chunks queue up. Same rules as write(). */
  writev?(chunks: Uint8Array[]): Promise<void>;
  /**
   * Makes every byte written so far durable (fsync). The engine records its checkpoint only after this
   * resolves. May run while the next write() is in flight.
   */
  flush(): Promise<void>;
  /**
   * Closes and gives the verified partial its final name (never replacing an existing file: pick
   * "name (1).ext" instead). Returns the final relative path. The engine calls flush() just before.
   */
  commit(): Promise<string>;
  /** Closes, keeping the partial for a later resume. */
  close(): Promise<void>;
}
