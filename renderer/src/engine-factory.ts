// Opens the engine (core's Messenger) with the browser's platform pieces: the browser's own
// RTCPeerConnection (no wrtc), its WebSocket, and IndexedDB stores.
import { Messenger, type MessengerFilesOptions } from '../../core/src/messenger.js';
import type { IdentityKeyStore } from '../../core/src/identity/index.js';
import type { KeyValueStore, Logger } from '../../core/src/platform/types.js';
import type { TcpPlatform } from '../../core/src/session/tcp-path.js';
import type { BulkPlatform } from '../../core/src/transfer/bulk-platform.js';
import { browserWebSocket } from './platform/websocket.js';
import { createWebCodecsEngine } from './call-media/engine.js';
import { laneWebSocketFactory } from './call-media/lane-socket.js';
import type { EngineOptions } from './state/app.svelte.js';

export interface EngineFactoryOptions extends EngineOptions {
  store: KeyValueStore;
  identityStore: IdentityKeyStore;
  /** File transfer (services/transfers.ts browserFiles). */
  files?: MessengerFilesOptions;
  /** The direct TCP path (desktop app: sockets in the main process, platform/bridge-tcp.ts); absent on the web. */
  tcp?: TcpPlatform;
  /** Bulk lanes (desktop app: file bytes moved by the main process, platform/bridge-bulk.ts); absent on the web. */
  bulk?: BulkPlatform;
}

/** Engine logs go to the console without message contents (core never logs them). */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => console.warn('[parley]', msg ?? '', obj),
  error: (obj, msg) => console.error('[parley]', msg ?? '', obj),
};

export async function openEngine(options: EngineFactoryOptions): Promise<Messenger> {
  const relayMedia = createWebCodecsEngine();
  // Call media's relay connection in a worker, so its records go to the media worker without the window.
  const mediaLaneWebSocket = relayMedia ? laneWebSocketFactory() : null;
  return Messenger.open({
    store: options.store,
    identityStore: options.identityStore,
    webSocket: browserWebSocket,
    ...(mediaLaneWebSocket ? { mediaLaneWebSocket } : {}),
    logger: consoleLogger,
    relays: options.relays,
    iceServers: options.iceServers,
    relayOnly: options.relayOnly,
    ...(options.name !== undefined ? { name: options.name } : {}),
    extractableKey: false,
    streamWindowBytes: 8 * 1024 * 1024,
    ...(options.files ? { files: { ...options.files, ...(options.bulk ? { bulk: options.bulk } : {}) } } : {}),
    // The Messenger leaves it out when the user chose "always relay" (relayOnly), as the CLI does.
    ...(options.tcp ? { tcp: options.tcp } : {}),
    // Calls where direct media cannot connect go over the relay (WebCodecs; absent in older browsers).
    ...(relayMedia ? { relayMedia } : {}),
  });
}
