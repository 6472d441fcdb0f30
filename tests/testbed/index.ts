// Public surface of the network-namespace test bed (see README.md).
export {
  createTestbed,
  Host,
  TEST_RANGE,
  type Testbed,
  type TestbedOptions,
  type BlockAllExceptOptions,
  type CutLinkOptions,
  type RateLimit,
} from './testbed.js';
export { assertTestbedAvailable, type PreflightOptions } from './preflight.js';
export { cleanupStale, type StaleReport } from './stale.js';
export { hasBlackhole } from './blackhole.js';
export { listNamespaces } from './netns.js';
export { NodeProcess, type SpawnNodeOptions, type ExitInfo } from './process.js';
export { type LaunchChromiumOptions, type ProfileOptions } from './chromium.js';
export { Inbox, TimeoutError, InboxClosedError } from './queue.js';
export { CommandError } from './exec.js';
export { PeerDriver, type CreateOptions } from './peers/driver.js';
export { NodePeer, WRTC_PEER_SCRIPT } from './peers/node-peer.js';
export { BrowserPeer } from './peers/browser-peer.js';
export { connectPeers, relaySignals, type ConnectResult, type Relay } from './peers/connect.js';
export type { PeerCommand, PeerEvent, PeerEventOf, CandidatePair, Candidate, RtcConfig } from './peers/protocol.js';
