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

/** What the main process tells the renderer about its TCP sockets (BridgeTcp.onEvent). */
export type BridgeTcpEvent =
  | { kind: 'accept'; listener: string; socket: string; remote: string }
  | { kind: 'frame'; socket: string; data: Uint8Array }
  | { kind: 'close'; socket: string; reason: string };

/**
 * The direct TCP path's sockets (Electron): they live in the main process, which listens (interface
 * addresses only, ephemeral port) and connects, and frames records; the session runs in the renderer and
 * drives them by handle (renderer/src/platform/bridge-tcp.ts makes a TcpPlatform of this). A handle is
 * valid only for the window that got it.
 */
export interface BridgeTcp {
  /** Listens for one attempt; closes by itself after a deadline. */
  listen(): Promise<{ listener: string; hints: Array<{ host: string; port: number }> }>;
  closeListener(listener: string): Promise<void>;
  /** Races the hints (1..8, unicast, port ≥ 1024); the first connection up wins. */
  connect(hints: ReadonlyArray<{ host: string; port: number }>, timeoutMs: number): Promise<{ socket: string }>;
  /** The renderer holds the socket now: its records are passed on from here (none are lost before). */
  start(socket: string): Promise<void>;
  /** One record (1 byte to MAX_TCP_RECORD_BYTES); resolves once main's buffer for it has drained. */
  send(socket: string, data: Uint8Array): Promise<void>;
  /** Bytes of received records consumed (main closes a socket whose window falls far behind). */
  ack(socket: string, bytes: number): void;
  close(socket: string): Promise<void>;
  /** All sockets' events, in order per socket. Returns unsubscribe. */
  onEvent(listener: (event: BridgeTcpEvent) => void): () => void;
}

/** What main tells the renderer about its bulk lanes (BridgeBulk.onEvent). */
export type BridgeBulkEvent =
  | { kind: 'progress'; lane: string; offset: number }
  | { kind: 'checkpoint'; lane: string; point: { offset: number; state: Uint8Array } }
  | {
      kind: 'received';
      lane: string;
      written: number;
      sha256: string | null;
      boundary: { offset: number; state: Uint8Array };
    }
  | { kind: 'sent'; lane: string; from: number; sha256: string }
  | { kind: 'failed'; lane: string; message: string; code?: string };

/**
 * Bulk lanes (Electron): the main process moves a file's bytes between disk and a TCP lane of its own
 * (platform/node/src/bulk); the renderer's transfer engine hands it the lane key and the file (a download
 * handle, or a token from main's own picker) and keeps control (renderer/src/platform/bridge-bulk.ts).
 */
export interface BridgeBulk {
  receive(request: {
    handle: string;
    key: Uint8Array;
    size: number;
    from: number;
    digestFrom: { offset: number; state: Uint8Array };
    /** Flushed checkpoints (events) every this many bytes; none without it. */
    checkpointBytes?: number;
  }): Promise<{ lane: string; hints: Array<{ host: string; port: number }> }>;
  send(request: {
    token: string;
    key: Uint8Array;
    hints: ReadonlyArray<{ host: string; port: number }>;
    size: number;
    mtime?: number;
    /** The engine's digest state main hashes on from (at or before where the receiver starts). */
    digestFrom?: { offset: number; state: Uint8Array };
    /** Main's digest states as `checkpoint` events about this often, and where a cut left it. */
    checkpointBytes?: number;
  }): Promise<{ lane: string }>;
  cancel(lane: string): Promise<void>;
  /** Files picked in main's dialog (the renderer never names a path). */
  pick(): Promise<Array<{ token: string; name: string; size: number; mtime: number }>>;
  /** A picked file's size and mtime now, and its bytes (≤ 1 MiB a call): for the session stream. */
  sourceInfo(token: string): Promise<{ size: number; mtime: number }>;
  readSource(token: string, offset: number, length: number): Promise<Uint8Array>;
  onEvent(listener: (event: BridgeBulkEvent) => void): () => void;
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
  /** Present in Electron: the direct TCP path, with sockets in the main process. */
  tcp?: BridgeTcp;
  /** Present in Electron: bulk lanes, file bytes moved by the main process. */
  bulk?: BridgeBulk;
}
