// Public types of the transfer engine: what the UI and the CLI see.
import type { IdentityId, SessionPath } from '../api.js';
import type { TransferErrorCode } from './errors.js';

export type Direction = 'out' | 'in';

/** A file the user picked to send. */
export interface OutgoingFile {
  /** Where it lands on the receiver, relative to their receive folder; `/` separates folders. */
  relativePath: string;
  /** Opaque handle for the runtime's FileSource (absolute path in Node). */
  source: string;
  size: number;
  mime?: string;
  mtime?: number;
}

export type FileState = 'pending' | 'verified' | 'failed' | 'cancelled';

/**
 * offered: waiting for the receiver's answer (or for the contact to come online).
 * pending: (incoming) waiting for our user to accept or decline.
 * active: bytes flowing (or ready to, as soon as the link is up).
 * paused: stopped by an error that a resume can fix (full disk); partial files kept.
 * done: every file reached a final state (see each file). declined / cancelled: final.
 */
export type OfferState = 'offered' | 'pending' | 'active' | 'paused' | 'done' | 'declined' | 'cancelled';

export interface TransferErrorInfo {
  code: TransferErrorCode | string;
  message: string;
}

export interface TransferFileInfo {
  fileId: number;
  relativePath: string;
  size: number;
  mime: string;
  mtime?: number;
  state: FileState;
  /** Bytes confirmed: written by the receiver (incoming: by us). */
  bytesDone: number;
  /** Incoming, verified: where the file was saved (relative to the receive folder). */
  savedAs?: string;
  error?: TransferErrorInfo;
}

export interface TransferInfo {
  offerId: string;
  contactId: IdentityId;
  direction: Direction;
  state: OfferState;
  createdAt: number;
  total: number;
  files: TransferFileInfo[];
  error?: TransferErrorInfo;
}

export interface TransferProgress {
  offerId: string;
  contactId: IdentityId;
  direction: Direction;
  fileId: number;
  relativePath: string;
  fileBytesDone: number;
  fileSize: number;
  /** Over the whole offer. */
  bytesDone: number;
  total: number;
  /** Smoothed bytes per second. */
  speed: number;
  /** Seconds left at the smoothed speed; null while unknown. */
  eta: number | null;
  path: SessionPath;
}

export interface TransferFileEvent {
  offerId: string;
  contactId: IdentityId;
  direction: Direction;
  fileId: number;
  relativePath: string;
  state: FileState;
  savedAs?: string;
  error?: TransferErrorInfo;
}

export interface TransferEventMap {
  /** An incoming offer waits for accept() or decline(). */
  offer: TransferInfo;
  /** Any change of an offer's state. */
  state: TransferInfo;
  progress: TransferProgress;
  /** A file reached a final state. */
  file: TransferFileEvent;
  /** Something went wrong (also reflected in state events when it concerns an offer). */
  error: { contactId: IdentityId; offerId?: string; fileId?: number; code: string; message: string };
}

/** What to do with an incoming offer. */
export type OfferDecision = 'accept' | 'decline' | 'ask';

/** Counters for tests and benchmarks. */
export interface TransferStats {
  /** Chunk payload bytes handed to the stream (counts re-sent bytes again). */
  chunkBytesSent: number;
  /** Chunk payload bytes received (duplicates included). */
  chunkBytesReceived: number;
  /** Bytes dropped as duplicates by the receiver. */
  duplicateBytes: number;
  resumeRequests: number;
  /** Time the sender spent waiting for its window (receiver acks) and for the stream (its backpressure), ms. */
  windowWaitMs: number;
  streamWaitMs: number;
  /** Receiver: most bytes that ever waited to be written (arrived, not yet on disk). */
  maxQueuedBytes: number;
  /** File bytes moved on bulk lanes (outside the session stream), each way. */
  laneBytesSent: number;
  laneBytesReceived: number;
}
