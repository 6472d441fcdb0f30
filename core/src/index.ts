// Public API of the engine.
export * from './api.js';
export {
  Messenger,
  type MessengerCloseOptions,
  type MessengerFilesOptions,
  type MessengerOptions,
} from './messenger.js';
export type { KeyValueStore, Logger, WebSocketFactory, WebSocketLike } from './platform/types.js';
export { silentLogger } from './platform/types.js';
export type { IdentityKeyStore, StoredIdentity } from './identity/store.js';
export { Session, type SessionOptions, type SessionEvents } from './session/session.js';
export { ReliableStream, StreamKind, MAX_STREAM_PAYLOAD, type StreamStats } from './session/stream.js';
export { SessionError, type SessionErrorCode } from './session/errors.js';
export type { IceServer } from './platform/rtc.js';
export type { FrameTransport, TransportPath } from './session/transport.js';
export { RelayClient, RelayChannelSocket, RelayError, isRelayError, type RelayErrorCode } from './relay/index.js';
export { MAX_TEXT_CHARS } from './chat/index.js';
