// What the engine shares with each transfer: IO, storage, options, the current link, events.
import type { IdentityId, SessionPath } from '../api.js';
import type { Logger } from '../platform/types.js';
import type { BulkPlatform } from './bulk-platform.js';
import type { Sha256StreamFactory } from './hash.js';
import type { FileSink, FileSource } from './io.js';
import type { ControlMessage } from './protocol.js';
import type { TransferStore } from './store.js';
import type { TransferEventMap, TransferStats } from './types.js';

export interface ResolvedOptions {
  chunkBytes: number;
  windowBytes: number;
  relayWindowBytes: number;
  ackBytes: number;
  checkpointBytes: (size: number) => number;
  maxTailBytes: number;
  progressIntervalMs: number;
  /** Native block hash for FileDigest (undefined: WebCrypto). */
  blockHash?: Sha256StreamFactory;
  /** Files at least this big go on a bulk lane when both sides can (default 1 MiB). */
  bulkMinBytes: number;
}

/** A contact's stream as the transfers use it; replaced on every (re)attach. */
export interface TransferLink {
  readonly contactId: IdentityId;
  readonly epoch: number;
  readonly closed: boolean;
  path(): SessionPath;
  /** The largest chunk the stream wants now (FrameStream.chunkBytes), or undefined. */
  chunkBytes?(): number | undefined;
  /** Which transport carries the session ('tcp', 'webrtc', 'relay', 'none'), when the stream knows. */
  route?(): string;
  /** Queues a control message; never throws (a lost message is recovered by the resync on the next attach). */
  control(message: ControlMessage): void;
  /**
   * Sends a chunk frame, resolving when the stream has room again; rejects when the link closed. `onAcked`
   * (optional) runs once the peer acknowledged the frame and the stream let go of it (see FrameStream.send).
   */
  chunk(frame: Uint8Array, onAcked?: () => void): Promise<void>;
}

export interface TransferContext {
  readonly source: FileSource;
  readonly sink: FileSink;
  /** Moves file bytes on bulk lanes, where the runtime can (Node, the desktop's main process). */
  readonly bulk?: BulkPlatform;
  readonly store: TransferStore;
  readonly logger: Logger;
  readonly options: ResolvedOptions;
  readonly stats: TransferStats;
  now(): number;
  link(contactId: IdentityId): TransferLink | undefined;
  emit<K extends keyof TransferEventMap>(event: K, payload: TransferEventMap[K]): void;
}
