// The received file being written right now: its partial (the sink's handle), the running digest,
// and how far it got (expected, acked, durable, checkpointed). Sink calls go through sinkOp so an IO
// failure is remembered on the file with a clear code.
import { asTransferError, TransferErrorCode } from './errors.js';
import type { BulkReceiveResult } from './bulk-platform.js';
import type { FileDigest } from './hash.js';
import type { FileSink, SinkFile } from './io.js';
import type { FileEntry } from './offer-base.js';
import type { Unconfirmed } from './resume-point.js';

export interface OpenFile {
  file: FileEntry;
  sink: SinkFile;
  hash: FileDigest;
  expected: number;
  /** Bytes in the partial right now. */
  length: number;
  unconfirmed: Unconfirmed | undefined;
  lastAck: number;
  durable: number;
  lastCheckpoint: number;
  checkpointing: Promise<void> | null;
  /** Offset we already asked the sender to resume from (ask once per gap). */
  askedFrom: number;
  failed: unknown;
  /** A bulk lane writing this partial right now (its outcome), and how to end it. */
  lane?: { done: Promise<BulkReceiveResult>; cancel: () => void } | null;
  /** The whole file's digest as the lane computed it (every byte came on the lane or before it). */
  laneDigest?: string;
}

/** The partial's key: one per (offer, file), so two offers of the same name never share a partial. */
export function partialKey(offerId: string, file: FileEntry): string {
  return `${offerId}-${file.meta.fileId}`;
}

/** Opens (creating) the partial of `file`, keeping the bytes it already holds. */
export async function openPartial(sink: FileSink, offerId: string, file: FileEntry): Promise<SinkFile> {
  const { meta } = file;
  try {
    return await sink.open(meta.relativePath, {
      key: partialKey(offerId, file),
      size: meta.size,
      mime: meta.mime,
      ...(meta.mtime !== undefined ? { mtime: meta.mtime } : {}),
    });
  } catch (error) {
    throw asTransferError(error, TransferErrorCode.WriteFailed, `cannot create ${meta.relativePath}`);
  }
}

/** Runs a sink operation; an IO failure is remembered on the file and rethrown with a clear code. */
export async function sinkOp(open: OpenFile, op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (error) {
    open.failed = asTransferError(error, TransferErrorCode.WriteFailed, `cannot write ${open.file.meta.relativePath}`);
    throw open.failed;
  }
}

/** Cuts the partial back to `expected` when it holds more (bytes we decided not to keep). */
export async function trimToExpected(open: OpenFile): Promise<void> {
  if (open.length === open.expected) return;
  await sinkOp(open, () => open.sink.truncate(open.expected));
  open.length = open.expected;
}

/** Appends pieces with one call when the sink can (writev), else one after another. */
export function writePieces(sink: SinkFile, pieces: Uint8Array[]): Promise<void> {
  if (pieces.length === 1) return sink.write(pieces[0]!);
  if (sink.writev) return sink.writev(pieces);
  return pieces.reduce((done: Promise<void>, piece) => done.then(() => sink.write(piece)), Promise.resolve());
}

/** Closes the partial, keeping it, after any checkpoint in progress (and ending a lane writing it). */
export async function closePartial(open: OpenFile): Promise<void> {
  if (open.lane) {
    open.lane.cancel();
    await open.lane.done;
    open.lane = null;
  }
  if (open.checkpointing) await open.checkpointing;
  await open.sink.close().catch(() => {});
}
