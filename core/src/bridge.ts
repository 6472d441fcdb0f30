// The one typed bridge between the renderer and the native side. Two implementations:
// renderer/src/bridge/web.ts (browser: File System Access / OPFS, Notification API) and
// electron/preload (IPC to main). DOM-free and Node-free so both sides compile against it.

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

/** A destination the user chose for an incoming file, written in order as a stream. */
export interface BridgeFileSink {
  /** Human-readable location (path in Electron, file name on the web). */
  readonly name: string;
  /** Bytes already present (for resume); writes continue from here. */
  readonly existingBytes: number;
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason?: string): Promise<void>;
}

export interface BridgeSaveRequest {
  suggestedName: string;
  size: number;
  /** Ask the user where to save; false saves into the downloads folder without a dialog. */
  ask: boolean;
}

export interface ParleyBridge {
  readonly platform: 'electron' | 'web';
  /** URL of a relay embedded in this app (Electron), or null on the web. */
  embeddedRelayUrl(): Promise<string | null>;
  saveFile(request: BridgeSaveRequest): Promise<BridgeFileSink | null>;
  notify(notification: BridgeNotification): Promise<void>;
  setTrayState(state: BridgeTrayState): void;
  /** Subscribes to `parley:` deep links (invites); returns an unsubscribe function. */
  onDeepLink(listener: (url: string) => void): () => void;
  /** Subscribes to notification clicks; returns an unsubscribe function. */
  onNotificationClick(listener: (contactId: string | undefined) => void): () => void;
  openDownloads(): Promise<void>;
  /** Opens an external https URL in the system browser after validation; rejects anything else. */
  openExternal(url: string): Promise<void>;
}
