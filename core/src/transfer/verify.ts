// The end of a received file: every byte written and flushed, its SHA-256 compared with the sender's,
// then the partial gets its final name (commit, never replacing a file) or, proven wrong, is deleted.
import { asTransferError, TransferErrorCode } from './errors.js';
import type { FileSink } from './io.js';
import { partialKey, type OpenFile } from './open-file.js';

/** Whether the file's digest is the sender's; a hashing failure is remembered on the file. */
export async function digestMatches(open: OpenFile, sha256: string): Promise<boolean> {
  if (open.laneDigest !== undefined) return open.laneDigest === sha256;
  try {
    return (await open.hash.hex()) === sha256;
  } catch (error) {
    open.failed = asTransferError(error, TransferErrorCode.WriteFailed, `cannot hash ${open.file.meta.relativePath}`);
    throw open.failed;
  }
}

/** Gives the verified partial its final name; returns the relative path used. */
export async function commitVerified(open: OpenFile): Promise<string> {
  try {
    return await open.sink.commit();
  } catch (error) {
    open.failed = asTransferError(error, TransferErrorCode.WriteFailed, `cannot save ${open.file.meta.relativePath}`);
    throw open.failed;
  }
}

/** Deletes a partial whose digest did not match. */
export async function discardUnverified(open: OpenFile, sink: FileSink, offerId: string): Promise<void> {
  await open.sink.close().catch(() => {});
  await sink.discard(open.file.meta.relativePath, partialKey(offerId, open.file)).catch(() => {});
}
