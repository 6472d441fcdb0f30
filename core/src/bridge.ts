// The one typed bridge between the renderer and the native side. Two implementations:
// renderer/src/bridge/web.ts (browser: Notification API; received files go to OPFS through the
// transfer engine's sink) and electron/preload (IPC to main; received files go to `downloads`).
// DOM-free and Node-free so both sides compile against it.

export interface BridgeNotification {
  kind: 'message' | 'call' | 'file';
  title: string;
  body: string;
  /** Contact id the notification is about; clicking it focuses that chat. */
  contactId?: string;
}

export interface BridgeTrayState {
  /** Relay connection state shown by the tray icon. */
  presence: 'online' | 'connecting' | 'offline';
  unread: number;
}

/**
 * Received files on disk (Electron): a handle-based, DOM-free mirror of the transfer engine's FileSink
 * (core/src/transfer/io.ts), served by the main process into `<Downloads>/Parley`. The renderer adapts it
 * back to a FileSink (renderer/src/platform/bridge-sink.ts). Paths are relative to that folder and are
 * re-validated by the main process; a handle is valid only for the window that opened it.
 */
export interface BridgeDownloads {
  /** Opens (creating folders) the partial of `relativePath` for `key` ([A-Za-z0-9_-]{1,64}); keeps its bytes for a resume. */
  open(relativePath: string, key: string): Promise<{ handle: string; existingBytes: number }>;
  /** Reads back up to `length` (≤ 1 MiB) bytes of the partial at `offset`; fewer only at its end. */
  read(handle: string, offset: number, length: number): Promise<Uint8Array>;
  /** Drops everything from `offset` on (never grows the file); later writes append from there. */
  truncate(handle: string, offset: number): Promise<void>;
  /** Appends 1 byte to 1 MiB. Calls on one handle are applied in call order. */
  write(handle: string, chunk: Uint8Array): Promise<void>;
  /** Makes every byte written so far durable (fsync). */
  flush(handle: string): Promise<void>;
  /** Closes and gives the partial its final name, never replacing a file ("name (1).ext"). Returns the final relative path (shown to the user, and what reveal() takes). */
  commit(handle: string): Promise<string>;
  /** Closes, keeping the partial for a later resume. */
  close(handle: string): Promise<void>;
  /** Deletes the partial of (relativePath, key); missing → no error. */
  discard(relativePath: string, key: string): Promise<void>;
  /** Shows a received file in the system's file manager (its folder when the file is gone). */
  reveal(relativePath: string): Promise<void>;
}

export interface ParleyBridge {
  readonly platform: 'electron' | 'web';
  /** URL of a relay embedded in this app (Electron), or null on the web. */
  embeddedRelayUrl(): Promise<string | null>;
  notify(notification: BridgeNotification): Promise<void>;
  setTrayState(state: BridgeTrayState): void;
  /** Subscribes to `parley:` deep links (invites); returns an unsubscribe function. */
  onDeepLink(listener: (url: string) => void): () => void;
  /** Subscribes to notification clicks; returns an unsubscribe function. */
  onNotificationClick(listener: (contactId: string | undefined) => void): () => void;
  openDownloads(): Promise<void>;
  /** Opens an external https URL in the system browser after validation; rejects anything else. */
  openExternal(url: string): Promise<void>;
  /** Present in Electron: received files are streamed to `<Downloads>/Parley` instead of browser storage. */
  downloads?: BridgeDownloads;
}
