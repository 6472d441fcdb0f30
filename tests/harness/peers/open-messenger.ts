// How the harness's Node peers open their Messenger: file-backed stores under the peer's home, the Node
// WebSocket and AEAD adapters, @roamhq/wrtc, one relay, and the session timings a test asks for.
// Logs go to stderr (the test reads the peer over IPC only); debug lines only when asked.
import { join } from 'node:path';
import wrtc from '@roamhq/wrtc';
import { Messenger } from '../../../core/src/messenger.js';
import type { Logger } from '../../../core/src/platform/types.js';
import { nodeAead } from '../../../platform/node/src/aead.js';
import { nodeWebSocketFactory } from '../../../platform/node/src/websocket.js';
import { TestFileStore, TestIdentityStore } from './file-store.js';

export interface PeerSessionTimings {
  directHeadStartMs?: number;
  directStallMs?: number;
  directAttemptTimeoutMs?: number;
  directDisabled?: boolean;
}

/** JSON log lines on stderr; `verbose` adds debug (and, with `quietInfo`, info) lines. */
export function stderrLogger(verbose: boolean | undefined, quietInfo = false): Logger {
  const line = (level: string) => (o: Record<string, unknown>, m?: string) =>
    console.error(level, m, JSON.stringify(o));
  const off = () => {};
  return {
    debug: verbose ? line('debug') : off,
    info: !quietInfo || verbose ? line('info') : off,
    warn: line('warn'),
    error: line('error'),
  };
}

export function openPeerMessenger(o: {
  home: string;
  name: string;
  relayUrl: string;
  logger: Logger;
  timings: PeerSessionTimings;
}): Promise<Messenger> {
  const t = o.timings;
  return Messenger.open({
    store: new TestFileStore(join(o.home, 'store.jsonl')),
    identityStore: new TestIdentityStore(join(o.home, 'identity.json')),
    webSocket: nodeWebSocketFactory,
    wrtc,
    logger: o.logger,
    relays: [o.relayUrl],
    name: o.name,
    extractableKey: true,
    aead: nodeAead,
    ...(t.directHeadStartMs !== undefined ? { directHeadStartMs: t.directHeadStartMs } : {}),
    ...(t.directStallMs !== undefined ? { directStallMs: t.directStallMs } : {}),
    ...(t.directAttemptTimeoutMs !== undefined ? { directAttemptTimeoutMs: t.directAttemptTimeoutMs } : {}),
    ...(t.directDisabled ? { directDisabled: true } : {}),
  });
}
