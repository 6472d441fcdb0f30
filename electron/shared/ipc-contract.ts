// The IPC contract between the preload and the main process: channel names and the shapes that cross.
// Types only plus string constants, so the preload bundle stays tiny. The main process validates every
// argument with the zod schemas in main/bridge-ipc.ts; these types are what a well-behaved preload sends.

export const Channel = {
  RelayUrl: 'parley:relay-url',
  SaveFile: 'parley:save-file',
  FileWrite: 'parley:file-write',
  FileClose: 'parley:file-close',
  FileAbort: 'parley:file-abort',
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

/** Events the main process sends to the renderer. */
export const RendererEvent = {
  DeepLink: 'parley:deep-link',
  NotificationClick: 'parley:notification-click',
} as const;
export type RendererEvent = (typeof RendererEvent)[keyof typeof RendererEvent];

/** Largest chunk one file-write call carries; the preload splits bigger writes (design §4: chunks ≤ 256 KiB). */
export const MAX_WRITE_CHUNK_BYTES = 256 * 1024;

/** What save-file returns when a destination was chosen. */
export interface SaveFileOpened {
  handle: string;
  /** Full path of the file being written. */
  name: string;
  /** Bytes already on disk from an earlier, interrupted transfer; writes continue after them. */
  existingBytes: number;
}
