// IPC messages between a test (or the bench) and transfer-peer.ts.
import type { SessionPath } from '../../../core/src/api.js';
import type { TransferEventMap, TransferInfo, TransferStats } from '../../../core/src/transfer/index.js';

export interface TransferPeerOptions {
  /** Where received files go. */
  recvDir: string;
  directDisabled?: boolean;
  directHeadStartMs?: number;
  directStallMs?: number;
  windowBytes?: number;
  relayWindowBytes?: number;
  chunkBytes?: number;
  ackBytes?: number;
  /** fdatasync on checkpoints and commits (default true). */
  sync?: boolean;
  /** Least ms between progress events (default 200). */
  progressMs?: number;
  /** Forward per-file events (default true; off for folders of thousands of files). */
  fileEvents?: boolean;
  debug?: boolean;
}

export interface PeerStats {
  engine: TransferStats;
  stream: { framesSent: number; framesResent: number; unackedBytes: number } | null;
  rss: number;
  maxRss: number;
  path: SessionPath;
}

export type TransferIn =
  | { cmd: 'add'; req: number; invite: string }
  | { cmd: 'send'; req: number; contactId: string; paths: string[] }
  /** Pushes a raw control message on the contact's file stream (hostile-peer tests). */
  | { cmd: 'raw'; req: number; contactId: string; message: unknown }
  | { cmd: 'resume'; req: number; offerId: string }
  | { cmd: 'cancel'; req: number; offerId: string }
  | { cmd: 'list'; req: number }
  | { cmd: 'stats'; req: number; contactId?: string; resetMaxRss?: boolean }
  | { cmd: 'close'; req: number };

export type TransferOut =
  | { type: 'ready'; id: string; invite: string; rss: number }
  | { type: 'state'; info: TransferInfo }
  | { type: 'offer'; info: TransferInfo }
  | { type: 'file'; event: TransferEventMap['file'] }
  | { type: 'progress'; progress: TransferEventMap['progress']; rss: number }
  | { type: 'error'; error: TransferEventMap['error'] }
  | { type: 'path'; contactId: string; path: SessionPath }
  | { type: 'contact'; id: string; online: boolean }
  | { type: 'raw-reply'; message: unknown }
  | { type: 'result'; req: number; value?: unknown; error?: string };
