// What a runtime gives the transfer engine to move file bytes on bulk lanes (see bulk-key.ts and the
// README's "Bulk lanes"): the engine keeps control (offers, the lane's key shares inside the session,
// resume points, the digest check, commit, history) and the platform moves the bytes between the file
// and a TCP connection of its own. Node: platform/node/src/bulk/platform.ts. Runtimes without it (the
// browser) simply never offer or accept lanes.
import type { DigestPoint } from './hash.js';
import type { SinkFile } from './io.js';

export interface BulkHint {
  host: string;
  port: number;
}

export interface BulkSendRequest {
  key: Uint8Array;
  /** Where the receiver listens (from its lane message). */
  hints: readonly BulkHint[];
  /** The file's source as the engine was given it (OutgoingFile.source). */
  source: string;
  size: number;
  mtime?: number;
  /** Aborted when the engine gives the lane up (the round ended): close it. */
  signal?: AbortSignal;
  /** The receiver acknowledged bytes up to `offset`. */
  onAcked(offset: number): void;
  /**
   * Optional: a state of the file digest the engine already has (a block boundary at or before where the
   * receiver starts): the platform hashes on from there instead of reading the file again from byte 0.
   */
  digestFrom?: DigestPoint;
  /**
   * Optional: the platform's digest states at block boundaries, about every `checkpointBytes` of the file
   * it read, and the last one when the lane ends early (before send() rejects). The engine keeps them, so
   * the session stream that takes over (or a later lane) does not read the file again from byte 0.
   */
  checkpointBytes?: number;
  onCheckpoint?(point: DigestPoint): void;
}

export interface BulkSendResult {
  /** Where the receiver started. */
  from: number;
  /** The whole file's digest (FileDigest, hex): what the engine sends in `end`. */
  sha256: string;
}

export interface BulkReceiveRequest {
  key: Uint8Array;
  /** The open partial, holding exactly `from` bytes; the platform appends to it (or to what it stands for). */
  sink: SinkFile;
  size: number;
  from: number;
  /** The file digest's state at a block boundary at or before `from` (bytes after it are re-read from the partial). */
  digestFrom: DigestPoint;
  /** Bytes written (and hashed) up to `offset`. */
  onWritten(offset: number): void;
  /**
   * Optional: every about `checkpointBytes` the platform flushes the partial and gives the digest's state at the
   * last block boundary: what the engine records so that a restart (a crash, a kill) continues from there.
   */
  checkpointBytes?: number;
  onCheckpoint?(point: DigestPoint): void;
}

export interface BulkReceiveResult {
  /** Bytes in the partial now. */
  written: number;
  /** The whole file's digest when `written` is the size; null when the lane ended early. */
  sha256: string | null;
  /** The digest at a block boundary at or before `written`: where the stream goes on after a cut. */
  boundary: DigestPoint;
}

export interface BulkReceiving {
  hints: BulkHint[];
  /** Settles (never rejects) once the lane finished or ended; after it the platform no longer touches the sink. */
  done: Promise<BulkReceiveResult>;
  /** Ends the lane now (cancel, shutdown); `done` still settles. */
  cancel(): void;
}

export interface BulkPlatform {
  /** Receiver: listens for the lane and returns where (the platform may refuse by throwing). */
  receive(request: BulkReceiveRequest): Promise<BulkReceiving>;
  /**
   * Whether this platform can read `source` itself (default: any). The desktop's main reads only files the
   * user picked in its own dialog; the rest go on the session stream.
   */
  canSend?(source: string): boolean;
  /** Sender: dials the receiver and sends the file from where it says. Rejects if the lane ends early. */
  send(request: BulkSendRequest): Promise<BulkSendResult>;
}
