// The IPC contract between the preload and the main process: channel names and the shapes that cross.
// Types only plus string constants, so the preload bundle stays tiny. The main process validates every
// argument with the zod schemas in main/bridge-ipc.ts; these types are what a well-behaved preload sends.

export const Channel = {
  RelayUrl: 'parley:relay-url',
  Notify: 'parley:notify',
  TrayState: 'parley:tray-state',
  OpenDownloads: 'parley:open-downloads',
  OpenExternal: 'parley:open-external',
  /** Deep links that arrived before the renderer subscribed (launch argv); taking them marks it ready. */
  TakeDeepLinks: 'parley:take-deep-links',
} as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

/** Channels of the received-files sink (ParleyBridge.downloads), served by main/download-sinks.ts. */
export const DownloadChannel = {
  Open: 'parley:download-open',
  Read: 'parley:download-read',
  Truncate: 'parley:download-truncate',
  Write: 'parley:download-write',
  Flush: 'parley:download-flush',
  Commit: 'parley:download-commit',
  Close: 'parley:download-close',
  Discard: 'parley:download-discard',
  Reveal: 'parley:download-reveal',
} as const;
export type DownloadChannel = (typeof DownloadChannel)[keyof typeof DownloadChannel];

/** Largest chunk one download-write (or download-read) call carries. */
export const MAX_DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

/** Channels of the direct TCP path's sockets (ParleyBridge.tcp), served by main/tcp-sockets.ts. */
export const TcpChannel = {
  Listen: 'parley:tcp-listen',
  CloseListener: 'parley:tcp-close-listener',
  Connect: 'parley:tcp-connect',
  /** The renderer holds the socket now: main starts passing its records on (none are lost before). */
  Start: 'parley:tcp-start',
  Send: 'parley:tcp-send',
  /** Bytes of received records the renderer consumed (main stops a socket whose renderer falls behind). */
  Ack: 'parley:tcp-ack',
  Close: 'parley:tcp-close',
} as const;
export type TcpChannel = (typeof TcpChannel)[keyof typeof TcpChannel];

/** Largest record one tcp-send (or one received record) carries: a sealed 256 KiB record plus room. */
export const MAX_TCP_RECORD_BYTES = 256 * 1024 + 1024;

/** What main sends on RendererEvent.Tcp (one channel, so a socket's events keep their order). */
export type TcpEventMessage =
  | { kind: 'accept'; listener: string; socket: string; remote: string }
  | { kind: 'frame'; socket: string; data: Uint8Array }
  | { kind: 'close'; socket: string; reason: string };

/**
 * Channels of bulk lanes (ParleyBridge.bulk), served by main/bulk-lanes.ts: main moves a file's bytes between
 * disk and a TCP lane of its own; the renderer's engine keeps control and never carries the bytes.
 */
export const BulkChannel = {
  /** Receive a file on a lane into an open download handle; returns the lane and where main listens. */
  Receive: 'parley:bulk-receive',
  /** Send a file main knows (a source token from its picker) to the hints; the outcome comes as an event. */
  Send: 'parley:bulk-send',
  Cancel: 'parley:bulk-cancel',
  /** Files the user picks in main's own dialog: tokens the renderer may send, never paths it names. */
  Pick: 'parley:bulk-pick',
  /** Size and mtime of a picked file, and reads of it (≤ 1 MiB): the session stream, for a peer without lanes. */
  SourceInfo: 'parley:bulk-source-info',
  ReadSource: 'parley:bulk-read-source',
} as const;
export type BulkChannel = (typeof BulkChannel)[keyof typeof BulkChannel];

/** A file digest's state at a block boundary (core/src/transfer/hash.ts DigestPoint). */
export interface BulkDigestPoint {
  offset: number;
  state: Uint8Array;
}

/** What main sends on RendererEvent.Bulk (one channel, in order per lane). */
export type BulkEventMessage =
  | { kind: 'progress'; lane: string; offset: number }
  | { kind: 'checkpoint'; lane: string; point: BulkDigestPoint }
  | { kind: 'received'; lane: string; written: number; sha256: string | null; boundary: BulkDigestPoint }
  | { kind: 'sent'; lane: string; from: number; sha256: string }
  | { kind: 'failed'; lane: string; message: string; code?: string };

/** A file picked in main's dialog. */
export interface BulkPickedFile {
  token: string;
  name: string;
  size: number;
  mtime: number;
}

/** Events the main process sends to the renderer. */
export const RendererEvent = {
  DeepLink: 'parley:deep-link',
  NotificationClick: 'parley:notification-click',
  Tcp: 'parley:tcp-event',
  Bulk: 'parley:bulk-event',
} as const;
export type RendererEvent = (typeof RendererEvent)[keyof typeof RendererEvent];
