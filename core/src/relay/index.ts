export {
  RelayClient,
  type OpenChannelOptions,
  type RelayClientOptions,
  type RelayClientEvents,
  type RelaySigner,
} from './client.js';
export { RelayChannelSocket } from './channel.js';
export { RelayError, isRelayError, type RelayErrorCode } from './errors.js';
export { relayHostOf } from './url.js';
export { relaySignerOf } from './signer.js';
