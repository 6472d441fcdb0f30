// Reading a user-chosen file for sending: Blob slicing, one chunk in memory at a time.

export const DEFAULT_READ_CHUNK = 64 * 1024;

/** Yields the file's bytes from `offset` in chunks of at most `chunkSize`; never reads the whole file. */
export async function* readBlobChunks(
  blob: Blob,
  options: { offset?: number; chunkSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<Uint8Array<ArrayBuffer>, void, undefined> {
  const chunkSize = options.chunkSize ?? DEFAULT_READ_CHUNK;
  if (!(chunkSize > 0)) throw new RangeError('chunkSize must be positive');
  let offset = Math.max(0, Math.min(options.offset ?? 0, blob.size));
  while (offset < blob.size) {
    options.signal?.throwIfAborted();
    const end = Math.min(offset + chunkSize, blob.size);
    const buf = await blob.slice(offset, end).arrayBuffer();
    // A file that shrank under us ends early rather than looping forever.
    if (buf.byteLength === 0) throw new Error('file became shorter while reading');
    offset += buf.byteLength;
    yield new Uint8Array(buf);
  }
}

/** Reads one range [offset, offset+length) of a blob. */
export async function readBlobRange(blob: Blob, offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
}
